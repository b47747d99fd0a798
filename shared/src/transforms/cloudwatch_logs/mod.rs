//! `cloudwatch-logs`: unpacks CloudWatch Logs subscription payloads.
//!
//! Each record is a gzip JSON payload holding a batch of log events. A
//! `CONTROL_MESSAGE` (CloudWatch checking it can reach the stream) is
//! `Dropped`; a `DATA_MESSAGE` becomes one line per log event inside the one
//! output record, and the steps after this one see each event on its own.
//! Decompression stops at a cap, so a gzip bomb fails its record instead of
//! exhausting memory; corrupt gzip fails its record too.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::pipeline::record::Record;
use crate::pipeline::transform::{Transform, TransformError, Verdict};
use crate::settings::{Choice, Flag, Integer, Setting, SettingError, SettingGroup, Settings};
use crate::transforms::timestamp::{UtcForm, utc_text};

mod halves;
mod payload;

pub use halves::halves;
use payload::{LogEvent, Payload, decompress, read_payload};

pub const OUTPUT: Setting<Choice> = Setting {
    name: "CLOUDWATCH_LOGS_OUTPUT",
    default: Some("json"),
    doc: "`json`: one object per log event with `owner`, `log_group`, `log_stream`, `id`, `timestamp` \
          (ISO 8601 UTC) and `message`. `message`: the raw message and a newline, as AWS's blueprint writes.",
    parser: Choice(&["json", "message"]),
};

pub const EMBED_JSON: Setting<Flag> = Setting {
    name: "CLOUDWATCH_LOGS_EMBED_JSON",
    default: Some("false"),
    doc: "With `json` output, a message that is itself a JSON object goes in as an object rather than a \
          string, so Glue can read its fields. Other messages stay strings.",
    parser: Flag,
};

pub const MAX_DECOMPRESSED_BYTES: Setting<Integer> = Setting {
    name: "CLOUDWATCH_LOGS_MAX_DECOMPRESSED_BYTES",
    default: Some("16777216"),
    doc: "A record that decompresses to more than this fails (a gzip bomb) instead of exhausting memory. \
          CloudWatch Logs sends batches of at most about 1 MiB of messages, so 16 MiB leaves ample room.",
    parser: Integer {
        min: 1024,
        max: 1 << 30,
    },
};

pub const REINGEST: Setting<Flag> = Setting {
    name: "CLOUDWATCH_LOGS_REINGEST",
    default: Some("false"),
    doc: "A record whose events do not fit in the response is split into two halves, each gzipped and put back \
          to the source (Kinesis `PutRecords` with its partition key, else Firehose `PutRecordBatch`) and the \
          record `Dropped`, instead of failing it. `firehose-cloudwatch-logs` only; see its page in the guide (`docs/functions/cloudwatch-logs.md`) for \
          IAM and duplicates.",
    parser: Flag,
};

/// The settings of `firehose-cloudwatch-logs`.
pub const SETTINGS: SettingGroup = SettingGroup {
    prefix: "CLOUDWATCH_LOGS_",
    settings: &[&OUTPUT, &EMBED_JSON, &MAX_DECOMPRESSED_BYTES, &REINGEST],
};

/// How each log event is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// One JSON object per event; `embed_json` embeds messages that are JSON objects.
    Json { embed_json: bool },
    /// The message and `\n`.
    Message,
}

/// Unpacks each record's CloudWatch Logs payload into its log events.
pub struct CloudWatchLogs {
    format: EventFormat,
    max_decompressed: usize,
}

impl CloudWatchLogs {
    /// A step writing events in `format`, failing records that decompress to more than `max_decompressed` bytes.
    pub fn new(format: EventFormat, max_decompressed: usize) -> Self {
        CloudWatchLogs {
            format,
            max_decompressed,
        }
    }

    /// The cap on a record's decompressed size, in bytes.
    pub fn max_decompressed(&self) -> usize {
        self.max_decompressed
    }

    /// Reads the `CLOUDWATCH_LOGS_` settings.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingError> {
        let embed_json = settings.get(&EMBED_JSON)?;
        let format = match settings.get(&OUTPUT)? {
            "message" if settings.is_set(&EMBED_JSON) => {
                return Err(SettingError::Conflict(format!(
                    "{} applies to {}=json only",
                    EMBED_JSON.name, OUTPUT.name
                )));
            }
            "message" => EventFormat::Message,
            _ => EventFormat::Json { embed_json },
        };
        let max = settings.get(&MAX_DECOMPRESSED_BYTES)?;
        Ok(CloudWatchLogs::new(
            format,
            usize::try_from(max).unwrap_or(usize::MAX),
        ))
    }

    fn part(&self, payload: &Payload<'_>, event: &LogEvent<'_>) -> Result<Vec<u8>, String> {
        let embed_json = match self.format {
            EventFormat::Message => {
                let mut line = Vec::with_capacity(event.message.len() + 1);
                line.extend_from_slice(event.message.as_bytes());
                line.push(b'\n');
                return Ok(line);
            }
            EventFormat::Json { embed_json } => embed_json,
        };
        let at = Timestamp::from_millisecond(event.timestamp).map_err(|_| {
            format!(
                "log event {} has timestamp {}, outside the years -9999 to 9999",
                event.id, event.timestamp
            )
        })?;
        let line = EventLine {
            owner: &payload.owner,
            log_group: &payload.log_group,
            log_stream: &payload.log_stream,
            id: &event.id,
            timestamp: utc_text(at, UtcForm::IsoMillis),
            message: Message::of(&event.message, embed_json),
        };
        // Written straight to its line: later steps that read JSON parse it,
        // and a function without them never builds a `Value`.
        let mut bytes = serde_json::to_vec(&line).map_err(|e| e.to_string())?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// One log event as a JSON line.
#[derive(Serialize)]
struct EventLine<'a> {
    owner: &'a str,
    log_group: &'a str,
    log_stream: &'a str,
    id: &'a str,
    timestamp: String,
    message: Message<'a>,
}

