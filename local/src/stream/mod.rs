//! The delivery stream itself, on a simulated clock: records arrive from the
//! producers, wait in the Lambda processor's buffers (one per shard), go to
//! the function in batches cut by its size and interval hints, and what comes
//! back waits in the S3 buffers until an object is due. At the end of the
//! input every buffer is flushed when its interval would flush it, so a short
//! run shows everything that would land. The stages are in [`engine`];
//! [`run`] drives them from the input and the simulated clock, [`live`] from
//! the wall clock for `serve`.

pub mod built_in;
pub mod engine;
pub mod event;
pub mod intake;
pub mod invoke;
pub mod journal;
#[cfg(feature = "kinesis")]
pub mod kinesis;
pub mod kpl;
pub mod lambda_buffers;
pub mod ledger;
pub mod live;
pub mod partition;
pub mod producer;
pub mod replay;
pub mod router;
pub mod shards;
pub mod summary;
pub mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use engine::Engine;
use invoke::Invoker;
use producer::{Attempt, InputError};
use summary::Summary;

use crate::sink::objects::Objects;
use crate::sink::store::StoreError;
use crate::template::DeliveryStream;

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
    /// Active partitions the stream may have (AWS's 500, or what its limit form raised it to).
    pub active_partitions: usize,
    /// Set when the run is to stop reading input and finish (Ctrl-C).
    pub interrupted: Arc<AtomicBool>,
}

/// Runs `stream` over the records `inputs` yield, each arriving when it says
/// or `spacing_ms` after the one before; `trace` hears where each record ended.
pub fn run<'s>(
    stream: &'s DeliveryStream,
    invoker: Option<Invoker>,
    objects: Objects,
    inputs: impl Iterator<Item = Result<Attempt, InputError>>,
    options: &Options,
    trace: Option<&'s mut dyn FnMut(String)>,
) -> Result<Summary, RunError> {
    let trace = if options.trace { trace } else { None };
    let mut engine = Engine::new(stream, invoker, objects, options, trace);
    let mut next_arrival = options.start_ms;
    for attempt in inputs {
        if options.interrupted.load(Ordering::Relaxed) {
            engine.interrupt();
            break;
        }
        let put = match attempt {
            Ok(Attempt::Put(put)) => put,
            Ok(Attempt::Refused(why)) => {
                engine.refuse(why);
                continue;
            }
            Err(InputError::Malformed {
                source_name,
                line,
                message,
            }) => {
                engine.refuse(format!("{source_name}:{line}: {message}"));
                continue;
            }
            Err(error) => {
                // The input cannot be read on: what was read still lands, and the summary says where it stopped.
                engine.stop(error.to_string());
                break;
            }
        };
        if engine.records_in() == 0
            && options.first_arrival_starts
            && let Some(first) = put.arrival_ms
        {
            engine.start_at(first);
            next_arrival = first;
        }
        let arrival_ms = put.arrival_ms.unwrap_or(next_arrival);
        next_arrival = next_arrival.saturating_add(options.spacing_ms);
        engine.tick(arrival_ms)?;
        engine.accept(put, arrival_ms)?;
    }
    engine.finish()
}
