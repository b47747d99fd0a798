//! The Kinesis Data Streams API (`Kinesis_20131202`) as `serve` answers it,
//! in JSON or CBOR: `PutRecord` and `PutRecords` into the template's data
//! streams (and on to the delivery streams reading them), with Kinesis's
//! limits and errors, and what producers call before they write:
//! `DescribeStream` and `DescribeStreamSummary` (Vector's health check),
//! `ListShards` (the KPL's shard map) and `ListStreams`. No answer carries a
//! `StreamId`: an SDK that sees one sends to AWS itself, past the endpoint.

use serde::{Deserialize, Serialize};

use super::Service;
use super::data_stream::{LiveDataStream, Placed};
use super::protocol::{ApiError, Blob, Protocol, Timestamp, check_count, too_long, validation};
use crate::stream::live::Refusal;
use crate::stream::producer::{Entry, KinesisOrigin, Put};
use crate::stream::shards::{self, shard_id};
use crate::template::ACCOUNT;

/// The most records a `PutRecords` takes.
const MAX_BATCH_RECORDS: usize = 500;
/// The most bytes a record may have, data and partition key together: a stream's default 1 MiB.
const MAX_RECORD_BYTES: usize = 1 << 20;
/// The most bytes a `PutRecords` may carry, partition keys included (10 MiB).
const MAX_BATCH_BYTES: usize = 10 << 20;
/// The longest partition key, in characters.
const MAX_PARTITION_KEY_CHARS: usize = 256;
/// The most shards `DescribeStream` lists at once, and `ListShards`.
const DESCRIBED_SHARDS: usize = 100;
const LISTED_SHARDS: usize = 1000;
/// The most streams `ListStreams` lists at once.
const LISTED_STREAMS: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordInput {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    data: Blob,
    partition_key: String,
    explicit_hash_key: Option<String>,
    sequence_number_for_ordering: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordsInput {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    records: Vec<RecordInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordInput {
    data: Blob,
    partition_key: String,
    explicit_hash_key: Option<String>,
}

/// The input of the calls that only name a stream and page through its shards.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StreamInput {
    stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    /// `DescribeStream`.
    limit: Option<usize>,
    exclusive_start_shard_id: Option<String>,
    /// `ListShards`.
    max_results: Option<usize>,
    next_token: Option<String>,
    shard_filter: Option<ShardFilter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShardFilter {
    #[serde(rename = "Type")]
    kind: String,
    shard_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListStreamsInput {
    limit: Option<usize>,
    exclusive_start_stream_name: Option<String>,
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordOutput {
    shard_id: String,
    sequence_number: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordsOutput {
    failed_record_count: u32,
    records: Vec<PutRecordOutput>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Shard {
    shard_id: String,
    hash_key_range: HashKeyRange,
    /// No ending number: every shard is open.
    sequence_number_range: SequenceNumberRange,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct HashKeyRange {
    starting_hash_key: String,
    ending_hash_key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SequenceNumberRange {
    starting_sequence_number: String,
}

/// What every description of a stream says.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamFacts {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_status: &'static str,
    stream_mode_details: StreamModeDetails,
    stream_creation_timestamp: Timestamp,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamModeDetails {
    stream_mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnhancedMetrics {
    shard_level_metrics: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamDescription {
    #[serde(flatten)]
    facts: StreamFacts,
    shards: Vec<Shard>,
    has_more_shards: bool,
    retention_period_hours: u32,
    enhanced_monitoring: [EnhancedMetrics; 1],
    encryption_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamDescriptionSummary {
    #[serde(flatten)]
    facts: StreamFacts,
    retention_period_hours: u32,
    enhanced_monitoring: [EnhancedMetrics; 1],
    encryption_type: &'static str,
    open_shard_count: u32,
    consumer_count: u32,
    #[serde(rename = "MaxRecordSizeInKiB")]
    max_record_size_in_kib: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeStreamOutput {
    stream_description: StreamDescription,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeStreamSummaryOutput {
    stream_description_summary: StreamDescriptionSummary,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListShardsOutput {
    shards: Vec<Shard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListStreamsOutput {
    stream_names: Vec<String>,
    has_more_streams: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    stream_summaries: Vec<StreamFacts>,
}

/// Answers `operation` with `body` in `protocol`, for a caller that signed for `region`.
pub async fn call(
    service: &Service,
    protocol: Protocol,
    operation: &str,
    body: &[u8],
    region: &str,
) -> Result<Vec<u8>, ApiError> {
    match operation {
        "PutRecord" => {
            let request: PutRecordInput = protocol.input(body)?;
            if let Some(after) = &request.sequence_number_for_ordering
                && !is_decimal(after, 129)
            {
                return Err(ApiError::new(
                    "InvalidArgumentException",
                    format!(
                        "ExclusiveMinimumSequenceNumber {after} used in PutRecord on stream {} under account {ACCOUNT} is invalid.",
                        request.stream_name.as_deref().unwrap_or_default()
                    ),
                ));
            }
            let stream = data_stream(service, request.stream_name, request.stream_arn)?;
            let record = RecordInput {
                data: request.data,
                partition_key: request.partition_key,
                explicit_hash_key: request.explicit_hash_key,
            };
            let placed = put(service, stream, vec![checked(record, "")?])
                .await?
                .pop()
                .map(placed_output)
                .ok_or_else(|| {
                    ApiError::new("InternalFailureException", "the record was not put")
                })?;
            protocol.output(&placed)
        }
        "PutRecords" => {
            let request: PutRecordsInput = protocol.input(body)?;
            let stream = data_stream(service, request.stream_name, request.stream_arn)?;
            let records = batch(request.records)?;
            let placed = put(service, stream, records).await?;
            protocol.output(&PutRecordsOutput {
                failed_record_count: 0,
                records: placed.into_iter().map(placed_output).collect(),
            })
        }
        "DescribeStream" => {
            let request: StreamInput = protocol.input(body)?;
            let limit = request.limit.unwrap_or(DESCRIBED_SHARDS);
            let after = shard_after(request.exclusive_start_shard_id.as_deref());
            let stream = data_stream(service, request.stream_name, request.stream_arn)?;
            let (shards, more) = shards_from(stream, after, limit.clamp(1, DESCRIBED_SHARDS));
            protocol.output(&DescribeStreamOutput {
                stream_description: StreamDescription {
                    facts: facts(stream, region),
                    shards,
                    has_more_shards: more,
                    retention_period_hours: 24,
                    enhanced_monitoring: no_enhanced_monitoring(),
                    encryption_type: "NONE",
                },
            })
        }
        "DescribeStreamSummary" => {
            let request: StreamInput = protocol.input(body)?;
            let stream = data_stream(service, request.stream_name, request.stream_arn)?;
            protocol.output(&DescribeStreamSummaryOutput {
                stream_description_summary: StreamDescriptionSummary {
                    facts: facts(stream, region),
                    retention_period_hours: 24,
                    enhanced_monitoring: no_enhanced_monitoring(),
                    encryption_type: "NONE",
                    open_shard_count: stream.stream.shards,
                    consumer_count: 0,
                    max_record_size_in_kib: MAX_RECORD_BYTES >> 10,
                },
            })
        }
        "ListShards" => protocol.output(&list_shards(service, protocol.input(body)?)?),
        "ListStreams" => {
            let request: ListStreamsInput = protocol.input(body)?;
            let limit = request
                .limit
                .unwrap_or(LISTED_STREAMS)
                .clamp(1, LISTED_STREAMS);
            // The token is the last name listed: the next page starts after it.
            let after = request.next_token.or(request.exclusive_start_stream_name);
            let mut streams: Vec<&LiveDataStream> = service
                .data_streams
                .range::<str, _>((
                    after
                        .as_deref()
                        .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded),
                    std::ops::Bound::Unbounded,
                ))
                .map(|(_, stream)| stream)
                .collect();
            let more = streams.len() > limit;
            streams.truncate(limit);
            protocol.output(&ListStreamsOutput {
                stream_names: streams.iter().map(|s| s.stream.name.clone()).collect(),
                has_more_streams: more,
                next_token: more
                    .then(|| streams.last().map(|s| s.stream.name.clone()))
                    .flatten(),
                stream_summaries: streams.iter().map(|s| facts(s, region)).collect(),
            })
        }
        other => Err(ApiError::new(
            "UnknownOperationException",
            format!(
                "Kinesis_20131202.{other} is not an operation firehose-local serve answers (it answers PutRecord, PutRecords, DescribeStream, DescribeStreamSummary, ListShards and ListStreams)"
            ),
        )),
    }
}

/// The stream a call names, by its ARN when it gives one (whatever region
/// it names), else by its name.
fn data_stream(
    service: &Service,
    name: Option<String>,
    arn: Option<String>,
) -> Result<&LiveDataStream, ApiError> {
    let name = match (arn, name) {
        (Some(arn), _) => match arn.split_once(":stream/") {
            Some((_, name)) => name.to_owned(),
            None => {
                return Err(ApiError::new(
                    "InvalidArgumentException",
                    format!("StreamARN {arn} is not the ARN of a Kinesis data stream"),
                ));
            }
        },
        (None, Some(name)) => name,
        (None, None) => {
            return Err(ApiError::new(
                "InvalidArgumentException",
                "Either StreamName or StreamARN should be provided.",
            ));
        }
    };
    service.data_streams.get(&name).ok_or_else(|| {
        ApiError::new(
            "ResourceNotFoundException",
            format!("Stream {name} under account {ACCOUNT} not found."),
        )
    })
}

/// A record to put: its data, partition key and hash key.
struct Checked {
    data: Vec<u8>,
    partition_key: String,
    hash: u128,
}

/// `record` within Kinesis's limits; `member` prefixes the members' names in messages.
fn checked(record: RecordInput, member: &str) -> Result<Checked, ApiError> {
    let data = record.data.decode(|| format!("{member}data"))?;
    let key = record.partition_key;
    let bound = match key.chars().count() {
        0 => Some("greater than or equal to 1"),
        n if n > MAX_PARTITION_KEY_CHARS => Some("less than or equal to 256"),
        _ => None,
    };
    if let Some(bound) = bound {
        return Err(validation(&[format!(
            "Value '{key}' at '{member}partitionKey' failed to satisfy constraint: Member must have length {bound}"
        )]));
    }
    if data.len() > MAX_RECORD_BYTES {
        return Err(validation(&[too_long(
            data.len(),
            &format!("{member}data"),
            MAX_RECORD_BYTES,
        )]));
    }
    if data.len() + key.len() > MAX_RECORD_BYTES {
        return Err(ApiError::new(
            "InvalidArgumentException",
            format!(
                "Record size exceeds 1 MiB limit: {} bytes of data and partition key",
                data.len() + key.len()
            ),
        ));
    }
    let hash = match record.explicit_hash_key {
        None => shards::hash_key(&key),
        Some(text) => explicit_hash_key(&text, member)?,
    };
    Ok(Checked {
        data,
        partition_key: key,
        hash,
    })
}

/// An `ExplicitHashKey`: a decimal number from 0 to 2¹²⁸ − 1.
fn explicit_hash_key(text: &str, member: &str) -> Result<u128, ApiError> {
    if !is_decimal(text, 39) {
        return Err(validation(&[format!(
            "Value '{text}' at '{member}explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{{0,38}})"
        )]));
    }
    text.parse().map_err(|_| {
        ApiError::new(
            "InvalidArgumentException",
            format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {text}"
            ),
        )
    })
}

/// `0|([1-9]\d{0,digits-1})`.
fn is_decimal(text: &str, digits: usize) -> bool {
    text == "0"
        || (!text.starts_with('0')
            && (1..=digits).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_digit()))
}

/// The records of a `PutRecords` within Kinesis's limits: the count first,
/// then each record, then the total.
fn batch(records: Vec<RecordInput>) -> Result<Vec<Checked>, ApiError> {
    check_count(records.len(), MAX_BATCH_RECORDS)?;
    let checked: Vec<Checked> = (1..)
        .zip(records)
        .map(|(n, record)| checked(record, &format!("records.{n}.member.")))
        .collect::<Result<_, _>>()?;
    let total: usize = checked
        .iter()
        .map(|r| r.data.len() + r.partition_key.len())
        .sum();
    if total > MAX_BATCH_BYTES {
        return Err(ApiError::new(
            "InvalidArgumentException",
            "Records size exceeds 10 MB limit",
        ));
    }
    Ok(checked)
}

/// Puts `records` in `stream`, and so in every delivery stream reading it,
/// all or none: where each went.
async fn put(
    service: &Service,
    stream: &LiveDataStream,
    records: Vec<Checked>,
) -> Result<Vec<Placed>, ApiError> {
    if service.closing() {
        return Err(ApiError::new(
            "InternalFailureException",
            "firehose-local serve is shutting down",
        ));
    }
    let mut placed = Vec::with_capacity(records.len());
    let taken = {
        let streams = service.streams();
        let readers: Vec<_> = stream
            .readers
            .iter()
            .filter_map(|name| streams.get(name))
            .collect();
        let bytes = records.iter().map(|r| r.data.len() as u64).sum();
        // Every reader takes the records or none does, so that a retried call
        // puts nothing twice. Requests are answered one at a time and the
        // streams' engines only empty their queues, so room seen here is still
        // there when the puts below are made.
        if readers.iter().any(|live| !live.has_room_for(bytes)) {
            return Err(ApiError::new(
                "ProvisionedThroughputExceededException",
                format!(
                    "Rate exceeded for stream {} under account {ACCOUNT}.",
                    stream.stream.name
                ),
            ));
        }
        let puts = records
            .into_iter()
            .map(|record| {
                let at = stream.place(record.hash);
                let put = Put {
                    data: record.data,
                    partition_key: Some(record.partition_key),
                    arrival_ms: None,
                    kinesis: Some(KinesisOrigin {
                        shard: at.shard,
                        sequence_number: at.sequence_number.clone(),
                    }),
                    entry: Entry::Source,
                };
                placed.push(at);
                put
            })
            .collect::<Vec<Put>>();
        // Each reader but the last gets a copy; the last (most often the only one) takes the records.
        let Some((last, others)) = readers.split_last() else {
            return Ok(placed);
        };
        let mut taken = Vec::with_capacity(readers.len());
        for live in others {
            taken.push(live.put(puts.clone()).map_err(refused)?);
        }
        taken.push(last.put(puts).map_err(refused)?);
        taken
    };
    // With --state, each reader's journal has them on disk before the answer says so.
    for taken in taken {
        taken.kept().await.map_err(refused)?;
    }
    Ok(placed)
}

/// A put a reading stream did not take: InternalFailureException, which SDKs retry.
fn refused(refusal: Refusal) -> ApiError {
    ApiError::new("InternalFailureException", refusal.to_string())
}

fn placed_output(placed: Placed) -> PutRecordOutput {
    PutRecordOutput {
        shard_id: shard_id(placed.shard),
        sequence_number: placed.sequence_number,
    }
}

/// `ListShards`: the stream's shards from where the call (or its token) says.
fn list_shards(service: &Service, request: StreamInput) -> Result<ListShardsOutput, ApiError> {
    let limit = request
        .max_results
        .unwrap_or(LISTED_SHARDS)
        .clamp(1, LISTED_SHARDS);
    let (name, first) = match request.next_token {
        Some(_) if request.stream_name.is_some() || request.exclusive_start_shard_id.is_some() => {
            return Err(ApiError::new(
                "InvalidArgumentException",
                "NextToken and StreamName (or ExclusiveStartShardId) cannot be provided together.",
            ));
        }
        // Our token: the first shard of the next page, and the stream.
        Some(token) => {
            let (first, name) = token
                .split_once('/')
                .and_then(|(first, name)| Some((first.parse().ok()?, name.to_owned())))
                .ok_or_else(|| {
                    ApiError::new(
                        "InvalidArgumentException",
                        format!("Invalid NextToken: {token}"),
                    )
                })?;
            (Some(name), first)
        }
        None => {
            let after_filter = request
                .shard_filter
                .filter(|f| f.kind == "AFTER_SHARD_ID")
                .and_then(|f| f.shard_id);
            let after = request.exclusive_start_shard_id.or(after_filter);
            (request.stream_name, shard_after(after.as_deref()))
        }
    };
    // Every other filter lists every shard: all are open, none has split or closed.
    let stream = data_stream(service, name, request.stream_arn)?;
    let (shards, more) = shards_from(stream, first, limit);
    let next_token = more.then(|| format!("{}/{}", first + limit as u32, stream.stream.name));
    Ok(ListShardsOutput { shards, next_token })
}

/// The first shard after `shard_id` (`shardId-000000000003`), or 0.
fn shard_after(shard_id: Option<&str>) -> u32 {
    shard_id
        .and_then(|id| id.strip_prefix("shardId-")?.parse::<u32>().ok())
        .map_or(0, |n| n.saturating_add(1))
}

/// At most `limit` of the stream's shards from `first`, and whether more follow.
fn shards_from(stream: &LiveDataStream, first: u32, limit: usize) -> (Vec<Shard>, bool) {
    let count = stream.stream.shards;
    let shards: Vec<Shard> = (first..count)
        .take(limit)
        .map(|shard| {
            let (start, end) = shards::hash_range(shard, count);
            Shard {
                shard_id: shard_id(shard),
                hash_key_range: HashKeyRange {
                    starting_hash_key: start.to_string(),
                    ending_hash_key: end.to_string(),
                },
                sequence_number_range: SequenceNumberRange {
                    starting_sequence_number: stream.sequence_number(shard, 0),
                },
            }
        })
        .collect();
    let more = u64::from(first) + (shards.len() as u64) < u64::from(count);
    (shards, more)
}

/// What every description says of `stream`, its ARN in `region`.
fn facts(stream: &LiveDataStream, region: &str) -> StreamFacts {
    StreamFacts {
        stream_name: stream.stream.name.clone(),
        stream_arn: format!(
            "arn:aws:kinesis:{region}:{ACCOUNT}:stream/{}",
            stream.stream.name
        ),
        stream_status: "ACTIVE",
        stream_mode_details: StreamModeDetails {
            stream_mode: if stream.stream.on_demand {
                "ON_DEMAND"
            } else {
                "PROVISIONED"
            },
        },
        stream_creation_timestamp: Timestamp(stream.created_ms),
    }
}

fn no_enhanced_monitoring() -> [EnhancedMetrics; 1] {
    [EnhancedMetrics {
        shard_level_metrics: Vec::new(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_hash_keys_are_decimals_below_two_to_the_128() {
        assert_eq!(explicit_hash_key("0", "").ok(), Some(0));
        assert_eq!(
            explicit_hash_key(&u128::MAX.to_string(), "").ok(),
            Some(u128::MAX)
        );
        // 2^128 has 39 digits, as the pattern allows: over the range.
        let over = explicit_hash_key("340282366920938463463374607431768211456", "");
        assert_eq!(over.map_err(|e| e.code), Err("InvalidArgumentException"));
        for bad in ["", "01", "-1", "1e3", &"9".repeat(40)] {
            let error = explicit_hash_key(bad, "records.1.member.").unwrap_err();
            assert_eq!(error.code, "ValidationException", "{bad}");
            assert!(error.message.contains("'records.1.member.explicitHashKey'"));
        }
    }

    #[test]
    fn a_shard_id_names_the_shard_after_which_a_listing_starts() {
        assert_eq!(shard_after(None), 0);
        assert_eq!(shard_after(Some("shardId-000000000002")), 3);
        assert_eq!(shard_after(Some("nonsense")), 0);
    }
}
