//! What the line parsers (`access-log`, `syslog`) write: a JSON object, or a
//! CSV row with the columns in a fixed order.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::json_str;
use crate::pipeline::record::Record;
use crate::settings::{Choice, Names, Setting, SettingError, Settings};

/// How a parsed line is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutput {
    Json,
    /// One CSV row of these columns.
    Csv(Arc<[String]>),
}

/// The `<PREFIX>OUTPUT` setting's parser: `json` or `csv`.
pub const OUTPUT_CHOICE: Choice = Choice(&["json", "csv"]);

impl LineOutput {
    /// Reads `output` and `columns`; `default_columns` are the parser's own fields, in order.
    pub fn from_settings(
        settings: &Settings,
        output: &Setting<Choice>,
        columns: &Setting<Names>,
        default_columns: Vec<String>,
    ) -> Result<LineOutput, SettingError> {
        match settings.get(output)? {
            "csv" => {
                let columns = settings.optional(columns)?.unwrap_or(default_columns);
                Ok(LineOutput::Csv(Arc::from(columns)))
            }
            _ if settings.is_set(columns) => Err(SettingError::Conflict(format!(
                "{} applies to {}=csv only",
                columns.name, output.name
            ))),
            _ => Ok(LineOutput::Json),
        }
    }

    /// A parsed line written out: as JSON text straight from the fields (no
    /// map is built, so later steps that only pass bytes on pay for none), or,
    /// for CSV, as the JSON object the row is written from. Owned, so that the
    /// fields may borrow the record's own bytes until then.
    pub fn write(&self, fields: LineFields<'_>) -> LinePayload {
        match self {
            LineOutput::Json => LinePayload::Json(fields.to_json_text()),
            LineOutput::Csv(columns) => {
                LinePayload::Csv(Value::Object(fields.into_map()), columns.clone())
            }
        }
    }
}

/// A parsed line as the record's new payload.
#[derive(Debug)]
pub enum LinePayload {
    Json(Vec<u8>),
    /// The object and the columns of its CSV row.
    Csv(Value, Arc<[String]>),
}

impl LinePayload {
    /// Replaces the record's payload with this one.
    pub fn put(self, record: &mut Record<'_>) {
        match self {
            LinePayload::Json(text) => record.set_json_text(text),
            LinePayload::Csv(object, columns) => {
                record.set_json(object);
                record.set_csv_columns(columns);
            }
        }
    }
}

/// The record's one line, without its line ending; `what` names the kind of
/// line in the error. Invalid UTF-8 becomes U+FFFD rather than failing the
/// line; valid UTF-8, nearly every line, is borrowed as it is.
pub fn one_line<'r>(bytes: &'r [u8], what: &str) -> Result<Cow<'r, str>, String> {
    // std's validation, unlike `from_utf8_lossy`'s, runs over ASCII a word at a time.
    let line = match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text.trim_end_matches(['\n', '\r'])),
        Err(_) => Cow::Owned(
            String::from_utf8_lossy(bytes)
                .trim_end_matches(['\n', '\r'])
                .to_owned(),
        ),
    };
    if line.contains('\n') {
        return Err(format!(
            "the record holds several lines; expected one {what}"
        ));
    }
    Ok(line)
}

/// A parsed line's fields, in output order. Setting a name again replaces its
/// value where it first stood, as inserting into a JSON object does.
#[derive(Debug)]
pub struct LineFields<'a> {
    fields: Vec<(Cow<'a, str>, FieldValue<'a>)>,
    /// Whether a name can be set twice; only then does `set` look for it.
    names_may_repeat: bool,
}

impl Default for LineFields<'_> {
    fn default() -> Self {
        LineFields::with_capacity(0, true)
    }
}

/// One field's value, borrowing from the line where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Null,
    Text(Cow<'a, str>),
    Number(u64),
    /// Anything else (structured data, a converted time).
    Json(Value),
}

impl<'a> FieldValue<'a> {
    /// Text, or `null` for none.
    pub fn text_or_null(text: Option<impl Into<Cow<'a, str>>>) -> Self {
        text.map_or(FieldValue::Null, |t| FieldValue::Text(t.into()))
    }

