//! The records in flight and the Firehose event that hands a batch of them
//! to the function: record ids, and for a Kinesis source the shard,
//! partition key and sequence number of each record, as Firehose sends them.

use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{Value, json};

/// A record inside the stream.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its place in the input (0-based), for the trace.
    pub index: u64,
    pub record_id: String,
    pub data: Vec<u8>,
    pub arrival_ms: i64,
    pub kinesis: Option<KinesisMetadata>,
}

/// Where a Kinesis source had the record.
#[derive(Debug, Clone)]
pub struct KinesisMetadata {
    pub shard: u32,
    pub partition_key: String,
    pub sequence_number: String,
}

/// The shard Kinesis puts a partition key in: the MD5 of the key as a
/// 128-bit number, in `shards` equal hash-key ranges.
pub fn shard_of(partition_key: &str, shards: u32) -> u32 {
    let digest = Md5::digest(partition_key.as_bytes());
    let high = u64::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ]);
    ((u128::from(high) * u128::from(shards.max(1))) >> 64) as u32
}

/// `shardId-000000000003`.
pub fn shard_id(shard: u32) -> String {
    format!("shardId-{shard:012}")
}

/// A 56-digit Kinesis sequence number: the stream's seeded stem, then the record's counter.
pub fn sequence_number(stem: u64, counter: u64) -> String {
    format!("49{stem:020}{counter:034}")
}

/// The record id Firehose gives a record: the sequence number and sub-sequence, after the shard for Kinesis.
pub fn record_id(sequence_number: &str, shard: Option<u32>) -> String {
    match shard {
        Some(shard) => format!("{}{sequence_number}000000000000", shard_id(shard)),
        None => format!("{sequence_number}000000"),
    }
}

/// The event for one invocation.
pub fn invocation_event(
    invocation_id: &str,
    stream_arn: &str,
    source_stream_arn: Option<&str>,
    region: &str,
    records: &[Record],
) -> Vec<u8> {
    let base64 = base64::engine::general_purpose::STANDARD;
    let records: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut record = json!({
                "recordId": r.record_id,
                "approximateArrivalTimestamp": r.arrival_ms,
                "data": base64.encode(&r.data),
            });
            if let Some(k) = &r.kinesis {
                record["kinesisRecordMetadata"] = json!({
                    "shardId": shard_id(k.shard),
                    "partitionKey": k.partition_key,
                    "approximateArrivalTimestamp": r.arrival_ms,
                    "sequenceNumber": k.sequence_number,
                    "subsequenceNumber": 0,
                });
            }
            record
        })
        .collect();
    let mut event = json!({
        "invocationId": invocation_id,
        "deliveryStreamArn": stream_arn,
        "region": region,
        "records": records,
    });
    if let Some(source) = source_stream_arn {
        event["sourceKinesisStreamArn"] = json!(source);
    }
    event.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_keys_spread_over_shards_as_kinesis_hashes_them() {
        assert_eq!(shard_of("anything", 1), 0);
        // MD5("a") = 0cc175b9...: the first sixteenth of the hash-key space.
        assert_eq!(shard_of("a", 16), 0);
        // MD5("b") = 92eb5ffe...: 0x92 / 0x100 of the space, shard 2 of 4.
        assert_eq!(shard_of("b", 4), 2);
        let mut seen = [0; 4];
        for i in 0..400 {
            seen[shard_of(&format!("key-{i}"), 4) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 60), "{seen:?}");
    }

    #[test]
    fn ids_have_firehose_s_shapes() {
        let sequence = sequence_number(7, 3);
        assert_eq!(sequence.len(), 56);
        assert!(record_id(&sequence, Some(2)).starts_with("shardId-00000000000249"));
        assert_eq!(record_id(&sequence, None).len(), 62);
    }
}
