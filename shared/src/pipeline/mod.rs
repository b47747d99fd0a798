//! The pipeline: the only loop over records.
//!
//! Every record is answered exactly once, in input order. Its base64 is decoded
//! here, once; each step then works on the same [`Record`]; a step's error or
//! panic fails that record alone, which goes back `ProcessingFailed` with its
//! original bytes and one WARN line (record id, step, reason, never contents).

mod error;
pub(crate) mod panic;
mod progress;
pub mod record;
mod response;
pub mod summary;
pub mod transform;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use tracing::{debug, error, warn};

use crate::contract::codec;
use crate::contract::{Event, EventRecord, Outcome};
use crate::json_read;
use crate::pipeline::progress::{AtCutoff, Open, Progress, Ran};
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
    /// Whether failure reasons in logs may quote the record (`FIREHOSE_LOG_RECORD_VALUES`).
    log_record_values: bool,
}

/// Puts records whose output does not fit in the response back to their
/// source, to come through again in another invocation (AWS's CloudWatch Logs
/// blueprint does this). A record is `Dropped` only when the hook confirms it
/// was put back; one it says nothing of, or fails, is `ProcessingFailed`.
pub trait Reingest: Send + Sync {
    /// What became of the records, each named by its record id. Work past
    /// `context.cutoff` is wasted: the response has gone out by then.
    fn reingest(
        &self,
        event: &Event<'_>,
        records: &[Overflowed<'_>],
        context: &Context,
    ) -> Vec<Reingested>;
}

/// What Lambda told of the invocation being processed.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// When the response must go out: the deadline less the margin.
    pub cutoff: Option<Instant>,
    /// The X-Ray trace header, for AWS calls made on the invocation's behalf.
    pub trace_id: Option<String>,
}

