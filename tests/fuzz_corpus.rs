//! The fuzz corpus as ordinary tests: every committed file of every target
//! (`fuzz/corpus/<target>/`, minimised after each campaign, and
//! `fuzz/regressions/<target>/`, every input that ever broke an invariant)
//! through the same entry point libFuzzer drives, without libFuzzer. One test
//! a target.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{self, AssertUnwindSafe};

use firehose_e2e::repo;
use firehose_fuzzing::TARGETS;

/// Runs every corpus file of `target`, naming each file that breaks an invariant.
fn corpus(target: &str) {
    let (_, entry) = TARGETS.iter().find(|(name, _)| *name == target).unwrap();
    let mut files = Vec::new();
    for folder in ["corpus", "regressions"] {
        let folder = repo().join("fuzz").join(folder).join(target);
        if let Ok(entries) = std::fs::read_dir(&folder) {
            files.extend(entries.map(|entry| entry.unwrap().path()));
        }
    }
    files.sort();
    assert!(
        files.len() >= 5,
        "{target}: a corpus of a few files at least"
    );
    let broken: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let data = std::fs::read(file).unwrap();
            panic::catch_unwind(AssertUnwindSafe(|| entry(&data)))
                .err()
                .map(|_| file.display().to_string())
        })
        .collect();
    assert!(
        broken.is_empty(),
        "{target}: these corpus files break an invariant: {broken:#?}"
    );
}

#[test]
fn every_target_has_a_test_and_a_fuzzer() {
    let tested = [
        "invocation",
        "line_parsers",
        "normalize",
        "response",
        "local_inputs",
        "service_api",
        "orc_reader",
    ];
    let targets: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(targets, tested);
    for target in targets {
        let wrapper = repo()
            .join("fuzz/fuzz_targets")
            .join(format!("{target}.rs"));
        let text = std::fs::read_to_string(&wrapper).unwrap();
        assert!(
            text.contains(&format!("firehose_fuzzing::{target}::run")),
            "{} must call its entry point",
            wrapper.display()
        );
    }
}

/// The fuzzers build in a workspace of their own: its lock must hold the
/// versions that ship, so that what is fuzzed is what runs.
#[test]
fn the_fuzzers_build_the_versions_the_workspace_locks() {
    let packages = |path: &str| -> Vec<(String, String)> {
        let text = std::fs::read_to_string(repo().join(path)).unwrap();
        text.split("[[package]]")
            .filter_map(|package| {
                let field = |name: &str| {
                    package.lines().find_map(|line| {
                        let value = line.strip_prefix(name)?.trim_start().strip_prefix('=')?;
                        Some(value.trim().trim_matches('"').to_owned())
                    })
                };
                Some((field("name")?, field("version")?))
            })
            .collect()
    };
    let shipped = packages("Cargo.lock");
    let fuzzed = packages("fuzz/Cargo.lock");
    assert!(fuzzed.iter().any(|(name, _)| name == "libfuzzer-sys"));
    let drifted: Vec<_> = fuzzed
        .iter()
        .filter(|(name, _)| shipped.iter().any(|(n, _)| n == name))
        .filter(|package| !shipped.contains(package))
        .collect();
    assert!(
        drifted.is_empty(),
        "fuzz/Cargo.lock has other versions than Cargo.lock (copy Cargo.lock over it and build the fuzzers again): {drifted:?}"
    );
}

#[test]
fn invocation() {
    corpus("invocation");
}

#[test]
fn line_parsers() {
    corpus("line_parsers");
}

#[test]
fn normalize() {
    corpus("normalize");
}

#[test]
fn response() {
    corpus("response");
}

#[test]
fn local_inputs() {
    corpus("local_inputs");
}

#[test]
fn service_api() {
    corpus("service_api");
}

#[test]
fn orc_reader() {
    corpus("orc_reader");
}
