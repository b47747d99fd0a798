//! `firehose-access-log`, the real release binary, through the local Runtime API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use firehose_e2e::{
    ADVERSARIAL_FIXTURES, PUBLIC_FIXTURES, answers, binary, csv_fields, csv_text, golden,
    golden_cases, kinesis_event, outcome, read, respond, start, start_up_error,
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

/// CSV rows hold exactly the JSON output's fields, in order, read back by a
/// real CSV reader: a request line holding commas and quotes stays one field
/// (the blueprint writes it unquoted, shifting every column after it).
#[test]
fn csv_rows_hold_the_json_fields_in_order() {
    let lines = log_lines();
    let records: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    let event = kinesis_event(&records);
    let mut json_function = start(&binary(BINARY), &[]);
    let mut csv_function = start(&binary(BINARY), &[("ACCESS_LOG_OUTPUT", "csv")]);
    let as_json = answers(&respond(&mut json_function, &event));
    let as_csv = answers(&respond(&mut csv_function, &event));
    let columns = [
        "host",
        "logname",
        "user",
        "time",
        "method",
        "path",
        "query",
        "protocol",
        "request",
        "status",
        "bytes",
        "referer",
        "user_agent",
    ];
    let mut quoted = 0;
    for (json, csv) in as_json.iter().zip(&as_csv) {
        assert_eq!(json.result, csv.result);
        if json.result != Outcome::Ok {
            continue;
        }
        let object: Value = serde_json::from_slice(&json.data).unwrap();
        let expected: Vec<String> = columns.iter().map(|c| csv_text(&object[*c])).collect();
        assert_eq!(csv_fields(&csv.data), expected);
        quoted += usize::from(csv.data.contains(&b'"'));
    }
    assert!(quoted > 0, "some fields needed quoting");
    golden_cases(
        BINARY,
        &["sam/firehose-apachelog.json"],
        &[("ACCESS_LOG_OUTPUT", "csv")],
        "access-log-csv",
    );
}

#[test]
fn csv_columns_may_name_fields_later_steps_add() {
    let line = br#"203.0.113.9 - - [01/May/2024:12:30:00 +0000] "GET /a,b?q=\"x\" HTTP/1.1" 200 512 "-" "curl/8.5""#;
    let mut function = start(
        &binary("firehose-pipeline"),
        &[
            ("PIPELINE_STEPS", "access-log,enrich"),
            ("ACCESS_LOG_OUTPUT", "csv"),
            (
                "ACCESS_LOG_CSV_COLUMNS",
                "time,shard,status,path,query,referer",
            ),
            ("ENRICH_SHARD_ID_FIELD", "shard"),
        ],
    );
    let answers = answers(&respond(&mut function, &kinesis_event(&[line])));
    assert_eq!(
        String::from_utf8(answers[0].data.clone()).unwrap(),
        "2024-05-01T12:30:00Z,shardId-000000000001,200,\"/a,b\",\"q=\"\"x\"\"\",\n"
    );
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
    let (_, message) = start_up_error(BINARY, &[("ACCESS_LOG_CSV_COLUMNS", "host,time")]);
    assert_eq!(
        message,
        "ACCESS_LOG_CSV_COLUMNS applies to ACCESS_LOG_OUTPUT=csv only"
    );
}
