//! `firehose-cloudwatch-logs`, the real release binary, through the local Runtime API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use firehose_e2e::{
    ADVERSARIAL_FIXTURES, PUBLIC_FIXTURES, answers, binary, golden_cases, gzip, invocation_logs,
    kinesis_event, respond, start, start_up_error,
};
use firehose_transform::Outcome;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

const BINARY: &str = "firehose-cloudwatch-logs";
const CWL_FIXTURES: &[&str] = &[
    "sam/firehose-cloudwatch-logs-processor.json",
    "public/ukhomeoffice-cloudwatch-logs-event.json",
];

/// A gzip `DATA_MESSAGE` holding these `(timestamp, message)` log events.
fn data_message(events: &[(i64, &str)]) -> Vec<u8> {
    let events: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, (timestamp, message))| json!({"id": format!("3867{i:052}"), "timestamp": timestamp, "message": message}))
        .collect();
    gzip(
        &serde_json::to_vec(&json!({
            "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/orders",
            "logStream": "2024/05/01/[$LATEST]0f1e2d", "subscriptionFilters": ["to-firehose"], "logEvents": events
        }))
        .unwrap(),
    )
}

fn lines(data: &[u8]) -> Vec<Value> {
    String::from_utf8(data.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_fixture_is_answered_one_for_one() {
    golden_cases(BINARY, PUBLIC_FIXTURES, &[], "cloudwatch-logs");
    golden_cases(BINARY, ADVERSARIAL_FIXTURES, &[], "cloudwatch-logs");
    golden_cases(
        BINARY,
        CWL_FIXTURES,
        &[("CLOUDWATCH_LOGS_OUTPUT", "message")],
        "cloudwatch-logs-message",
    );
    golden_cases(
        BINARY,
        CWL_FIXTURES,
        &[("CLOUDWATCH_LOGS_EMBED_JSON", "true")],
        "cloudwatch-logs-embedded",
    );
}

/// Random payloads the function was never tuned to, against what CloudWatch
/// Logs put in them: every event out, in order, nothing altered.
#[test]
fn generated_payloads_come_back_event_for_event() {
    let mut rng = fastrand::Rng::with_seed(5);
    let pieces = [
        "GET /orders 200",
        "naïve café ✓",
        "line one\nline two",
        "quote \" and backslash \\",
        "{\"level\":\"warn\",\"n\":1}",
        "\t tabbed ",
        "",
        "🦀",
    ];
    let mut payloads = Vec::new();
    let mut expected: Vec<Vec<(i64, String)>> = Vec::new();
    for _ in 0..60 {
        let events: Vec<(i64, String)> = (0..rng.usize(0..12))
            .map(|_| {
                let message: Vec<&str> = (0..rng.usize(1..4))
                    .map(|_| pieces[rng.usize(..pieces.len())])
                    .collect();
                (rng.i64(0..4_102_444_800_000), message.join(" "))
            })
            .collect();
        let borrowed: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
        payloads.push(data_message(&borrowed));
        expected.push(events);
    }
    let records: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let event = kinesis_event(&records);

    let mut json_function = start(&binary(BINARY), &[]);
    let mut message_function = start(&binary(BINARY), &[("CLOUDWATCH_LOGS_OUTPUT", "message")]);
    let as_json = answers(&respond(&mut json_function, &event));
    let as_messages = answers(&respond(&mut message_function, &event));
    for (i, events) in expected.iter().enumerate() {
        if events.is_empty() {
            assert_eq!(as_json[i].result, Outcome::Dropped);
            assert_eq!(as_messages[i].result, Outcome::Dropped);
            continue;
        }
        assert_eq!(as_json[i].result, Outcome::Ok);
        let got = lines(&as_json[i].data);
        assert_eq!(got.len(), events.len());
        for (n, ((timestamp, message), line)) in events.iter().zip(&got).enumerate() {
            let iso = jiff::Timestamp::from_millisecond(*timestamp)
                .unwrap()
                .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string();
            assert_eq!(
                line,
                &json!({"owner": "123456789012", "log_group": "/aws/lambda/orders",
                    "log_stream": "2024/05/01/[$LATEST]0f1e2d", "id": format!("3867{n:052}"),
                    "timestamp": iso, "message": message})
            );
        }
        let raw: String = events.iter().map(|(_, m)| format!("{m}\n")).collect();
        assert_eq!(as_messages[i].data, raw.as_bytes());
    }
}

#[test]
fn a_gzip_bomb_fails_its_record_in_bounded_memory() {
    // 256 MiB of spaces gzip to about 250 KB.
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    let mebibyte = vec![b' '; 1 << 20];
    for _ in 0..256 {
        encoder.write_all(&mebibyte).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    let good = data_message(&[(1_714_566_600_000, "fine")]);
    let mut function = start(&binary(BINARY), &[]);
    let before = function.logs().len();
    let answers = answers(&respond(
        &mut function,
        &kinesis_event(&[&good, &bomb, &good]),
    ));
    assert_eq!(answers[0].result, Outcome::Ok);
    assert_eq!(answers[1].result, Outcome::ProcessingFailed);
    assert_eq!(answers[1].data, bomb, "the bomb keeps its original bytes");
    assert_eq!(answers[2].result, Outcome::Ok);
    let logs = invocation_logs(&function, before).join("\n");
    assert!(
        logs.contains(
            "decompresses to more than 16777216 bytes (CLOUDWATCH_LOGS_MAX_DECOMPRESSED_BYTES)"
        ),
        "{logs}"
    );
    let peak = function.peak_memory_bytes().expect("Linux reports VmHWM");
    eprintln!("peak memory on a 256 MiB gzip bomb: {peak} bytes");
    assert!(
        peak < 64 << 20,
        "peak memory {peak} bytes: the 16 MiB cap should bound it far below the bomb's 256 MiB"
    );
}

#[test]
fn corrupt_and_foreign_records_fail_alone_with_their_reason() {
    let good = data_message(&[(1_714_566_600_000, "fine")]);
    let mut truncated = good.clone();
    truncated.truncate(good.len() - 10);
    let mut bad_checksum = good.clone();
    let at = good.len() - 6;
    bad_checksum[at] ^= 0xff;
    let not_json = gzip(b"plain text, gzipped");
    let no_timestamp =
        gzip(br#"{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","message":"m"}]}"#);
    let odd_type = gzip(br#"{"messageType":"HEARTBEAT","logEvents":[]}"#);
    let cases: [(&[u8], &str); 6] = [
        (&truncated, "corrupt gzip"),
        (&bad_checksum, "corrupt gzip"),
        (b"not gzip at all", "not gzip (no 1f 8b header)"),
        (&not_json, "not a CloudWatch Logs payload: expected value"),
        (&no_timestamp, "missing field `timestamp`"),
        (&odd_type, "messageType \"HEARTBEAT\" is neither"),
    ];
    let mut records: Vec<&[u8]> = vec![&good];
    records.extend(cases.iter().map(|(bytes, _)| *bytes));
    let mut function = start(&binary(BINARY), &[]);
    let before = function.logs().len();
    let answers = answers(&respond(&mut function, &kinesis_event(&records)));
    assert_eq!(answers[0].result, Outcome::Ok);
    let logs = invocation_logs(&function, before);
    for (i, (bytes, reason)) in cases.iter().enumerate() {
        let answer = &answers[i + 1];
        assert_eq!(answer.result, Outcome::ProcessingFailed, "{reason}");
        assert_eq!(answer.data, *bytes);
        let line = logs
            .iter()
            .find(|l| l.contains(&format!("\"record_id\":\"r{}\"", i + 1)))
            .unwrap();
        assert!(line.contains(&reason.replace('"', "\\\"")), "{line}");
    }
}

/// The AWS blueprint needs a 256 KB buffer so that its gunzipped output stays
/// under the 6 MB response; here a record whose events do not fit fails alone
/// (with empty data: Firehose writes its original gzip to `processing-failed/`)
/// and the rest of the batch is delivered.
#[test]
fn a_record_too_big_for_the_response_fails_alone() {
    let big_message = "x".repeat(20_000);
    let events: Vec<(i64, &str)> = (0..30).map(|i| (i, big_message.as_str())).collect();
    let big = data_message(&events);
    let small = data_message(&[(0, "small")]);
    let mut function = start(
        &binary(BINARY),
        &[("FIREHOSE_RESPONSE_LIMIT_BYTES", "300000")],
    );
    let answers = answers(&respond(
        &mut function,
        &kinesis_event(&[&small, &big, &small]),
    ));
    assert!(big.len() < 10_000, "the gzip itself is small");
    let results: Vec<Outcome> = answers.iter().map(|a| a.result).collect();
    assert_eq!(
        results,
        [Outcome::Ok, Outcome::ProcessingFailed, Outcome::Ok]
    );
    assert!(answers[1].data.is_empty());
}

#[test]
fn as_the_first_step_of_a_pipeline_later_steps_see_each_event() {
    let info = r#"{"level":"info","order":1}"#;
    let debug = r#"{"level":"debug","order":2}"#;
    let mixed = data_message(&[(1_714_566_600_000, info), (1_714_566_600_001, debug)]);
    let only_debug = data_message(&[(1_714_566_600_002, debug)]);
    let not_json = data_message(&[(1_714_566_600_003, info), (1_714_566_600_004, "plain")]);
    let mut function = start(
        &binary("firehose-pipeline"),
        &[
            ("PIPELINE_STEPS", "cloudwatch-logs,filter,enrich"),
            ("CLOUDWATCH_LOGS_OUTPUT", "message"),
            ("FILTER_DROP", ".level == \"debug\""),
            ("ENRICH_SHARD_ID_FIELD", "shard"),
            ("FIREHOSE_PARTITION_KEYS", "{level: .level}"),
        ],
    );
    let before = function.logs().len();
    let answers = answers(&respond(
        &mut function,
        &kinesis_event(&[&mixed, &only_debug, &not_json]),
    ));
    assert_eq!(answers[0].result, Outcome::Ok);
    assert_eq!(
        lines(&answers[0].data),
        [json!({"level": "info", "order": 1, "shard": "shardId-000000000001"})]
    );
    assert_eq!(answers[0].keys, [("level".to_owned(), "info".to_owned())]);
    assert_eq!(
        answers[1].result,
        Outcome::Dropped,
        "every event filtered out"
    );
    assert_eq!(answers[2].result, Outcome::ProcessingFailed);
    assert_eq!(answers[2].data, not_json);
    let logs = invocation_logs(&function, before).join("\n");
    assert!(
        logs.contains(r#""step":"filter","reason":"log event 2 of 2: not valid JSON"#),
        "{logs}"
    );
}

#[test]
fn bad_settings_stop_it_at_start_up() {
    let (error_type, message) = start_up_error(
        BINARY,
        &[
            ("CLOUDWATCH_LOGS_OUTPUT", "message"),
            ("CLOUDWATCH_LOGS_EMBED_JSON", "true"),
        ],
    );
    assert_eq!(error_type, "InvalidSetting");
    assert_eq!(
        message,
        "CLOUDWATCH_LOGS_EMBED_JSON applies to CLOUDWATCH_LOGS_OUTPUT=json only"
    );
    let (_, message) = start_up_error(BINARY, &[("CLOUDWATCH_LOGS_MAX_DECOMPRESSED_BYTES", "10")]);
    assert!(
        message
            .starts_with("CLOUDWATCH_LOGS_MAX_DECOMPRESSED_BYTES=\"10\" is invalid: out of range"),
        "{message}"
    );
    let (_, message) = start_up_error(BINARY, &[("CLOUDWATCH_LOGS_OUTPUT", "csv")]);
    assert!(message.contains("one of `json`, `message`"), "{message}");
}