/// What re-ingestion did with one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reingested {
    pub record_id: String,
    /// Put back, or why not.
    pub result: Result<(), String>,
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
    /// Answered at the deadline while the batch's thread still ran (a step
    /// may never return): respond, then exit, so Lambda starts a fresh process.
    pub abandoned: bool,
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
            log_record_values: false,
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

    /// Logs failure reasons in full, record values included, rather than with
    /// the values as their kinds: for debugging, never where people who must
    /// not see the records read the logs.
    pub fn with_record_values_in_logs(mut self, on: bool) -> Self {
        self.log_record_values = on;
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
        let progress = Progress::new();
        self.run(payload, &progress, &Context::default());
        into_processed(progress.wait(None))
    }

    /// Processes an event already read; `bytes_in` is only reported. Fails
    /// only for an event whose records cannot all be answered within Lambda's
    /// 6 MiB (Firehose never sends one: its records are longer than their answers).
    pub fn process_event(
        &self,
        event: &Event<'_>,
        bytes_in: usize,
    ) -> Result<Processed, InvalidEvent> {
        let progress = Progress::new();
        if let Err(invalid) = self.run_event(event, bytes_in, &progress, &Context::default()) {
            progress.finish(Ok(Err(invalid)));
        }
        into_processed(progress.wait(None))
    }

    /// Processes a payload on a thread of its own, answering by the context's cutoff:
    /// records not answered by then are `ProcessingFailed` with the reason
    /// "deadline", and the response goes out while the thread runs on (a step
    /// may never return). Then [`Processed::abandoned`] says so, and the
    /// process should exit once it has responded. A panic outside the steps
    /// is `Err` with its message. The thread shares the payload as it was
    /// read (an `Arc<[u8]>` would be a copy of the whole event).
    pub fn process_by(
        self: &Arc<Self>,
        payload: Arc<Vec<u8>>,
        context: Context,
    ) -> Result<Result<Processed, InvalidEvent>, String> {
        let cutoff = context.cutoff;
        let progress = Arc::new(Progress::new());
        let runner = {
            let (pipeline, payload, progress) = (
                Arc::clone(self),
                Arc::clone(&payload),
                Arc::clone(&progress),
            );
            // The runner's log lines belong to this invocation too.
            let span = tracing::Span::current();
            thread::Builder::new()
                .name("batch".to_owned())
                .spawn(move || {
                    let _entered = span.enter();
                    if let Err(panicked) = panic::catch(pipeline.log_record_values, || {
                        pipeline.run(&payload, &progress, &context)
                    }) {
                        progress.finish(Err(panicked));
                    }
                })
        };
        if let Err(e) = runner {
            // No thread to spare: run here, without the watch.
            warn!(error = %e, "could not start the batch thread; running without a deadline watch");
            return panic::catch(self.log_record_values, || self.process(&payload));
        }
        match progress.wait(cutoff) {
            Some(ran) => ran,
            None => match progress.close() {
                AtCutoff::Finished(ran) => ran,
                AtCutoff::Unfinished(open) => Ok(self.answer_late(&payload, open)),
            },
        }
    }

    /// Runs a payload, leaving the result in `progress`.
    fn run(&self, payload: &[u8], progress: &Progress, context: &Context) {
        let result = parse_event(payload)
            .and_then(|event| self.run_event(&event, payload.len(), progress, context));
        if let Err(invalid) = result {
            progress.finish(Ok(Err(invalid)));
        }
    }

    /// Answers every record into `progress`, stopping if the watcher closes it.
    fn run_event(
        &self,
        event: &Event<'_>,
        bytes_in: usize,
        progress: &Progress,
        context: &Context,
    ) -> Result<(), InvalidEvent> {
        if !progress.open(self.open(event, bytes_in)?) {
            return Ok(());
        }
        let mut held = Vec::new();
        for source in &event.records {
            if !self.answer(event, source, progress, &mut held) {
                return Ok(());
            }
        }
        if let Some(reingest) = &self.reingest {
            settle_held(
                &**reingest,
                event,
                held,
                progress,
                context,
                self.log_record_values,
            );
        }
        progress.complete(|open| self.close(open, event));
        Ok(())
    }

    /// Closes the response and tells what happened.
    fn close(&self, open: Open, event: &Event<'_>) -> Processed {
        let Open {
            writer,
            mut summary,
            started,
            ..
        } = open;
        // Held answers never put back count already; these are the records the limit failed.
        summary.overflowed += writer.overflowed;
        if summary.overflowed > 0 {
            warn!(
                records = summary.overflowed,
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
            abandoned: false,
        }
    }

    /// The watcher's response at the deadline: what the runner wrote, then
    /// `ProcessingFailed` for every record it did not reach.
    fn answer_late(&self, payload: &[u8], open: Option<Open>) -> Result<Processed, InvalidEvent> {
        let event = parse_event(payload)?;
        let mut open = match open {
            Some(open) => open,
            None => self.open(&event, payload.len())?,
        };
        let late = event.records.get(open.answered..).unwrap_or_default();
        for source in late {
            warn!(record_id = %source.record_id, step = "deadline", reason = "deadline", "record failed");
            open.writer.write(
                &source.record_id,
                Outcome::ProcessingFailed,
                Data::Empty,
                &BTreeMap::new(),
            );
        }
        open.summary.failed += late.len();
        open.summary.late = late.len();
        warn!(
            records = late.len(),
            "records were not processed before the deadline and were returned ProcessingFailed (reason: deadline); \
             Firehose keeps their original bytes under processing-failed/ (raise the function's timeout or lower the \
             Lambda buffer size hint)"
        );
        let mut processed = self.close(open, &event);
        processed.abandoned = true;
        Ok(processed)
    }

    /// A response begun for the event, nothing answered yet.
    fn open(&self, event: &Event<'_>, bytes_in: usize) -> Result<Open, InvalidEvent> {
        Ok(Open {
            writer: self.writer(event, bytes_in)?,
            summary: Summary {
                records: event.records.len(),
                bytes_in,
                ..Summary::default()
            },
            answered: 0,
            started: Instant::now(),
        })
    }

    /// A response writer with room for an answer to every record: within the
    /// configured limit when the minimal answers fit it, else within Lambda's cap.
    fn writer(&self, event: &Event<'_>, bytes_in: usize) -> Result<ResponseWriter, InvalidEvent> {
        let ids = event.records.iter().map(|r| r.record_id.as_ref());
        // Room for twice the event (within the limit): a line parser's JSON is
        // larger than its lines, and a buffer grown midway is copied, both
        // copies resident at once. Room never written costs no memory.
        let mut writer = ResponseWriter::new(ids, self.response_limit, 2 * bytes_in);
        if writer.reserved > MAX_RESPONSE_BYTES {
            return Err(InvalidEvent {
                reason: format!(
                    "its {} records need {} bytes of answers at the least, more than Lambda's {MAX_RESPONSE_BYTES}-byte response cap",
                    event.records.len(),
                    writer.reserved
                ),
            });
        }
        if writer.reserved > self.response_limit {
            error!(
                needed = writer.reserved,
                limit = self.response_limit,
                cap = MAX_RESPONSE_BYTES,
                "the minimal answers to this event's records alone need more than FIREHOSE_RESPONSE_LIMIT_BYTES; \
                 this response is kept under Lambda's cap instead (lower the Lambda buffer size hint)"
            );
            writer.widen_to(MAX_RESPONSE_BYTES);
        }
        Ok(writer)
    }

    /// Answers one record, running its steps outside the lock on the
    /// response; false when the watcher has closed the response.
    fn answer<'e>(
        &self,
        event: &'e Event<'e>,
        source: &'e EventRecord<'e>,
        progress: &Progress,
        held: &mut Vec<(Held, Overflowed<'e>)>,
    ) -> bool {
        let id = source.record_id.as_ref();
        let no_keys = BTreeMap::new();
        let write = |outcome, data, keys| {
            progress
                .with_open(|open| open.write(id, outcome, data, keys))
                .is_some()
        };
        let decoded = match codec::decode(&source.data) {
            Ok(decoded) => decoded,
            Err(e) => {
                // Nothing decodable to echo: Firehose keeps the original under processing-failed/.
                warn!(record_id = id, step = "decode", reason = %e, "record failed");
                return write(Outcome::ProcessingFailed, Data::Empty, &no_keys);
            }
        };
        let canonical = decoded.canonical;
        let mut record = Record::new(event, source, decoded.bytes);
        match run_steps(&self.steps, &mut record, self.log_record_values) {
            Ok(Steps::Kept) => {}
            Ok(Steps::Dropped { step }) => {
                // Off by default (one line a record would swamp the logs); `firehose-local run --trace` turns it on.
                debug!(record_id = id, step, "record dropped");
                return write(Outcome::Dropped, Data::Empty, &no_keys);
            }
            Err(failure) => {
                // Reasons may quote a value of any size (a validator's message does).
                let reason = text::shorten(&failure.reason, MAX_REASON_CHARS);
                warn!(record_id = id, step = failure.step, reason = %reason, "record failed");
                let original = record.into_original();
                return write(
                    Outcome::ProcessingFailed,
                    original_data(canonical, &source.data, &original),
                    &no_keys,
                );
            }
        }
        // Kept only when it may be re-ingested: the output replaces it otherwise.
        let original = self.reingest.as_ref().map(|_| record.original().to_vec());
        let (output, keys) = record.finish();
        let data = match &output {
            Output::Unchanged(original) => original_data(canonical, &source.data, original),
            Output::Changed(bytes) => Data::Bytes(bytes),
        };
        let written = progress.with_open(|open| match original {
            Some(original) if !open.writer.fits(Outcome::Ok, &data, &keys) => {
                Some((open.write_held(id), Overflowed { source, original }))
            }
            _ => {
                open.write(id, Outcome::Ok, data, &keys);
                None
            }
        });
        match written {
            Some(Some(hold)) => held.push(hold),
            Some(None) => {}
            None => return false,
        }
        true
    }
}

