//! The Firehose API (`Firehose_20150804`) as `serve` answers it: `PutRecord`
//! and `PutRecordBatch` into the template's delivery streams, with AWS's
//! limits and errors, and `DescribeDeliveryStream` and `ListDeliveryStreams`
//! for the producers that look before they write (Vector's health check).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Service;
use super::protocol::{ApiError, Blob, Protocol, check_count, too_long, validation};
use crate::stream::live::{LiveStream, Refusal};
use crate::stream::producer::{Entry, Put};
use crate::template::{ACCOUNT, DeliveryStream, Source};

/// The most records a `PutRecordBatch` takes.
const MAX_BATCH_RECORDS: usize = 500;
/// The most bytes a record's data may have (1,000 KiB).
pub const MAX_RECORD_BYTES: usize = 1_024_000;
/// The most bytes of data a `PutRecordBatch` may carry (4 MiB).
const MAX_BATCH_BYTES: usize = 4 << 20;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordInput {
    data: Blob,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordInput {
    delivery_stream_name: String,
    record: RecordInput,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordBatchInput {
    delivery_stream_name: String,
    records: Vec<RecordInput>,
}

/// `PutRecordBatch`'s answer, written straight from the record ids (a
/// `Value` of 500 small maps costs more than the decoding of their records).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordBatchOutput {
    failed_put_count: u32,
    encrypted: bool,
    request_responses: Vec<RecordResult>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RecordResult {
    record_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInput {
    delivery_stream_name: String,
    exclusive_start_destination_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    limit: Option<usize>,
    delivery_stream_type: Option<String>,
    exclusive_start_delivery_stream_name: Option<String>,
}

/// Answers `operation` with `body`, for a caller that signed for `region`:
/// the answer's body.
pub async fn call(
    service: &Service,
    operation: &str,
    body: &[u8],
    region: &str,
) -> Result<Vec<u8>, ApiError> {
    match operation {
        "PutRecord" => {
            let request: PutRecordInput = input(body)?;
            let data = request.record.data.decode(|| "record.data".to_owned())?;
            if data.len() > MAX_RECORD_BYTES {
                return Err(validation(&[too_long(
                    data.len(),
                    "record.data",
                    MAX_RECORD_BYTES,
                )]));
            }
            let ids = put(service, &request.delivery_stream_name, vec![data]).await?;
            output(&json!({"RecordId": ids.first(), "Encrypted": false}))
        }
        "PutRecordBatch" => {
            let request: PutRecordBatchInput = input(body)?;
            let records = batch(request.records)?;
            let ids = put(service, &request.delivery_stream_name, records).await?;
            let request_responses = ids
                .into_iter()
                .map(|record_id| RecordResult { record_id })
                .collect();
            output(&PutRecordBatchOutput {
                failed_put_count: 0,
                encrypted: false,
                request_responses,
            })
        }
        "DescribeDeliveryStream" => {
            let request: DescribeInput = input(body)?;
            let description = service.with_stream(&request.delivery_stream_name, |live| {
                let after_the_only_one = request.exclusive_start_destination_id.is_some();
                Ok(describe(
                    live,
                    region,
                    service.created_s(),
                    after_the_only_one,
                ))
            })?;
            output(&description)
        }
        "ListDeliveryStreams" => {
            let request: ListInput = input(body)?;
            let limit = request.limit.unwrap_or(10).clamp(1, 10_000);
            let mut names = service.stream_names(|stream| {
                request
                    .delivery_stream_type
                    .as_deref()
                    .is_none_or(|wanted| wanted == stream_type(stream))
            });
            if let Some(start) = &request.exclusive_start_delivery_stream_name {
                names.retain(|name| name > start);
            }
            let more = names.len() > limit;
            names.truncate(limit);
            output(&json!({"DeliveryStreamNames": names, "HasMoreDeliveryStreams": more}))
        }
        other => Err(ApiError::new(
            "UnknownOperationException",
            format!(
                "Firehose_20150804.{other} is not an operation firehose-local serve answers (it answers PutRecord, PutRecordBatch, DescribeDeliveryStream and ListDeliveryStreams)"
            ),
        )),
    }
}

/// A request's input: Firehose speaks JSON only.
fn input<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    Protocol::Json.input(body)
}

/// An answer's body, in JSON.
fn output(answer: &impl Serialize) -> Result<Vec<u8>, ApiError> {
    Protocol::Json.output(answer)
}

/// The records of a `PutRecordBatch`, decoded, within AWS's limits: the count
/// first, then each record's size, then the total.
fn batch(records: Vec<RecordInput>) -> Result<Vec<Vec<u8>>, ApiError> {
    check_count(records.len(), MAX_BATCH_RECORDS)?;
    let mut decoded = Vec::with_capacity(records.len());
    let mut too_long_ones = Vec::new();
    for (n, record) in (1..).zip(records) {
        let data = record.data.decode(|| format!("records.{n}.member.data"))?;
        if data.len() > MAX_RECORD_BYTES {
            too_long_ones.push(too_long(
                data.len(),
                &format!("records.{n}.member.data"),
                MAX_RECORD_BYTES,
            ));
        }
        decoded.push(data);
    }
    if !too_long_ones.is_empty() {
        return Err(validation(&too_long_ones));
    }
    if decoded.iter().map(Vec::len).sum::<usize>() > MAX_BATCH_BYTES {
        return Err(ApiError::new(
            "InvalidArgumentException",
            "Records size exceeds 4 MB limit",
        ));
    }
    Ok(decoded)
}

/// Puts `records` into the stream `name`, all or none; their record ids, once
/// the stream has them (with `--state`, on disk).
async fn put(
    service: &Service,
    name: &str,
    records: Vec<Vec<u8>>,
) -> Result<Vec<String>, ApiError> {
    if service.closing() {
        return Err(ApiError::new(
            "ServiceUnavailableException",
            "firehose-local serve is shutting down",
        ));
    }
    let (ids, taken) = service.with_stream(name, |live| {
        if let Source::Kinesis { .. } = live.stream.source {
            return Err(ApiError::new(
                "InvalidArgumentException",
                "This operation is not permitted on KinesisStreamAsSource delivery stream type.",
            ));
        }
        let ids = records.iter().map(|_| service.new_id()).collect();
        let puts = records
            .into_iter()
            .map(|data| Put {
                data,
                partition_key: None,
                arrival_ms: None,
                kinesis: None,
                entry: Entry::Source,
            })
            .collect();
        Ok((ids, live.put(puts).map_err(refused)?))
    })?;
    taken.kept().await.map_err(refused)?;
    Ok(ids)
}

/// A put the stream did not take, as AWS answers it: every SDK retries it by its 500.
fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        // AWS's own words for a throttled put.
        Refusal::Full(_) => ApiError::new("ServiceUnavailableException", "Slow down."),
        Refusal::Stopped(why) | Refusal::NotKept(why) => {
            ApiError::new("ServiceUnavailableException", why)
        }
    }
}

