//! `firehose-pipeline`, the real release binary, through the local Runtime API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use firehose_e2e::{
    ADVERSARIAL_FIXTURES, Answer, PUBLIC_FIXTURES, answers, binary, borrowed, generated_records,
    golden_cases, kinesis_event, repo, respond, start, start_up_error,
};
use firehose_transform::Outcome;

const BINARY: &str = "firehose-pipeline";

/// `PIPELINE_STEPS` and the settings of the steps it names. Enrich adds only
/// metadata that is the same for every record of an event, so that a record
/// gets the same fields alone or among others.
fn settings(steps: &str) -> Vec<(&'static str, String)> {
    let all = [
        ("FILTER_DROP", r#".level == "DEBUG""#.to_owned()),
        (
            "VALIDATE_SCHEMA_FILE",
            "tests/fixtures/schemas/normalized-event.schema.json".to_owned(),
        ),
        ("LAMBDA_TASK_ROOT", repo().to_string_lossy().into_owned()),
        ("ENRICH_FIELDS", r#"{"source":"class-stream"}"#.to_owned()),
        ("ENRICH_SHARD_ID_FIELD", "shard_id".to_owned()),
        ("ENRICH_DELIVERY_STREAM_FIELD", "delivery_stream".to_owned()),
    ];
    let mut chosen = vec![("PIPELINE_STEPS", steps.to_owned())];
    for step in steps.split(',') {
        chosen.extend(own(&all, step).into_iter().map(|(k, v)| (k, v.to_owned())));
    }
    chosen
}

/// The settings `step` reads, out of `all`.
fn own<'a>(all: &'a [(&'static str, String)], step: &str) -> Vec<(&'static str, &'a str)> {
    let prefix = format!("{}_", step.to_ascii_uppercase());
    all.iter()
        .filter(|(k, _)| k.starts_with(&prefix) || (*k == "LAMBDA_TASK_ROOT" && step == "validate"))
        .map(|(k, v)| (*k, v.as_str()))
        .collect()
}

#[test]
fn every_fixture_is_answered_one_for_one() {
    // A lenient schema, so that records go all the way through the chain.
    let env = [
        ("PIPELINE_STEPS", "normalize,filter,validate,enrich"),
        ("FILTER_DROP", r#".level == "DEBUG""#),
        (
            "VALIDATE_SCHEMA",
            r#"{"type":"object","properties":{"price":{"type":"number"}}}"#,
        ),
        ("ENRICH_FIELDS", r#"{"source":"class-stream"}"#),
        ("ENRICH_INVOCATION_ID_FIELD", "invocation_id"),
    ];
    golden_cases(BINARY, PUBLIC_FIXTURES, &env, "pipeline");
    golden_cases(BINARY, ADVERSARIAL_FIXTURES, &env, "pipeline");
}

/// Runs `records` through each single-step function in turn, as if each were
/// its own delivery stream: a record stops at the first step that does not
/// answer `Ok`.
fn one_function_after_another(steps: &[&str], records: &[String]) -> Vec<Answer> {
    let all = settings(&steps.join(","));
    let mut current: Vec<Answer> = records
        .iter()
        .map(|r| Answer {
            result: Outcome::Ok,
            data: r.clone().into_bytes(),
            keys: vec![],
        })
        .collect();
    for step in steps {
        let mut function = start(&binary(&format!("firehose-{step}")), &own(&all, step));
        let open: Vec<usize> = (0..current.len())
            .filter(|&i| current[i].result == Outcome::Ok)
            .collect();
        let slices: Vec<&[u8]> = open.iter().map(|&i| current[i].data.as_slice()).collect();
        let step_answers = answers(&respond(&mut function, &kinesis_event(&slices)));
        for (&i, answer) in open.iter().zip(step_answers) {
            current[i] = Answer {
                // A failed record keeps the bytes it came with, not the step's input.
                data: if answer.result == Outcome::ProcessingFailed {
                    records[i].clone().into_bytes()
                } else {
                    answer.data
                },
                ..answer
            };
        }
    }
    current
}

#[test]
fn the_chain_answers_as_its_functions_one_after_another() {
    let records = generated_records(31, 300);
    for steps in [
        &["normalize", "filter", "validate", "enrich"][..],
        &["enrich", "filter", "normalize"],
        &["filter"],
    ] {
        let expected = one_function_after_another(steps, &records);
        let mut function = start(&binary(BINARY), &borrowed(&settings(&steps.join(","))));
        let slices: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
        let got = answers(&respond(&mut function, &kinesis_event(&slices)));
        assert_eq!(got.len(), expected.len());
        for (i, (got, want)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "{steps:?}: record {i}: {}", records[i]);
        }
        let ok = got.iter().filter(|a| a.result == Outcome::Ok).count();
        assert!(ok > 10, "{steps:?}: only {ok} Ok");
    }
}

#[test]
fn bad_chains_stop_it_at_start_up() {
    let (error_type, message) = start_up_error(BINARY, &[("PIPELINE_STEPS", "normalize,jq")]);
    assert_eq!(error_type, "InvalidSetting");
    assert!(
        message.contains("unknown step `jq`; the steps are: normalize, filter, validate, enrich"),
        "{message}"
    );
    let (error_type, message) = start_up_error(BINARY, &[]);
    assert_eq!(error_type, "MissingSetting");
    assert!(
        message.starts_with("PIPELINE_STEPS is not set"),
        "{message}"
    );
    let (_, message) = start_up_error(
        BINARY,
        &[("PIPELINE_STEPS", "normalize"), ("ENRICH_FIELDS", "{}")],
    );
    assert!(
        message.contains("`enrich` is not in PIPELINE_STEPS"),
        "{message}"
    );
    let (_, message) = start_up_error(
        BINARY,
        &[("PIPELINE_STEPS", "normalize,filter"), ("FILTER_KEEP", "(")],
    );
    assert!(
        message.starts_with("FILTER_KEEP=\"(\" is invalid"),
        "{message}"
    );
}
