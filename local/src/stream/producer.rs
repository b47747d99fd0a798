//! Producers: records read from input files as a producer's `PutRecord`
//! calls would send them, one at a time (a 1 GB file is never held whole).
//!
//! Two forms: `lines`, each line one record (without its newline), and
//! `json`, each line an object `{"data": "text"}` or `{"base64": "..."}`
//! for records that hold newlines or binary bytes, with an optional
//! `partitionKey` and `arrival` (epoch milliseconds or RFC 3339).

use std::io::BufRead;

use base64::Engine;
use serde_json::Value;

use crate::lines::{Line, MAX_LINE_BYTES, read_capped};

/// The most one record may hold: `PutRecord` refuses more than 1,000 KiB.
pub const MAX_RECORD_BYTES: usize = 1_024_000;

/// How input lines are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Each line is one record's bytes.
    Lines,
    /// Each line is `{"data": "..."}` or `{"base64": "..."}`, with optional `partitionKey` and `arrival`.
    Json,
}

/// One record a producer put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Put {
    pub data: Vec<u8>,
    pub partition_key: Option<String>,
    pub arrival_ms: Option<i64>,
    /// Where a real Kinesis stream had it (`--from-kinesis`).
    pub kinesis: Option<KinesisOrigin>,
    pub entry: Entry,
}

/// Where a put record enters the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Where a producer's records enter: backed up, then the processors and the function.
    Source,
    /// Straight to record format conversion: a `format-conversion-failed`
    /// record replayed, which the function has already made.
    Conversion,
}

/// A record's shard and sequence number in a real Kinesis stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisOrigin {
    pub shard: u32,
    pub sequence_number: String,
}

/// What a producer tried to put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Put(Put),
    /// Refused as `PutRecord` refuses it; the message says why.
    Refused(String),
}

/// An input line that cannot be read as a record.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{source_name}:{line}: {message}")]
    Malformed {
        source_name: String,
        line: u64,
        message: String,
    },
    #[error("cannot read {source_name}: {error}")]
    Io {
        source_name: String,
        error: std::io::Error,
    },
    #[error("--from-kinesis: {0}")]
    Kinesis(String),
}

/// Reads records from one input.
pub struct Producer<R> {
    reader: R,
    format: InputFormat,
    name: String,
    line: u64,
    buffer: Vec<u8>,
}

impl<R: BufRead> Producer<R> {
    pub fn new(reader: R, format: InputFormat, name: &str) -> Self {
        Producer {
            reader,
            format,
            name: name.to_owned(),
            line: 0,
            buffer: Vec::new(),
        }
    }

    fn malformed(&self, message: impl Into<String>) -> InputError {
        InputError::Malformed {
            source_name: self.name.clone(),
            line: self.line,
            message: message.into(),
        }
    }

    fn read(&self, line: &[u8]) -> Result<Put, InputError> {
        match self.format {
            InputFormat::Lines => Ok(Put {
                data: line.to_vec(),
                partition_key: None,
                arrival_ms: None,
                kinesis: None,
                entry: Entry::Source,
            }),
            InputFormat::Json => self.read_json(line),
        }
    }

    fn read_json(&self, line: &[u8]) -> Result<Put, InputError> {
        let value: Value =
            serde_json::from_slice(line).map_err(|e| self.malformed(format!("not JSON: {e}")))?;
        let Value::Object(fields) = value else {
            return Err(self.malformed("expected an object {\"data\": ...} or {\"base64\": ...}"));
        };
        let mut put = Put {
            data: Vec::new(),
            partition_key: None,
            arrival_ms: None,
            kinesis: None,
            entry: Entry::Source,
        };
        let mut has_data = false;
        for (key, value) in fields {
            match (key.as_str(), value) {
                ("data", Value::String(text)) if !has_data => {
                    put.data = text.into_bytes();
                    has_data = true;
                }
                ("base64", Value::String(text)) if !has_data => {
                    put.data = base64::engine::general_purpose::STANDARD
                        .decode(text.as_bytes())
                        .map_err(|e| self.malformed(format!("base64: {e}")))?;
                    has_data = true;
                }
                ("data" | "base64", _) if has_data => {
                    return Err(self.malformed("give one of data and base64"));
                }
                ("partitionKey", Value::String(key))
                    if (1..=256).contains(&key.chars().count()) =>
                {
                    put.partition_key = Some(key);
                }
                ("arrival", value) => {
                    put.arrival_ms = Some(arrival(&value).map_err(|m| self.malformed(m))?)
                }
                (other, _) => {
                    return Err(self.malformed(format!(
                        "{other:?}: expected data or base64 (a string), partitionKey (1-256 characters), arrival"
                    )));
                }
            }
        }
        if !has_data {
            return Err(self.malformed("no data or base64"));
        }
        Ok(put)
    }
}

