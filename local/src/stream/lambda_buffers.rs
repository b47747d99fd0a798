//! The Lambda processor's buffers: one per shard (Direct PUT is one), each
//! cut into a batch for the function by the processor's `BufferSizeInMBs`,
//! or `BufferIntervalInSeconds` after its first record, and before its event
//! would pass Lambda's 6 MiB request limit. AWS documents nothing of the
//! last; it is firehose-local's choice, as many small records make an event
//! several times their size.

use std::collections::BTreeMap;

use super::event::{self, EVENT_FRAME_BYTES, MAX_EVENT_BYTES, Record};
use crate::sink::Buffering;

struct Batch {
    records: Vec<Record>,
    bytes: u64,
    /// At most what the batch's event will take.
    event_bytes: usize,
    opened_ms: i64,
}

/// The records waiting for the function, by shard.
pub struct LambdaBuffers {
    buffering: Buffering,
    batches: BTreeMap<u32, Batch>,
}

impl LambdaBuffers {
    pub fn new(buffering: Buffering) -> Self {
        LambdaBuffers {
            buffering,
            batches: BTreeMap::new(),
        }
    }

    /// Adds `record` to its shard's buffer at `now_ms`; the batches that are
    /// full: the one before it, when its event has no room for `record`, and
    /// the one with it, when `record` fills it.
    pub fn add(&mut self, record: Record, now_ms: i64) -> Vec<Vec<Record>> {
        let shard = record.kinesis.as_ref().map_or(0, |k| k.shard);
        let event_bytes = event::event_bytes_at_most(&record);
        let mut full = Vec::new();
        let no_room = self.batches.get(&shard).is_some_and(|batch| {
            batch.event_bytes + event_bytes > MAX_EVENT_BYTES - EVENT_FRAME_BYTES
        });
        if no_room {
            full.extend(self.take(shard));
        }
        // A batch cut for room opens again now: the record arrived now.
        let batch = self.batches.entry(shard).or_insert_with(|| Batch {
            records: Vec::new(),
            bytes: 0,
            event_bytes: 0,
            opened_ms: now_ms,
        });
        batch.bytes += record.data.len() as u64;
        batch.event_bytes += event_bytes;
        batch.records.push(record);
        if batch.bytes >= self.buffering.size_bytes {
            full.extend(self.take(shard));
        }
        full
    }

    /// The buffer due first by its interval: when, and its shard.
    pub fn next_due(&self) -> Option<(i64, u32)> {
        self.batches
            .iter()
            .map(|(shard, b)| (b.opened_ms + self.buffering.interval_ms, *shard))
            .min()
    }

    /// The lowest input index of any record waiting for the function: each
    /// buffer's first, as a shard's records come in input order.
    pub fn oldest_index(&self) -> Option<u64> {
        self.batches
            .values()
            .filter_map(|b| b.records.first().map(|r| r.index))
            .min()
    }

    /// Every buffer's batch, each buffer emptied.
    pub fn take_all(&mut self) -> Vec<Vec<Record>> {
        std::mem::take(&mut self.batches)
            .into_values()
            .map(|batch| batch.records)
            .collect()
    }

    /// The batch of `shard`'s buffer, which is emptied.
    pub fn take(&mut self, shard: u32) -> Option<Vec<Record>> {
        self.batches.remove(&shard).map(|batch| batch.records)
    }
}