/// Settles the answers held for re-ingestion: `Dropped` for each record the
/// hook confirms it put back, matched by record id; `ProcessingFailed` (as
/// they were written) for the rest, whatever the hook returned or however it
/// panicked. The hook runs outside the lock, so the deadline can still close
/// the response meanwhile.
fn settle_held(
    reingest: &dyn Reingest,
    event: &Event<'_>,
    held: Vec<(Held, Overflowed<'_>)>,
    progress: &Progress,
    context: &Context,
    with_values: bool,
) {
    if held.is_empty() {
        return;
    }
    let (answers, overflowed): (Vec<Held>, Vec<Overflowed<'_>>) = held.into_iter().unzip();
    // A record id may come twice in an event: each confirmation settles one answer.
    let mut results: HashMap<String, VecDeque<Result<(), String>>> = HashMap::new();
    match panic::catch(with_values, || {
        reingest.reingest(event, &overflowed, context)
    }) {
        Ok(reingested) => {
            for r in reingested {
                results.entry(r.record_id).or_default().push_back(r.result);
            }
        }
        Err(panicked) => warn!(
            records = overflowed.len(),
            step = "reingest",
            reason = %text::shorten(&panicked, MAX_REASON_CHARS),
            "re-ingestion panicked; its records are returned ProcessingFailed (some may have been put back too)"
        ),
    }
    progress.with_open(|open| {
        for (answer, record) in answers.into_iter().zip(&overflowed) {
            let id = record.source.record_id.as_ref();
            match results.get_mut(id).and_then(VecDeque::pop_front) {
                Some(Ok(())) => open.settle_dropped(answer),
                Some(Err(reason)) => {
                    let reason = text::shorten(&reason, MAX_REASON_CHARS);
                    warn!(record_id = id, step = "reingest", reason = %reason, "record failed");
                }
                None => warn!(
                    record_id = id,
                    step = "reingest",
                    reason = "re-ingestion gave no result for it",
                    "record failed"
                ),
            }
        }
    });
}

/// The result of a run that no watcher closed.
fn into_processed(ran: Option<Ran>) -> Result<Processed, InvalidEvent> {
    match ran {
        Some(Ok(result)) => result,
        // Only `process_by` catches panics; elsewhere they unwind to the caller.
        Some(Err(panicked)) => panic!("{panicked}"),
        None => unreachable!("a run without a watcher always finishes"),
    }
}

/// Why a record failed: the step, and its reason.
struct Failure<'s> {
    step: &'s str,
    reason: String,
}

/// How a record came through its steps, when none failed it.
enum Steps<'s> {
    Kept,
    /// `step` dropped it (for a split record: dropped its last item).
    Dropped {
        step: &'s str,
    },
}

