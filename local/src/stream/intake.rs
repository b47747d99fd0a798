//! A producer's put becoming records of the stream: for a Kinesis source, in
//! the shard its partition key hashes to (or the one a real stream had it
//! in), with a sequence number and the record id Firehose makes of it, and
//! split into its user records when it is a KPL aggregate; and the records
//! the built-in processors make of it.

use super::event::{self, KinesisMetadata, Record};
use super::kpl;
use super::producer::Put;
use super::shards;
use crate::template::Source;

/// Numbers and ids for the records of one run, from its seed.
pub struct Intake {
    source: Source,
    /// What the run's Direct PUT sequence numbers are made of.
    stem: u64,
}

impl Intake {
    /// Draws the run's stem from `rng`.
    pub fn new(source: Source, rng: &mut fastrand::Rng) -> Self {
        Intake {
            source,
            stem: rng.u64(..),
        }
    }

    /// The record `put` becomes, the `index`th put of the run; `rng` makes
    /// up a partition key where a Kinesis producer gave none.
    pub fn record(&self, index: u64, put: Put, arrival_ms: i64, rng: &mut fastrand::Rng) -> Record {
        let (shard, sequence) = match put.kinesis {
            Some(origin) => (Some(origin.shard), origin.sequence_number),
            None => (None, event::sequence_number(self.stem, index)),
        };
        let kinesis = match &self.source {
            Source::Kinesis { shards: count, .. } => {
                let partition_key = put
                    .partition_key
                    .unwrap_or_else(|| format!("{:08x}", rng.u32(..)));
                Some(KinesisMetadata {
                    shard: shard.unwrap_or_else(|| shards::shard_of(&partition_key, *count)),
                    partition_key,
                })
            }
            Source::DirectPut => None,
        };
        Record {
            index,
            record_id: event::record_id(&sequence, kinesis.as_ref().map(|k| k.shard), 0),
            sequence_number: sequence,
            data: put.data,
            original: None,
            subsequence: 0,
            arrival_ms,
            kinesis,
        }
    }
}

/// The user records of a KPL aggregate read from a Kinesis source, each a
/// record of its own in the aggregate's shard, with its own partition key and
/// its place as sub-sequence number: Firehose de-aggregates them before
/// anything else. `None` when `record` is not an aggregate, or came by Direct
/// PUT (Firehose de-aggregates only what it reads from Kinesis).
pub fn kpl_user_records(record: &Record) -> Option<Vec<Record>> {
    let shard = record.kinesis.as_ref()?.shard;
    let users = kpl::deaggregate(&record.data)?;
    let records = (0u32..).zip(users).map(|(subsequence, user)| Record {
        index: record.index,
        record_id: event::record_id(&record.sequence_number, Some(shard), subsequence),
        sequence_number: record.sequence_number.clone(),
        data: user.data,
        original: None,
        subsequence,
        arrival_ms: record.arrival_ms,
        kinesis: Some(KinesisMetadata {
            shard,
            partition_key: user.partition_key,
        }),
    });
    Some(records.collect())
}

/// The records `parts` (what the built-in processors made of `record`'s
/// data) are: `record` itself, changed (keeping what it arrived as, for error
/// objects), or the records de-aggregation split it into.
pub fn records_of(mut record: Record, mut parts: Vec<Vec<u8>>) -> Vec<Record> {
    if parts.len() == 1 {
        let data = parts.remove(0);
        if data != record.data {
            record.original = Some(std::mem::replace(&mut record.data, data));
        }
        return vec![record];
    }
    // Each part keeps its own bytes for error objects: with the original, a
    // replay would put it in once per part.
    let parts = (0u32..).zip(parts).map(|(subsequence, data)| Record {
        index: record.index,
        record_id: event::record_id(
            &record.sequence_number,
            record.kinesis.as_ref().map(|k| k.shard),
            subsequence,
        ),
        sequence_number: record.sequence_number.clone(),
        data,
        original: None,
        subsequence,
        arrival_ms: record.arrival_ms,
        kinesis: record.kinesis.clone(),
    });
    parts.collect()
}
