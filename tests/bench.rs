//! `firehose-bench`, the side-by-side benchmark, in one short round: every
//! process it compares for normalize and for the chain
//! `normalize,filter,validate,enrich` does the same job as the real function
//! on a seeded batch (it refuses to measure otherwise), AWS's log blueprints
//! read no line ours cannot, and its tables come out. Its figures are
//! measurements for `docs/performance.md`, never asserted here.

// Test helpers too may panic: the panic message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use firehose_bench::soak;
use firehose_e2e::{binary, repo};

#[test]
fn every_process_compared_does_the_same_job_and_the_tables_come_out() {
    let output = Command::new(binary("firehose-bench"))
        .args([
            "--rounds",
            "2",
            "--starts",
            "2",
            "--buffers",
            "1MB",
            "--python",
        ])
        .arg(repo().join(".venv/bin/python"))
        .arg("--plain")
        .arg(binary("firehose-bench-plain"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stderr}");
    for row in [
        "| echo (the harness) |",
        "| firehose-normalize |",
        "| straightforward Rust |",
        "| Python + Powertools |",
        "| firehose-pipeline |",
        "| Python chain (Powertools, fastjsonschema) |",
        "1MB: firehose-normalize ≥ 10× Python + Powertools",
        "1MB: firehose-pipeline ≥ 8× Python chain (Powertools, fastjsonschema) by CPU time",
        "firehose-normalize: start to first poll ≤ 5 ms",
        "firehose-pipeline: start to first poll ≤ 5 ms",
        "| firehose-access-log |",
        "| apachelog-to-json blueprint (Node.js) |",
        "| firehose-syslog |",
        "| syslog-to-json blueprint (Node.js) |",
        "1MB: firehose-syslog ≥ 5× syslog-to-json blueprint (Node.js) by wall time",
    ] {
        assert!(stdout.contains(row), "no {row:?} in\n{stdout}");
    }
    // The blueprints read the lines of their own format, and only ours read the others.
    for blueprint in ["apachelog-to-json", "syslog-to-json"] {
        let note = stdout
            .lines()
            .find(|l| l.starts_with(blueprint) && l.contains("both read"))
            .unwrap_or_else(|| panic!("no note of what {blueprint} reads in\n{stdout}"));
        assert!(note.ends_with(", 0 only it reads"), "{note}");
        assert!(!note.contains("; 0 only ours reads"), "{note}");
    }
    assert!(
        !stdout.contains("3MB buffer"),
        "--buffers 1MB ran 3MB too:\n{stdout}"
    );
}

/// The soak, short: after a warm-up, every function ends with exactly the file
/// descriptors it had and with its memory grown by no more than a generous
/// bound (allocators keep some; a leak of a record an invocation would not
/// stay under it). `firehose-bench --soak 100000` is the long one (docs/testing.md).
#[test]
fn every_function_serves_thousands_of_invocations_without_leaking() {
    let release = binary("firehose-normalize").parent().unwrap().to_owned();
    for function in &soak::FUNCTIONS {
        let soaked = soak::soak(&release, function, 3000, 500, 20_261_206).unwrap();
        assert_eq!(
            soaked.warm.fds, soaked.end.fds,
            "{}: open file descriptors after the warm-up and at the end",
            function.binary
        );
        assert!(
            soaked.end.rss_bytes <= soaked.warm.rss_bytes + (8 << 20),
            "{}: resident memory grew from {} to {} bytes",
            function.binary,
            soaked.warm.rss_bytes,
            soaked.end.rss_bytes
        );
    }
}
