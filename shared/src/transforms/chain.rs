//! `firehose-pipeline`: built-in steps chained in one Lambda function, named by
//! `PIPELINE_STEPS` and each configured by its own prefix. The steps to choose
//! from are a catalogue the function passes in (this crate's [`BUILT_IN`](crate::transforms::BUILT_IN) and
//! steps of other crates, such as `validate`).
//!
//! The record is decoded once and parsed at most once for the whole chain:
//! every step works on the same parsed value, written out once at the end.

use crate::pipeline::Pipeline;
use crate::settings::{Names, Setting, SettingError, SettingGroup, Settings};
use crate::transforms::BuiltIn;

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

/// Builds the chain `PIPELINE_STEPS` names, from the steps of `catalogue`.
///
/// An unknown or repeated step stops the function, and so does a setting of a
/// step that is not in the chain: it would otherwise be silently ignored.
pub fn from_settings(
    catalogue: &[&BuiltIn],
    settings: &Settings,
) -> Result<Pipeline, SettingError> {
    let names = settings.get(&STEPS)?;
    // The value as the user wrote it, for messages.
    let raw = settings
        .env()
        .get(STEPS.name)
        .unwrap_or_default()
        .to_owned();
    let mut chosen: Vec<&BuiltIn> = Vec::new();
    for name in &names {
        let step = catalogue
            .iter()
            .copied()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                SettingError::invalid(
                    &STEPS,
                    &raw,
                    format!("unknown step `{name}`; the steps are: {}", known(catalogue)),
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
    for unused in catalogue
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

fn known(catalogue: &[&BuiltIn]) -> String {
    catalogue
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The settings of `firehose-pipeline`: its own and every step's of `catalogue`.
pub fn setting_groups(catalogue: &[&'static BuiltIn]) -> Vec<&'static SettingGroup> {
    let mut groups = vec![&SETTINGS];
    groups.extend(catalogue.iter().map(|s| s.settings));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Env;
    use crate::transforms::BUILT_IN;

    fn chain(pairs: &[(&str, &str)]) -> Result<Pipeline, SettingError> {
        let groups = setting_groups(BUILT_IN);
        let settings = Settings::load(Env::from_pairs(pairs.iter().copied()), &groups)?;
        from_settings(BUILT_IN, &settings)
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
                known(BUILT_IN)
            )
        );
        assert!(known(BUILT_IN).starts_with("normalize, filter, enrich, access-log"));
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