impl<R: BufRead> Iterator for Producer<R> {
    type Item = Result<Attempt, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = match read_capped(&mut self.reader, &mut self.buffer, MAX_LINE_BYTES) {
            Ok(None) => return None,
            Ok(Some(line)) => line,
            Err(error) => {
                return Some(Err(InputError::Io {
                    source_name: self.name.clone(),
                    error,
                }));
            }
        };
        self.line += 1;
        if let Line::TooLong { bytes } = line {
            return Some(Ok(Attempt::Refused(format!(
                "{}:{}: a line of {bytes} bytes, over the {MAX_LINE_BYTES} firehose-local reads: refused unread",
                self.name, self.line
            ))));
        }
        let put = match self.read(&self.buffer) {
            Ok(put) => put,
            Err(error) => return Some(Err(error)),
        };
        if put.data.len() > MAX_RECORD_BYTES {
            return Some(Ok(Attempt::Refused(format!(
                "{}:{}: {} bytes, over PutRecord's {MAX_RECORD_BYTES} (1,000 KiB): refused, as Firehose refuses it",
                self.name,
                self.line,
                put.data.len()
            ))));
        }
        Some(Ok(Attempt::Put(put)))
    }
}

fn arrival(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| format!("arrival {n}: not whole epoch milliseconds"))
            .and_then(arrival_in_range),
        Value::String(text) => text
            .parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|e| format!("arrival {text:?}: {e}")),
        other => Err(format!(
            "arrival: expected epoch milliseconds or RFC 3339, found {other}"
        )),
    }
}

/// `ms` when it is a moment S3 keys can be made of (years -9999 to 9999).
pub fn arrival_in_range(ms: i64) -> Result<i64, String> {
    jiff::Timestamp::from_millisecond(ms)
        .map(|_| ms)
        .map_err(|_| format!("arrival {ms}: outside the years -9999 to 9999 a timestamp can hold"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str, format: InputFormat) -> Vec<Result<Attempt, InputError>> {
        Producer::new(input.as_bytes(), format, "in").collect()
    }

    #[test]
    fn lines_are_records_and_the_last_needs_no_newline() {
        let got = read("a\n\nb", InputFormat::Lines);
        let data: Vec<Vec<u8>> = got
            .into_iter()
            .map(|a| match a.unwrap() {
                Attempt::Put(put) => put.data,
                Attempt::Refused(why) => panic!("{why}"),
            })
            .collect();
        assert_eq!(data, [b"a".to_vec(), Vec::new(), b"b".to_vec()]);
    }

    #[test]
    fn json_lines_carry_binary_keys_and_arrivals() {
        let got = read(
            "{\"base64\":\"AP8K\",\"partitionKey\":\"k\",\"arrival\":\"2026-01-02T03:04:05Z\"}\n{\"data\":\"two\\nlines\",\"arrival\":5}\n",
            InputFormat::Json,
        );
        let Ok(Attempt::Put(first)) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(first.data, [0, 255, 10]);
        assert_eq!(first.partition_key.as_deref(), Some("k"));
        assert_eq!(first.arrival_ms, Some(1_767_323_045_000));
        let Ok(Attempt::Put(second)) = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!(second.data, b"two\nlines");
    }

    #[test]
    fn malformed_lines_name_their_line_and_big_records_are_refused() {
        let got = read("{\"data\":\"x\"}\n{\"dat\":\"x\"}\n", InputFormat::Json);
        assert!(
            got[1]
                .as_ref()
                .unwrap_err()
                .to_string()
                .starts_with("in:2: \"dat\""),
            "{got:?}"
        );
        let big = "x".repeat(MAX_RECORD_BYTES + 1);
        assert!(
            matches!(&read(&big, InputFormat::Lines)[0], Ok(Attempt::Refused(why)) if why.contains("1,000 KiB"))
        );
        assert!(matches!(
            read(&"x".repeat(MAX_RECORD_BYTES), InputFormat::Lines)[0],
            Ok(Attempt::Put(_))
        ));
    }

    #[test]
    fn a_line_over_the_cap_is_refused_unread_and_the_next_is_read() {
        let input = format!(
            "{}\n{{\"data\":\"after\"}}\n",
            "y".repeat(MAX_LINE_BYTES + 1)
        );
        let got = read(&input, InputFormat::Json);
        assert!(
            matches!(&got[0], Ok(Attempt::Refused(why)) if why.starts_with("in:1: a line of 8388609 bytes")),
            "{:?}",
            got[0].as_ref().map(|_| ())
        );
        assert!(matches!(&got[1], Ok(Attempt::Put(put)) if put.data == b"after"));
    }

    #[test]
    fn an_arrival_no_timestamp_can_hold_is_refused() {
        let got = read(
            &format!("{{\"data\":\"x\",\"arrival\":{}}}\n", i64::MAX - 5),
            InputFormat::Json,
        );
        let message = got[0].as_ref().unwrap_err().to_string();
        assert!(
            message.contains("outside the years -9999 to 9999"),
            "{message}"
        );
    }
}
