//! Record format conversion in `firehose-local run`: what lands as Parquet
//! for every Hive type, OpenX option, timestamp form and failure code,
//! pinned by golden files and read back by pyarrow, a reader no one here wrote.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use firehose_e2e::{golden, repo};
use serde_json::Value;

use crate::run::{firehose_local, golden_run, out_dir};

const TYPES: [&str; 6] = [
    "--template",
    "tests/fixtures/convert/types.yaml",
    "--input",
    "tests/fixtures/convert/types.ndjson",
    "--seed",
    "5",
];

const HIVE: [&str; 6] = [
    "--template",
    "tests/fixtures/convert/hive.yaml",
    "--input",
    "tests/fixtures/convert/hive.ndjson",
    "--seed",
    "5",
];

/// `firehose-local ARGS --json --out <fresh folder>`: its summary, and the folder.
fn run_json(name: &str, args: &[&str]) -> (Value, PathBuf) {
    let out = out_dir(name);
    let run = firehose_local(&[args, &["--json", "--out", out.to_str().unwrap()]].concat());
    let summary = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&run.stderr));
    });
    (summary, out)
}

/// pyarrow's view of every Parquet object in `objects`, by key.
fn pyarrow_rows(objects: &BTreeMap<String, Vec<u8>>) -> String {
    let python = repo().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run the README's set-up command",
        python.display()
    );
    let mut text = String::new();
    for (key, bytes) in objects.iter().filter(|(k, _)| k.ends_with(".parquet")) {
        let file = std::env::temp_dir().join(format!("pyarrow-{}.parquet", std::process::id()));
        std::fs::write(&file, bytes).unwrap();
        let read = Command::new(&python)
            .arg(repo().join("tests/fixtures/convert/read_parquet.py"))
            .arg(&file)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&file);
        assert!(
            read.status.success(),
            "pyarrow cannot read {key}: {}",
            String::from_utf8_lossy(&read.stderr)
        );
        text.push_str(&format!(
            "== {key}\n{}",
            String::from_utf8_lossy(&read.stdout)
        ));
    }
    text
}

/// The error lines of the `format-conversion-failed` objects.
fn conversion_failures(objects: &BTreeMap<String, Vec<u8>>) -> Vec<Value> {
    objects
        .iter()
        .filter(|(key, _)| key.contains("/format-conversion-failed/"))
        .flat_map(|(_, bytes)| bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()))
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect()
}

