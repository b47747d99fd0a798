//! `serve --state DIR`: each delivery stream's accepted records in an
//! append-only log, so that a record acknowledged to a producer survives a
//! crash and lands at least once.
//!
//! One thread writes the log. A put is written and synced before its answer
//! goes out; every put that arrives while a sync is under way waits for the
//! next one, which syncs them all (group commit: concurrent producers share
//! one `fdatasync`). Only then are the records handed to the engine, in the
//! log's order, so that the n-th record of the log is the engine's n-th.
//!
//! The log is cut into segments of about [`SEGMENT_BYTES`]. The engine says
//! below which record everything has landed ([`Progress::landed_below`]);
//! a segment wholly below it is removed, and the file `landed` says how many
//! records of the oldest segment left have landed. On start, what the
//! segments still hold past that is handed to the engine first: a record
//! that had landed out of order before a crash lands again, none is lost.
//!
//! A segment is `FHLSTAT1`, then per record: its length and CRC-32 (little
//! endian `u32`s), then the record as a protobuf [`Entry`].

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use prost::Message;

use super::live::now_ms;
use super::producer::{Entry as PutEntry, KinesisOrigin, Put};

/// A segment is closed, and a new one opened, once it is this big.
pub const SEGMENT_BYTES: u64 = 16 << 20;

/// What every segment starts with.
const MAGIC: &[u8; 8] = b"FHLSTAT1";

/// No record is this big (a Kinesis record is at most 1 MiB): a length past
/// it is damage, not a record.
const MAX_ENTRY_BYTES: u32 = 4 << 20;

/// How long the writer waits for a put before it looks whether the open
/// segment has landed whole and can go.
const IDLE: Duration = Duration::from_secs(1);

/// The file saying how many records of the oldest segment have landed.
const LANDED_FILE: &str = "landed";

/// Why the state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("--state {path}: {error}")]
    Io { path: String, error: io::Error },
    #[error(
        "--state {0}: another firehose-local serve is using it (two would deliver the same records twice)"
    )]
    InUse(String),
    #[error("--state: the delivery stream name {0:?} cannot name a folder")]
    Name(String),
}

/// One record in the log: a put as the engine takes it.
#[derive(Clone, PartialEq, prost::Message)]
struct Entry {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
    #[prost(string, optional, tag = "2")]
    partition_key: Option<String>,
    #[prost(int64, tag = "3")]
    arrival_ms: i64,
    /// The Kinesis shard and sequence number it was put with.
    #[prost(uint32, optional, tag = "4")]
    shard: Option<u32>,
    #[prost(string, optional, tag = "5")]
    sequence_number: Option<String>,
}

impl Entry {
    /// `put`, stamped with `arrival_ms` unless it says when it arrived.
    fn of(put: Put, arrival_ms: i64) -> Entry {
        let (shard, sequence_number) = match put.kinesis {
            Some(origin) => (Some(origin.shard), Some(origin.sequence_number)),
            None => (None, None),
        };
        Entry {
            data: put.data,
            partition_key: put.partition_key,
            arrival_ms: put.arrival_ms.unwrap_or(arrival_ms),
            shard,
            sequence_number,
        }
    }

    fn into_put(self) -> Put {
        let kinesis = self
            .shard
            .zip(self.sequence_number)
            .map(|(shard, sequence_number)| KinesisOrigin {
                shard,
                sequence_number,
            });
        Put {
            data: self.data,
            partition_key: self.partition_key,
            arrival_ms: Some(self.arrival_ms),
            kinesis,
            entry: PutEntry::Source,
        }
    }
}

/// A put to be logged; `synced` hears once it is, or why it is not.
pub struct Append {
    pub puts: Vec<Put>,
    pub bytes: u64,
    pub synced: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// A segment's records, by their place in this run (the engine's index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    number: u64,
    /// Records at its start that had landed in an earlier run, not delivered again.
    landed_before: u64,
    first: u64,
    end: u64,
}

/// The segments and what has landed, shared by the writer and the engine's thread.
struct Segments {
    dir: PathBuf,
    /// Written whole, oldest first.
    closed: VecDeque<Segment>,
    /// The one being written.
    open: Option<Segment>,
    /// Every record below this one has landed.
    landed_below: u64,
    /// What the `landed` file says.
    told: Option<(u64, u64)>,
}

