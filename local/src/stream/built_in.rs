//! The processors Firehose runs itself before the Lambda, in its order:
//! `Decompression` (gzip, then the bytes must be JSON), `CloudWatchLogProcessing`
//! (a CloudWatch Logs payload becomes its messages, each followed by a newline)
//! and `RecordDeAggregation` (one record holding several becomes several).

use std::borrow::Cow;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::sink::error_record::codes;

/// Firehose splits one record into at most this many.
pub const MAX_SUB_RECORDS: usize = 500;

/// Where decompression stops: a record of at most 1,000 KiB that inflates past this is a gzip bomb, not logs.
const MAX_DECOMPRESSED_BYTES: u64 = 64 << 20;

/// The built-in processors a stream has before its Lambda.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BeforeLambda {
    /// `Decompression` (`CompressionFormat` GZIP).
    pub decompress: bool,
    /// `CloudWatchLogProcessing` with `DataMessageExtraction` true.
    pub extract_messages: bool,
    /// `RecordDeAggregation`.
    pub deaggregate: Option<SubRecordType>,
}

/// `SubRecordType`: how one record holds several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubRecordType {
    /// JSON objects one after another, on one line or one per line.
    Json,
    /// Records between occurrences of these bytes (`Delimiter`, base64 in the template).
    Delimited(Vec<u8>),
}

/// A record these processors could not take: it goes, as it arrived, to `error_type`.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub error_type: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl BeforeLambda {
    /// What `data` becomes: its records (one, unless de-aggregated), or why it fails.
    pub fn apply(&self, data: &[u8]) -> Result<Vec<Vec<u8>>, Refusal> {
        let mut data = Cow::Borrowed(data);
        if self.decompress {
            data = Cow::Owned(
                decompress(&data, MAX_DECOMPRESSED_BYTES).map_err(decompression_failed)?,
            );
        }
        if self.extract_messages {
            data = Cow::Owned(messages(&data).map_err(decompression_failed)?);
        }
        let Some(kind) = &self.deaggregate else {
            return Ok(vec![data.into_owned()]);
        };
        let parts = match kind {
            SubRecordType::Json => json_objects(&data)?,
            SubRecordType::Delimited(delimiter) => delimited(&data, delimiter),
        };
        if parts.len() > MAX_SUB_RECORDS {
            return Err(partitioning_failed(format!(
                "the record holds {} records; RecordDeAggregation takes at most {MAX_SUB_RECORDS}",
                parts.len()
            )));
        }
        Ok(parts)
    }

    /// Whether there is anything to do.
    pub fn is_empty(&self) -> bool {
        *self == BeforeLambda::default()
    }
}

fn decompression_failed(message: String) -> Refusal {
    Refusal {
        error_type: "decompression-failed",
        code: codes::DECOMPRESSION_FAILED,
        message,
    }
}

fn partitioning_failed(message: String) -> Refusal {
    Refusal {
        error_type: "partitioning-failed",
        code: codes::PARTITIONING_FAILED,
        message,
    }
}

/// The gzip member(s) inflated, up to `limit` bytes; what comes out must be JSON, as CloudWatch Logs sends it.
fn decompress(data: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    if !data.starts_with(&[0x1f, 0x8b]) {
        return Err("the record is not gzip".to_owned());
    }
    let mut out = Vec::with_capacity(data.len() * 8);
    MultiGzDecoder::new(data)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the gzip is damaged: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!("the record inflates past {} MiB", limit >> 20));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(&out)
        .map_err(|e| format!("the decompressed record is not JSON: {e}"))?;
    Ok(out)
}

/// A CloudWatch Logs subscription payload, as far as extraction reads it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogsPayload {
    message_type: String,
    #[serde(default)]
    log_events: Vec<LogEvent>,
}

#[derive(Deserialize)]
struct LogEvent {
    message: String,
}

/// Every message of a `DATA_MESSAGE`, each followed by a newline; a `CONTROL_MESSAGE` is an empty record.
fn messages(data: &[u8]) -> Result<Vec<u8>, String> {
    let payload: LogsPayload = serde_json::from_slice(data)
        .map_err(|e| format!("not a CloudWatch Logs payload (messageType, logEvents): {e}"))?;
    match payload.message_type.as_str() {
        "CONTROL_MESSAGE" => Ok(Vec::new()),
        "DATA_MESSAGE" => {
            let mut out = Vec::with_capacity(data.len());
            for event in payload.log_events {
                out.extend_from_slice(event.message.as_bytes());
                out.push(b'\n');
            }
            Ok(out)
        }
        other => Err(format!(
            "not a CloudWatch Logs payload: messageType {other:?}"
        )),
    }
}

/// The JSON objects one after another in `data`, each as its own text (what was between them goes).
fn json_objects(data: &[u8]) -> Result<Vec<Vec<u8>>, Refusal> {
    let mut parts = Vec::new();
    for (n, value) in serde_json::Deserializer::from_slice(data)
        .into_iter::<&RawValue>()
        .enumerate()
    {
        let value = value.map_err(|e| {
            partitioning_failed(format!(
                "RecordDeAggregation (JSON): record {} is not JSON: {e}",
                n + 1
            ))
        })?;
        if !value.get().starts_with('{') {
            return Err(partitioning_failed(format!(
                "RecordDeAggregation (JSON): record {} is not a JSON object (an array of records is not taken)",
                n + 1
            )));
        }
        parts.push(value.get().as_bytes().to_vec());
    }
    if parts.is_empty() {
        return Err(partitioning_failed(
            "RecordDeAggregation (JSON): the record holds no JSON object".to_owned(),
        ));
    }
    Ok(parts)
}

