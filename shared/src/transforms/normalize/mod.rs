//! `normalize`: makes a JSON record ready for Firehose's Parquet/ORC conversion
//! through the OpenX JSON SerDe.
//!
//! Keys are lower-cased and their dots turned into `_` (a Glue column name can
//! hold neither), nested objects are flattened into `parent_child` keys, and
//! the record is written as one compact object and `\n`. Values pass through
//! exactly as they came: integers of any size and floats keep their text.
//!
//! Two keys that become the same (`Id` and `id`, or `a.b` and `a_b`) follow
//! `NORMALIZE_ON_COLLISION`: by default the first, in document order, keeps the
//! name and each later one gets the separator and the next free number
//! (`id_2`, `id_3`), so no value is lost; `fail` fails the record instead.
//!
//! A record no earlier step has parsed is rewritten in one pass over its text
//! (`one_pass`), with the same result and no tree; this module's tree decides
//! whatever that pass leaves to it (collisions, bad timestamps, bad JSON).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use tracing::warn;

use crate::pipeline::record::Record;
use crate::pipeline::transform::{Transform, TransformError, Verdict};
use crate::settings::{
    Choice, Declared, Flag, Names, Pairs, Parse, Setting, SettingError, SettingGroup, Settings,
    Text,
};
use crate::transforms::timestamp::{self, EpochUnit, TimestampFormat};

mod key_names;
mod one_pass;

use key_names::KeyNames;

/// serde_json refuses deeper documents, so deeper flattening cannot happen.
const MAX_DEPTH: usize = 127;

pub const KEEP_CASE: Setting<Flag> = Setting {
    name: "NORMALIZE_KEEP_CASE",
    default: Some("false"),
    doc: "Keep the case of keys instead of lower-casing them. The OpenX SerDe matches columns case-insensitively \
          either way; lower-casing makes `Id`/`id` clashes visible here instead of in the table.",
    parser: Flag,
};

pub const SEPARATOR: Setting<Text> = Setting {
    name: "NORMALIZE_SEPARATOR",
    default: Some("_"),
    doc: "Joins the keys of flattened objects: `{\"a\":{\"b\":1}}` becomes `{\"a_b\":1}`.",
    parser: Text { max_len: 8 },
};

pub const FLATTEN_DEPTH: Setting<Depth> = Setting {
    name: "NORMALIZE_FLATTEN_DEPTH",
    default: Some("unlimited"),
    doc: "How many levels of nested objects to flatten; deeper objects stay nested (a Glue `struct` column). \
          `0` flattens nothing. Arrays always stay arrays.",
    parser: Depth,
};

pub const REPLACE_DOTS: Setting<Flag> = Setting {
    name: "NORMALIZE_REPLACE_DOTS",
    default: Some("true"),
    doc: "Turn `.` in keys into `_`, as the OpenX SerDe's `ConvertDotsInJsonKeysToUnderscores` expects.",
    parser: Flag,
};

pub const SAFE_KEYS: Setting<Flag> = Setting {
    name: "NORMALIZE_SAFE_KEYS",
    default: Some("true"),
    doc: "Turn every other character a Glue column name cannot hold (`-`, space, `/`, `:`, `@`, …; letters, \
          digits, `_` and `.` stay) into `_`: `User-Agent` becomes `user_agent`, which a column can match.",
    parser: Flag,
};

pub const RENAME: Setting<Pairs> = Setting {
    name: "NORMALIZE_RENAME",
    default: None,
    doc: "Rename top-level keys after normalising, e.g. Hive keywords: `timestamp=ts,date=dt`.",
    parser: Pairs,
};

pub const TIMESTAMP_FIELDS: Setting<Names> = Setting {
    name: "NORMALIZE_TIMESTAMP_FIELDS",
    default: None,
    doc: "Top-level keys (as they come out: normalised and renamed) whose values are converted to \
          `NORMALIZE_TIMESTAMP_FORMAT`. Reads epoch numbers, ISO 8601 / RFC 3339, `yyyy-MM-dd HH:mm:ss` (UTC) and \
          RFC 2822. A value that is not a timestamp fails the record; `null` and absent keys are left alone.",
    parser: Names,
};

