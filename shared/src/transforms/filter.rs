//! `filter`: keeps or drops each JSON record by a jq expression.
//!
//! The expression is compiled at start-up and runs on the record as parsed
//! (and as changed by earlier steps). As with jq's `select`, it is true when
//! any of its outputs is neither `false` nor `null`; no output is false. A
//! runtime error (indexing a string, say) fails the record with jq's message.

use crate::jq::{Jq, JqProgram};
use crate::pipeline::record::Record;
use crate::pipeline::transform::{Transform, TransformError, Verdict};
use crate::settings::{Setting, SettingError, SettingGroup, Settings};

pub const KEEP: Setting<JqProgram> = Setting {
    name: "FILTER_KEEP",
    default: None,
    doc: "Keep the records for which this jq expression is true, e.g. `.level != \"DEBUG\"`; the others are \
          `Dropped`. Set this or `FILTER_DROP`.",
    parser: JqProgram,
};

pub const DROP: Setting<JqProgram> = Setting {
    name: "FILTER_DROP",
    default: None,
    doc: "Drop the records for which this jq expression is true, e.g. `.path | startswith(\"/health\")`; the \
          others are kept. Set this or `FILTER_KEEP`.",
    parser: JqProgram,
};

/// The settings of `firehose-filter`.
pub const SETTINGS: SettingGroup = SettingGroup {
    prefix: "FILTER_",
    settings: &[&KEEP, &DROP],
};

/// Keeps or drops records by a jq expression.
pub struct Filter {
    program: Jq,
    /// `true` for `FILTER_KEEP`, `false` for `FILTER_DROP`.
    keep_when_true: bool,
}

impl Filter {
    /// Keeps the records for which `program` is true.
    pub fn keep(program: Jq) -> Self {
        Filter {
            program,
            keep_when_true: true,
        }
    }

    /// Drops the records for which `program` is true.
    pub fn drop(program: Jq) -> Self {
        Filter {
            program,
            keep_when_true: false,
        }
    }

    /// Reads `FILTER_KEEP` or `FILTER_DROP`: exactly one must be set.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingError> {
        match (settings.optional(&KEEP)?, settings.optional(&DROP)?) {
            (Some(program), None) => Ok(Filter::keep(program)),
            (None, Some(program)) => Ok(Filter::drop(program)),
            (Some(_), Some(_)) => Err(SettingError::Conflict(
                "FILTER_KEEP and FILTER_DROP are both set; set one of them".to_owned(),
            )),
            (None, None) => Err(SettingError::Missing {
                name: KEEP.name,
                hint: "set FILTER_KEEP (a jq expression: records for which it is true are kept) \
                       or FILTER_DROP (records for which it is true are dropped)"
                    .to_owned(),
            }),
        }
    }
}

impl Transform for Filter {
    fn name(&self) -> &str {
        "filter"
    }

    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        let matched = self.program.any_true(record.json_value()?)?;
        Ok(if matched == self.keep_when_true {
            Verdict::Keep
        } else {
            Verdict::Drop
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Env;

    fn filter(pairs: &[(&str, &str)]) -> Result<Filter, SettingError> {
        let settings = Settings::load(Env::from_pairs(pairs.iter().copied()), &[&SETTINGS])?;
        Filter::from_settings(&settings)
    }

    fn verdict(f: &Filter, record: &str) -> Result<Verdict, TransformError> {
        f.apply(&mut Record::detached(record))
    }

    #[test]
    fn keep_and_drop_are_opposites() {
        let keep = filter(&[("FILTER_KEEP", r#".level == "ERROR""#)]).unwrap();
        let drop = filter(&[("FILTER_DROP", r#".level == "ERROR""#)]).unwrap();
        let error = r#"{"level":"ERROR"}"#;
        let info = r#"{"level":"INFO"}"#;
        assert_eq!(verdict(&keep, error).unwrap(), Verdict::Keep);
        assert_eq!(verdict(&keep, info).unwrap(), Verdict::Drop);
        assert_eq!(verdict(&drop, error).unwrap(), Verdict::Drop);
        assert_eq!(verdict(&drop, info).unwrap(), Verdict::Keep);
    }

    #[test]
    fn runtime_errors_and_non_json_fail_the_record() {
        let keep = filter(&[("FILTER_KEEP", ".a.b > 1")]).unwrap();
        let err = verdict(&keep, r#"{"a":"text"}"#).unwrap_err().to_string();
        assert!(err.starts_with("jq: cannot index"), "{err}");
        assert!(matches!(
            verdict(&keep, "not json"),
            Err(TransformError::NotJson(_))
        ));
    }

    #[test]
    fn settings_are_checked_at_start_up() {
        let err = filter(&[("FILTER_KEEP", ".a ==")])
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            r#"FILTER_KEEP=".a ==" is invalid: expected term, found end of input (expected a jq expression)"#
        );
        let both = filter(&[("FILTER_KEEP", "true"), ("FILTER_DROP", "true")]);
        assert!(matches!(both, Err(SettingError::Conflict(_))));
        let none = filter(&[]).err().unwrap();
        assert_eq!(none.error_type(), "MissingSetting");
        assert!(none.to_string().contains("FILTER_DROP"), "{none}");
    }
}
