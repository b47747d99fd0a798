//! Re-ingestion by `firehose-cloudwatch-logs`, against a real Kinesis and
//! Firehose API on loopback: moto's server, from the project's `.venv`, with a
//! proxy in front of it that fails chosen entries of `PutRecords`, as a
//! throttled shard does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use firehose_e2e::moto_server::Moto;
use firehose_e2e::{answers, binary, gzip, invocation_logs, kinesis_event, respond, start};
use firehose_local::http_server::{self, HttpServer, Incoming, Request, StatusCode, read_body};
use firehose_transform::Outcome;
use flate2::read::GzDecoder;
use serde_json::{Value, json};

/// A proxy before moto (or `serve`) that, for its first `failing_calls`
/// `PutRecords` calls, keeps the first entry from it and answers it as throttled.
pub(crate) struct ThrottlingProxy {
    pub(crate) url: String,
    calls: Arc<AtomicUsize>,
    _server: HttpServer,
}

impl ThrottlingProxy {
    pub(crate) fn start(moto: &str, failing_calls: usize) -> ThrottlingProxy {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let moto = moto.to_owned();
        let agent = firehose_e2e::answering_agent();
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let server = HttpServer::start(loopback, move |request: Request<Incoming>| {
            let (counted, moto, agent) = (Arc::clone(&counted), moto.clone(), agent.clone());
            async move {
                let header = |name: &str| {
                    request
                        .headers()
                        .get(name)
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default()
                };
                let (target, content_type, authorization) = (
                    header("X-Amz-Target"),
                    header("Content-Type"),
                    header("Authorization"),
                );
                let body = read_body(request.into_body(), 16 << 20).await.unwrap();
                let forward = move || {
                    let throttle = target.ends_with(".PutRecords")
                        && counted.fetch_add(1, Ordering::SeqCst) < failing_calls;
                    let mut body = body.to_vec();
                    if throttle {
                        let mut call: Value = serde_json::from_slice(&body).unwrap();
                        call["Records"].as_array_mut().unwrap().remove(0);
                        body = serde_json::to_vec(&call).unwrap();
                    }
                    let mut response = agent
                        .post(&moto)
                        .header("Content-Type", content_type)
                        .header("X-Amz-Target", &target)
                        .header("Authorization", authorization)
                        .send(body.as_slice())
                        .unwrap();
                    let status = response.status().as_u16();
                    let mut answer = response.body_mut().read_to_vec().unwrap();
                    if throttle && status == 200 {
                        let mut result: Value = serde_json::from_slice(&answer).unwrap();
                        result["Records"].as_array_mut().unwrap().insert(
                            0,
                            json!({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard shardId-000000000000"}),
                        );
                        result["FailedRecordCount"] =
                            json!(result["FailedRecordCount"].as_u64().unwrap_or(0) + 1);
                        answer = serde_json::to_vec(&result).unwrap();
                    }
                    (status, answer)
                };
                // ureq blocks: off the server's thread.
                let (status, answer) = tokio::task::spawn_blocking(forward).await.unwrap();
                let mut response = http_server::respond(StatusCode::from_u16(status).unwrap(), answer);
                response.headers_mut().insert(
                    "Content-Type",
                    "application/x-amz-json-1.1".parse().unwrap(),
                );
                response
            }
        })
        .unwrap();
        let url = format!("http://{}", server.addr());
        ThrottlingProxy {
            url,
            calls,
            _server: server,
        }
    }
}

/// A gzip `DATA_MESSAGE` of `count` events of `size` bytes each.
fn payload(count: usize, size: usize) -> (Vec<u8>, Vec<String>) {
    let messages: Vec<String> = (0..count)
        .map(|i| format!("{i:05} {}", "x".repeat(size)))
        .collect();
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"id": i.to_string(), "timestamp": 1_714_566_600_000_i64 + i as i64, "message": m}))
        .collect();
    let body = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/orders",
        "logStream": "s", "subscriptionFilters": ["all"], "logEvents": events});
    (gzip(&serde_json::to_vec(&body).unwrap()), messages)
}

fn messages_in(gzipped: &[u8]) -> Vec<String> {
    let mut text = String::new();
    GzDecoder::new(gzipped).read_to_string(&mut text).unwrap();
    let payload: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        payload["logGroup"], "/aws/lambda/orders",
        "the envelope is kept"
    );
    payload["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

fn function_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CLOUDWATCH_LOGS_REINGEST", "true".to_owned()),
        ("FIREHOSE_RESPONSE_LIMIT_BYTES", "300000".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
    ]
}

