//! The jobs measured: each is one of our functions beside the same job done
//! the other ways, with the issue's targets for it.

use std::path::{Path, PathBuf};

use crate::batch::{self, Generator};
use crate::contender::Contender;
use crate::logs;

/// One job: the processes that do it and how much faster ours must be.
pub struct Job {
    /// Its name in `--jobs` and in the tables.
    pub name: &'static str,
    /// The echo first, our function second (the ratios are of it), then the others.
    pub contenders: Vec<Contender>,
    /// Each other contender (by its place in `contenders`) and how many times
    /// faster than it ours must be, by wall time and by CPU time.
    pub goals: Vec<(usize, f64)>,
    /// The largest our stripped binary may be, where the issue sets one.
    pub max_binary_bytes: Option<u64>,
    /// Its records.
    pub records: Generator,
    pub agreement: Agreement,
}

/// What the others' answers must share with ours, beside the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// Every record's result and every `Ok` record's JSON: the same job.
    SameAnswer,
    /// Nothing more: their output format is their own (AWS's blueprints), and
    /// how many records each reads is reported.
    ResultsReported,
}

/// The names `--jobs` takes.
pub const NAMES: [&str; 4] = ["normalize", "chain", "access-log", "syslog"];

/// The JSON Schema the chain validates with, ours and Python's alike.
pub fn chain_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/chain_schema.json")
}

/// `firehose-normalize` beside the straightforward Rust handler (`plain`) and
/// Python with Powertools (`python` has `bench/python/requirements.txt`);
/// `release` holds our binaries.
pub fn normalize(release: &Path, python: &Path, plain: PathBuf) -> Job {
    Job {
        name: "normalize",
        contenders: vec![
            echo(release),
            Contender::binary(
                "firehose-normalize",
                release.join("firehose-normalize"),
                &[("NORMALIZE_TIMESTAMP_FIELDS", "timestamp")],
            ),
            Contender::binary("straightforward Rust", plain, &[]),
            Contender::python("Python + Powertools", python, "normalize.handler"),
        ],
        goals: vec![(3, 10.0), (2, 3.0)],
        max_binary_bytes: Some(6_000_000),
        records: batch::record,
        agreement: Agreement::SameAnswer,
    }
}

/// `firehose-pipeline` running `normalize,filter,validate,enrich` beside the
/// same chain in Python (`bench/python/chain.py`).
pub fn chain(release: &Path, python: &Path) -> Job {
    let schema = chain_schema().display().to_string();
    Job {
        name: "chain",
        contenders: vec![
            echo(release),
            Contender::binary(
                "firehose-pipeline",
                release.join("firehose-pipeline"),
                &[
                    ("PIPELINE_STEPS", "normalize,filter,validate,enrich"),
                    ("NORMALIZE_TIMESTAMP_FIELDS", "timestamp"),
                    ("FILTER_DROP", r#".level == "DEBUG""#),
                    ("VALIDATE_SCHEMA_FILE", &schema),
                    (
                        "ENRICH_FIELDS",
                        r#"{"env":"prod","pipeline":"firehose-bench"}"#,
                    ),
                    ("ENRICH_ARRIVAL_TIME_FIELD", "arrived_at"),
                ],
            ),
            Contender::python(
                "Python chain (Powertools, fastjsonschema)",
                python,
                "chain.handler",
            ),
        ],
        goals: vec![(2, 8.0)],
        // The JSON Schema validator makes it larger: its size is reported, not held to 6 MB.
        max_binary_bytes: None,
        records: batch::record,
        agreement: Agreement::SameAnswer,
    }
}

/// `firehose-access-log` beside the work of AWS's apachelog-to-json blueprint
/// (`bench/node/apachelog_to_json.js`), on combined-format access lines.
pub fn access_log(release: &Path, node: &Path) -> Job {
    log_job(
        "access-log",
        "firehose-access-log",
        release,
        Contender::node(
            "apachelog-to-json blueprint (Node.js)",
            node,
            "apachelog_to_json.handler",
        ),
        logs::access_line,
    )
}

/// `firehose-syslog` beside the work of AWS's syslog-to-json blueprint
/// (`bench/node/syslog_to_json.js`), on syslog lines.
pub fn syslog(release: &Path, node: &Path) -> Job {
    log_job(
        "syslog",
        "firehose-syslog",
        release,
        Contender::node(
            "syslog-to-json blueprint (Node.js)",
            node,
            "syslog_to_json.handler",
        ),
        logs::syslog_line,
    )
}

/// A log function (`ours`, with its default settings) at least 5× its blueprint.
fn log_job(
    name: &'static str,
    ours: &'static str,
    release: &Path,
    blueprint: Contender,
    records: Generator,
) -> Job {
    Job {
        name,
        contenders: vec![
            echo(release),
            Contender::binary(ours, release.join(ours), &[]),
            blueprint,
        ],
        goals: vec![(2, 5.0)],
        max_binary_bytes: Some(6_000_000),
        records,
        agreement: Agreement::ResultsReported,
    }
}

/// The harness's own cost: a function that hands the event straight back.
fn echo(release: &Path) -> Contender {
    Contender::binary(
        "echo (the harness)",
        release.join("firehose-bench-echo"),
        &[],
    )
}
