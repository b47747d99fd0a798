//! `firehose-bench-plain`: what `firehose-normalize` does with its benchmark settings
//! (`NORMALIZE_TIMESTAMP_FIELDS=timestamp`), written as a Rust user would write it
//! from the `lambda_runtime` and `aws_lambda_events` documentation: the event
//! deserialised whole, each record parsed into a `serde_json::Value`, a new map
//! built, serialised again. `firehose-bench` runs it beside the real function.

use aws_lambda_events::event::firehose::{
    KinesisFirehoseEvent, KinesisFirehoseResponse, KinesisFirehoseResponseRecord,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Map, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}

async fn handler(
    event: LambdaEvent<KinesisFirehoseEvent>,
) -> Result<KinesisFirehoseResponse, Error> {
    let mut response = KinesisFirehoseResponse::default();
    for record in event.payload.records {
        let mut answer = KinesisFirehoseResponseRecord::default();
        answer.record_id = record.record_id;
        match normalize(&record.data) {
            Some(data) => {
                answer.result = Some("Ok".to_owned());
                *answer.data = data;
            }
            None => {
                answer.result = Some("ProcessingFailed".to_owned());
                answer.data = record.data;
            }
        }
        response.records.push(answer);
    }
    Ok(response)
}

/// The record flattened, its keys lower-cased with `_` for anything a Glue
/// column cannot hold, and `timestamp` in ISO 8601 UTC; `None` if it cannot be.
fn normalize(data: &[u8]) -> Option<Vec<u8>> {
    let Value::Object(object) = serde_json::from_slice(data).ok()? else {
        return None;
    };
    let mut out = Map::new();
    flatten(object, "", &mut out);
    if let Some(timestamp) = out.get_mut("timestamp") {
        *timestamp = Value::String(iso(timestamp)?);
    }
    let mut bytes = serde_json::to_vec(&out).ok()?;
    bytes.push(b'\n');
    Some(bytes)
}

fn flatten(object: Map<String, Value>, prefix: &str, out: &mut Map<String, Value>) {
    for (key, value) in object {
        let key = format!("{prefix}{}", clean(&key));
        match value {
            Value::Object(inner) if !inner.is_empty() => flatten(inner, &format!("{key}_"), out),
            other => {
                out.insert(key, nested(other));
            }
        }
    }
}

/// Objects inside arrays keep their shape, with their keys cleaned.
fn nested(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(k, v)| (clean(&k), nested(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(nested).collect()),
        scalar => scalar,
    }
}

fn clean(key: &str) -> String {
    key.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Epoch seconds or milliseconds (by size), RFC 3339, or naive UTC text.
fn iso(value: &Value) -> Option<String> {
    let at: DateTime<Utc> = match value {
        Value::Number(n) => match n.as_i64() {
            Some(whole) if whole.abs() < 100_000_000_000 => DateTime::from_timestamp(whole, 0)?,
            Some(whole) => DateTime::from_timestamp_millis(whole)?,
            None => DateTime::from_timestamp_nanos((n.as_f64()? * 1e9).round() as i64),
        },
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|at| at.to_utc())
            .or_else(|_| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").map(|at| at.and_utc())
            })
            .ok()?,
        _ => return None,
    };
    // Fractional digits as far as they go, none for whole seconds.
    let fraction = format!("{:09}", at.timestamp_subsec_nanos());
    let fraction = fraction.trim_end_matches('0');
    let dot = if fraction.is_empty() { "" } else { "." };
    Some(format!(
        "{}{dot}{fraction}Z",
        at.format("%Y-%m-%dT%H:%M:%S")
    ))
}
