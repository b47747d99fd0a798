//! `firehose-local generate`: Kinesis Data Generator templates made into
//! records, seeded and repeatable, at a rate, and piped straight into `run`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};

use firehose_e2e::{binary, golden, repo};
use serde_json::Value;

use crate::run::firehose_local;

const TICKER: &str = "tests/fixtures/generate/ticker.tmpl";
const AT_RATE: [&str; 9] = [
    "--rate",
    "2",
    "--start-time",
    "2026-12-01T10:00:00Z",
    "--format",
    "json",
    "--seed",
    "1",
    "--count",
];

fn generate(args: &[&str]) -> std::process::Output {
    firehose_local(&[&["generate"], args].concat())
}

#[test]
fn a_seeded_template_makes_the_same_records_at_the_rate_asked() {
    let args = [&[TICKER][..], &AT_RATE[..], &["8"]].concat();
    let first = generate(&args);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8(first.stdout).unwrap();
    golden("tests/golden/generate/ticker.jsonl", &text);
    assert_eq!(
        generate(&args).stdout,
        text.as_bytes(),
        "the same seed, other records"
    );
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    for (i, line) in lines.iter().enumerate() {
        // Half a second apart, from the start time.
        assert_eq!(line["arrival"], 1_796_119_200_000_i64 + 500 * i as i64);
        let record: Value = serde_json::from_str(line["data"].as_str().unwrap()).unwrap();
        assert!(["AMZN", "MSFT", "NVDA"].contains(&record["ticker_symbol"].as_str().unwrap()));
        let price = record["price"].as_f64().unwrap();
        assert!((10.0..=500.0).contains(&price), "{record}");
    }
    let other_seed = generate(&[&[TICKER][..], &AT_RATE[..7], &["2", "--count", "8"]].concat());
    assert_ne!(other_seed.stdout, text.as_bytes());
}

#[test]
fn ten_minutes_of_records_piped_into_run_land_as_parquet_with_nothing_lost() {
    let mut generator = Command::new(binary("firehose-local"))
        .args([&["generate", TICKER], &AT_RATE[..], &["1200"]].concat())
        .current_dir(repo())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = crate::run::out_dir("generated-into-run");
    let run = Command::new(binary("firehose-local"))
        .args([
            "run",
            "--input",
            "-",
            "--input-format",
            "json",
            "--json",
            "--out",
        ])
        .arg(&out)
        .current_dir(repo())
        .stdin(generator.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(generator.wait().unwrap().success());
    let summary: Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&run.stderr)));
    assert_eq!(summary["records_in"], 1200, "{summary}");
    assert_eq!(summary["delivered"], 1200, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    assert!(summary.get("dropped_keys").is_none(), "{summary}");
    // Ten minutes at 2 a second fill no 128 MiB buffer: the 300 s interval cuts them into objects,
    // on the clock the records' own arrivals start.
    let parquet: Vec<&Value> = summary["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["key"].as_str().unwrap().ends_with(".parquet"))
        .collect();
    assert!(parquet.len() >= 2, "{summary}");
    let rows: u64 = parquet.iter().map(|o| o["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, 1200, "{summary}");
}

#[test]
fn what_generate_cannot_make_is_refused_before_the_first_record() {
    let dir = crate::run::out_dir("generate-refusals");
    std::fs::create_dir_all(&dir).unwrap();
    for (template, args, says) in [
        (
            "{\"a\":\n{{name.middleName}}}",
            &["--count", "1"][..],
            "record template line 2: name.middleName is not a helper",
        ),
        ("{{random.number(10)}}", &[][..], "--count"),
        (
            "{{random.uuid}}",
            &["--count", "1", "--rate", "0"][..],
            "--rate 0",
        ),
        (
            "{\n\"a\": 1}",
            &["--count", "1"][..],
            "record 0 holds a newline",
        ),
    ] {
        let file = dir.join("template.tmpl");
        std::fs::write(&file, template).unwrap();
        let output = generate(&[&[file.to_str().unwrap()][..], args].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(says),
            "{template}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{template}");
    }
}
