//! A whole invocation of each function, in process: the event's bytes as
//! Lambda hands them over, through `Pipeline::process` with the function's
//! steps and fixed settings. The answer must pass `firehose-local`'s judge
//! with nothing to say, a failed record must keep its bytes, what a function
//! promises of its output must hold, and no step may panic.

use std::sync::OnceLock;

use firehose_local::answer::{Answer, decode_lenient};
use firehose_local::check;
use firehose_transform::jq::Jq;
use firehose_transform::settings::{Env, Settings};
use firehose_transform::transforms::chain;
use firehose_transform::transforms::partition_keys::PartitionKeys;
use firehose_transform::{Event, Pipeline};

use crate::step_panics;

/// What a function promises of a record it answers `Ok`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Output {
    /// The bytes it came with (a filter, a validator).
    Unchanged,
    /// JSON objects, one a line, each ending in a newline.
    JsonLines,
    /// Lines of text (CSV rows, log messages), the last ending in a newline.
    NewlineEnded,
}

/// A function as the fuzzer runs it: its steps and settings.
pub(crate) struct Function {
    pub(crate) env: &'static [(&'static str, &'static str)],
    pub(crate) partition_keys: Option<&'static str>,
    pub(crate) output: Output,
}

/// The schema `firehose-validate` checks against: the one the tests use.
const SCHEMA: &str = include_str!("../../tests/fixtures/schemas/app-event.schema.json");

const FUNCTIONS: &[Function] = &[
    Function {
        env: &[
            ("PIPELINE_STEPS", "normalize"),
            ("NORMALIZE_TIMESTAMP_FIELDS", "ts,at"),
        ],
        partition_keys: None,
        output: Output::JsonLines,
    },
    Function {
        env: &[
            ("PIPELINE_STEPS", "filter"),
            (
                "FILTER_KEEP",
                r#".level != "DEBUG" and ((.msg // "") | test("^[a-z]"))"#,
            ),
        ],
        partition_keys: None,
        output: Output::Unchanged,
    },
    Function {
        env: &[("PIPELINE_STEPS", "validate"), ("VALIDATE_SCHEMA", SCHEMA)],
        partition_keys: None,
        output: Output::Unchanged,
    },
    Function {
        env: &[
            ("PIPELINE_STEPS", "enrich"),
            ("ENRICH_FIELDS", r#"{"env":"prod","n":1}"#),
            ("ENRICH_ARRIVAL_TIME_FIELD", "arrived"),
            ("ENRICH_PARTITION_KEY_FIELD", "partition_key"),
            ("ENRICH_INVOCATION_ID_FIELD", "invocation"),
        ],
        partition_keys: None,
        output: Output::JsonLines,
    },
    Function {
        env: &[("PIPELINE_STEPS", "access-log")],
        partition_keys: None,
        output: Output::JsonLines,
    },
    Function {
        env: &[("PIPELINE_STEPS", "syslog")],
        partition_keys: None,
        output: Output::JsonLines,
    },
    Function {
        env: &[
            ("PIPELINE_STEPS", "cloudwatch-logs"),
            ("CLOUDWATCH_LOGS_EMBED_JSON", "true"),
        ],
        partition_keys: None,
        output: Output::JsonLines,
    },
    Function {
        env: &[
            ("PIPELINE_STEPS", "normalize,filter,validate,enrich"),
            ("FILTER_DROP", r#".level == "DEBUG""#),
            ("VALIDATE_SCHEMA", SCHEMA),
            ("ENRICH_ARRIVAL_EPOCH_MS_FIELD", "arrived_ms"),
        ],
        partition_keys: Some(r#"{level: .level, day: (.ts / 1000 | strftime("%Y-%m-%d"))}"#),
        output: Output::JsonLines,
    },
];

/// The event's first byte chooses the function; the rest is the event.
pub fn run(data: &[u8]) {
    static PIPELINES: OnceLock<Vec<Pipeline>> = OnceLock::new();
    let pipelines = PIPELINES.get_or_init(|| FUNCTIONS.iter().map(Function::pipeline).collect());
    let (chosen, event) = crate::choose(data, FUNCTIONS.len());
    answered(&pipelines[chosen], event, FUNCTIONS[chosen].output);
}

impl Function {
    pub(crate) fn pipeline(&self) -> Pipeline {
        let settings = Settings::load(
            Env::from_pairs(self.env.iter().copied()),
            &chain::setting_groups(firehose_pipeline::STEPS),
        );
        let pipeline =
            settings.and_then(|settings| chain::from_settings(firehose_pipeline::STEPS, &settings));
        let pipeline = match pipeline {
            Ok(pipeline) => pipeline,
            Err(e) => panic!("the fuzzed function's settings are refused: {e}"),
        };
        match self.partition_keys.map(Jq::compile) {
            Some(Ok(program)) => pipeline.then(PartitionKeys::new(program)),
            Some(Err(e)) => panic!("the fuzzed partition keys are refused: {e}"),
            None => pipeline,
        }
    }
}

/// Processes `event` and checks the answer; an event that is not a Firehose
/// event must be refused as a whole, which is the only other outcome.
pub(crate) fn answered(pipeline: &Pipeline, event: &[u8], output: Output) {
    let Ok(processed) = step_panics::surfaced(|| pipeline.process(event)) else {
        return;
    };
    let report = check::judge(event, &processed.response);
    if check::asked_ids(event).is_err() {
        // Firehose never sends what its own reading refuses (invalid UTF-8 in a field the
        // pipeline does not read): the answer can only be judged on its own.
        assert!(
            report.accepted(),
            "Firehose would reject the answer: {report:#?}"
        );
        return;
    }
    let violations = report.lines();
    assert!(
        violations.is_empty(),
        "Firehose would not take the answer as it is: {violations:#?}"
    );
    let (Ok(request), Ok(answer)) = (
        serde_json::from_slice::<Event<'_>>(event),
        Answer::parse(&processed.response),
    ) else {
        panic!("the judge took an answer or a request that cannot be read");
    };
    let summary = &processed.summary;
    assert_eq!(
        summary.records,
        request.records.len(),
        "summary's record count"
    );
    assert_eq!(
        summary.ok + summary.dropped + summary.failed,
        summary.records,
        "every record is Ok, Dropped or ProcessingFailed in the summary"
    );
    for (asked, answered) in request.records.iter().zip(&answer.records) {
        // What a lenient decoder cannot read, the pipeline fails with no data.
        let Ok(original) = decode_lenient(&asked.data) else {
            continue;
        };
        let data = answered.bytes().unwrap_or_default();
        match answered.result.as_deref() {
            Some("ProcessingFailed") => assert!(
                data.is_empty() || data == original,
                "a failed record must keep its bytes, or carry none"
            ),
            Some("Ok") => output.check(&original, data),
            _ => {}
        }
    }
}

impl Output {
    /// Panics unless `data`, the answer to `original`, is what this promises.
    pub(crate) fn check(self, original: &[u8], data: &[u8]) {
        match self {
            Output::Unchanged => assert_eq!(data, original, "the record must pass unchanged"),
            Output::JsonLines => {
                assert!(
                    data.ends_with(b"\n"),
                    "JSON output must end each object with a newline"
                );
                for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    let value: Result<serde_json::Value, _> = serde_json::from_slice(line);
                    assert!(
                        matches!(value, Ok(serde_json::Value::Object(_))),
                        "each output line must be one JSON object: {value:?}"
                    );
                }
            }
            Output::NewlineEnded => {
                assert!(data.ends_with(b"\n"), "each output must end in a newline")
            }
        }
    }
}
