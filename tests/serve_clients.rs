//! `firehose-local serve` with more clients no one here wrote: the AWS CLI
//! (from `.venv`), the AWS SDK for JavaScript v3 (`tests/node`, on the
//! machine's Node.js; its Kinesis client speaks HTTP/2 without TLS) and the
//! AWS SDK for Rust. Each puts records to the Firehose API and to the Kinesis
//! API, and after SIGTERM every record it was told was taken has landed once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use aws_sdk_firehose::primitives::Blob as FirehoseBlob;
use aws_sdk_kinesis::primitives::Blob as KinesisBlob;
use firehose_e2e::{binary, repo};
use serde_json::{Value, json};

use crate::reingest::ThrottlingProxy;
use crate::run::out_dir;
use crate::serve::{
    Served, delivered_lines, json_output, kinesis_template, landed_by_number, normalize_template,
};

/// Runs the JavaScript producer against `served` (trusting its certificate, over HTTPS): its JSON report.
fn node_producer(served: &Served, service: &str, stream: &str) -> Value {
    let mut node = Command::new("node");
    node.arg(repo().join("tests/node/producer.mjs"))
        .args([&served.endpoint, service, stream]);
    if let Some(certificate) = &served.certificate {
        node.env("NODE_EXTRA_CA_CERTS", certificate);
    }
    json_output(&mut node)
}

/// Stops `served` and checks that the records of `sent` (each with its `n`,
/// and for Kinesis its `key`, `shard` and `sequence`) landed under `prefix`, each once, and nothing else.
fn landed_as_sent(mut served: Served, prefix: &str, sent: &[Value]) {
    let (status, summary, s3) = served.stop();
    assert!(status.success(), "{status}: {summary}");
    let landed = landed_by_number(&s3, prefix);
    assert_eq!(landed.len(), sent.len(), "{summary}");
    for put in sent {
        let record = &landed[&put["n"].as_u64().unwrap()];
        for (field, value) in put.as_object().unwrap() {
            assert_eq!(&record[field], value, "{field} of {record}");
        }
    }
}

#[test]
fn the_javascript_sdk_puts_to_firehose() {
    let served = Served::start("js-firehose", &normalize_template(), &[]);
    let report = node_producer(&served, "firehose", "normalized");
    assert_eq!(
        report["arn"],
        "arn:aws:firehose:eu-west-2:123456789012:deliverystream/normalized"
    );
    assert_eq!(
        report["refused"],
        json!({"name": "ResourceNotFoundException", "status": 400,
               "message": "Firehose nope not found under account 123456789012."})
    );
    landed_as_sent(
        served,
        "normalized/normalized/",
        report["sent"].as_array().unwrap(),
    );
}

#[test]
fn the_javascript_sdk_puts_to_kinesis_over_http2() {
    let served = Served::start("js-kinesis", &kinesis_template(), &[]);
    let report = node_producer(&served, "kinesis", "source");
    assert_eq!(
        report["shards"],
        json!(["shardId-000000000000", "shardId-000000000001"])
    );
    // A Date the SDK made of the answer's epoch seconds: this year, not 1970 or 50,000 years on.
    assert!(
        report["created"].as_str().unwrap().starts_with("20"),
        "{report}"
    );
    assert_eq!(report["refused"]["name"], "ResourceNotFoundException");
    assert_eq!(report["refused"]["status"], 400);
    landed_as_sent(
        served,
        "from-kinesis/records/",
        report["sent"].as_array().unwrap(),
    );
}

/// The AWS CLI from `.venv`, pointed at `served` only by `AWS_ENDPOINT_URL`
/// (and over HTTPS, told to trust its certificate by `AWS_CA_BUNDLE`): its output as JSON.
fn aws(served: &Served, args: &[&str]) -> Value {
    let mut cli = Command::new(repo().join(".venv/bin/aws"));
    cli.args(args)
        .args(["--output", "json"])
        .env("AWS_ENDPOINT_URL", &served.endpoint)
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_DEFAULT_REGION", "ap-southeast-2")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    if let Some(certificate) = &served.certificate {
        cli.env("AWS_CA_BUNDLE", certificate);
    }
    json_output(&mut cli)
}