/// `DescribeDeliveryStream`'s description of `live`, its ARNs in `region`.
fn describe(live: &LiveStream, region: &str, created_s: f64, after_the_only_one: bool) -> Value {
    let stream = &live.stream;
    let destination = &stream.destination;
    let mut s3 = json!({
        "RoleARN": format!("arn:aws:iam::{ACCOUNT}:role/firehose-local"),
        "BucketARN": format!("arn:aws:s3:::{}", destination.bucket),
        "Prefix": destination.prefix.text(),
        "ErrorOutputPrefix": destination.error_prefix.text(),
        "BufferingHints": {
            "SizeInMBs": destination.buffering.size_bytes >> 20,
            "IntervalInSeconds": destination.buffering.interval_ms / 1000,
        },
        "CompressionFormat": destination.compression.name(),
        "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
        "S3BackupMode": if stream.backup.is_some() { "Enabled" } else { "Disabled" },
    });
    if stream.partitioning.is_some() {
        s3["DynamicPartitioningConfiguration"] = json!({"Enabled": true});
    }
    // One destination: starting after it leaves none.
    let destinations = if after_the_only_one {
        json!([])
    } else {
        json!([{"DestinationId": "destinationId-000000000001", "ExtendedS3DestinationDescription": s3}])
    };
    let mut description = json!({
        "DeliveryStreamName": stream.name,
        "DeliveryStreamARN": format!("arn:aws:firehose:{region}:{ACCOUNT}:deliverystream/{}", stream.name),
        "DeliveryStreamStatus": "ACTIVE",
        "DeliveryStreamType": stream_type(stream),
        "DeliveryStreamEncryptionConfiguration": {"Status": "DISABLED"},
        "VersionId": "1",
        "CreateTimestamp": created_s,
        "Destinations": destinations,
        "HasMoreDestinations": false,
    });
    if let Source::Kinesis { stream_arn, .. } = &stream.source {
        description["Source"] = json!({"KinesisStreamSourceDescription": {
            "KinesisStreamARN": stream_arn,
            "RoleARN": format!("arn:aws:iam::{ACCOUNT}:role/firehose-local"),
            "DeliveryStartTimestamp": created_s,
        }});
    }
    json!({"DeliveryStreamDescription": description})
}

fn stream_type(stream: &DeliveryStream) -> &'static str {
    match stream.source {
        Source::DirectPut => "DirectPut",
        Source::Kinesis { .. } => "KinesisStreamAsSource",
    }
}
