//! The pipeline on a seeded, generated batch of access-log records, with a
//! plain serde_json parse-and-serialise of the same payloads as the yardstick:
//! each built-in step alone, partition keys, and the chain of four steps; and
//! CloudWatch Logs payloads unpacked, in each output format; and
//! firehose-local's record format conversion of what normalize returns.
//!
//! `cargo bench -p firehose-transform`; numbers go in `docs/performance.md`.

use std::hint::black_box;

use std::io::Write;

use base64_simd::STANDARD;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use firehose_local::answer::Answer;
use firehose_local::convert::table::{Table, column};
use firehose_local::convert::{Conversion, Deserializer, OrcSettings, ParquetSettings, Serializer};
use firehose_transform::Pipeline;
use firehose_transform::jq::Jq;
use firehose_transform::settings::Parse;
use firehose_transform::settings::{Env, Settings};
use firehose_transform::transforms::access_log::{AccessLog, FormatSetting};
use firehose_transform::transforms::cloudwatch_logs::{CloudWatchLogs, EventFormat};
use firehose_transform::transforms::enrich::{self, Enrich};
use firehose_transform::transforms::filter::Filter;
use firehose_transform::transforms::line_output::LineOutput;
use firehose_transform::transforms::normalize::Normalize;
use firehose_transform::transforms::partition_keys::PartitionKeys;
use firehose_transform::transforms::syslog::{Syslog, Year};
use firehose_validate::Validate;
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

/// The access-log schema, for records as generated (`raw`) or after normalize.
fn schema(normalized: bool) -> Value {
    let key = |raw: &'static str, normal: &'static str| if normalized { normal } else { raw };
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": [key("RequestId", "requestid"), key("Timestamp", "timestamp"), key("Level", "level")],
        "properties": {
            key("RequestId", "requestid"): {"type": "string", "pattern": "^req-[0-9]{8}-"},
            key("Timestamp", "timestamp"): {"type": "integer", "minimum": 0},
            key("Level", "level"): {"enum": ["INFO", "WARN", "DEBUG", "ERROR"]},
            key("Tags", "tags"): {"type": "array", "items": {"type": "string"}, "maxItems": 10}
        }
    })
}

