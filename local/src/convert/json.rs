//! A record's JSON read in place, as the converter needs it: each object's
//! keys with their values still as text, so a value is looked at only if a
//! column wants it, and only as deep as the column's type goes. Nothing is
//! copied but strings with escapes. (A `serde_json::Value` tree of every
//! record, every key and number an allocation, was most of the rows' time.)

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// An object's entries in order, each value as its JSON text.
pub type Entries<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// A JSON value one level deep: a scalar read, a container still text.
#[derive(Debug)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    /// The number's own text (no precision lost).
    Number(&'a str),
    String(Cow<'a, str>),
    Array(&'a RawValue),
    Object(&'a RawValue),
}

impl<'a> Json<'a> {
    /// `raw` read one level deep (`raw` is valid JSON, as serde_json hands it out).
    pub fn read(raw: &'a RawValue) -> Result<Json<'a>, serde_json::Error> {
        let text = raw.get();
        Ok(match text.as_bytes().first() {
            Some(b'n') => Json::Null,
            Some(b't') => Json::Bool(true),
            Some(b'f') => Json::Bool(false),
            Some(b'[') => Json::Array(raw),
            Some(b'{') => Json::Object(raw),
            Some(b'"') => match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                // Without escapes, a JSON string's text is the string.
                Some(inner) if !inner.contains('\\') => Json::String(Cow::Borrowed(inner)),
                _ => Json::String(Cow::Owned(serde_json::from_str(text)?)),
            },
            _ => Json::Number(text),
        })
    }

    /// A scalar's text: a string's own, a number's or a boolean's as JSON
    /// writes it; `None` for null and containers.
    pub fn scalar_text(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            Json::Number(n) => Some(n),
            Json::Bool(b) => Some(if *b { "true" } else { "false" }),
            Json::Null | Json::Array(_) | Json::Object(_) => None,
        }
    }

    /// What the value is, for messages (never the value itself: it may be private).
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// The entries of an object's text.
pub fn entries(raw: &RawValue) -> Result<Entries<'_>, serde_json::Error> {
    serde_json::from_str::<Object>(raw.get()).map(|o| o.0)
}

/// The items of an array's text.
pub fn items(raw: &RawValue) -> Result<Vec<&RawValue>, serde_json::Error> {
    serde_json::from_str::<Array>(raw.get()).map(|a| a.0)
}

/// One JSON value of a record's top level.
#[derive(Debug)]
pub enum Top<'a> {
    Object(Entries<'a>),
    /// Anything else, by its kind.
    Other(&'static str),
}

/// The JSON values of `record` one after another (concatenated, or one a
/// line), objects read straight into their entries.
pub fn values(record: &[u8]) -> impl Iterator<Item = Result<Top<'_>, serde_json::Error>> {
    // Checked as UTF-8 once and then read as text: read as bytes, serde_json
    // checks every key and value again. Invalid UTF-8 is read as bytes, for
    // serde_json's own error (and where it is).
    let text = std::str::from_utf8(record).ok();
    let mut at = 0;
    std::iter::from_fn(move || {
        at += record[at..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
        let rest = record.get(at..).filter(|rest| !rest.is_empty())?;
        let (value, read) = match text.and_then(|text| text.get(at..)) {
            Some(text) => top(serde_json::Deserializer::from_str(text), rest[0]),
            None => top(serde_json::Deserializer::from_slice(rest), rest[0]),
        };
        at = if value.is_ok() {
            at + read
        } else {
            record.len()
        };
        Some(value)
    })
}

/// The first JSON value `values` holds (starting with `first`), and how many bytes it took.
fn top<'a, R: serde_json::de::Read<'a>>(
    mut values: serde_json::Deserializer<R>,
    first: u8,
) -> (Result<Top<'a>, serde_json::Error>, usize) {
    // An object is read in one pass; anything else only to say what it is.
    let value = if first == b'{' {
        Object::deserialize(&mut values).map(|o| Top::Object(o.0))
    } else {
        <&RawValue>::deserialize(&mut values)
            .and_then(|raw| Ok(Top::Other(Json::read(raw)?.kind())))
    };
    match value {
        Ok(top) => (Ok(top), values.into_iter::<de::IgnoredAny>().byte_offset()),
        Err(e) => (Err(e), 0),
    }
}

/// An object's entries, as serde reads them.
struct Object<'a>(Entries<'a>);

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Object<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Object<'de>, M::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(Key(key)) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Object(entries))
    }
}

