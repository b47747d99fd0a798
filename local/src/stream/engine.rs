//! The delivery stream's engine, the stages wired in the order a record flows
//! through them: [`Intake`] (records, built-in processors, backup) →
//! [`LambdaBuffers`] per shard → the [`Worker`] invoking the function → the
//! [`Router`] (partition keys, conversion, error objects) → the S3 buffers
//! and the store. It has no clock of its own: [`Engine::accept`] takes a
//! record, [`Engine::tick`] moves time on and flushes what falls due,
//! [`Engine::finish`] flushes everything. `run` and `replay` drive it from a
//! simulated clock, `serve` from the wall clock ([`super::live`]).

use super::event::Record;
use super::intake::{self, Intake};
use super::invoke::Invoker;
use super::lambda_buffers::LambdaBuffers;
use super::ledger::Ledger;
use super::producer::{Entry, Put};
use super::router::Router;
use super::summary::{Summary, keep};
use super::worker::{EventSource, Job, Settled, Worker};
use super::{Options, RunError};
use crate::convert::Conversion;
use crate::sink::error_record::Failure;
use crate::sink::objects::Objects;
use crate::template::{DeliveryStream, REGION, Source};

/// The function's side of the stream: its buffers and its invocations.
struct Lambda<'s> {
    buffers: LambdaBuffers,
    worker: Worker,
    /// The ARN its error objects name.
    arn: &'s str,
}

/// One delivery stream, running.
pub struct Engine<'s> {
    stream: &'s DeliveryStream,
    /// Where time is: nothing falls due before it.
    clock: i64,
    rng: fastrand::Rng,
    intake: Intake,
    /// None without a Lambda processor (or without an invoker for it): records skip the function.
    lambda: Option<Lambda<'s>>,
    router: Router<'s>,
    ledger: Ledger<'s>,
}

impl<'s> Engine<'s> {
    /// The stream, its clock at `options.start_ms`, its numbers and ids drawn
    /// from `options.seed`; `trace` hears where each record ends.
    pub fn new(
        stream: &'s DeliveryStream,
        invoker: Option<Invoker>,
        objects: Objects,
        options: &Options,
        trace: Option<&'s mut dyn FnMut(String)>,
    ) -> Self {
        let start_ms = options.start_ms;
        let mut rng = fastrand::Rng::with_seed(options.seed);
        let summary = Summary {
            stream: stream.name.clone(),
            started_ms: start_ms,
            schema: objects.conversion().map(Conversion::describe),
            ..Summary::default()
        };
        let lambda = invoker
            .zip(stream.lambda.as_ref())
            .map(|(invoker, lambda)| {
                let source_stream_arn = match &stream.source {
                    Source::Kinesis { stream_arn, .. } => Some(stream_arn.clone()),
                    Source::DirectPut => None,
                };
                let source = EventSource {
                    stream_arn: stream.arn.clone(),
                    source_stream_arn,
                    region: REGION.to_owned(),
                    retries: lambda.retries,
                };
                Lambda {
                    buffers: LambdaBuffers::new(lambda.buffering),
                    worker: Worker::start(invoker, source),
                    arn: &lambda.arn,
                }
            });
        Engine {
            stream,
            clock: start_ms,
            intake: Intake::new(stream.source.clone(), &mut rng),
            rng,
            lambda,
            router: Router::new(stream, objects, options.active_partitions),
            ledger: Ledger::new(summary, trace),
        }
    }

    /// Starts the clock at `start_ms` instead, before any record.
    pub fn start_at(&mut self, start_ms: i64) {
        if self.ledger.summary.records_in == 0 {
            self.clock = start_ms;
            self.ledger.summary.started_ms = start_ms;
        }
    }

    /// How many records have been put, refused ones included.
    pub fn records_in(&self) -> u64 {
        self.ledger.summary.records_in
    }

    /// A put refused before it entered the stream, and why.
    pub fn refuse(&mut self, why: String) {
        let index = self.ledger.summary.records_in;
        self.ledger.refuse(index, why);
    }

    /// The run was interrupted: no more input is read.
    pub fn interrupt(&mut self) {
        self.ledger.summary.interrupted = true;
    }

