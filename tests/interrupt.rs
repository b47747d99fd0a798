//! Ctrl-C during `firehose-local run`: the first stops the reading of input
//! and lets the stream finish, every record read landing; a second aborts.
//! The signal goes to firehose-local's whole process group, as a terminal
//! sends it: the function, in a group of its own, must not die of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use firehose_e2e::{binary, repo};
use serde_json::Value;

use crate::run::{fault_args, landed};

/// 40 records of 100 KB through faults.yaml with 0.2 MB batches and a function that takes half a
/// second a batch: 20 invocations, ten seconds, unless interrupted.
fn start_slow_run() -> (Child, std::path::PathBuf) {
    let faults = std::fs::read_to_string(repo().join("tests/fixtures/run/faults.yaml")).unwrap();
    let small_batches = faults.replacen(
        "- { ParameterName: BufferIntervalInSeconds, ParameterValue: \"10\" }",
        "- { ParameterName: BufferIntervalInSeconds, ParameterValue: \"10\" }\n                \
         - { ParameterName: BufferSizeInMBs, ParameterValue: \"0.2\" }",
        1,
    );
    let template = crate::run::out_dir("interrupt-template").join("faults.yaml");
    std::fs::create_dir_all(template.parent().unwrap()).unwrap();
    std::fs::write(&template, small_batches).unwrap();
    let record = vec![b'x'; 100_000];
    let (args, s3) = fault_args(&template, &vec![record.as_slice(); 40], "slow");
    let child = Command::new(binary("firehose-local"))
        .args(&args)
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, as a terminal's foreground job has: the signal goes to the group.
        .process_group(0)
        .spawn()
        .unwrap();
    (child, s3)
}

fn interrupt_group(child: &Child) {
    let group = format!("-{}", child.id());
    let sent = Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .unwrap();
    assert!(sent.success());
}

fn summary(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stderr));
    })
}

#[test]
fn the_first_interrupt_stops_reading_and_every_record_read_lands() {
    let (child, s3) = start_slow_run();
    std::thread::sleep(Duration::from_millis(1500));
    interrupt_group(&child);
    let output = child.wait_with_output().unwrap();
    let summary = summary(&output);
    assert_eq!(output.status.code(), Some(130), "{summary}");
    assert_eq!(summary["interrupted"], true, "{summary}");
    let read = summary["records_in"].as_u64().unwrap();
    assert!((1..40).contains(&read), "{summary}");
    // The function was not interrupted with it: every record read was delivered, none failed.
    assert_eq!(summary["delivered"], read, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    let objects = landed(&s3);
    let bytes: usize = objects.values().map(Vec::len).sum();
    assert_eq!(bytes as u64, read * 100_000, "every object whole");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("interrupted: reading no more input"),
        "{stderr}"
    );
}

#[test]
fn a_second_interrupt_aborts_saying_what_is_not_written() {
    let (child, s3) = start_slow_run();
    std::thread::sleep(Duration::from_millis(1500));
    interrupt_group(&child);
    std::thread::sleep(Duration::from_millis(100));
    interrupt_group(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(131), "{stderr}");
    assert!(stderr.contains("interrupted again: aborting"), "{stderr}");
    // Whatever was written under a key is whole (a temporary file may be left, which replay and cat pass over).
    let objects = landed(&s3);
    assert!(
        objects
            .iter()
            .filter(|(k, _)| !k.contains("%tmp"))
            .all(|(_, o)| o.len() % 100_000 == 0)
    );
}