/// A message: text, or a JSON object embedded as it was written.
#[derive(Serialize)]
#[serde(untagged)]
enum Message<'a> {
    Text(&'a str),
    Object(&'a RawValue),
    /// An object written over several lines, made compact to keep one event per line.
    Reformatted(Value),
}

impl<'a> Message<'a> {
    fn of(message: &'a str, embed_json: bool) -> Message<'a> {
        if !embed_json || !message.trim_start().starts_with('{') {
            return Message::Text(message);
        }
        match serde_json::from_str::<&RawValue>(message) {
            Ok(raw) if !raw.get().contains(['\n', '\r']) => Message::Object(raw),
            Ok(raw) => {
                serde_json::from_str(raw.get()).map_or(Message::Text(message), Message::Reformatted)
            }
            Err(_) => Message::Text(message),
        }
    }
}

impl Transform for CloudWatchLogs {
    fn name(&self) -> &str {
        "cloudwatch-logs"
    }

    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        let bytes = record.bytes().to_vec();
        let text = decompress(&bytes, self.max_decompressed)?;
        let mut unwrapped = String::new();
        let payload = read_payload(&text, &mut unwrapped)?;
        match payload.message_type.as_ref() {
            "CONTROL_MESSAGE" => return Ok(Verdict::Drop),
            "DATA_MESSAGE" => {}
            other => {
                return Err(format!(
                    "messageType {other:?} is neither DATA_MESSAGE nor CONTROL_MESSAGE"
                )
                .into());
            }
        }
        let parts = payload
            .log_events
            .iter()
            .map(|event| self.part(&payload, event))
            .collect::<Result<Vec<_>, _>>()?;
        record.split("log event", parts);
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use serde_json::json;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn payload(events: Value) -> Vec<u8> {
        let payload = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/app",
            "logStream": "2024/05/01/[$LATEST]abc", "subscriptionFilters": ["all"], "logEvents": events});
        gzip(&serde_json::to_vec(&payload).unwrap())
    }

    #[test]
    fn the_cap_stops_a_bomb_and_lets_the_cap_itself_through() {
        let exact = vec![b' '; 4096];
        assert_eq!(decompress(&gzip(&exact), 4096).unwrap().len(), 4096);
        let err = decompress(&gzip(&vec![b' '; 4097]), 4096).unwrap_err();
        assert!(err.contains("more than 4096 bytes"), "{err}");
    }

    #[test]
    fn corrupt_and_foreign_bytes_say_what_they_are() {
        let mut truncated = payload(json!([]));
        truncated.truncate(truncated.len() - 9);
        assert!(
            decompress(&truncated, 1 << 20)
                .unwrap_err()
                .starts_with("corrupt gzip")
        );
        let mut flipped = payload(json!([{"id": "1", "timestamp": 0, "message": "m"}]));
        let last = flipped.len() - 5;
        flipped[last] ^= 0xff;
        assert!(
            decompress(&flipped, 1 << 20)
                .unwrap_err()
                .starts_with("corrupt gzip")
        );
        assert!(
            decompress(b"plain text", 1 << 20)
                .unwrap_err()
                .starts_with("not gzip")
        );
        assert_eq!(decompress(b" {}", 1 << 20).unwrap().as_ref(), b" {}");
    }

    fn lines(step: &CloudWatchLogs, events: Value) -> Vec<Value> {
        let bytes = payload(events);
        let mut unwrapped = String::new();
        let text = decompress(&bytes, 1 << 20).unwrap();
        let payload = read_payload(&text, &mut unwrapped).unwrap();
        payload
            .log_events
            .iter()
            .map(|e| {
                let line = step.part(&payload, e).unwrap();
                assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
                serde_json::from_slice(&line).unwrap()
            })
            .collect()
    }

    #[test]
    fn events_become_json_lines() {
        let step = CloudWatchLogs::new(EventFormat::Json { embed_json: true }, 1 << 20);
        let got = lines(
            &step,
            json!([{"id": "1", "timestamp": 1714566600123_i64, "message": "{\"level\":\"info\"}"},
                   {"id": "2", "timestamp": 0, "message": "plain"},
                   {"id": "3", "timestamp": 0, "message": "{\n  \"pretty\": true\n}"}]),
        );
        assert_eq!(got[0]["timestamp"], "2024-05-01T12:30:00.123Z");
        assert_eq!(got[0]["message"], json!({"level": "info"}));
        assert_eq!(got[0]["log_group"], "/aws/lambda/app");
        assert_eq!(got[1]["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(got[1]["message"], "plain");
        assert_eq!(got[2]["message"], json!({"pretty": true}));
    }

    #[test]
    fn only_objects_are_embedded() {
        let text = |m: &str, embed| matches!(Message::of(m, embed), Message::Text(_));
        assert!(!text("{\"a\":1}", true));
        assert!(text("{\"a\":1}", false));
        assert!(text("[1]", true));
        assert!(text("{broken", true));
    }

    #[test]
    fn double_encoded_payloads_are_unwrapped() {
        let inner = r#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#;
        let wrapped = serde_json::to_vec(inner).unwrap();
        let mut unwrapped = String::new();
        let payload = read_payload(&wrapped, &mut unwrapped).unwrap();
        assert_eq!(payload.message_type, "CONTROL_MESSAGE");
    }
}