    fn into_value(self) -> Value {
        match self {
            FieldValue::Null => Value::Null,
            FieldValue::Text(text) => Value::String(text.into_owned()),
            FieldValue::Number(n) => Value::from(n),
            FieldValue::Json(value) => value,
        }
    }
}

impl<'a> LineFields<'a> {
    /// No fields yet, with room for `capacity`. A parser whose names are all
    /// different (syslog's; a log format's, mostly) says `names_may_repeat:
    /// false`, and its fields are not searched on every `set`.
    pub fn with_capacity(capacity: usize, names_may_repeat: bool) -> Self {
        LineFields {
            fields: Vec::with_capacity(capacity),
            names_may_repeat,
        }
    }

    /// Sets `name` to `value`: after the fields so far, or in place of its earlier value.
    pub fn set(&mut self, name: impl Into<Cow<'a, str>>, value: FieldValue<'a>) {
        let name = name.into();
        let earlier = match self.names_may_repeat {
            true => self.fields.iter_mut().find(|(n, _)| *n == name),
            false => None,
        };
        match earlier {
            Some((_, old)) => *old = value,
            None => self.fields.push((name, value)),
        }
    }

    /// The compact JSON text of the object, byte for byte what serde_json
    /// writes for [`LineFields::into_map`].
    pub fn to_json_text(&self) -> Vec<u8> {
        let mut text = Vec::with_capacity(64 * self.fields.len());
        text.push(b'{');
        for (i, (name, value)) in self.fields.iter().enumerate() {
            if i > 0 {
                text.push(b',');
            }
            json_str::write(&mut text, name);
            text.push(b':');
            match value {
                FieldValue::Null => text.extend_from_slice(b"null"),
                FieldValue::Text(t) => json_str::write(&mut text, t),
                // Writing to a Vec cannot fail.
                FieldValue::Number(n) => {
                    let _ = write!(text, "{n}");
                }
                // Writing a `Value` to a Vec cannot fail.
                FieldValue::Json(v) => {
                    let _ = serde_json::to_writer(&mut text, v);
                }
            }
        }
        text.push(b'}');
        text
    }

    /// The fields as a JSON object, in order.
    pub fn into_map(self) -> Map<String, Value> {
        self.fields
            .into_iter()
            .map(|(name, value)| (name.into_owned(), value.into_value()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn one_line_borrows_valid_text_replaces_bad_bytes_and_refuses_several_lines() {
        let line = one_line(b"GET /a\r\n", "line").unwrap();
        assert!(matches!(line, Cow::Borrowed("GET /a")));
        let line = one_line(b"caf\xe9 \xff\n", "line").unwrap();
        assert_eq!(line, "caf\u{fffd} \u{fffd}");
        assert_eq!(
            one_line(b"a\nb\n", "syslog line").unwrap_err(),
            "the record holds several lines; expected one syslog line"
        );
        assert_eq!(
            one_line(b"\xffa\nb", "line").unwrap_err(),
            "the record holds several lines; expected one line"
        );
    }

    #[test]
    fn a_name_set_again_keeps_its_place_and_takes_the_new_value() {
        let mut fields = LineFields::default();
        fields.set("host", FieldValue::Text("a".into()));
        fields.set("n", FieldValue::Number(7));
        fields.set("host", FieldValue::Null);
        assert_eq!(fields.to_json_text(), br#"{"host":null,"n":7}"#);
    }

    fn field_value() -> impl Strategy<Value = FieldValue<'static>> {
        prop_oneof![
            Just(FieldValue::Null),
            any::<String>().prop_map(|t| FieldValue::Text(t.into())),
            any::<u64>().prop_map(FieldValue::Number),
            any::<String>().prop_map(|t| FieldValue::Json(json!({ "k": [t, 1.5] }))),
        ]
    }

    proptest! {
        /// The text written straight from the fields is what writing their map gives.
        #[test]
        fn json_text_is_the_maps_serialisation(
            fields in prop::collection::vec(("[ab\"\\\\\n\u{1}é]{0,3}", field_value()), 0..8)
        ) {
            let mut line = LineFields::default();
            for (name, value) in fields {
                line.set(name, value);
            }
            let text = String::from_utf8(line.to_json_text()).unwrap();
            let map = serde_json::to_string(&line.into_map()).unwrap();
            prop_assert_eq!(text, map);
        }
    }
}
