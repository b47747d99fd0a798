//! `firehose-pipeline`: built-in steps (normalize, filter, validate, enrich) chained in one function.

use std::process::ExitCode;

use firehose_transform::transforms::chain;

fn main() -> ExitCode {
    chain::serve()
}
