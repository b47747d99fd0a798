//! A function's answer as Firehose reads it: leniently, with nothing of the
//! `firehose-transform` crate, so that this reader can judge any function,
//! ours included, without sharing its bugs.
//!
//! Firehose accepts what AWS's own blueprints write, such as `Dropped` and
//! `ProcessingFailed` records with no `data`; so does this reader. What it
//! cannot read at all (not JSON, no `records` array) is an [`Unreadable`]
//! answer, which Firehose reports as `Lambda.JsonProcessingException`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// A response read the way Firehose reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub records: Vec<AnsweredRecord>,
}

/// One record of an answer, each field as the function wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnsweredRecord {
    /// `recordId`, when it is a string.
    pub record_id: Option<String>,
    /// `result`, when it is a string; Firehose takes only `Ok`, `Dropped`, `ProcessingFailed`.
    pub result: Option<String>,
    /// `data`, when present and a string, decoded.
    pub data: Option<AnsweredData>,
    /// `data` was present but not a string.
    pub data_not_text: bool,
    /// `metadata.partitionKeys`, when present.
    pub partition_keys: Option<BTreeMap<String, Value>>,
}

/// An answered record's `data` string, decoded as it is read (once: the judge
/// and the stream both need it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnsweredData {
    /// Strict (canonical) base64, as our writer and AWS's SDKs write it.
    Canonical(Vec<u8>),
    /// Base64 only a lenient decoder takes (padding, stray bits): Firehose takes it.
    Lenient(Vec<u8>),
    /// Not base64 at all: the text.
    NotBase64(String),
}

/// The answer is not a transformation response at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(String);

/// The three result words Firehose accepts, case-sensitively.
pub const RESULTS: [&str; 3] = ["Ok", "Dropped", "ProcessingFailed"];

/// The shape of an answer, each field kept raw until it is looked at: no JSON
/// tree for hundreds of thousands of records.
#[derive(Deserialize)]
struct RawAnswer<'a> {
    #[serde(borrow)]
    records: Option<&'a RawValue>,
}

impl Answer {
    /// Reads `bytes` as a transformation response.
    pub fn parse(bytes: &[u8]) -> Result<Answer, Unreadable> {
        let not_json = |e: serde_json::Error| Unreadable(format!("the answer is not JSON: {e}"));
        // Any JSON at all, first, so that a wrong shape is told apart from broken JSON.
        let any: &RawValue = serde_json::from_slice(bytes).map_err(not_json)?;
        let raw: RawAnswer<'_> = serde_json::from_str(any.get())
            .map_err(|_| Unreadable("the answer has no `records`".to_owned()))?;
        let records = raw
            .records
            .ok_or_else(|| Unreadable("the answer has no `records`".to_owned()))?;
        let records: Vec<&RawValue> = serde_json::from_str(records.get())
            .map_err(|_| Unreadable("`records` is not an array".to_owned()))?;
        let records = records
            .iter()
            .enumerate()
            .map(|(i, record)| AnsweredRecord::read(i, record))
            .collect::<Result<_, _>>()?;
        Ok(Answer { records })
    }
}

/// A raw field as a string, when it is one.
/// A `data` string decoded: strictly, else leniently, else kept as text.
fn data(raw: &RawValue) -> Option<AnsweredData> {
    let quoted = raw.get().strip_prefix('"')?.strip_suffix('"')?;
    // Base64 needs no escapes: its text is decoded where it lies unless the writer escaped something (`\/`).
    let text: Cow<'_, str> = if quoted.contains('\\') {
        Cow::Owned(serde_json::from_str(raw.get()).ok()?)
    } else {
        Cow::Borrowed(quoted)
    };
    Some(
        match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
            Ok(bytes) => AnsweredData::Canonical(bytes),
            Err(_) => match decode_lenient(&text) {
                Ok(bytes) => AnsweredData::Lenient(bytes),
                Err(_) => AnsweredData::NotBase64(text.into_owned()),
            },
        },
    )
}

