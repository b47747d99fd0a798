//! `firehose-filter`, the real release binary, through the local Runtime API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use firehose_e2e::{
    ADVERSARIAL_FIXTURES, PUBLIC_FIXTURES, answers, binary, event, generated_records, golden_cases,
    invocation_logs, respond, start, start_up_error,
};
use firehose_transform::Outcome;
use serde_json::Value;

const BINARY: &str = "firehose-filter";
const KEEP_ERRORS: (&str, &str) = ("FILTER_KEEP", r#".level == "ERROR" or .level == "WARN""#);

#[test]
fn every_fixture_is_answered_one_for_one() {
    golden_cases(BINARY, PUBLIC_FIXTURES, &[KEEP_ERRORS], "filter");
    golden_cases(BINARY, ADVERSARIAL_FIXTURES, &[KEEP_ERRORS], "filter");
}

/// What jq would decide for `.Id > 500000 and (.customer_id | type) == "string"`.
fn wanted(record: &str) -> Option<bool> {
    let value: Value = serde_json::from_str(record).ok()?;
    let object = value.as_object()?;
    let id = object.get("Id")?.as_i64()?;
    Some(id > 500_000 && object.get("customer_id").is_some_and(Value::is_string))
}

#[test]
fn keep_and_drop_decide_generated_records_as_jq_would() {
    let expression = r#".Id > 500000 and (.customer_id | type) == "string""#;
    let records = generated_records(4, 400);
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    let event = event(&slices);
    for (setting, keep_when_true) in [("FILTER_KEEP", true), ("FILTER_DROP", false)] {
        let mut function = start(&binary(BINARY), &[(setting, expression)]);
        let answers = answers(&respond(&mut function, &event));
        for (record, answer) in records.iter().zip(&answers) {
            let want = match wanted(record) {
                None => Outcome::ProcessingFailed,
                Some(matched) if matched == keep_when_true => Outcome::Ok,
                Some(_) => Outcome::Dropped,
            };
            assert_eq!(answer.result, want, "{setting}: {record}");
            if want == Outcome::Ok {
                assert_eq!(answer.data, record.as_bytes(), "kept records are untouched");
            }
        }
        let kept = answers.iter().filter(|a| a.result == Outcome::Ok).count();
        assert!(kept > 20 && kept < 380, "{setting}: {kept} kept");
    }
}

/// `last(repeat(1))` never ends, in constant memory: no bound on jq can catch it,
/// so the answer must go out at the deadline while the step still runs.
#[test]
fn a_step_that_never_returns_is_answered_at_the_deadline() {
    let mut function = start(
        &binary(BINARY),
        &[
            ("FILTER_KEEP", "last(repeat(1)) == 1"),
            ("FIREHOSE_DEADLINE_MARGIN_MS", "500"),
        ],
    );
    function.timeout = Duration::from_secs(3);
    let before = function.logs().len();
    let started = Instant::now();
    let answers = answers(&respond(&mut function, &event(&[b"{}", b"{}", b"{}"])));
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "answered within the timeout: {took:?}"
    );
    let results: Vec<Outcome> = answers.iter().map(|a| a.result).collect();
    assert_eq!(results, [Outcome::ProcessingFailed; 3]);
    // The process exits, so that Lambda starts a fresh one for the next batch.
    assert!(function.wait_for_exit(Duration::from_secs(10)).is_some());
    let logs = invocation_logs(&function, before);
    let late: Vec<&String> = logs
        .iter()
        .filter(|l| l.contains(r#""reason":"deadline""#))
        .collect();
    assert_eq!(late.len(), 3, "{logs:#?}");
    let summary = logs
        .iter()
        .find(|l| l.contains("invocation summary"))
        .unwrap();
    assert!(summary.contains(r#""late":3"#), "{summary}");
    assert!(summary.contains(r#""trace_id":"Root="#), "{summary}");
}

#[test]
fn a_runtime_error_fails_only_its_record_with_jq_s_reason() {
    let mut function = start(&binary(BINARY), &[("FILTER_KEEP", ".a.b == 1")]);
    let answers = answers(&respond(
        &mut function,
        &event(&[br#"{"a":{"b":1}}"#, br#"{"a":"text"}"#, br#"{"a":{"b":2}}"#]),
    ));
    let results: Vec<Outcome> = answers.iter().map(|a| a.result).collect();
    assert_eq!(
        results,
        [Outcome::Ok, Outcome::ProcessingFailed, Outcome::Dropped]
    );
    assert_eq!(answers[1].data, br#"{"a":"text"}"#);
    let warning = function
        .wait_for_log("record failed", Duration::from_secs(5))
        .unwrap();
    assert!(
        warning.contains(r#""record_id":"r1""#) && warning.contains("jq: cannot index"),
        "{warning}"
    );
}

#[test]
fn bad_settings_stop_it_at_start_up_naming_the_setting() {
    let (error_type, message) = start_up_error(BINARY, &[("FILTER_KEEP", ".level ==")]);
    assert_eq!(error_type, "InvalidSetting");
    assert_eq!(
        message,
        r#"FILTER_KEEP=".level ==" is invalid: expected term, found end of input (expected a jq expression)"#
    );
    let (_, message) = start_up_error(BINARY, &[("FILTER_DROP", r#"select(.a | nosuch)"#)]);
    assert!(
        message.starts_with("FILTER_DROP=") && message.contains("undefined filter `nosuch`"),
        "{message}"
    );
    let (error_type, message) = start_up_error(BINARY, &[]);
    assert_eq!(error_type, "MissingSetting");
    assert!(message.contains("FILTER_KEEP") && message.contains("FILTER_DROP"));
    let (_, message) = start_up_error(BINARY, &[("FILTER_KEEP", "true"), ("FILTER_DROP", "true")]);
    assert!(message.contains("both set"), "{message}");
    let (error_type, _) = start_up_error(BINARY, &[("FILTER_KEPE", "true")]);
    assert_eq!(error_type, "UnknownSetting");
}
