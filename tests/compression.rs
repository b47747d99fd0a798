//! `CompressionFormat` ZIP, Snappy and HADOOP_SNAPPY: data, error and backup
//! objects are written as AWS writes them, read back by readers no one here
//! wrote (Python's zipfile, kafka-python's snappy-java decoder, python-snappy's
//! Hadoop reader, from `.venv`), and by `firehose-local cat` and `replay`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use base64::Engine;
use serde_json::Value;

use crate::run::{firehose_local, firehose_local_on_moto, json_summary, landed, out_dir};
use firehose_e2e::moto_server::Moto;
use firehose_e2e::repo;

/// Three records `firehose-normalize` takes and one it fails.
const RECORDS: &str =
    "{\"Id\":1,\"Name\":\"a\"}\n{\"Id\":2,\"Name\":\"b\"}\nnot json\n{\"Id\":3}\n";

/// normalize.yaml with `compression` for its objects and its backup's.
fn template(compression: &str) -> std::path::PathBuf {
    let normalize =
        std::fs::read_to_string(repo().join("tests/fixtures/run/normalize.yaml")).unwrap();
    let hints = "BufferingHints: { SizeInMBs: 128, IntervalInSeconds: 900 }";
    assert!(normalize.contains(hints));
    let variant = normalize.replacen(
        hints,
        &format!(
            "CompressionFormat: {compression}\n        S3BackupMode: Enabled\n        \
             S3BackupConfiguration: {{ BucketARN: !GetAtt Bucket.Arn, Prefix: backup/, CompressionFormat: {compression} }}\n        \
             {hints}"
        ),
        1,
    );
    let folder = out_dir(&format!("compression-template-{compression}"));
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join("normalize.yaml");
    std::fs::write(&path, variant).unwrap();
    path
}

/// Runs RECORDS through the stream of `template` into `out`; its JSON summary.
fn run(template: &Path, out: &Path) -> Value {
    run_to(template, &["--out", out.to_str().unwrap()])
}

/// Runs RECORDS through the stream of `template` to `target` (`--out DIR`, `--s3-endpoint URL`).
fn run_to(template: &Path, target: &[&str]) -> Value {
    let input = out_dir(&format!(
        "compression-input-{}",
        template.parent().unwrap().file_name().unwrap().display()
    ))
    .with_extension("ndjson");
    std::fs::write(&input, RECORDS).unwrap();
    let args = [
        "run",
        "--template",
        template.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--start-time",
        "2026-12-01T10:00:00Z",
        "--seed",
        "3",
        "--json",
    ];
    json_summary(&firehose_local_on_moto(&[&args[..], target].concat()))
}

/// What `read_objects.py` reads in each of `files`, by file.
fn read_independently(compression: &str, files: &[String]) -> BTreeMap<String, Vec<u8>> {
    let output = Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("tests/fixtures/compression/read_objects.py"))
        .arg(compression)
        .args(files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{compression}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: BTreeMap<String, String> = serde_json::from_slice(&output.stdout).unwrap();
    read.into_iter()
        .map(|(file, data)| {
            let data = base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap();
            (file, data)
        })
        .collect()
}

/// The objects under `out` whose keys start with `prefix`, their contents joined in key order.
fn joined(objects: &BTreeMap<String, Vec<u8>>, prefix: &str) -> Vec<u8> {
    objects
        .iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .flat_map(|(_, bytes)| bytes.clone())
        .collect()
}

