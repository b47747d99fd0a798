//! Records the Kinesis Producer Library aggregated: several user records in
//! one Kinesis record, which Firehose splits again before the function when
//! its source is a Kinesis stream. The format (awslabs/amazon-kinesis-producer,
//! `aggregation-format.md`): the magic `F3 89 9A C2`, a protobuf
//! `AggregatedRecord`, and the MD5 of the protobuf bytes.

use md5::{Digest, Md5};
use prost::Message;

/// What every aggregate starts with.
const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];
/// The MD5 at the end.
const DIGEST_BYTES: usize = 16;

/// `AggregatedRecord`: the user records, their partition keys and explicit
/// hash keys in tables the records index into.
#[derive(Clone, PartialEq, Message)]
struct AggregatedRecord {
    #[prost(string, repeated, tag = "1")]
    partition_key_table: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    explicit_hash_key_table: Vec<String>,
    #[prost(message, repeated, tag = "3")]
    records: Vec<AggregatedEntry>,
}

/// `Record`. Its `tags` (field 4) are skipped: neither the KPL nor the KCL uses them.
#[derive(Clone, PartialEq, Message)]
struct AggregatedEntry {
    #[prost(uint64, required, tag = "1")]
    partition_key_index: u64,
    #[prost(uint64, optional, tag = "2")]
    explicit_hash_key_index: Option<u64>,
    #[prost(bytes = "vec", required, tag = "3")]
    data: Vec<u8>,
}

/// One record a producer gave the KPL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub partition_key: String,
    pub explicit_hash_key: Option<String>,
    pub data: Vec<u8>,
}

/// The user records in `data`, when it is an aggregate; `None` when it is
/// any other record, which goes on as it is. As the KCL decides it: the
/// magic, more than the digest after it, a matching MD5, a message that
/// parses, and (our addition) every index inside its table and at least one
/// record, so that no bytes are lost to a record that only looks like one.
pub fn deaggregate(data: &[u8]) -> Option<Vec<UserRecord>> {
    let rest = data.strip_prefix(&MAGIC)?;
    if rest.len() <= DIGEST_BYTES {
        return None;
    }
    let (message, digest) = rest.split_at(rest.len() - DIGEST_BYTES);
    if Md5::digest(message).as_slice() != digest {
        return None;
    }
    let aggregate = AggregatedRecord::decode(message).ok()?;
    if aggregate.records.is_empty() {
        return None;
    }
    let entry = |table: &[String], index: u64| {
        usize::try_from(index)
            .ok()
            .and_then(|i| table.get(i))
            .cloned()
    };
    aggregate
        .records
        .into_iter()
        .map(|record| {
            let explicit_hash_key = match record.explicit_hash_key_index {
                Some(index) => Some(entry(&aggregate.explicit_hash_key_table, index)?),
                None => None,
            };
            Some(UserRecord {
                partition_key: entry(&aggregate.partition_key_table, record.partition_key_index)?,
                explicit_hash_key,
                data: record.data,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// An aggregate of three records made by AWS's own Python aggregator,
    /// `aws_kinesis_agg` 1.2.3 (`tests/fixtures/serve/make_kpl_aggregate.py`).
    const MADE_BY_AWS_KINESIS_AGG: &[u8] =
        include_bytes!("../../../tests/fixtures/serve/kpl-aggregate.bin");

    fn aggregate(message: &AggregatedRecord) -> Vec<u8> {
        let bytes = message.encode_to_vec();
        [&MAGIC[..], &bytes, Md5::digest(&bytes).as_slice()].concat()
    }

    #[test]
    fn an_aggregate_from_aws_kinesis_agg_gives_back_its_records() {
        let records = deaggregate(MADE_BY_AWS_KINESIS_AGG).unwrap();
        let keys: Vec<&str> = records.iter().map(|r| r.partition_key.as_str()).collect();
        assert_eq!(keys, ["user-1", "user-2", "user-1"]);
        assert_eq!(records[0].data, b"{\"n\":1}");
        assert_eq!(records[2].data, b"{\"n\":3,\"text\":\"caf\xc3\xa9\"}");
        assert_eq!(records[1].explicit_hash_key.as_deref(), Some("42"));
        assert_eq!(records[0].explicit_hash_key, None);
    }

    #[test]
    fn anything_short_of_a_whole_aggregate_is_an_ordinary_record() {
        let good = MADE_BY_AWS_KINESIS_AGG;
        let mut wrong_digest = good.to_vec();
        *wrong_digest.last_mut().unwrap() ^= 1;
        let only_magic = MAGIC.to_vec();
        let no_records = aggregate(&AggregatedRecord::default());
        let index_outside = aggregate(&AggregatedRecord {
            partition_key_table: vec!["k".into()],
            explicit_hash_key_table: vec![],
            records: vec![AggregatedEntry {
                partition_key_index: 1,
                explicit_hash_key_index: None,
                data: b"x".to_vec(),
            }],
        });
        let not_protobuf = {
            let junk = [0xFFu8; 8];
            [&MAGIC[..], &junk, Md5::digest(junk).as_slice()].concat()
        };
        for data in [
            &b"{\"plain\":true}"[..],
            &good[1..],
            &wrong_digest,
            &only_magic,
            &no_records,
            &index_outside,
            &not_protobuf,
        ] {
            assert_eq!(deaggregate(data), None, "{data:?}");
        }
    }
}