#[test]
fn every_type_option_and_failure_lands_as_pinned_and_pyarrow_reads_it() {
    let objects = golden_run("convert-types", &TYPES);
    golden(
        "tests/golden/run/convert-types/pyarrow.txt",
        &pyarrow_rows(&objects),
    );
    let failures = conversion_failures(&objects);
    let codes: Vec<&str> = failures
        .iter()
        .map(|f| f["lastErrorCode"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "DataFormatConversion.MalformedData",
            "DataFormatConversion.MalformedData",
            "DataFormatConversion.MalformedData",
            "DataFormatConversion.ParseError",
            "DataFormatConversion.ParseError",
        ]
    );
    // What the converter read is kept, and the table it read it by is named.
    let raw = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        failures[3]["rawData"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(raw, b"not json at all");
    assert_eq!(failures[0]["dataCatalogTable"]["tableName"], "every_type");
    assert_eq!(failures[0]["dataCatalogTable"]["databaseName"], "typed");
}

#[test]
fn the_hive_json_serde_reads_by_its_own_stricter_rules_and_pyarrow_reads_it() {
    let objects = golden_run("convert-hive", &HIVE);
    golden(
        "tests/golden/run/convert-hive/pyarrow.txt",
        &pyarrow_rows(&objects),
    );
    let failures: Vec<String> = conversion_failures(&objects)
        .iter()
        .map(|f| {
            let message = f["lastErrorMessage"].as_str().unwrap();
            format!("{} {}", f["lastErrorCode"].as_str().unwrap(), message)
        })
        .collect();
    let expected = [
        "MalformedData n (int): a string cannot be read as int (the Hive JSON SerDe reads only JSON numbers",
        "MalformedData price (double): a string cannot be read as double (the Hive JSON SerDe reads only",
        "MalformedData userid (string): an object cannot be read as string (the Hive JSON SerDe does not turn",
        "MalformedData at (timestamp): a string cannot be read as timestamp",
        "MalformedData day (date): a number cannot be read as date",
        "MalformedData n (int): a number cannot be read as int (out of the column's range)",
        "ParseError the record holds an array",
    ];
    assert_eq!(failures.len(), expected.len(), "{failures:#?}");
    for (failure, expected) in failures.iter().zip(expected) {
        let expected = format!("DataFormatConversion.{expected}");
        assert!(
            failure.starts_with(&expected),
            "{failure}\n  is not {expected}"
        );
    }
}

#[test]
fn case_sensitive_matching_drops_keys_that_differ_in_case_and_says_so() {
    let (summary, _) = run_json(
        "case-sensitive",
        &[
            &["run"],
            &TYPES[..],
            &["--parameter", "CaseInsensitive=false"],
        ]
        .concat(),
    );
    let dropped = &summary["dropped_keys"];
    for key in ["S", "TS", "Timestamp", "I", "B"] {
        assert_eq!(dropped[key], 1, "{key} in {dropped}");
    }
}

#[test]
fn a_table_from_get_table_replaces_the_templates() {
    let out = out_dir("schema");
    let schema = out.with_extension("json");
    std::fs::write(
        &schema,
        r#"{"Table":{"Name":"narrow","DatabaseName":"typed","StorageDescriptor":{"Columns":[{"Name":"s","Type":"string"}]}}}"#,
    )
    .unwrap();
    let (summary, _) = run_json(
        "schema",
        &[
            &["run"],
            &TYPES[..],
            &["--schema", schema.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(summary["schema"]["table"], "typed.narrow");
    // Only not-JSON and the array fail now: every other key is simply dropped.
    assert_eq!(summary["errors"]["DataFormatConversion.ParseError"], 2);
    assert_eq!(summary["errors"].as_object().unwrap().len(), 1);
    assert_eq!(summary["dropped_keys"]["ts"], 4);
}

#[test]
fn the_throughput_records_convert_through_their_table_without_loss() {
    // docs/local/run.md's throughput figure with conversion is of these records through this template: it must
    // measure a conversion that keeps every key of every record.
    let folder = out_dir("throughput-input");
    std::fs::create_dir_all(&folder).unwrap();
    let input = folder.join("records.ndjson");
    let records = Command::new("python3")
        .arg(repo().join("tests/fixtures/run/make_records.py"))
        .arg("0.3")
        .output()
        .unwrap();
    assert!(records.status.success());
    std::fs::write(&input, &records.stdout).unwrap();
    let lines = records.stdout.iter().filter(|&&b| b == b'\n').count();
    let (summary, out) = run_json(
        "throughput",
        &[
            "run",
            "--template",
            "tests/fixtures/run/normalize-parquet.yaml",
            "--input",
            input.to_str().unwrap(),
        ],
    );
    assert!(summary.get("dropped_keys").is_none(), "{summary}");
    assert_eq!(summary["delivered"], lines, "{summary}");
    let objects = crate::run::landed(&out);
    let rows = pyarrow_rows(&objects);
    assert_eq!(
        rows.lines().filter(|l| l.starts_with('{')).count(),
        lines,
        "{rows}"
    );
}

#[test]
fn the_sample_records_convert_through_the_repository_table_without_loss() {
    // The repository's pipeline: nothing its functions emit is dropped or fails conversion.
    let sample = "tests/fixtures/demo/stock-ticker.ndjson";
    let (summary, out) = run_json("sample-pipeline", &["run", "--input", sample]);
    assert!(summary.get("dropped_keys").is_none(), "{summary}");
    assert!(
        summary["errors"]
            .get("DataFormatConversion.MalformedData")
            .is_none(),
        "{summary}"
    );
    assert_eq!(summary["delivered"], 6);
    // firehose-normalize alone, by default: every well-typed record converts with no key dropped; the
    // one whose price is "n/a" (the pipeline's validate step stops it) fails conversion by its column.
    let template = std::fs::read_to_string(repo().join("template.yaml")).unwrap();
    let processor = "ParameterValue: !GetAtt PipelineFunction.Arn";
    assert!(template.contains(processor));
    let variant = out.with_extension("yaml");
    std::fs::write(
        &variant,
        template.replacen(
            processor,
            "ParameterValue: !GetAtt NormalizeFunction.Arn",
            1,
        ),
    )
    .unwrap();
    let (summary, out) = run_json(
        "sample-normalize",
        &[
            "run",
            "--template",
            variant.to_str().unwrap(),
            "--input",
            sample,
        ],
    );
    assert!(summary.get("dropped_keys").is_none(), "{summary}");
    assert_eq!(summary["delivered"], 7, "{summary}");
    assert_eq!(summary["errors"]["DataFormatConversion.MalformedData"], 1);
    let objects = crate::run::landed(&out);
    let failures = conversion_failures(&objects);
    assert!(
        failures[0]["lastErrorMessage"]
            .as_str()
            .unwrap()
            .starts_with("price (double)"),
        "{}",
        failures[0]
    );
}

fn borrowed(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn replayed_conversion_failures_go_straight_to_conversion_not_through_the_function() {
    let function = crate::run::fault_function();
    let args = |errors_or_input: &[&str], fault: &str| {
        let env = format!("FAULT={fault}");
        let mut args = errors_or_input.to_vec();
        args.extend([
            "--template",
            "tests/fixtures/run/normalize-parquet.yaml",
            "--binary",
            function.to_str().unwrap(),
            "--env",
            &env,
            "--seed",
            "3",
            "--start-time",
            "2026-12-01T10:00:00Z",
        ]);
        args.iter().map(|a| a.to_string()).collect::<Vec<String>>()
    };
    let input = out_dir("conversion-replay-input").join("input.txt");
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    std::fs::write(&input, "{\"event_id\":1}\nnot json\n{\"event_id\":\"x\"}\n").unwrap();
    let first = args(&["run", "--input", input.to_str().unwrap()], "ok");
    let (summary, out) = run_json("conversion-replay-run", &borrowed(&first));
    assert_eq!(summary["failed"], 2, "{summary}");
    let errors = out.join("normalized/errors/format-conversion-failed");
    // The function would crash on them: replayed, they never reach it.
    let replay = args(&["replay", "--errors", errors.to_str().unwrap()], "crash");
    let (summary, replayed) = run_json("conversion-replay", &borrowed(&replay));
    assert_eq!(
        (
            summary["records_in"].as_u64(),
            summary["replayed_to_conversion"].as_u64(),
            summary["invocations"].as_u64(),
        ),
        (Some(2), Some(2), Some(0)),
        "{summary}"
    );
    let objects = crate::run::landed(&replayed);
    let codes: Vec<Value> = conversion_failures(&objects)
        .iter()
        .map(|f| f["lastErrorCode"].clone())
        .collect();
    assert_eq!(codes.len(), 2, "{objects:?}");
}
