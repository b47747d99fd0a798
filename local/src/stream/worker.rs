//! The function's invocations, off the stream's thread, as a pipeline of
//! three threads so the function is never kept waiting: one writes each
//! batch's event, one invokes the function with it (and retries), one reads
//! and judges the answer. While they work the stream reads the next batches.
//! Each stage takes batches in order, so they come back in order.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use super::event::{self, Record};
use super::invoke::{self, Invoked, Invoker, Outcome};

/// A batch to invoke the function with.
pub struct Job {
    pub invocation_id: String,
    pub records: Vec<Record>,
}

/// A batch and what became of it.
pub struct Done {
    pub records: Vec<Record>,
    pub outcome: Outcome,
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
        let judge = std::thread::spawn(move || {
            for (records, invoked) in answers {
                let outcome = invoke::judge(&records, invoked);
                if outbox.send(Done { records, outcome }).is_err() {
                    break;
                }
            }
        });
        Worker {
            jobs: Some(jobs),
            done,
            threads: vec![writer, caller, judge],
        }
    }

    /// Hands a batch to the function.
    pub fn submit(&self, job: Job) -> Result<(), String> {
        match &self.jobs {
            Some(jobs) => jobs
                .send(job)
                .map_err(|_| "the invocation threads have stopped".to_owned()),
            None => Err("the invocation threads have stopped".to_owned()),
        }
    }

    /// Waits for the oldest batch handed over.
    pub fn wait(&self) -> Result<Done, String> {
        self.done
            .recv()
            .map_err(|_| "the invocation threads have stopped".to_owned())
    }
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