impl Segments {
    fn path(&self, number: u64) -> PathBuf {
        segment_path(&self.dir, number)
    }

    /// Removes the closed segments that have landed whole, and says how much
    /// of the oldest one left has.
    fn forget_landed(&mut self) {
        while let Some(oldest) = self.closed.front().copied() {
            if oldest.end > self.landed_below {
                break;
            }
            self.closed.pop_front();
            remove(&self.path(oldest.number));
        }
        let oldest = self.closed.front().or(self.open.as_ref()).copied();
        let path = self.dir.join(LANDED_FILE);
        let Some(oldest) = oldest else {
            // Nothing is kept: the file would only name a segment that is gone.
            if self.told.take().is_some() {
                remove(&path);
            }
            return;
        };
        let landed = self.landed_below.saturating_sub(oldest.first);
        let tell = (
            oldest.number,
            oldest.landed_before + landed.min(oldest.end - oldest.first),
        );
        if landed > 0 && self.told != Some(tell) {
            self.told = Some(tell);
            let text = format!("{} {}\n", tell.0, tell.1);
            let temporary = self.dir.join("landed.new");
            // Without it only more records land twice after a crash: worth a word, not a stop.
            if let Err(e) = fs::write(&temporary, text).and_then(|()| fs::rename(&temporary, &path))
            {
                eprintln!(
                    "firehose-local: --state: cannot write {}: {e}",
                    path.display()
                );
            }
        }
    }
}

/// What the engine's thread tells the log: how far everything has landed.
#[derive(Clone)]
pub struct Progress(Arc<Mutex<Segments>>);

impl Progress {
    /// Every record of this run below `index` has landed (in an object, an
    /// error object or the undelivered folder, or dropped by the function).
    pub fn landed_below(&self, index: u64) {
        let mut segments = lock(&self.0);
        if index > segments.landed_below {
            segments.landed_below = index;
            segments.forget_landed();
        }
    }
}

/// A delivery stream's log, opened; [`Journal::replay`] then [`Journal::serve`] run it.
pub struct Journal {
    dir: PathBuf,
    segments: Arc<Mutex<Segments>>,
    /// Segments an earlier run left, oldest first: delivered again on start.
    kept: Vec<u64>,
    /// Records of the first kept segment that had landed.
    skip: u64,
    next_number: u64,
    /// The next record's place in this run.
    next_index: u64,
    /// The open segment, and how much of it is synced.
    file: Option<(File, u64)>,
    /// Held while the journal is: another serve on the same folder is refused.
    _lock: File,
    /// A write that could not be undone: no put can be logged any more.
    broken: Option<String>,
}

/// What an earlier run left in the state, found on opening it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Kept {
    pub records: u64,
    /// What could not be read back, each in a sentence.
    pub damage: Vec<String>,
}

