//! Judges an answer against the request it answers, as Firehose would: what
//! Firehose rejects, with its error code and whether it retries, and what it
//! accepts but a careful function should not do.
//!
//! The rules follow the Firehose contract (`firehose-contract.md` §1.3–1.6):
//! records are matched by id, not position; `data` may be left out of
//! `Dropped` and `ProcessingFailed` records, as AWS's CloudWatch Logs
//! blueprint does; a wrong result word, a missing id or undecodable base64
//! fails the batch.

use std::collections::HashMap;

use serde_json::Value;

use crate::answer::{Answer, AnsweredData, RESULTS, Unreadable};

/// The most a synchronous Lambda response may hold (6 MiB); Lambda refuses more.
pub const MAX_RESPONSE_BYTES: usize = 6_291_456;

/// Something Firehose rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The error code Firehose writes to the error output and its log (`Lambda.MissingRecordId`).
    pub code: &'static str,
    /// The whole batch fails (else only the records named).
    pub whole_batch: bool,
    /// Firehose invokes the function again (`NumberOfRetries` times) before giving up.
    pub retried: bool,
    pub message: String,
}

/// What Firehose would make of an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// What Firehose rejects; empty when it takes the answer.
    pub rejections: Vec<Rejection>,
    /// What Firehose accepts but breaks this project's promises (order, canonical base64).
    pub advice: Vec<String>,
}

impl Report {
    /// Firehose takes the answer as it is.
    pub fn accepted(&self) -> bool {
        self.rejections.is_empty()
    }

    /// Every rejection and piece of advice, one line each.
    pub fn lines(&self) -> Vec<String> {
        let rejections = self.rejections.iter().map(|r| {
            let scope = if r.whole_batch {
                "the batch"
            } else {
                "the record"
            };
            let retried = if r.retried { ", retried" } else { "" };
            format!("{}: {} ({scope} fails{retried})", r.code, r.message)
        });
        rejections
            .chain(self.advice.iter().map(|a| format!("advice: {a}")))
            .collect()
    }
}

/// Everything wrong with `response` as an answer to `request`: rejections and
/// advice alike, one line each; empty when the answer keeps every promise.
pub fn violations(request: &[u8], response: &[u8]) -> Vec<String> {
    judge(request, response).lines()
}

/// Judges `response` as Firehose would, as the answer to `request`.
pub fn judge(request: &[u8], response: &[u8]) -> Report {
    let asked = asked_ids(request);
    let ids: Vec<&str> = asked.iter().flatten().map(String::as_str).collect();
    let asked = match &asked {
        Ok(_) => Ok(ids.as_slice()),
        Err(why) => Err(why.as_str()),
    };
    judge_answer(asked, response.len(), Answer::parse(response).as_ref())
}

/// Why Lambda refuses an answer of `response_bytes` (413), if it does.
pub fn oversized(response_bytes: usize) -> Option<String> {
    (response_bytes > MAX_RESPONSE_BYTES).then(|| {
        format!(
            "the answer is {response_bytes} bytes, over Lambda's {MAX_RESPONSE_BYTES}: Lambda refuses it (413)"
        )
    })
}

/// Judges an answer already read (`response_bytes` long) to a request whose
/// record ids are `asked` (or that is not a Firehose event, and why).
pub fn judge_answer(
    asked: Result<&[&str], &str>,
    response_bytes: usize,
    answer: Result<&Answer, &Unreadable>,
) -> Report {
    let mut report = Report::default();
    let mut reject = |code, whole_batch, retried, message: String| {
        report.rejections.push(Rejection {
            code,
            whole_batch,
            retried,
            message,
        })
    };
    if let Some(why) = oversized(response_bytes) {
        reject("Lambda.FunctionError", true, true, why);
    }
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            reject("Lambda.JsonProcessingException", true, false, e.to_string());
            return report;
        }
    };
    let asked = match asked {
        Ok(asked) => asked,
        Err(why) => {
            report.advice.push(format!(
                "the request is not a Firehose event ({why}), so the answer cannot be matched to it"
            ));
            return report;
        }
    };
    judge_records(answer, &mut reject, &mut report.advice);
    judge_ids(asked, answer, &mut reject, &mut report.advice);
    report
}

type Reject<'a> = dyn FnMut(&'static str, bool, bool, String) + 'a;

