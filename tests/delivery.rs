//! `firehose-local run` when its objects cannot go where they should: keys a
//! folder cannot hold as paths, a folder that fails, a disk that fills up.
//! Every record still ends in one known place, the summary says where, and
//! the exit status says what happened.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use firehose_e2e::binary;
use firehose_e2e::moto_server::Moto;
use firehose_local::sink::local_path;
use serde_json::Value;

use crate::run::{
    PARTITIONED, fault_args, firehose_local, firehose_local_on_moto, landed, out_dir,
    partitioned_faults,
};

/// The `bucket/key` of every object the summary lists, with how it landed.
fn summary_objects(summary: &Value) -> Vec<(String, String)> {
    summary["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["bucket"].as_str().unwrap(),
                    o["key"].as_str().unwrap()
                ),
                o["landed"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn summary_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The keys of the objects under `folder`, mapped back from their paths.
fn keys_under(folder: &Path) -> BTreeSet<String> {
    landed(folder)
        .keys()
        .map(|path| local_path::key_of(Path::new(path)).unwrap())
        .collect()
}

#[test]
fn keys_a_folder_cannot_hold_land_under_escaped_paths_that_map_back() {
    let template =
        partitioned_faults("!{partitionKeyFromLambda:customer}/!{partitionKeyFromQuery:year}/");
    let long = "x".repeat(300);
    let records: Vec<Vec<u8>> = ["..", ".", long.as_str(), "50%", "ok"]
        .iter()
        .map(|customer| format!("{{\"customer\":\"{customer}\",\"year\":2026}}").into_bytes())
        .collect();
    let records: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    let (args, s3) = fault_args(&template, &records, "keys");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = firehose_local(&args);
    let summary = summary_of(&output);
    assert!(output.status.success(), "{summary}");
    assert_eq!(summary["delivered"], 5, "{summary}");
    let listed: BTreeSet<String> = summary_objects(&summary)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(
        listed.iter().any(|k| k.starts_with("faults/../2026/")),
        "{listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|k| k.starts_with(&format!("faults/{long}/"))),
        "{listed:?}"
    );
    // Nothing left the output folder, and every file is the object the summary names.
    assert_eq!(keys_under(&s3), listed);
}

/// The arguments of a run of `records` through faults.yaml whose function leaves the first out, with no
/// retrying of the store; the output folder and the undelivered folder.
fn leaving_the_first_out(records: &[&[u8]]) -> (Vec<String>, PathBuf, PathBuf) {
    let faults = firehose_e2e::repo().join("tests/fixtures/run/faults.yaml");
    let (mut args, s3) = fault_args(&faults, records, "missing");
    let undelivered = s3.with_file_name("undelivered");
    args.extend(["--retry-for", "0", "--undelivered-folder"].map(str::to_owned));
    args.push(undelivered.display().to_string());
    (args, s3, undelivered)
}

#[test]
fn a_folder_that_fails_keeps_the_objects_undelivered_until_replay_delivers_them() {
    let (args, s3, undelivered) = leaving_the_first_out(&[b"one", b"two"]);
    // A file where the bucket's folder should be: no object can be written under it.
    std::fs::create_dir_all(&s3).unwrap();
    std::fs::write(s3.join("faults"), b"in the way").unwrap();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = firehose_local(&args);
    let summary = summary_of(&output);
    assert_eq!(output.status.code(), Some(3), "{summary}");
    // One record failed (the function left it out), one was delivered: both objects are kept.
    assert_eq!(summary["undelivered"], 2, "{summary}");
    assert_eq!(summary["delivered"], 0, "{summary}");
    let listed = summary_objects(&summary);
    assert!(
        listed.iter().all(|(_, landed)| landed == "undelivered"),
        "{listed:?}"
    );
    let kept = keys_under(&undelivered);
    let keys: BTreeSet<String> = listed.into_iter().map(|(k, _)| k).collect();
    assert_eq!(kept, keys);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not in the store"), "{stderr}");

    // Once the folder works, replay delivers them as they are and empties the undelivered folder.
    let before = landed(&undelivered);
    std::fs::remove_file(s3.join("faults")).unwrap();
    let replay = firehose_local(&[
        "replay",
        "--undelivered",
        undelivered.to_str().unwrap(),
        "--out",
        s3.to_str().unwrap(),
    ]);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert_eq!(landed(&s3), before);
    assert!(landed(&undelivered).is_empty());
}

#[test]
fn a_full_disk_loses_objects_loudly_and_never_leaves_half_an_object() {
    // Two records the function answers make a data object over 1 KiB; the one it leaves out an error object under it.
    let big = [b'x'; 700];
    let (args, s3, undelivered) = leaving_the_first_out(&[b"small", &big, &big]);
    // A file size limit of 1 KiB (RLIMIT_FSIZE) is a disk that is full for larger objects, every time;
    // SIGXFSZ ignored, as a full disk sends none, so a write past it fails with EFBIG.
    let output = Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"")
        .arg(binary("firehose-local"))
        .args(&args)
        .current_dir(firehose_e2e::repo())
        .output()
        .unwrap();
    let summary = summary_of(&output);
    assert_eq!(output.status.code(), Some(4), "{summary}");
    assert_eq!(summary["lost"], 2, "{summary}");
    assert_eq!(summary["failed"], 1, "{summary}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\"landed\":\"lost\""), "{stderr}");
    // The error object is there, whole; no partial file of the data object is anywhere.
    let objects = landed(&s3);
    assert_eq!(objects.len(), 1, "{:?}", objects.keys());
    assert!(objects.keys().all(|k| k.starts_with("faults/errors/")));
    assert!(landed(&undelivered).is_empty());
}

#[test]
fn an_s3_api_without_the_bucket_keeps_the_objects_undelivered_until_replay_delivers_them() {
    let moto = Moto::start();
    let undelivered = out_dir("s3-undelivered");
    let run = [
        &["run"],
        &PARTITIONED[..],
        &[
            "--start-time",
            "2026-12-01T10:00:00Z",
            "--json",
            "--retry-for",
            "0",
        ],
        &["--s3-endpoint", &moto.url],
        &["--undelivered-folder", undelivered.to_str().unwrap()],
    ]
    .concat();
    // No bucket yet: S3 answers NoSuchBucket, which Firehose retries and never sends to the error prefix.
    let output = firehose_local_on_moto(&run);
    let summary = summary_of(&output);
    assert_eq!(output.status.code(), Some(3), "{summary}");
    let listed = summary_objects(&summary);
    assert_eq!(listed.len(), 5, "{summary}");
    assert!(
        listed.iter().all(|(_, landed)| landed == "undelivered"),
        "{listed:?}"
    );
    let why = summary["objects"][0]["why"].as_str().unwrap();
    assert!(why.contains("NoSuchBucket"), "{why}");
    let kept = landed(&undelivered);

    moto.s3("PUT", "partitioned");
    let replay = firehose_local_on_moto(&[
        "replay",
        "--undelivered",
        undelivered.to_str().unwrap(),
        "--s3-endpoint",
        &moto.url,
    ]);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert_eq!(moto.s3_objects("partitioned"), kept, "keys and bytes");
    assert!(landed(&undelivered).is_empty());
}
