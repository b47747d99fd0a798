//! `firehose-filter`: keeps or drops JSON records by a jq expression.

use std::process::ExitCode;

use firehose_transform::{lambda, transforms};

fn main() -> ExitCode {
    lambda::serve_built_in(&transforms::FILTER)
}
