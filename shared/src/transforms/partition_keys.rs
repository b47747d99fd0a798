//! Partition keys for Firehose dynamic partitioning, from a jq object expression.
//!
//! `FIREHOSE_PARTITION_KEYS` is written in the jq syntax of Firehose's own
//! `MetadataExtractionQuery`, e.g. `{customer_id: .customer_id, year: (.ts |
//! strftime("%Y"))}`, and runs on the record as the function's steps left it.
//! Its object becomes `metadata.partitionKeys`, read by
//! `!{partitionKeyFromLambda:name}` in the S3 prefix. Anything Firehose's own
//! extraction would reject fails the record, so it lands under the error prefix.

use crate::jq::{self, Jq, JqProgram};
use crate::pipeline::record::Record;
use crate::pipeline::transform::{Transform, TransformError, Verdict};
use crate::settings::Setting;

pub const PARTITION_KEYS: Setting<JqProgram> = Setting {
    name: "FIREHOSE_PARTITION_KEYS",
    default: None,
    doc: "Dynamic-partitioning keys: a jq expression giving an object of strings or numbers, e.g. \
          `{customer_id: .customer_id, year: (.ts | strftime(\"%Y\"))}`, run on the transformed record. A \
          missing or wrong-typed key, or one an S3 prefix cannot hold, makes the record `ProcessingFailed`.",
    parser: JqProgram,
};

/// The longest partition key value: Firehose caps the evaluated prefix at 512 characters.
const MAX_VALUE_CHARS: usize = 512;

/// Sets each record's partition keys from a jq object expression.
pub struct PartitionKeys {
    program: Jq,
}

impl PartitionKeys {
    /// Partition keys from a compiled jq expression.
    pub fn new(program: Jq) -> Self {
        PartitionKeys { program }
    }
}

impl Transform for PartitionKeys {
    fn name(&self) -> &str {
        "partition-keys"
    }

    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        let output = self
            .program
            .run(record.json_value()?)
            .next()
            .ok_or("partition keys: the expression gave no output")?
            .map_err(|e| TransformError::from(e).context("partition keys"))?;
        let jaq_json::Val::Obj(object) = output else {
            return Err(format!(
                "partition keys: expected an object, found {}",
                jq::kind(&output)
            )
            .into());
        };
        if object.is_empty() {
            return Err("partition keys: the object is empty".into());
        }
        let mut keys = Vec::with_capacity(object.len());
        for (name, value) in object.iter() {
            let name = jq::scalar_text(name).unwrap_or_default();
            check_name(&name)?;
            let value = match value {
                jaq_json::Val::Null => {
                    return Err(format!("partition key {name:?} is missing (null)").into());
                }
                other => jq::scalar_text(other).ok_or_else(|| {
                    format!(
                        "partition key {name:?} must be a string or number, found {}",
                        jq::kind(other)
                    )
                })?,
            };
            check_value(&name, &value)?;
            keys.push((name, value));
        }
        for (name, value) in keys {
            record.set_partition_key(name, value);
        }
        Ok(Verdict::Keep)
    }
}

/// Names are what `!{partitionKeyFromLambda:name}` can spell.
fn check_name(name: &str) -> Result<(), TransformError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "partition key name {name:?} must be letters, digits, `_` or `-` (it is spelt in `!{{partitionKeyFromLambda:name}}`)"
        )
        .into())
    }
}

/// Values must make one S3 folder name: no `/`, nothing S3 asks to avoid.
fn check_value(name: &str, value: &str) -> Result<(), TransformError> {
    const AVOID: &[char] = &[
        '/', '\\', '{', '}', '^', '%', '`', '[', ']', '"', '<', '>', '~', '#', '|',
    ];
    let fail = |problem: String| Err(format!("partition key {name:?} {problem}").into());
    if value.is_empty() {
        return fail("is empty".to_owned());
    }
    if value == "." || value == ".." {
        return fail("is a relative path segment".to_owned());
    }
    if value.chars().count() > MAX_VALUE_CHARS {
        return fail(format!("is longer than {MAX_VALUE_CHARS} characters"));
    }
    match value.chars().find(|c| c.is_control() || AVOID.contains(c)) {
        Some(c) => fail(format!(
            "holds {c:?}, which an S3 prefix cannot take safely"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn keys(expression: &str, record: &str) -> Result<BTreeMap<String, String>, String> {
        let step = PartitionKeys::new(Jq::compile(expression).unwrap());
        let mut r = Record::detached(record);
        step.apply(&mut r).map_err(|e| e.to_string())?;
        Ok(r.partition_keys().clone())
    }

    #[test]
    fn strings_and_numbers_become_keys() {
        let got = keys(
            r#"{customer_id: .customer_id, year: (.ts | strftime("%Y")), n: .n}"#,
            r#"{"customer_id":"c-1","ts":1700000000,"n":42}"#,
        )
        .unwrap();
        let want: BTreeMap<String, String> =
            [("customer_id", "c-1"), ("year", "2023"), ("n", "42")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn missing_wrong_typed_and_unsafe_keys_fail_the_record() {
        let ask = "{c: .c}";
        assert_eq!(
            keys(ask, "{}").unwrap_err(),
            r#"partition key "c" is missing (null)"#
        );
        assert!(
            keys(ask, r#"{"c":[1]}"#)
                .unwrap_err()
                .contains("found an array")
        );
        assert!(
            keys(ask, r#"{"c":"a/b"}"#)
                .unwrap_err()
                .contains(r#"holds '/'"#)
        );
        assert!(keys(ask, r#"{"c":""}"#).unwrap_err().contains("is empty"));
        assert!(keys(ask, r#"{"c":".."}"#).unwrap_err().contains("relative"));
        assert!(keys(ask, r#"{"c":"a\nb"}"#).unwrap_err().contains("holds"));
        assert!(
            keys(r#"{"a b": 1}"#, "{}")
                .unwrap_err()
                .contains("name \"a b\"")
        );
        assert!(
            keys(".c", r#"{"c":"x"}"#)
                .unwrap_err()
                .contains("expected an object")
        );
        assert!(keys("{}", "{}").unwrap_err().contains("empty"));
        assert!(keys("empty", "{}").unwrap_err().contains("no output"));
        assert!(
            keys(ask, "not json")
                .unwrap_err()
                .contains("not valid JSON")
        );
    }
}
