//! `firehose-local serve`: producers put records over the Firehose and
//! Kinesis APIs while it serves, objects land on the wall clock, and SIGTERM
//! lands everything taken. The producers are clients no one here wrote
//! (boto3, AWS's KPL aggregator), raw HTTP for the requests no SDK would
//! send, and CBOR of our own making.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use firehose_e2e::{binary, repo};
use serde_json::{Value, json};

use crate::run::{fault_function, landed, out_dir};

/// `firehose-local serve` on a free loopback port, its `--json` events collected.
pub(crate) struct Served {
    child: Child,
    pub(crate) endpoint: String,
    /// With `--tls`, the certificate clients are to trust.
    pub(crate) certificate: Option<String>,
    events: Arc<Mutex<Vec<Value>>>,
    out: PathBuf,
}

impl Served {
    pub(crate) fn start(name: &str, template: &Path, extra: &[&str]) -> Served {
        Served::start_in(out_dir(&format!("serve-{name}")), template, extra)
    }

    /// Serves with objects under `out`, which may hold an earlier run's.
    fn start_in(out: PathBuf, template: &Path, extra: &[&str]) -> Served {
        let mut child = Command::new(binary("firehose-local"))
            .args(["serve", "--template", template.to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0", "--json"])
            .args(if extra.contains(&"--seed") {
                &[][..]
            } else {
                &["--seed", "1"]
            })
            .args(["--out", out.join("s3").to_str().unwrap()])
            .args(extra)
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let collected = Arc::clone(&events);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                let event = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON event ({e}): {line}"));
                collected.lock().unwrap().push(event);
            }
        });
        let mut served = Served {
            child,
            endpoint: String::new(),
            certificate: None,
            events,
            out,
        };
        let listening = served.wait_for(|e| e["event"] == "listening");
        served.endpoint = listening["endpoint"].as_str().unwrap().to_owned();
        served.certificate = listening["certificate"].as_str().map(str::to_owned);
        served
    }

    /// The first event `wanted` takes, waiting up to 30 s for it.
    pub(crate) fn wait_for(&self, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(event) = self.events.lock().unwrap().iter().find(|e| wanted(e)) {
                return event.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no such event: {:?}",
                self.events.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit status and the summary it printed.
    pub(crate) fn stop(&mut self) -> (ExitStatus, Value, PathBuf) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = self.child.wait().unwrap();
        let summary = self.wait_for(|e| e["event"] == "summary");
        (status, summary, self.out.join("s3"))
    }

    /// How many events `wanted` takes so far.
    fn count(&self, wanted: impl Fn(&Value) -> bool) -> usize {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| wanted(e))
            .count()
    }

    /// Kills the server with SIGKILL, as a crash would: nothing is flushed.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// One raw API call: its status, error type header and body.
    fn call(&self, target: Option<&str>, content_type: &str, body: &str) -> (u16, String, Value) {
        let agent = firehose_e2e::answering_agent();
        let mut request = agent
            .post(&self.endpoint)
            .header("Content-Type", content_type);
        if let Some(target) = target {
            request = request.header("X-Amz-Target", target);
        }
        let mut response = request.send(body).unwrap();
        let error_type = response
            .headers()
            .get("X-Amzn-ErrorType")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.body_mut().read_to_string().unwrap();
        (
            response.status().as_u16(),
            error_type,
            serde_json::from_str(&body).unwrap(),
        )
    }
}

impl Drop for Served {
    /// A test that failed before stopping it leaves no server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn normalize_template() -> PathBuf {
    repo().join("tests/fixtures/run/normalize.yaml")
}

