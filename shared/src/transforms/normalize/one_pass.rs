//! `normalize` in one pass over a record's JSON text: the text is copied to the
//! output with its keys rewritten as they are met, without a `serde_json::Value`
//! tree, so there is no allocation per key or value (strings without escapes,
//! numbers and literals are copied as they are).
//!
//! The tree in `mod.rs` stays the reference. This pass gives up, and the tree
//! runs instead, wherever the tree decides something this pass does not: two
//! keys of one object that become the same (a collision, or a key repeated in
//! the input, which the tree keeps once: found among the written keys, or,
//! where one of its values is an object being flattened, among the raw keys of
//! that object's parent), a timestamp that does not read, and
//! a key written with escapes (rare, and it cannot be borrowed), and anything
//! that is not one valid JSON object of at most `MAX_DEPTH` levels.
//! What it writes is byte for byte what the tree writes (a property test holds
//! it to that).

use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{MAX_DEPTH, Normalize};
use crate::json_str;
use crate::transforms::timestamp;

/// The record written out as normalised compact JSON, without the newline;
/// `None` where the tree must decide.
pub(super) fn rewrite<'a>(rules: &Normalize, input: &'a [u8]) -> Option<Vec<u8>> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    // Checked as UTF-8 once and read as text: read as bytes, serde_json checks
    // each key and raw value again. Invalid UTF-8 is the tree's to report.
    let input = std::str::from_utf8(input).ok()?;
    let mut pass = Pass {
        rules,
        out: Output {
            bytes: Vec::with_capacity(input.len() + input.len() / 8),
            // Room for a typical record's keys, so that they rarely grow.
            keys: Vec::with_capacity(32),
        },
        key: String::with_capacity(64),
        inner_key: String::with_capacity(32),
        raw_keys: Vec::with_capacity(32),
        objects_flattened: 0,
    };
    let mut json = serde_json::Deserializer::from_str(input);
    let mark = pass.out.open(b'{');
    let (start, before) = (pass.raw_keys.len(), pass.objects_flattened);
    json.deserialize_map(Entries(|key: &'a str, value: &'a RawValue| {
        pass.raw_keys.push(key);
        pass.flattened(key, value, 0)
    }))
    .ok()?;
    json.end().ok()?;
    pass.raw_keys_distinct(start, before)?;
    pass.out.close(b'}', mark)?;
    Some(pass.out.bytes)
}

struct Pass<'r, 'a> {
    rules: &'r Normalize,
    out: Output,
    /// The flattened key being built: its parents' keys, then its own.
    key: String,
    /// The key of an object inside a value being built.
    inner_key: String,
    /// The raw keys of the objects being flattened, outermost first: where the
    /// input repeats a key and one of its values is flattened
    /// (`{"a":1,"a":{"b":2}}`), no two written keys are the same.
    raw_keys: Vec<&'a str>,
    /// How many objects have been flattened so far.
    objects_flattened: usize,
}

