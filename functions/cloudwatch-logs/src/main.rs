//! `firehose-cloudwatch-logs`: unpacks CloudWatch Logs subscription payloads into one line per log event.

use std::process::ExitCode;

use firehose_transform::transforms::cloudwatch_logs;

fn main() -> ExitCode {
    cloudwatch_logs::serve()
}
