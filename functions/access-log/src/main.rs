//! `firehose-access-log`: parses Apache and nginx access-log lines into JSON.

use std::process::ExitCode;

use firehose_transform::transforms;

fn main() -> ExitCode {
    transforms::ACCESS_LOG.serve()
}