impl<'a> Pass<'_, 'a> {
    /// A top-level entry, or one of a flattened object (`depth` levels down):
    /// an object is flattened into keys of its own, anything else is written.
    fn flattened(&mut self, raw_key: &str, value: &'a RawValue, depth: usize) -> Option<()> {
        let parent = self.key.len();
        if depth > 0 {
            self.key.push_str(&self.rules.separator);
        }
        self.rules.key_names.push(raw_key, &mut self.key);
        let text = value.get();
        if text.starts_with('{') && depth < self.rules.flatten_depth && !is_empty_object(text) {
            self.objects_flattened += 1;
            let (start, before) = (self.raw_keys.len(), self.objects_flattened);
            serde_json::Deserializer::from_str(text)
                .deserialize_map(Entries(|key: &'a str, value: &'a RawValue| {
                    self.raw_keys.push(key);
                    self.flattened(key, value, depth + 1)
                }))
                .ok()?;
            self.raw_keys_distinct(start, before)?;
        } else {
            let name = self.rules.renames.get(&self.key).unwrap_or(&self.key);
            self.out.key(name)?;
            if self.rules.timestamp_fields.contains(name) && text != "null" {
                self.timestamp(text)?;
            } else {
                self.value(value, depth + 1)?;
            }
        }
        self.key.truncate(parent);
        Some(())
    }

    /// `None` when an object whose raw keys start at `start` repeats one and
    /// flattened an object since `before` (else a repeat writes one key twice,
    /// which `Output::close` finds); the object's keys are then forgotten.
    fn raw_keys_distinct(&mut self, start: usize, before: usize) -> Option<()> {
        let keys = &mut self.raw_keys[start..];
        let distinct = self.objects_flattened == before || {
            keys.sort_unstable();
            keys.windows(2).all(|pair| pair[0] != pair[1])
        };
        self.raw_keys.truncate(start);
        distinct.then_some(())
    }

    /// A value written as the tree writes it, the keys of objects inside it normalised.
    fn value(&mut self, value: &RawValue, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let text = value.get();
        match text.as_bytes().first() {
            Some(b'{') => {
                let mark = self.out.open(b'{');
                serde_json::Deserializer::from_str(text)
                    .deserialize_map(Entries(|key: &str, value: &RawValue| {
                        self.inner_key.clear();
                        self.rules.key_names.push(key, &mut self.inner_key);
                        self.out.key(&self.inner_key)?;
                        self.value(value, depth + 1)
                    }))
                    .ok()?;
                self.out.close(b'}', mark)?;
            }
            Some(b'[') => {
                self.out.bytes.push(b'[');
                serde_json::Deserializer::from_str(text)
                    .deserialize_seq(Items(|item: &RawValue| {
                        self.out.comma();
                        self.value(item, depth + 1)
                    }))
                    .ok()?;
                self.out.bytes.push(b']');
            }
            // An escape may be written differently (`\u00e9` as `é`): the tree's way.
            Some(b'"') if text.contains('\\') => {
                let unescaped: String = serde_json::from_str(text).ok()?;
                json_str::write(&mut self.out.bytes, &unescaped);
            }
            Some(b'-' | b'0'..=b'9') => self.out.number(text),
            // Strings without escapes, and literals.
            _ => self.out.bytes.extend_from_slice(text.as_bytes()),
        }
        Some(())
    }

    /// A `NORMALIZE_TIMESTAMP_FIELDS` value, converted.
    fn timestamp(&mut self, text: &str) -> Option<()> {
        let unit = self.rules.epoch_unit;
        let at = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            // A string without escapes is its own contents: no value to build.
            Some(contents) if !contents.contains('\\') => timestamp::read_text(contents, unit),
            _ => timestamp::read(&serde_json::from_str(text).ok()?, unit),
        }
        .ok()?;
        serde_json::to_writer(&mut self.out.bytes, &self.rules.timestamp_format.write(at)).ok()
    }
}

/// The JSON being written, and where the keys of its open objects are in it.
struct Output {
    bytes: Vec<u8>,
    /// Each key written so far of each open object, so that two keys that are
    /// the same are found when their object closes.
    keys: Vec<WrittenKey>,
}

/// Where a key is in the output, and its first bytes as a number: keys sort
/// by that number, and only keys that start alike are compared byte by byte.
struct WrittenKey {
    prefix: u64,
    at: Range<usize>,
}

impl Output {
    /// Opens an object; its keys are those written after the mark returned.
    fn open(&mut self, brace: u8) -> usize {
        self.bytes.push(brace);
        self.keys.len()
    }

    /// Closes the object opened at `mark`; `None` when two of its keys are the same.
    fn close(&mut self, brace: u8, mark: usize) -> Option<()> {
        let bytes = &self.bytes;
        let key = |k: &WrittenKey| &bytes[k.at.clone()];
        let keys = &mut self.keys[mark..];
        keys.sort_unstable_by(|a, b| a.prefix.cmp(&b.prefix).then_with(|| key(a).cmp(key(b))));
        let distinct = keys
            .windows(2)
            .all(|pair| pair[0].prefix != pair[1].prefix || key(&pair[0]) != key(&pair[1]));
        self.keys.truncate(mark);
        self.bytes.push(brace);
        distinct.then_some(())
    }

    /// `"key":`, after a comma when something came before it in its object.
    fn key(&mut self, key: &str) -> Option<()> {
        self.comma();
        let start = self.bytes.len();
        json_str::write(&mut self.bytes, key);
        let written = &self.bytes[start..];
        let (mut first, n) = ([0; 8], written.len().min(8));
        first[..n].copy_from_slice(&written[..n]);
        self.keys.push(WrittenKey {
            prefix: u64::from_be_bytes(first),
            at: start..self.bytes.len(),
        });
        self.bytes.push(b':');
        Some(())
    }

