//! The jobs measured: each is one of our functions beside the same job done
//! the other ways, with the issue's targets for it.

use std::path::{Path, PathBuf};

use crate::contender::Contender;

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
}

/// The names `--jobs` takes.
pub const NAMES: [&str; 2] = ["normalize", "chain"];

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
