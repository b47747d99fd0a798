//! S3 prefix expressions (`Prefix`, `ErrorOutputPrefix`): `!{timestamp:...}`,
//! `!{firehose:random-string}`, `!{firehose:error-output-type}`,
//! `!{partitionKeyFromLambda:...}`, `!{partitionKeyFromQuery:...}`, read once
//! at start-up and evaluated per object.

use std::collections::BTreeMap;

use jiff::Zoned;

use super::java_time::{Pattern, PatternError};

/// Which of the two prefixes: they allow different expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixKind {
    Output,
    Error,
}

/// A prefix Firehose would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error("{0}")]
    Pattern(#[from] PatternError),
    #[error("an expression `!{{` is not closed")]
    Unclosed,
    #[error("unknown expression !{{{0}}}")]
    Unknown(String),
    #[error("!{{firehose:error-output-type}} belongs in ErrorOutputPrefix, not Prefix")]
    ErrorTypeInOutput,
    #[error("ErrorOutputPrefix cannot use !{{{0}}}: partition keys are for Prefix")]
    KeyInError(String),
}

/// Where a partition key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeySource {
    Lambda,
    Query,
}

/// A record's partition keys, by source and name.
pub type PartitionKeys = BTreeMap<(KeySource, String), String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Timestamp(Pattern),
    RandomString,
    ErrorOutputType,
    Key(KeySource, String),
}

/// A parsed prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    /// As the template gave it.
    text: String,
    parts: Vec<Part>,
}

/// The characters of `!{firehose:random-string}`.
const RANDOM_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

impl Prefix {
    /// Reads a prefix; with no timestamp expression Firehose appends `yyyy/MM/dd/HH/` (by plain concatenation).
    pub fn parse(text: &str, kind: PrefixKind) -> Result<Prefix, PrefixError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("!{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or(PrefixError::Unclosed)?;
            parts.push(expression(&after[..end], kind)?);
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Timestamp(_))) {
            parts.push(Part::Timestamp(Pattern::parse("yyyy/MM/dd/HH/")?));
        }
        Ok(Prefix {
            text: text.to_owned(),
            parts,
        })
    }

    /// The prefix as the template gave it, as `DescribeDeliveryStream` shows it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The partition keys the prefix names.
    pub fn keys(&self) -> impl Iterator<Item = (KeySource, &str)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Key(source, name) => Some((*source, name.as_str())),
            _ => None,
        })
    }

    /// The prefix of an object whose oldest record arrived `at` (in the stream's zone).
    pub fn evaluate(
        &self,
        at: &Zoned,
        error_type: &str,
        keys: &PartitionKeys,
        rng: &mut fastrand::Rng,
    ) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Timestamp(pattern) => out.push_str(&pattern.render(at)),
                Part::RandomString => {
                    out.extend(
                        (0..11).map(|_| {
                            char::from(RANDOM_ALPHABET[rng.usize(..RANDOM_ALPHABET.len())])
                        }),
                    );
                }
                Part::ErrorOutputType => out.push_str(error_type),
                Part::Key(source, name) => {
                    if let Some(value) = keys.get(&(*source, name.clone())) {
                        out.push_str(value);
                    }
                }
            }
        }
        out
    }
}

fn expression(inside: &str, kind: PrefixKind) -> Result<Part, PrefixError> {
    let unknown = || PrefixError::Unknown(inside.to_owned());
    let (namespace, value) = inside.split_once(':').ok_or_else(unknown)?;
    match (namespace, value) {
        ("timestamp", pattern) => Ok(Part::Timestamp(Pattern::parse(pattern)?)),
        ("firehose", "random-string") => Ok(Part::RandomString),
        ("firehose", "error-output-type") if kind == PrefixKind::Output => {
            Err(PrefixError::ErrorTypeInOutput)
        }
        ("firehose", "error-output-type") => Ok(Part::ErrorOutputType),
        ("partitionKeyFromLambda" | "partitionKeyFromQuery", _) if kind == PrefixKind::Error => {
            Err(PrefixError::KeyInError(inside.to_owned()))
        }
        ("partitionKeyFromLambda", name) if !name.is_empty() => {
            Ok(Part::Key(KeySource::Lambda, name.to_owned()))
        }
        ("partitionKeyFromQuery", name) if !name.is_empty() => {
            Ok(Part::Key(KeySource::Query, name.to_owned()))
        }
        _ => Err(unknown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluate(text: &str, kind: PrefixKind, keys: &PartitionKeys) -> String {
        let at: Zoned = "2026-07-13T14:05:06+00:00[UTC]".parse().unwrap();
        Prefix::parse(text, kind).unwrap().evaluate(
            &at,
            "processing-failed",
            keys,
            &mut fastrand::Rng::with_seed(7),
        )
    }

    #[test]
    fn expressions_are_evaluated_and_the_default_time_is_appended_as_is() {
        let none = PartitionKeys::new();
        assert_eq!(
            evaluate(
                "rawdata/!{timestamp:yyyy}/!{timestamp:MM}/",
                PrefixKind::Output,
                &none
            ),
            "rawdata/2026/07/"
        );
        assert_eq!(
            evaluate("legacy", PrefixKind::Output, &none),
            "legacy2026/07/13/14/"
        );
        assert_eq!(evaluate("", PrefixKind::Output, &none), "2026/07/13/14/");
        assert_eq!(
            evaluate(
                "errors/!{firehose:error-output-type}/",
                PrefixKind::Error,
                &none
            ),
            "errors/processing-failed/2026/07/13/14/"
        );
        let random = evaluate(
            "!{firehose:random-string}/!{timestamp:yyyy}",
            PrefixKind::Output,
            &none,
        );
        assert_eq!(random.len(), 16, "{random}");
        let keys =
            PartitionKeys::from([((KeySource::Lambda, "customer".to_owned()), "c7".to_owned())]);
        assert_eq!(
            evaluate(
                "c=!{partitionKeyFromLambda:customer}/!{timestamp:yyyy}/",
                PrefixKind::Output,
                &keys
            ),
            "c=c7/2026/"
        );
    }

    #[test]
    fn what_firehose_refuses_is_refused() {
        let cases = [
            ("!{firehose:error-output-type}/", PrefixKind::Output),
            ("x/!{partitionKeyFromQuery:k}/", PrefixKind::Error),
            ("!{timestamp:yyyy", PrefixKind::Output),
            ("!{firehose:nope}", PrefixKind::Output),
            ("!{timestamp:yyyy-z}", PrefixKind::Output),
        ];
        for (text, kind) in cases {
            assert!(Prefix::parse(text, kind).is_err(), "{text}");
        }
    }
}