impl Journal {
    /// Opens (creating it when new) the log of the stream `name` under
    /// `state`: what an earlier run left is read through once, a torn write
    /// at its end is cut off, and it waits to be replayed.
    pub fn open(state: &Path, name: &str) -> Result<(Journal, Kept), JournalError> {
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(JournalError::Name(name.to_owned()));
        }
        let dir = state.join(name);
        let at = |error: io::Error| JournalError::Io {
            path: dir.display().to_string(),
            error,
        };
        fs::create_dir_all(&dir).map_err(at)?;
        let lock = File::create(dir.join("lock")).map_err(at)?;
        lock.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => JournalError::InUse(dir.display().to_string()),
            std::fs::TryLockError::Error(error) => at(error),
        })?;
        let mut numbers: Vec<u64> = fs::read_dir(&dir)
            .map_err(at)?
            .filter_map(|entry| {
                entry
                    .ok()?
                    .file_name()
                    .to_str()?
                    .strip_suffix(".log")?
                    .parse()
                    .ok()
            })
            .collect();
        numbers.sort_unstable();
        let told = read_landed(&dir);
        // Numbers are never used twice, so that the landed file cannot point into a newer segment.
        let next_number = numbers
            .last()
            .copied()
            .max(told.map(|(n, _)| n))
            .map_or(1, |n| n + 1);
        let mut kept = Kept::default();
        let mut survivors = Vec::new();
        let mut skip = 0;
        for (i, &number) in numbers.iter().enumerate() {
            let path = segment_path(&dir, number);
            let scan = scan(&path).map_err(at)?;
            let skipped = match told {
                Some((told, landed)) if told == number && i == 0 => landed.min(scan.records),
                _ => 0,
            };
            if i == 0 {
                skip = skipped;
            }
            kept.records += scan.records - skipped;
            if scan.valid_bytes < scan.file_bytes {
                let cut = scan.file_bytes - scan.valid_bytes;
                let why = if i + 1 == numbers.len() {
                    "a write cut short by the crash, never acknowledged"
                } else {
                    "damaged: the records in them cannot be delivered"
                };
                kept.damage.push(format!(
                    "{}: the last {cut} bytes are {why}; cut off",
                    path.display()
                ));
                truncate(&path, scan.valid_bytes).map_err(at)?;
            }
            if scan.valid_bytes > 0 {
                survivors.push(number);
            }
        }
        let segments = Segments {
            dir: dir.clone(),
            closed: VecDeque::new(),
            open: None,
            landed_below: 0,
            told,
        };
        let journal = Journal {
            next_number,
            kept: survivors,
            skip,
            dir,
            segments: Arc::new(Mutex::new(segments)),
            next_index: 0,
            file: None,
            _lock: lock,
            broken: None,
        };
        Ok((journal, kept))
    }

    /// The handle through which the engine's thread says what has landed.
    pub fn progress(&self) -> Progress {
        Progress(Arc::clone(&self.segments))
    }

    /// Hands what an earlier run left to `forward`, in the order it was
    /// accepted, a segment's records at a time; stops when `forward` says the
    /// engine has ended.
    pub fn replay(&mut self, mut forward: impl FnMut(Vec<Put>, u64) -> bool) -> io::Result<()> {
        for (i, number) in std::mem::take(&mut self.kept).into_iter().enumerate() {
            let skip = if i == 0 { self.skip } else { 0 };
            let path = segment_path(&self.dir, number);
            let mut puts = Vec::new();
            let mut bytes = 0;
            read_entries(&path, |n, entry| {
                if n >= skip {
                    bytes += entry.data.len() as u64;
                    puts.push(entry.into_put());
                }
            })?;
            let segment = Segment {
                number,
                landed_before: skip,
                first: self.next_index,
                end: self.next_index + puts.len() as u64,
            };
            self.next_index = segment.end;
            let mut segments = lock(&self.segments);
            if segment.first == segment.end {
                remove(&path);
            } else {
                segments.closed.push_back(segment);
            }
            drop(segments);
            if !puts.is_empty() && !forward(puts, bytes) {
                break;
            }
        }
        Ok(())
    }

    /// Logs each put that comes, syncing them in groups, and hands each to
    /// `forward` once synced; `Append::synced` hears of it. Ends when every
    /// sender of `appends` is gone.
    pub fn serve(
        mut self,
        appends: &Receiver<Append>,
        mut forward: impl FnMut(Vec<Put>, u64) -> bool,
    ) {
        loop {
            let first = match appends.recv_timeout(IDLE) {
                Ok(append) => append,
                Err(RecvTimeoutError::Timeout) => {
                    self.drop_open_if_landed();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            // Every put that came while the last sync was under way goes in with this one.
            let mut group = vec![first];
            group.extend(appends.try_iter());
            let logged = self.log(&mut group);
            for append in group {
                let answer = match &logged {
                    Ok(()) if forward(append.puts, append.bytes) => Ok(()),
                    Ok(()) => Err("the stream's engine has ended".to_owned()),
                    Err(why) => Err(why.clone()),
                };
                // A producer that hung up is told nothing; what it put is logged all the same.
                let _ = append.synced.send(answer);
            }
            self.roll_if_full();
        }
        self.close_open();
    }

    /// Writes every put of `group` to the open segment and syncs it.
    fn log(&mut self, group: &mut [Append]) -> Result<(), String> {
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        let now = now_ms();
        let mut buffer = Vec::new();
        let mut records = 0;
        for append in group.iter_mut() {
            for put in &mut append.puts {
                let entry = Entry::of(std::mem::replace(put, empty_put()), now);
                frame(&entry, &mut buffer);
                *put = entry.into_put();
                records += 1;
            }
        }
        let written = self.write_synced(&buffer);
        if let Err(e) = written {
            let why = format!(
                "cannot keep the records in --state {}: {e}",
                self.dir.display()
            );
            // A half-written record would hide every record after it from the next start.
            if let Some((file, synced)) = &mut self.file
                && (file.set_len(*synced).is_err() || file.seek(SeekFrom::Start(*synced)).is_err())
            {
                self.broken = Some(why.clone());
            }
            return Err(why);
        }
        let mut segments = lock(&self.segments);
        if let Some(open) = &mut segments.open {
            open.end += records;
        }
        self.next_index += records;
        Ok(())
    }

    /// Appends `bytes` to the open segment (opening one when none is) and syncs it.
    fn write_synced(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            self.open_segment()?;
        }
        let Some((file, synced)) = &mut self.file else {
            return Ok(());
        };
        file.write_all(bytes)?;
        file.sync_data()?;
        *synced += bytes.len() as u64;
        Ok(())
    }

    fn open_segment(&mut self) -> io::Result<()> {
        let number = self.next_number;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(segment_path(&self.dir, number))?;
        // A segment that failed here holds no record; the next one must not take its name.
        self.next_number += 1;
        file.write_all(MAGIC)?;
        file.sync_data()?;
        // The new file's name must outlive a crash as its records do.
        File::open(&self.dir)?.sync_all()?;
        self.file = Some((file, MAGIC.len() as u64));
        lock(&self.segments).open = Some(Segment {
            number,
            landed_before: 0,
            first: self.next_index,
            end: self.next_index,
        });
        Ok(())
    }

    /// Closes the open segment once it is [`SEGMENT_BYTES`].
    fn roll_if_full(&mut self) {
        if self
            .file
            .as_ref()
            .is_some_and(|(_, synced)| *synced >= SEGMENT_BYTES)
        {
            self.close_open();
        }
        lock(&self.segments).forget_landed();
    }

    /// Removes the open segment when every record in it has landed: an idle
    /// stream keeps no state.
    fn drop_open_if_landed(&mut self) {
        let segments = lock(&self.segments);
        let landed = segments
            .open
            .is_some_and(|open| open.end > open.first && open.end <= segments.landed_below);
        drop(segments);
        if landed {
            self.close_open();
            lock(&self.segments).forget_landed();
        }
    }

    fn close_open(&mut self) {
        self.file = None;
        let mut segments = lock(&self.segments);
        if let Some(open) = segments.open.take() {
            segments.closed.push_back(open);
        }
    }
}

