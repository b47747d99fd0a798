//! `firehose-enrich`, the real release binary, through the local Runtime API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use firehose_e2e::{
    ADVERSARIAL_FIXTURES, PUBLIC_FIXTURES, answers, binary, generated_records, golden_cases,
    kinesis_event, respond, start, start_up_error,
};
use firehose_transform::Outcome;
use serde_json::{Map, Value, json};

const BINARY: &str = "firehose-enrich";

const ALL_METADATA: &[(&str, &str)] = &[
    (
        "ENRICH_FIELDS",
        r#"{"pipeline":"class-stream","level":"UNSET"}"#,
    ),
    ("ENRICH_ARRIVAL_TIME_FIELD", "arrived_at"),
    ("ENRICH_ARRIVAL_EPOCH_MS_FIELD", "arrived_ms"),
    ("ENRICH_DELIVERY_STREAM_FIELD", "delivery_stream"),
    ("ENRICH_REGION_FIELD", "region"),
    ("ENRICH_SOURCE_STREAM_FIELD", "source_stream"),
    ("ENRICH_SHARD_ID_FIELD", "shard_id"),
    ("ENRICH_PARTITION_KEY_FIELD", "kinesis_key"),
    ("ENRICH_SEQUENCE_NUMBER_FIELD", "sequence"),
    ("ENRICH_INVOCATION_ID_FIELD", "invocation"),
];

#[test]
fn every_fixture_is_answered_one_for_one() {
    golden_cases(BINARY, PUBLIC_FIXTURES, ALL_METADATA, "enrich");
    golden_cases(BINARY, ADVERSARIAL_FIXTURES, ALL_METADATA, "enrich");
}

#[test]
fn generated_records_gain_every_field_they_lack_and_keep_their_own() {
    let records = generated_records(11, 300);
    let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
    for overwrite in ["false", "true"] {
        let mut env = ALL_METADATA.to_vec();
        env.push(("ENRICH_OVERWRITE", overwrite));
        let mut function = start(&binary(BINARY), &env);
        let answers = answers(&respond(&mut function, &kinesis_event(&slices)));
        for (i, (record, answer)) in records.iter().zip(&answers).enumerate() {
            let Ok(Value::Object(input)) = serde_json::from_str::<Value>(record) else {
                assert_eq!(answer.result, Outcome::ProcessingFailed, "{record}");
                assert_eq!(answer.data, record.as_bytes());
                continue;
            };
            let added = json!({
                "pipeline": "class-stream",
                "level": "UNSET",
                "arrived_at": format!("2024-05-01T12:30:00.{:03}Z", 123 + i),
                "arrived_ms": 1_714_566_600_123_i64 + i as i64,
                "delivery_stream": "class-stream",
                "region": "eu-west-1",
                "source_stream": "class-stream",
                "shard_id": "shardId-000000000001",
                "kinesis_key": format!("customer-{}", i % 3),
                "sequence": format!("4954511524349098501828006771497314458218006259324420{i:04}"),
                "invocation": "4c1f4f8e-0000-4000-8000-000000000001",
            });
            let mut want: Map<String, Value> = input.clone();
            for (k, v) in added.as_object().unwrap() {
                if overwrite == "true" || !input.contains_key(k) {
                    want.insert(k.clone(), v.clone());
                }
            }
            let got: Value = serde_json::from_slice(&answer.data).unwrap();
            assert_eq!(answer.result, Outcome::Ok);
            assert_eq!(got, Value::Object(want), "overwrite={overwrite}: {record}");
            assert!(answer.data.ends_with(b"}\n"));
        }
    }
}

#[test]
fn nothing_to_add_stops_it_at_start_up_saying_what_to_set() {
    let (error_type, message) = start_up_error(BINARY, &[]);
    assert_eq!(error_type, "MissingSetting");
    assert!(
        message.contains("ENRICH_FIELDS") && message.contains("ENRICH_ARRIVAL_TIME_FIELD"),
        "{message}"
    );
    let (_, message) = start_up_error(BINARY, &[("ENRICH_FIELDS", r#"["env","prod"]"#)]);
    assert!(
        message.starts_with("ENRICH_FIELDS=") && message.contains("found an array"),
        "{message}"
    );
    let (_, message) = start_up_error(
        BINARY,
        &[
            ("ENRICH_REGION_FIELD", "where"),
            ("ENRICH_SHARD_ID_FIELD", "where"),
        ],
    );
    assert!(message.contains("ENRICH_SHARD_ID_FIELD"), "{message}");
}
