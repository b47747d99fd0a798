//! The function's invocations, off the stream's thread, as a pipeline of
//! three threads so the function is never kept waiting: one writes each
//! batch's event, one invokes the function with it (and retries), one reads
//! and judges the answer. While they work the stream reads the next batches.
//! Each stage takes batches in order, so they come back in order.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread::JoinHandle;

use super::event::{self, Record};
use super::invoke::{self, Invoked, Invoker, Verdict};

/// Batches handed over and not yet taken back: one per stage (event, invocation, judging).
const IN_FLIGHT: usize = 3;

/// The longest Firehose waits between attempts of a failing invocation (on the simulated clock).
const MAX_BACKOFF_MS: i64 = 60_000;

/// A batch to invoke the function with.
pub struct Job {
    pub invocation_id: String,
    pub records: Vec<Record>,
}

/// A batch and what became of it.
struct Done {
    records: Vec<Record>,
    verdict: Verdict,
}

/// A batch taken back: its records, what became of them, and when (on the
/// simulated clock) its last attempt ended.
pub struct Settled {
    pub records: Vec<Record>,
    pub verdict: Verdict,
    pub at_ms: i64,
}

/// What every event of the stream says of where it comes from.
pub struct EventSource {
    pub stream_arn: String,
    pub source_stream_arn: Option<String>,
    pub region: String,
    /// `NumberOfRetries`.
    pub retries: u32,
}

/// The invocation threads; they stop (and the function with them) when dropped.
pub struct Worker {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    threads: Vec<JoinHandle<()>>,
    /// When each batch in flight was flushed, and the lowest input index in it, oldest first.
    in_flight: VecDeque<(i64, u64)>,
}

impl Worker {
    pub fn start(mut invoker: Invoker, source: EventSource) -> Worker {
        let (jobs, inbox) = channel::<Job>();
        let (to_invoke, invocations) = channel::<(Job, Vec<u8>)>();
        let (to_judge, answers) = channel::<(Vec<Record>, Invoked)>();
        let (outbox, done) = channel();
        let retries = source.retries;
        let writer = std::thread::spawn(move || {
            for job in inbox {
                let event = event::invocation_event(
                    &job.invocation_id,
                    &source.stream_arn,
                    source.source_stream_arn.as_deref(),
                    &source.region,
                    &job.records,
                );
                if to_invoke.send((job, event)).is_err() {
                    break;
                }
            }
        });
        let caller = std::thread::spawn(move || {
            for (job, event) in invocations {
                let invoked = invoker.invoke(&job.invocation_id, &event, retries);
                drop(event);
                if to_judge.send((job.records, invoked)).is_err() {
                    break;
                }
            }
        });
        let judging = std::thread::spawn(move || {
            for (records, invoked) in answers {
                let verdict = invoke::verdict(&records, invoked);
                if outbox.send(Done { records, verdict }).is_err() {
                    break;
                }
            }
        });
        Worker {
            jobs: Some(jobs),
            done,
            threads: vec![writer, caller, judging],
            in_flight: VecDeque::new(),
        }
    }

    /// Hands the batch flushed at `flushed_ms` to the function. With more
    /// than one batch in each stage, the oldest is taken back, settled.
    pub fn submit(&mut self, job: Job, flushed_ms: i64) -> Result<Option<Settled>, String> {
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        let oldest = job
            .records
            .iter()
            .map(|r| r.index)
            .min()
            .unwrap_or(u64::MAX);
        jobs.send(job).map_err(|_| stopped())?;
        self.in_flight.push_back((flushed_ms, oldest));
        if self.in_flight.len() > IN_FLIGHT {
            return self.settle_oldest();
        }
        Ok(None)
    }

    /// Batches are in flight.
    pub fn busy(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// The lowest input index of any record with the function.
    pub fn oldest_index(&self) -> Option<u64> {
        self.in_flight.iter().map(|(_, oldest)| *oldest).min()
    }

    /// Waits for the oldest batch in flight, if there is one.
    pub fn settle_oldest(&mut self) -> Result<Option<Settled>, String> {
        if self.in_flight.is_empty() {
            return Ok(None);
        }
        let done = self.done.recv().map_err(|_| stopped())?;
        Ok(Some(self.settle(done)))
    }

    /// The oldest batch in flight, if the function has answered it: without
    /// waiting, for a stream on the wall clock.
    pub fn settle_answered(&mut self) -> Result<Option<Settled>, String> {
        if self.in_flight.is_empty() {
            return Ok(None);
        }
        match self.done.try_recv() {
            Ok(done) => Ok(Some(self.settle(done))),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(stopped()),
        }
    }

    /// The oldest batch in flight, answered.
    fn settle(&mut self, Done { records, verdict }: Done) -> Settled {
        let (flushed_ms, _) = self.in_flight.pop_front().unwrap_or_default();
        // Attempt n+1 starts 1 s × 2^(n-1) after attempt n failed, at most a minute apart; the
        // records go on once the last attempt ends, while the stream keeps buffering others.
        let waited: i64 = (1..verdict.attempts)
            .map(|n| (1000_i64 << (n - 1).min(20)).min(MAX_BACKOFF_MS))
            .sum();
        Settled {
            records,
            verdict,
            at_ms: flushed_ms.saturating_add(waited),
        }
    }
}

fn stopped() -> String {
    "the invocation threads have stopped".to_owned()
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Each stage ends when the one before it has.
        self.jobs = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
