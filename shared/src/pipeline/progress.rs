//! A batch in progress, shared by the thread that runs it and the one that
//! watches its deadline: whichever gets there first finishes the response.
//!
//! The runner writes each answer under the lock and runs the steps outside
//! it, so a step that never returns cannot keep the watcher from answering
//! for the records it did not reach.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::contract::Outcome;
use crate::pipeline::response::{Data, Held, ResponseWriter};
use crate::pipeline::summary::Summary;
use crate::pipeline::{InvalidEvent, Processed};

/// How a run ended, as the runner reports it.
pub(crate) type Ran = Result<Result<Processed, InvalidEvent>, String>;

pub(crate) struct Progress {
    phase: Mutex<Phase>,
    changed: Condvar,
}

enum Phase {
    /// The event is being read; nothing is written yet.
    Starting,
    Open(Open),
    Done(Ran),
    /// The watcher answered at the deadline; what the runner does no longer counts.
    Closed,
}

/// The response being written.
pub(crate) struct Open {
    pub(crate) writer: ResponseWriter,
    pub(crate) summary: Summary,
    /// Records answered so far, in input order.
    pub(crate) answered: usize,
    pub(crate) started: Instant,
}

impl Open {
    /// Writes one record's answer and counts what was written.
    pub(crate) fn write(
        &mut self,
        id: &str,
        outcome: Outcome,
        data: Data<'_>,
        keys: &BTreeMap<String, String>,
    ) {
        match self.writer.write(id, outcome, data, keys) {
            Outcome::Ok => self.summary.ok += 1,
            Outcome::Dropped => self.summary.dropped += 1,
            Outcome::ProcessingFailed => self.summary.failed += 1,
        }
        self.answered += 1;
    }

    /// Writes an answer held for re-ingestion: failed, overflowed, until settled.
    pub(crate) fn write_held(&mut self, id: &str) -> Held {
        self.summary.failed += 1;
        self.summary.overflowed += 1;
        self.answered += 1;
        self.writer.write_held(id)
    }

    /// A held record was put back: `Dropped`.
    pub(crate) fn settle_dropped(&mut self, held: Held) {
        self.writer.settle_dropped(held);
        self.summary.failed -= 1;
        self.summary.overflowed -= 1;
        self.summary.dropped += 1;
    }
}

impl Progress {
    pub(crate) fn new() -> Self {
        Progress {
            phase: Mutex::new(Phase::Starting),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Phase> {
        // A panic while the lock was held is caught and reported by the runner; the phase is still readable.
        self.phase
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The runner starts writing; false when the watcher has already answered.
    pub(crate) fn open(&self, open: Open) -> bool {
        let mut phase = self.lock();
        if matches!(*phase, Phase::Closed) {
            return false;
        }
        *phase = Phase::Open(open);
        true
    }

    /// Runs `f` on the open response; `None` when the watcher has answered.
    pub(crate) fn with_open<R>(&self, f: impl FnOnce(&mut Open) -> R) -> Option<R> {
        match &mut *self.lock() {
            Phase::Open(open) => Some(f(open)),
            _ => None,
        }
    }

    /// The runner closes the response with `f`, unless the watcher has answered.
    pub(crate) fn complete(&self, f: impl FnOnce(Open) -> Processed) {
        let mut phase = self.lock();
        if let Phase::Open(_) = &*phase
            && let Phase::Open(open) = std::mem::replace(&mut *phase, Phase::Closed)
        {
            *phase = Phase::Done(Ok(Ok(f(open))));
            self.changed.notify_all();
        }
    }

    /// The runner's result when it could not complete a response (an invalid
    /// event, a panic), unless the watcher has answered.
    pub(crate) fn finish(&self, ran: Ran) {
        let mut phase = self.lock();
        if !matches!(*phase, Phase::Closed) {
            *phase = Phase::Done(ran);
            self.changed.notify_all();
        }
    }

    /// Waits for the runner's result until `cutoff` (for ever without one).
    pub(crate) fn wait(&self, cutoff: Option<Instant>) -> Option<Ran> {
        let mut phase = self.lock();
        loop {
            if matches!(*phase, Phase::Done(_)) {
                return match std::mem::replace(&mut *phase, Phase::Closed) {
                    Phase::Done(ran) => Some(ran),
                    _ => None,
                };
            }
            let wait = match cutoff {
                Some(cutoff) => match cutoff.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return None,
                },
                None => std::time::Duration::from_secs(3600),
            };
            phase = self
                .changed
                .wait_timeout(phase, wait)
                .map_or_else(|e| e.into_inner().0, |r| r.0);
        }
    }

    /// The watcher answers at the deadline: what it finds.
    pub(crate) fn close(&self) -> AtCutoff {
        let mut phase = self.lock();
        match std::mem::replace(&mut *phase, Phase::Closed) {
            Phase::Done(ran) => AtCutoff::Finished(ran),
            Phase::Open(open) => AtCutoff::Unfinished(Some(open)),
            Phase::Starting | Phase::Closed => AtCutoff::Unfinished(None),
        }
    }
}

/// What the watcher finds at the deadline.
pub(crate) enum AtCutoff {
    /// The runner's result, come in the meantime.
    Finished(Ran),
    /// The response as far as the runner wrote it (`None`: not yet begun).
    Unfinished(Option<Open>),
}
