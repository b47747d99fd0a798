//! `firehose-pipeline`: built-in steps (normalize, filter, validate, enrich, …) chained in one function.

use std::process::ExitCode;

use firehose_pipeline::STEPS;
use firehose_transform::lambda;
use firehose_transform::transforms::chain;

fn main() -> ExitCode {
    lambda::serve(
        "firehose-pipeline",
        &chain::setting_groups(STEPS),
        |settings| chain::from_settings(STEPS, settings),
    )
}
