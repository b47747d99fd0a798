//! `firehose-syslog`: parses RFC 3164 and RFC 5424 syslog lines into JSON.

use std::process::ExitCode;

use firehose_transform::{lambda, transforms};

fn main() -> ExitCode {
    lambda::serve_built_in(&transforms::SYSLOG)
}
