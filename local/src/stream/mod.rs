//! The delivery stream itself, on a simulated clock: records arrive from the
//! producers, wait in the Lambda processor's buffers (one per shard), go to
//! the function in batches cut by its size and interval hints, and what comes
//! back waits in the S3 buffers until an object is due. At the end of the
//! input every buffer is flushed when its interval would flush it, so a short
//! run shows everything that would land.

pub mod built_in;
pub mod event;
pub mod invoke;
#[cfg(feature = "kinesis")]
pub mod kinesis;
pub mod partition;
pub mod producer;
pub mod replay;
pub mod summary;
pub mod worker;

use std::collections::{BTreeMap, VecDeque};

use event::{KinesisMetadata, Record};
use invoke::{Fate, Invoker};
use producer::{Attempt, Entry, InputError, Put};
use summary::{Summary, keep};
use worker::{Done, EventSource, Job, Worker};

use crate::sink::error_record::{self, Failure, codes};
use crate::sink::objects::{Item, Objects, Target, Written};
use crate::sink::prefix::PartitionKeys;
use crate::sink::store::StoreError;
use crate::template::{DeliveryStream, Partitioning, REGION, Source};

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invocation(String),
}

/// How a run is driven.
pub struct Options {
    /// When the first record arrives (epoch milliseconds).
    pub start_ms: i64,
    /// `start_ms` was not asked for: a first record that says when it arrived starts the clock.
    pub first_arrival_starts: bool,
    /// Between one record's arrival and the next's.
    pub spacing_ms: i64,
    pub seed: u64,
    /// Record where every record ended.
    pub trace: bool,
}

/// Batches handed to the worker and not yet taken back: one per stage (event, invocation, judging).
const IN_FLIGHT: usize = 3;

/// The longest Firehose waits between attempts of a failing invocation (on the simulated clock).
const MAX_BACKOFF_MS: i64 = 60_000;

#[derive(Default)]
struct Batch {
    records: Vec<Record>,
    bytes: u64,
    opened_ms: i64,
}

struct Run<'s> {
    stream: &'s DeliveryStream,
    objects: Objects,
    worker: Option<Worker>,
    /// When each batch with the function was flushed, oldest first: at most
    /// [`IN_FLIGHT`], one in each stage of the worker's pipeline.
    pending: VecDeque<i64>,
    batches: BTreeMap<u32, Batch>,
    clock: i64,
    rng: fastrand::Rng,
    stem: u64,
    summary: Summary,
    trace: Option<&'s mut dyn FnMut(String)>,
}

