//! The pipeline: the only loop over records.
//!
//! Every record is answered exactly once, in input order. Its base64 is decoded
//! here, once; each step then works on the same [`Record`]; a step's error or
//! panic fails that record alone, which goes back `ProcessingFailed` with its
//! original bytes and one WARN line (record id, step, reason, never contents).

mod error;
pub(crate) mod panic;
pub mod record;
mod response;
pub mod summary;
pub mod transform;

use std::collections::BTreeMap;
use std::time::Instant;

use tracing::{error, warn};

use crate::contract::codec;
use crate::contract::{Event, EventRecord, Outcome};
use crate::pipeline::record::{Output, Record, Split};
use crate::pipeline::response::{Data, Held, ResponseWriter};
use crate::pipeline::summary::Summary;
use crate::pipeline::transform::{Transform, Verdict};
use crate::text;

/// The most a synchronous Lambda response may hold (6 MiB).
pub const MAX_RESPONSE_BYTES: usize = 6_291_456;
/// The default response limit: under the hard cap, with headroom as AWS's own blueprint keeps.
pub const DEFAULT_RESPONSE_LIMIT_BYTES: usize = 6_000_000;
/// The longest failure reason a WARN line carries.
const MAX_REASON_CHARS: usize = 300;

/// A chain of steps applied to every record of an event.
pub struct Pipeline {
    steps: Vec<Box<dyn Transform>>,
    response_limit: usize,
    reingest: Option<Box<dyn Reingest>>,
}

/// Puts records whose output does not fit in the response back to their
/// source, to come through again in another invocation (AWS's CloudWatch Logs
/// blueprint does this). A record put back is `Dropped`; one that could not be
/// is `ProcessingFailed`.
pub trait Reingest: Send + Sync {
    /// For each record, in order: put back, or why not.
    fn reingest(&self, event: &Event<'_>, records: &[Overflowed<'_>]) -> Vec<Result<(), String>>;
}

/// A record whose output did not fit in the response.
pub struct Overflowed<'e> {
    pub source: &'e EventRecord<'e>,
    /// The bytes it arrived with.
    pub original: Vec<u8>,
}

/// A processed event: the response to return, and what happened.
#[derive(Debug)]
pub struct Processed {
    /// The JSON response, ready to send.
    pub response: Vec<u8>,
    pub summary: Summary,
    /// The event's `invocationId`, for the summary log line.
    pub invocation_id: Option<String>,
}

/// The payload is not a Firehose data-transformation event; the whole
/// invocation fails with this error (`errorType` `InvalidEvent`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Firehose data-transformation event: {reason}")]
pub struct InvalidEvent {
    reason: String,
}

impl InvalidEvent {
    /// The stable `errorType` reported to Lambda.
    pub const ERROR_TYPE: &'static str = "InvalidEvent";
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new()
    }
}

impl Pipeline {
    /// A pipeline with no steps: every record comes back `Ok` and unchanged.
    pub fn new() -> Self {
        Pipeline {
            steps: Vec::new(),
            response_limit: DEFAULT_RESPONSE_LIMIT_BYTES,
            reingest: None,
        }
    }

    /// Adds a step after the existing ones.
    pub fn then(mut self, step: impl Transform + 'static) -> Self {
        self.steps.push(Box::new(step));
        self
    }

    /// Caps the serialised response at `bytes` (at most [`MAX_RESPONSE_BYTES`]).
    pub fn with_response_limit(mut self, bytes: usize) -> Self {
        self.response_limit = bytes.min(MAX_RESPONSE_BYTES);
        self
    }

    /// Re-ingests records whose output does not fit in the response, rather
    /// than failing them.
    pub fn with_reingest(mut self, reingest: impl Reingest + 'static) -> Self {
        self.reingest = Some(Box::new(reingest));
        self
    }

