//! Property tests of the contract: whatever the records and whatever the steps
//! do with them, every record is answered exactly once, in order, with a valid
//! result and canonical base64, within the response limit.
// Test helpers too may panic: the panic message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64_simd::{STANDARD, STANDARD_NO_PAD};
use firehose_transform::pipeline::MAX_RESPONSE_BYTES;
use firehose_transform::{Outcome, Pipeline, Response, TransformError, Verdict, transform_fn};
use proptest::prelude::*;
use serde_json::json;

/// How an input record's `data` is written.
#[derive(Debug, Clone)]
enum Data {
    Canonical(Vec<u8>),
    ExcessPadding(Vec<u8>),
    Garbage(String),
}

fn data() -> impl Strategy<Value = Data> {
    prop_oneof![
        6 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Data::Canonical),
        2 => "\\{\"[A-Za-z.]{1,6}\":\\{\"[a-z]{1,4}\":[0-9]{1,25}\\}\\}".prop_map(|s| Data::Canonical(s.into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 1..50).prop_map(Data::ExcessPadding),
        1 => ".{0,40}".prop_map(Data::Garbage),
    ]
}

impl Data {
    fn text(&self) -> String {
        match self {
            Data::Canonical(bytes) => STANDARD.encode_to_string(bytes),
            Data::ExcessPadding(bytes) => STANDARD.encode_to_string(bytes) + "=",
            Data::Garbage(text) => text.clone(),
        }
    }

    /// The bytes a reader forgiving missing or excess trailing padding gets, if any.
    fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            Data::Canonical(bytes) | Data::ExcessPadding(bytes) => Some(bytes.clone()),
            Data::Garbage(text) => STANDARD_NO_PAD
                .decode_to_vec(text.trim_end_matches('='))
                .ok(),
        }
    }
}

/// A step whose behaviour depends on the record's first byte.
fn chaotic() -> Pipeline {
    Pipeline::new()
        .then(transform_fn("chaos", |record| {
            match record.original().first().map(|b| b % 7) {
                Some(0) => Ok(Verdict::Drop),
                Some(1) => Err(TransformError::new("refused")),
                Some(2) => panic!("step panicked"),
                Some(3) => {
                    let reversed: Vec<u8> = record.original().iter().rev().copied().collect();
                    record.set_bytes(reversed);
                    Ok(Verdict::Keep)
                }
                Some(4) => {
                    record.set_partition_key("k\"ey", "v\u{e9}");
                    Ok(Verdict::Keep)
                }
                _ => Ok(Verdict::Keep),
            }
        }))
        .then(transform_fn("json", |record| {
            if record.original().starts_with(b"{") {
                record.json_object()?.insert("seen".to_owned(), json!(true));
            }
            Ok(Verdict::Keep)
        }))
}

fn is_canonical(text: &str) -> bool {
    STANDARD
        .decode_to_vec(text)
        .is_ok_and(|bytes| STANDARD.encode_to_string(bytes) == text)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_record_is_answered_once_in_order_with_valid_base64(
        records in prop::collection::vec(("[a-z0-9\"\\\\é]{0,12}", data()), 0..40),
        limit in prop_oneof![Just(6_000_000_usize), 2_000_usize..20_000],
    ) {
        let event = json!({
            "records": records.iter().map(|(id, data)| json!({"recordId": id, "data": data.text()})).collect::<Vec<_>>(),
        });
        let payload = serde_json::to_vec(&event).unwrap();
        let processed = chaotic().with_response_limit(limit).process(&payload).unwrap();
        let response = Response::from_slice(&processed.response).unwrap();

        prop_assert_eq!(response.records.len(), records.len());
        let minimal: usize = 14 + records.iter().map(|(id, _)| serde_json::to_string(id).unwrap().len() + 51).sum::<usize>()
            + records.len().saturating_sub(1);
        if minimal <= limit {
            prop_assert!(processed.response.len() <= limit, "{} > {}", processed.response.len(), limit);
        }
        prop_assert!(processed.response.len() <= MAX_RESPONSE_BYTES);
        let summary = &processed.summary;
        prop_assert_eq!(summary.ok + summary.dropped + summary.failed, records.len());
        for ((id, data), answer) in records.iter().zip(&response.records) {
            prop_assert_eq!(&answer.record_id, id);
            prop_assert!(is_canonical(&answer.data), "{:?}", answer.data);
            match answer.result {
                Outcome::Dropped => prop_assert_eq!(&answer.data, ""),
                Outcome::ProcessingFailed => {
                    let original = data.bytes().map(|b| STANDARD.encode_to_string(b));
                    prop_assert!(answer.data.is_empty() || Some(&answer.data) == original.as_ref());
                    prop_assert!(answer.metadata.is_none());
                }
                Outcome::Ok => prop_assert!(data.bytes().is_some()),
            }
        }
    }
}
