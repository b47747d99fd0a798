//! `firehose-normalize`: makes JSON records ready for Firehose's Parquet/ORC conversion.

use std::process::ExitCode;

use firehose_transform::{lambda, transforms};

fn main() -> ExitCode {
    lambda::serve_built_in(&transforms::NORMALIZE)
}
