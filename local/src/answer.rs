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
use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

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

impl Answer {
    /// Reads `bytes` as a transformation response, in one pass over them.
    pub fn parse(bytes: &[u8]) -> Result<Answer, Unreadable> {
        let not_json = |e: &dyn fmt::Display| Unreadable(format!("the answer is not JSON: {e}"));
        // Checked whole first: the reader does not look inside the strings it skips.
        let text = std::str::from_utf8(bytes).map_err(|e| not_json(&e))?;
        let mut reader = serde_json::Deserializer::from_str(text);
        // A wrong shape is told only once the whole answer has read as JSON:
        // broken JSON anywhere is what Firehose reports first.
        (&mut reader)
            .deserialize_any(AnswerShape)
            .and_then(|shape| reader.end().map(|()| shape))
            .map_err(|e| not_json(&e))?
    }
}

fn no_records() -> Unreadable {
    Unreadable("the answer has no `records`".to_owned())
}

/// The visit methods of the kinds of JSON value a visitor does not want:
/// each value read through (an array's items, an object's entries) and
/// answered with the visitor's `other`. `scalars` are a bool and the
/// numbers serde_json hands over without `arbitrary_precision` (with it, a
/// number comes to `visit_map`).
macro_rules! others_are_other {
    ($($kind:ident),*) => { $(others_are_other!(@ $kind);)* };
    (@ map) => {
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            skip_map(map).map(|()| self.other())
        }
    };
    (@ seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            skip_seq(seq).map(|()| self.other())
        }
    };
    (@ unit) => {
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(self.other())
        }
    };
    (@ str) => {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(self.other())
        }
    };
    (@ scalars) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(self.other())
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(self.other())
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(self.other())
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(self.other())
        }
    };
}

/// Reads the answer's object, keeping only `records`; what it holds is the
/// answer, or the first thing in it that is not a transformation response.
struct AnswerShape;

impl AnswerShape {
    fn other(&self) -> Result<Answer, Unreadable> {
        Err(no_records())
    }
}

impl<'de> Visitor<'de> for AnswerShape {
    type Value = Result<Answer, Unreadable>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a transformation response")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut records = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                // Given twice, it is not one answer's records.
                Key::Records if records.is_some() => {
                    map.next_value::<IgnoredAny>()?;
                    records = Some(Err(no_records()));
                }
                Key::Records => records = Some(map.next_value_seed(Records)?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(records
            .unwrap_or_else(|| Err(no_records()))
            .map(|records| Answer { records }))
    }

    others_are_other!(seq, unit, str, scalars);
}

/// Reads `records`: every record, or the first that is not one.
struct Records;

impl Records {
    fn other(&self) -> Result<Vec<AnsweredRecord>, Unreadable> {
        Err(Unreadable("`records` is not an array".to_owned()))
    }
}

impl<'de> DeserializeSeed<'de> for Records {
    type Value = Result<Vec<AnsweredRecord>, Unreadable>;

    fn deserialize<D: Deserializer<'de>>(self, reader: D) -> Result<Self::Value, D::Error> {
        reader.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Records {
    type Value = Result<Vec<AnsweredRecord>, Unreadable>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut records = Vec::new();
        let mut first_unreadable = None;
        let mut index = 0;
        while let Some(record) = seq.next_element_seed(RecordShape(index))? {
            index += 1;
            match record {
                Ok(record) => records.push(record),
                // Read on all the same: broken JSON further on is told first.
                Err(unreadable) => {
                    first_unreadable.get_or_insert(unreadable);
                }
            }
        }
        Ok(first_unreadable.map_or(Ok(records), Err))
    }

    /// `"records": null` is no records.
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(no_records()))
    }

    others_are_other!(map, str, scalars);
}

/// Reads the record at this index of `records`.
struct RecordShape(usize);

impl RecordShape {
    fn other(&self) -> Result<AnsweredRecord, Unreadable> {
        Err(Unreadable(format!("records[{}] is not an object", self.0)))
    }
}

impl<'de> DeserializeSeed<'de> for RecordShape {
    type Value = Result<AnsweredRecord, Unreadable>;

    fn deserialize<D: Deserializer<'de>>(self, reader: D) -> Result<Self::Value, D::Error> {
        reader.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordShape {
    type Value = Result<AnsweredRecord, Unreadable>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // A key given twice counts once, the last, as in a JSON tree.
        let (mut record_id, mut result, mut data) = (Field::Null, Field::Null, Field::Null);
        let mut metadata = Value::Null;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::RecordId => record_id = map.next_value()?,
                Key::Result => result = map.next_value()?,
                Key::Data => data = map.next_value()?,
                Key::Metadata => metadata = map.next_value()?,
                Key::Number => {
                    map.next_value::<IgnoredAny>()?;
                    return skip_map(map).map(|()| self.other());
                }
                Key::Records | Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let partition_keys = match metadata.get_mut("partitionKeys").map(Value::take) {
            None | Some(Value::Null) => None,
            Some(Value::Object(keys)) => Some(keys.into_iter().collect()),
            Some(_) => {
                return Ok(Err(Unreadable(format!(
                    "records[{}].metadata.partitionKeys is not an object",
                    self.0
                ))));
            }
        };
        Ok(Ok(AnsweredRecord {
            record_id: record_id.text().map(Cow::into_owned),
            result: result.text().map(Cow::into_owned),
            data_not_text: matches!(data, Field::NotText),
            data: data.text().map(decoded),
            partition_keys,
        }))
    }