fn enrich() -> Enrich {
    let env = Env::from_pairs([
        ("ENRICH_FIELDS", r#"{"env":"prod","team":"web"}"#),
        ("ENRICH_ARRIVAL_TIME_FIELD", "arrived_at"),
        ("ENRICH_DELIVERY_STREAM_FIELD", "stream"),
    ]);
    Settings::load(env, &[&enrich::SETTINGS])
        .and_then(|s| Enrich::from_settings(&s))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn jq(code: &str) -> Jq {
    Jq::compile(code).unwrap_or_else(|e| panic!("{e}"))
}

fn validate(normalized: bool) -> Validate {
    Validate::new(&schema(normalized), None, true).unwrap_or_else(|e| panic!("{e}"))
}

/// One access-log record: nested sections, mixed-case and dotted keys, some non-ASCII.
fn record(rng: &mut fastrand::Rng, i: usize) -> Value {
    let cities = ["München", "東京", "Lisboa", "São Paulo", "Kyiv", "Austin"];
    let paths = [
        "/api/v1/orders",
        "/healthz",
        "/static/app.js",
        "/api/v1/users/42",
        "/login",
    ];
    let level = ["INFO", "WARN", "DEBUG", "ERROR"][rng.usize(..4)];
    let method = ["GET", "POST", "PUT"][rng.usize(..3)];
    let status = [200, 201, 304, 404, 500][rng.usize(..5)];
    json!({
        "RequestId": format!("req-{i:08}-{:016x}", rng.u64(..)),
        "Timestamp": 1_714_566_600_000_u64 + rng.u64(..86_400_000),
        "Level": level,
        "HTTP": {
            "Method": method,
            "Path": paths[rng.usize(..paths.len())],
            "Status.Code": status,
            "Headers": {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/132.0", "X.Forwarded.For": format!("10.{}.{}.{}", rng.u8(..), rng.u8(..), rng.u8(..))},
        },
        "Client": {"Geo": {"City": cities[rng.usize(..cities.len())], "Lat": rng.f64() * 180.0 - 90.0, "Lon": rng.f64() * 360.0 - 180.0}},
        "Response": {"Bytes": rng.u64(..5_000_000), "Duration.Ms": rng.f64() * 900.0},
        "User": {"Id": rng.u64(..1_000_000), "Session": {"Id": format!("{:032x}", rng.u128(..)), "New": rng.bool()}},
        "Tags": (0..rng.usize(0..5)).map(|t| format!("tag-{t}")).collect::<Vec<_>>(),
        "Attributes": {"Feature.Flags": {"Dark.Mode": rng.bool(), "Beta": rng.bool()}, "Notes": "x".repeat(rng.usize(0..600))},
    })
}

/// One combined-format access-log line.
fn log_line(rng: &mut fastrand::Rng, _: usize) -> Vec<u8> {
    let hosts = [
        "203.0.113.7",
        "2001:db8::1",
        "10.0.0.5",
        "client.example.org",
    ];
    let paths = [
        "/api/v1/orders?page=2",
        "/healthz",
        "/static/app.js",
        "/login",
    ];
    format!(
        r#"{} - - [01/May/2024:12:{:02}:{:02} +0200] "GET {} HTTP/1.1" {} {} "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/132.0""#,
        hosts[rng.usize(..hosts.len())],
        rng.u8(..60),
        rng.u8(..60),
        paths[rng.usize(..paths.len())],
        [200, 304, 404][rng.usize(..3)],
        rng.u32(..100_000)
    )
    .into_bytes()
}

/// One gzip CloudWatch Logs payload of 40 Lambda log events, half of them JSON.
fn cloudwatch_payload(rng: &mut fastrand::Rng, i: usize) -> Vec<u8> {
    let events: Vec<Value> = (0..40)
        .map(|n| {
            let message = match n % 2 {
                0 => format!(
                    r#"{{"level":"INFO","request_id":"{:016x}","path":"/api/v1/orders","duration_ms":{}}}"#,
                    rng.u64(..),
                    rng.u32(..2000)
                ),
                _ => format!(
                    "REPORT RequestId: {:016x} Duration: {}.{:02} ms Billed Duration: 3 ms Memory Size: 128 MB",
                    rng.u64(..),
                    rng.u8(..100),
                    rng.u8(..100)
                ),
            };
            json!({"id": format!("{:056}", i * 40 + n), "timestamp": 1_714_566_600_000_u64 + rng.u64(..60_000), "message": message})
        })
        .collect();
    let payload = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/orders",
        "logStream": "2024/05/01/[$LATEST]0f1e2d3c", "subscriptionFilters": ["to-firehose"], "logEvents": events});
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    let written = encoder.write_all(&serde_json::to_vec(&payload).unwrap_or_default());
    written.and_then(|()| encoder.finish()).unwrap_or_default()
}

/// One syslog line: RFC 3164 and RFC 5424 with structured data, alternately.
fn syslog_line(rng: &mut fastrand::Rng, i: usize) -> Vec<u8> {
    let line = if i.is_multiple_of(2) {
        format!(
            "<{}>May  1 12:{:02}:{:02} web-{} sshd[{}]: Accepted publickey for deploy from 2001:db8::{:x} port {} ssh2",
            rng.u8(..192),
            rng.u8(..60),
            rng.u8(..60),
            rng.u8(..10),
            rng.u16(..),
            rng.u16(..),
            rng.u16(1024..)
        )
    } else {
        format!(
            r#"<{}>1 2024-05-01T12:{:02}:{:02}.{:03}+02:00 fw-{} filterlog {} - [meta sequenceId="{}" src="203.0.113.{}"] block,in,tcp,443,"ünïcode""#,
            rng.u8(..192),
            rng.u8(..60),
            rng.u8(..60),
            rng.u16(..1000),
            rng.u8(..10),
            rng.u16(..),
            rng.u32(..),
            rng.u8(..)
        )
    };
    line.into_bytes()
}

fn json_record(rng: &mut fastrand::Rng, i: usize) -> Vec<u8> {
    serde_json::to_vec(&record(rng, i)).unwrap_or_default()
}

/// An event of about `target` bytes, and the decoded payloads of its records.
fn batch(
    target: usize,
    payload_of: fn(&mut fastrand::Rng, usize) -> Vec<u8>,
) -> (Vec<u8>, Vec<Vec<u8>>) {
    seeded_batch(20_261_124, target, payload_of)
}

/// `batch` with records drawn from `seed`.
fn seeded_batch(
    seed: u64,
    target: usize,
    payload_of: fn(&mut fastrand::Rng, usize) -> Vec<u8>,
) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut records, mut payloads, mut size) = (Vec::new(), Vec::new(), 200);
    while size < target {
        let payload = payload_of(&mut rng, records.len());
        let data = STANDARD.encode_to_string(&payload);
        size += data.len() + 110;
        records.push(json!({"recordId": format!("{:056}", records.len()), "approximateArrivalTimestamp": 1_714_566_600_000_u64, "data": data}));
        payloads.push(payload);
    }
    let event = json!({"invocationId": "bench", "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/class-stream", "region": "us-east-1", "records": records});
    (serde_json::to_vec(&event).unwrap_or_default(), payloads)
}