/// `data` cut at every `delimiter`; a delimiter at the very end ends the last record rather than opening an empty one.
fn delimited(data: &[u8], delimiter: &[u8]) -> Vec<Vec<u8>> {
    // The template refuses an empty Delimiter; nothing to cut at, should one come.
    if delimiter.is_empty() {
        return vec![data.to_vec()];
    }
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(delimiter.len()).position(|w| w == delimiter) {
        parts.push(rest[..at].to_vec());
        rest = &rest[at + delimiter.len()..];
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_vec());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    const LOGS: &str = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s",
        "subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1,"message":"héllo"},
        {"id":"2","timestamp":2,"message":""},{"id":"3","timestamp":3,"message":"two\nlines"}]}"#;

    #[test]
    fn cloudwatch_logs_payloads_become_their_messages_each_ending_in_a_newline() {
        let built_in = BeforeLambda {
            decompress: true,
            extract_messages: true,
            deaggregate: None,
        };
        assert_eq!(
            built_in.apply(&gzip(LOGS.as_bytes())).unwrap(),
            [b"h\xc3\xa9llo\n\ntwo\nlines\n".to_vec()]
        );
        let control =
            r#"{"messageType":"CONTROL_MESSAGE","logEvents":[{"message":"CWL CONTROL MESSAGE"}]}"#;
        assert_eq!(
            built_in.apply(&gzip(control.as_bytes())).unwrap(),
            [Vec::<u8>::new()]
        );
        // Decompression alone keeps the JSON as it is.
        let only_decompress = BeforeLambda {
            decompress: true,
            ..BeforeLambda::default()
        };
        assert_eq!(
            only_decompress.apply(&gzip(LOGS.as_bytes())).unwrap(),
            [LOGS.as_bytes().to_vec()]
        );
    }

    #[test]
    fn what_is_not_gzip_json_or_logs_fails_decompression() {
        let built_in = BeforeLambda {
            decompress: true,
            extract_messages: true,
            deaggregate: None,
        };
        let mut truncated = gzip(LOGS.as_bytes());
        truncated.truncate(truncated.len() / 2);
        let cases: [(Vec<u8>, &str); 4] = [
            (LOGS.as_bytes().to_vec(), "not gzip"),
            (truncated, "damaged"),
            (gzip(b"plain text"), "not JSON"),
            (gzip(b"{\"a\":1}"), "not a CloudWatch Logs payload"),
        ];
        for (data, needle) in cases {
            let refusal = built_in.apply(&data).unwrap_err();
            assert_eq!(refusal.error_type, "decompression-failed");
            assert_eq!(refusal.code, codes::DECOMPRESSION_FAILED);
            assert!(refusal.message.contains(needle), "{}", refusal.message);
        }
        let bomb = gzip(&vec![b' '; (2 << 20) + 1]);
        assert!(
            decompress(&bomb, 2 << 20)
                .unwrap_err()
                .contains("inflates past 2 MiB")
        );
    }

    #[test]
    fn json_deaggregation_takes_objects_back_to_back_or_one_per_line() {
        let built_in = BeforeLambda {
            deaggregate: Some(SubRecordType::Json),
            ..BeforeLambda::default()
        };
        let expected = [b"{\"a\":1}".to_vec(), b"{\"a\": [2]}".to_vec()];
        assert_eq!(built_in.apply(b"{\"a\":1}{\"a\": [2]}").unwrap(), expected);
        assert_eq!(
            built_in.apply(b"{\"a\":1}\n{\"a\": [2]}\n").unwrap(),
            expected
        );
        for bad in [&b"[{\"a\":1},{\"a\":2}]"[..], b"{\"a\":1}{\"a\"", b"", b"7"] {
            let refusal = built_in.apply(bad).unwrap_err();
            assert_eq!(refusal.error_type, "partitioning-failed");
            assert_eq!(refusal.code, codes::PARTITIONING_FAILED);
        }
        let many = "{}".repeat(MAX_SUB_RECORDS + 1);
        assert!(
            built_in
                .apply(many.as_bytes())
                .unwrap_err()
                .message
                .contains("501")
        );
        assert_eq!(
            built_in.apply("{}".repeat(500).as_bytes()).unwrap().len(),
            500
        );
    }

    #[test]
    fn delimited_deaggregation_cuts_at_each_delimiter() {
        let built_in = BeforeLambda {
            deaggregate: Some(SubRecordType::Delimited(b"##".to_vec())),
            ..BeforeLambda::default()
        };
        let cut = |data: &[u8]| built_in.apply(data).unwrap();
        assert_eq!(cut(b"a##b"), [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(cut(b"a##b##"), [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(cut(b"a####b"), [b"a".to_vec(), b"".to_vec(), b"b".to_vec()]);
        assert_eq!(cut(b"no delimiter"), [b"no delimiter".to_vec()]);
        assert_eq!(cut(b""), [Vec::<u8>::new()]);
    }
}
