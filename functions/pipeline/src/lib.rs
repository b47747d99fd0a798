//! The catalogue of `firehose-pipeline`: every built-in step, in the order the
//! guide lists them, from the library and from the crates of their own.

use firehose_transform::transforms::{
    ACCESS_LOG, BuiltIn, CLOUDWATCH_LOGS, ENRICH, FILTER, NORMALIZE, SYSLOG,
};
use firehose_validate::VALIDATE;

/// The steps `PIPELINE_STEPS` may name.
pub const STEPS: &[&BuiltIn] = &[
    &NORMALIZE,
    &FILTER,
    &VALIDATE,
    &ENRICH,
    &ACCESS_LOG,
    &SYSLOG,
    &CLOUDWATCH_LOGS,
];

#[cfg(test)]
mod tests {
    use super::*;
    use firehose_transform::settings::{Env, Settings};
    use firehose_transform::transforms::chain;

    #[test]
    fn every_step_can_be_chained() {
        let names: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "normalize",
                "filter",
                "validate",
                "enrich",
                "access-log",
                "syslog",
                "cloudwatch-logs"
            ]
        );
        let env = Env::from_pairs([
            ("PIPELINE_STEPS", "normalize,validate"),
            ("VALIDATE_SCHEMA", r#"{"type":"object"}"#),
        ]);
        let settings = Settings::load(env, &chain::setting_groups(STEPS)).unwrap();
        let pipeline = chain::from_settings(STEPS, &settings).unwrap();
        assert_eq!(pipeline.step_names(), ["normalize", "validate"]);
    }
}