fn string(raw: Option<&RawValue>) -> Option<String> {
    let raw = raw?;
    if !raw.get().starts_with('"') {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

impl AnsweredRecord {
    fn read(i: usize, record: &RawValue) -> Result<AnsweredRecord, Unreadable> {
        let not_object = || Unreadable(format!("records[{i}] is not an object"));
        if !record.get().starts_with('{') {
            return Err(not_object());
        }
        // A map, not a struct: a key given twice counts once, the last, as in a JSON tree.
        let fields: BTreeMap<Cow<'_, str>, &RawValue> =
            serde_json::from_str(record.get()).map_err(|_| not_object())?;
        // `null` is a field left out: aws-lambda-go writes `"data": null` for a nil `Data`.
        let field = |name: &str| fields.get(name).copied().filter(|v| v.get() != "null");
        let partition_keys = match field("metadata").map(|m| serde_json::from_str::<Value>(m.get()))
        {
            None | Some(Ok(Value::Null)) => None,
            Some(Ok(metadata)) => match metadata.get("partitionKeys") {
                None | Some(Value::Null) => None,
                Some(Value::Object(keys)) => Some(keys.clone().into_iter().collect()),
                Some(_) => {
                    return Err(Unreadable(format!(
                        "records[{i}].metadata.partitionKeys is not an object"
                    )));
                }
            },
            Some(Err(_)) => return Err(not_object()),
        };
        Ok(AnsweredRecord {
            record_id: string(field("recordId")),
            result: string(field("result")),
            data: field("data").and_then(data),
            data_not_text: field("data").is_some_and(|d| !d.get().starts_with('"')),
            partition_keys,
        })
    }

    /// The decoded `data`, when it is there and base64.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.data {
            Some(AnsweredData::Canonical(bytes) | AnsweredData::Lenient(bytes)) => Some(bytes),
            _ => None,
        }
    }

    /// The decoded `data`, taken out (empty when there is none).
    pub fn into_bytes(self) -> Vec<u8> {
        match self.data {
            Some(AnsweredData::Canonical(bytes) | AnsweredData::Lenient(bytes)) => bytes,
            _ => Vec::new(),
        }
    }
}

/// Standard-alphabet base64 as a lenient decoder reads it: padding optional,
/// stray trailing bits ignored. What this refuses, no decoder takes.
pub fn decode_lenient(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    LENIENT.decode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_blueprints_answer() {
        let answer = Answer::parse(
            br#"{"records":[{"recordId":"a","result":"Dropped"},{"recordId":"b","result":"ProcessingFailed"},
                {"recordId":"c","result":"Ok","data":"QQ==","metadata":{"partitionKeys":{"k":"v"}}}]}"#,
        )
        .unwrap();
        assert_eq!(answer.records[0].data, None);
        assert_eq!(answer.records[2].bytes(), Some(&b"A"[..]));
        assert_eq!(answer.records[2].partition_keys.as_ref().unwrap()["k"], "v");
    }

    #[test]
    fn null_fields_are_fields_left_out() {
        let answer = Answer::parse(
            br#"{"records":[{"recordId":"a","result":"Dropped","data":null,"metadata":null}]}"#,
        )
        .unwrap();
        assert_eq!(answer.records[0].data, None);
        assert!(!answer.records[0].data_not_text);
    }

    #[test]
    fn unreadable_answers_say_why() {
        for (bytes, why) in [
            (&b"nope"[..], "not JSON"),
            (b"{}", "no `records`"),
            (b"{\"records\":{}}", "not an array"),
            (b"{\"records\":[1]}", "records[0] is not an object"),
        ] {
            let e = Answer::parse(bytes).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
    }

    #[test]
    fn data_is_decoded_strictly_else_leniently_else_kept_as_text() {
        let answer = Answer::parse(
            br#"{"records":[{"data":"QQ=="},{"data":"QQ"},{"data":"QR=="},{"data":"Q!=="},{"data":"P\/8="},{"data":7}]}"#,
        )
        .unwrap();
        let data: Vec<Option<AnsweredData>> =
            answer.records.iter().map(|r| r.data.clone()).collect();
        assert_eq!(
            data,
            [
                Some(AnsweredData::Canonical(b"A".to_vec())),
                Some(AnsweredData::Lenient(b"A".to_vec())),
                Some(AnsweredData::Lenient(b"A".to_vec())),
                Some(AnsweredData::NotBase64("Q!==".to_owned())),
                Some(AnsweredData::Canonical(vec![0x3f, 0xff])),
                None,
            ]
        );
        assert!(answer.records[5].data_not_text);
    }
}
