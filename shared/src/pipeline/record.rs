//! The record in flight: decoded once, parsed as JSON at most once, and
//! serialised once when the chain is done.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::contract::{Event, EventRecord, KinesisRecordMetadata};
use crate::csv_row::csv_row;
use crate::json_read;
use crate::json_str;
use crate::pipeline::error::TransformError;

/// One record as the steps of a pipeline see it.
///
/// The payload is bytes until a step asks for JSON; from then on it is a
/// parsed value that every later step shares, written out once at the end.
pub struct Record<'e> {
    event: &'e Event<'e>,
    source: &'e EventRecord<'e>,
    original: Vec<u8>,
    /// Replacement bytes set by a step; `None` means the original bytes.
    bytes: Option<Vec<u8>>,
    /// The parsed payload, shared by every step that reads it.
    json: Option<Value>,
    /// Whether a step may have changed `json` since it was parsed or written
    /// out; only then is it serialised, so read-only steps pass bytes through.
    json_changed: bool,
    /// `bytes` hold `json` written out (a later step read the changed JSON as
    /// bytes), so they still end in the JSON newline.
    bytes_are_json: bool,
    json_newline: bool,
    /// Columns to write the JSON payload as, one CSV row, instead of JSON.
    csv_columns: Option<Arc<[String]>>,
    partition_keys: BTreeMap<String, String>,
    /// The items a step split this record into, waiting for the steps after it.
    split: Option<Split<'e>>,
}

/// A record split into items: each runs through the remaining steps on its own.
pub(crate) struct Split<'e> {
    /// What one item is, for failure reasons: `log event`.
    pub(crate) item: &'static str,
    pub(crate) parts: Vec<Record<'e>>,
}

/// What a finished record carries out of the pipeline.
pub(crate) enum Output {
    /// Nothing changed: the original bytes go back as they came.
    Unchanged(Vec<u8>),
    Changed(Vec<u8>),
}

impl Output {
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            Output::Unchanged(bytes) | Output::Changed(bytes) => bytes,
        }
    }
}

static DETACHED_EVENT: Event<'static> = Event {
    invocation_id: None,
    delivery_stream_arn: None,
    source_kinesis_stream_arn: None,
    region: None,
    records: Vec::new(),
};

static DETACHED_RECORD: EventRecord<'static> = EventRecord {
    record_id: std::borrow::Cow::Borrowed("detached"),
    data: std::borrow::Cow::Borrowed(""),
    approximate_arrival_timestamp: None,
    kinesis_record_metadata: None,
};

impl<'e> Record<'e> {
    pub(crate) fn new(
        event: &'e Event<'e>,
        source: &'e EventRecord<'e>,
        original: Vec<u8>,
    ) -> Self {
        Record {
            event,
            source,
            original,
            bytes: None,
            json: None,
            json_changed: false,
            bytes_are_json: false,
            json_newline: true,
            csv_columns: None,
            partition_keys: BTreeMap::new(),
            split: None,
        }
    }