/// The records of the data objects under `s3`, each a JSON line.
pub(crate) fn delivered_lines(s3: &Path, prefix: &str) -> Vec<Value> {
    landed(s3)
        .into_iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .flat_map(|(_, bytes)| {
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

/// Runs the Python producer `script` (in tests/fixtures/serve) against `served` with `args`: its JSON report.
fn python_producer(script: &str, served: &Served, args: &[&str]) -> Value {
    json_output(
        Command::new(repo().join(".venv/bin/python"))
            .arg(repo().join("tests/fixtures/serve").join(script))
            .arg(&served.endpoint)
            .args(args),
    )
}

/// What a client `command` printed as JSON, once it has succeeded.
pub(crate) fn json_output(command: &mut Command) -> Value {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn records_boto3_puts_land_while_serving_and_each_once_at_sigterm() {
    let mut served = Served::start("boto3", &normalize_template(), &["--buffer-interval", "1"]);
    let report = python_producer("boto3_producer.py", &served, &["normalized", "3"]);
    assert_eq!(
        report["arn"], "arn:aws:firehose:eu-west-2:123456789012:deliverystream/normalized",
        "the ARN is in the region the client signed for"
    );
    assert_eq!(report["streams"], json!(["normalized"]));
    let refused = &report["refused"];
    let expected = [
        (
            "unknown stream",
            "ResourceNotFoundException",
            "Firehose nope not found under account 123456789012.",
        ),
        (
            "501 records",
            "ValidationException",
            "Member must have length less than or equal to 500",
        ),
        (
            "a record over 1,000 KiB",
            "ValidationException",
            "at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000",
        ),
        (
            "over 4 MiB in all",
            "InvalidArgumentException",
            "Records size exceeds 4 MB limit",
        ),
    ];
    for (case, code, message) in expected {
        assert_eq!(refused[case]["code"], code, "{case}: {refused}");
        assert_eq!(refused[case]["status"], 400, "{case}: {refused}");
        let said = refused[case]["message"].as_str().unwrap();
        assert!(said.contains(message), "{case}: {said}");
    }
    // The buffers flush on the wall clock while serving, not only at the end.
    served.wait_for(|e| e["event"] == "landed" && e["target"] == "data");
    let (status, summary, s3) = served.stop();
    assert!(status.success(), "{status}: {summary}");
    let sent: BTreeSet<u64> = report["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(sent.len(), 301);
    assert_eq!(summary["records_in"], 302, "{summary}");
    assert_eq!(summary["delivered"], 301, "{summary}");
    assert_eq!(summary["failed"], 1, "{summary}");
    let delivered = delivered_lines(&s3, "normalized/normalized/");
    let numbers: Vec<u64> = delivered.iter().map(|r| r["n"].as_u64().unwrap()).collect();
    assert_eq!(numbers.len(), 301, "each record once");
    assert_eq!(numbers.iter().copied().collect::<BTreeSet<_>>(), sent);
    let errors = delivered_lines(&s3, "normalized/errors/processing-failed/");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0]["rawData"],
        base64::engine::general_purpose::STANDARD.encode("not json")
    );
}

#[test]
fn bad_requests_get_aws_errors_and_lose_nothing_taken() {
    let mut served = Served::start("bad-requests", &normalize_template(), &[]);
    let json11 = "application/x-amz-json-1.1";
    let put =
        json!({"DeliveryStreamName": "normalized", "Record": {"Data": "eyJuIjoxfQ=="}}).to_string();
    let (status, _, _) = served.call(Some("Firehose_20150804.PutRecord"), json11, &put);
    assert_eq!(status, 200);
    let cases = [
        (
            Some("Firehose_20150804.PutRecord"),
            json11,
            "{\"Deliv",
            400,
            "SerializationException",
        ),
        (
            Some("Firehose_20150804.PutRecord"),
            json11,
            "{\"Record\": {\"Data\": \"e30=\"}}",
            400,
            "ValidationException",
        ),
        (
            Some("Firehose_20150804.PutRecord"),
            json11,
            "{\"DeliveryStreamName\": \"normalized\", \"Record\": {\"Data\": \"not base64!\"}}",
            400,
            "SerializationException",
        ),
        (
            Some("Firehose_20150804.CreateDeliveryStream"),
            json11,
            "{}",
            400,
            "UnknownOperationException",
        ),
        (
            Some("Kinesis_20131202.GetRecords"),
            json11,
            "{}",
            400,
            "UnknownOperationException",
        ),
        (
            Some("Kinesis_20131202.PutRecord"),
            json11,
            "{\"StreamName\": \"nope\", \"Data\": \"e30=\", \"PartitionKey\": \"k\"}",
            400,
            "ResourceNotFoundException",
        ),
        (None, json11, "{}", 400, "UnknownOperationException"),
        (
            Some("Firehose_20150804.PutRecord"),
            "text/plain",
            &put,
            400,
            "UnknownOperationException",
        ),
    ];
    for (target, content_type, body, status, error_type) in cases {
        let (got, header, answer) = served.call(target, content_type, body);
        assert_eq!(
            (got, header.as_str()),
            (status, error_type),
            "{target:?} {content_type} {body}: {answer}"
        );
        assert_eq!(answer["__type"], error_type, "{answer}");
        assert!(!answer["message"].as_str().unwrap().is_empty(), "{answer}");
    }
    let (status, summary, s3) = served.stop();
    assert!(status.success(), "{status}: {summary}");
    assert_eq!(summary["records_in"], 1, "{summary}");
    assert_eq!(summary["delivered"], 1, "{summary}");
    assert_eq!(
        delivered_lines(&s3, "normalized/normalized/"),
        vec![json!({"n": 1})]
    );
}

#[test]
fn a_function_that_falls_behind_gets_puts_refused_with_service_unavailable() {
    let wrapper = fault_function();
    let mut served = Served::start(
        "backpressure",
        &repo().join("tests/fixtures/run/faults.yaml"),
        &[
            "--binary",
            wrapper.to_str().unwrap(),
            "--parameter",
            "Fault=slow",
            "--queue-mib",
            "1",
        ],
    );
    let record = base64::engine::general_purpose::STANDARD.encode(vec![b'z'; 400_000]);
    let put = json!({"DeliveryStreamName": "faults", "Records": [{"Data": record}]}).to_string();
    let (mut taken, mut refused) = (0, 0);
    for _ in 0..200 {
        let (status, error_type, answer) = served.call(
            Some("Firehose_20150804.PutRecordBatch"),
            "application/x-amz-json-1.1",
            &put,
        );
        match status {
            200 => taken += 1,
            500 => {
                assert_eq!(error_type, "ServiceUnavailableException", "{answer}");
                assert_eq!(answer["message"], "Slow down.");
                refused += 1;
            }
            other => panic!("{other}: {answer}"),
        }
        if refused >= 3 {
            break;
        }
    }
    assert!(refused >= 3, "{taken} taken, none refused");
    let (status, summary, _) = served.stop();
    assert!(status.success(), "{status}: {summary}");
    assert_eq!(summary["records_in"], taken, "{summary}");
    assert_eq!(
        summary["delivered"], taken,
        "every put taken lands: {summary}"
    );
}

#[test]
fn a_stream_reading_kinesis_refuses_direct_puts_as_aws_does() {
    let mut served = Served::start("kinesis-source", &repo().join("template.yaml"), &[]);
    let json11 = "application/x-amz-json-1.1";
    let put = json!({"DeliveryStreamName": "class-stream", "Record": {"Data": "e30="}}).to_string();
    let (status, error_type, answer) =
        served.call(Some("Firehose_20150804.PutRecord"), json11, &put);
    assert_eq!(
        (status, error_type.as_str()),
        (400, "InvalidArgumentException")
    );
    assert_eq!(
        answer["message"],
        "This operation is not permitted on KinesisStreamAsSource delivery stream type."
    );
    let describe = json!({"DeliveryStreamName": "class-stream", "Limit": 1}).to_string();
    let (status, _, answer) = served.call(
        Some("Firehose_20150804.DescribeDeliveryStream"),
        json11,
        &describe,
    );
    assert_eq!(status, 200, "{answer}");
    let description = &answer["DeliveryStreamDescription"];
    assert_eq!(description["DeliveryStreamName"], "class-stream");
    assert_eq!(description["DeliveryStreamType"], "KinesisStreamAsSource");
    assert_eq!(
        description["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"],
        "arn:aws:kinesis:us-east-1:123456789012:stream/class-stream"
    );
    let (status, summary, _) = served.stop();
    assert!(status.success(), "{status}: {summary}");
    assert_eq!(summary["records_in"], 0, "{summary}");
}

pub(crate) fn kinesis_template() -> PathBuf {
    repo().join("tests/fixtures/run/kinesis.yaml")
}

/// The records landed under `prefix` by their `n`; each must be there once.
pub(crate) fn landed_by_number(s3: &Path, prefix: &str) -> BTreeMap<u64, Value> {
    let lines = delivered_lines(s3, prefix);
    let count = lines.len();
    let by_number: BTreeMap<u64, Value> = lines
        .into_iter()
        .map(|r| (r["n"].as_u64().unwrap(), r))
        .collect();
    assert_eq!(by_number.len(), count, "each record once");
    by_number
}

#[test]
fn records_boto3_puts_to_kinesis_land_with_their_shards_keys_and_sequence_numbers() {
    // Through --state too: each put to a data stream is synced before it is answered.
    let state = out_dir("serve-kinesis-state");
    let state = ["--state", state.to_str().unwrap()];
    let mut served = Served::start("kinesis-boto3", &kinesis_template(), &state);
    let report = python_producer("kinesis_producer.py", &served, &["source"]);
    assert_eq!(
        report["described"],
        json!({"name": "source", "arn": "arn:aws:kinesis:eu-west-2:123456789012:stream/source",
               "status": "ACTIVE", "has_more_shards": true, "shards": 1}),
        "DescribeStream with Limit=1, as Vector's health check calls it"
    );
    assert_eq!(report["open_shards"], 2);
    assert_eq!(report["stream_id_given"], false);
    assert_eq!(
        report["shards"],
        json!([
            [
                "shardId-000000000000",
                "0",
                "170141183460469231731687303715884105727"
            ],
            [
                "shardId-000000000001",
                "170141183460469231731687303715884105728",
                "340282366920938463463374607431768211455"
            ]
        ]),
        "two shards split the hash keys evenly, listed a page at a time"
    );
    assert_eq!(report["streams"], json!(["source"]));
    let expected = [
        (
            "unknown stream",
            "ResourceNotFoundException",
            "Stream nope under account 123456789012 not found.",
        ),
        (
            "501 records",
            "ValidationException",
            "Member must have length less than or equal to 500",
        ),
        (
            "a record over 1 MiB",
            "ValidationException",
            "at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048576",
        ),
        (
            "a hash key over 2^128 - 1",
            "InvalidArgumentException",
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1].",
        ),
        (
            "a GetRecords",
            "UnknownOperationException",
            "Kinesis_20131202.GetRecords is not an operation",
        ),
    ];
    let refused = &report["refused"];
    for (case, code, message) in expected {
        assert_eq!(refused[case]["code"], code, "{case}: {refused}");
        let said = refused[case]["message"].as_str().unwrap();
        assert!(said.contains(message), "{case}: {said}");
    }
    let sent = report["sent"].as_object().unwrap();
    // MD5("a") is in the lower half of the hash keys; the explicit 2^127 starts the upper.
    assert_eq!(sent["300"]["shard"], "shardId-000000000000");
    assert_eq!(sent["301"]["shard"], "shardId-000000000001");
    let (status, summary, s3) = served.stop();
    assert!(status.success(), "{status}: {summary}");
    let data_stream = served.wait_for(|e| e["event"] == "data_stream");
    assert_eq!(
        data_stream,
        json!({"event": "data_stream", "name": "source", "records_put": 303, "read_by": ["from-kinesis"]})
    );
    assert_eq!(summary["records_in"], 303, "{summary}");
    assert_eq!(summary["kpl_aggregates"], 1, "{summary}");
    assert_eq!(summary["deaggregated"], 49, "{summary}");
    assert_eq!(summary["delivered"], 352, "{summary}");
    let landed = landed_by_number(&s3, "from-kinesis/records/");
    assert_eq!(landed.len(), 352);
    for (n, put) in sent {
        let record = &landed[&n.parse::<u64>().unwrap()];
        assert_eq!(record["key"], put["key"], "{record}");
        assert_eq!(record["shard"], put["shard"], "{record}");
        assert_eq!(record["sequence"], put["sequence"], "{record}");
        assert_eq!(record["source"], "source", "{record}");
    }
    // The KPL aggregate's user records: each with its own partition key, in
    // the aggregate's shard, under its sequence number.
    let aggregate = &report["aggregate"];
    let first = aggregate["first"].as_u64().unwrap();
    for i in 0..50 {
        let record = &landed[&(first + i)];
        assert_eq!(record["key"], format!("agg-{i}"), "{record}");
        assert_eq!(record["shard"], aggregate["shard"], "{record}");
        assert_eq!(record["sequence"], aggregate["sequence"], "{record}");
    }
}

#[test]
fn kinesis_calls_in_cbor_are_answered_in_cbor_by_our_own_reading_of_the_protocol() {
    let mut served = Served::start("kinesis-cbor", &kinesis_template(), &[]);
    let report = python_producer("cbor_producer.py", &served, &["source"]);
    let put = &report["put"];
    assert_eq!(put["status"], 200, "{report}");
    assert_eq!(put["content_type"], "application/x-amz-cbor-1.1");
    assert_eq!(put["failed"], 0);
    for (case, code) in [
        ("unknown stream", "ResourceNotFoundException"),
        ("firehose in cbor", "SerializationException"),
    ] {
        let answer = &report[case];
        assert_eq!(answer["status"], 400, "{case}: {answer}");
        assert_eq!(answer["header"], code, "{case}: {answer}");
        assert_eq!(answer["body"]["__type"], code, "{case}: {answer}");
    }
    let created = &report["created"];
    assert_eq!(created["status"], 200);
    assert_eq!(created["tag_and_type"], "c11b", "tag 1, an 8-byte integer");
    let (ms, now) = (
        created["ms"].as_i64().unwrap(),
        created["now_ms"].as_i64().unwrap(),
    );
    assert!(
        (0..600_000).contains(&(now - ms)),
        "epoch milliseconds: {ms}, now {now}"
    );
    let (status, summary, s3) = served.stop();
    assert!(status.success(), "{status}: {summary}");
    let landed = landed_by_number(&s3, "from-kinesis/records/");
    assert_eq!(landed.len(), 20, "{summary}");
    for put in put["records"].as_array().unwrap() {
        let record = &landed[&put["n"].as_u64().unwrap()];
        assert_eq!(record["key"], put["key"], "{record}");
        assert_eq!(record["shard"], put["ShardId"], "{record}");
        assert_eq!(record["sequence"], put["SequenceNumber"], "{record}");
    }
}

/// The numbers of the records the steady producer was told were accepted.
fn acknowledged(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        // A line the kill cut short was never acknowledged whole; a line is written whole.
        .flat_map(|line| {
            line.split(' ')
                .map(|n| n.parse::<u64>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn with_state_every_acknowledged_record_lands_after_a_sigkill_and_a_restart() {
    let out = out_dir("serve-state");
    let state = out.join("state");
    let extra = ["--state", state.to_str().unwrap(), "--buffer-interval", "1"];
    let mut served = Served::start_in(out.clone(), &normalize_template(), &extra);
    let acked_path = out.join("acknowledged.txt");
    let mut producer = Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("tests/fixtures/serve/steady_producer.py"))
        .args([&served.endpoint, "normalized", acked_path.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed in the middle of the load, once two objects have landed (the
    // state has forgotten the first one's records) while records wait in buffers.
    let deadline = Instant::now() + Duration::from_secs(60);
    while served.count(|e| e["event"] == "landed") < 2 || acknowledged(&acked_path).len() < 5_000 {
        assert!(Instant::now() < deadline, "the producer is too slow");
        std::thread::sleep(Duration::from_millis(20));
    }
    served.kill();
    assert!(producer.wait().unwrap().success());
    let acked = acknowledged(&acked_path);
    let kept_files = std::fs::read_dir(state.join("normalized")).unwrap().count();
    assert!(kept_files > 1, "segments are left besides the lock");

    // Another seed: the same one would name the objects of the records delivered again as before.
    let extra = [&extra[..], &["--seed", "2"]].concat();
    let mut restarted = Served::start_in(out.clone(), &normalize_template(), &extra);
    let kept = restarted.wait_for(|e| e["event"] == "state")["kept"]
        .as_u64()
        .unwrap();
    let (status, summary, s3) = restarted.stop();
    assert!(status.success(), "{summary}");
    assert_eq!(summary["from_state"], kept);
    assert!(
        kept < acked.len() as u64,
        "the records that had landed are not kept"
    );
    let mut times: BTreeMap<u64, u64> = BTreeMap::new();
    for line in delivered_lines(&s3, "normalized/") {
        *times.entry(line["n"].as_u64().unwrap()).or_default() += 1;
    }
    let lost: Vec<u64> = acked
        .iter()
        .filter(|n| !times.contains_key(n))
        .copied()
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged records lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
    let twice: u64 = times.values().map(|t| t - 1).sum();
    assert!(
        twice <= kept,
        "{twice} records landed twice, more than the {kept} the restart delivered again"
    );
    let logs: Vec<_> = std::fs::read_dir(state.join("normalized"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name.to_string_lossy().ends_with(".log"))
        .collect();
    assert!(
        logs.is_empty(),
        "every record landed, yet the state keeps {logs:?}"
    );
    eprintln!(
        "{} acknowledged, {kept} kept at the kill and delivered again, {twice} of them twice",
        acked.len()
    );
}
