//! `firehose-validate`, the real release binary, through the local Runtime API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use firehose_e2e::{
    ADVERSARIAL_FIXTURES, PUBLIC_FIXTURES, answers, binary, borrowed, event, generated_records,
    golden_cases, repo, respond, start, start_up_error,
};
use firehose_transform::Outcome;
use serde_json::Value;

const BINARY: &str = "firehose-validate";
const SCHEMA_FILE: &str = "tests/fixtures/schemas/app-event.schema.json";

/// Reads the schema file as Lambda would: relative to the package root.
fn from_file() -> Vec<(&'static str, String)> {
    vec![
        ("VALIDATE_SCHEMA_FILE", SCHEMA_FILE.to_owned()),
        ("LAMBDA_TASK_ROOT", repo().to_string_lossy().into_owned()),
    ]
}

#[test]
fn every_fixture_is_answered_one_for_one() {
    let inline = [(
        "VALIDATE_SCHEMA",
        r#"{"type":"object","required":["ticker_symbol"]}"#,
    )];
    golden_cases(BINARY, PUBLIC_FIXTURES, &inline, "validate");
    golden_cases(BINARY, ADVERSARIAL_FIXTURES, &inline, "validate");
}

/// What the schema says about a record, worked out by hand.
fn valid(record: &str) -> bool {
    let Ok(Value::Object(o)) = serde_json::from_str::<Value>(record) else {
        return false;
    };
    let id_ok = o
        .get("Id")
        .and_then(Value::as_i64)
        .is_some_and(|id| id >= 0);
    let level_ok = o.get("level").is_some();
    let ts_ok = o.get("ts").is_some_and(Value::is_i64);
    let customer_ok = o.get("customer_id").is_none_or(Value::is_string);
    let amount_ok = o
        .get("Amount")
        .is_none_or(|a| a.as_f64().is_some_and(|a| a <= 50_000.0));
    id_ok && level_ok && ts_ok && customer_ok && amount_ok
}

#[test]
fn generated_records_pass_or_fail_as_the_schema_says() {
    let records = generated_records(7, 400);
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    let mut function = start(&binary(BINARY), &borrowed(&from_file()));
    let answers = answers(&respond(&mut function, &event(&slices)));
    for (record, answer) in records.iter().zip(&answers) {
        let want = if valid(record) {
            Outcome::Ok
        } else {
            Outcome::ProcessingFailed
        };
        assert_eq!(answer.result, want, "{record}");
        assert_eq!(
            answer.data,
            record.as_bytes(),
            "validate never changes a record"
        );
    }
    let passed = answers.iter().filter(|a| a.result == Outcome::Ok).count();
    assert!(passed > 50 && passed < 350, "{passed} passed");
}

#[test]
fn a_failing_record_is_logged_with_its_instance_path_and_formats_are_asserted() {
    let mut function = start(&binary(BINARY), &borrowed(&from_file()));
    let answers = answers(&respond(
        &mut function,
        &event(&[
            br#"{"Id":1,"level":"INFO","ts":1,"at":"2024-05-01T12:30:00Z"}"#,
            br#"{"Id":1,"level":"INFO","ts":1,"at":"yesterday"}"#,
            br#"{"Id":1,"level":"LOUD","ts":1}"#,
        ]),
    ));
    let results: Vec<Outcome> = answers.iter().map(|a| a.result).collect();
    assert_eq!(
        results,
        [
            Outcome::Ok,
            Outcome::ProcessingFailed,
            Outcome::ProcessingFailed
        ]
    );
    function.wait_for_log("invocation summary", Duration::from_secs(5));
    let warnings: Vec<String> = function
        .logs()
        .into_iter()
        .filter(|l| l.contains("record failed"))
        .collect();
    assert!(
        warnings[0].contains(r#"schema: at /at: a string is not a \"date-time\""#),
        "{warnings:?}"
    );
    assert!(warnings[1].contains("schema: at /level: "), "{warnings:?}");
}

/// Settings, as `start_up_error` takes them.
type Settings<'a> = &'a [(&'a str, &'a str)];

#[test]
fn bad_settings_stop_it_at_start_up_naming_the_setting() {
    let cases: [(Settings, &str, &str); 5] = [
        (&[], "MissingSetting", "VALIDATE_SCHEMA is not set"),
        (
            &[("VALIDATE_SCHEMA", "{\"type\":")],
            "InvalidSetting",
            "the schema is not JSON",
        ),
        (
            &[(
                "VALIDATE_SCHEMA",
                r#"{"$ref":"https://example.com/schema.json"}"#,
            )],
            "InvalidSetting",
            "the schema does not compile",
        ),
        (
            &[("VALIDATE_SCHEMA_FILE", "no/such/schema.json")],
            "InvalidSetting",
            "VALIDATE_SCHEMA_FILE=\"no/such/schema.json\" is invalid: cannot read",
        ),
        (
            &[("VALIDATE_SCHEMA", "{}"), ("VALIDATE_DRAFT", "4")],
            "InvalidSetting",
            "VALIDATE_DRAFT=\"4\" is invalid",
        ),
    ];
    for (env, error_type, needle) in cases {
        let (got_type, message) = start_up_error(BINARY, env);
        assert_eq!(got_type, error_type, "{message}");
        assert!(message.contains(needle), "{message}");
    }
}
