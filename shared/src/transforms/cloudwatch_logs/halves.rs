//! Splitting a record's log events in two, for re-ingestion: each half a
//! payload of its own, so that each comes through the stream again alone.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::payload::{LogEvent, Payload, decompress, read_payload};

/// The record's log events in two halves, each a payload of its own, gzipped:
/// what re-ingestion puts back, so that each comes through again on its own.
pub fn halves(original: &[u8], max_decompressed: usize) -> Result<[Vec<u8>; 2], String> {
    let text = decompress(original, max_decompressed)?;
    let mut unwrapped = String::new();
    let payload = read_payload(&text, &mut unwrapped).map_err(|e| e.to_string())?;
    if payload.log_events.len() < 2 {
        return Err("a single log event too big for the response cannot be split".to_owned());
    }
    let (first, second) = payload.log_events.split_at(payload.log_events.len() / 2);
    let half = |events: &[LogEvent<'_>]| -> Result<Vec<u8>, String> {
        let part = Payload {
            message_type: payload.message_type.clone(),
            owner: payload.owner.clone(),
            log_group: payload.log_group.clone(),
            log_stream: payload.log_stream.clone(),
            subscription_filters: payload.subscription_filters.clone(),
            log_events: events.to_vec(),
        };
        let json = serde_json::to_vec(&part).map_err(|e| e.to_string())?;
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder
            .write_all(&json)
            .and_then(|()| encoder.finish())
            .map_err(|e| format!("cannot gzip a half: {e}"))
    };
    Ok([half(first)?, half(second)?])
}
