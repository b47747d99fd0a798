//! `firehose-syslog`: parses RFC 3164 and RFC 5424 syslog lines into JSON.

use std::process::ExitCode;

use firehose_transform::transforms;

fn main() -> ExitCode {
    transforms::SYSLOG.serve()
}
