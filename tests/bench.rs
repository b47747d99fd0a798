//! `firehose-bench`, the side-by-side benchmark, in one short round: every
//! process it compares does the same job as the real function on a seeded
//! batch (it refuses to measure otherwise), and its tables come out. Its
//! figures are measurements for `docs/performance.md`, never asserted here.

// Test helpers too may panic: the panic message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

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
        "1MB: firehose-normalize ≥ 10× Python + Powertools",
        "firehose-normalize: start to first poll ≤ 5 ms",
    ] {
        assert!(stdout.contains(row), "no {row:?} in\n{stdout}");
    }
    assert!(
        !stdout.contains("3MB buffer"),
        "--buffers 1MB ran 3MB too:\n{stdout}"
    );
}