    /// The names of the steps, in order.
    pub fn step_names(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.name()).collect()
    }

    /// Processes a raw invocation payload.
    pub fn process(&self, payload: &[u8]) -> Result<Processed, InvalidEvent> {
        let event = parse_event(payload)?;
        Ok(self.process_event(&event, payload.len()))
    }

    /// Processes an event already read; `bytes_in` is only reported.
    pub fn process_event(&self, event: &Event<'_>, bytes_in: usize) -> Processed {
        let started = Instant::now();
        let ids = event.records.iter().map(|r| r.record_id.as_ref());
        let mut writer = ResponseWriter::new(ids, self.response_limit, bytes_in + bytes_in / 4);
        if writer.reserved > self.response_limit {
            error!(
                needed = writer.reserved,
                limit = self.response_limit,
                "the record ids alone need more than the response limit; the response will exceed it"
            );
        }
        let mut summary = Summary {
            records: event.records.len(),
            bytes_in,
            ..Summary::default()
        };
        let mut held = Vec::new();
        for source in &event.records {
            match self.answer(event, source, &mut writer, &mut held) {
                Some(Outcome::Ok) => summary.ok += 1,
                Some(Outcome::Dropped) => summary.dropped += 1,
                Some(Outcome::ProcessingFailed) => summary.failed += 1,
                None => {}
            }
        }
        summary.overflowed = writer.overflowed;
        if let Some(reingest) = &self.reingest
            && !held.is_empty()
        {
            let (answers, overflowed): (Vec<Held>, Vec<Overflowed<'_>>) = held.into_iter().unzip();
            let results = reingest.reingest(event, &overflowed);
            for ((answer, record), result) in answers.into_iter().zip(&overflowed).zip(results) {
                match result {
                    Ok(()) => summary.dropped += 1,
                    Err(reason) => {
                        let reason = text::shorten(&reason, MAX_REASON_CHARS);
                        warn!(record_id = %record.source.record_id, step = "reingest", reason = %reason, "record failed");
                        writer.settle_failed(answer);
                        summary.failed += 1;
                        summary.overflowed += 1;
                    }
                }
            }
        }
        if writer.overflowed > 0 {
            warn!(
                records = writer.overflowed,
                limit = self.response_limit,
                "records did not fit in the response limit and were returned ProcessingFailed with empty data; \
                 Firehose keeps their original bytes under processing-failed/ (lower the Lambda buffer size hint)"
            );
        }
        let response = writer.finish();
        summary.bytes_out = response.len();
        summary.duration = started.elapsed();
        Processed {
            response,
            summary,
            invocation_id: event.invocation_id.clone(),
        }
    }

    /// Answers one record; `None` when the answer is held for re-ingestion.
    fn answer<'e>(
        &self,
        event: &'e Event<'e>,
        source: &'e EventRecord<'e>,
        writer: &mut ResponseWriter,
        held: &mut Vec<(Held, Overflowed<'e>)>,
    ) -> Option<Outcome> {
        let id = source.record_id.as_ref();
        let no_keys = BTreeMap::new();
        let decoded = match codec::decode(&source.data) {
            Ok(decoded) => decoded,
            Err(e) => {
                // Nothing decodable to echo: Firehose keeps the original under processing-failed/.
                warn!(record_id = id, step = "decode", reason = %e, "record failed");
                return Some(writer.write(id, Outcome::ProcessingFailed, Data::Empty, &no_keys));
            }
        };
        let canonical = decoded.canonical;
        let mut record = Record::new(event, source, decoded.bytes);
        match run_steps(&self.steps, &mut record) {
            Ok(Verdict::Keep) => {}
            Ok(Verdict::Drop) => {
                return Some(writer.write(id, Outcome::Dropped, Data::Empty, &no_keys));
            }
            Err(failure) => {
                // Reasons may quote a value of any size (a validator's message does).
                let reason = text::shorten(&failure.reason, MAX_REASON_CHARS);
                warn!(record_id = id, step = failure.step, reason = %reason, "record failed");
                let original = record.into_original();
                return Some(writer.write(
                    id,
                    Outcome::ProcessingFailed,
                    original_data(canonical, &source.data, &original),
                    &no_keys,
                ));
            }
        }
        // Kept only when it may be re-ingested: the output replaces it otherwise.
        let original = self.reingest.as_ref().map(|_| record.original().to_vec());
        let (output, keys) = record.finish();
        let data = match &output {
            Output::Unchanged(original) => original_data(canonical, &source.data, original),
            Output::Changed(bytes) => Data::Bytes(bytes),
        };
        if let Some(original) = original
            && !writer.fits(id, Outcome::Ok, &data, &keys)
        {
            held.push((writer.write_held(id), Overflowed { source, original }));
            return None;
        }
        Some(writer.write(id, Outcome::Ok, data, &keys))
    }
}