    /// The input cannot be read on, and why: the summary says where it stopped.
    pub fn stop(&mut self, why: String) {
        self.ledger.summary.stopped = Some(why);
    }

    /// A put that arrived at `arrival_ms` enters the stream now (at the clock).
    pub fn accept(&mut self, put: Put, arrival_ms: i64) -> Result<(), RunError> {
        let summary = &mut self.ledger.summary;
        let index = summary.records_in;
        summary.records_in += 1;
        summary.bytes_in += put.data.len() as u64;
        let entry = put.entry;
        let record = self.intake.record(index, put, arrival_ms, &mut self.rng);
        match entry {
            Entry::Source => match intake::kpl_user_records(&record) {
                None => self.arrive(record),
                Some(users) => {
                    let summary = &mut self.ledger.summary;
                    summary.kpl_aggregates += 1;
                    summary.deaggregated += users.len() as u64 - 1;
                    self.ledger.tell(format!(
                        "#{} {}: a KPL aggregate of {} records, de-aggregated",
                        record.index,
                        record.record_id,
                        users.len()
                    ));
                    users.into_iter().try_for_each(|user| self.arrive(user))
                }
            },
            Entry::Conversion => {
                self.ledger.summary.replayed_to_conversion += 1;
                self.ledger.tell(format!(
                    "#{} {}: replayed straight to conversion",
                    record.index, record.record_id
                ));
                // The function has made it already; its Lambda partition keys are not kept, as in AWS.
                let no_keys = Default::default();
                let at = self.clock;
                Ok(self
                    .router
                    .deliver(&record, &record.data, &no_keys, at, &mut self.ledger)?)
            }
        }
    }

