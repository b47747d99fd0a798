//! `firehose-local run` at Lambda's and Firehose's limits: the 6 MiB event,
//! the 500 active partitions, the memory the S3 buffers hold. Every record is
//! accounted for at each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::run::{fault_args, firehose_local, landed, partitioned_faults};

/// Runs `records` through `template` with the function faulting as `fault` says, and `extra`; the summary.
fn run(template: &std::path::Path, records: &[&[u8]], fault: &str, extra: &[&str]) -> Value {
    let (args, _) = fault_args(template, records, fault);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = firehose_local(&[&args[..], extra].concat());
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stderr));
    });
    assert!(output.status.success(), "{summary}");
    let ended: u64 = ["delivered", "dropped", "failed", "refused"]
        .iter()
        .map(|name| summary[name].as_u64().unwrap())
        .sum();
    assert_eq!(ended, records.len() as u64, "{summary}");
    summary
}

fn faults() -> std::path::PathBuf {
    firehose_e2e::repo().join("tests/fixtures/run/faults.yaml")
}

#[test]
fn many_small_records_are_cut_into_events_under_lambda_s_6_mib() {
    // 200,000 two-byte records: 400 KB, under every buffering hint, but about 27 MB as one event.
    let records = vec![&b"{}"[..]; 200_000];
    let summary = run(&faults(), &records, "ok", &[]);
    assert_eq!(summary["delivered"], 200_000, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    let invocations = summary["invocations"].as_u64().unwrap();
    assert!((5..=6).contains(&invocations), "{summary}");
}

#[test]
fn records_for_a_partition_past_the_active_limit_go_to_active_partition_exceeded() {
    let template =
        partitioned_faults("!{partitionKeyFromLambda:customer}/!{partitionKeyFromQuery:year}/");
    let records: Vec<Vec<u8>> = ["a", "b", "c", "a", "d"]
        .iter()
        .map(|c| format!("{{\"customer\":\"{c}\",\"year\":2026}}").into_bytes())
        .collect();
    let records: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    let summary = run(&template, &records, "keys", &["--active-partitions", "2"]);
    assert_eq!(summary["delivered"], 3, "{summary}");
    assert_eq!(
        summary["errors"]["DynamicPartitioning.ActivePartitionsLimitExceeded"], 2,
        "{summary}"
    );
    let errors: Vec<&str> = summary["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["target"] != "data")
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 1, "{summary}");
    assert!(
        errors[0].starts_with("errors/activePartitionExceeded/"),
        "{errors:?}"
    );
}

#[test]
fn buffers_holding_more_than_the_memory_cap_are_written_early() {
    let record = vec![b'x'; 300_000];
    let records = vec![record.as_slice(); 8];
    let (args, s3) = fault_args(&faults(), &records, "ok");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = firehose_local(&[&args[..], &["--buffer-memory-mib", "1"]].concat());
    assert!(output.status.success());
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["delivered"], 8, "{summary}");
    let objects = landed(&s3);
    assert!(objects.len() >= 2, "{summary}");
    assert!(
        objects.values().all(|o| o.len() <= (1 << 20) + 300_000),
        "{summary}"
    );
}
