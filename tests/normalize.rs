//! `firehose-normalize`, the real release binary, through the local Runtime API.
// Test helpers too may panic: the panic message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use firehose_e2e::{
    self as harness, ADVERSARIAL_FIXTURES, PUBLIC_FIXTURES, binary, event, read, respond, start,
};
use firehose_local::{LocalFunction, Reply};
use firehose_transform::{Outcome, Response};
use serde_json::Value;

fn normalize(env: &[(&str, &str)]) -> LocalFunction {
    start(&binary("firehose-normalize"), env)
}

fn golden_cases(fixtures: &[&str], env: &[(&str, &str)], golden_dir: &str) {
    harness::golden_cases("firehose-normalize", fixtures, env, golden_dir);
}

fn start_up_error(env: &[(&str, &str)]) -> (String, String) {
    harness::start_up_error("firehose-normalize", env)
}

#[test]
fn every_public_fixture_is_answered_one_for_one() {
    golden_cases(PUBLIC_FIXTURES, &[], "normalize");
}

#[test]
fn every_adversarial_fixture_is_answered_one_for_one() {
    golden_cases(ADVERSARIAL_FIXTURES, &[], "normalize");
}

#[test]
fn settings_change_the_output_as_documented() {
    let env = [
        ("NORMALIZE_RENAME", "timestamp=ts,date=dt"),
        ("NORMALIZE_TIMESTAMP_FIELDS", "ts,created_at,dt"),
        ("NORMALIZE_TIMESTAMP_FORMAT", "hive"),
        ("NORMALIZE_FLATTEN_DEPTH", "1"),
        ("NORMALIZE_NEWLINE", "false"),
    ];
    golden_cases(
        &["adversarial/nested-and-dotted.json"],
        &env,
        "normalize-settings",
    );
    golden_cases(
        &["adversarial/key-collisions.json"],
        &[("NORMALIZE_ON_COLLISION", "fail")],
        "normalize-settings",
    );
}

