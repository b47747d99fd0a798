//! `firehose-pipeline`: built-in steps chained in one Lambda function, named by
//! `PIPELINE_STEPS` and each configured by its own prefix.
//!
//! The record is decoded once and parsed at most once for the whole chain:
//! every step works on the same parsed value, written out once at the end.

use std::process::ExitCode;

use crate::lambda;
use crate::pipeline::Pipeline;
use crate::settings::{Names, Setting, SettingError, SettingGroup, Settings};
use crate::transforms::{BUILT_IN, BuiltIn};

pub const STEPS: Setting<Names> = Setting {
    name: "PIPELINE_STEPS",
    default: None,
    doc: "The steps to run, in order, e.g. `normalize,filter,validate,enrich`: any of the built-in steps, \
          each at most once, each configured by its own settings (`FILTER_KEEP`, …).",
    parser: Names,
};

/// The settings of `firehose-pipeline` itself.
pub const SETTINGS: SettingGroup = SettingGroup {
    prefix: "PIPELINE_",
    settings: &[&STEPS],
};

/// Builds the chain `PIPELINE_STEPS` names.
///
/// An unknown or repeated step stops the function, and so does a setting of a
/// step that is not in the chain: it would otherwise be silently ignored.
pub fn from_settings(settings: &Settings) -> Result<Pipeline, SettingError> {
    let names = settings.get(&STEPS)?;
    // The value as the user wrote it, for messages.
    let raw = settings
        .env()
        .get(STEPS.name)
        .unwrap_or_default()
        .to_owned();
    let mut chosen: Vec<&BuiltIn> = Vec::new();
    for name in &names {
        let step = BUILT_IN
            .iter()
            .copied()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                SettingError::invalid(
                    &STEPS,
                    &raw,
                    format!("unknown step `{name}`; the steps are: {}", known()),
                )
            })?;
        if chosen.iter().any(|c| c.name == step.name) {
            return Err(SettingError::invalid(
                &STEPS,
                &raw,
                format!(
                    "`{}` is listed twice; its settings configure one step",
                    step.name
                ),
            ));
        }
        if step.reads_raw_records && !chosen.is_empty() {
            return Err(SettingError::invalid(
                &STEPS,
                &raw,
                format!("`{}` reads raw records, so it must come first", step.name),
            ));
        }
        chosen.push(step);
    }
    for unused in BUILT_IN
        .iter()
        .filter(|s| !chosen.iter().any(|c| c.name == s.name))
    {
        if let Some(name) = settings.first_set(unused.settings) {
            return Err(SettingError::Conflict(format!(
                "{name} is set but `{}` is not in PIPELINE_STEPS={raw}",
                unused.name
            )));
        }
    }
    let mut pipeline = Pipeline::new();
    for step in chosen {
        pipeline = pipeline.then(step.build(settings)?);
    }
    Ok(pipeline)
}

fn known() -> String {
    BUILT_IN
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Serves the chain as the Lambda function `firehose-pipeline`.
pub fn serve() -> ExitCode {
    let mut groups = vec![&SETTINGS];
    groups.extend(BUILT_IN.iter().map(|s| s.settings));
    lambda::serve("firehose-pipeline", &groups, from_settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Env;

    fn chain(pairs: &[(&str, &str)]) -> Result<Pipeline, SettingError> {
        let mut groups = vec![&SETTINGS];
        groups.extend(BUILT_IN.iter().map(|s| s.settings));
        let settings = Settings::load(Env::from_pairs(pairs.iter().copied()), &groups)?;
        from_settings(&settings)
    }

    #[test]
    fn steps_run_in_the_order_given() {
        let p = chain(&[
            ("PIPELINE_STEPS", "enrich, Normalize,filter"),
            ("ENRICH_FIELDS", r#"{"Env":"prod"}"#),
            ("FILTER_KEEP", ".env == \"prod\""),
        ])
        .unwrap();
        assert_eq!(p.step_names(), ["enrich", "normalize", "filter"]);
    }

    #[test]
    fn unknown_repeated_and_unused_steps_stop_it() {
        let err = chain(&[("PIPELINE_STEPS", "normalize,uppercase")])
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            format!(
                "PIPELINE_STEPS=\"normalize,uppercase\" is invalid: unknown step `uppercase`; the steps are: \
                 {} (expected names separated by commas, e.g. `a,b`)",
                known()
            )
        );
        assert!(known().starts_with("normalize, filter, validate, enrich, access-log"));
        let err = chain(&[("PIPELINE_STEPS", "normalize,normalize")])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("listed twice"), "{err}");
        let err = chain(&[("PIPELINE_STEPS", "normalize"), ("FILTER_KEEP", "true")])
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            "FILTER_KEEP is set but `filter` is not in PIPELINE_STEPS=normalize"
        );
        assert_eq!(chain(&[]).err().unwrap().error_type(), "MissingSetting");
        let err = chain(&[("PIPELINE_STEPS", "normalize,access-log")])
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("`access-log` reads raw records, so it must come first"),
            "{err}"
        );
        // A step's own settings are still checked.
        let err = chain(&[("PIPELINE_STEPS", "filter")])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("FILTER_KEEP is not set"), "{err}");
    }
}
