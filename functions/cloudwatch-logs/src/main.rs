//! `firehose-cloudwatch-logs`: unpacks CloudWatch Logs subscription payloads into one line per log event.

use std::process::ExitCode;

use firehose_transform::transforms;

fn main() -> ExitCode {
    transforms::CLOUDWATCH_LOGS.serve()
}
