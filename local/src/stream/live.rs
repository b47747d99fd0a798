//! A delivery stream on the wall clock, as `serve` runs it: its engine on a
//! thread of its own, fed through a queue bounded in bytes. A put that would
//! pass the bound is refused, and the producer retries it, so a function that
//! falls behind holds the producers back instead of filling memory. With
//! `--state`, puts reach the engine through the stream's [`Journal`], once
//! they are on disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;

use super::engine::Engine;
use super::invoke::Invoker;
use super::journal::{Append, Journal, Progress};
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
    /// `--state` could not keep the records, and why.
    #[error("{0}")]
    NotKept(String),
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
    /// With `--state`: the journal's writer, which hands puts on once they are synced.
    journal: Option<(Sender<Append>, JoinHandle<()>)>,
    queued: Arc<AtomicU64>,
    max_queued: u64,
    thread: JoinHandle<Result<Summary, RunError>>,
}

/// A put the stream has taken; with `--state`, once [`Taken::kept`] says it is on disk.
pub struct Taken(Option<Syncing>);

struct Syncing {
    synced: oneshot::Receiver<Result<(), String>>,
    bytes: u64,
    queued: Arc<AtomicU64>,
}

impl Taken {
    /// Waits until the put is kept as the stream promises: at once without
    /// `--state`, synced to the journal with it.
    pub async fn kept(self) -> Result<(), Refusal> {
        let Some(syncing) = self.0 else {
            return Ok(());
        };
        let kept = match syncing.synced.await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(why)) => Refusal::NotKept(why),
            Err(_) => Refusal::Stopped("the --state writer ended".to_owned()),
        };
        syncing.queued.fetch_sub(syncing.bytes, Ordering::SeqCst);
        Err(kept)
    }
}

