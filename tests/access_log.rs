//! `firehose-access-log`, the real release binary, through the local Runtime API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use firehose_e2e::{
    ADVERSARIAL_FIXTURES, PUBLIC_FIXTURES, answers, binary, golden, golden_cases, kinesis_event,
    outcome, read, respond, start, start_up_error,
};
use firehose_transform::Outcome;
use serde_json::Value;

const BINARY: &str = "firehose-access-log";

#[test]
fn every_fixture_is_answered_one_for_one() {
    golden_cases(BINARY, PUBLIC_FIXTURES, &[], "access-log");
    golden_cases(BINARY, ADVERSARIAL_FIXTURES, &[], "access-log");
}

fn log_lines() -> Vec<String> {
    String::from_utf8(read("tests/fixtures/logs/access.log"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn real_looking_lines_parse_as_the_golden_file_says() {
    let lines = log_lines();
    let records: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let mut function = start(&binary(BINARY), &[]);
    let shown = outcome(&mut function, &kinesis_event(&records));
    golden(
        "tests/golden/access-log-lines/access.txt",
        &format!("# event: tests/fixtures/logs/access.log, one line per record\n{shown}"),
    );
}

/// What AWS's access-log blueprint gets wrong (../shared/reference §4), each right here.
#[test]
fn the_blueprint_s_known_failures_are_handled() {
    let lines = log_lines();
    let records: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let mut function = start(&binary(BINARY), &[]);
    let answers = answers(&respond(&mut function, &kinesis_event(&records)));
    let json = |i: usize| -> Value {
        assert_eq!(answers[i].result, Outcome::Ok, "{}", lines[i]);
        serde_json::from_slice(&answers[i].data).unwrap()
    };
    // IPv6 hosts (the blueprint's regex takes IPv4 only).
    assert_eq!(json(2)["host"], "2001:db8:85a3::8a2e:370:7334");
    assert_eq!(json(3)["host"], "::1");
    // A `-` byte count is null (the blueprint rejects the line).
    assert_eq!(json(3)["bytes"], Value::Null);
    // The zone is applied (the blueprint drops it): +0200 and -1130 to UTC.
    assert_eq!(json(2)["time"], "2024-05-01T10:30:00Z");
    assert_eq!(json(4)["time"], "2024-01-01T11:29:59Z");
    assert_eq!(json(5)["time"], "2024-02-29T00:15:00Z");
    // The request line is split.
    assert_eq!(json(2)["query"], "dry_run=true");
    // Lines that do not match fail alone, with their original bytes.
    for i in [9, 10, 11] {
        assert_eq!(answers[i].result, Outcome::ProcessingFailed, "{}", lines[i]);
        assert_eq!(answers[i].data, lines[i].as_bytes());
    }
}

#[test]
fn as_the_first_step_of_a_pipeline() {
    let lines = log_lines();
    let records: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let mut function = start(
        &binary("firehose-pipeline"),
        &[
            ("PIPELINE_STEPS", "access-log,filter,enrich"),
            ("ACCESS_LOG_FORMAT", "combined"),
            ("FILTER_DROP", ".path == \"/healthz\""),
            ("ENRICH_SHARD_ID_FIELD", "shard"),
        ],
    );
    let answers = answers(&respond(&mut function, &kinesis_event(&records)));
    let results: Vec<Outcome> = answers.iter().map(|a| a.result).collect();
    // Line 0 is `common`, which the combined format alone does not match; line 3 is /healthz.
    assert_eq!(results[0], Outcome::ProcessingFailed);
    assert_eq!(results[3], Outcome::Dropped);
    let second: Value = serde_json::from_slice(&answers[1].data).unwrap();
    assert_eq!(second["shard"], "shardId-000000000001");
    assert_eq!(second["user"], "frank");
}

#[test]
fn a_bad_format_stops_it_at_start_up() {
    let (error_type, message) = start_up_error(BINARY, &[("ACCESS_LOG_FORMAT", "%h %Q")]);
    assert_eq!(error_type, "InvalidSetting");
    assert!(
        message.starts_with("ACCESS_LOG_FORMAT=\"%h %Q\" is invalid: `%Q`"),
        "{message}"
    );
    let (_, message) = start_up_error(
        "firehose-pipeline",
        &[
            ("PIPELINE_STEPS", "enrich,access-log"),
            ("ENRICH_FIELDS", "{}"),
        ],
    );
    assert!(message.contains("must come first"), "{message}");
}
