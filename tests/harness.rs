//! Support for the end-to-end tests: locating the built binaries, running them
//! through the local Runtime API, golden files.
//!
//! The binaries are the ones `cargo build --release --workspace` wrote beside
//! the test executables; the tests never build anything themselves.
// Test support: failing loudly with the reason is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod moto_server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use firehose_local::{LocalFunction, Reply, check, view};
use firehose_transform::Response;

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

/// Settings with owned values, borrowed as `start` takes them.
pub fn borrowed<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Invokes, expects a response that keeps the contract, and returns it.
pub fn respond(function: &mut LocalFunction, event: &[u8]) -> Vec<u8> {
    match function.invoke(event).unwrap() {
        Reply::Response(response) => checked(function, event, response),
        other => panic!(
            "expected a response, got {other:?}\nlogs: {:#?}",
            function.logs()
        ),
    }
}

/// Fails the test if `response` breaks the contract for `event`.
fn checked(function: &LocalFunction, event: &[u8], response: Vec<u8>) -> Vec<u8> {
    let violations = check::violations(event, &response);
    assert!(
        violations.is_empty(),
        "contract violations: {violations:#?}\nlogs: {:#?}",
        function.logs()
    );
    response
}

/// An HTTP client that hands back every answer, errors included, for the test to read.
pub fn answering_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// Reads a repository file.
pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(repo().join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The fields of a CSV record, read back with a real CSV reader.
pub fn csv_fields(data: &[u8]) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(data);
    let mut records = reader.records();
    let fields: Vec<String> = records
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert!(records.next().is_none(), "one row per record");
    fields
}

/// A JSON field as the CSV output writes it: text as is, `null` empty, anything else as JSON.
pub fn csv_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The bytes gzipped, as CloudWatch Logs sends its payloads.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
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

/// An event as a delivery stream reading the Kinesis data stream `class-stream`
/// sends it: stream ARNs, region and per-record Kinesis metadata.
pub fn kinesis_event(records: &[&[u8]]) -> Vec<u8> {
    let records: Vec<serde_json::Value> = records
        .iter()
        .enumerate()
        .map(|(i, data)| {
            serde_json::json!({
                "recordId": format!("r{i}"),
                "approximateArrivalTimestamp": 1_714_566_600_123_i64 + i as i64,
                "data": base64_simd::STANDARD.encode_to_string(data),
                "kinesisRecordMetadata": {
                    "shardId": "shardId-000000000001",
                    "partitionKey": format!("customer-{}", i % 3),
                    "sequenceNumber": format!("4954511524349098501828006771497314458218006259324420{i:04}"),
                    "subsequenceNumber": "",
                    "approximateArrivalTimestamp": 1_714_566_600_000_i64
                }
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "invocationId": "4c1f4f8e-0000-4000-8000-000000000001",
        "deliveryStreamArn": "arn:aws:firehose:eu-west-1:123456789012:deliverystream/class-stream",
        "sourceKinesisStreamArn": "arn:aws:kinesis:eu-west-1:123456789012:stream/class-stream",
        "region": "eu-west-1",
        "records": records
    }))
    .unwrap()
}

/// One answered record: its result, its decoded data and its partition keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub result: firehose_transform::Outcome,
    pub data: Vec<u8>,
    pub keys: Vec<(String, String)>,
}

/// The answers of a response, in order.
pub fn answers(response: &[u8]) -> Vec<Answer> {
    Response::from_slice(response)
        .unwrap()
        .records
        .into_iter()
        .map(|r| Answer {
            result: r.result,
            data: base64_simd::STANDARD.decode_to_vec(&r.data).unwrap(),
            keys: r
                .metadata
                .map(|m| m.partition_keys.into_iter().collect())
                .unwrap_or_default(),
        })
        .collect()
}

/// `n` JSON records no function was tuned to, different for each seed: mixed
/// case, dotted and nested keys, missing and wrong-typed fields, big numbers,
/// non-ASCII text, and now and then a record that is not an object or not JSON.
pub fn generated_records(seed: u64, n: usize) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let levels = ["DEBUG", "INFO", "WARN", "ERROR"];
    let cities = ["Zürich", "São Paulo", "東京", "Lagos", "Oslo"];
    (0..n)
        .map(|i| match rng.u8(0..40) {
            0 => "[1,2,3]".to_owned(),
            1 => format!("plain text line {i}"),
            2 => format!("{{\"truncated\": {i}"),
            _ => {
                let mut fields = vec![format!("\"Id\":{}", rng.i64(-5..1_000_000))];
                if rng.u8(0..10) > 0 {
                    fields.push(format!(
                        "\"level\":\"{}\"",
                        levels[rng.usize(..levels.len())]
                    ));
                }
                if rng.bool() {
                    fields.push(format!("\"customer_id\":\"c-{}\"", rng.u16(..500)));
                } else if rng.u8(0..4) == 0 {
                    fields.push(format!("\"customer_id\":{}", rng.u16(..500)));
                }
                fields.push(format!("\"ts\":{}", 1_700_000_000 + rng.i64(0..40_000_000)));
                fields.push(format!(
                    "\"Geo\":{{\"City.Name\":\"{}\",\"Lat\":{}.{:04}}}",
                    cities[rng.usize(..cities.len())],
                    rng.i8(-90..90),
                    rng.u16(..10_000)
                ));
                if rng.bool() {
                    fields.push(format!(
                        "\"Amount\":{}.{:02}",
                        rng.u32(..100_000),
                        rng.u8(..100)
                    ));
                }
                if rng.u8(0..8) == 0 {
                    fields.push("\"big\":123456789012345678901234567890".to_owned());
                }
                if rng.u8(0..6) == 0 {
                    fields.push(format!(
                        "\"tags\":[\"t{}\",\"t{}\"]",
                        rng.u8(..9),
                        rng.u8(..9)
                    ));
                }
                rng.shuffle(&mut fields);
                format!("{{{}}}", fields.join(","))
            }
        })
        .collect()
}

