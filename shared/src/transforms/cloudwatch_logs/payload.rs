//! Reading a CloudWatch Logs subscription payload: gunzip with a cap, then the JSON.

use std::borrow::Cow;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use crate::pipeline::transform::TransformError;
use crate::redact;

/// A subscription payload, as CloudWatch Logs writes it.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Payload<'a> {
    #[serde(borrow)]
    pub(super) message_type: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) owner: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) log_group: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) log_stream: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) subscription_filters: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) log_events: Vec<LogEvent<'a>>,
}

/// One log event of a payload.
#[derive(Clone, Deserialize, Serialize)]
pub(super) struct LogEvent<'a> {
    #[serde(borrow, default)]
    pub(super) id: Cow<'a, str>,
    pub(super) timestamp: i64,
    #[serde(borrow)]
    pub(super) message: Cow<'a, str>,
}

/// The payload's JSON text: gunzipped, or as it is when Firehose's own
/// decompression already ran.
pub(super) fn decompress(bytes: &[u8], max: usize) -> Result<Cow<'_, [u8]>, String> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        return match text.trim_ascii_start().first() {
            Some(b'{') => Ok(Cow::Borrowed(text)),
            _ => Err("not gzip (no 1f 8b header) and not a decompressed JSON payload".to_owned()),
        };
    }
    // Logs unpack to about ten times their gzip: start there to spare reallocations.
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(10).min(max));
    // One byte past the cap tells a payload of exactly `max` bytes from a bigger one.
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    MultiGzDecoder::new(bytes)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| format!("corrupt gzip: {e}"))?;
    if out.len() > max {
        return Err(format!(
            "decompresses to more than {max} bytes (CLOUDWATCH_LOGS_MAX_DECOMPRESSED_BYTES); a gzip bomb?"
        ));
    }
    Ok(Cow::Owned(out))
}

/// Reads the payload. Some producers wrap it in a JSON string (double-encoded,
/// as in the UK Home Office sample): the string's content is read instead.
pub(super) fn read_payload<'a>(
    text: &'a [u8],
    unwrapped: &'a mut String,
) -> Result<Payload<'a>, TransformError> {
    let not_a_payload = |e: serde_json::Error| {
        let full = format!("not a CloudWatch Logs payload: {e}");
        TransformError::quoting(redact::serde_error(&full), full)
    };
    if text.trim_ascii_start().first() == Some(&b'"') {
        *unwrapped = serde_json::from_slice(text).map_err(not_a_payload)?;
        return serde_json::from_str(unwrapped).map_err(not_a_payload);
    }
    serde_json::from_slice(text).map_err(not_a_payload)
}
