//! `firehose-validate`: checks JSON records against a JSON Schema compiled once at start-up.

use std::process::ExitCode;

use firehose_transform::transforms;

fn main() -> ExitCode {
    transforms::VALIDATE.serve()
}
