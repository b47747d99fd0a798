//! `firehose-normalize`: makes JSON records ready for Firehose's Parquet/ORC conversion.

use std::process::ExitCode;

use firehose_transform::lambda;
use firehose_transform::pipeline::Pipeline;
use firehose_transform::transforms::normalize::{self, Normalize};

fn main() -> ExitCode {
    lambda::serve("firehose-normalize", &[&normalize::SETTINGS], |settings| {
        Ok(Pipeline::new().then(Normalize::from_settings(settings)?))
    })
}
