//! `firehose-syslog`, the real release binary, through the local Runtime API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use firehose_e2e::{
    ADVERSARIAL_FIXTURES, PUBLIC_FIXTURES, answers, binary, csv_fields, csv_text, golden,
    golden_cases, kinesis_event, outcome, read, respond, start, start_up_error,
};
use firehose_transform::Outcome;
use serde_json::{Value, json};

const BINARY: &str = "firehose-syslog";

#[test]
fn every_fixture_is_answered_one_for_one() {
    golden_cases(BINARY, PUBLIC_FIXTURES, &[], "syslog");
    golden_cases(BINARY, ADVERSARIAL_FIXTURES, &[], "syslog");
}

fn log_lines() -> Vec<Vec<u8>> {
    read("tests/fixtures/logs/syslog.log")
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Each line through the function with these settings, as the golden file shows it.
fn lines_golden(env: &[(&str, &str)], file: &str) {
    let lines = log_lines();
    let records: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let mut function = start(&binary(BINARY), env);
    let settings: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let shown = outcome(&mut function, &kinesis_event(&records));
    golden(
        &format!("tests/golden/syslog-lines/{file}.txt"),
        &format!(
            "# event: tests/fixtures/logs/syslog.log, one line per record, arriving 2024-05-01T12:30:00.123Z\n# settings: {}\n{shown}",
            settings.join(" ")
        ),
    );
}

#[test]
fn real_looking_lines_parse_as_the_golden_files_say() {
    lines_golden(&[], "default");
    lines_golden(
        &[
            ("SYSLOG_TIMEZONE", "America/Chicago"),
            ("SYSLOG_STRUCTURED_DATA", "flat"),
        ],
        "chicago-flat",
    );
}

/// What AWS's syslog blueprints get wrong (../shared/reference §4.5), each right here.
#[test]
fn the_blueprint_s_known_failures_are_handled() {
    let lines = log_lines();
    let records: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let mut function = start(&binary(BINARY), &[("SYSLOG_TIMEZONE", "Europe/Berlin")]);
    let answers = answers(&respond(&mut function, &kinesis_event(&records)));
    let json = |i: usize| -> Value {
        assert_eq!(answers[i].result, Outcome::Ok, "line {i}");
        serde_json::from_slice(&answers[i].data).unwrap()
    };
    // RFC 5424, with structured data (the blueprint has no RFC 5424).
    assert_eq!(
        json(9)["structured_data"],
        json!({"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"}})
    );
    assert_eq!(
        json(11)["structured_data"]["meta"]["src"],
        r#"a "quoted" ] value"#
    );
    // The year (the blueprint has none): from the arrival, 2024-05-01, and the
    // year before for a date after it; the zone (it has none) from the setting.
    assert_eq!(
        json(4)["timestamp"],
        "2024-05-01T09:59:58Z",
        "Berlin is UTC+2 in May"
    );
    assert_eq!(
        json(6)["timestamp"],
        "2023-12-31T22:59:59Z",
        "December is last year's"
    );
    // Times with their own offset keep it.
    assert_eq!(json(11)["timestamp"], "2024-05-01T10:29:59.5Z");
    // UTF-8 kept (the blueprint decodes ASCII).
    assert_eq!(
        json(6)["message"],
        "Silvester: Frohes neues Jahr, 新年快乐 🎉"
    );
    // Facility and severity decoded from the priority.
    assert_eq!(
        (json(5)["facility"].clone(), json(5)["severity"].clone()),
        (json!("authpriv"), json!("info"))
    );
    // IPv6 in a message, no priority at all: still parsed.
    assert_eq!(json(4)["appname"], "sshd");
    // Lines that are not syslog fail alone, with their original bytes.
    for i in [13, 15] {
        assert_eq!(answers[i].result, Outcome::ProcessingFailed, "line {i}");
        assert_eq!(answers[i].data, lines[i]);
    }
}

#[test]
fn invalid_utf8_never_crashes() {
    let line = b"<13>May  1 10:00:00 host app: bad \xff\xfe bytes and good \xc3\xa9".to_vec();
    let mut function = start(&binary(BINARY), &[]);
    let answers = answers(&respond(&mut function, &kinesis_event(&[&line])));
    let parsed: Value = serde_json::from_slice(&answers[0].data).unwrap();
    assert_eq!(parsed["message"], "bad \u{fffd}\u{fffd} bytes and good é");
}

#[test]
fn as_the_first_step_of_a_pipeline() {
    let lines = log_lines();
    let records: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let mut function = start(
        &binary("firehose-pipeline"),
        &[
            ("PIPELINE_STEPS", "syslog,filter"),
            ("FILTER_KEEP", ".severity == \"crit\""),
        ],
    );
    let answers = answers(&respond(&mut function, &kinesis_event(&records)));
    let kept: Vec<usize> = (0..answers.len())
        .filter(|i| answers[*i].result == Outcome::Ok)
        .collect();
    assert_eq!(kept, [0, 7]);
}

/// The Node blueprint's CSV has a sixth column that is always `undefined`, and
/// no quoting; here every row has exactly the configured columns, read back by
/// a real CSV reader, equal to the JSON output's fields.
#[test]
fn csv_rows_hold_exactly_the_configured_columns() {
    let lines = log_lines();
    let records: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let event = kinesis_event(&records);
    let columns = "timestamp,hostname,appname,procid,severity,sd_meta_src,message";
    let flat = [("SYSLOG_STRUCTURED_DATA", "flat")];
    let mut json_function = start(&binary(BINARY), &flat);
    let mut csv_function = start(
        &binary(BINARY),
        &[
            flat[0],
            ("SYSLOG_OUTPUT", "csv"),
            ("SYSLOG_CSV_COLUMNS", columns),
        ],
    );
    let as_json = answers(&respond(&mut json_function, &event));
    let as_csv = answers(&respond(&mut csv_function, &event));
    for (json, csv) in as_json.iter().zip(&as_csv) {
        assert_eq!(json.result, csv.result);
        if json.result != Outcome::Ok {
            continue;
        }
        let object: Value = serde_json::from_slice(&json.data).unwrap();
        let expected: Vec<String> = columns.split(',').map(|c| csv_text(&object[c])).collect();
        assert_eq!(csv_fields(&csv.data), expected);
    }
    let row = String::from_utf8(as_csv[11].data.clone()).unwrap();
    assert_eq!(
        row,
        "2024-05-01T10:29:59.5Z,fw-3,filterlog,3321,info,\"a \"\"quoted\"\" ] value\",\"block,in,tcp,\"\"203.0.113.9\"\",443\"\n"
    );
    lines_golden(&[("SYSLOG_OUTPUT", "csv")], "csv");
}

#[test]
fn bad_settings_stop_it_at_start_up() {
    let (error_type, message) = start_up_error(BINARY, &[("SYSLOG_TIMEZONE", "Europe/Londn")]);
    assert_eq!(error_type, "InvalidSetting");
    assert!(
        message.starts_with(
            "SYSLOG_TIMEZONE=\"Europe/Londn\" is invalid: not a time zone name we know"
        ),
        "{message}"
    );
    let (_, message) = start_up_error(BINARY, &[("SYSLOG_YEAR", "last")]);
    assert!(
        message.starts_with("SYSLOG_YEAR=\"last\" is invalid"),
        "{message}"
    );
}