pub const TIMESTAMP_FORMAT: Setting<Choice> = Setting {
    name: "NORMALIZE_TIMESTAMP_FORMAT",
    default: Some("iso"),
    doc: "How converted timestamps are written, all UTC and all read by the OpenX SerDe: `iso` \
          (`2024-05-01T12:30:00.123Z`), `hive` (`2024-05-01 12:30:00.123`), `epoch_millis`, `epoch_seconds`.",
    parser: Choice(TimestampFormat::WORDS),
};

pub const EPOCH_UNIT: Setting<Choice> = Setting {
    name: "NORMALIZE_EPOCH_UNIT",
    default: Some("auto"),
    doc: "Unit of numeric timestamps. `auto` goes by size: below 10^11 seconds, below 10^14 milliseconds, \
          below 10^17 microseconds, else nanoseconds.",
    parser: Choice(EpochUnit::WORDS),
};

pub const ON_COLLISION: Setting<Choice> = Setting {
    name: "NORMALIZE_ON_COLLISION",
    default: Some("suffix"),
    doc: "When two keys become the same: `suffix` keeps the first and numbers the later ones (`id`, `id_2`) \
          with a WARN naming the key; `fail` makes the record `ProcessingFailed`.",
    parser: Choice(&["suffix", "fail"]),
};

pub const NEWLINE: Setting<Flag> = Setting {
    name: "NORMALIZE_NEWLINE",
    default: Some("true"),
    doc: "End each record with `\\n`, so S3 objects hold one JSON object per line. Turn off only if the \
          stream appends its own delimiter (`AppendDelimiterToRecord`).",
    parser: Flag,
};

/// The settings of `firehose-normalize`.
pub const SETTINGS: SettingGroup = SettingGroup {
    prefix: "NORMALIZE_",
    settings: &[
        &KEEP_CASE,
        &SEPARATOR,
        &FLATTEN_DEPTH,
        &REPLACE_DOTS,
        &SAFE_KEYS,
        &RENAME,
        &TIMESTAMP_FIELDS,
        &TIMESTAMP_FORMAT,
        &EPOCH_UNIT,
        &ON_COLLISION,
        &NEWLINE,
    ],
};

/// A flattening depth: a number of levels, or `unlimited`.
pub struct Depth;

impl Parse for Depth {
    type Value = usize;
    fn parse(&self, raw: &str) -> Result<usize, String> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("unlimited") {
            return Ok(MAX_DEPTH);
        }
        match raw.parse::<usize>() {
            Ok(n) if n <= MAX_DEPTH => Ok(n),
            Ok(_) => Err("out of range".to_owned()),
            Err(_) => Err("not a whole number".to_owned()),
        }
    }
    fn expects(&self) -> String {
        format!("a whole number from 0 to {MAX_DEPTH}, or `unlimited`")
    }
}

/// The `normalize` step.
#[derive(Debug, Clone)]
pub struct Normalize {
    separator: String,
    flatten_depth: usize,
    key_names: KeyNames,
    renames: HashMap<String, String>,
    timestamp_fields: Vec<String>,
    timestamp_format: TimestampFormat,
    epoch_unit: EpochUnit,
    fail_on_collision: bool,
    newline: bool,
}

impl Default for Normalize {
    /// The defaults of every `NORMALIZE_` setting.
    fn default() -> Self {
        Normalize {
            separator: "_".to_owned(),
            flatten_depth: MAX_DEPTH,
            key_names: KeyNames::new(false, true, true),
            renames: HashMap::new(),
            timestamp_fields: Vec::new(),
            timestamp_format: TimestampFormat::Iso,
            epoch_unit: EpochUnit::Auto,
            fail_on_collision: false,
            newline: true,
        }
    }
}

