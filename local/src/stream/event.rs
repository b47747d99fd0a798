//! The records in flight and the Firehose event that hands a batch of them
//! to the function: record ids, and for a Kinesis source the shard,
//! partition key and sequence number of each record, as Firehose sends them.

use std::fmt::Write as _;

use super::shards::shard_id;
use crate::json_text;

/// A record inside the stream.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its place in the input (0-based), for the trace.
    pub index: u64,
    pub record_id: String,
    /// The source's sequence number (Firehose's own for Direct PUT); the record id is made of it.
    pub sequence_number: String,
    /// What the function gets: the record after the built-in processors.
    pub data: Vec<u8>,
    /// The record as it arrived, when the built-in processors changed it: what error objects keep.
    pub original: Option<Vec<u8>>,
    /// Its place among the records de-aggregation made of one (0 otherwise).
    pub subsequence: u32,
    pub arrival_ms: i64,
    pub kinesis: Option<KinesisMetadata>,
}

impl Record {
    /// The bytes an error object keeps for it (`rawData`).
    pub fn raw(&self) -> &[u8] {
        self.original.as_deref().unwrap_or(&self.data)
    }
}

/// Where a Kinesis source had the record.
#[derive(Debug, Clone)]
pub struct KinesisMetadata {
    pub shard: u32,
    pub partition_key: String,
}

/// A 56-digit Kinesis sequence number: the stream's seeded stem, then the record's counter.
pub fn sequence_number(stem: u64, counter: u64) -> String {
    let mut number = String::with_capacity(56);
    number.push_str("49");
    push_zero_padded(&mut number, stem, 20);
    push_zero_padded(&mut number, counter, 34);
    number
}

/// The record id Firehose gives a record: the sequence number and sub-sequence, after the shard for Kinesis.
pub fn record_id(sequence_number: &str, shard: Option<u32>, subsequence: u32) -> String {
    let (shard, width) = match shard {
        Some(shard) => (shard_id(shard), 12),
        None => (String::new(), 6),
    };
    let mut id = String::with_capacity(shard.len() + sequence_number.len() + width);
    id.push_str(&shard);
    id.push_str(sequence_number);
    push_zero_padded(&mut id, subsequence.into(), width);
    id
}

/// `n` in decimal, zero-padded to `width` digits: `format!("{n:0width$}")`
/// without the formatter, which pads a character at a time (the few of these
/// a record made were 8% of a run's instructions).
pub(super) fn push_zero_padded(out: &mut String, n: u64, width: usize) {
    const ZEROS: &str = "0000000000000000000000000000000000000000";
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n);
    // Whole runs of zeros: pushing them a char at a time was 1% of a run.
    let mut padding = width.saturating_sub(digits.len());
    while padding > 0 {
        let run = padding.min(ZEROS.len());
        out.push_str(&ZEROS[..run]);
        padding -= run;
    }
    out.push_str(digits);
}

/// The most bytes an invocation event may have: Lambda's 6 MiB request limit.
pub const MAX_EVENT_BYTES: usize = 6_291_456;

/// Room for an event's fields besides its records: the ids, ARNs and region
/// (each at most a few hundred bytes) and the punctuation.
pub const EVENT_FRAME_BYTES: usize = 4096;

/// At most the bytes `record` takes in an invocation event (its comma
/// included): exact for the data, generous for the escaping of the rest.
pub fn event_bytes_at_most(record: &Record) -> usize {
    // `{"recordId":"…","approximateArrivalTimestamp":N,"data":"…"}` and a comma.
    let fields = 80 + record.record_id.len() + record.data.len().div_ceil(3) * 4;
    let kinesis = record.kinesis.as_ref().map_or(0, |k| {
        // The metadata's names and numbers, and every key byte escaped as `\u00XX` at worst.
        180 + 6 * k.partition_key.len() + 6 * record.sequence_number.len()
    });
    fields + kinesis
}

/// The event for one invocation, written straight into one buffer (no JSON
/// tree: a 3 MB batch is a few hundred thousand records).
pub fn invocation_event(
    invocation_id: &str,
    stream_arn: &str,
    source_stream_arn: Option<&str>,
    region: &str,
    records: &[Record],
) -> Vec<u8> {
    let data_bytes: usize = records.iter().map(|r| r.data.len()).sum();
    let mut event = String::with_capacity(data_bytes / 3 * 4 + records.len() * 160 + 256);
    event.push_str("{\"invocationId\":");
    push_json_string(&mut event, invocation_id);
    event.push_str(",\"deliveryStreamArn\":");
    push_json_string(&mut event, stream_arn);
    if let Some(source) = source_stream_arn {
        event.push_str(",\"sourceKinesisStreamArn\":");
        push_json_string(&mut event, source);
    }
    event.push_str(",\"region\":");
    push_json_string(&mut event, region);
    event.push_str(",\"records\":[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            event.push(',');
        }
        event.push_str("{\"recordId\":");
        push_json_string(&mut event, &r.record_id);
        let _ = write!(
            event,
            ",\"approximateArrivalTimestamp\":{},\"data\":\"",
            r.arrival_ms
        );
        base64_simd::STANDARD.encode_append(&r.data, &mut event);
        event.push('"');
        if let Some(k) = &r.kinesis {
            let _ = write!(
                event,
                ",\"kinesisRecordMetadata\":{{\"shardId\":\"{}\",\"partitionKey\":",
                shard_id(k.shard)
            );
            push_json_string(&mut event, &k.partition_key);
            let _ = write!(
                event,
                ",\"approximateArrivalTimestamp\":{},\"sequenceNumber\":",
                r.arrival_ms
            );
            push_json_string(&mut event, &r.sequence_number);
            let _ = write!(event, ",\"subsequenceNumber\":{}}}", r.subsequence);
        }
        event.push('}');
    }
    event.push_str("]}");
    event.into_bytes()
}

