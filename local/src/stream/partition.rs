//! Dynamic partitioning: each delivered record's partition keys, from the
//! `MetadataExtraction` processor's jq query (`partitionKeyFromQuery`) and
//! from the function's `metadata.partitionKeys` (`partitionKeyFromLambda`).
//! The query runs with jaq, the jq the project's functions use. A record
//! whose keys cannot be had goes to `partitioning-failed`, as Firehose sends it.

use std::collections::BTreeMap;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;

use crate::nesting::{self, MAX_JSON_DEPTH};
use crate::sink::prefix::{KeySource, PartitionKeys, Prefix};

type JaqData = data::JustLut<Val>;

/// The most characters an evaluated prefix may have.
pub const MAX_PREFIX_CHARS: usize = 512;

/// A compiled `MetadataExtractionQuery`.
pub struct Query {
    filter: jaq_core::Filter<JaqData>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Query")
    }
}

impl Query {
    /// Compiles `code` with jq's standard library.
    pub fn compile(code: &str) -> Result<Query, String> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(&arena, File { code, path: () })
            .map_err(|errors| {
                format!(
                    "jq cannot read it ({} errors: {:?})",
                    errors.len(),
                    errors.first().map(|e| &e.1)
                )
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let names: Vec<&str> = errors
                    .iter()
                    .flat_map(|(_, e)| e.iter().map(|(name, _)| *name))
                    .collect();
                format!("jq does not know {}", names.join(", "))
            })?;
        Ok(Query { filter })
    }

    /// The keys the query makes of `data`: its one output, an object of strings or numbers.
    pub fn keys(&self, data: &[u8]) -> Result<BTreeMap<String, String>, String> {
        if nesting::too_deep(data) {
            return Err(format!(
                "the record nests JSON deeper than the {MAX_JSON_DEPTH} levels firehose-local reads"
            ));
        }
        let input = jaq_json::read::parse_single(data)
            .map_err(|_| "Non JSON record provided".to_owned())?;
        let ctx = Ctx::<JaqData>::new(&self.filter.lut, Vars::new([]));
        let mut outputs = self.filter.id.run((ctx, input)).map(unwrap_valr);
        let output = match outputs.next() {
            Some(Ok(output)) => output,
            Some(Err(e)) => return Err(format!("the MetadataExtractionQuery failed: {e}")),
            None => return Err("the MetadataExtractionQuery gave no output".to_owned()),
        };
        let Val::Obj(object) = output else {
            return Err("the MetadataExtractionQuery did not give an object".to_owned());
        };
        let mut keys = BTreeMap::new();
        for (key, value) in object.iter() {
            let text = match value {
                Val::TStr(s) | Val::BStr(s) => String::from_utf8_lossy(s).into_owned(),
                Val::Num(n) => n.to_string(),
                Val::Bool(b) => b.to_string(),
                _ => continue,
            };
            let key = match key {
                Val::TStr(s) | Val::BStr(s) => String::from_utf8_lossy(s).into_owned(),
                other => other.to_string(),
            };
            keys.insert(key, text);
        }
        Ok(keys)
    }
}

/// A partition key's value as text, by the one rule for the query's keys and
/// the function's: a string, a number or a boolean; null, an object or an
/// array is no value, and a record whose prefix names that key fails.
pub fn key_value(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Null | serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
            None
        }
    }
}

/// The partition keys `prefix` names, from the query's and the function's keys;
/// a key missing, null or empty fails the record, as does a prefix over 512 characters.
pub fn partition_keys(
    prefix: &Prefix,
    from_query: &BTreeMap<String, String>,
    from_lambda: &BTreeMap<String, String>,
    at: &jiff::Zoned,
) -> Result<PartitionKeys, String> {
    let mut keys = PartitionKeys::new();
    for (source, name) in prefix.keys() {
        let found = match source {
            KeySource::Query => from_query.get(name),
            KeySource::Lambda => from_lambda.get(name),
        };
        match found {
            Some(value) if !value.is_empty() => {
                keys.insert((source, name.to_owned()), value.clone());
            }
            _ => {
                return Err(format!(
                    "partitionKeys values must not be null or empty ({name} has none)"
                ));
            }
        }
    }
    // The random strings are 11 characters whatever their seed.
    let evaluated = prefix.evaluate(at, "", &keys, &mut fastrand::Rng::with_seed(0));
    if evaluated.chars().count() > MAX_PREFIX_CHARS {
        return Err(format!(
            "the evaluated prefix is over {MAX_PREFIX_CHARS} characters"
        ));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> jiff::Zoned {
        "2026-07-13T14:05:06+00:00[UTC]".parse().unwrap()
    }

    #[test]
    fn the_query_makes_keys_of_strings_and_numbers() {
        let query = Query::compile("{customer: .customer_id, year: .when[:4], n: .n}").unwrap();
        let keys = query
            .keys(br#"{"customer_id":"c7","when":"2026-01-01","n":12}"#)
            .unwrap();
        assert_eq!(keys["customer"], "c7");
        assert_eq!(keys["year"], "2026");
        assert_eq!(keys["n"], "12");
        assert_eq!(
            query.keys(b"not json").unwrap_err(),
            "Non JSON record provided"
        );
        assert!(Query::compile("{a: nope(.)}").unwrap_err().contains("nope"));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(
            query
                .keys(deep.as_bytes())
                .unwrap_err()
                .contains("deeper than the 127 levels")
        );
        assert!(Query::compile("{a: .").is_err());
    }

    #[test]
    fn one_rule_for_key_values_null_objects_and_arrays_are_none() {
        let query = Query::compile("{a: .a}").unwrap();
        for (json, expected) in [
            (r#""x""#, Some("x")),
            ("12", Some("12")),
            ("true", Some("true")),
            ("null", None),
            ("[1]", None),
            (r#"{"b":1}"#, None),
        ] {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(key_value(&value).as_deref(), expected, "{json}");
            let record = format!("{{\"a\":{json}}}");
            let from_query = query.keys(record.as_bytes()).unwrap();
            assert_eq!(from_query.get("a").map(String::as_str), expected, "{json}");
        }
    }

    #[test]
    fn keys_the_prefix_names_must_be_there() {
        let prefix = Prefix::output(
            "c=!{partitionKeyFromQuery:customer}/t=!{partitionKeyFromLambda:tenant}/",
        )
        .unwrap();
        let query = BTreeMap::from([
            ("customer".to_owned(), "c7".to_owned()),
            ("unused".to_owned(), "x".to_owned()),
        ]);
        let lambda = BTreeMap::from([("tenant".to_owned(), "t1".to_owned())]);
        let keys = partition_keys(&prefix, &query, &lambda, &at()).unwrap();
        assert_eq!(keys.len(), 2, "only the keys the prefix names: {keys:?}");
        assert!(
            partition_keys(&prefix, &query, &BTreeMap::new(), &at())
                .unwrap_err()
                .contains("tenant")
        );
        let empty = BTreeMap::from([("tenant".to_owned(), String::new())]);
        assert!(partition_keys(&prefix, &query, &empty, &at()).is_err());
        let long = BTreeMap::from([("tenant".to_owned(), "t".repeat(600))]);
        assert!(
            partition_keys(&prefix, &query, &long, &at())
                .unwrap_err()
                .contains("512")
        );
    }
}
