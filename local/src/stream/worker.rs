//! The function's invocations on a thread of their own, one batch in flight:
//! while the function works on a batch (and its answer is read and judged),
//! the stream reads the records of the next one.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use super::event::{self, Record};
use super::invoke::{Invoker, Outcome};

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

/// The thread that invokes the function; it stops (and the function with it) when dropped.
pub struct Worker {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    pub fn start(mut invoker: Invoker, source: EventSource) -> Worker {
        let (jobs, inbox) = channel::<Job>();
        let (outbox, done) = channel();
        let thread = std::thread::spawn(move || {
            for job in inbox {
                let event = event::invocation_event(
                    &job.invocation_id,
                    &source.stream_arn,
                    source.source_stream_arn.as_deref(),
                    &source.region,
                    &job.records,
                );
                let outcome = invoker.invoke(&event, &job.records, source.retries);
                if outbox
                    .send(Done {
                        records: job.records,
                        outcome,
                    })
                    .is_err()
                {
                    break;
                }
            }
        });
        Worker {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
        }
    }

    /// Hands a batch to the function.
    pub fn submit(&self, job: Job) -> Result<(), String> {
        match &self.jobs {
            Some(jobs) => jobs
                .send(job)
                .map_err(|_| "the invocation thread has stopped".to_owned()),
            None => Err("the invocation thread has stopped".to_owned()),
        }
    }

    /// Waits for the batch handed over last.
    pub fn wait(&self) -> Result<Done, String> {
        self.done
            .recv()
            .map_err(|_| "the invocation thread has stopped".to_owned())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