/// Why a record failed: the step, and its reason.
struct Failure<'s> {
    step: &'s str,
    reason: String,
}

/// Runs the steps on a record, catching a panic as a failure. When a step
/// splits the record, the steps after it run on each item instead.
fn run_steps<'s>(
    steps: &'s [Box<dyn Transform>],
    record: &mut Record<'_>,
) -> Result<Verdict, Failure<'s>> {
    for (i, step) in steps.iter().enumerate() {
        let reason = match panic::catch(|| step.apply(record)) {
            Ok(Ok(Verdict::Keep)) => match record.take_split() {
                Some(split) => return run_split(step.name(), &steps[i + 1..], record, split),
                None => continue,
            },
            Ok(Ok(Verdict::Drop)) => return Ok(Verdict::Drop),
            Ok(Err(e)) => e.to_string(),
            Err(panicked) => panicked,
        };
        return Err(Failure {
            step: step.name(),
            reason,
        });
    }
    Ok(Verdict::Keep)
}

/// Runs the remaining steps on each item of a split record and joins what they
/// kept into the record. One failing item fails the record, so nothing is lost;
/// the items must agree on partition keys, as one record lands under one prefix.
fn run_split<'s>(
    splitter: &'s str,
    steps: &'s [Box<dyn Transform>],
    record: &mut Record<'_>,
    split: Split<'_>,
) -> Result<Verdict, Failure<'s>> {
    let total = split.parts.len();
    let mut joined = Vec::new();
    let mut keys: Option<(usize, BTreeMap<String, String>)> = None;
    for (n, mut part) in split.parts.into_iter().enumerate() {
        let item = || format!("{} {} of {total}", split.item, n + 1);
        match run_steps(steps, &mut part) {
            Ok(Verdict::Keep) => {}
            Ok(Verdict::Drop) => continue,
            Err(failure) => {
                return Err(Failure {
                    step: failure.step,
                    reason: format!("{}: {}", item(), failure.reason),
                });
            }
        }
        let (output, part_keys) = part.finish();
        match &keys {
            Some((first, first_keys)) if *first_keys != part_keys => {
                return Err(Failure {
                    step: splitter,
                    reason: format!(
                        "{} has partition keys {part_keys:?} but {} {} of {total} has {first_keys:?}; \
                         one record lands under one S3 prefix",
                        item(),
                        split.item,
                        first + 1
                    ),
                });
            }
            Some(_) => {}
            None => keys = Some((n, part_keys)),
        }
        joined.extend(output.into_bytes());
    }
    let Some((_, keys)) = keys else {
        return Ok(Verdict::Drop);
    };
    record.set_bytes(joined);
    record.set_partition_keys(keys);
    Ok(Verdict::Keep)
}

/// A record's original bytes as response data: the text they came in when that
/// text is canonical base64 (saving an encode), else encoded canonically.
fn original_data<'a>(canonical: bool, text: &'a str, bytes: &'a [u8]) -> Data<'a> {
    if canonical {
        Data::Base64(text)
    } else {
        Data::Bytes(bytes)
    }
}