/// Runs the steps on a record, catching a panic as a failure. When a step
/// splits the record, the steps after it run on each item instead.
fn run_steps<'s>(
    steps: &'s [Box<dyn Transform>],
    record: &mut Record<'_>,
    with_values: bool,
) -> Result<Steps<'s>, Failure<'s>> {
    for (i, step) in steps.iter().enumerate() {
        let reason = match panic::catch(with_values, || step.apply(record)) {
            Ok(Ok(Verdict::Keep)) => match record.take_split() {
                Some(split) => {
                    return run_split(step.name(), &steps[i + 1..], record, split, with_values);
                }
                None => continue,
            },
            Ok(Ok(Verdict::Drop)) => return Ok(Steps::Dropped { step: step.name() }),
            Ok(Err(e)) => e.reason(with_values),
            Err(panicked) => panicked,
        };
        return Err(Failure {
            step: step.name(),
            reason,
        });
    }
    Ok(Steps::Kept)
}

/// Runs the remaining steps on each item of a split record and joins what they
/// kept into the record. One failing item fails the record, so nothing is lost;
/// the items must agree on partition keys, as one record lands under one prefix.
fn run_split<'s>(
    splitter: &'s str,
    steps: &'s [Box<dyn Transform>],
    record: &mut Record<'_>,
    split: Split<'_>,
    with_values: bool,
) -> Result<Steps<'s>, Failure<'s>> {
    let total = split.parts.len();
    let mut dropped_by = splitter;
    let mut joined = Vec::new();
    let mut keys: Option<(usize, BTreeMap<String, String>)> = None;
    for (n, mut part) in split.parts.into_iter().enumerate() {
        let item = || format!("{} {} of {total}", split.item, n + 1);
        match run_steps(steps, &mut part, with_values) {
            Ok(Steps::Kept) => {}
            Ok(Steps::Dropped { step }) => {
                dropped_by = step;
                continue;
            }
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
                // The keys' values are the record's; their names are the program's.
                let (part, first_part) = if with_values {
                    (format!("{part_keys:?}"), format!("{first_keys:?}"))
                } else {
                    (key_names(&part_keys), key_names(first_keys))
                };
                return Err(Failure {
                    step: splitter,
                    reason: format!(
                        "{} has partition keys {part} but {} {} of {total} has {first_part}; \
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
        return Ok(Steps::Dropped { step: dropped_by });
    };
    record.set_bytes(joined);
    record.set_partition_keys(keys);
    Ok(Steps::Kept)
}

/// Partition keys by name, their values left out: `{customer, year} (values not logged)`.
fn key_names(keys: &BTreeMap<String, String>) -> String {
    let names: Vec<&str> = keys.keys().map(String::as_str).collect();
    format!("{{{}}} (values not logged)", names.join(", "))
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
    json_read::from_bytes(payload).map_err(|_| {
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

    #[test]
    fn split_items_inherit_what_was_set_before_the_split() {
        let pipeline = Pipeline::new()
            .then(transform_fn("before", |r| {
                r.set_partition_key("source", "s");
                r.set_csv_columns(["n"].map(String::from).into());
                Ok(Verdict::Keep)
            }))
            .then(transform_fn("split", |r| {
                let items: Vec<Vec<u8>> = r.text()?.split(',').map(|i| i.into()).collect();
                r.split("item", items);
                Ok(Verdict::Keep)
            }))
            .then(transform_fn("per-item", |r| {
                let n: i64 = r.text()?.parse().map_err(|_| "not a number")?;
                r.set_json(json!({"n": n * 10}));
                r.set_partition_key("parity", if n % 2 == 0 { "even" } else { "odd" });
                Ok(Verdict::Keep)
            }));
        let (response, _) = run(&pipeline, &event(&[("1", "MSwz")])); // 1,3
        let answer = &response.records[0];
        assert_eq!(answer.result, Outcome::Ok);
        // Each item is one CSV row, as the record would have been.
        assert_eq!(answer.data, "MTAKMzAK"); // 10\n30\n
        let keys = &answer.metadata.as_ref().unwrap().partition_keys;
        assert_eq!(
            keys["source"], "s",
            "the record's own key survives the split"
        );
        assert_eq!(keys["parity"], "odd");
    }

    /// A re-ingestion hook that answers with `say` on the records it is given.
    struct Hook<F>(F);

    impl<F> Reingest for Hook<F>
    where
        F: Fn(&[Overflowed<'_>]) -> Vec<Reingested> + Send + Sync,
    {
        fn reingest(
            &self,
            _: &Event<'_>,
            records: &[Overflowed<'_>],
            _: &Context,
        ) -> Vec<Reingested> {
            (self.0)(records)
        }
    }

    fn hook<F>(say: F) -> Hook<F>
    where
        F: Fn(&[Overflowed<'_>]) -> Vec<Reingested> + Send + Sync,
    {
        Hook(say)
    }

    fn confirmed(record_id: &str) -> Reingested {
        Reingested {
            record_id: record_id.to_owned(),
            result: Ok(()),
        }
    }

    fn refused(record_id: &str) -> Reingested {
        Reingested {
            record_id: record_id.to_owned(),
            result: Err("refused".to_owned()),
        }
    }

    /// Each record grows to 400 bytes; the limit holds about two.
    fn growing(reingest: impl Reingest + 'static) -> Pipeline {
        let grow = transform_fn("grow", |r| {
            r.set_bytes(vec![b'x'; 400]);
            Ok(Verdict::Keep)
        });
        Pipeline::new()
            .then(grow)
            .with_response_limit(1_500)
            .with_reingest(reingest)
    }

    /// ok1, ok2, ok3, no4, ok5, ok6: the first two fit, the rest are held.
    const HELD_EVENT: [(&str, &str); 6] = [
        ("1", "b2sx"),
        ("2", "b2sy"),
        ("3", "b2sz"),
        ("4", "bm80"),
        ("5", "b2s1"),
        ("6", "b2s2"),
    ];

    fn outcomes(pipeline: &Pipeline) -> (Vec<Outcome>, Summary) {
        let (response, summary) = run(pipeline, &event(&HELD_EVENT));
        let results = response.records.iter().map(|r| r.result).collect();
        assert_eq!(
            summary.ok + summary.dropped + summary.failed,
            summary.records,
            "the summary adds up"
        );
        (results, summary)
    }

    #[test]
    fn records_that_do_not_fit_are_reingested_or_failed() {
        use Outcome::{Dropped, Ok, ProcessingFailed as Failed};
        // Puts back records whose original text is `ok…`, refuses the others.
        let picky = hook(|records| {
            let answer = |r: &Overflowed<'_>| match r.original.starts_with(b"ok") {
                true => confirmed(&r.source.record_id),
                false => refused(&r.source.record_id),
            };
            records.iter().map(answer).collect()
        });
        let (results, summary) = outcomes(&growing(picky));
        assert_eq!(results, [Ok, Ok, Dropped, Failed, Dropped, Dropped]);
        let counts = (
            summary.ok,
            summary.dropped,
            summary.failed,
            summary.overflowed,
        );
        assert_eq!(counts, (2, 3, 1, 1));
    }

    #[test]
    fn only_confirmed_records_are_dropped_matched_by_record_id() {
        use Outcome::{Dropped, Ok, ProcessingFailed as Failed};
        // Confirms the records in reverse order, leaves one out, and confirms one it was never given.
        let lying = hook(|records| {
            let mut told: Vec<Reingested> = records[1..]
                .iter()
                .rev()
                .map(|r| confirmed(&r.source.record_id))
                .collect();
            told.push(confirmed("1"));
            told.push(confirmed("never-held"));
            told
        });
        let (results, summary) = outcomes(&growing(lying));
        // 3 was left out; 1 was answered Ok, its confirmation settles nothing.
        assert_eq!(results, [Ok, Ok, Failed, Dropped, Dropped, Dropped]);
        assert_eq!((summary.dropped, summary.failed), (3, 1));
    }

    #[test]
    fn a_panicking_hook_fails_its_records_and_no_more() {
        use Outcome::{Ok, ProcessingFailed as Failed};
        // Panics, as a hook might after putting some records back.
        let panicking = hook(|_| panic!("halfway through"));
        let (results, summary) = outcomes(&growing(panicking));
        assert_eq!(results, [Ok, Ok, Failed, Failed, Failed, Failed]);
        assert_eq!((summary.failed, summary.overflowed), (4, 4));
    }

    fn until(cutoff: Instant) -> Context {
        Context {
            cutoff: Some(cutoff),
            trace_id: None,
        }
    }

    /// Sleeps on a record whose text is `slow`.
    fn sleepy() -> Arc<Pipeline> {
        Arc::new(Pipeline::new().then(transform_fn("sleepy", |r| {
            if r.text()? == "slow" {
                thread::sleep(std::time::Duration::from_millis(400));
            }
            Ok(Verdict::Keep)
        })))
    }

    #[test]
    fn records_not_reached_by_the_cutoff_are_failed_and_the_response_goes_out() {
        // a, slow, c
        let payload = Arc::new(event(&[("1", "YQ=="), ("2", "c2xvdw=="), ("3", "Yw==")]));
        let cutoff = Instant::now() + std::time::Duration::from_millis(100);
        let processed = sleepy()
            .process_by(payload, until(cutoff))
            .unwrap()
            .unwrap();
        assert!(
            Instant::now() < cutoff + std::time::Duration::from_millis(200),
            "answered at the cutoff"
        );
        assert!(processed.abandoned);
        let response = Response::from_slice(&processed.response).unwrap();
        let results: Vec<_> = response
            .records
            .iter()
            .map(|r| (r.record_id.as_str(), r.result))
            .collect();
        assert_eq!(
            results,
            [
                ("1", Outcome::Ok),
                ("2", Outcome::ProcessingFailed),
                ("3", Outcome::ProcessingFailed)
            ]
        );
        let s = &processed.summary;
        assert_eq!((s.ok, s.failed, s.late, s.records), (1, 2, 2, 3));
    }

    #[test]
    fn a_batch_done_before_the_cutoff_is_answered_whole() {
        let payload = Arc::new(event(&[("1", "YQ=="), ("2", "c2xvdw==")]));
        let cutoff = Instant::now() + std::time::Duration::from_secs(30);
        let processed = sleepy()
            .process_by(payload, until(cutoff))
            .unwrap()
            .unwrap();
        assert!(!processed.abandoned);
        assert_eq!((processed.summary.ok, processed.summary.late), (2, 0));
        let invalid = sleepy()
            .process_by(Arc::new(b"[]".to_vec()), until(cutoff))
            .unwrap();
        assert!(invalid.is_err());
        // A cutoff already past: nothing is run, everything is answered.
        let payload = Arc::new(event(&[("1", "YQ==")]));
        let processed = sleepy()
            .process_by(payload, until(Instant::now()))
            .unwrap()
            .unwrap();
        let response = Response::from_slice(&processed.response).unwrap();
        assert_eq!(response.records.len(), 1);
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
        let cases: [(&[u8], &str); 6] = [
            (br#"{"foo":1}"#, "missing field `records`"),
            (
                b"{\"records\":[{\"recordId\":\"\xff\"}]}",
                "invalid unicode code point at line 1 column 26 (at records[0].recordId)",
            ),
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
    fn minimal_answers_over_the_limit_are_held_under_the_cap() {
        let records = [("a", "QQ=="), ("b", "Qg==")];
        let (response, summary) = run(&Pipeline::new().with_response_limit(50), &event(&records));
        assert!(response.records.iter().all(|r| r.result == Outcome::Ok));
        assert_eq!(summary.overflowed, 0);
        // Ids so long that their minimal answers alone pass 6 MiB: no response can hold them.
        let id = "i".repeat(100_000);
        let records: Vec<(&str, &str)> = (0..64).map(|_| (id.as_str(), "")).collect();
        let err = Pipeline::new().process(&event(&records)).unwrap_err();
        assert!(
            err.to_string().contains("6291456-byte response cap"),
            "{err}"
        );
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