#[test]
fn the_aws_cli_puts_to_firehose_and_to_kinesis() {
    let served = Served::start("cli-firehose", &normalize_template(), &[]);
    let batch = json!([{"Data": "{\"n\":1}"}, {"Data": "{\"n\":2}"}]).to_string();
    let answer = aws(
        &served,
        &[
            "firehose",
            "put-record-batch",
            "--delivery-stream-name",
            "normalized",
            "--records",
            &batch,
        ],
    );
    assert_eq!(answer["FailedPutCount"], 0, "{answer}");
    let listed = aws(&served, &["firehose", "list-delivery-streams"]);
    assert_eq!(listed["DeliveryStreamNames"], json!(["normalized"]));
    landed_as_sent(
        served,
        "normalized/normalized/",
        &[json!({"n": 1}), json!({"n": 2})],
    );

    let served = Served::start("cli-kinesis", &kinesis_template(), &[]);
    let summary = aws(
        &served,
        &[
            "kinesis",
            "describe-stream-summary",
            "--stream-name",
            "source",
        ],
    );
    assert_eq!(
        summary["StreamDescriptionSummary"]["StreamARN"],
        "arn:aws:kinesis:ap-southeast-2:123456789012:stream/source"
    );
    let put = aws(
        &served,
        &[
            "kinesis",
            "put-record",
            "--stream-name",
            "source",
            "--partition-key",
            "cli",
            "--data",
            "{\"n\":3}",
        ],
    );
    let sent =
        json!({"n": 3, "key": "cli", "shard": put["ShardId"], "sequence": put["SequenceNumber"]});
    landed_as_sent(served, "from-kinesis/records/", &[sent]);
}

#[test]
fn the_rust_sdk_puts_to_firehose_and_to_kinesis() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let served = Served::start("rust-firehose", &normalize_template(), &[]);
    let config = aws_sdk_firehose::Config::builder()
        .behavior_version(aws_sdk_firehose::config::BehaviorVersion::latest())
        .endpoint_url(&served.endpoint)
        .region(aws_sdk_firehose::config::Region::new("eu-west-2"))
        .credentials_provider(aws_sdk_firehose::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .build();
    let firehose = aws_sdk_firehose::Client::from_conf(config);
    let records: Vec<_> = (0..50)
        .map(|n| {
            aws_sdk_firehose::types::Record::builder()
                .data(FirehoseBlob::new(format!("{{\"n\":{n}}}")))
                .build()
                .unwrap()
        })
        .collect();
    let answer = runtime
        .block_on(
            firehose
                .put_record_batch()
                .delivery_stream_name("normalized")
                .set_records(Some(records))
                .send(),
        )
        .unwrap();
    assert_eq!(answer.failed_put_count(), 0);
    let refused = runtime
        .block_on(
            firehose
                .put_record()
                .delivery_stream_name("nope")
                .record(
                    aws_sdk_firehose::types::Record::builder()
                        .data(FirehoseBlob::new("{}"))
                        .build()
                        .unwrap(),
                )
                .send(),
        )
        .unwrap_err();
    assert!(
        refused
            .as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{refused:?}"
    );
    let sent: Vec<Value> = (0..50).map(|n| json!({"n": n})).collect();
    landed_as_sent(served, "normalized/normalized/", &sent);

    let served = Served::start("rust-kinesis", &kinesis_template(), &[]);
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .endpoint_url(&served.endpoint)
        .region(aws_sdk_kinesis::config::Region::new("eu-west-2"))
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .build();
    let kinesis = aws_sdk_kinesis::Client::from_conf(config);
    // Vector's health check: DescribeStream with Limit=1, and the name compared.
    let described = runtime
        .block_on(
            kinesis
                .describe_stream()
                .stream_name("source")
                .limit(1)
                .send(),
        )
        .unwrap();
    assert_eq!(
        described.stream_description().map(|d| d.stream_name()),
        Some("source")
    );
    let entries: Vec<_> = (0..50)
        .map(|n| {
            aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                .data(KinesisBlob::new(format!("{{\"n\":{n}}}")))
                .partition_key(format!("rust-{n}"))
                .build()
                .unwrap()
        })
        .collect();
    let answer = runtime
        .block_on(
            kinesis
                .put_records()
                .stream_name("source")
                .set_records(Some(entries))
                .send(),
        )
        .unwrap();
    assert_eq!(answer.failed_record_count(), Some(0));
    let sent: Vec<Value> = (0..50)
        .zip(answer.records())
        .map(|(n, put)| {
            json!({"n": n, "key": format!("rust-{n}"), "shard": put.shard_id(), "sequence": put.sequence_number()})
        })
        .collect();
    landed_as_sent(served, "from-kinesis/records/", &sent);
}

