//! `firehose-enrich`: adds static fields and record metadata to JSON records.

use std::process::ExitCode;

use firehose_transform::{lambda, transforms};

fn main() -> ExitCode {
    lambda::serve_built_in(&transforms::ENRICH)
}
