//! `firehose-filter`: keeps or drops JSON records by a jq expression.

use std::process::ExitCode;

use firehose_transform::transforms;

fn main() -> ExitCode {
    transforms::FILTER.serve()
}
