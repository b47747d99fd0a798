//! `FIREHOSE_PARTITION_KEYS` on the real binaries: keys for dynamic partitioning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use firehose_e2e::{
    ADVERSARIAL_FIXTURES, answers, binary, event, generated_records, golden_cases, respond, start,
    start_up_error,
};
use firehose_transform::Outcome;
use serde_json::Value;

const KEYS: &str =
    r#"{customer_id: .customer_id, year: (.ts | strftime("%Y")), month: (.ts | strftime("%m"))}"#;

#[test]
fn every_adversarial_fixture_is_answered_one_for_one() {
    golden_cases(
        "firehose-normalize",
        ADVERSARIAL_FIXTURES,
        &[(
            "FIREHOSE_PARTITION_KEYS",
            "{first_key: keys_unsorted[0], field_count: length}",
        )],
        "partition-keys",
    );
}

/// The keys Firehose should get for a record, or `None` if it must fail.
fn wanted(record: &str) -> Option<Vec<(String, String)>> {
    let Value::Object(o) = serde_json::from_str::<Value>(record).ok()? else {
        return None;
    };
    let customer = match o.get("customer_id")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let ts = jiff::Timestamp::from_second(o.get("ts")?.as_i64()?).ok()?;
    Some(vec![
        ("customer_id".to_owned(), customer),
        ("month".to_owned(), ts.strftime("%m").to_string()),
        ("year".to_owned(), ts.strftime("%Y").to_string()),
    ])
}

#[test]
fn keys_come_from_the_transformed_record_and_bad_ones_fail_it() {
    let records = generated_records(23, 300);
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    // normalize lower-cases `Id` first; the keys see its output.
    let mut function = start(
        &binary("firehose-normalize"),
        &[("FIREHOSE_PARTITION_KEYS", KEYS)],
    );
    let answers = answers(&respond(&mut function, &event(&slices)));
    for (record, answer) in records.iter().zip(&answers) {
        match wanted(record) {
            Some(keys) => {
                assert_eq!(answer.result, Outcome::Ok, "{record}");
                assert_eq!(answer.keys, keys, "{record}");
            }
            None => {
                assert_eq!(answer.result, Outcome::ProcessingFailed, "{record}");
                assert_eq!(answer.data, record.as_bytes());
                assert!(answer.keys.is_empty());
            }
        }
    }
    let failed = answers
        .iter()
        .filter(|a| a.result == Outcome::ProcessingFailed)
        .count();
    assert!(failed > 30 && failed < 270, "{failed} failed");
}

#[test]
fn values_an_s3_prefix_cannot_hold_fail_the_record() {
    let mut function = start(
        &binary("firehose-filter"),
        &[
            ("FILTER_KEEP", "true"),
            ("FIREHOSE_PARTITION_KEYS", "{k: .k}"),
        ],
    );
    let answers = answers(&respond(
        &mut function,
        &event(&[
            br#"{"k":"ok-value_1.2"}"#,
            br#"{"k":"a/b"}"#,
            br#"{"k":""}"#,
            br#"{"k":12.50}"#,
            br#"{"k":true}"#,
        ]),
    ));
    let got: Vec<(Outcome, Vec<(String, String)>)> =
        answers.into_iter().map(|a| (a.result, a.keys)).collect();
    let key = |v: &str| vec![("k".to_owned(), v.to_owned())];
    assert_eq!(
        got,
        [
            (Outcome::Ok, key("ok-value_1.2")),
            (Outcome::ProcessingFailed, vec![]),
            (Outcome::ProcessingFailed, vec![]),
            (Outcome::Ok, key("12.50")),
            (Outcome::ProcessingFailed, vec![]),
        ]
    );
}

#[test]
fn an_expression_that_does_not_compile_stops_any_function() {
    for binary_name in ["firehose-normalize", "firehose-pipeline"] {
        let (error_type, message) = start_up_error(
            binary_name,
            &[
                ("PIPELINE_STEPS", "normalize"),
                ("FIREHOSE_PARTITION_KEYS", "{year: .ts | strftime(}"),
            ][usize::from(binary_name == "firehose-normalize")..],
        );
        assert_eq!(error_type, "InvalidSetting");
        assert!(
            message.starts_with("FIREHOSE_PARTITION_KEYS=") && message.contains("expected"),
            "{binary_name}: {message}"
        );
    }
}