/// A put with nothing in it, to stand in while one is logged.
fn empty_put() -> Put {
    Put {
        data: Vec::new(),
        partition_key: None,
        arrival_ms: None,
        kinesis: None,
        entry: PutEntry::Source,
    }
}

/// Appends `entry` to `buffer` with its length and CRC-32.
fn frame(entry: &Entry, buffer: &mut Vec<u8>) {
    let start = buffer.len();
    buffer.extend_from_slice(&[0; 8]);
    // Encoding into a Vec cannot run out of room.
    let _ = entry.encode(buffer);
    let payload = &buffer[start + 8..];
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let crc = crc32fast::hash(payload);
    buffer[start..start + 4].copy_from_slice(&length.to_le_bytes());
    buffer[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// A segment read through: how many whole records it holds, and up to where.
struct Scan {
    records: u64,
    valid_bytes: u64,
    file_bytes: u64,
}

fn scan(path: &Path) -> io::Result<Scan> {
    let file_bytes = fs::metadata(path)?.len();
    let (records, valid_bytes) = read_entries(path, |_, _| {})?;
    Ok(Scan {
        records,
        valid_bytes,
        file_bytes,
    })
}

/// Reads the segment at `path`, handing each whole record to `each` with its
/// place; stops at its end or at the first record that is not whole and
/// right. How many records, and the bytes they end at.
fn read_entries(path: &Path, mut each: impl FnMut(u64, Entry)) -> io::Result<(u64, u64)> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut magic = [0; 8];
    if reader.read_exact(&mut magic).is_err() || &magic != MAGIC {
        return Ok((0, 0));
    }
    let mut at = MAGIC.len() as u64;
    let mut records = 0;
    let mut payload = Vec::new();
    loop {
        let mut header = [0; 8];
        if reader.read_exact(&mut header).is_err() {
            break;
        }
        let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
        let length = u32::from_le_bytes([l0, l1, l2, l3]);
        if length > MAX_ENTRY_BYTES {
            break;
        }
        payload.resize(length as usize, 0);
        if reader.read_exact(&mut payload).is_err()
            || crc32fast::hash(&payload) != u32::from_le_bytes([c0, c1, c2, c3])
        {
            break;
        }
        let Ok(entry) = Entry::decode(payload.as_slice()) else {
            break;
        };
        each(records, entry);
        records += 1;
        at += 8 + u64::from(length);
    }
    Ok((records, at))
}

/// Cuts the file at `path` to `length` bytes (a segment with no whole header goes).
fn truncate(path: &Path, length: u64) -> io::Result<()> {
    if length == 0 {
        return fs::remove_file(path);
    }
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(length)?;
    file.sync_all()
}

/// What the `landed` file says: a segment's number and how many of its records have landed.
fn read_landed(dir: &Path) -> Option<(u64, u64)> {
    let text = fs::read_to_string(dir.join(LANDED_FILE)).ok()?;
    let (number, landed) = text.trim().split_once(' ')?;
    Some((number.parse().ok()?, landed.parse().ok()?))
}

fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:012}.log"))
}

