//! No record contents in any log line, by default, for every function: a
//! marker planted in every value of every fixture never reaches the logs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;

use base64_simd::STANDARD;
use firehose_e2e::{
    ADVERSARIAL_FIXTURES, PUBLIC_FIXTURES, binary, gzip, invocation_logs, read, start,
};
use serde_json::Value;

const MARKER: &str = "ZQXMARKERQZ";

/// Settings under which records fail in every step that could quote them: a
/// jq program that indexes strings and adds to them, a schema that types every
/// usual field, and partition keys that index into values.
fn functions() -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let keep = r#"(.level | ascii_downcase) == "error" or .message.deep == 1 or (.Id + 1) > 2"#;
    let schema = r#"{"type":"object","required":["ticker_symbol"],"properties":{
        "level":{"type":"number"},"message":{"type":"object"},"Id":{"type":"string"},
        "ticker_symbol":{"enum":["AMZN"]},"price":{"type":"string","pattern":"^x$"}}}"#;
    let keys = ("FIREHOSE_PARTITION_KEYS", r#"{k: .level.x}"#.to_owned());
    let with_keys = |mut settings: Vec<(&'static str, String)>| {
        settings.push(keys.clone());
        settings
    };
    vec![
        ("firehose-normalize", with_keys(vec![])),
        (
            "firehose-filter",
            with_keys(vec![("FILTER_KEEP", keep.to_owned())]),
        ),
        (
            "firehose-validate",
            with_keys(vec![("VALIDATE_SCHEMA", schema.to_owned())]),
        ),
        (
            "firehose-enrich",
            with_keys(vec![("ENRICH_FIELDS", r#"{"source":"s"}"#.to_owned())]),
        ),
        ("firehose-access-log", with_keys(vec![])),
        ("firehose-syslog", with_keys(vec![])),
        ("firehose-cloudwatch-logs", with_keys(vec![])),
        (
            "firehose-pipeline",
            with_keys(vec![
                ("PIPELINE_STEPS", "normalize,filter,validate".to_owned()),
                ("FILTER_KEEP", keep.to_owned()),
                ("VALIDATE_SCHEMA", schema.to_owned()),
            ]),
        ),
    ]
}

/// Every string in a JSON value marked; numbers become marked strings too, so
/// that type errors quote them.
fn mark_json(value: &mut Value) {
    match value {
        Value::String(s) => *s = format!("{MARKER}{s}"),
        Value::Number(n) => *value = Value::String(format!("{MARKER}{n}")),
        Value::Array(items) => items.iter_mut().for_each(mark_json),
        Value::Object(map) => map.values_mut().for_each(mark_json),
        Value::Null | Value::Bool(_) => {}
    }
}

/// A record's bytes with the marker in every value: JSON values marked,
/// gzip opened and closed again, other text marked at its start.
fn mark_record(bytes: &[u8]) -> Vec<u8> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut opened = Vec::new();
        if flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut opened)
            .is_ok()
        {
            return gzip(&mark_record(&opened));
        }
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut value) => {
            mark_json(&mut value);
            serde_json::to_vec(&value).unwrap()
        }
        Err(_) => [MARKER.as_bytes(), bytes].concat(),
    }
}

/// The fixture with every record marked; a fixture that is not an event as it is.
fn marked_event(fixture: &str) -> Vec<u8> {
    let raw = read(&format!("tests/fixtures/{fixture}"));
    let Ok(mut event) = serde_json::from_slice::<Value>(&raw) else {
        return raw;
    };
    let Some(records) = event.get_mut("records").and_then(Value::as_array_mut) else {
        return raw;
    };
    for record in records {
        let Some(data) = record.get("data").and_then(Value::as_str) else {
            continue;
        };
        let Ok(bytes) = STANDARD.decode_to_vec(data) else {
            continue;
        };
        record["data"] = Value::String(STANDARD.encode_to_string(mark_record(&bytes)));
    }
    serde_json::to_vec(&event).unwrap()
}

/// Runs every fixture, marked, through the function; returns its log lines.
fn logs_of(name: &str, settings: &[(&'static str, String)]) -> Vec<String> {
    let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut function = start(&binary(name), &env);
    let mut logs = Vec::new();
    for fixture in PUBLIC_FIXTURES.iter().chain(ADVERSARIAL_FIXTURES) {
        let before = function.logs().len();
        function.invoke(&marked_event(fixture)).unwrap();
        logs.extend(invocation_logs(&function, before));
    }
    logs
}

#[test]
fn no_function_logs_a_record_value() {
    for (name, settings) in functions() {
        let logs = logs_of(name, &settings);
        let failed = logs.iter().filter(|l| l.contains("record failed")).count();
        assert!(
            failed > 10,
            "{name}: the fixtures fail records ({failed} failed)"
        );
        let leaks: Vec<&String> = logs.iter().filter(|l| l.contains(MARKER)).collect();
        assert!(leaks.is_empty(), "{name} logged record values: {leaks:#?}");
    }
}

/// The marker does reach jq's and the schema's messages: with the setting on, they quote it.
#[test]
fn record_values_are_logged_when_asked() {
    for (name, mut settings) in functions() {
        if !matches!(name, "firehose-filter" | "firehose-validate") {
            continue;
        }
        settings.push(("FIREHOSE_LOG_RECORD_VALUES", "true".to_owned()));
        let logs = logs_of(name, &settings);
        assert!(
            logs.iter()
                .any(|l| l.contains("record failed") && l.contains(MARKER)),
            "{name}: {logs:#?}"
        );
    }
}
