//! Support for the end-to-end tests: locating the built binaries, running them
//! through the local Runtime API, golden files.
//!
//! The binaries are the ones `cargo build --release --workspace` wrote beside
//! the test executables; the tests never build anything themselves.
// Test support: failing loudly with the reason is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use firehose_transform::Response;
use firehose_transform::local::{LocalFunction, Reply, check, view};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `target/<profile>/`: the directory holding this test's `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// A built binary of the workspace, e.g. `firehose-normalize`.
pub fn binary(name: &str) -> PathBuf {
    built(profile_dir().join(name))
}

/// A built example of the workspace, e.g. `uppercase`.
pub fn example(name: &str) -> PathBuf {
    built(profile_dir().join("examples").join(name))
}

fn built(path: PathBuf) -> PathBuf {
    assert!(
        path.is_file(),
        "{} is not built: run the tests as the README says (`cargo build --release --workspace && cargo nextest run --release --workspace`)",
        path.display()
    );
    path
}

/// Starts a binary with these settings.
pub fn start(binary: &Path, env: &[(&str, &str)]) -> LocalFunction {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut function = LocalFunction::start(binary, &env).unwrap();
    function.timeout = Duration::from_secs(120);
    function
}

/// Invokes, expects a response that keeps the contract, and returns it.
pub fn respond(function: &mut LocalFunction, event: &[u8]) -> Vec<u8> {
    match function.invoke(event).unwrap() {
        Reply::Response(response) => {
            let violations = check::violations(event, &response);
            assert!(
                violations.is_empty(),
                "contract violations: {violations:#?}\nlogs: {:#?}",
                function.logs()
            );
            response
        }
        other => panic!(
            "expected a response, got {other:?}\nlogs: {:#?}",
            function.logs()
        ),
    }
}

/// Reads a repository file.
pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(repo().join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// An event whose records carry these bytes.
pub fn event(records: &[&[u8]]) -> Vec<u8> {
    let records: Vec<serde_json::Value> = records
        .iter()
        .enumerate()
        .map(|(i, data)| {
            let data = base64_simd::STANDARD.encode_to_string(data);
            serde_json::json!({"recordId": format!("r{i}"), "approximateArrivalTimestamp": 1_732_406_400_000_i64, "data": data})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"invocationId": "generated", "region": "us-east-1", "records": records})).unwrap()
}

/// The readable view of a response, every byte of data shown.
pub fn render(response: &[u8]) -> String {
    view::render(&Response::from_slice(response).unwrap(), None)
}

/// Compares `actual` with the golden file at `path` (relative to the
/// repository); `UPDATE_GOLDEN=1` rewrites it instead. A missing golden file
/// fails: CI never creates one.
pub fn golden(path: &str, actual: &str) {
    let file = repo().join(path);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!("golden file {path}: {e}; run with UPDATE_GOLDEN=1 to create it, then review it")
    });
    assert!(
        expected == actual,
        "golden file {path} differs (UPDATE_GOLDEN=1 rewrites it)\n--- expected\n{expected}\n--- got\n{actual}"
    );
}