/// Each record on its own: id, result word, data.
fn judge_records(answer: &Answer, reject: &mut Reject<'_>, advice: &mut Vec<String>) {
    for (i, record) in answer.records.iter().enumerate() {
        if record.record_id.is_none() {
            reject(
                "Lambda.FunctionError",
                true,
                false,
                format!("records[{i}] has no recordId string"),
            );
        }
        let result = record.result.as_deref();
        if !result.is_some_and(|r| RESULTS.contains(&r)) {
            reject(
                "Lambda.FunctionError",
                true,
                false,
                format!(
                    "records[{i}] has result {}, not one of Ok, Dropped, ProcessingFailed (case matters)",
                    result.map_or("missing".to_owned(), |r| format!("{r:?}"))
                ),
            );
        }
        if record.data_not_text {
            reject(
                "Lambda.JsonProcessingException",
                true,
                false,
                format!("records[{i}].data is not a string"),
            );
        }
        match &record.data {
            // A `data` that is not a string is rejected above, once.
            None if result == Some("Ok") && !record.data_not_text => reject(
                "Lambda.JsonProcessingException",
                true,
                false,
                format!("records[{i}] is Ok but has no data"),
            ),
            None => {}
            Some(AnsweredData::Canonical(_)) => {}
            Some(AnsweredData::NotBase64(_)) => reject(
                "Lambda.FunctionError",
                true,
                false,
                format!("records[{i}].data is not base64"),
            ),
            Some(AnsweredData::Lenient(_)) => advice.push(format!(
                "records[{i}].data is base64 but not canonical (padding or stray bits); strict decoders refuse it"
            )),
        }
        for (key, value) in record.partition_keys.iter().flatten() {
            if !value.is_string() {
                advice.push(format!(
                    "records[{i}] partition key {key:?} is not a string; Firehose's model is strings"
                ));
            }
        }
        if record.partition_keys.as_ref().is_some_and(|k| k.is_empty()) {
            advice.push(format!("records[{i}] has metadata with no partition keys"));
        }
    }
}

/// The ids: each asked one answered as often as asked, none other, in order.
fn judge_ids(asked: &[&str], answer: &Answer, reject: &mut Reject<'_>, advice: &mut Vec<String>) {
    // The common case, settled without counting: each id answered once, in order.
    let in_order = asked.len() == answer.records.len()
        && asked
            .iter()
            .zip(&answer.records)
            .all(|(a, r)| r.record_id.as_deref() == Some(*a));
    if in_order {
        return;
    }
    let mut left: HashMap<&str, usize> = HashMap::new();
    for id in asked {
        *left.entry(id).or_default() += 1;
    }
    for (i, record) in answer.records.iter().enumerate() {
        let Some(id) = record.record_id.as_deref() else {
            continue;
        };
        match left.get_mut(id) {
            Some(0) => reject(
                "Lambda.DuplicatedRecordId",
                true,
                false,
                format!("records[{i}]: id {id:?} answered more often than asked"),
            ),
            Some(n) => *n -= 1,
            None => advice.push(format!("records[{i}]: id {id:?} was never asked for")),
        }
    }
    let missing: Vec<&str> = asked
        .iter()
        .copied()
        .filter(|id| left.get(id).is_some_and(|&n| n > 0))
        .collect();
    if !missing.is_empty() {
        reject(
            "Lambda.MissingRecordId",
            false,
            false,
            format!(
                "{} of {} records not answered, first {:?}",
                missing.len(),
                asked.len(),
                missing[0]
            ),
        );
    }
    if missing.is_empty() {
        advice.push(
            "records are answered out of order (Firehose matches them by id; order keeps them readable)"
                .to_owned(),
        );
    }
}

