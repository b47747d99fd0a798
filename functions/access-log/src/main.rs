//! `firehose-access-log`: parses Apache and nginx access-log lines into JSON.

use std::process::ExitCode;

use firehose_transform::{lambda, transforms};

fn main() -> ExitCode {
    lambda::serve_built_in(&transforms::ACCESS_LOG)
}