/// Runs `stream` over the records `inputs` yield; `trace` hears where each record ended.
pub fn run<'s>(
    stream: &'s DeliveryStream,
    invoker: Option<Invoker>,
    objects: Objects,
    inputs: impl Iterator<Item = Result<Attempt, InputError>>,
    options: &Options,
    trace: Option<&'s mut dyn FnMut(String)>,
) -> Result<Summary, RunError> {
    let mut rng = fastrand::Rng::with_seed(options.seed);
    let schema = objects.conversion().map(|c| c.table.describe());
    let mut run = Run {
        stream,
        objects,
        worker: invoker
            .zip(stream.lambda.as_ref())
            .map(|(invoker, lambda)| {
                let source_stream_arn = match &stream.source {
                    Source::Kinesis { stream_arn, .. } => Some(stream_arn.clone()),
                    Source::DirectPut => None,
                };
                Worker::start(
                    invoker,
                    EventSource {
                        stream_arn: stream.arn.clone(),
                        source_stream_arn,
                        region: REGION.to_owned(),
                        retries: lambda.retries,
                    },
                )
            }),
        pending: VecDeque::new(),
        batches: BTreeMap::new(),
        clock: options.start_ms,
        stem: rng.u64(..),
        rng,
        summary: Summary {
            stream: stream.name.clone(),
            started_ms: options.start_ms,
            schema,
            ..Summary::default()
        },
        trace: if options.trace { trace } else { None },
    };
    let mut next_arrival = options.start_ms;
    for attempt in inputs {
        let index = run.summary.records_in;
        let put = match attempt {
            Ok(Attempt::Put(put)) => put,
            Ok(Attempt::Refused(why)) => {
                run.refuse(index, why);
                continue;
            }
            Err(InputError::Malformed {
                source_name,
                line,
                message,
            }) => {
                run.refuse(index, format!("{source_name}:{line}: {message}"));
                continue;
            }
            Err(error) => {
                // The input cannot be read on: what was read still lands, and the summary says where it stopped.
                run.summary.stopped = Some(error.to_string());
                break;
            }
        };
        if run.summary.records_in == 0
            && options.first_arrival_starts
            && let Some(first) = put.arrival_ms
        {
            run.clock = first;
            run.summary.started_ms = first;
            next_arrival = first;
        }
        run.summary.records_in += 1;
        let arrival_ms = put.arrival_ms.unwrap_or(next_arrival);
        next_arrival = next_arrival.saturating_add(options.spacing_ms);
        run.advance_to(arrival_ms)?;
        run.summary.bytes_in += put.data.len() as u64;
        let entry = put.entry;
        let record = run.record(index, put, arrival_ms);
        match entry {
            Entry::Source => run.arrive(record)?,
            Entry::Conversion => run.straight_to_conversion(record)?,
        }
    }
    run.advance_to(i64::MAX)?;
    Ok(run.summary)
}

