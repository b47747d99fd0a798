//! `firehose-enrich`: adds static fields and record metadata to JSON records.

use std::process::ExitCode;

use firehose_transform::transforms;

fn main() -> ExitCode {
    transforms::ENRICH.serve()
}
