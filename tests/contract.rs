//! What the crate guarantees to every function, checked through real release binaries.
// Test helpers too may panic: the panic message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_lambda_events::event::firehose::KinesisFirehoseResponse;
use firehose_e2e::{binary, event, example, read, respond, start};
use firehose_transform::{Outcome, Response};

#[test]
fn a_panicking_step_fails_only_its_record_in_a_release_build() {
    for values in ["false", "true"] {
        let mut function = start(
            &example("catch_panics"),
            &[("FIREHOSE_LOG_RECORD_VALUES", values)],
        );
        for _ in 0..2 {
            let response = respond(
                &mut function,
                &event(&[b"fine", b"please panic", b"also fine"]),
            );
            let response = Response::from_slice(&response).unwrap();
            let results: Vec<Outcome> = response.records.iter().map(|r| r.result).collect();
            assert_eq!(
                results,
                [Outcome::Ok, Outcome::ProcessingFailed, Outcome::Ok]
            );
            assert_eq!(
                response.records[1].data,
                base64_simd::STANDARD.encode_to_string(b"please panic")
            );
        }
        let warning = function
            .wait_for_log("\"step\":\"fragile\"", Duration::from_secs(5))
            .unwrap();
        assert!(
            warning.contains("panicked at shared/examples/catch_panics.rs"),
            "{warning}"
        );
        // The panic message quotes the record: logged only when values are asked for.
        assert_eq!(
            warning.contains("please panic"),
            values == "true",
            "{values}: {warning}"
        );
    }
}

#[test]
fn the_guide_s_example_is_the_compiled_one_and_it_works() {
    let guide = String::from_utf8(read("docs/writing-a-transform.md")).unwrap();
    let source = String::from_utf8(read("shared/examples/uppercase.rs")).unwrap();
    assert!(
        guide.contains(&source),
        "docs/writing-a-transform.md must quote shared/examples/uppercase.rs exactly"
    );
    let mut function = start(&example("uppercase"), &[]);
    let response =
        Response::from_slice(&respond(&mut function, &event(&[b"hello", b"\xff"]))).unwrap();
    assert_eq!(
        response.records[0].data,
        base64_simd::STANDARD.encode_to_string(b"HELLO")
    );
    assert_eq!(response.records[1].result, Outcome::ProcessingFailed);
}

/// `aws_lambda_events` 1.2 requires `metadata` on every response record, which
/// Firehose does not (and which we write only when there are partition keys):
/// their types read our responses whose records all carry keys (see the
/// `interop` unit tests), fail on the others with exactly that complaint, and
/// the conversion to their types is lossless either way.
#[test]
fn every_response_we_write_converts_to_aws_lambda_events() {
    let mut function = start(&binary("firehose-normalize"), &[]);
    for fixture in [
        "sam/firehose-apachelog.json",
        "public/powertools-kinesisFirehoseKinesisEvent.json",
        "adversarial/invalid-base64-among-valid.json",
    ] {
        let raw = respond(&mut function, &read(&format!("tests/fixtures/{fixture}")));
        let ours = Response::from_slice(&raw).unwrap();
        let theirs = KinesisFirehoseResponse::try_from(&ours).unwrap();
        assert_eq!(Response::try_from(&theirs).unwrap(), ours, "{fixture}");
        let reparsed: KinesisFirehoseResponse =
            serde_json::from_str(&serde_json::to_string(&theirs).unwrap()).unwrap();
        assert_eq!(reparsed, theirs, "{fixture}");
        let direct = serde_json::from_slice::<KinesisFirehoseResponse>(&raw).unwrap_err();
        assert!(
            direct.to_string().starts_with("missing field `metadata`"),
            "{fixture}: {direct}"
        );
    }
}