    /// A number as the tree keeps it: its own text, but for the exponent,
    /// which serde_json writes as `e` and signed (`1E5` is `1e+5`).
    fn number(&mut self, text: &str) {
        match text.split_once(['e', 'E']) {
            None => self.bytes.extend_from_slice(text.as_bytes()),
            Some((mantissa, exponent)) => {
                self.bytes.extend_from_slice(mantissa.as_bytes());
                self.bytes.push(b'e');
                if !exponent.starts_with(['+', '-']) {
                    self.bytes.push(b'+');
                }
                self.bytes.extend_from_slice(exponent.as_bytes());
            }
        }
    }

    fn comma(&mut self) {
        if !matches!(self.bytes.last(), Some(b'{' | b'[')) {
            self.bytes.push(b',');
        }
    }
}

/// `{}`, with or without whitespace inside.
fn is_empty_object(text: &str) -> bool {
    text[1..].trim_start().starts_with('}')
}

/// Reads an object, handing each entry to the closure, which says whether to go on.
struct Entries<F>(F);

impl<'de, F: FnMut(&'de str, &'de RawValue) -> Option<()>> Visitor<'de> for Entries<F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        // A key with escapes cannot be borrowed: reading it fails, and the tree reads it instead.
        while let Some(key) = map.next_key::<&'de str>()? {
            let value: &'de RawValue = map.next_value()?;
            (self.0)(key, value).ok_or_else(|| de::Error::custom(GIVE_UP))?;
        }
        Ok(())
    }
}

/// Reads an array, handing each item to the closure, which says whether to go on.
struct Items<F>(F);

impl<'de, F: FnMut(&'de RawValue) -> Option<()>> Visitor<'de> for Items<F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            (self.0)(item).ok_or_else(|| de::Error::custom(GIVE_UP))?;
        }
        Ok(())
    }
}

