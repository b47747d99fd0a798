//! Checks a response against the request it answers, as Firehose would, and
//! names every breach of the contract with what Firehose would do about it.

use std::collections::HashSet;

use crate::codec;
use crate::contract::{Event, Response};
use crate::pipeline::MAX_RESPONSE_BYTES;

/// Every way `response` breaks the contract for `request`; empty when it keeps it.
pub fn violations(request: &[u8], response: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    if response.len() > MAX_RESPONSE_BYTES {
        found.push(format!(
            "response is {} bytes, over Lambda's {MAX_RESPONSE_BYTES}: Lambda refuses it (413) and Firehose \
             retries the whole batch, then fails it (Lambda.FunctionError)",
            response.len()
        ));
    }
    let answer = match Response::from_slice(response) {
        Ok(answer) => answer,
        Err(e) => {
            found.push(format!("response is not a valid transformation response ({e}): Lambda.JsonProcessingException"));
            return found;
        }
    };
    let event: Event<'_> = match serde_json::from_slice(request) {
        Ok(event) => event,
        Err(e) => {
            found.push(format!(
                "the request is not a Firehose event ({e}), so the response cannot be matched to it"
            ));
            return found;
        }
    };
    if answer.records.len() != event.records.len() {
        found.push(format!(
            "{} records in, {} out: every record must be answered exactly once (Lambda.MissingRecordId)",
            event.records.len(),
            answer.records.len()
        ));
    }
    for (i, (asked, answered)) in event.records.iter().zip(&answer.records).enumerate() {
        if asked.record_id != answered.record_id {
            found.push(format!(
                "record {i}: answered as {:?}, asked as {:?}: out of order or renamed",
                answered.record_id, asked.record_id
            ));
        }
    }
    let asked: HashSet<&str> = event.records.iter().map(|r| r.record_id.as_ref()).collect();
    let asked_unique = asked.len() == event.records.len();
    let mut seen = HashSet::new();
    for (i, record) in answer.records.iter().enumerate() {
        if !asked.contains(record.record_id.as_str()) {
            found.push(format!(
                "record {i}: id {:?} was never asked for",
                record.record_id
            ));
        }
        if asked_unique && !seen.insert(record.record_id.as_str()) {
            found.push(format!(
                "record {i}: id {:?} answered twice (Lambda.DuplicatedRecordId)",
                record.record_id
            ));
        }
        if !codec::decode(&record.data).is_ok_and(|d| d.canonical) {
            found.push(format!(
                "record {i}: data is not canonical standard base64: Firehose fails the batch"
            ));
        }
        if record
            .metadata
            .as_ref()
            .is_some_and(|m| m.partition_keys.is_empty())
        {
            found.push(format!("record {i}: metadata with no partition keys"));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[u8] =
        br#"{"records":[{"recordId":"a","data":"QQ=="},{"recordId":"b","data":""}]}"#;

    #[test]
    fn a_faithful_response_has_no_violations() {
        let response = br#"{"records":[{"recordId":"a","result":"Ok","data":"QQ=="},{"recordId":"b","result":"Dropped","data":""}]}"#;
        assert_eq!(violations(REQUEST, response), Vec::<String>::new());
    }

    #[test]
    fn each_breach_is_named() {
        let cases: [(&[u8], &str); 6] = [
            (br#"{"records":[{"recordId":"a","result":"Ok","data":"QQ=="}]}"#, "MissingRecordId"),
            (br#"{"records":[{"recordId":"b","result":"Ok","data":""},{"recordId":"a","result":"Ok","data":""}]}"#, "out of order"),
            (br#"{"records":[{"recordId":"a","result":"Ok","data":"QQ="},{"recordId":"b","result":"Ok","data":""}]}"#, "canonical"),
            (br#"{"records":[{"recordId":"a","result":"OK","data":""},{"recordId":"b","result":"Ok","data":""}]}"#, "JsonProcessingException"),
            (br#"{"records":[{"recordId":"a","result":"Ok","data":""},{"recordId":"a","result":"Ok","data":""}]}"#, "answered twice"),
            (br#"{"records":[{"recordId":"a","result":"Ok","data":"","metadata":{"partitionKeys":{}}},{"recordId":"b","result":"Ok","data":""}]}"#, "no partition keys"),
        ];
        for (response, needle) in cases {
            let found = violations(REQUEST, response);
            assert!(
                found.iter().any(|v| v.contains(needle)),
                "{needle}: {found:?}"
            );
        }
    }
}