/// Removes a segment that has landed; one left behind only lands again after a crash.
fn remove(path: &Path) {
    if let Err(e) = fs::remove_file(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        eprintln!(
            "firehose-local: --state: cannot remove {}: {e}",
            path.display()
        );
    }
}

fn lock(segments: &Mutex<Segments>) -> MutexGuard<'_, Segments> {
    // A poisoned lock only means a thread panicked between two whole updates.
    segments
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::channel;

    use super::*;

    fn state(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("journal-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn put(n: u32) -> Put {
        Put {
            data: format!("record {n}").into_bytes(),
            partition_key: Some(format!("key {n}")),
            arrival_ms: None,
            kinesis: n.is_multiple_of(2).then(|| KinesisOrigin {
                shard: n,
                sequence_number: format!("49{n}"),
            }),
            entry: PutEntry::Source,
        }
    }

    /// Logs `groups` of puts through a running writer: what it handed on, and the progress handle.
    fn log(journal: Journal, groups: Vec<Vec<Put>>) -> (Vec<Put>, Progress) {
        let progress = journal.progress();
        let (appends, appended) = channel();
        let (forwarded, handed) = channel();
        let writer = std::thread::spawn(move || {
            journal.serve(&appended, |puts, _| forwarded.send(puts).is_ok());
        });
        let mut waiting = Vec::new();
        for puts in groups {
            let (synced, syncing) = tokio::sync::oneshot::channel();
            appends
                .send(Append {
                    puts,
                    bytes: 0,
                    synced,
                })
                .unwrap();
            waiting.push(syncing);
        }
        for syncing in waiting {
            assert_eq!(syncing.blocking_recv().unwrap(), Ok(()));
        }
        drop(appends);
        writer.join().unwrap();
        (handed.iter().flatten().collect(), progress)
    }

    fn replayed(journal: &mut Journal) -> Vec<Put> {
        let mut all = Vec::new();
        journal
            .replay(|puts, _| {
                all.extend(puts);
                true
            })
            .unwrap();
        all
    }

    fn segments(dir: &Path) -> usize {
        fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "log")
            })
            .count()
    }

    #[test]
    fn what_was_logged_and_has_not_landed_comes_back_as_it_was_put() {
        let dir = state("back");
        let (journal, kept) = Journal::open(&dir, "s").unwrap();
        assert_eq!(kept, Kept::default());
        let (handed, _) = log(journal, vec![vec![put(1), put(2)], vec![put(3)]]);
        assert_eq!(handed.len(), 3);
        assert!(
            handed.iter().all(|p| p.arrival_ms.is_some()),
            "stamped as it arrived"
        );
        let (mut journal, kept) = Journal::open(&dir, "s").unwrap();
        assert_eq!(kept.records, 3);
        assert_eq!(replayed(&mut journal), handed);
    }

    #[test]
    fn records_that_landed_are_forgotten_and_a_landed_segment_is_removed() {
        let dir = state("landed");
        let (journal, _) = Journal::open(&dir, "s").unwrap();
        let (_, progress) = log(journal, vec![(0..5).map(put).collect()]);
        progress.landed_below(2);
        let (mut journal, kept) = Journal::open(&dir, "s").unwrap();
        assert_eq!(
            kept.records, 3,
            "the two that landed are not delivered again"
        );
        let again = replayed(&mut journal);
        assert_eq!(again[0].data, b"record 2");
        // This run numbers the three 0, 1, 2; when all have landed nothing is kept.
        journal.progress().landed_below(3);
        drop(journal);
        assert_eq!(segments(&dir.join("s")), 0);
        let (_, kept) = Journal::open(&dir, "s").unwrap();
        assert_eq!(kept.records, 0);
    }

    /// A state `name` with two records logged in one segment: the folder and the segment.
    fn two_logged(name: &str) -> (PathBuf, PathBuf) {
        let dir = state(name);
        let (journal, _) = Journal::open(&dir, "s").unwrap();
        log(journal, vec![vec![put(1), put(2)]]);
        let segment = segment_path(&dir.join("s"), 1);
        (dir, segment)
    }

    #[test]
    fn a_write_cut_short_at_the_end_is_cut_off_and_the_whole_records_before_it_kept() {
        let (dir, segment) = two_logged("torn");
        let whole = fs::metadata(&segment).unwrap().len();
        let mut file = OpenOptions::new().append(true).open(&segment).unwrap();
        file.write_all(&[40, 0, 0, 0, 1, 2, 3, 4, b'x']).unwrap();
        let (mut journal, kept) = Journal::open(&dir, "s").unwrap();
        assert_eq!(kept.records, 2);
        assert_eq!(kept.damage.len(), 1, "{:?}", kept.damage);
        assert!(kept.damage[0].contains("9 bytes"), "{:?}", kept.damage);
        assert_eq!(fs::metadata(&segment).unwrap().len(), whole);
        assert_eq!(replayed(&mut journal).len(), 2);
    }

    #[test]
    fn a_record_whose_checksum_fails_ends_what_is_read() {
        let (dir, segment) = two_logged("crc");
        let mut bytes = fs::read(&segment).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&segment, bytes).unwrap();
        let (_, kept) = Journal::open(&dir, "s").unwrap();
        assert_eq!(kept.records, 1);
    }

    #[test]
    fn a_new_run_numbers_its_segments_after_every_earlier_one() {
        let dir = state("numbers");
        let (journal, _) = Journal::open(&dir, "s").unwrap();
        log(journal, vec![vec![put(1)]]);
        let (mut journal, _) = Journal::open(&dir, "s").unwrap();
        replayed(&mut journal);
        log(journal, vec![vec![put(2)]]);
        assert!(segment_path(&dir.join("s"), 2).exists());
        let (mut journal, kept) = Journal::open(&dir, "s").unwrap();
        assert_eq!(kept.records, 2);
        let data: Vec<Vec<u8>> = replayed(&mut journal).into_iter().map(|p| p.data).collect();
        assert_eq!(data, [b"record 1".to_vec(), b"record 2".to_vec()]);
    }

    #[test]
    fn a_state_folder_in_use_or_a_name_that_is_no_folder_is_refused() {
        let dir = state("in-use");
        let (_journal, _) = Journal::open(&dir, "s").unwrap();
        assert!(matches!(
            Journal::open(&dir, "s"),
            Err(JournalError::InUse(_))
        ));
        assert!(matches!(
            Journal::open(&dir, ".."),
            Err(JournalError::Name(_))
        ));
    }
}