fn benches(c: &mut Criterion) {
    for (name, target) in [("1MB", 1_400_000), ("6MB", 5_990_000)] {
        let (event, payloads) = batch(target, json_record);
        let mut group = c.benchmark_group(format!("batch-{name}"));
        group.throughput(Throughput::Bytes(event.len() as u64));
        group.sample_size(30);
        let echo = Pipeline::new();
        group.bench_function("echo", |b| b.iter(|| echo.process(black_box(&event))));
        let normalize = Pipeline::new().then(Normalize::default());
        group.bench_function("normalize", |b| {
            b.iter(|| normalize.process(black_box(&event)))
        });
        let steps = [
            (
                "filter",
                Pipeline::new().then(Filter::drop(jq(r#".Level == "DEBUG""#))),
            ),
            ("validate", Pipeline::new().then(validate(false))),
            ("enrich", Pipeline::new().then(enrich())),
            (
                "partition-keys",
                Pipeline::new().then(PartitionKeys::new(jq(
                    r#"{level: .Level, hour: (.Timestamp / 1000 | strftime("%H"))}"#,
                ))),
            ),
            (
                "chain-of-4",
                Pipeline::new()
                    .then(Normalize::default())
                    .then(Filter::drop(jq(r#".level == "DEBUG""#)))
                    .then(validate(true))
                    .then(enrich()),
            ),
        ];
        for (name, pipeline) in &steps {
            group.bench_function(*name, |b| b.iter(|| pipeline.process(black_box(&event))));
        }
        group.bench_function("serde_json-roundtrip", |b| {
            b.iter(|| {
                for payload in &payloads {
                    let value: Value =
                        serde_json::from_slice(black_box(payload)).unwrap_or_default();
                    black_box(serde_json::to_vec(&value).unwrap_or_default());
                }
            })
        });
        let (log_event, _) = batch(target, log_line);
        let (syslog_event, _) = batch(target, syslog_line);
        let combined = || {
            FormatSetting
                .parse("combined")
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let csv =
            |columns: &[&str]| LineOutput::Csv(columns.iter().map(|c| c.to_string()).collect());
        let line_parsers = [
            (
                "access-log",
                &log_event,
                Pipeline::new().then(AccessLog::new(combined(), LineOutput::Json)),
            ),
            (
                "access-log-csv",
                &log_event,
                Pipeline::new().then(AccessLog::new(
                    combined(),
                    csv(&[
                        "time",
                        "host",
                        "method",
                        "path",
                        "status",
                        "bytes",
                        "user_agent",
                    ]),
                )),
            ),
            (
                "syslog",
                &syslog_event,
                Pipeline::new().then(Syslog::new(
                    Year::Arrival,
                    TimeZone::UTC,
                    false,
                    LineOutput::Json,
                )),
            ),
            (
                "syslog-csv",
                &syslog_event,
                Pipeline::new().then(Syslog::new(
                    Year::Arrival,
                    TimeZone::UTC,
                    true,
                    csv(&[
                        "timestamp",
                        "hostname",
                        "appname",
                        "severity",
                        "sd_meta_src",
                        "message",
                    ]),
                )),
            ),
        ];
        for (name, event, pipeline) in &line_parsers {
            group.bench_function(*name, |b| b.iter(|| pipeline.process(black_box(event))));
        }
        group.finish();
    }
    // Logs grow about tenfold when unpacked, so CloudWatch Logs requests are
    // small: AWS's blueprint recommends a 256 KB buffer.
    for (name, target) in [("256KB", 256_000), ("1MB", 1_000_000)] {
        let (event, _) = batch(target, cloudwatch_payload);
        let mut group = c.benchmark_group(format!("cloudwatch-logs-{name}"));
        group.throughput(Throughput::Bytes(event.len() as u64));
        group.sample_size(30);
        for (output, format) in [
            ("json", EventFormat::Json { embed_json: false }),
            ("json-embedded", EventFormat::Json { embed_json: true }),
            ("message", EventFormat::Message),
        ] {
            let pipeline = Pipeline::new()
                .then(CloudWatchLogs::new(format, 16 << 20))
                .with_response_limit(usize::MAX);
            group.bench_function(output, |b| b.iter(|| pipeline.process(black_box(&event))));
        }
        group.finish();
    }
}

/// The Glue table of the access-log records as `normalize` writes them.
const NORMALIZED_COLUMNS: [(&str, &str); 20] = [
    ("requestid", "string"),
    ("timestamp", "bigint"),
    ("level", "string"),
    ("http_method", "string"),
    ("http_path", "string"),
    ("http_status_code", "int"),
    ("http_headers_user_agent", "string"),
    ("http_headers_x_forwarded_for", "string"),
    ("client_geo_city", "string"),
    ("client_geo_lat", "double"),
    ("client_geo_lon", "double"),
    ("response_bytes", "bigint"),
    ("response_duration_ms", "double"),
    ("user_id", "bigint"),
    ("user_session_id", "string"),
    ("user_session_new", "boolean"),
    ("tags", "array<string>"),
    ("attributes_feature_flags_dark_mode", "boolean"),
    ("attributes_feature_flags_beta", "boolean"),
    ("attributes_notes", "string"),
];

/// Record format conversion in `firehose-local` on what `normalize` returns
/// for the 6 MB batch: the OpenX rows of every record, then one Parquet
/// object of them (Snappy), as a 128 MiB buffer would hold them; and the
/// whole way from the event: normalize, its response read back, rows, Parquet.
fn conversion(c: &mut Criterion) {
    let (event, payloads) = batch(5_990_000, json_record);
    let normalize = Pipeline::new()
        .then(Normalize::default())
        .with_response_limit(usize::MAX);
    let normalized = |event: &[u8]| -> Vec<Vec<u8>> {
        let response = normalize.process(event).unwrap_or_else(|e| panic!("{e}"));
        let response: Value = serde_json::from_slice(&response.response).unwrap_or_default();
        response["records"]
            .as_array()
            .map(|records| {
                records
                    .iter()
                    .filter(|r| r["result"] == "Ok")
                    .map(|r| STANDARD.decode_to_vec(r["data"].as_str().unwrap_or_default()))
                    .collect::<Result<_, _>>()
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    let records = normalized(&event);
    // What firehose-local's judge reads of every invocation: the function's answer.
    let answer = normalize
        .process(&event)
        .unwrap_or_else(|e| panic!("{e}"))
        .response;
    let mut group = c.benchmark_group("answer-6MB");
    group.throughput(Throughput::Bytes(answer.len() as u64));
    group.sample_size(20);
    group.bench_function("parse", |b| b.iter(|| Answer::parse(black_box(&answer))));
    group.finish();
    let columns = NORMALIZED_COLUMNS
        .iter()
        .map(|(name, ty)| column(name, ty))
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = |s: &str| s.to_owned();
    let table = Table::new(
        text("123456789012"),
        text("bench"),
        text("access"),
        text("us-east-1"),
        text("LATEST"),
        columns,
        Vec::new(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let orc = Conversion::new(
        table.clone(),
        Deserializer::default(),
        Serializer::Orc(OrcSettings::default()),
    );
    let conversion = Conversion::new(
        table,
        Deserializer::default(),
        Serializer::Parquet(ParquetSettings::default()),
    );
    let rows = |records: &[Vec<u8>]| {
        let mut lines = Vec::new();
        for record in records {
            let rows = conversion.rows(record).unwrap_or_else(|e| panic!("{e:?}"));
            assert!(rows.dropped.is_empty(), "{:?}", rows.dropped);
            lines.extend_from_slice(&rows.lines);
        }
        lines
    };
    let lines = rows(&records);
    let mut group = c.benchmark_group("conversion-6MB");
    group.throughput(Throughput::Bytes(
        records.iter().map(Vec::len).sum::<usize>() as u64,
    ));
    group.sample_size(20);
    group.bench_function("openx-rows", |b| b.iter(|| rows(black_box(&records))));
    group.bench_function("parquet-write", |b| {
        b.iter(|| conversion.object(black_box(&lines)))
    });
    group.bench_function("orc-write", |b| b.iter(|| orc.object(black_box(&lines))));
    group.bench_function("rows-and-parquet", |b| {
        b.iter(|| conversion.object(&rows(black_box(&records))))
    });
    group.finish();
    // What Firehose writes: with format conversion its buffer is at least
    // 64 MiB, so an object has several row groups (10,000 rows each) and the
    // first decides whether a string column's dictionary pays.
    let records = (1..=11)
        .flat_map(|seed| normalized(&seeded_batch(seed, 5_990_000, json_record).0))
        .collect::<Vec<Vec<u8>>>();
    let lines = rows(&records);
    let mut group = c.benchmark_group("conversion-64MB");
    group.throughput(Throughput::Bytes(
        records.iter().map(Vec::len).sum::<usize>() as u64,
    ));
    group.sample_size(10);
    group.bench_function("parquet-write", |b| {
        b.iter(|| conversion.object(black_box(&lines)))
    });
    group.bench_function("orc-write", |b| b.iter(|| orc.object(black_box(&lines))));
    group.finish();
    // The records as they came in, before normalize.
    let mut group = c.benchmark_group("normalize-to-parquet-6MB");
    group.throughput(Throughput::Bytes(
        payloads.iter().map(Vec::len).sum::<usize>() as u64,
    ));
    group.sample_size(20);
    group.bench_function("normalize-rows-and-parquet", |b| {
        b.iter(|| conversion.object(&rows(&normalized(black_box(&event)))))
    });
    group.finish();
}

criterion_group!(pipeline, benches, conversion);
criterion_main!(pipeline);