#[test]
fn zip_snappy_and_hadoop_snappy_objects_hold_what_uncompressed_ones_do() {
    let plain_out = out_dir("compression-plain");
    run(&template("UNCOMPRESSED"), &plain_out);
    let plain = landed(&plain_out);
    let kinds = [
        "normalized/normalized/",
        "normalized/backup/",
        "normalized/errors/processing-failed/",
    ];
    for kind in kinds {
        assert!(
            !joined(&plain, kind).is_empty(),
            "no {kind} object: {plain:?}"
        );
    }
    for (compression, extension) in [
        ("ZIP", ".zip"),
        ("Snappy", ".snappy"),
        ("HADOOP_SNAPPY", ".snappy"),
    ] {
        let out = out_dir(&format!("compression-{compression}"));
        let summary = run(&template(compression), &out);
        assert_eq!(summary["failed"], 1, "{compression}: {summary}");
        let objects = landed(&out);
        assert!(
            objects.keys().all(|key| key.ends_with(extension)),
            "{compression}: {:?}",
            objects.keys()
        );
        let files: Vec<String> = objects
            .keys()
            .map(|key| out.join(key).display().to_string())
            .collect();
        let read = read_independently(compression, &files);
        let decompressed: BTreeMap<String, Vec<u8>> = objects
            .keys()
            .zip(read.into_values())
            .map(|(key, data)| (key.clone(), data))
            .collect();
        for kind in kinds {
            assert_eq!(
                String::from_utf8_lossy(&joined(&decompressed, kind)),
                String::from_utf8_lossy(&joined(&plain, kind)),
                "{compression}: {kind}"
            );
        }

        // `cat` prints any object's records; `replay` reads its error objects.
        for (key, data) in &decompressed {
            let cat = firehose_local(&["cat", out.join(key).to_str().unwrap()]);
            assert!(cat.status.success(), "{key}");
            assert_eq!(&cat.stdout, data, "cat {key}");
        }
        let again = out_dir(&format!("compression-{compression}-replayed"));
        let replay = firehose_local(&[
            "replay",
            "--template",
            template(compression).to_str().unwrap(),
            "--errors",
            out.join("normalized/errors").to_str().unwrap(),
            "--json",
            "--out",
            again.to_str().unwrap(),
        ]);
        let summary: Value = serde_json::from_slice(&replay.stdout).unwrap_or_default();
        assert_eq!(summary["records_in"], 1, "replay {compression}: {summary}");
        assert_eq!(summary["failed"], 1, "replay {compression}: {summary}");
    }
}

#[test]
fn objects_put_through_the_s3_api_carry_the_content_encoding_aws_sets() {
    let moto = Moto::start();
    moto.s3("PUT", "normalized");
    for (compression, encoding) in [
        ("GZIP", Some("gzip")),
        ("ZIP", Some("zip")),
        ("Snappy", Some("snappy-java")),
        ("HADOOP_SNAPPY", Some("hadoop-snappy")),
        ("UNCOMPRESSED", None),
    ] {
        let summary = run_to(&template(compression), &["--s3-endpoint", &moto.url]);
        let objects = summary["objects"].as_array().unwrap();
        // Data, backup and error objects alike.
        assert_eq!(objects.len(), 3, "{compression}: {summary}");
        for object in objects {
            let path = format!("normalized/{}", object["key"].as_str().unwrap());
            assert_eq!(
                moto.s3_header(&path, "content-encoding").as_deref(),
                encoding,
                "{path}"
            );
            assert_eq!(
                moto.s3_header(&path, "content-type").as_deref(),
                Some("application/octet-stream"),
                "{path}"
            );
        }
    }
}

#[test]
fn an_empty_file_extension_is_unset_and_keeps_the_format_s_own() {
    let gzip = template("GZIP");
    let unset = std::fs::read_to_string(&gzip).unwrap().replacen(
        "CompressionFormat: GZIP\n",
        "CompressionFormat: GZIP\n        FileExtension: \"\"\n",
        1,
    );
    let path = gzip.with_file_name("empty-extension.yaml");
    std::fs::write(&path, unset).unwrap();
    let out = out_dir("compression-empty-extension");
    run(&path, &out);
    let objects = landed(&out);
    assert_eq!(objects.len(), 3, "{:?}", objects.keys());
    assert!(
        objects.keys().all(|key| key.ends_with(".gz")),
        "{:?}",
        objects.keys()
    );
}
