//! A delivery stream on the wall clock, as `serve` runs it: its engine on a
//! thread of its own, fed through a queue bounded in bytes. A put that would
//! pass the bound is refused, and the producer retries it, so a function that
//! falls behind holds the producers back instead of filling memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::engine::Engine;
use super::invoke::Invoker;
use super::producer::Put;
use super::summary::Summary;
use super::{Options, RunError};
use crate::sink::objects::{Objects, Written};
use crate::template::DeliveryStream;

/// How often the engine looks at the clock when no record comes: an object
/// lands at most this long after it is due.
const TICK: Duration = Duration::from_millis(100);

/// Why a put was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The queue holds its most: the function is behind.
    #[error("the stream's queue is full ({0} bytes waiting): slow down")]
    Full(u64),
    /// The stream's engine has ended, and why.
    #[error("the delivery stream stopped: {0}")]
    Stopped(String),
}

enum Message {
    Puts { puts: Vec<Put>, bytes: u64 },
    FlushNow,
}

/// What a running stream tells as it goes.
pub struct Listeners {
    /// Each object as it lands.
    pub landed: Box<dyn FnMut(&Written) + Send>,
    /// A line for where each record ended, when the options ask for a trace.
    pub trace: Box<dyn FnMut(String) + Send>,
}

/// A delivery stream running on the wall clock; [`LiveStream::finish`] ends it.
pub struct LiveStream {
    pub stream: Arc<DeliveryStream>,
    inbox: Sender<Message>,
    queued: Arc<AtomicU64>,
    max_queued: u64,
    thread: JoinHandle<Result<Summary, RunError>>,
}

impl LiveStream {
    /// Starts `stream`, its queue holding at most `max_queued` bytes of records.
    pub fn start(
        stream: DeliveryStream,
        invoker: Option<Invoker>,
        objects: Objects,
        options: Options,
        listeners: Listeners,
        max_queued: u64,
    ) -> std::io::Result<Self> {
        let stream = Arc::new(stream);
        let (inbox, messages) = channel();
        let queued = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stream, queued) = (Arc::clone(&stream), Arc::clone(&queued));
            std::thread::Builder::new()
                .name(format!("stream {}", stream.name))
                .spawn(move || {
                    drive(
                        &stream, invoker, objects, &options, listeners, &messages, &queued,
                    )
                })?
        };
        Ok(LiveStream {
            stream,
            inbox,
            queued,
            max_queued,
            thread,
        })
    }

    /// Whether a put of `bytes` would be taken now.
    pub fn has_room_for(&self, bytes: u64) -> bool {
        fits(self.queued.load(Ordering::SeqCst), bytes, self.max_queued)
    }

    /// Takes `puts` in, all or none; they arrive now.
    pub fn put(&self, puts: Vec<Put>) -> Result<(), Refusal> {
        let bytes: u64 = puts.iter().map(|p| p.data.len() as u64).sum();
        let before = self.queued.fetch_add(bytes, Ordering::SeqCst);
        if !fits(before, bytes, self.max_queued) {
            self.queued.fetch_sub(bytes, Ordering::SeqCst);
            return Err(Refusal::Full(before));
        }
        self.inbox
            .send(Message::Puts { puts, bytes })
            // Only the engine's thread ending drops the receiver.
            .map_err(|_| {
                Refusal::Stopped("its engine ended; the summary at shutdown says why".to_owned())
            })
    }

    /// Flushes every buffer now, as if each had filled.
    pub fn flush_now(&self) {
        // A stream that has stopped has nothing to flush; finish says why it stopped.
        let _ = self.inbox.send(Message::FlushNow);
    }

    /// Stops taking records, flushes every buffer, waits for the function and
    /// the store, and hands back the summary.
    pub fn finish(self) -> Result<Summary, RunError> {
        drop(self.inbox);
        self.thread.join().unwrap_or_else(|_| {
            Err(RunError::Invocation(
                "the stream's thread panicked".to_owned(),
            ))
        })
    }
}

/// Whether `bytes` more fit a queue holding `queued` of at most `max`: an
/// empty queue takes any put, so that one larger than the bound still goes in.
fn fits(queued: u64, bytes: u64, max: u64) -> bool {
    queued == 0 || queued + bytes <= max
}

/// The engine's thread: records in as they come, buffers flushed as they fall due.
fn drive(
    stream: &DeliveryStream,
    invoker: Option<Invoker>,
    objects: Objects,
    options: &Options,
    mut listeners: Listeners,
    messages: &Receiver<Message>,
    queued: &AtomicU64,
) -> Result<Summary, RunError> {
    let trace = if options.trace {
        Some(&mut listeners.trace as &mut dyn FnMut(String))
    } else {
        None
    };
    let mut engine = Engine::new(stream, invoker, objects, options, trace);
    let mut listed = 0;
    loop {
        engine.tick(now_ms())?;
        engine.take_in_answered()?;
        let objects = &engine.summary().objects;
        objects[listed..].iter().for_each(&mut listeners.landed);
        listed = objects.len();
        match messages.recv_timeout(TICK) {
            Ok(Message::Puts { puts, bytes }) => {
                queued.fetch_sub(bytes, Ordering::SeqCst);
                let now = now_ms();
                engine.tick(now)?;
                for put in puts {
                    engine.accept(put, now)?;
                }
            }
            Ok(Message::FlushNow) => engine.flush_now()?,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    engine.flush_now()?;
    let summary = engine.finish()?;
    summary.objects[listed..]
        .iter()
        .for_each(&mut listeners.landed);
    Ok(summary)
}

/// The wall clock, in epoch milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