#[test]
fn records_too_big_for_the_response_go_back_to_the_stream_in_halves() {
    let moto = Moto::start();
    moto.create_stream("class-stream");
    let (small, _) = payload(2, 10);
    let (big, big_messages) = payload(30, 20_000);
    let (single, _) = payload(1, 400_000);
    let env = function_env(&moto.url);
    let mut function = start(
        &binary("firehose-cloudwatch-logs"),
        &firehose_e2e::borrowed(&env),
    );
    let before = function.logs().len();
    let answers = answers(&respond(
        &mut function,
        &kinesis_event(&[&small, &big, &small, &single]),
    ));
    let results: Vec<Outcome> = answers.iter().map(|a| a.result).collect();
    assert_eq!(
        results,
        [
            Outcome::Ok,
            Outcome::Dropped,
            Outcome::Ok,
            Outcome::ProcessingFailed
        ]
    );
    let logs = invocation_logs(&function, before).join("\n");
    assert!(
        logs.contains("a single log event too big for the response cannot be split"),
        "{logs}"
    );

    // Two records in the stream, each half the events, under the original partition key.
    let put_back = moto.stream_records("class-stream");
    assert_eq!(put_back.len(), 2);
    let mut messages = Vec::new();
    for (key, data) in &put_back {
        assert_eq!(key, "customer-1", "record 1 of kinesis_event");
        let half = messages_in(data);
        assert_eq!(half.len(), 15);
        messages.extend(half);
    }
    assert_eq!(messages, big_messages, "every event back, once, in order");
}

#[test]
fn throttled_entries_are_retried_and_a_record_fails_when_they_never_get_in() {
    let moto = Moto::start();
    moto.create_stream("class-stream");
    let (big, big_messages) = payload(30, 20_000);

    // Throttled twice, then accepted: put back whole, with no duplicates.
    let proxy = ThrottlingProxy::start(&moto.url, 2);
    let env = function_env(&proxy.url);
    let mut function = start(
        &binary("firehose-cloudwatch-logs"),
        &firehose_e2e::borrowed(&env),
    );
    let first = answers(&respond(&mut function, &kinesis_event(&[&big])));
    assert_eq!(first[0].result, Outcome::Dropped);
    assert_eq!(
        proxy.calls.load(Ordering::SeqCst),
        3,
        "one call, then two retries of the failed entry"
    );
    let put_back = moto.stream_records("class-stream");
    let messages: Vec<String> = put_back.iter().flat_map(|(_, d)| messages_in(d)).collect();
    assert_eq!(messages.len(), big_messages.len());

    // Throttled on every attempt: after five, the record is ProcessingFailed, saying why.
    let proxy = ThrottlingProxy::start(&moto.url, usize::MAX);
    let env = function_env(&proxy.url);
    let mut function = start(
        &binary("firehose-cloudwatch-logs"),
        &firehose_e2e::borrowed(&env),
    );
    let before = function.logs().len();
    let second = answers(&respond(&mut function, &kinesis_event(&[&big])));
    assert_eq!(second[0].result, Outcome::ProcessingFailed);
    assert_eq!(proxy.calls.load(Ordering::SeqCst), 5);
    let logs = invocation_logs(&function, before).join("\n");
    assert!(
        logs.contains("ProvisionedThroughputExceededException")
            && logs.contains("after 5 attempts"),
        "{logs}"
    );
}

#[test]
fn without_a_source_stream_records_go_back_to_the_delivery_stream() {
    let moto = Moto::start();
    moto.create_delivery_stream("class-logs");
    let (big, big_messages) = payload(30, 20_000);
    // A Direct PUT event: no source stream, no Kinesis metadata.
    let mut event: Value = serde_json::from_slice(&kinesis_event(&[&big])).unwrap();
    let object = event.as_object_mut().unwrap();
    object.remove("sourceKinesisStreamArn");
    object.insert(
        "deliveryStreamArn".to_owned(),
        json!("arn:aws:firehose:eu-west-1:123456789012:deliverystream/class-logs"),
    );
    object["records"][0]
        .as_object_mut()
        .unwrap()
        .remove("kinesisRecordMetadata");
    let env = function_env(&moto.url);
    let mut function = start(
        &binary("firehose-cloudwatch-logs"),
        &firehose_e2e::borrowed(&env),
    );
    let answers = answers(&respond(
        &mut function,
        &serde_json::to_vec(&event).unwrap(),
    ));
    assert_eq!(answers[0].result, Outcome::Dropped);
    assert_eq!(moto.delivered_messages(), big_messages);
}
