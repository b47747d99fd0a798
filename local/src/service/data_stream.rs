//! A Kinesis data stream as `serve` keeps it: its shards, each numbering the
//! records put in it, and the delivery streams that read it. It holds no
//! records: each put goes straight to the streams reading it, as Firehose
//! reads a stream as soon as records arrive.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::stream::shards;
use crate::template::DataStream;

/// A data stream taking records.
pub struct LiveDataStream {
    pub stream: DataStream,
    /// The delivery streams reading it.
    pub readers: Vec<String>,
    /// When `serve` started, in epoch milliseconds: the stream's creation.
    pub created_ms: i64,
    /// Each shard's count of records put: the next one's sequence counter.
    counters: Vec<AtomicU64>,
}

/// Where a record was put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub shard: u32,
    pub sequence_number: String,
}

impl LiveDataStream {
    pub fn new(stream: DataStream, readers: Vec<String>, created_ms: i64) -> Self {
        let counters = (0..stream.shards).map(|_| AtomicU64::new(0)).collect();
        LiveDataStream {
            stream,
            readers,
            created_ms,
            counters,
        }
    }

    /// Puts a record whose hash key is `hash` in its shard, after every record before it there.
    pub fn place(&self, hash: u128) -> Placed {
        let shard = shards::shard_of_hash(hash, self.stream.shards);
        let counter = self
            .counters
            .get(shard as usize)
            .map_or(0, |c| c.fetch_add(1, Ordering::Relaxed) + 1);
        Placed {
            shard,
            sequence_number: self.sequence_number(shard, counter),
        }
    }

    /// Records put in all its shards.
    pub fn records_put(&self) -> u64 {
        self.counters
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// A 56-digit sequence number: `49`, the stream's creation in epoch
    /// seconds, the shard, and its counter. It grows with each record of a
    /// shard, is unique in the stream, and is larger after a restart.
    pub fn sequence_number(&self, shard: u32, counter: u64) -> String {
        format!("49{:010}{shard:06}{counter:038}", self.created_ms / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(shards: u32) -> LiveDataStream {
        let stream = DataStream {
            name: "s".into(),
            arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            shards,
            on_demand: false,
        };
        LiveDataStream::new(stream, vec![], 1_765_000_000_000)
    }

    #[test]
    fn sequence_numbers_grow_in_each_shard_and_never_repeat() {
        let stream = stream(3);
        let mut seen = std::collections::BTreeSet::new();
        let mut last = [String::new(), String::new(), String::new()];
        for i in 0..300 {
            let placed = stream.place(shards::hash_key(&format!("key-{i}")));
            assert_eq!(placed.sequence_number.len(), 56);
            let previous = &mut last[placed.shard as usize];
            // Same length, so text order is number order.
            assert!(placed.sequence_number > *previous);
            previous.clone_from(&placed.sequence_number);
            assert!(seen.insert(placed.sequence_number));
        }
        assert_eq!(stream.records_put(), 300);
        assert_eq!(stream.place(0).shard, 0);
        assert_eq!(stream.place(u128::MAX).shard, 2);
    }
}
