//! The workspace as it is built and deployed: each function, built the way
//! `sam build` builds it (`cargo lambda build` in the function's `CodeUri`),
//! compiles only the crates it uses; and the Rust version the workspace
//! declares is the newest any locked crate needs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use firehose_e2e::{read, repo};
use serde_norway::Value;

/// Runs cargo in `dir` and returns what it printed.
fn cargo(dir: &Path, args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The crates a package compiles into its binary, from its own directory: what
/// Cargo resolves there is what `cargo lambda build` there compiles.
fn crates_built_in(dir: &Path) -> BTreeSet<String> {
    cargo(
        dir,
        &[
            "tree", "--locked", "-e", "normal", "--prefix", "none", "--format", "{p}",
        ],
    )
    .lines()
    .filter_map(|line| line.split_whitespace().next())
    .map(str::to_owned)
    .collect()
}

/// The template's functions: (`CodeUri`, `BuildProperties.Binary`).
fn template_functions() -> Vec<(String, String)> {
    let template: Value = serde_norway::from_slice(&read("template.yaml")).unwrap();
    template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|r| {
            let code_uri = r["Properties"]["CodeUri"].as_str().expect("CodeUri");
            let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
            (code_uri.to_owned(), binary.to_owned())
        })
        .collect()
}

/// What a function may compile only if it is one of `allowed`.
const HEAVY: &[(&str, &[&str])] = &[
    // The AWS SDK and its HTTP/TLS stack: re-ingestion only.
    ("aws-config", &["firehose-cloudwatch-logs"]),
    ("aws-sdk-kinesis", &["firehose-cloudwatch-logs"]),
    ("aws-sdk-firehose", &["firehose-cloudwatch-logs"]),
    ("hyper", &["firehose-cloudwatch-logs"]),
    ("rustls", &["firehose-cloudwatch-logs"]),
    ("tokio", &["firehose-cloudwatch-logs"]),
    // The JSON Schema validator.
    ("jsonschema", &["firehose-validate", "firehose-pipeline"]),
    // The local tools: an HTTP server, Arrow and Parquet, never in a function.
    ("firehose-local", &[]),
    ("arrow", &[]),
    ("parquet", &[]),
];

#[test]
fn each_deployed_function_compiles_only_what_it_uses() {
    let functions = template_functions();
    assert!(functions.len() >= 5, "{functions:?}");
    for (code_uri, binary) in &functions {
        let dir = repo().join(code_uri);
        let manifest = String::from_utf8(read(&format!("{code_uri}/Cargo.toml"))).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{binary}\"")),
            "{code_uri} is not the package of {binary}: sam build would build the wrong one"
        );
        let crates = crates_built_in(&dir);
        for (heavy, allowed) in HEAVY {
            assert!(
                !crates.contains(*heavy) || allowed.contains(&binary.as_str()),
                "{binary}, built from {code_uri}, compiles {heavy}"
            );
        }
    }
    let normalize = crates_built_in(&repo().join("functions/normalize"));
    assert!(
        !normalize.iter().any(|c| c.starts_with("aws-")),
        "{normalize:?}"
    );
}

#[test]
fn every_function_package_compiles_only_what_it_uses() {
    for entry in std::fs::read_dir(repo().join("functions")).unwrap() {
        let dir = entry.unwrap().path();
        let package = format!("firehose-{}", dir.file_name().unwrap().to_string_lossy());
        let crates = crates_built_in(&dir);
        assert!(crates.contains(&package), "{package}: {crates:?}");
        for (heavy, allowed) in HEAVY {
            assert!(
                !crates.contains(*heavy) || allowed.contains(&package.as_str()),
                "{package} compiles {heavy}"
            );
        }
    }
}

#[test]
fn the_declared_rust_version_is_the_newest_a_locked_crate_needs() {
    let metadata: serde_json::Value = serde_json::from_str(&cargo(
        &repo(),
        &["metadata", "--format-version", "1", "--locked"],
    ))
    .unwrap();
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let version =
        |text: &str| -> Vec<u64> { text.split('.').map(|n| n.parse().unwrap()).collect() };
    let mut declared = BTreeSet::new();
    let mut needed: Option<(Vec<u64>, String)> = None;
    for package in metadata["packages"].as_array().unwrap() {
        let Some(rust_version) = package["rust_version"].as_str() else {
            continue;
        };
        if members.contains(package["id"].as_str().unwrap()) {
            declared.insert(rust_version.to_owned());
        } else if needed
            .as_ref()
            .is_none_or(|(v, _)| version(rust_version) > *v)
        {
            let name = format!("{} {}", package["name"], package["version"]);
            needed = Some((version(rust_version), name));
        }
    }
    assert_eq!(
        declared.len(),
        1,
        "every member declares the workspace's: {declared:?}"
    );
    let declared = declared.pop_first().unwrap();
    let (needed, by) = needed.unwrap();
    assert_eq!(
        version(&declared),
        needed,
        "rust-version is {declared}, but the newest any locked crate needs is {needed:?} ({by})"
    );
    let readme = String::from_utf8(read("README.md")).unwrap();
    assert!(
        readme.contains(&format!("Rust toolchain ({declared} or newer)")),
        "the README must name the Rust version the workspace declares, {declared}"
    );
}