/// `text` as a JSON string, quotes and escapes included.
fn push_json_string(out: &mut String, text: &str) {
    // Ids, sequence numbers and most keys need no escape: copied whole,
    // without serde_json's byte-by-byte escaping into a String of its own.
    if json_text::needs_no_escape(text) {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else if let Ok(quoted) = serde_json::to_string(text) {
        // Serialising a str into a String cannot fail.
        out.push_str(&quoted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_padded_as_the_formatter_pads_them() {
        for (stem, counter) in [(0, 0), (7, 123), (u64::MAX, u64::MAX), (10_u64.pow(19), 1)] {
            assert_eq!(
                sequence_number(stem, counter),
                format!("49{stem:020}{counter:034}")
            );
        }
        for shard in [0, 3, u32::MAX] {
            assert_eq!(shard_id(shard), format!("shardId-{shard:012}"));
        }
        let sequence = sequence_number(3, 4);
        for subsequence in [0, 9, 123_456, u32::MAX] {
            assert_eq!(
                record_id(&sequence, None, subsequence),
                format!("{sequence}{subsequence:06}")
            );
            assert_eq!(
                record_id(&sequence, Some(2), subsequence),
                format!("shardId-000000000002{sequence}{subsequence:012}")
            );
        }
        // Padding wider than the run of zeros kept for it.
        let mut wide = String::new();
        push_zero_padded(&mut wide, 42, 100);
        assert_eq!(wide, format!("{:0100}", 42));
    }

    #[test]
    fn strings_are_quoted_as_serde_json_quotes_them() {
        let texts = [
            "",
            "shardId-0001",
            "key \"quoted\"",
            "back\\slash",
            "tab\tline\n",
            "\u{1}\u{1f}\u{7f}",
            "naïve ☃",
        ];
        for text in texts {
            let mut out = String::new();
            push_json_string(&mut out, text);
            assert_eq!(Some(out), serde_json::to_string(text).ok(), "{text:?}");
        }
    }

    #[test]
    fn an_event_is_never_longer_than_its_records_bounds_say() {
        let mut rng = fastrand::Rng::with_seed(7);
        for kinesis in [false, true] {
            let records: Vec<Record> = (0..200)
                .map(|i| {
                    let data: Vec<u8> = (0..rng.usize(0..300)).map(|_| rng.u8(..)).collect();
                    let sequence_number = sequence_number(rng.u64(..), i);
                    let partition_key: String = (0..rng.usize(1..40))
                        .map(|_| rng.char('\0'..'\u{7f}'))
                        .collect();
                    Record {
                        index: i,
                        record_id: record_id(&sequence_number, kinesis.then_some(3), 0),
                        sequence_number,
                        data,
                        original: None,
                        subsequence: 0,
                        arrival_ms: rng.i64(0..i64::MAX),
                        kinesis: kinesis.then_some(KinesisMetadata {
                            shard: 3,
                            partition_key,
                        }),
                    }
                })
                .collect();
            let arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/a-stream-name";
            let event = invocation_event("an-invocation-id", arn, Some(arn), "us-east-1", &records);
            let bound: usize = records.iter().map(event_bytes_at_most).sum();
            assert!(
                event.len() <= bound + EVENT_FRAME_BYTES,
                "{} > {bound}",
                event.len()
            );
        }
    }

    #[test]
    fn events_are_json_of_firehose_s_shape() {
        let records = [
            Record {
                index: 0,
                record_id: "r\"1".into(),
                sequence_number: "48".into(),
                data: vec![0, 255],
                original: None,
                subsequence: 0,
                arrival_ms: 5,
                kinesis: None,
            },
            Record {
                index: 1,
                record_id: "r2".into(),
                sequence_number: "49".into(),
                data: b"x".to_vec(),
                original: None,
                subsequence: 2,
                arrival_ms: 6,
                kinesis: Some(KinesisMetadata {
                    shard: 3,
                    partition_key: "k\n".into(),
                }),
            },
        ];
        let event = invocation_event("i", "arn:s", Some("arn:k"), "us-east-1", &records);
        let event: serde_json::Value = serde_json::from_slice(&event).unwrap();
        assert_eq!(event["records"][0]["recordId"], "r\"1");
        assert_eq!(event["records"][0]["data"], "AP8=");
        assert_eq!(
            event["records"][1]["kinesisRecordMetadata"]["shardId"],
            "shardId-000000000003"
        );
        assert_eq!(
            event["records"][1]["kinesisRecordMetadata"]["partitionKey"],
            "k\n"
        );
        assert_eq!(event["records"][1]["approximateArrivalTimestamp"], 6);
        assert_eq!(event["sourceKinesisStreamArn"], "arn:k");
        assert_eq!(
            event["records"][1]["kinesisRecordMetadata"]["subsequenceNumber"],
            2
        );
    }

    #[test]
    fn ids_have_firehose_s_shapes() {
        let sequence = sequence_number(7, 3);
        assert_eq!(sequence.len(), 56);
        assert!(record_id(&sequence, Some(2), 0).starts_with("shardId-00000000000249"));
        assert_eq!(record_id(&sequence, None, 0).len(), 62);
        assert!(record_id(&sequence, None, 7).ends_with("000007"));
    }
}
