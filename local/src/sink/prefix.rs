//! S3 prefix expressions (`Prefix`, `ErrorOutputPrefix`): `!{timestamp:...}`,
//! `!{firehose:random-string}`, `!{firehose:error-output-type}`,
//! `!{partitionKeyFromLambda:...}`, `!{partitionKeyFromQuery:...}`, read once
//! at start-up and evaluated per object, with the rules of AWS's s3-prefixes
//! page as the service applies them: `yyyy/MM/dd/HH/` is appended to a prefix
//! with no expression at all (not merely no timestamp), and an error prefix
//! with none gets `<error-output-type>/yyyy/MM/dd/HH/`.

use std::collections::BTreeMap;

use jiff::Zoned;

use super::java_time::{Pattern, PatternError};

/// Which of the two prefixes: they allow different expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrefixKind {
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
    /// AWS's words, typo included.
    #[error(
        "Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"
    )]
    ErrorPrefixMissing,
    #[error(
        "an ErrorOutputPrefix with expressions must include !{{firehose:error-output-type}} at least once"
    )]
    NoErrorType,
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
/// What Firehose appends to a prefix with no expression.
const DEFAULT_TIME: &str = "yyyy/MM/dd/HH/";

impl Prefix {
    /// Reads a `Prefix`; with no expression at all Firehose appends `yyyy/MM/dd/HH/` (by plain concatenation).
    pub fn output(text: &str) -> Result<Prefix, PrefixError> {
        let mut prefix = Prefix::parse(text, PrefixKind::Output)?;
        if prefix.is_static() {
            prefix
                .parts
                .push(Part::Timestamp(Pattern::parse(DEFAULT_TIME)?));
        }
        Ok(prefix)
    }

    /// Reads an `ErrorOutputPrefix` (`text`, empty when unset) beside its stream's `Prefix`
    /// (`output`, as the template gave it). With expressions it must name the error type and
    /// is used as it is; without, Firehose appends `<error-output-type>/yyyy/MM/dd/HH/`. An
    /// unset one takes the `Prefix`, which then may have no expression.
    pub fn error(text: &str, output: &str) -> Result<Prefix, PrefixError> {
        let given = Prefix::parse(text, PrefixKind::Error)?;
        if !given.is_static() {
            if given.parts.contains(&Part::ErrorOutputType) {
                return Ok(given);
            }
            return Err(PrefixError::NoErrorType);
        }
        let base = if !text.is_empty() {
            text
        } else if Prefix::parse(output, PrefixKind::Output)?.is_static() {
            output
        } else {
            return Err(PrefixError::ErrorPrefixMissing);
        };
        let mut parts = Vec::new();
        if !base.is_empty() {
            parts.push(Part::Text(base.to_owned()));
        }
        parts.extend([
            Part::ErrorOutputType,
            Part::Text("/".to_owned()),
            Part::Timestamp(Pattern::parse(DEFAULT_TIME)?),
        ]);
        Ok(Prefix {
            text: text.to_owned(),
            parts,
        })
    }

    /// Reads the expressions of `text`, appending nothing.
    fn parse(text: &str, kind: PrefixKind) -> Result<Prefix, PrefixError> {
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
        Ok(Prefix {
            text: text.to_owned(),
            parts,
        })
    }

    /// The prefix as the template gave it, as `DescribeDeliveryStream` shows it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether it holds no expression, only text.
    fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
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

    fn evaluate(prefix: Result<Prefix, PrefixError>, keys: &PartitionKeys) -> String {
        let at: Zoned = "2026-07-13T14:05:06+00:00[UTC]".parse().unwrap();
        prefix.unwrap().evaluate(
            &at,
            "processing-failed",
            keys,
            &mut fastrand::Rng::with_seed(7),
        )
    }

    #[test]
    fn the_time_is_appended_as_is_to_a_prefix_with_no_expression_at_all() {
        let none = PartitionKeys::new();
        let output = |text| evaluate(Prefix::output(text), &none);
        assert_eq!(
            output("rawdata/!{timestamp:yyyy}/!{timestamp:MM}/"),
            "rawdata/2026/07/"
        );
        assert_eq!(output("legacy"), "legacy2026/07/13/14/");
        assert_eq!(output(""), "2026/07/13/14/");
        // floci's observation on AWS: any expression, not only a timestamp, keeps the time off.
        let random = output("rand/!{firehose:random-string}/");
        assert_eq!(random.len(), "rand/".len() + 11 + 1, "{random}");
        // AWS's dynamic partitioning example: the object name follows the keys directly.
        let keys =
            PartitionKeys::from([((KeySource::Lambda, "customer".to_owned()), "c7".to_owned())]);
        assert_eq!(
            evaluate(
                Prefix::output("c=!{partitionKeyFromLambda:customer}/"),
                &keys
            ),
            "c=c7/"
        );
    }

    #[test]
    fn an_error_prefix_with_no_expression_gets_the_error_type_and_the_time() {
        let none = PartitionKeys::new();
        let error = |text, output| evaluate(Prefix::error(text, output), &none);
        assert_eq!(
            error(
                "errors/!{firehose:error-output-type}/",
                "x/!{timestamp:yyyy}/"
            ),
            "errors/processing-failed/"
        );
        // The s3-prefixes page's example, quotes and all.
        assert_eq!(
            error(
                "myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}",
                "myPrefix/year=!{timestamp:yyyy}/"
            ),
            "myErrorPrefix/year=2026/month=07/day=13/hour=14/processing-failed"
        );
        assert_eq!(
            error("errors/", "x/!{timestamp:yyyy}/"),
            "errors/processing-failed/2026/07/13/14/"
        );
        // Unset, it takes the Prefix (the key AWS wrote for Prefix `/retries/`).
        assert_eq!(
            error("", "/retries/"),
            "/retries/processing-failed/2026/07/13/14/"
        );
        assert_eq!(error("", ""), "processing-failed/2026/07/13/14/");
    }

    #[test]
    fn what_firehose_refuses_is_refused() {
        let refused = [
            Prefix::output("!{firehose:error-output-type}/"),
            Prefix::output("!{timestamp:yyyy"),
            Prefix::output("!{firehose:nope}"),
            Prefix::output("!{timestamp:yyyy-z}"),
            Prefix::error("x/!{partitionKeyFromQuery:k}/", ""),
        ];
        for prefix in refused {
            assert!(prefix.is_err(), "{prefix:?}");
        }
        assert_eq!(
            Prefix::error("", "data/!{timestamp:yyyy}/"),
            Err(PrefixError::ErrorPrefixMissing)
        );
        assert_eq!(
            Prefix::error("errors/!{timestamp:yyyy}/", ""),
            Err(PrefixError::NoErrorType)
        );
    }
}