    /// A record outside any event (id `detached`, no metadata): for unit tests of a transform.
    pub fn detached(bytes: impl Into<Vec<u8>>) -> Record<'static> {
        Record::new(&DETACHED_EVENT, &DETACHED_RECORD, bytes.into())
    }

    /// The record id Firehose gave it.
    pub fn id(&self) -> &str {
        &self.source.record_id
    }

    /// The event this record came in, for its invocation id, stream and region.
    pub fn event(&self) -> &Event<'e> {
        self.event
    }

    /// When Firehose received the record, in epoch milliseconds.
    pub fn arrival_millis(&self) -> Option<i64> {
        self.source.approximate_arrival_timestamp
    }

    /// The Kinesis data stream metadata, when the delivery stream reads one.
    pub fn kinesis(&self) -> Option<&KinesisRecordMetadata> {
        self.source.kinesis_record_metadata.as_deref()
    }

    /// The bytes the record arrived with, whatever steps have done since.
    pub fn original(&self) -> &[u8] {
        &self.original
    }

    /// The current payload as bytes (a changed JSON payload is serialised first).
    pub fn bytes(&mut self) -> &[u8] {
        if let (true, Some(value)) = (self.json_changed, &self.json) {
            self.bytes = Some(to_json_bytes(value));
            self.json_changed = false;
            self.bytes_are_json = true;
        }
        self.bytes.as_deref().unwrap_or(&self.original)
    }

    /// The current payload as UTF-8 text.
    pub fn text(&mut self) -> Result<&str, TransformError> {
        std::str::from_utf8(self.bytes()).map_err(TransformError::NotUtf8)
    }

    /// The payload parsed as JSON, to change in place: parsed on first use,
    /// shared by later steps, written out once when the chain is done.
    /// A leading UTF-8 byte-order mark is ignored.
    pub fn json(&mut self) -> Result<&mut Value, TransformError> {
        // Flagged before parsing: when parsing fails there is no value, and the flag means nothing.
        self.json_changed = true;
        self.parsed()
    }

    /// The payload parsed as JSON, to read only: a record that no step changes
    /// goes out with the very bytes it came with (a filter keeps records as they were).
    pub fn json_value(&mut self) -> Result<&Value, TransformError> {
        Ok(self.parsed()?)
    }

    fn parsed(&mut self) -> Result<&mut Value, TransformError> {
        let value = match self.json.take() {
            Some(value) => value,
            None => parse_json(self.bytes.as_deref().unwrap_or(&self.original))?,
        };
        Ok(self.json.insert(value))
    }

    /// The payload as a JSON object.
    pub fn json_object(&mut self) -> Result<&mut serde_json::Map<String, Value>, TransformError> {
        match self.json()? {
            Value::Object(map) => Ok(map),
            other => Err(TransformError::NotAnObject {
                found: json_kind(other),
            }),
        }
    }

    /// Adds each of `fields` the JSON object does not have yet, after its own
    /// keys. While the payload is compact JSON text that matches the parsed
    /// value (what `normalize` writes, read since by read-only steps), the
    /// fields are appended to that text as well, so it is not written out again.
    pub fn add_json_fields(
        &mut self,
        fields: impl IntoIterator<Item = (String, Value)>,
    ) -> Result<(), TransformError> {
        let text_is_current =
            self.bytes_are_json && !self.json_changed && self.csv_columns.is_none();
        let map = match self.parsed()? {
            Value::Object(map) => map,
            other => {
                return Err(TransformError::NotAnObject {
                    found: json_kind(other),
                });
            }
        };
        let mut appended = Vec::new();
        for (key, value) in fields {
            if map.contains_key(&key) {
                continue;
            }
            if !map.is_empty() {
                appended.push(b',');
            }
            json_str::write(&mut appended, &key);
            appended.push(b':');
            // Writing a `Value` to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut appended, &value);
            map.insert(key, value);
        }
        match self.bytes.as_mut() {
            Some(text) if text_is_current && text.last() == Some(&b'}') => {
                text.pop();
                text.extend_from_slice(&appended);
                text.push(b'}');
            }
            _ => self.json_changed = true,
        }
        Ok(())
    }

    /// The payload's bytes while no step has parsed them (nor asked for CSV):
    /// a step that rewrites JSON text in one pass reads these instead of a tree.
    pub fn unparsed(&self) -> Option<&[u8]> {
        match (&self.json, &self.csv_columns) {
            (None, None) => Some(self.bytes.as_deref().unwrap_or(&self.original)),
            _ => None,
        }
    }

    /// Replaces the payload with compact JSON text a step wrote itself, as
    /// [`Record::set_json`] would have written it: the JSON newline is added
    /// when the chain is done, and a later step that asks for JSON parses it.
    pub fn set_json_text(&mut self, text: Vec<u8>) {
        self.set_bytes(text);
        self.bytes_are_json = true;
    }

    /// Replaces the payload with these exact bytes.
    pub fn set_bytes(&mut self, bytes: impl Into<Vec<u8>>) {
        self.json = None;
        self.json_changed = false;
        self.bytes_are_json = false;
        self.csv_columns = None;
        self.bytes = Some(bytes.into());
    }

    /// Replaces the payload with a JSON value.
    pub fn set_json(&mut self, value: Value) {
        self.json = Some(value);
        self.json_changed = true;
    }

    /// Whether a JSON payload is written with a trailing `\n` (default: yes,
    /// so records stay one per line in S3).
    pub fn set_json_newline(&mut self, newline: bool) {
        self.json_newline = newline;
    }

    /// Splits the record into items, each its own bytes (a log event's line);
    /// `item` names one, for failure reasons.
    /// The steps after this one run on each item as if it were a record of its
    /// own, with this record's metadata and what earlier steps set on it
    /// (partition keys, CSV columns, the JSON newline); their outputs are
    /// joined, in order, into this record's data. The record is `Dropped` when
    /// every item is, and `ProcessingFailed`, with its original bytes, when any
    /// item fails.
    pub fn split(&mut self, item: &'static str, parts: impl IntoIterator<Item = Vec<u8>>) {
        let parts = parts
            .into_iter()
            .map(|bytes| Record {
                json_newline: self.json_newline,
                csv_columns: self.csv_columns.clone(),
                partition_keys: self.partition_keys.clone(),
                ..Record::new(self.event, self.source, bytes)
            })
            .collect();
        self.split = Some(Split { item, parts });
    }

    pub(crate) fn take_split(&mut self) -> Option<Split<'e>> {
        self.split.take()
    }

    /// Writes the JSON payload, when the chain is done, as one CSV row of these
    /// columns rather than as JSON; steps in between still see JSON.
    pub fn set_csv_columns(&mut self, columns: Arc<[String]>) {
        self.csv_columns = Some(columns);
    }

    /// Sets a dynamic-partitioning key for `!{partitionKeyFromLambda:name}`.
    pub fn set_partition_key(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.partition_keys.insert(name.into(), value.into());
    }

    /// The partition keys set so far, in key order.
    pub fn partition_keys(&self) -> &BTreeMap<String, String> {
        &self.partition_keys
    }

    pub(crate) fn finish(self) -> (Output, BTreeMap<String, String>) {
        if let (Some(columns), Some(value)) = (&self.csv_columns, &self.json) {
            return (
                Output::Changed(csv_row(value, columns)),
                self.partition_keys,
            );
        }
        let changed = self.json.filter(|_| self.json_changed);
        let output = match (changed, self.bytes) {
            (Some(value), _) => {
                let mut bytes = to_json_bytes(&value);
                if self.json_newline {
                    bytes.push(b'\n');
                }
                Output::Changed(bytes)
            }
            (None, Some(mut bytes)) => {
                if self.bytes_are_json && self.json_newline {
                    bytes.push(b'\n');
                }
                Output::Changed(bytes)
            }
            (None, None) => Output::Unchanged(self.original),
        };
        (output, self.partition_keys)
    }

    pub(crate) fn set_partition_keys(&mut self, keys: BTreeMap<String, String>) {
        self.partition_keys = keys;
    }

    pub(crate) fn into_original(self) -> Vec<u8> {
        self.original
    }
}