/// The readable view of a response, every byte of data shown.
pub fn render(response: &[u8]) -> String {
    view::render(
        &firehose_local::answer::Answer::parse(response).unwrap(),
        None,
    )
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

/// The public sample events every function answers (see `fixtures/PROVENANCE.md`).
pub const PUBLIC_FIXTURES: &[&str] = &[
    "sam/firehose-kinesis-firehose.json",
    "sam/firehose-streams-as-source.json",
    "sam/firehose-apachelog.json",
    "sam/firehose-syslog.json",
    "sam/firehose-cloudwatch-logs-processor.json",
    "public/aws-lambda-events-example-firehose-event.json",
    "public/powertools-kinesisFirehoseKinesisEvent.json",
    "public/powertools-kinesisFirehosePutEvent.json",
    "public/powertools-kinesisFirehoseSQSEvent.json",
    "public/ukhomeoffice-cloudwatch-logs-event.json",
    "public/ukhomeoffice-processing-failed-object.ndjson",
];

/// Events built to break a transform.
pub const ADVERSARIAL_FIXTURES: &[&str] = &[
    "adversarial/invalid-base64-among-valid.json",
    "adversarial/empty-data.json",
    "adversarial/invalid-utf8.json",
    "adversarial/key-collisions.json",
    "adversarial/big-integers.json",
    "adversarial/not-objects.json",
    "adversarial/nested-and-dotted.json",
];

/// The readable outcome of one invocation: the response view and why each
/// failed record failed, or the invocation's error.
pub fn outcome(function: &mut LocalFunction, event: &[u8]) -> String {
    let before = function.logs().len();
    match function.invoke(event).unwrap() {
        Reply::Response(response) => {
            let mut text = render(&checked(function, event, response));
            for line in invocation_logs(function, before) {
                let line: serde_json::Value = serde_json::from_str(&line).unwrap();
                if line["message"] == "record failed" {
                    text += &format!(
                        "    why {} failed at {}: {}\n",
                        line["record_id"].as_str().unwrap_or_default(),
                        line["step"].as_str().unwrap_or_default(),
                        line["reason"].as_str().unwrap_or_default()
                    );
                }
            }
            text
        }
        Reply::Error {
            error_type,
            message,
        } => format!("invocation error {error_type}: {message}\n"),
        Reply::InitError {
            error_type,
            message,
        } => format!("start-up error {error_type}: {message}\n"),
    }
}

/// The log lines an invocation wrote after line `before`, once its summary is in.
pub fn invocation_logs(function: &LocalFunction, before: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let logs = function.logs();
        let new = logs.get(before..).unwrap_or_default();
        if new.iter().any(|l| l.contains("invocation summary")) || Instant::now() > deadline {
            return new.to_vec();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs each fixture through one process of `binary` with `env`, as a warm
/// Lambda would, and compares each outcome with `tests/golden/<dir>/<fixture>.txt`.
pub fn golden_cases(binary_name: &str, fixtures: &[&str], env: &[(&str, &str)], dir: &str) {
    let mut function = start(&binary(binary_name), env);
    // The checkout's path would make the golden files differ between machines.
    let root = repo().to_string_lossy().into_owned();
    let settings: Vec<String> = env
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(&root, "<repo>")))
        .collect();
    for fixture in fixtures {
        let event = read(&format!("tests/fixtures/{fixture}"));
        let header = format!(
            "# event: tests/fixtures/{fixture}\n# settings: {}\n",
            settings.join(" ")
        );
        let file = Path::new(fixture).file_stem().unwrap().to_string_lossy();
        golden(
            &format!("tests/golden/{dir}/{file}.txt"),
            &(header + &outcome(&mut function, &event)),
        );
    }
}

/// Starts `binary` with `env`, which must stop it at start-up; returns the
/// init error's type and message after checking the log line says the same.
pub fn start_up_error(binary_name: &str, env: &[(&str, &str)]) -> (String, String) {
    let mut function = start(&binary(binary_name), env);
    let reply = function.invoke(b"{}").unwrap();
    let status = function
        .wait_for_exit(Duration::from_secs(10))
        .expect("the function exits after a start-up error");
    assert!(!status.success());
    match reply {
        Reply::InitError {
            error_type,
            message,
        } => {
            let logged = function
                .logs()
                .into_iter()
                .find(|l| l.contains("start-up failed"))
                .unwrap();
            let logged: serde_json::Value = serde_json::from_str(&logged).unwrap();
            assert_eq!(
                logged["error"],
                message.as_str(),
                "the log line says what the init error says"
            );
            (error_type, message)
        }
        other => panic!("{other:?}"),
    }
}