impl Normalize {
    /// Builds the step from its `NORMALIZE_` settings, refusing any that could never work.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingError> {
        let keep_case = settings.get(&KEEP_CASE)?;
        let renames = settings.optional(&RENAME)?.unwrap_or_default();
        let timestamp_fields = settings.optional(&TIMESTAMP_FIELDS)?.unwrap_or_default();
        if !keep_case {
            unreachable_names(&RENAME, renames.iter().map(|(from, _)| from.as_str()))?;
            unreachable_names(
                &TIMESTAMP_FIELDS,
                timestamp_fields.iter().map(String::as_str),
            )?;
        }
        let mut targets = HashSet::new();
        if let Some((_, to)) = renames.iter().find(|(_, to)| !targets.insert(to.as_str())) {
            return Err(SettingError::invalid(
                &RENAME,
                to,
                format!("two keys are renamed to `{to}`"),
            ));
        }
        let words = |s: &Setting<Choice>| settings.get(s);
        Ok(Normalize {
            separator: settings.get(&SEPARATOR)?,
            flatten_depth: settings.get(&FLATTEN_DEPTH)?,
            key_names: KeyNames::new(
                keep_case,
                settings.get(&REPLACE_DOTS)?,
                settings.get(&SAFE_KEYS)?,
            ),
            renames: renames.into_iter().collect(),
            timestamp_fields,
            timestamp_format: TimestampFormat::from_word(words(&TIMESTAMP_FORMAT)?)
                .unwrap_or(TimestampFormat::Iso),
            epoch_unit: EpochUnit::from_word(words(&EPOCH_UNIT)?).unwrap_or(EpochUnit::Auto),
            fail_on_collision: words(&ON_COLLISION)? == "fail",
            newline: settings.get(&NEWLINE)?,
        })
    }

    fn key(&self, raw: String, prefix: Option<&str>) -> String {
        let mut key = String::with_capacity(raw.len() + prefix.map_or(0, |p| p.len() + 1));
        if let Some(prefix) = prefix {
            key.push_str(prefix);
            key.push_str(&self.separator);
        }
        self.key_names.push(&raw, &mut key);
        key
    }

    fn flatten(
        &self,
        object: Map<String, Value>,
        prefix: Option<&str>,
        depth: usize,
        out: &mut Keys,
    ) -> Result<(), TransformError> {
        for (raw, value) in object {
            let key = self.key(raw, prefix);
            match value {
                Value::Object(inner) if depth < self.flatten_depth && !inner.is_empty() => {
                    self.flatten(inner, Some(&key), depth + 1, out)?;
                }
                other => {
                    let value = self.nested(other, out)?;
                    let key = self.renames.get(&key).cloned().unwrap_or(key);
                    out.insert(key, value, self)?;
                }
            }
        }
        Ok(())
    }

    /// A value kept as it is, but with the keys of objects inside it normalised too.
    fn nested(&self, value: Value, outer: &mut Keys) -> Result<Value, TransformError> {
        Ok(match value {
            Value::Object(object) => {
                let mut keys = Keys::with_capacity(object.len());
                for (raw, inner) in object {
                    let inner = self.nested(inner, outer)?;
                    keys.insert(self.key(raw, None), inner, self)?;
                }
                outer.collided.append(&mut keys.collided);
                Value::Object(keys.map)
            }
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| self.nested(item, outer))
                    .collect::<Result<_, _>>()?,
            ),
            scalar => scalar,
        })
    }

    fn convert_timestamps(&self, object: &mut Map<String, Value>) -> Result<(), TransformError> {
        for field in &self.timestamp_fields {
            if let Some(value) = object.get_mut(field).filter(|v| !v.is_null()) {
                let at = timestamp::read(value, self.epoch_unit)
                    .map_err(|why| TransformError::new(format!("field `{field}`: {why}")))?;
                *value = self.timestamp_format.write(at);
            }
        }
        Ok(())
    }
}

/// The keys being built, and the ones that collided.
struct Keys {
    map: Map<String, Value>,
    collided: Vec<String>,
}

impl Keys {
    fn with_capacity(n: usize) -> Self {
        Keys {
            map: Map::with_capacity(n),
            collided: Vec::new(),
        }
    }

    fn insert(
        &mut self,
        key: String,
        value: Value,
        rules: &Normalize,
    ) -> Result<(), TransformError> {
        if !self.map.contains_key(&key) {
            self.map.insert(key, value);
            return Ok(());
        }
        if rules.fail_on_collision {
            return Err(TransformError::new(format!(
                "two keys become `{key}` after normalising"
            )));
        }
        let free = (2..)
            .map(|n| format!("{key}{}{n}", rules.separator))
            .find(|k| !self.map.contains_key(k));
        if let Some(free) = free {
            self.map.insert(free, value);
        }
        self.collided.push(key);
        Ok(())
    }
}

impl Transform for Normalize {
    fn name(&self) -> &str {
        "normalize"
    }

    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        if let Some(text) = record
            .unparsed()
            .and_then(|bytes| one_pass::rewrite(self, bytes))
        {
            record.set_json_text(text);
            record.set_json_newline(self.newline);
            return Ok(Verdict::Keep);
        }
        let object = std::mem::take(record.json_object()?);
        let mut keys = Keys::with_capacity(object.len());
        self.flatten(object, None, 0, &mut keys)?;
        self.convert_timestamps(&mut keys.map)?;
        if !keys.collided.is_empty() {
            warn!(record_id = record.id(), keys = ?keys.collided, "keys collided after normalising; later ones were numbered");
        }
        *record.json_object()? = keys.map;
        record.set_json_newline(self.newline);
        Ok(Verdict::Keep)
    }
}

