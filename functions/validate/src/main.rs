//! `firehose-validate`: checks JSON records against a JSON Schema compiled once at start-up.

use std::process::ExitCode;

use firehose_transform::lambda;

fn main() -> ExitCode {
    lambda::serve_built_in(&firehose_validate::VALIDATE)
}
