//! The Lambda processor's buffers: one per shard (Direct PUT is one), each
//! cut into a batch for the function by the processor's `BufferSizeInMBs`,
//! or `BufferIntervalInSeconds` after its first record.

use std::collections::BTreeMap;

use super::event::Record;
use crate::sink::Buffering;

struct Batch {
    records: Vec<Record>,
    bytes: u64,
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

    /// Adds `record` to its shard's buffer at `now_ms`; the buffer's batch, when that fills it.
    pub fn add(&mut self, record: Record, now_ms: i64) -> Option<Vec<Record>> {
        let shard = record.kinesis.as_ref().map_or(0, |k| k.shard);
        let batch = self.batches.entry(shard).or_insert_with(|| Batch {
            records: Vec::new(),
            bytes: 0,
            opened_ms: now_ms,
        });
        batch.bytes += record.data.len() as u64;
        batch.records.push(record);
        if batch.bytes >= self.buffering.size_bytes {
            return self.take(shard);
        }
        None
    }

    /// The buffer due first by its interval: when, and its shard.
    pub fn next_due(&self) -> Option<(i64, u32)> {
        self.batches
            .iter()
            .map(|(shard, b)| (b.opened_ms + self.buffering.interval_ms, *shard))
            .min()
    }

    /// The batch of `shard`'s buffer, which is emptied.
    pub fn take(&mut self, shard: u32) -> Option<Vec<Record>> {
        self.batches.remove(&shard).map(|batch| batch.records)
    }
}