/// The error that stops reading when the pass gives up; never shown, the tree runs instead.
const GIVE_UP: &str = "left to the tree";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::record::Record;
    use crate::pipeline::transform::Transform;
    use crate::transforms::normalize::KeyNames;
    use proptest::prelude::*;
    use serde_json::Value;
    use std::fmt::Write;

    /// What the tree writes (the record parsed first, so the one pass cannot run).
    fn tree(rules: &Normalize, text: &str) -> Option<Vec<u8>> {
        let mut record = Record::detached(text);
        record.json_value().ok()?;
        rules.apply(&mut record).ok()?;
        Some(record.bytes().to_vec())
    }

    fn one_pass(rules: &Normalize, text: &str) -> Option<String> {
        rewrite(rules, text.as_bytes()).map(|out| String::from_utf8(out).unwrap_or_default())
    }

    #[test]
    fn writes_what_the_tree_writes() {
        let rules = Normalize::default();
        for text in [
            r#"{"User":{"Name":"Ann","Geo.City":"Kyiv"},"Tags":["A",{"K.X":1}],"ok":true}"#,
            "\u{feff}{ \"A\" : { \"B\" : [ 1 , 2.50 , -0 , 1e+5 ] } , \"e\" : { } , \"n\" : null }",
            r#"{"s":"caf\u00e9 \/ \"q\" \n","ΣΑΣ":1,"Zürich-Ost":{"ΟΔΟΣ":"x"}}"#,
            r#"{"big":18446744073709551616123,"f":0.10,"e":[1e308,1E-7,2E+1]}"#,
        ] {
            let tree = tree(&rules, text).map(|b| String::from_utf8(b).unwrap_or_default());
            assert_eq!(one_pass(&rules, text), tree, "{text}");
        }
    }

    #[test]
    fn leaves_to_the_tree_what_the_tree_decides() {
        let rules = Normalize::default();
        for text in [
            r#"{"Id":1,"id":2}"#,
            r#"{"a":{"b":1},"a_b":2}"#,
            r#"{"o":[{"K":1,"k":2}]}"#,
            r#"{"a":1,"a":2}"#,
            // Found by the fuzz target `normalize`: the tree keeps the last `Geo`, in the first's place.
            r#"{"Geo":5,"UserName":"ann","Geo":{"Tags":["a"]}}"#,
            r#"{"a":{"x":1},"a":{"y":2}}"#,
            r#"{"a":{"x":{"y":1}},"a":{"x":2}}"#,
            r#"{"\u0041":1}"#,
            r#"{"a":1} {"b":2}"#,
            r#"[{"a":1}]"#,
            "{\"a\":\"\u{0}\"}",
            "",
            "{\"a\":",
        ] {
            assert_eq!(one_pass(&rules, text), None, "{text}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(one_pass(&rules, &deep), None);
        assert_eq!(rewrite(&rules, b"{\"a\":\"\xff\"}"), None);
    }

    #[test]
    fn renames_and_timestamps_as_the_tree_does() {
        let rules = Normalize {
            renames: [("http_status".to_owned(), "status".to_owned())].into(),
            timestamp_fields: vec!["ts".to_owned(), "none".to_owned()],
            ..Normalize::default()
        };
        let text = r#"{"TS":1714566600,"none":null,"HTTP":{"Status":200}}"#;
        assert_eq!(
            one_pass(&rules, text).as_deref(),
            Some(r#"{"ts":"2024-05-01T12:30:00Z","none":null,"status":200}"#)
        );
        assert_eq!(one_pass(&rules, r#"{"ts":"soon"}"#), None);
        // Strings read as they are, or through their escapes; numbers as the tree reads them.
        for ts in [
            r#"" 2024-05-01T12:30:00Z ""#,
            r#""2024-05-01T12:30:00\u005a""#,
            r#""1714566600""#,
            "1714566600000",
            "1.7145666e9",
        ] {
            let text = format!(r#"{{"ts":{ts}}}"#);
            let tree = tree(&rules, &text).map(|b| String::from_utf8(b).unwrap_or_default());
            assert_eq!(one_pass(&rules, &text), tree, "{text}");
            assert!(
                tree.is_some_and(|t| t.contains("2024-05-01T12:30:00Z")),
                "{text}"
            );
        }
    }

    /// Keys mixing case, dots, characters a column cannot hold and non-ASCII.
    fn key() -> impl Strategy<Value = String> {
        "[aAbB.é_Σ -]{0,3}"
    }

    fn value() -> impl Strategy<Value = Value> {
        let number = prop_oneof![
            Just("0"),
            Just("-0"),
            Just("2.50"),
            Just("1e+5"),
            Just("1E5"),
            Just("-2.5e-3"),
            Just("1e308"),
            Just("18446744073709551616"),
            Just("-9223372036854775809"),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            number.prop_map(|n| serde_json::from_str(n).unwrap_or(Value::Null)),
            "[a-c\"\\\\/\n\u{7f}é\u{2028}😀]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 40, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((key(), inner), 0..4)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// JSON text with what serde_json never writes: whitespace, and values' characters escaped.
    fn quirky(value: &Value, out: &mut String) {
        match value {
            Value::String(s) => {
                out.push('"');
                for c in s.chars() {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        let _ = write!(out, "\\u{unit:04x}");
                    }
                }
                out.push('"');
            }
            Value::Array(items) => {
                out.push_str("[ ");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "" } else { " , " });
                    quirky(item, out);
                }
                out.push_str(" ]");
            }
            Value::Object(entries) => {
                out.push_str("{ ");
                for (i, (key, item)) in entries.iter().enumerate() {
                    out.push_str(if i == 0 { "" } else { " ,\n" });
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push_str(" : ");
                    quirky(item, out);
                }
                out.push_str(" }");
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }

    proptest! {
        /// With collisions failing the record, the tree fails exactly where the
        /// one pass gives up, and otherwise both write the same bytes.
        #[test]
        fn one_pass_and_tree_agree(
            entries in proptest::collection::vec((key(), value()), 0..6),
            keep_case: bool,
            replace_dots: bool,
            safe_keys: bool,
            flatten_depth in 0usize..4,
            separator in prop_oneof![Just("_"), Just("__"), Just(".")],
            quirky_text: bool,
        ) {
            let rules = Normalize {
                key_names: KeyNames::new(keep_case, replace_dots, safe_keys),
                flatten_depth,
                separator: separator.to_owned(),
                fail_on_collision: true,
                ..Normalize::default()
            };
            let record = Value::Object(entries.into_iter().collect());
            let mut text = String::new();
            if quirky_text {
                quirky(&record, &mut text);
            } else {
                text = record.to_string();
            }
            let tree = tree(&rules, &text).map(|b| String::from_utf8(b).unwrap_or_default());
            prop_assert_eq!(one_pass(&rules, &text), tree, "{}", text);
        }
    }
}