/// An array's items, as serde reads them.
struct Array<'a>(Vec<&'a RawValue>);

impl<'de> Deserialize<'de> for Array<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(ArrayVisitor)
    }
}

struct ArrayVisitor;

impl<'de> Visitor<'de> for ArrayVisitor {
    type Value = Array<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Array<'de>, S::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(8));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Array(items))
    }
}

/// A key, borrowed from the record unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(key)))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tops(record: &str) -> Vec<Result<String, String>> {
        values(record.as_bytes())
            .map(|top| match top {
                Ok(Top::Object(entries)) => Ok(entries
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.get()))
                    .collect::<Vec<_>>()
                    .join(",")),
                Ok(Top::Other(kind)) => Ok(kind.to_owned()),
                Err(e) => Err(e.to_string()),
            })
            .collect()
    }

    #[test]
    fn a_records_objects_are_read_one_after_another_with_their_values_as_text() {
        assert_eq!(
            tops(" {\"a\":1,\"b\\u0041\" : {\"c\": [1, 2]}}{\"d\":\"x\"}\n\n[1] 7 \"s\"\n"),
            [
                Ok("a=1,bA={\"c\": [1, 2]}".to_owned()),
                Ok("d=\"x\"".to_owned()),
                Ok("an array".to_owned()),
                Ok("a number".to_owned()),
                Ok("a string".to_owned()),
            ]
        );
        assert!(tops("").is_empty());
        assert!(tops(" \n").is_empty());
    }

    #[test]
    fn invalid_utf8_is_serde_jsons_error_after_the_objects_before_it() {
        let read: Vec<_> = values(b"{\"a\":1}\n{\"b\":\"\xff\"}")
            .map(|top| top.map(|_| ()).map_err(|e| e.to_string()))
            .collect();
        assert_eq!(
            read,
            [
                Ok(()),
                Err("invalid unicode code point at line 1 column 7".to_owned())
            ]
        );
    }

    #[test]
    fn what_is_not_json_ends_the_record_with_an_error() {
        for bad in [
            "{\"a\":",
            "{\"a\":1}x",
            "nope",
            "{\"a\":tru}",
            "{\"a\":1} {",
        ] {
            let read = tops(bad);
            assert!(read.last().is_some_and(Result::is_err), "{bad}: {read:?}");
        }
    }

    #[test]
    fn scalars_are_read_from_their_text_and_strings_unescaped_only_when_they_must_be() {
        let raw = |text: &str| serde_json::from_str::<Box<RawValue>>(text).unwrap();
        let plain = raw("\"héllo\"");
        assert!(matches!(
            Json::read(&plain).unwrap(),
            Json::String(Cow::Borrowed("héllo"))
        ));
        let escaped = raw(r#""a\"b\n""#);
        assert!(
            matches!(Json::read(&escaped).unwrap(), Json::String(Cow::Owned(s)) if s == "a\"b\n")
        );
        let big = raw("123456789012345678901234567890.5");
        assert!(matches!(
            Json::read(&big).unwrap(),
            Json::Number("123456789012345678901234567890.5")
        ));
        assert!(Json::read(&raw(r#""\ud800""#)).is_err());
        let array = raw("[1, {\"a\": 2}]");
        let items: Vec<_> = items(&array).unwrap().iter().map(|i| i.get()).collect();
        assert_eq!(items, ["1", "{\"a\": 2}"]);
    }
}