impl Run<'_> {
    fn tell(&mut self, line: String) {
        if let Some(trace) = self.trace.as_mut() {
            trace(line);
        }
    }

    fn refuse(&mut self, index: u64, why: String) {
        self.summary.records_in += 1;
        self.summary.refused += 1;
        self.tell(format!("#{index}: refused: {why}"));
        keep(&mut self.summary.refusals, why);
    }

    /// The record a put becomes: for a Kinesis source, in the shard its partition
    /// key hashes to (or the one a real stream had it in), with its sequence number.
    fn record(&mut self, index: u64, put: Put, arrival_ms: i64) -> Record {
        let (shard, sequence) = match put.kinesis {
            Some(origin) => (Some(origin.shard), origin.sequence_number),
            None => (None, event::sequence_number(self.stem, index)),
        };
        let kinesis = match &self.stream.source {
            Source::Kinesis { shards, .. } => {
                let partition_key = put
                    .partition_key
                    .unwrap_or_else(|| format!("{:08x}", self.rng.u32(..)));
                Some(KinesisMetadata {
                    shard: shard.unwrap_or_else(|| event::shard_of(&partition_key, *shards)),
                    partition_key,
                })
            }
            Source::DirectPut => None,
        };
        Record {
            index,
            record_id: event::record_id(&sequence, kinesis.as_ref().map(|k| k.shard), 0),
            sequence_number: sequence,
            data: put.data,
            original: None,
            subsequence: 0,
            arrival_ms,
            kinesis,
        }
    }

    /// A record enters the stream at `self.clock`: backed up as it is, then
    /// through the built-in processors, to the function or straight on.
    fn arrive(&mut self, mut record: Record) -> Result<(), RunError> {
        if self.stream.backup.is_some() {
            self.settle()?;
            let written = self.objects.add(
                self.clock,
                Item {
                    target: Target::Backup,
                    keys: &PartitionKeys::new(),
                    bytes: &record.data,
                    arrival_ms: record.arrival_ms,
                    trace: None,
                },
            )?;
            self.written(written);
        }
        if self.stream.before_lambda.is_empty() {
            return self.process(record);
        }
        let mut parts = match self.stream.before_lambda.apply(&record.data) {
            Ok(parts) => parts,
            Err(refusal) => {
                let failure = Failure {
                    raw: &record.data,
                    code: refusal.code,
                    message: &refusal.message,
                    attempts: 1,
                    arrival_ms: record.arrival_ms,
                    ended_ms: self.clock,
                    lambda_arn: None,
                };
                return self.fail(&record, refusal.error_type, &failure, self.clock);
            }
        };
        if parts.len() == 1 {
            let data = parts.remove(0);
            // The record keeps what it arrived as, for error objects.
            if data != record.data {
                record.original = Some(std::mem::replace(&mut record.data, data));
            }
            return self.process(record);
        }
        self.summary.deaggregated += parts.len() as u64 - 1;
        self.tell(format!(
            "#{} {}: de-aggregated into {} records",
            record.index,
            record.record_id,
            parts.len()
        ));
        for (subsequence, data) in (0u32..).zip(parts) {
            // Each part keeps its own bytes for error objects: with the original, a replay would put
            // it in once per part.
            self.process(Record {
                index: record.index,
                record_id: event::record_id(
                    &record.sequence_number,
                    record.kinesis.as_ref().map(|k| k.shard),
                    subsequence,
                ),
                sequence_number: record.sequence_number.clone(),
                data,
                original: None,
                subsequence,
                arrival_ms: record.arrival_ms,
                kinesis: record.kinesis.clone(),
            })?;
        }
        Ok(())
    }

    /// A record the function has already made (a `format-conversion-failed`
    /// one replayed) straight to partitioning and conversion; its Lambda
    /// partition keys are not in the error object, as in AWS.
    fn straight_to_conversion(&mut self, record: Record) -> Result<(), RunError> {
        self.summary.replayed_to_conversion += 1;
        self.tell(format!(
            "#{} {}: replayed straight to conversion",
            record.index, record.record_id
        ));
        self.deliver(&record, &record.data, &BTreeMap::new(), self.clock)
    }

    /// A record, after the built-in processors, into its shard's batch for the function (or delivered, with none).
    fn process(&mut self, record: Record) -> Result<(), RunError> {
        let Some(lambda) = &self.stream.lambda else {
            return self.deliver(&record, &record.data, &BTreeMap::new(), self.clock);
        };
        let shard = record.kinesis.as_ref().map_or(0, |k| k.shard);
        let batch = self.batches.entry(shard).or_insert_with(|| Batch {
            opened_ms: self.clock,
            ..Batch::default()
        });
        batch.bytes += record.data.len() as u64;
        batch.records.push(record);
        if batch.bytes >= lambda.buffering.size_bytes {
            self.invoke(shard)?;
        }
        Ok(())
    }

    /// Runs the clock to `until`, flushing every buffer that falls due on the way, in time order.
    fn advance_to(&mut self, until: i64) -> Result<(), RunError> {
        loop {
            let interval = self
                .stream
                .lambda
                .as_ref()
                .map_or(0, |l| l.buffering.interval_ms);
            let batch_due = self
                .batches
                .iter()
                .map(|(shard, b)| (b.opened_ms + interval, *shard))
                .min();
            let object_due = self.objects.next_deadline();
            let next = match (batch_due, object_due) {
                (Some((b, _)), Some(o)) => b.min(o),
                (Some((b, _)), None) => b,
                (None, Some(o)) => o,
                (None, None) => i64::MAX,
            };
            // What the function answers must be in the S3 buffers before anything falls due after it.
            if !self.pending.is_empty() && (next <= until || until == i64::MAX) {
                self.settle()?;
                continue;
            }
            if next > until || next == i64::MAX {
                break;
            }
            self.clock = self.clock.max(next);
            match batch_due {
                Some((due, shard)) if due <= next => self.invoke(shard)?,
                _ => {
                    let written = self.objects.flush_due(self.clock)?;
                    written.into_iter().for_each(|w| self.written(Some(w)));
                }
            }
        }
        if until != i64::MAX {
            self.clock = self.clock.max(until);
        }
        Ok(())
    }

    /// Invokes the function with the batch of `shard`, and sends on what comes back.
    fn invoke(&mut self, shard: u32) -> Result<(), RunError> {
        let (Some(batch), Some(worker)) = (self.batches.remove(&shard), &self.worker) else {
            return Ok(());
        };
        let mut uuid_bytes = [0u8; 16];
        uuid_bytes.iter_mut().for_each(|b| *b = self.rng.u8(..));
        let invocation_id = uuid::Builder::from_random_bytes(uuid_bytes)
            .into_uuid()
            .hyphenated()
            .to_string();
        worker
            .submit(Job {
                invocation_id,
                records: batch.records,
            })
            .map_err(RunError::Invocation)?;
        self.pending.push_back(self.clock);
        // The oldest batch is taken in while the worker's stages work on the others.
        if self.pending.len() > IN_FLIGHT {
            self.settle_oldest()?;
        }
        Ok(())
    }

    /// Takes in what the function made of every batch in flight.
    fn settle(&mut self) -> Result<(), RunError> {
        while !self.pending.is_empty() {
            self.settle_oldest()?;
        }
        Ok(())
    }

    fn settle_oldest(&mut self) -> Result<(), RunError> {
        let (Some(flushed_ms), Some(worker), Some(lambda)) =
            (self.pending.pop_front(), &self.worker, &self.stream.lambda)
        else {
            return Ok(());
        };
        let Done { records, outcome } = worker.wait().map_err(RunError::Invocation)?;
        self.summary.invocations += u64::from(outcome.attempts);
        self.summary.cold_starts += u64::from(outcome.cold_starts);
        self.summary.retries += u64::from(outcome.attempts - 1);
        // Attempt n+1 starts 1 s × 2^(n-1) after attempt n failed, at most a minute apart; the
        // records go on once the last attempt ends, while the stream keeps buffering others.
        let waited: i64 = (1..outcome.attempts)
            .map(|n| (1000_i64 << (n - 1).min(20)).min(MAX_BACKOFF_MS))
            .sum();
        let at = flushed_ms.saturating_add(waited);
        for failure in outcome.failures {
            keep(&mut self.summary.invocation_failures, failure);
        }
        for finding in outcome.findings {
            keep(&mut self.summary.findings, finding);
        }
        for (record, fate) in records.iter().zip(outcome.fates) {
            match fate {
                Fate::Ok {
                    data,
                    partition_keys,
                } => self.deliver(record, &data, &partition_keys, at)?,
                Fate::Dropped => {
                    self.summary.dropped += 1;
                    let by = outcome.told.get(&record.record_id);
                    let by = by.map_or("dropped by the function", String::as_str);
                    self.tell(format!("#{} {}: {by}", record.index, record.record_id));
                }
                Fate::Failed { code, message } => {
                    if let Some(why) = outcome.told.get(&record.record_id) {
                        self.tell(format!("#{} {}: {why}", record.index, record.record_id));
                    }
                    let failure = Failure {
                        raw: record.raw(),
                        code,
                        message,
                        attempts: outcome.attempts,
                        arrival_ms: record.arrival_ms,
                        ended_ms: at,
                        lambda_arn: Some(&lambda.arn),
                    };
                    self.fail(record, "processing-failed", &failure, at)?;
                }
            }
        }
        Ok(())
    }

    /// An error object line for `record`, under `error_type`.
    fn fail(
        &mut self,
        record: &Record,
        error_type: &'static str,
        failure: &Failure<'_>,
        at: i64,
    ) -> Result<(), RunError> {
        let line = error_record::line(failure);
        self.fail_with(record, error_type, failure.code, &line, at)
    }

    /// A record to the error object of `error_type`, as `line`.
    fn fail_with(
        &mut self,
        record: &Record,
        error_type: &'static str,
        code: &'static str,
        line: &[u8],
        at: i64,
    ) -> Result<(), RunError> {
        *self.summary.errors.entry(code.to_owned()).or_default() += 1;
        let item = Item {
            target: Target::Error(error_type),
            keys: &PartitionKeys::new(),
            bytes: line,
            arrival_ms: record.arrival_ms,
            trace: self.trace.is_some().then_some((
                record.index,
                record.record_id.as_str(),
                Some(code),
            )),
        };
        let written = self.objects.add(at, item)?;
        self.written(written);
        Ok(())
    }

    /// A record's data to its S3 buffer: its partition's, with dynamic partitioning.
    fn deliver(
        &mut self,
        record: &Record,
        data: &[u8],
        lambda_keys: &BTreeMap<String, String>,
        at: i64,
    ) -> Result<(), RunError> {
        let keys = match &self.stream.partitioning {
            Some(partitioning) => {
                match self.partition_keys(partitioning, record, data, lambda_keys) {
                    Ok(keys) => keys,
                    Err(message) => {
                        let failure = Failure {
                            raw: record.raw(),
                            code: codes::PARTITIONING_FAILED,
                            message: &message,
                            attempts: 1,
                            arrival_ms: record.arrival_ms,
                            ended_ms: at,
                            lambda_arn: None,
                        };
                        return self.fail(record, "partitioning-failed", &failure, at);
                    }
                }
            }
            None => PartitionKeys::new(),
        };
        let rows = match self.objects.conversion().map(|c| (c.rows(data), c)) {
            None => None,
            Some((Ok(rows), _)) => Some(rows),
            Some((Err(refused), conversion)) => {
                // What the converter read is what its error object keeps.
                let failure = Failure {
                    raw: data,
                    code: refused.code,
                    message: &refused.message,
                    attempts: 1,
                    arrival_ms: record.arrival_ms,
                    ended_ms: at,
                    lambda_arn: None,
                };
                let kinesis = record
                    .kinesis
                    .as_ref()
                    .map(|_| (record.sequence_number.as_str(), record.subsequence));
                let line = error_record::conversion_line(&failure, &conversion.table, kinesis);
                return self.fail_with(record, "format-conversion-failed", refused.code, &line, at);
            }
        };
        let bytes = match rows {
            Some(rows) => {
                rows.dropped
                    .into_iter()
                    .for_each(|key| self.summary.key_dropped(key));
                std::borrow::Cow::Owned(rows.lines)
            }
            None => std::borrow::Cow::Borrowed(data),
        };
        let item = Item {
            target: Target::Data,
            keys: &keys,
            bytes: &bytes,
            arrival_ms: record.arrival_ms,
            trace: self
                .trace
                .is_some()
                .then_some((record.index, record.record_id.as_str(), None)),
        };
        let written = self.objects.add(at, item)?;
        self.written(written);
        Ok(())
    }

    fn partition_keys(
        &self,
        partitioning: &Partitioning,
        record: &Record,
        data: &[u8],
        lambda_keys: &BTreeMap<String, String>,
    ) -> Result<PartitionKeys, String> {
        let from_query = match &partitioning.query {
            Some(query) => query.keys(data)?,
            None => BTreeMap::new(),
        };
        let destination = &self.stream.destination;
        let at = jiff::Timestamp::from_millisecond(record.arrival_ms)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(destination.time_zone.clone());
        partition::partition_keys(&destination.prefix, &from_query, lambda_keys, &at)
    }

    fn written(&mut self, written: Option<Written>) {
        let Some(object) = written else { return };
        self.summary.written(&object);
        if self.trace.is_some() {
            for placed in &object.placed {
                let what = match placed.code {
                    Some(code) => format!("{code}, in"),
                    None => "delivered to".to_owned(),
                };
                // A record in a Parquet object is its rows, from this one.
                let unit = if object.rows.is_some() { "row" } else { "line" };
                let line = format!(
                    "#{} {}: {what} s3://{}/{} {unit} {}",
                    placed.index, placed.record_id, object.bucket, object.key, placed.line
                );
                self.tell(line);
            }
        }
    }
}
