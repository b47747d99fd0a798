//! `firehose-local run`: a template's whole delivery stream with the real
//! binaries, checked by what lands: the exact keys and objects for a fixed
//! clock and seed, and every record in the right place with the right code
//! after the right number of attempts when the function misbehaves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use firehose_e2e::moto_server::Moto;
use firehose_e2e::{binary, golden, repo};
use serde_json::Value;

const START: &str = "2026-12-01T10:00:00Z";

/// A fresh output folder.
pub(crate) fn out_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("firehose-local-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub(crate) fn firehose_local(args: &[&str]) -> Output {
    Command::new(binary("firehose-local"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

/// Every object under `out`, by `bucket/key`.
pub(crate) fn landed(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut objects = BTreeMap::new();
    let mut folders = vec![out.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let key = path
                    .strip_prefix(out)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                objects.insert(key, std::fs::read(&path).unwrap());
            }
        }
    }
    objects
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A Parquet object's schema and rows, as `firehose-local cat` prints them.
fn parquet_rows(bytes: &[u8]) -> Vec<u8> {
    let file = std::env::temp_dir().join(format!("cat-{}.parquet", std::process::id()));
    std::fs::write(&file, bytes).unwrap();
    let cat = firehose_local(&["cat", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    assert!(
        cat.status.success(),
        "{}",
        String::from_utf8_lossy(&cat.stderr)
    );
    [cat.stderr, cat.stdout].concat()
}

/// Every object, readable: its key and size, then its lines (decompressed).
fn listing(objects: &BTreeMap<String, Vec<u8>>) -> String {
    let mut text = String::new();
    for (key, bytes) in objects {
        let content = if key.ends_with(".gz") {
            gunzip(bytes)
        } else if key.ends_with(".parquet") {
            parquet_rows(bytes)
        } else {
            bytes.clone()
        };
        text.push_str(&format!(
            "== {key} ({} bytes)\n{}\n",
            bytes.len(),
            String::from_utf8_lossy(&content)
        ));
    }
    text
}

/// Runs `firehose-local run ARGS --trace --start-time START --out <fresh folder>` and compares its
/// summary and trace, and every object it wrote, with `tests/golden/run/<case>/`; gives what landed.
pub(crate) fn golden_run(case: &str, args: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let out = out_dir(case);
    let fixed = [
        "--trace",
        "--start-time",
        START,
        "--out",
        out.to_str().unwrap(),
    ];
    let output = firehose_local(&[&["run"], args, &fixed[..]].concat());
    let stdout = String::from_utf8_lossy(&output.stdout).replace(out.to_str().unwrap(), "<out>");
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    golden(&format!("tests/golden/run/{case}/stdout.txt"), &stdout);
    let objects = landed(&out);
    golden(
        &format!("tests/golden/run/{case}/landed.txt"),
        &listing(&objects),
    );
    objects
}

#[test]
fn the_repository_template_lands_exactly_these_objects() {
    let args = [
        "--template",
        "template.yaml",
        "--input",
        "tests/fixtures/demo/stock-ticker.ndjson",
        "--no-convert",
        "--seed",
        "7",
    ];
    let landed_once = golden_run("template", &args);
    // The same seed and clock repeat the run byte for byte.
    assert_eq!(landed_once, golden_run("template", &args));
}

#[test]
fn cat_reads_several_objects_and_folders_and_invoke_takes_a_binary_alone() {
    let out = out_dir("cat");
    let run = firehose_local(&[
        "run",
        "--template",
        "template.yaml",
        "--input",
        "tests/fixtures/demo/stock-ticker.ndjson",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let objects: Vec<String> = landed(&out)
        .into_keys()
        .filter(|k| k.ends_with(".parquet"))
        .map(|k| out.join(k).display().to_string())
        .collect();
    assert_eq!(objects.len(), 1, "{objects:?}");
    // A folder is every Parquet object under it; the error and backup objects beside them are passed over.
    let folder = firehose_local(&["cat", out.to_str().unwrap()]);
    let twice = firehose_local(&["cat", &objects[0], &objects[0]]);
    assert!(
        folder.status.success(),
        "{}",
        String::from_utf8_lossy(&folder.stderr)
    );
    assert!(
        twice.status.success(),
        "{}",
        String::from_utf8_lossy(&twice.stderr)
    );
    assert!(!folder.stdout.is_empty());
    assert_eq!(
        twice.stdout,
        [&folder.stdout[..], &folder.stdout[..]].concat()
    );
    assert_eq!(
        String::from_utf8_lossy(&twice.stderr)
            .matches("== ")
            .count(),
        2
    );

    let invoke = firehose_local(&[
        "invoke",
        "--binary",
        fault_function().to_str().unwrap(),
        "--event",
        "tests/fixtures/adversarial/nested-and-dotted.json",
    ]);
    let stdout = String::from_utf8_lossy(&invoke.stdout);
    assert!(
        invoke.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&invoke.stderr)
    );
    assert!(
        stdout.contains("ok: every record answered once"),
        "{stdout}"
    );
}

/// The partitioned stream over its records, seeded.
pub(crate) const PARTITIONED: [&str; 6] = [
    "--template",
    "tests/fixtures/run/partitioned.yaml",
    "--input",
    "tests/fixtures/run/partitioned.ndjson",
    "--seed",
    "3",
];

#[test]
fn a_partitioned_stream_lands_each_partition_in_its_own_objects() {
    golden_run("partitioned", &PARTITIONED);
}

/// The `--json` summary of a run that succeeded.
pub(crate) fn json_summary(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap()
}

/// Runs `firehose-local ARGS`, which must stop before running anything (exit status 2); gives what it said.
fn start_up_error(args: &[&str]) -> String {
    let output = firehose_local(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    stderr
}

#[test]
fn cloudwatch_logs_payloads_are_decompressed_and_their_messages_extracted_without_a_lambda() {
    let args = [
        "--template",
        "tests/fixtures/run/cloudwatch-logs.yaml",
        "--input",
        "tests/fixtures/run/cloudwatch-logs.ndjson",
        "--input-format",
        "json",
        "--seed",
        "5",
    ];
    let objects = golden_run("cloudwatch-logs", &args);
    // Every failure keeps the record as it arrived, compressed, and names no function.
    let input: Vec<Value> = std::fs::read_to_string(repo().join(args[3]))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let failed: Vec<Value> = objects
        .iter()
        .filter(|(k, _)| k.starts_with("logs/errors/decompression-failed/"))
        .flat_map(|(_, v)| {
            String::from_utf8(v.clone())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect();
    assert_eq!(failed.len(), 4);
    for (line, sent) in failed.iter().zip(&input[2..]) {
        let sent = match (sent.get("base64"), sent.get("data")) {
            (Some(b), _) => b.as_str().unwrap().to_owned(),
            (_, Some(d)) => base64::engine::general_purpose::STANDARD.encode(d.as_str().unwrap()),
            _ => unreachable!(),
        };
        assert_eq!(line["rawData"], sent);
        assert_eq!(line["errorCode"], "Decompression failed.");
        assert!(line.get("lambdaARN").is_none(), "{line}");
    }
}

#[test]
fn records_put_together_are_split_before_the_function_and_partitioned_each() {
    golden_run(
        "deaggregated",
        &[
            "--template",
            "tests/fixtures/run/deaggregated.yaml",
            "--input",
            "tests/fixtures/run/deaggregated.ndjson",
            "--seed",
            "5",
        ],
    );
}

#[test]
fn a_decompressed_record_the_function_fails_keeps_its_compressed_bytes() {
    let template = template_variant(
        "faults.yaml",
        "- Type: Lambda",
        "- Type: Decompression\n            - Type: Lambda",
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"{\"n\":1}").unwrap();
    let compressed = gz.finish().unwrap();
    let run = run_fault_of(
        &template,
        &[&compressed],
        "crash",
        &["--parameter", "Retries=0"],
    );
    assert_eq!(run.summary["failed"], 1);
    let lines = error_lines(&run.objects);
    assert_eq!(lines, [(compressed, "Lambda.FunctionError".to_owned(), 1)]);
}

/// A copy of `tests/fixtures/run/<file>` with the first `from` replaced by `to`, in a folder of its own.
fn template_variant(file: &str, from: &str, to: &str) -> PathBuf {
    let template = std::fs::read_to_string(repo().join("tests/fixtures/run").join(file)).unwrap();
    assert!(template.contains(from), "{file} has no {from:?}");
    let folder = out_dir("variant");
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(file);
    std::fs::write(&path, template.replacen(from, to, 1)).unwrap();
    path
}

/// `fault_function.py` as an executable the emulator can start with an empty environment.
pub(crate) fn fault_function() -> PathBuf {
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let python = String::from_utf8(python.stdout).unwrap().trim().to_owned();
    let script = repo().join("tests/fixtures/run/fault_function.py");
    let wrapper = std::env::temp_dir().join(format!("fault-function-{}", std::process::id()));
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec {python} {}\n", script.display()),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&wrapper).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&wrapper, permissions).unwrap();
    wrapper
}

/// Records as `--input-format json` takes them: text, binary bytes, a newline inside.
const RECORDS: [&[u8]; 3] = [b"{\"n\":1}", &[0, 159, 146, 150, 255], b"two\nlines"];

struct FaultRun {
    summary: Value,
    objects: BTreeMap<String, Vec<u8>>,
    /// The output folder.
    s3: PathBuf,
}

fn run_fault(fault: &str, extra: &[&str]) -> FaultRun {
    let template = repo().join("tests/fixtures/run/faults.yaml");
    run_fault_of(&template, &RECORDS, fault, extra)
}

/// Runs `records` through the stream of `template` (faults.yaml or a variant) with the function faulting as `fault` says.
fn run_fault_of(template: &Path, records: &[&[u8]], fault: &str, extra: &[&str]) -> FaultRun {
    let (args, s3) = fault_args(template, records, fault);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = firehose_local(&[&args[..], extra].concat());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{fault}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    FaultRun {
        summary: serde_json::from_str(&stdout).unwrap(),
        objects: landed(&s3),
        s3,
    }
}

/// The arguments of `firehose-local run --json` for `records` through the stream of `template` with the
/// function faulting as `fault` says, and the folder objects land in.
pub(crate) fn fault_args(
    template: &Path,
    records: &[&[u8]],
    fault: &str,
) -> (Vec<String>, PathBuf) {
    let out = out_dir(fault);
    std::fs::create_dir_all(&out).unwrap();
    let input = out.join("input.ndjson");
    let lines: String = records
        .iter()
        .map(|r| {
            format!(
                "{{\"base64\":\"{}\"}}\n",
                base64::engine::general_purpose::STANDARD.encode(r)
            )
        })
        .collect();
    std::fs::write(&input, lines).unwrap();
    let wrapper = fault_function();
    let s3 = out.join("s3");
    let args = [
        "run",
        "--template",
        template.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--input-format",
        "json",
        "--json",
        "--seed",
        "1",
        "--start-time",
        START,
        "--binary",
        wrapper.to_str().unwrap(),
        "--parameter",
        &format!("Fault={fault}"),
        "--parameter",
        &format!("FaultState={}", out.join("state").display()),
        "--out",
        s3.to_str().unwrap(),
    ];
    (args.map(str::to_owned).to_vec(), s3)
}

/// faults.yaml with dynamic partitioning: `prefix`, with the function's keys and the query `{year: .year}`'s.
pub(crate) fn partitioned_faults(prefix: &str) -> PathBuf {
    let faults = std::fs::read_to_string(repo().join("tests/fixtures/run/faults.yaml")).unwrap();
    let partitioned = faults
        .replacen("Prefix: \"data/\"", &format!("Prefix: \"{prefix}\""), 1)
        .replacen(
            "BufferingHints: {",
            "DynamicPartitioningConfiguration: { Enabled: true }\n        BufferingHints: {",
            1,
        )
        + "            - Type: MetadataExtraction\n              Parameters:\n                \
           - { ParameterName: MetadataExtractionQuery, ParameterValue: \"{year: .year}\" }\n                \
           - { ParameterName: JsonParsingEngine, ParameterValue: JQ-1.6 }\n";
    let template =
        out_dir(&format!("template-{:x}", fastrand::u64(..))).join("partitioned-faults.yaml");
    std::fs::create_dir_all(template.parent().unwrap()).unwrap();
    std::fs::write(&template, partitioned).unwrap();
    template
}

/// The error lines of every error object: (rawData decoded, errorCode, attemptsMade).
fn error_lines(objects: &BTreeMap<String, Vec<u8>>) -> Vec<(Vec<u8>, String, u64)> {
    let mut lines = Vec::new();
    for (key, bytes) in objects
        .iter()
        .filter(|(k, _)| k.starts_with("faults/errors/processing-failed/"))
    {
        for line in String::from_utf8(bytes.clone()).unwrap().lines() {
            let value: Value = serde_json::from_str(line).unwrap();
            let raw = base64::engine::general_purpose::STANDARD
                .decode(value["rawData"].as_str().unwrap())
                .unwrap();
            let lambda_arn = value["lambdaARN"].as_str().unwrap();
            assert!(
                lambda_arn.ends_with(":function:local-FaultFunction:$LATEST"),
                "{key}: {lambda_arn}"
            );
            for field in ["errorMessage", "arrivalTimestamp", "attemptEndingTimestamp"] {
                assert!(!value[field].is_null(), "{key}: no {field}");
            }
            lines.push((
                raw,
                value["errorCode"].as_str().unwrap().to_owned(),
                value["attemptsMade"].as_u64().unwrap(),
            ));
        }
    }
    lines
}

/// The distinct `errorMessage`s of the error objects.
fn error_messages(objects: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut messages: Vec<String> = objects
        .iter()
        .filter(|(k, _)| k.starts_with("faults/errors/"))
        .flat_map(|(_, bytes)| {
            String::from_utf8(bytes.clone())
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map(|line| {
            serde_json::from_str::<Value>(&line).unwrap()["errorMessage"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    messages.sort();
    messages.dedup();
    messages
}

fn data_objects(objects: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    objects
        .iter()
        .filter(|(k, _)| k.starts_with("faults/data/"))
        .flat_map(|(_, v)| v.clone())
        .collect()
}

#[test]
fn a_faithful_function_delivers_every_byte() {
    let run = run_fault("ok", &[]);
    assert_eq!(data_objects(&run.objects), RECORDS.concat());
    assert_eq!(run.summary["delivered"], 3);
    assert_eq!(run.summary["invocations"], 1);
    let keys: Vec<&String> = run.objects.keys().collect();
    assert!(
        keys[0].starts_with("faults/data/2026/12/01/10/faults-1-2026-12-01-10-00-00-"),
        "{keys:?}"
    );
}

#[test]
fn each_fault_lands_every_record_with_firehose_s_code_after_the_right_attempts() {
    // (fault, error code, attempts made, the message's start): NumberOfRetries is 2, so a retried
    // failure makes 3 attempts. A failed invocation and a malformed answer have one code, two messages.
    let cases = [
        (
            "crash",
            "Lambda.FunctionError",
            3,
            "The Lambda function was successfully invoked",
        ),
        (
            "error",
            "Lambda.FunctionError",
            3,
            "The Lambda function was successfully invoked",
        ),
        (
            "oversize",
            "Lambda.FunctionError",
            3,
            "The Lambda function was successfully invoked",
        ),
        (
            "badresult",
            "Lambda.FunctionError",
            1,
            "Check your function and make sure the output",
        ),
        (
            "garbage",
            "Lambda.JsonProcessingException",
            1,
            "There was an error parsing returned records",
        ),
        (
            "half",
            "Lambda.JsonProcessingException",
            1,
            "There was an error parsing returned records",
        ),
        (
            "duplicate",
            "Lambda.DuplicatedRecordId",
            1,
            "Multiple records were returned with the same record Id",
        ),
    ];
    for (fault, code, attempts, message) in cases {
        let run = run_fault(fault, &[]);
        let messages = error_messages(&run.objects);
        assert!(
            messages.len() == 1 && messages[0].starts_with(message),
            "{fault}: {messages:?}"
        );
        let mut lines = error_lines(&run.objects);
        lines.sort();
        let mut expected: Vec<(Vec<u8>, String, u64)> = RECORDS
            .iter()
            .map(|r| (r.to_vec(), code.to_owned(), attempts))
            .collect();
        expected.sort();
        assert_eq!(lines, expected, "{fault}: {}", run.summary);
        assert_eq!(run.summary["failed"], 3, "{fault}");
        assert_eq!(run.summary["invocations"], attempts, "{fault}");
        assert!(data_objects(&run.objects).is_empty(), "{fault}");
    }
}

#[test]
fn null_data_is_data_left_out_and_a_function_logging_binary_is_read_to_the_end() {
    let run = run_fault("nulldata", &[]);
    assert_eq!(run.summary["dropped"], 3, "{}", run.summary);
    assert_eq!(
        run.summary["findings"],
        serde_json::json!([]),
        "{}",
        run.summary
    );
    // Its logs are read as bytes, to the end: the function never blocks on a full pipe.
    let run = run_fault("binarylog", &[]);
    assert_eq!(
        data_objects(&run.objects),
        RECORDS.concat(),
        "{}",
        run.summary
    );
    assert_eq!(run.summary["invocations"], 1, "{}", run.summary);
}

#[test]
fn a_function_that_exits_after_answering_is_started_again_without_losing_an_attempt() {
    // Retries=0: on a lost attempt every record of the next batch would fail.
    let run = run_fault(
        "exitafter",
        &["--parameter", "Retries=0", "--arrival-spacing-ms", "20000"],
    );
    assert_eq!(
        data_objects(&run.objects),
        RECORDS.concat(),
        "{}",
        run.summary
    );
    assert_eq!(
        counts(&run.summary, &["invocations", "cold_starts"]),
        [3, 3],
        "{}",
        run.summary
    );
}

/// The summary's counters `names`, in order.
fn counts(summary: &Value, names: &[&str]) -> Vec<u64> {
    names
        .iter()
        .map(|name| {
            summary[name]
                .as_u64()
                .unwrap_or_else(|| panic!("no {name}: {summary}"))
        })
        .collect()
}

#[test]
fn null_lambda_keys_and_records_too_deep_for_jq_are_partitioning_failures() {
    let deep = format!(
        "{{\"customer\":\"acme\",\"year\":2026,\"deep\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let records: [&[u8]; 3] = [
        br#"{"customer":"acme","year":2026}"#,
        br#"{"customer":null,"year":2026}"#,
        deep.as_bytes(),
    ];
    // faults.yaml partitioned by the function's key and a query's.
    let template = partitioned_faults(
        "customer=!{partitionKeyFromLambda:customer}/year=!{partitionKeyFromQuery:year}/",
    );
    let run = run_fault_of(&template, &records, "keys", &[]);
    assert_eq!(
        counts(&run.summary, &["delivered", "failed"]),
        [1, 2],
        "{}",
        run.summary
    );
    assert_eq!(
        run.summary["errors"]["DynamicPartitioning.MetadataExtractionFailed"], 2,
        "{}",
        run.summary
    );
    assert!(
        run.objects
            .keys()
            .any(|k| k.starts_with("faults/customer=acme/year=2026/")),
        "{:?}",
        run.objects.keys()
    );
}

#[test]
fn a_hung_function_times_out_and_is_retried() {
    let run = run_fault("hang", &["--parameter", "Retries=1"]);
    let lines = error_lines(&run.objects);
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|(_, code, attempts)| code == "Lambda.FunctionError" && *attempts == 2),
        "{lines:?}"
    );
    let failures = run.summary["invocation_failures"].to_string();
    assert!(failures.contains("timed out after 2 s"), "{failures}");
}

#[test]
fn a_missing_record_fails_alone_and_a_flaky_function_succeeds_on_retry() {
    let run = run_fault("missing", &[]);
    assert_eq!(
        error_lines(&run.objects),
        [(RECORDS[0].to_vec(), "Lambda.MissingRecordId".to_owned(), 1)]
    );
    assert_eq!(data_objects(&run.objects), RECORDS[1..].concat());

    let run = run_fault("flaky", &[]);
    assert_eq!(data_objects(&run.objects), RECORDS.concat());
    assert_eq!(
        (
            run.summary["invocations"].as_u64(),
            run.summary["retries"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert!(error_lines(&run.objects).is_empty());
}

#[test]
fn records_over_the_limit_are_refused_and_counted() {
    let out = out_dir("refused");
    std::fs::create_dir_all(&out).unwrap();
    let input = out.join("input.txt");
    std::fs::write(
        &input,
        format!("small\n{}\nsmall too\n", "x".repeat(1_024_001)),
    )
    .unwrap();
    let wrapper = fault_function();
    let output = firehose_local(&[
        "run",
        "--template",
        "tests/fixtures/run/faults.yaml",
        "--input",
        input.to_str().unwrap(),
        "--binary",
        wrapper.to_str().unwrap(),
        "--fail-on-errors",
        "--out",
        out.join("s3").to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "--fail-on-errors: {stdout}");
    assert!(
        stdout.contains("3 in (14 bytes): 2 delivered, 0 dropped, 0 failed, 1 refused"),
        "{stdout}"
    );
    assert!(
        stdout.contains("input.txt:2: 1024001 bytes, over PutRecord's 1024000"),
        "{stdout}"
    );
    assert!(stdout.contains("every record is accounted for"), "{stdout}");
}

#[test]
fn a_line_too_long_to_read_and_an_arrival_no_timestamp_holds_are_refused_and_the_run_goes_on() {
    let out = out_dir("unreadable-lines");
    std::fs::create_dir_all(&out).unwrap();
    let input = out.join("input.ndjson");
    let long = format!("{{\"data\":\"{}\"}}", "x".repeat(9 << 20));
    let far = format!("{{\"data\":\"far\",\"arrival\":{}}}", i64::MAX - 1);
    std::fs::write(
        &input,
        [r#"{"data":"a"}"#, &long, &far, r#"{"data":"b"}"#].join("\n"),
    )
    .unwrap();
    let output = firehose_local(&[
        "run",
        "--template",
        "tests/fixtures/run/faults.yaml",
        "--input",
        input.to_str().unwrap(),
        "--input-format",
        "json",
        "--binary",
        fault_function().to_str().unwrap(),
        "--json",
        "--out",
        out.join("s3").to_str().unwrap(),
    ]);
    let summary = json_summary(&output);
    assert_eq!(
        (summary["delivered"].as_u64(), summary["refused"].as_u64()),
        (Some(2), Some(2)),
        "{summary}"
    );
    let refusals = summary["refusals"].to_string();
    assert!(
        refusals.contains("input.ndjson:2: a line of 9437195 bytes"),
        "{refusals}"
    );
    assert!(
        refusals.contains("input.ndjson:3: arrival 9223372036854775806: outside the years"),
        "{refusals}"
    );
}

#[test]
fn bad_set_ups_are_named_before_anything_runs() {
    let stderr = start_up_error(&[
        "run",
        "--template",
        "tests/fixtures/run/faults.yaml",
        "--input",
        "tests/fixtures/demo/stock-ticker.ndjson",
        "--binary",
        "/nonexistent/fault-function",
        "--out",
        "/nonexistent/s3",
    ]);
    assert!(
        stderr.contains("--binary /nonexistent/fault-function: no such file"),
        "{stderr}"
    );

    let long_prefix = format!("Prefix: \"{}\"", "d/".repeat(513));
    let cases = [
        (
            "faults.yaml",
            "- Type: Lambda",
            "- Type: RecordDeAggregation\n              Parameters: []\n            - Type: Lambda",
            "faults.yaml:40: the RecordDeAggregation processor has no SubRecordType",
        ),
        (
            "faults.yaml",
            "- Type: Lambda",
            "- Type: RecordDeAggregation\n              Parameters: [{ ParameterName: SubRecordType, ParameterValue: JSON }]\n            - Type: Lambda",
            "faults.yaml:40: the RecordDeAggregation processor needs dynamic partitioning",
        ),
        (
            "partitioned.yaml",
            "- Type: Lambda",
            "- Type: RecordDeAggregation\n              Parameters:\n                - { ParameterName: SubRecordType, ParameterValue: DELIMITED }\n                - { ParameterName: Delimiter, ParameterValue: \"#\" }\n            - Type: Lambda",
            "partitioned.yaml:39: RecordDeAggregation: Delimiter \"#\" is not base64",
        ),
        (
            "cloudwatch-logs.yaml",
            "- Type: Decompression",
            "- Type: AppendDelimiterToRecord",
            "cloudwatch-logs.yaml:28: the CloudWatchLogProcessing processor needs the Decompression processor",
        ),
        (
            "cloudwatch-logs.yaml",
            "ParameterValue: GZIP",
            "ParameterValue: ZSTD",
            "cloudwatch-logs.yaml:27: Decompression parameter CompressionFormat: Firehose takes CompressionFormat GZIP",
        ),
        (
            "faults.yaml",
            "Prefix: \"data/\"",
            "Prefix: \"data/!{timestamp:yyyy-z}/\"",
            "faults.yaml:34: Prefix",
        ),
        (
            "faults.yaml",
            "Prefix: \"data/\"\n        ErrorOutputPrefix: \"errors/!{firehose:error-output-type}/\"",
            "Prefix: \"data/!{timestamp:yyyy}/\"",
            "faults.yaml:34: ErrorOutputPrefix \"\": Ths supplied prefix(es) do not satisfy the following constraint: \
             ErrorOutputPrefix cannot be null or empty when Prefix contains expressions",
        ),
        (
            "faults.yaml",
            "errors/!{firehose:error-output-type}/",
            "errors/!{timestamp:yyyy}/",
            "faults.yaml:35: ErrorOutputPrefix \"errors/!{timestamp:yyyy}/\": an ErrorOutputPrefix with \
             expressions must include !{firehose:error-output-type} at least once",
        ),
        (
            "faults.yaml",
            "Prefix: \"data/\"",
            long_prefix.as_str(),
            "faults.yaml:34: Prefix: 1 validation error detected: Value at \
             'extendedS3DestinationConfiguration.prefix' failed to satisfy constraint: \
             Member must have length less than or equal to 1024",
        ),
        (
            "faults.yaml",
            "BufferingHints: {",
            "FileExtension: \".\"\n        BufferingHints: {",
            "faults.yaml:36: FileExtension \".\": 1 validation error detected: Value at \
             'extendedS3DestinationConfiguration.fileExtension' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^(|\\.[0-9a-z!\\-_.*'()]+)$",
        ),
        (
            "faults.yaml",
            "BufferingHints: {",
            "CompressionFormat: SNAPPY\n        BufferingHints: {",
            "faults.yaml:36: CompressionFormat \"SNAPPY\": 1 validation error detected: Value at \
             'extendedS3DestinationConfiguration.compressionFormat' failed to satisfy constraint: \
             Member must satisfy enum value set: [ZIP, HADOOP_SNAPPY, Snappy, GZIP, UNCOMPRESSED]",
        ),
        (
            "faults.yaml",
            "BufferingHints: {",
            "S3BackupMode: Enabled\n        S3BackupConfiguration: { BucketARN: !GetAtt Bucket.Arn, CompressionFormat: gzip }\n        BufferingHints: {",
            "faults.yaml:37: CompressionFormat \"gzip\": 1 validation error detected: Value at \
             'extendedS3DestinationConfiguration.s3BackupConfiguration.compressionFormat'",
        ),
        (
            "faults.yaml",
            "BufferingHints: {",
            "Nope: 1\n        BufferingHints: {",
            "faults.yaml:36: ExtendedS3DestinationConfiguration.Nope is not supported",
        ),
        (
            "faults.yaml",
            "Timeout: 2",
            "Timeout: !GetAZs ''",
            "faults.yaml:19: Fn::GetAZs is not supported",
        ),
        (
            "partitioned.yaml",
            "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
            "errors/",
            "partitioned.yaml:32: dynamic partitioning needs an ErrorOutputPrefix",
        ),
        (
            "partitioned.yaml",
            "SizeInMBs: 64",
            "SizeInMBs: 5",
            "partitioned.yaml:31: dynamic partitioning needs BufferingHints.SizeInMBs of at least 64",
        ),
        (
            "partitioned.yaml",
            "{year: .year}",
            "{year: nope(.year)}",
            "partitioned.yaml:41: MetadataExtractionQuery",
        ),
        (
            "partitioned.yaml",
            "{ Enabled: true }",
            "{ Enabled: false }",
            "partitioned.yaml:28: Prefix uses the partition key customer, but dynamic partitioning is not enabled",
        ),
    ];
    for (file, from, to, needle) in cases {
        let path = template_variant(file, from, to);
        let stderr = start_up_error(&[
            "run",
            "--template",
            path.to_str().unwrap(),
            "--input",
            "-",
            "--out",
            "/nonexistent",
        ]);
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
}

#[test]
fn replay_gives_failed_records_to_the_function_again_with_their_arrival_times() {
    let failed = run_fault("crash", &["--parameter", "Retries=0"]);
    assert_eq!(failed.summary["failed"], 3);
    let out = out_dir("replayed");
    let output = firehose_local(&[
        "replay",
        "--template",
        "tests/fixtures/run/faults.yaml",
        "--errors",
        failed.s3.join("faults/errors").to_str().unwrap(),
        "--binary",
        fault_function().to_str().unwrap(),
        "--json",
        "--seed",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let summary = json_summary(&output);
    assert_eq!(
        (
            summary["records_in"].as_u64(),
            summary["delivered"].as_u64()
        ),
        (Some(3), Some(3)),
        "{summary}"
    );
    let replayed = landed(&out);
    let mut data = data_objects(&replayed);
    let mut expected = RECORDS.concat();
    data.sort_unstable();
    expected.sort_unstable();
    assert_eq!(data, expected);
    // Objects are dated by the records' original arrival, not by the replay's clock.
    let keys: Vec<&String> = replayed.keys().collect();
    assert!(
        keys.iter()
            .all(|k| k.starts_with("faults/data/2026/12/01/10/")),
        "{keys:?}"
    );
}

#[test]
fn records_are_read_from_a_kinesis_stream_with_their_shards_keys_and_sequence_numbers() {
    let moto = Moto::start();
    moto.create_stream_of("source", 2);
    for i in 0..8 {
        moto.put_record(
            "source",
            &format!("key-{i}"),
            format!("{{\"n\":{i}}}").as_bytes(),
        );
    }
    // Three user records AWS's own KPL aggregator (aws_kinesis_agg) put in one.
    moto.put_record(
        "source",
        "agg",
        &std::fs::read(repo().join("tests/fixtures/serve/kpl-aggregate.bin")).unwrap(),
    );
    let out = out_dir("from-kinesis");
    let output = Command::new(binary("firehose-local"))
        .args([
            "run",
            "--template",
            "tests/fixtures/run/kinesis.yaml",
            "--from-kinesis",
            "source",
            "--endpoint-url",
        ])
        .arg(&moto.url)
        .args(["--json", "--out", out.to_str().unwrap()])
        // moto keeps streams by the region of the request's credential scope: the harness's.
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .current_dir(repo())
        .output()
        .unwrap();
    let summary = json_summary(&output);
    assert_eq!(summary["delivered"], 11, "{summary}");
    assert_eq!(summary["kpl_aggregates"], 1, "{summary}");
    let objects = landed(&out);
    let lines = objects
        .values()
        .flat_map(|o| std::str::from_utf8(o).unwrap().lines());
    let records: Vec<Value> = lines
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let put_back = moto.stream_records_of("source");
    assert_eq!(records.len(), 11);
    let (aggregated, records): (Vec<&Value>, Vec<&Value>) = records
        .iter()
        .partition(|r| r["key"].as_str().unwrap().starts_with("user-"));
    // De-aggregated before the function: each user record with its own key,
    // under the aggregate's shard and sequence number.
    let keys: Vec<&Value> = aggregated.iter().map(|r| &r["key"]).collect();
    assert_eq!(keys, ["user-1", "user-2", "user-1"]);
    for record in aggregated {
        let (shard, sequence) = &put_back["agg"];
        assert_eq!(&record["shard"], shard, "{record}");
        assert_eq!(&record["sequence"], sequence, "{record}");
    }
    for record in &records {
        let n = record["n"].as_u64().unwrap();
        assert_eq!(record["key"], format!("key-{n}"));
        assert_eq!(record["source"], "source");
        let (shard, sequence) = &put_back[&format!("key-{n}")];
        assert_eq!(&record["shard"], shard, "{record}");
        assert_eq!(&record["sequence"], sequence, "{record}");
    }
    let shards: std::collections::BTreeSet<String> =
        records.iter().map(|r| r["shard"].to_string()).collect();
    assert_eq!(
        shards.len(),
        2,
        "moto spread the keys over both shards: {records:?}"
    );
}

#[test]
fn an_input_that_cannot_be_read_on_stops_the_run_after_what_was_read_landed() {
    let out = out_dir("stopped");
    let output = firehose_local(&[
        "run",
        "--template",
        "tests/fixtures/run/faults.yaml",
        "--input",
        "tests/fixtures/demo/stock-ticker.ndjson",
        "--input",
        "tests/fixtures",
        "--binary",
        fault_function().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("== stopped early: cannot read tests/fixtures:"),
        "{stdout}"
    );
    assert!(stdout.contains("8 in (537 bytes): 8 delivered"), "{stdout}");
    assert!(stdout.contains("every record is accounted for"), "{stdout}");
    let delivered: Vec<u8> = landed(&out).into_values().flatten().collect();
    assert_eq!(
        delivered,
        std::fs::read(repo().join("tests/fixtures/demo/stock-ticker.ndjson"))
            .unwrap()
            .split(|&b| b == b'\n')
            .flatten()
            .copied()
            .collect::<Vec<u8>>()
    );
}

/// `firehose-local ARGS` with moto's credentials in the environment.
pub(crate) fn firehose_local_on_moto(args: &[&str]) -> Output {
    Command::new(binary("firehose-local"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .current_dir(repo())
        .output()
        .unwrap()
}

#[test]
fn an_s3_api_gets_exactly_the_objects_the_folder_gets_and_replay_reads_them_back() {
    let moto = Moto::start();
    moto.s3("PUT", "partitioned");
    let run = [
        &["run"],
        &PARTITIONED[..],
        &["--start-time", START, "--json"],
    ]
    .concat();
    let folder = out_dir("s3-folder");
    let to_folder = json_summary(&firehose_local(
        &[&run[..], &["--out", folder.to_str().unwrap()]].concat(),
    ));
    let to_s3 = json_summary(&firehose_local_on_moto(
        &[&run[..], &["--s3-endpoint", &moto.url]].concat(),
    ));
    assert_eq!(to_s3["out"], format!("in the S3 API at {}", moto.url));
    assert_eq!(to_s3["objects"], to_folder["objects"]);
    let in_s3 = moto.s3_objects("partitioned");
    assert_eq!(in_s3.len(), 5);
    assert_eq!(in_s3, landed(&folder), "keys and bytes");

    // Replaying the processing-failed objects from S3 is replaying them from the folder.
    let replay = |errors: &str, out: &Path| {
        let args = [
            "replay",
            "--template",
            "tests/fixtures/run/partitioned.yaml",
            "--errors",
            errors,
            "--seed",
            "4",
            "--start-time",
            START,
            "--json",
            "--out",
            out.to_str().unwrap(),
        ];
        // Read from moto as the AWS CLI would be told to; written to a folder.
        let output = Command::new(binary("firehose-local"))
            .args(args)
            .env("AWS_ENDPOINT_URL_S3", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .current_dir(repo())
            .output()
            .unwrap();
        let mut summary = json_summary(&output);
        summary.as_object_mut().unwrap().remove("out");
        (summary, landed(out))
    };
    let failed = "errors/processing-failed";
    let (from_s3, landed_from_s3) = replay(
        &format!("s3://partitioned/{failed}/"),
        &out_dir("replay-from-s3"),
    );
    let (from_folder, landed_from_folder) = replay(
        folder.join("partitioned").join(failed).to_str().unwrap(),
        &out_dir("replay-from-folder"),
    );
    assert_eq!(from_s3["records_in"], 2, "{from_s3}");
    assert_eq!(from_s3, from_folder);
    assert_eq!(landed_from_s3, landed_from_folder);
}

#[test]
fn the_s3_api_needs_credentials_and_excludes_the_folder() {
    let args = [
        "run",
        "--template",
        "tests/fixtures/run/faults.yaml",
        "--input",
        "-",
        "--s3-endpoint",
        "http://127.0.0.1:9",
    ];
    let output = Command::new(binary("firehose-local"))
        .args(args)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .current_dir(repo())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the S3 API needs credentials in the environment (AWS_ACCESS_KEY_ID"),
        "{stderr}"
    );
    let stderr = start_up_error(&[&args[..], &["--out", "/tmp/x"]].concat());
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
