//! Property tests of the log parsers on input nobody wrote by hand: any bytes
//! fail or parse, never panic; generated RFC 5424 lines come back field for
//! field; generated CloudWatch Logs payloads come back event for event, and
//! their gzip cut short or damaged fails cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use firehose_transform::transforms::cloudwatch_logs::{CloudWatchLogs, EventFormat};
use firehose_transform::transforms::line_output::LineOutput;
use firehose_transform::transforms::syslog::{Syslog, Year};
use firehose_transform::{Outcome, Pipeline, Record, Response, Transform};
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use serde_json::{Value, json};

fn syslog() -> Syslog {
    Syslog::new(Year::Arrival, TimeZone::UTC, false, LineOutput::Json)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Structured-data parameter values, with the characters RFC 5424 escapes.
fn param_value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \"\\\\\\]=é🦀]{0,12}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn syslog_never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut record = Record::detached(bytes);
        let _ = syslog().apply(&mut record);
    }

    #[test]
    fn syslog_never_panics_on_near_syslog_text(line in "<[0-9]{1,4}>(1 )?[A-Za-z0-9:. +\\-\\[\\]=\"]{0,80}") {
        let mut record = Record::detached(line);
        let _ = syslog().apply(&mut record);
    }

    #[test]
    fn generated_rfc5424_lines_come_back_field_for_field(
        facility in 0u8..24,
        severity in 0u8..8,
        host in "[a-z][a-z0-9.-]{0,20}",
        app in "[a-zA-Z][a-zA-Z0-9_]{0,12}",
        values in prop::collection::vec(param_value(), 1..4),
        // The parser trims the line, so the message starts and ends with a visible character.
        message in "([!-~é🦀]([^\n\r]{0,58}[!-~é🦀])?)?",
    ) {
        let params: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let escaped = v.replace('\\', "\\\\").replace('"', "\\\"").replace(']', "\\]");
                format!("p{i}=\"{escaped}\"")
            })
            .collect();
        let line = format!(
            "<{}>1 2024-05-01T10:00:00.250Z {host} {app} - - [sd@1 {}] {message}",
            facility * 8 + severity,
            params.join(" ")
        );
        // Through the step, so the JSON text it writes is what is read back.
        let mut record = Record::detached(line);
        syslog().apply(&mut record).unwrap();
        let parsed = record.json().unwrap().clone();
        prop_assert_eq!(&parsed["priority"], &json!(facility * 8 + severity));
        prop_assert_eq!(&parsed["hostname"], &json!(host));
        prop_assert_eq!(&parsed["appname"], &json!(app));
        prop_assert_eq!(&parsed["timestamp"], &json!("2024-05-01T10:00:00.25Z"));
        for (i, value) in values.iter().enumerate() {
            prop_assert_eq!(&parsed["structured_data"]["sd@1"][format!("p{i}")], &json!(value));
        }
        prop_assert_eq!(&parsed["message"], &json!(message));
    }

    #[test]
    fn cloudwatch_payloads_come_back_event_for_event_and_damage_fails_cleanly(
        messages in prop::collection::vec("\\PC{0,40}", 1..8),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
    ) {
        let events: Vec<Value> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| json!({"id": i.to_string(), "timestamp": 1_714_566_600_000_i64 + i as i64, "message": m}))
            .collect();
        let payload = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s", "logEvents": events});
        let gzipped = gzip(&serde_json::to_vec(&payload).unwrap());
        let pipeline = Pipeline::new().then(CloudWatchLogs::new(EventFormat::Message, 1 << 20));
        let run = |bytes: &[u8]| -> (Outcome, Vec<u8>) {
            let event = json!({"records": [{"recordId": "a", "data": base64_simd::STANDARD.encode_to_string(bytes)}]});
            let processed = pipeline.process(&serde_json::to_vec(&event).unwrap()).unwrap();
            let answer = Response::from_slice(&processed.response).unwrap().records.remove(0);
            (answer.result, base64_simd::STANDARD.decode_to_vec(&answer.data).unwrap())
        };

        // Whole: every message, in order, a line each.
        let expected: String = messages.iter().map(|m| format!("{m}\n")).collect();
        prop_assert_eq!(run(&gzipped), (Outcome::Ok, expected.clone().into_bytes()));

        // Cut short: failed, with its bytes. A byte flipped: failed with its
        // bytes, or (a flip in the header's unchecked bytes) the same events.
        let mut cut_short = gzipped.clone();
        cut_short.truncate(cut.index(gzipped.len()));
        prop_assert_eq!(run(&cut_short), (Outcome::ProcessingFailed, cut_short.clone()));
        let mut flipped = gzipped.clone();
        flipped[flip.index(gzipped.len())] ^= 0x55;
        let answer = run(&flipped);
        prop_assert!(
            answer == (Outcome::ProcessingFailed, flipped.clone()) || answer == (Outcome::Ok, expected.into_bytes()),
            "{:?}", answer.0
        );
    }
}