/// Names with capitals can never match lower-cased keys: say so at start-up.
fn unreachable_names<'a>(
    setting: &dyn Declared,
    mut names: impl Iterator<Item = &'a str>,
) -> Result<(), SettingError> {
    match names.find(|n| n.chars().any(char::is_uppercase)) {
        Some(name) => Err(SettingError::invalid(
            setting,
            name,
            format!(
                "`{name}` can never match: keys are lower-cased (write `{}`, or set NORMALIZE_KEEP_CASE=true)",
                name.to_lowercase()
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Env;
    use serde_json::json;

    fn normalize_with(pairs: &[(&str, &str)], input: &str) -> Result<String, TransformError> {
        let settings =
            Settings::load(Env::from_pairs(pairs.iter().copied()), &[&SETTINGS]).unwrap();
        let step = Normalize::from_settings(&settings).unwrap();
        let mut record = Record::detached(input);
        step.apply(&mut record)?;
        Ok(String::from_utf8(record.bytes().to_vec()).unwrap())
    }

    fn normalize(input: &str) -> String {
        normalize_with(&[], input).unwrap()
    }

    #[test]
    fn keys_are_lower_cased_dotless_and_flattened() {
        assert_eq!(
            normalize(
                r#"{"User":{"Name":"Ann","Geo.City":"Kyiv"},"Tags":["A",{"K.X":1}],"ok":true}"#
            ),
            r#"{"user_name":"Ann","user_geo_city":"Kyiv","tags":["A",{"k_x":1}],"ok":true}"#
        );
    }

    #[test]
    fn the_readme_example() {
        let out = normalize_with(
            &[
                ("NORMALIZE_RENAME", "timestamp=ts"),
                ("NORMALIZE_TIMESTAMP_FIELDS", "ts"),
            ],
            r#"{"Timestamp":1714566600,"HTTP":{"Method":"GET","Status.Code":200},"Tags":["a"],"Bytes":18446744073709551615}"#,
        );
        assert_eq!(
            out.unwrap(),
            r#"{"ts":"2024-05-01T12:30:00Z","http_method":"GET","http_status_code":200,"tags":["a"],"bytes":18446744073709551615}"#
        );
    }

    #[test]
    fn characters_a_column_cannot_hold_become_underscores() {
        assert_eq!(
            normalize(r#"{"User-Agent":1,"a b/c:d@e":2,"Zürich":3}"#),
            r#"{"user_agent":1,"a_b_c_d_e":2,"zürich":3}"#
        );
        assert_eq!(
            normalize_with(&[("NORMALIZE_SAFE_KEYS", "false")], r#"{"User-Agent":1}"#).unwrap(),
            r#"{"user-agent":1}"#
        );
    }

    #[test]
    fn values_keep_their_exact_text() {
        let input = r#"{"u":18446744073709551615,"i":-9223372036854775808,"big":1234567890123456789012,"f":0.10,"e":1e+5}"#;
        assert_eq!(normalize(input), input);
    }

    #[test]
    fn collisions_number_later_keys_in_document_order() {
        assert_eq!(
            normalize(r#"{"Id":1,"id":2,"ID":3}"#),
            r#"{"id":1,"id_2":2,"id_3":3}"#
        );
        assert_eq!(
            normalize(r#"{"a":{"b":1},"a.b":2,"a_b":3}"#),
            r#"{"a_b":1,"a_b_2":2,"a_b_3":3}"#
        );
        assert_eq!(
            normalize(r#"{"o":[{"K":1,"k":2}]}"#),
            r#"{"o":[{"k":1,"k_2":2}]}"#
        );
    }

    #[test]
    fn what_the_one_pass_leaves_the_tree_writes() {
        assert_eq!(normalize(r#"{"\u0041":"x","B":1}"#), r#"{"a":"x","b":1}"#);
        assert_eq!(normalize(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
        assert_eq!(normalize(r#"{"A":1,"a":2}"#), r#"{"a":1,"a_2":2}"#);
    }

    #[test]
    fn collisions_can_fail_the_record() {
        let err = normalize_with(&[("NORMALIZE_ON_COLLISION", "fail")], r#"{"Id":1,"id":2}"#)
            .unwrap_err();
        assert_eq!(err.to_string(), "two keys become `id` after normalising");
    }

    #[test]
    fn depth_separator_case_and_dots_are_settings() {
        let input = r#"{"A":{"B":{"C.D":1}}}"#;
        assert_eq!(
            normalize_with(&[("NORMALIZE_FLATTEN_DEPTH", "1")], input).unwrap(),
            r#"{"a_b":{"c_d":1}}"#
        );
        assert_eq!(
            normalize_with(&[("NORMALIZE_FLATTEN_DEPTH", "0")], input).unwrap(),
            r#"{"a":{"b":{"c_d":1}}}"#
        );
        assert_eq!(
            normalize_with(&[("NORMALIZE_SEPARATOR", "__")], input).unwrap(),
            r#"{"a__b__c_d":1}"#
        );
        assert_eq!(
            normalize_with(
                &[
                    ("NORMALIZE_KEEP_CASE", "true"),
                    ("NORMALIZE_REPLACE_DOTS", "false")
                ],
                input
            )
            .unwrap(),
            r#"{"A_B_C.D":1}"#
        );
    }

    #[test]
    fn renames_and_timestamps_apply_to_output_names() {
        let out = normalize_with(
            &[
                ("NORMALIZE_RENAME", "timestamp=ts"),
                ("NORMALIZE_TIMESTAMP_FIELDS", "ts,missing,none"),
            ],
            r#"{"Timestamp":1714566600,"none":null}"#,
        )
        .unwrap();
        assert_eq!(out, r#"{"ts":"2024-05-01T12:30:00Z","none":null}"#);
        let err = normalize_with(&[("NORMALIZE_TIMESTAMP_FIELDS", "ts")], r#"{"ts":"soon"}"#)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "field `ts`: a string of 4 characters that is not a timestamp"
        );
    }

    #[test]
    fn empty_objects_stay_and_non_objects_fail() {
        assert_eq!(normalize(r#"{"a":{}}"#), r#"{"a":{}}"#);
        for input in ["[1]", "3", "\"s\"", "", "{\"a\":"] {
            assert!(normalize_with(&[], input).is_err(), "{input}");
        }
    }

    #[test]
    fn newline_follows_its_setting() {
        let settings = Settings::load(
            Env::from_pairs([("NORMALIZE_NEWLINE", "false")]),
            &[&SETTINGS],
        )
        .unwrap();
        let step = Normalize::from_settings(&settings).unwrap();
        let mut record = Record::detached("{}");
        step.apply(&mut record).unwrap();
        assert!(
            matches!(record.finish().0, crate::pipeline::record::Output::Changed(b) if b == b"{}")
        );
    }

    #[test]
    fn settings_that_could_never_work_stop_start_up() {
        let build = |pairs: &[(&str, &str)]| {
            let settings =
                Settings::load(Env::from_pairs(pairs.iter().copied()), &[&SETTINGS]).unwrap();
            Normalize::from_settings(&settings).unwrap_err().to_string()
        };
        assert!(build(&[("NORMALIZE_RENAME", "Timestamp=ts")]).contains("write `timestamp`"));
        assert!(build(&[("NORMALIZE_RENAME", "a=x,b=x")]).contains("two keys are renamed to `x`"));
        assert!(
            build(&[("NORMALIZE_FLATTEN_DEPTH", "1000")])
                .starts_with("NORMALIZE_FLATTEN_DEPTH=\"1000\" is invalid")
        );
        assert!(build(&[("NORMALIZE_TIMESTAMP_FORMAT", "unix")]).contains("one of `iso`, `hive`"));
    }

    #[test]
    fn every_default_reads_with_its_own_parser() {
        for setting in SETTINGS.settings {
            assert!(setting.default_is_valid(), "{}", setting.name());
        }
        let defaults = Settings::load(Env::default(), &[&SETTINGS]).unwrap();
        let from_settings = Normalize::from_settings(&defaults).unwrap();
        assert_eq!(
            format!("{from_settings:?}"),
            format!("{:?}", Normalize::default())
        );
    }

    #[test]
    fn unchanged_output_for_a_flat_lower_case_object() {
        assert_eq!(
            normalize(&json!({"a": 1, "b": "x"}).to_string()),
            r#"{"a":1,"b":"x"}"#
        );
    }
}