/// Reads the event; on failure, reads it again tracking the path, so the
/// error says where (`records[3].recordId`), at no cost to the happy path.
fn parse_event(payload: &[u8]) -> Result<Event<'_>, InvalidEvent> {
    serde_json::from_slice(payload).map_err(|_| {
        let mut deserializer = serde_json::Deserializer::from_slice(payload);
        let reason = match serde_path_to_error::deserialize::<_, Event<'_>>(&mut deserializer) {
            Err(e) if e.path().iter().next().is_some() => {
                format!("{} (at {})", e.inner(), e.path())
            }
            Err(e) => e.inner().to_string(),
            Ok(_) => "the payload could not be read".to_owned(),
        };
        InvalidEvent { reason }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Response;
    use crate::pipeline::transform::{TransformError, transform_fn};
    use serde_json::json;

    fn event(records: &[(&str, &str)]) -> Vec<u8> {
        let records: Vec<_> = records
            .iter()
            .map(|(id, data)| json!({"recordId": id, "data": data}))
            .collect();
        serde_json::to_vec(&json!({"invocationId": "inv", "records": records})).unwrap()
    }

    fn run(pipeline: &Pipeline, payload: &[u8]) -> (Response, Summary) {
        let processed = pipeline.process(payload).unwrap();
        (
            Response::from_slice(&processed.response).unwrap(),
            processed.summary,
        )
    }

    #[test]
    fn an_empty_pipeline_echoes_every_record() {
        let (response, summary) = run(&Pipeline::new(), &event(&[("a", "QQ=="), ("b", "")]));
        assert_eq!(response.records.len(), 2);
        assert_eq!(response.records[0].data, "QQ==");
        assert_eq!(summary.ok, 2);
    }

    #[test]
    fn errors_panics_and_bad_base64_fail_only_their_record() {
        let pipeline = Pipeline::new().then(transform_fn("picky", |r| match r.text()? {
            "fail" => Err(TransformError::new("asked to fail")),
            "panic" => panic!("asked to panic"),
            "drop" => Ok(Verdict::Drop),
            _ => {
                r.set_bytes("done");
                Ok(Verdict::Keep)
            }
        }));
        let (response, summary) = run(
            &pipeline,
            &event(&[
                ("1", "ZmFpbA=="),
                ("2", "cGFuaWM="),
                ("3", "!!"),
                ("4", "ZHJvcA=="),
                ("5", "b2s="),
            ]),
        );
        let results: Vec<_> = response
            .records
            .iter()
            .map(|r| (r.record_id.as_str(), r.result, r.data.as_str()))
            .collect();
        assert_eq!(
            results,
            [
                ("1", Outcome::ProcessingFailed, "ZmFpbA=="),
                ("2", Outcome::ProcessingFailed, "cGFuaWM="),
                ("3", Outcome::ProcessingFailed, ""),
                ("4", Outcome::Dropped, ""),
                ("5", Outcome::Ok, "ZG9uZQ=="),
            ]
        );
        assert_eq!((summary.ok, summary.dropped, summary.failed), (1, 1, 3));
    }

    /// Splits `a,b,c` into items; the step after it sees each item alone.
    fn split_then(step: impl Transform + 'static) -> Pipeline {
        Pipeline::new()
            .then(transform_fn("split", |r| {
                let items: Vec<Vec<u8>> = r
                    .text()?
                    .split(',')
                    .map(|i| i.as_bytes().to_vec())
                    .collect();
                r.split("item", items);
                Ok(Verdict::Keep)
            }))
            .then(step)
    }

    #[test]
    fn steps_after_a_split_run_on_each_item() {
        let pipeline = split_then(transform_fn("per-item", |r| match r.text()? {
            "drop" => Ok(Verdict::Drop),
            "fail" => Err("asked to fail".into()),
            item => {
                let upper = item.to_uppercase();
                r.set_partition_key("k", if upper == "Z" { "z" } else { "x" });
                r.set_bytes(upper + ";");
                Ok(Verdict::Keep)
            }
        }));
        let (response, summary) = run(
            &pipeline,
            &event(&[
                ("1", "YSxkcm9wLGI="), // a,drop,b
                ("2", "YSxmYWlsLGI="), // a,fail,b
                ("3", "ZHJvcCxkcm9w"), // drop,drop
                ("4", "YSx6"),         // a,z: the keys disagree
            ]),
        );
        let results: Vec<_> = response
            .records
            .iter()
            .map(|r| (r.result, r.data.as_str()))
            .collect();
        assert_eq!(
            results,
            [
                (Outcome::Ok, "QTtCOw=="), // A;B;
                (Outcome::ProcessingFailed, "YSxmYWlsLGI="),
                (Outcome::Dropped, ""),
                (Outcome::ProcessingFailed, "YSx6"),
            ]
        );
        let keys = response.records[0].metadata.as_ref().unwrap();
        assert_eq!(keys.partition_keys["k"], "x");
        assert_eq!((summary.ok, summary.dropped, summary.failed), (1, 1, 2));
    }

    /// Puts back records whose original text is `ok…`, refuses the others.
    struct PickyReingest;

    impl Reingest for PickyReingest {
        fn reingest(&self, _: &Event<'_>, records: &[Overflowed<'_>]) -> Vec<Result<(), String>> {
            records
                .iter()
                .map(|r| match r.original.starts_with(b"ok") {
                    true => Ok(()),
                    false => Err("refused".to_owned()),
                })
                .collect()
        }
    }

    #[test]
    fn records_that_do_not_fit_are_reingested_or_failed() {
        // Each record grows to 400 bytes; the limit holds about two.
        let grow = transform_fn("grow", |r| {
            r.set_bytes(vec![b'x'; 400]);
            Ok(Verdict::Keep)
        });
        let pipeline = Pipeline::new()
            .then(grow)
            .with_response_limit(1_500)
            .with_reingest(PickyReingest);
        // ok1, ok2, ok3, no4
        let (response, summary) = run(
            &pipeline,
            &event(&[("1", "b2sx"), ("2", "b2sy"), ("3", "b2sz"), ("4", "bm80")]),
        );
        let results: Vec<_> = response.records.iter().map(|r| r.result).collect();
        assert_eq!(
            results,
            [
                Outcome::Ok,
                Outcome::Ok,
                Outcome::Dropped,
                Outcome::ProcessingFailed
            ]
        );
        assert_eq!(
            (
                summary.ok,
                summary.dropped,
                summary.failed,
                summary.overflowed
            ),
            (2, 1, 1, 1)
        );
    }

    #[test]
    fn odd_padding_comes_back_canonical() {
        let (response, _) = run(&Pipeline::new(), &event(&[("a", "QQ===")]));
        assert_eq!(response.records[0].data, "QQ==");
        let failing = Pipeline::new().then(transform_fn("no", |_| Err("no".into())));
        let (response, _) = run(&failing, &event(&[("a", "QQ===")]));
        assert_eq!(response.records[0].data, "QQ==");
    }

    #[test]
    fn invalid_events_say_what_is_missing() {
        let cases: [(&[u8], &str); 5] = [
            (br#"{"foo":1}"#, "missing field `records`"),
            (b"[]", "expected a Firehose data-transformation event"),
            (br#""a string""#, "invalid type: string"),
            (br#"{"records":[{"data":""}]}"#, "(at records[0])"),
            (b"not json", "expected"),
        ];
        for (payload, needle) in cases {
            let err = Pipeline::new().process(payload).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn response_limit_is_clamped_to_the_lambda_maximum() {
        assert_eq!(
            Pipeline::new()
                .with_response_limit(usize::MAX)
                .response_limit,
            MAX_RESPONSE_BYTES
        );
    }
}