#[test]
fn a_non_firehose_payload_fails_the_invocation_and_the_next_event_is_served() {
    let mut function = normalize(&[]);
    let bad: [(&[u8], &str); 4] = [
        (br#"{"foo":1}"#, "missing field `records`"),
        (b"[]", "expected a Firehose data-transformation event"),
        (br#""a string""#, "invalid type: string"),
        (br#"{"records":[{"data":"QQ=="}]}"#, "(at records[0])"),
    ];
    for (payload, needle) in bad {
        match function.invoke(payload).unwrap() {
            Reply::Error {
                error_type,
                message,
            } => {
                assert_eq!(error_type, "InvalidEvent");
                assert!(message.contains(needle), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
    let good = read("tests/fixtures/public/powertools-kinesisFirehosePutEvent.json");
    respond(&mut function, &good);
}

#[test]
fn a_hundred_thousand_levels_of_nesting_fail_only_their_record() {
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let event = event(&[arrays.as_bytes(), objects.as_bytes(), br#"{"Fine":true}"#]);
    let mut function = normalize(&[]);
    let response = Response::from_slice(&respond(&mut function, &event)).unwrap();
    let results: Vec<Outcome> = response.records.iter().map(|r| r.result).collect();
    assert_eq!(
        results,
        [
            Outcome::ProcessingFailed,
            Outcome::ProcessingFailed,
            Outcome::Ok
        ]
    );
    assert!(
        function
            .wait_for_log("recursion limit exceeded", Duration::from_secs(5))
            .is_some()
    );
}

#[test]
fn a_1000_kb_record_is_normalised_whole() {
    let value = "x".repeat(1000 * 1024 - 20);
    let record = format!(r#"{{"Big.Value":"{value}"}}"#);
    let mut function = normalize(&[]);
    let response =
        Response::from_slice(&respond(&mut function, &event(&[record.as_bytes()]))).unwrap();
    let data = base64_simd::STANDARD
        .decode_to_vec(&response.records[0].data)
        .unwrap();
    assert_eq!(
        data,
        format!("{{\"big_value\":\"{value}\"}}\n").into_bytes()
    );
}

#[test]
fn ten_thousand_tiny_records_come_back_in_order() {
    let records: Vec<String> = (0..10_000).map(|i| format!(r#"{{"N":{i}}}"#)).collect();
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    let mut function = normalize(&[]);
    let response = Response::from_slice(&respond(&mut function, &event(&slices))).unwrap();
    assert_eq!(response.records.len(), 10_000);
    for (i, record) in response.records.iter().enumerate() {
        assert_eq!(record.result, Outcome::Ok);
        let data = base64_simd::STANDARD.decode_to_vec(&record.data).unwrap();
        assert_eq!(data, format!("{{\"n\":{i}}}\n").into_bytes());
    }
}

/// Records whose flattened keys repeat a long parent name grow about ninefold.
fn growing_record(i: usize) -> String {
    let children: Vec<String> = (0..100).map(|c| format!(r#""c{c}":{c}"#)).collect();
    format!(
        r#"{{"id":{i},"a_rather_long_parent_object_name_that_repeats":{{{}}}}}"#,
        children.join(",")
    )
}

#[test]
fn the_response_never_exceeds_the_default_limit() {
    let records: Vec<String> = (0..1_500).map(growing_record).collect();
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    let event = event(&slices);
    assert!(event.len() < 6_000_000);
    let mut function = normalize(&[]);
    let raw = respond(&mut function, &event);
    assert!(raw.len() <= 6_000_000, "{}", raw.len());
    let response = Response::from_slice(&raw).unwrap();
    let ok = response
        .records
        .iter()
        .take_while(|r| r.result == Outcome::Ok)
        .count();
    assert!(ok > 100 && ok < 1_500, "{ok} Ok records");
    for record in &response.records[ok..] {
        assert_eq!(
            (record.result, record.data.as_str()),
            (Outcome::ProcessingFailed, "")
        );
    }
    let warning = function
        .wait_for_log("did not fit in the response limit", Duration::from_secs(5))
        .unwrap();
    assert!(
        warning.contains(&format!("\"records\":{}", 1_500 - ok)),
        "{warning}"
    );
}

#[test]
fn a_lower_response_limit_is_honoured() {
    let records: Vec<String> = (0..30).map(growing_record).collect();
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    let mut function = normalize(&[("FIREHOSE_RESPONSE_LIMIT_BYTES", "65536")]);
    let raw = respond(&mut function, &event(&slices));
    assert!(raw.len() <= 65_536, "{}", raw.len());
    let response = Response::from_slice(&raw).unwrap();
    assert!(response.records.iter().any(|r| r.result == Outcome::Ok));
    assert!(
        response
            .records
            .iter()
            .any(|r| r.result == Outcome::ProcessingFailed)
    );
}

#[test]
fn an_unknown_setting_stops_the_function_naming_it() {
    let (error_type, message) = start_up_error(&[("NORMALIZE_FLATTEN_DEPHT", "2")]);
    assert_eq!(error_type, "UnknownSetting");
    assert!(
        message.starts_with(
            "unknown setting NORMALIZE_FLATTEN_DEPHT (did you mean NORMALIZE_FLATTEN_DEPTH?)"
        ),
        "{message}"
    );
    let (_, message) = start_up_error(&[("FIREHOSE_RESPONSE_LIMIT", "5")]);
    assert!(
        message.contains("FIREHOSE_RESPONSE_LIMIT_BYTES"),
        "{message}"
    );
}

#[test]
fn an_invalid_value_stops_the_function_naming_value_and_expectation() {
    let cases = [
        (
            "NORMALIZE_KEEP_CASE",
            "yes",
            "NORMALIZE_KEEP_CASE=\"yes\" is invalid: not a boolean (expected `true` or `false`)",
        ),
        (
            "FIREHOSE_RESPONSE_LIMIT_BYTES",
            "7000000",
            "FIREHOSE_RESPONSE_LIMIT_BYTES=\"7000000\" is invalid: out of range",
        ),
        ("NORMALIZE_RENAME", "Date=dt", "`Date` can never match"),
        (
            "AWS_LAMBDA_LOG_LEVEL",
            "LOUD",
            "AWS_LAMBDA_LOG_LEVEL=\"LOUD\" is invalid",
        ),
    ];
    for (name, value, needle) in cases {
        let (error_type, message) = start_up_error(&[(name, value)]);
        assert_eq!(error_type, "InvalidSetting");
        assert!(message.contains(needle), "{message}");
    }
}

#[test]
fn one_summary_line_and_one_metrics_line_per_invocation_and_no_record_contents() {
    let secret = "SECRET-CONTENT-7731";
    let records = [
        format!(r#"{{"ok":"{secret}"}}"#),
        format!("not json {secret}"),
        String::new(),
    ];
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    let mut function = normalize(&[]);
    respond(&mut function, &event(&slices));
    let summary = function
        .wait_for_log("invocation summary", Duration::from_secs(5))
        .unwrap();
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["level"], "INFO");
    for (field, want) in [("records", 3), ("ok", 1), ("dropped", 0), ("failed", 2)] {
        assert_eq!(summary[field], want, "{field}");
    }
    assert!(
        summary["bytes_in"].as_u64().unwrap() > 0 && summary["bytes_out"].as_u64().unwrap() > 0
    );
    assert_eq!(summary["invocation_id"], "generated");
    assert!(summary["duration_ms"].is_number());
    let emf = function
        .wait_for_log("CloudWatchMetrics", Duration::from_secs(5))
        .unwrap();
    let emf: Value = serde_json::from_str(&emf).unwrap();
    assert_eq!(emf["RecordsFailed"], 2);
    assert_eq!(emf["FunctionName"], "firehose-normalize");
    let logs = function.logs();
    assert_eq!(
        logs.iter()
            .filter(|l| l.contains("invocation summary"))
            .count(),
        1
    );
    let warnings: Vec<&String> = logs.iter().filter(|l| l.contains("\"WARN\"")).collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(
        warnings[0].contains(r#""record_id":"r1""#)
            && warnings[0].contains(r#""step":"normalize""#)
    );
    assert!(
        !logs.iter().any(|l| l.contains(secret)),
        "record contents leaked into the logs"
    );
}

#[test]
fn the_log_level_follows_lambda_then_rust_log() {
    let event = event(&[b"{}"]);
    let mut quiet = normalize(&[("AWS_LAMBDA_LOG_LEVEL", "WARN"), ("RUST_LOG", "debug")]);
    respond(&mut quiet, &event);
    assert!(
        quiet
            .wait_for_log("CloudWatchMetrics", Duration::from_secs(5))
            .is_some()
    );
    assert!(
        !quiet
            .logs()
            .iter()
            .any(|l| l.contains("invocation summary"))
    );
    let mut metrics_off = normalize(&[("RUST_LOG", "info"), ("FIREHOSE_METRICS", "false")]);
    respond(&mut metrics_off, &event);
    assert!(
        metrics_off
            .wait_for_log("invocation summary", Duration::from_secs(5))
            .is_some()
    );
    assert!(
        !metrics_off
            .logs()
            .iter()
            .any(|l| l.contains("CloudWatchMetrics"))
    );
}