    others_are_other!(seq, unit, str, scalars);
}

/// The keys the reader looks at.
enum Key {
    Records,
    RecordId,
    Result,
    Data,
    Metadata,
    /// serde_json's `arbitrary_precision` (on in this workspace) hands a
    /// number to `visit_map`, as a map of this one key.
    Number,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(reader: D) -> Result<Self, D::Error> {
        struct KeyName;
        impl Visitor<'_> for KeyName {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "records" => Key::Records,
                    "recordId" => Key::RecordId,
                    "result" => Key::Result,
                    "data" => Key::Data,
                    "metadata" => Key::Metadata,
                    "$serde_json::private::Number" => Key::Number,
                    _ => Key::Other,
                })
            }
        }
        reader.deserialize_str(KeyName)
    }
}

/// A field the reader wants as a string. `null` is a field left out:
/// aws-lambda-go writes `"data": null` for a nil `Data`.
enum Field<'de> {
    Null,
    Text(Cow<'de, str>),
    /// A number, `true`, an array, an object.
    NotText,
}

impl<'de> Field<'de> {
    fn text(self) -> Option<Cow<'de, str>> {
        match self {
            Field::Text(text) => Some(text),
            Field::Null | Field::NotText => None,
        }
    }
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(reader: D) -> Result<Self, D::Error> {
        struct FieldValue;
        impl FieldValue {
            fn other(&self) -> Field<'static> {
                Field::NotText
            }
        }
        impl<'de> Visitor<'de> for FieldValue {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Field<'de>, E> {
                Ok(Field::Text(Cow::Borrowed(text)))
            }
            /// A string with escapes, unescaped.
            fn visit_str<E>(self, text: &str) -> Result<Field<'de>, E> {
                Ok(Field::Text(Cow::Owned(text.to_owned())))
            }
            fn visit_unit<E>(self) -> Result<Field<'de>, E> {
                Ok(Field::Null)
            }
            others_are_other!(map, seq, scalars);
        }
        reader.deserialize_any(FieldValue)
    }
}

fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A `data` string decoded: strictly, else leniently, else kept as text.
fn decoded(text: Cow<'_, str>) -> AnsweredData {
    match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
        Ok(bytes) => AnsweredData::Canonical(bytes),
        Err(_) => match decode_lenient(&text) {
            Ok(bytes) => AnsweredData::Lenient(bytes),
            Err(_) => AnsweredData::NotBase64(text.into_owned()),
        },
    }
}

impl AnsweredRecord {
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
    fn a_key_given_twice_counts_once_the_last() {
        let answer = Answer::parse(
            br#"{"records":[{"recordId":"a","recordId":"b","data":"QQ==","data":null,"result":1,"result":"Ok"}]}"#,
        )
        .unwrap();
        let record = &answer.records[0];
        assert_eq!(record.record_id.as_deref(), Some("b"));
        assert_eq!(record.result.as_deref(), Some("Ok"));
        assert_eq!(record.data, None);
        assert!(!record.data_not_text);
    }

    #[test]
    fn fields_of_other_types_are_not_text() {
        let answer = Answer::parse(
            br#"{"records":[{"recordId":7,"result":true,"data":{"a":[1]}},{"recordId":"r\u00e9","data":[]}]}"#,
        )
        .unwrap();
        assert_eq!(answer.records[0].record_id, None);
        assert_eq!(answer.records[0].result, None);
        assert!(answer.records[0].data_not_text);
        assert_eq!(answer.records[1].record_id.as_deref(), Some("ré"));
        assert!(answer.records[1].data_not_text);
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
            (b"{\"records\":[{},\"a\"]}", "records[1] is not an object"),
            (b"{\"records\":[{},[{}]]}", "records[1] is not an object"),
            (b"{\"records\":null}", "no `records`"),
            (b"{\"records\":[],\"records\":[]}", "no `records`"),
            (b"[{\"records\":[]}]", "no `records`"),
            (b"{\"records\":7}", "not an array"),
            (
                b"{\"records\":[{\"metadata\":{\"partitionKeys\":[]}}]}",
                "records[0].metadata.partitionKeys is not an object",
            ),
            // Broken JSON is told before a wrong shape met earlier.
            (b"{\"records\":[1,{]}", "not JSON"),
            (b"{\"records\":[]} x", "not JSON"),
            // Even inside a string no field of ours is read from.
            (b"{\"x\":\"\xff\",\"records\":[]}", "not JSON"),
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