impl LiveStream {
    /// Starts `stream`, its queue holding at most `max_queued` bytes of
    /// records; with a `journal`, what it kept from an earlier run goes first.
    pub fn start(
        stream: DeliveryStream,
        invoker: Option<Invoker>,
        objects: Objects,
        options: Options,
        listeners: Listeners,
        max_queued: u64,
        journal: Option<Journal>,
    ) -> std::io::Result<Self> {
        let stream = Arc::new(stream);
        let (inbox, messages) = channel();
        let queued = Arc::new(AtomicU64::new(0));
        let progress = journal.as_ref().map(Journal::progress);
        let thread = {
            let (stream, queued) = (Arc::clone(&stream), Arc::clone(&queued));
            std::thread::Builder::new()
                .name(format!("stream {}", stream.name))
                .spawn(move || {
                    let feed = Feed {
                        messages: &messages,
                        queued: &queued,
                        progress,
                    };
                    drive(&stream, invoker, objects, &options, listeners, feed)
                })?
        };
        let journal = match journal {
            Some(journal) => {
                let (appends, appended) = channel();
                let (inbox, queued) = (inbox.clone(), Arc::clone(&queued));
                let writer = std::thread::Builder::new()
                    .name(format!("state {}", stream.name))
                    .spawn(move || write_journal(journal, &appended, &inbox, &queued))?;
                Some((appends, writer))
            }
            None => None,
        };
        Ok(LiveStream {
            stream,
            inbox,
            journal,
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
    pub fn put(&self, puts: Vec<Put>) -> Result<Taken, Refusal> {
        let bytes: u64 = puts.iter().map(|p| p.data.len() as u64).sum();
        let before = self.queued.fetch_add(bytes, Ordering::SeqCst);
        if !fits(before, bytes, self.max_queued) {
            self.queued.fetch_sub(bytes, Ordering::SeqCst);
            return Err(Refusal::Full(before));
        }
        // Only the engine's thread (or the journal's writer) ending drops the receiver.
        let stopped =
            || Refusal::Stopped("its engine ended; the summary at shutdown says why".to_owned());
        let Some((appends, _)) = &self.journal else {
            self.inbox
                .send(Message::Puts { puts, bytes })
                .map_err(|_| stopped())?;
            return Ok(Taken(None));
        };
        let (synced, syncing) = oneshot::channel();
        appends
            .send(Append {
                puts,
                bytes,
                synced,
            })
            .map_err(|_| stopped())?;
        Ok(Taken(Some(Syncing {
            synced: syncing,
            bytes,
            queued: Arc::clone(&self.queued),
        })))
    }

    /// Flushes every buffer now, as if each had filled.
    pub fn flush_now(&self) {
        // A stream that has stopped has nothing to flush; finish says why it stopped.
        let _ = self.inbox.send(Message::FlushNow);
    }

    /// Stops taking records, flushes every buffer, waits for the function and
    /// the store, and hands back the summary.
    pub fn finish(self) -> Result<Summary, RunError> {
        // The journal's writer hands on what it has taken before the engine hears the end.
        if let Some((appends, writer)) = self.journal {
            drop(appends);
            let _ = writer.join();
        }
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

/// The journal's writer thread: what an earlier run kept, then each put as
/// it comes, handed to the engine once synced.
fn write_journal(
    mut journal: Journal,
    appends: &Receiver<Append>,
    inbox: &Sender<Message>,
    queued: &AtomicU64,
) {
    let send = |puts, bytes| inbox.send(Message::Puts { puts, bytes }).is_ok();
    let replayed = journal.replay(|puts, bytes| {
        // Counted in the queue, so that producers wait while the engine takes them in. They are
        // no more than the crashed run held in its queue and buffers.
        queued.fetch_add(bytes, Ordering::SeqCst);
        send(puts, bytes)
    });
    if let Err(e) = replayed {
        eprintln!("firehose-local: --state: cannot read back what an earlier run kept: {e}");
    }
    journal.serve(appends, send);
}

/// What the engine's thread is fed from, and (with `--state`) tells what has landed.
struct Feed<'f> {
    messages: &'f Receiver<Message>,
    queued: &'f AtomicU64,
    progress: Option<Progress>,
}

/// The engine's thread: records in as they come, buffers flushed as they fall due.
fn drive(
    stream: &DeliveryStream,
    invoker: Option<Invoker>,
    objects: Objects,
    options: &Options,
    mut listeners: Listeners,
    feed: Feed<'_>,
) -> Result<Summary, RunError> {
    let trace = if options.trace {
        Some(&mut listeners.trace as &mut dyn FnMut(String))
    } else {
        None
    };
    let mut engine = Engine::new(stream, invoker, objects, options, trace);
    let mut listed = 0;
    let mut told = Instant::now();
    loop {
        engine.tick(now_ms())?;
        engine.take_in_answered()?;
        // Told before the objects are listed, so that whoever sees one listed finds its records forgotten.
        let landed = engine.summary().objects.len();
        if landed > listed || told.elapsed() >= TICK {
            tell_landed(&engine, feed.progress.as_ref());
            told = Instant::now();
        }
        let objects = &engine.summary().objects;
        objects[listed..].iter().for_each(&mut listeners.landed);
        listed = objects.len();
        match feed.messages.recv_timeout(TICK) {
            Ok(Message::Puts { puts, bytes }) => {
                feed.queued.fetch_sub(bytes, Ordering::SeqCst);
                let now = now_ms();
                engine.tick(now)?;
                for put in puts {
                    // A record kept from an earlier run arrived then.
                    let arrival_ms = put.arrival_ms.unwrap_or(now);
                    engine.accept(put, arrival_ms)?;
                }
            }
            Ok(Message::FlushNow) => engine.flush_now()?,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    engine.flush_now()?;
    tell_landed(&engine, feed.progress.as_ref());
    let summary = engine.finish()?;
    summary.objects[listed..]
        .iter()
        .for_each(&mut listeners.landed);
    Ok(summary)
}

/// Tells the journal how far everything has landed; after an object was
/// lost, never again, so that the journal keeps its records for the next start.
fn tell_landed(engine: &Engine<'_>, progress: Option<&Progress>) {
    if let Some(progress) = progress
        && engine.summary().lost == 0
    {
        progress.landed_below(engine.landed_below());
    }
}

/// The wall clock, in epoch milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