    /// A record at the source: backed up as it arrived, then through the built-in processors.
    fn arrive(&mut self, record: Record) -> Result<(), RunError> {
        if self.stream.backup.is_some() {
            self.router.backup(&record, self.clock, &mut self.ledger)?;
        }
        let processors = &self.stream.before_lambda;
        if processors.is_empty() {
            return self.process(record);
        }
        let parts = match processors.apply(&record.data) {
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
                let error_type = refusal.error_type;
                return Ok(self
                    .router
                    .fail(&record, error_type, &failure, &mut self.ledger)?);
            }
        };
        if parts.len() > 1 {
            self.ledger.summary.deaggregated += parts.len() as u64 - 1;
            self.ledger.tell(format!(
                "#{} {}: de-aggregated into {} records",
                record.index,
                record.record_id,
                parts.len()
            ));
        }
        for record in intake::records_of(record, parts) {
            self.process(record)?;
        }
        Ok(())
    }

    /// A record after the built-in processors: into its shard's buffer for the function, or on.
    fn process(&mut self, record: Record) -> Result<(), RunError> {
        let Some(lambda) = &mut self.lambda else {
            let no_keys = Default::default();
            let at = self.clock;
            return Ok(self.router.deliver(
                &record,
                &record.data,
                &no_keys,
                at,
                &mut self.ledger,
            )?);
        };
        for batch in lambda.buffers.add(record, self.clock) {
            self.invoke(batch)?;
        }
        Ok(())
    }

    /// Moves the clock to `now_ms`, flushing every buffer that falls due on the way, in time order.
    pub fn tick(&mut self, now_ms: i64) -> Result<(), RunError> {
        self.run_until(Some(now_ms))?;
        self.clock = self.clock.max(now_ms);
        Ok(())
    }

    /// Takes in the batches the function has answered, without waiting: a
    /// stream on the wall clock calls it between records.
    pub fn take_in_answered(&mut self) -> Result<(), RunError> {
        self.settle(false)
    }

    /// Flushes every buffer now, at the clock, as if each had filled: what
    /// `serve` does when asked to flush, and when it stops.
    pub fn flush_now(&mut self) -> Result<(), RunError> {
        let batches = self
            .lambda
            .as_mut()
            .map(|l| l.buffers.take_all())
            .unwrap_or_default();
        for batch in batches {
            self.invoke(batch)?;
        }
        self.settle(true)?;
        Ok(self.router.flush_all(&mut self.ledger)?)
    }

    /// Every record with a lower input index has landed: in an object, an
    /// error object or the undelivered folder, or dropped by the function.
    /// What `serve --state` may forget.
    pub fn landed_below(&self) -> u64 {
        let lambda = self.lambda.as_ref();
        [
            lambda.and_then(|l| l.buffers.oldest_index()),
            lambda.and_then(|l| l.worker.oldest_index()),
            self.router.oldest_index(),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.ledger.summary.records_in)
    }

    /// What the stream has counted so far.
    pub fn summary(&self) -> &Summary {
        &self.ledger.summary
    }

    /// Flushes every buffer when its interval would flush it, so that a short
    /// run shows everything that would land, and hands back the summary.
    pub fn finish(mut self) -> Result<Summary, RunError> {
        self.run_until(None)?;
        Ok(self.ledger.summary)
    }

    /// Flushes, in time order, every buffer due by `until` (every buffer, with none).
    fn run_until(&mut self, until: Option<i64>) -> Result<(), RunError> {
        loop {
            let batch_due = self.lambda.as_ref().and_then(|l| l.buffers.next_due());
            let object_due = self.router.next_deadline();
            let next = match (batch_due, object_due) {
                (Some((b, _)), Some(o)) => Some(b.min(o)),
                (Some((b, _)), None) => Some(b),
                (None, o) => o,
            };
            let due = next.filter(|next| until.is_none_or(|until| *next <= until));
            // What the function answers must be in the S3 buffers before anything falls due after it.
            if self.busy() && (due.is_some() || until.is_none()) {
                self.settle(true)?;
                continue;
            }
            let Some(next) = due else { break };
            self.clock = self.clock.max(next);
            match batch_due {
                Some((due, shard)) if due <= next => {
                    let batch = self.lambda.as_mut().and_then(|l| l.buffers.take(shard));
                    if let Some(batch) = batch {
                        self.invoke(batch)?;
                    }
                }
                _ => self.router.flush_due(self.clock, &mut self.ledger)?,
            }
        }
        Ok(())
    }

    /// Hands a batch to the function; takes in the oldest one in flight when the pipeline is full.
    fn invoke(&mut self, records: Vec<Record>) -> Result<(), RunError> {
        let Some(lambda) = &mut self.lambda else {
            return Ok(());
        };
        let mut uuid_bytes = [0u8; 16];
        uuid_bytes.iter_mut().for_each(|b| *b = self.rng.u8(..));
        let invocation_id = uuid::Builder::from_random_bytes(uuid_bytes)
            .into_uuid()
            .hyphenated()
            .to_string();
        let job = Job {
            invocation_id,
            records,
        };
        let settled = lambda
            .worker
            .submit(job, self.clock)
            .map_err(RunError::Invocation)?;
        let arn = lambda.arn;
        match settled {
            Some(settled) => self.take_in(settled, arn),
            None => Ok(()),
        }
    }

    /// Batches are with the function.
    fn busy(&self) -> bool {
        self.lambda.as_ref().is_some_and(|l| l.worker.busy())
    }

    /// Takes in what the function made of every batch in flight, waiting for
    /// each; or, without `wait`, of those it has answered.
    fn settle(&mut self, wait: bool) -> Result<(), RunError> {
        while let Some(lambda) = &mut self.lambda {
            let arn = lambda.arn;
            let settled = if wait {
                lambda.worker.settle_oldest()
            } else {
                lambda.worker.settle_answered()
            };
            match settled.map_err(RunError::Invocation)? {
                Some(settled) => self.take_in(settled, arn)?,
                None => break,
            }
        }
        Ok(())
    }

    /// Counts a settled batch's invocations, and routes its records (failed ones naming `arn`).
    fn take_in(&mut self, settled: Settled, arn: &str) -> Result<(), RunError> {
        let summary = &mut self.ledger.summary;
        let verdict = &settled.verdict;
        summary.invocations += u64::from(verdict.attempts);
        summary.cold_starts += u64::from(verdict.cold_starts);
        summary.retries += u64::from(verdict.attempts.saturating_sub(1));
        for failure in &verdict.failures {
            keep(&mut summary.invocation_failures, failure.clone());
        }
        for finding in &verdict.findings {
            keep(&mut summary.findings, finding.clone());
        }
        Ok(self.router.settled(settled, arn, &mut self.ledger)?)
    }
}