#[test]
fn over_https_the_aws_cli_and_the_javascript_sdk_trust_the_certificate_serve_made() {
    let tls_dir = out_dir("serve-tls-certificate");
    let tls = ["--tls", "--tls-dir", tls_dir.to_str().unwrap()];
    let served = Served::start("tls-firehose", &normalize_template(), &tls);
    assert!(
        served.endpoint.starts_with("https://127.0.0.1:"),
        "{}",
        served.endpoint
    );
    let certificate = served.certificate.clone().unwrap();
    let answer = aws(
        &served,
        &[
            "firehose",
            "put-record",
            "--delivery-stream-name",
            "normalized",
            "--record",
            r#"{"Data": "{\"n\":1000}"}"#,
        ],
    );
    assert!(answer["RecordId"].is_string(), "{answer}");
    let report = node_producer(&served, "firehose", "normalized");
    let mut sent = report["sent"].as_array().unwrap().clone();
    sent.push(json!({"n": 1000}));
    landed_as_sent(served, "normalized/normalized/", &sent);

    // The next start keeps the certificate a client was told to trust; Kinesis speaks HTTP/2 over it (ALPN).
    let served = Served::start("tls-kinesis", &kinesis_template(), &tls);
    assert_eq!(served.certificate.as_deref(), Some(certificate.as_str()));
    let report = node_producer(&served, "kinesis", "source");
    landed_as_sent(
        served,
        "from-kinesis/records/",
        report["sent"].as_array().unwrap(),
    );
}

/// The ticker fields of a record, as one text to compare by.
fn ticker(record: &Value) -> String {
    let fields = ["ticker_symbol", "sector", "change", "price"];
    fields.map(|f| record[f].to_string()).join(" ")
}

/// `firehose-local generate` of 1,500 ticker records, with `more` arguments: what it printed.
fn generate(more: &[&str]) -> std::process::Output {
    let args = [
        "generate",
        "tests/fixtures/generate/ticker.tmpl",
        "--count",
        "1500",
        "--seed",
        "3",
    ];
    let args = [&args[..], &["--start-time", "2026-12-01T10:00:00Z"], more].concat();
    Command::new(binary("firehose-local"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

#[test]
fn generate_sends_to_firehose_and_to_kinesis_what_it_would_write_out() {
    let written = String::from_utf8(generate(&["--format", "json"]).stdout).unwrap();
    let mut expected: Vec<String> = written
        .lines()
        .map(|line| {
            let line: Value = serde_json::from_str(line).unwrap();
            ticker(&serde_json::from_str(line["data"].as_str().unwrap()).unwrap())
        })
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 1500);
    for (template, flag, stream, prefix) in [
        (
            normalize_template(),
            "--to-firehose",
            "normalized",
            "normalized/normalized/",
        ),
        (
            kinesis_template(),
            "--to-kinesis",
            "source",
            "from-kinesis/records/",
        ),
    ] {
        let mut served = Served::start(&format!("generate{flag}"), &template, &[]);
        // Kinesis through a proxy that answers the first call's first entry as throttled:
        // only that one is put again, so nothing lands twice.
        let proxy = ThrottlingProxy::start(&served.endpoint, 1);
        let endpoint = if flag == "--to-kinesis" {
            &proxy.url
        } else {
            &served.endpoint
        };
        let sent = generate(&[flag, stream, "--endpoint-url", endpoint, "--json"]);
        assert!(
            sent.status.success(),
            "{}",
            String::from_utf8_lossy(&sent.stderr)
        );
        let report: Value = serde_json::from_slice(&sent.stdout).unwrap();
        assert_eq!(report["records"], 1500, "{report}");
        assert_eq!(report["accepted"], 1500, "{report}");
        assert_eq!(report["refused"], 0, "{report}");
        let put_again = if flag == "--to-kinesis" { 1 } else { 0 };
        assert_eq!(report["put_again"], put_again, "{report}");
        let unknown = generate(&[flag, "nope", "--endpoint-url", &served.endpoint]);
        assert_eq!(unknown.status.code(), Some(2));
        let said = String::from_utf8_lossy(&unknown.stderr);
        assert!(said.contains("ResourceNotFoundException"), "{said}");
        let (status, summary, s3) = served.stop();
        assert!(status.success(), "{summary}");
        let mut landed: Vec<String> = delivered_lines(&s3, prefix).iter().map(ticker).collect();
        landed.sort();
        assert_eq!(landed, expected, "{flag}");
    }
}
