//! `firehose-normalize`: makes JSON records ready for Firehose's Parquet/ORC conversion.

use std::process::ExitCode;

use firehose_transform::transforms;

fn main() -> ExitCode {
    transforms::NORMALIZE.serve()
}