/// The record ids of a request, in order, or why it is not a Firehose event.
pub fn asked_ids(request: &[u8]) -> Result<Vec<String>, String> {
    let event: Value = serde_json::from_slice(request).map_err(|e| e.to_string())?;
    let records = event
        .get("records")
        .and_then(Value::as_array)
        .ok_or("no `records` array")?;
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.get("recordId")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("records[{i}] has no recordId"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[u8] =
        br#"{"records":[{"recordId":"a","data":"QQ=="},{"recordId":"b","data":""}]}"#;

    fn codes(response: &[u8]) -> Vec<&'static str> {
        judge(REQUEST, response)
            .rejections
            .iter()
            .map(|r| r.code)
            .collect()
    }

    #[test]
    fn a_faithful_answer_is_accepted_without_advice() {
        let response = br#"{"records":[{"recordId":"a","result":"Ok","data":"QQ=="},{"recordId":"b","result":"Dropped","data":""}]}"#;
        assert_eq!(judge(REQUEST, response), Report::default());
    }

    #[test]
    fn blueprint_answers_without_data_are_accepted() {
        let response = br#"{"records":[{"recordId":"a","result":"Dropped"},{"recordId":"b","result":"ProcessingFailed"}]}"#;
        assert_eq!(judge(REQUEST, response), Report::default());
    }

    #[test]
    fn each_rejection_has_firehose_s_code() {
        let cases: [(&[u8], &str); 8] = [
            (br#"{"records":[{"recordId":"a","result":"Ok","data":"QQ=="}]}"#, "Lambda.MissingRecordId"),
            (br#"{"records":[{"recordId":"a","result":"Ok","data":""},{"recordId":"c","result":"Ok","data":""}]}"#, "Lambda.MissingRecordId"),
            (br#"{"records":[{"recordId":"a","result":"Ok","data":""},{"recordId":"a","result":"Ok","data":""},{"recordId":"b","result":"Ok","data":""}]}"#, "Lambda.DuplicatedRecordId"),
            (br#"{"records":[{"recordId":"a","result":"OK","data":""},{"recordId":"b","result":"Ok","data":""}]}"#, "Lambda.FunctionError"),
            (br#"{"records":[{"result":"Ok","data":""},{"recordId":"b","result":"Ok","data":""}]}"#, "Lambda.FunctionError"),
            (br#"{"records":[{"recordId":"a","result":"Ok","data":"Q!=="},{"recordId":"b","result":"Ok","data":""}]}"#, "Lambda.FunctionError"),
            (br#"{"records":[{"recordId":"a","result":"Ok"},{"recordId":"b","result":"Ok","data":""}]}"#, "Lambda.JsonProcessingException"),
            (br#"{"recordz":[]}"#, "Lambda.JsonProcessingException"),
        ];
        for (response, code) in cases {
            assert!(
                codes(response).contains(&code),
                "{code}: {:?}",
                judge(REQUEST, response)
            );
        }
    }

    #[test]
    fn data_that_is_not_text_is_rejected_once() {
        let response = br#"{"records":[{"recordId":"a","result":"Ok","data":7},{"recordId":"b","result":"Ok","data":""}]}"#;
        assert_eq!(codes(response), ["Lambda.JsonProcessingException"]);
    }

    #[test]
    fn oversized_answers_are_retried_function_errors() {
        let big = format!(
            r#"{{"records":[{{"recordId":"a","result":"Ok","data":"{}"}},{{"recordId":"b","result":"Dropped"}}]}}"#,
            "A".repeat(MAX_RESPONSE_BYTES)
        );
        let report = judge(REQUEST, big.as_bytes());
        assert_eq!(report.rejections.len(), 1);
        assert!(report.rejections[0].retried && report.rejections[0].whole_batch);
    }

    #[test]
    fn what_firehose_takes_but_we_would_not_write_is_advice() {
        let cases: [(&[u8], &str); 3] = [
            (br#"{"records":[{"recordId":"b","result":"Ok","data":""},{"recordId":"a","result":"Ok","data":""}]}"#, "out of order"),
            (br#"{"records":[{"recordId":"a","result":"Ok","data":"QQ"},{"recordId":"b","result":"Ok","data":""}]}"#, "not canonical"),
            (br#"{"records":[{"recordId":"a","result":"Ok","data":"","metadata":{"partitionKeys":{}}},{"recordId":"b","result":"Ok","data":""}]}"#, "no partition keys"),
        ];
        for (response, needle) in cases {
            let report = judge(REQUEST, response);
            assert!(report.accepted(), "{needle}: {report:?}");
            assert!(
                report.advice.iter().any(|a| a.contains(needle)),
                "{needle}: {report:?}"
            );
        }
    }

    #[test]
    fn duplicate_ids_in_the_request_may_be_answered_each() {
        let request = br#"{"records":[{"recordId":"a","data":""},{"recordId":"a","data":""}]}"#;
        let response = br#"{"records":[{"recordId":"a","result":"Ok","data":""},{"recordId":"a","result":"Dropped"}]}"#;
        assert_eq!(judge(request, response), Report::default());
    }
}
