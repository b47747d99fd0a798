//! The line parsers (access log in several `LogFormat`s, syslog, CloudWatch
//! Logs payloads) on records made from the input: its pieces between ASCII
//! record separators (0x1E) are the records, each gzipped first for
//! CloudWatch Logs, so that the fuzzer searches the lines and the JSON
//! inside, not gzip's checksums. The answer is checked as for a whole
//! invocation.

use std::io::Write;
use std::sync::OnceLock;

use firehose_bench::batch;
use firehose_transform::Pipeline;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::invocation::{Function, Output, answered};

/// Separates the records in the input.
const RECORD_SEPARATOR: u8 = 0x1E;

/// A parser's settings, and whether its records are gzipped CloudWatch Logs payloads.
struct Parser {
    function: Function,
    gzipped: bool,
}

const fn parser(env: &'static [(&'static str, &'static str)], output: Output) -> Parser {
    Parser {
        function: Function {
            env,
            partition_keys: None,
            output,
        },
        gzipped: false,
    }
}

const fn cloudwatch_logs(env: &'static [(&'static str, &'static str)], output: Output) -> Parser {
    let mut parser = parser(env, output);
    parser.gzipped = true;
    parser
}

const PARSERS: &[Parser] = &[
    parser(&[("PIPELINE_STEPS", "access-log")], Output::JsonLines),
    parser(
        &[
            ("PIPELINE_STEPS", "access-log"),
            ("ACCESS_LOG_FORMAT", "common"),
        ],
        Output::JsonLines,
    ),
    parser(
        &[
            ("PIPELINE_STEPS", "access-log"),
            (
                "ACCESS_LOG_FORMAT",
                r#"%v:%p %a %l %u %t "%m %U %H" %>s %O %D "%{X-Forwarded-For}i" %{c}a"#,
            ),
        ],
        Output::JsonLines,
    ),
    parser(
        &[
            ("PIPELINE_STEPS", "access-log"),
            ("ACCESS_LOG_FORMAT", "combined"),
            ("ACCESS_LOG_OUTPUT", "csv"),
        ],
        Output::NewlineEnded,
    ),
    parser(&[("PIPELINE_STEPS", "syslog")], Output::JsonLines),
    parser(
        &[
            ("PIPELINE_STEPS", "syslog"),
            ("SYSLOG_YEAR", "2024"),
            ("SYSLOG_TIMEZONE", "America/New_York"),
            ("SYSLOG_STRUCTURED_DATA", "flat"),
        ],
        Output::JsonLines,
    ),
    parser(
        &[
            ("PIPELINE_STEPS", "syslog"),
            ("SYSLOG_OUTPUT", "csv"),
            (
                "SYSLOG_CSV_COLUMNS",
                "timestamp,hostname,sd_origin_ip,message",
            ),
        ],
        Output::NewlineEnded,
    ),
    cloudwatch_logs(
        &[
            ("PIPELINE_STEPS", "cloudwatch-logs"),
            ("CLOUDWATCH_LOGS_EMBED_JSON", "true"),
        ],
        Output::JsonLines,
    ),
    cloudwatch_logs(
        &[
            ("PIPELINE_STEPS", "cloudwatch-logs"),
            ("CLOUDWATCH_LOGS_OUTPUT", "message"),
            ("CLOUDWATCH_LOGS_MAX_DECOMPRESSED_BYTES", "65536"),
        ],
        Output::NewlineEnded,
    ),
];

/// The first byte chooses the parser; the rest are the records.
pub fn run(data: &[u8]) {
    static PIPELINES: OnceLock<Vec<Pipeline>> = OnceLock::new();
    let pipelines =
        PIPELINES.get_or_init(|| PARSERS.iter().map(|p| p.function.pipeline()).collect());
    let (chosen, records) = crate::choose(data, PARSERS.len());
    let parser = &PARSERS[chosen];
    let event = event(records, parser.gzipped);
    answered(&pipelines[chosen], &event, parser.function.output);
}

/// A Firehose event whose records are the input's pieces.
fn event(records: &[u8], gzipped: bool) -> Vec<u8> {
    let payloads: Vec<Vec<u8>> = records
        .split(|b| *b == RECORD_SEPARATOR)
        .map(|record| match gzipped {
            true => gzip(record),
            false => record.to_vec(),
        })
        .collect();
    batch::event(&payloads)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}