/// The JSON type of a value, in words, for error messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value, TransformError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(TransformError::new("empty record, expected JSON"));
    }
    json_read::from_bytes(bytes).map_err(TransformError::NotJson)
}

fn to_json_bytes(value: &Value) -> Vec<u8> {
    // Writing a `Value` to a Vec cannot fail: its keys are strings and it holds no I/O.
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::{Just, Strategy};
    use serde_json::json;

    fn output_bytes(record: Record<'_>) -> Vec<u8> {
        record.finish().0.into_bytes()
    }

    #[test]
    fn untouched_records_go_back_unchanged() {
        let r = Record::detached("abc");
        assert!(matches!(r.finish().0, Output::Unchanged(b) if b == b"abc"));
    }

    #[test]
    fn json_is_parsed_once_and_written_with_a_newline() {
        let mut r = Record::detached(r#"{"a": 1}"#);
        r.json().unwrap()["b"] = json!(2);
        r.json().unwrap()["c"] = json!(3);
        assert_eq!(output_bytes(r), b"{\"a\":1,\"b\":2,\"c\":3}\n");
    }

    /// Fields appended to compact text come out as the parsed value written out would.
    #[test]
    fn fields_added_to_compact_text_come_out_as_the_value_would() {
        let fields = || {
            vec![
                ("b".to_owned(), json!("new")),
                ("n".to_owned(), json!({"x": [1, "é\"\n"]})),
                ("a".to_owned(), json!("kept: the record has it")),
            ]
        };
        // Texts as serde_json writes them, the only kind `set_json_text` takes.
        for text in [r#"{"a":1}"#, "{}", r#"{"a":"é\t","z":[]}"#] {
            let mut by_value = Record::detached(text);
            let map = by_value.json_object().unwrap();
            for (k, v) in fields() {
                map.entry(k).or_insert(v);
            }
            let by_value = output_bytes(by_value);

            // As normalize leaves it: compact text, then read by a filter.
            let mut appended = Record::detached("ignored");
            appended.set_json_text(text.as_bytes().to_vec());
            appended.json_value().unwrap();
            appended.add_json_fields(fields()).unwrap();
            assert!(!appended.json_changed, "{text} was written out again");
            assert_eq!(appended.json_value().unwrap()["b"], json!("new"));
            assert_eq!(output_bytes(appended), by_value, "{text}");

            // Raw bytes, not ours: written out from the value, as before.
            let mut raw = Record::detached(text);
            raw.add_json_fields(fields()).unwrap();
            assert_eq!(output_bytes(raw), by_value, "{text}");
        }
        let mut not_object = Record::detached("[1]");
        assert!(not_object.add_json_fields(fields()).is_err());
    }

    #[test]
    fn a_record_only_read_goes_out_as_it_came() {
        let mut r = Record::detached(r#"{"a":  1}"#);
        assert_eq!(r.json_value().unwrap(), &json!({"a": 1}));
        assert!(matches!(r.finish().0, Output::Unchanged(b) if b == br#"{"a":  1}"#));
        // Read after a change: the change is what goes out.
        let mut r = Record::detached(r#"{"a":  1}"#);
        r.json().unwrap()["b"] = json!(2);
        r.json_value().unwrap();
        assert_eq!(output_bytes(r), b"{\"a\":1,\"b\":2}\n");
    }

    #[test]
    fn bytes_after_a_change_are_the_changed_json() {
        let mut r = Record::detached("{}");
        r.json().unwrap()["a"] = json!(1);
        assert_eq!(r.bytes(), br#"{"a":1}"#);
        assert_eq!(r.json_value().unwrap(), &json!({"a": 1}));
    }

    /// One way a step may touch the record.
    #[derive(Debug, Clone)]
    enum Call {
        Change(u32),
        Read,
        Bytes,
        Text,
    }

    proptest::proptest! {
        /// Whatever the order of `json`, `json_value`, `bytes` and `text` calls,
        /// a changed record goes out as its final JSON and, when asked, a newline.
        #[test]
        fn changed_json_keeps_its_newline_in_any_call_order(
            calls in proptest::collection::vec(
                proptest::prop_oneof![
                    (0u32..9).prop_map(Call::Change),
                    Just(Call::Read),
                    Just(Call::Bytes),
                    Just(Call::Text),
                ],
                0..8,
            ),
            newline: bool,
        ) {
            let original = br#"{"a":  1}"#;
            let mut r = Record::detached(&original[..]);
            r.set_json_newline(newline);
            let mut expected = json!({"a": 1});
            let mut changed = false;
            for call in &calls {
                match call {
                    Call::Change(n) => {
                        r.json().unwrap()[format!("k{n}")] = json!(n);
                        expected[format!("k{n}")] = json!(n);
                        changed = true;
                    }
                    Call::Read => {
                        r.json_value().unwrap();
                    }
                    Call::Bytes => {
                        r.bytes();
                    }
                    Call::Text => {
                        r.text().unwrap();
                    }
                }
            }
            let mut want = original.to_vec();
            if changed {
                want = serde_json::to_vec(&expected).unwrap();
                if newline {
                    want.push(b'\n');
                }
            }
            proptest::prop_assert_eq!(output_bytes(r), want);
        }
    }

    #[test]
    fn newline_can_be_turned_off() {
        let mut r = Record::detached("{}");
        r.json().unwrap();
        r.set_json_newline(false);
        assert_eq!(output_bytes(r), b"{}");
    }

    #[test]
    fn csv_columns_write_the_final_json_as_a_row() {
        let mut r = Record::detached("");
        r.set_json(json!({"a": "x,y", "b": 1}));
        r.set_csv_columns(Arc::from(["b".to_owned(), "a".to_owned()]));
        r.json_object().unwrap().insert("b".to_owned(), json!(2));
        assert_eq!(output_bytes(r), b"2,\"x,y\"\n");
    }

    #[test]
    fn bytes_set_by_a_step_are_kept_verbatim() {
        let mut r = Record::detached("x");
        r.set_bytes("y");
        assert_eq!(output_bytes(r), b"y");
    }

    #[test]
    fn a_parse_failure_leaves_the_payload_alone() {
        let mut r = Record::detached("not json");
        assert!(matches!(r.json(), Err(TransformError::NotJson(_))));
        assert_eq!(r.text().unwrap(), "not json");
    }

    #[test]
    fn invalid_utf8_is_serde_jsons_error_with_where_it_is() {
        let mut r = Record::detached(b"{\"a\":\"\xff\"}".to_vec());
        let error = r.json().unwrap_err().to_string();
        assert!(
            error.contains("invalid unicode code point at line 1 column 7"),
            "{error}"
        );
    }

    #[test]
    fn byte_order_mark_and_empty_records() {
        let mut r = Record::detached(b"\xEF\xBB\xBF{\"a\":1}".to_vec());
        assert_eq!(r.json().unwrap(), &json!({"a": 1}));
        let mut empty = Record::detached(" \n");
        assert!(
            empty
                .json()
                .unwrap_err()
                .to_string()
                .contains("empty record")
        );
    }

    #[test]
    fn numbers_pass_through_exactly() {
        // Digits are kept exactly; only an exponent is spelt `e+N`.
        let text =
            r#"{"big":123456789012345678901234567890,"u":18446744073709551615,"f":1.10,"e":1E3}"#;
        let mut r = Record::detached(text);
        r.json().unwrap();
        r.set_json_newline(false);
        assert_eq!(output_bytes(r), text.replace("1E3", "1e+3").as_bytes());
    }

    #[test]
    fn json_object_names_what_it_found() {
        let mut r = Record::detached("[1]");
        assert_eq!(
            r.json_object().unwrap_err().to_string(),
            "expected a JSON object, found an array"
        );
    }
}
