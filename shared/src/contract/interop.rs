//! Conversions from and to the `aws_lambda_events` Firehose types, for code
//! that already holds them (feature `aws-lambda-events`).
//!
//! Their event decodes base64 while parsing, so a batch with one bad record
//! never reaches this point; an event that did is converted back to base64
//! text so the pipeline handles it like any other.

use std::borrow::Cow;

use aws_lambda_events::event::firehose::{
    KinesisFirehoseEvent, KinesisFirehoseEventRecord, KinesisFirehoseRecordMetadata,
    KinesisFirehoseResponse, KinesisFirehoseResponseRecord,
};

use crate::contract::codec;
use crate::contract::{
    Event, EventRecord, KinesisRecordMetadata, Outcome, Response, ResponseMetadata, ResponseRecord,
};

impl TryFrom<&KinesisFirehoseEvent> for Event<'static> {
    type Error = Unconvertible;

    fn try_from(event: &KinesisFirehoseEvent) -> Result<Self, Unconvertible> {
        let records = event.records.iter().enumerate().map(|(index, record)| {
            let record_id = record
                .record_id
                .clone()
                .ok_or(Unconvertible::MissingRecordId { index })?;
            Ok(event_record(record_id, record))
        });
        Ok(Event {
            invocation_id: event.invocation_id.clone(),
            delivery_stream_arn: event.delivery_stream_arn.clone(),
            source_kinesis_stream_arn: event.source_kinesis_stream_arn.clone(),
            region: event.region.clone(),
            records: records.collect::<Result<_, _>>()?,
        })
    }
}

fn event_record(record_id: String, record: &KinesisFirehoseEventRecord) -> EventRecord<'static> {
    EventRecord {
        record_id: Cow::Owned(record_id),
        data: Cow::Owned(codec::encode(&record.data)),
        approximate_arrival_timestamp: Some(
            record.approximate_arrival_timestamp.0.timestamp_millis(),
        ),
        kinesis_record_metadata: record
            .kinesis_firehose_record_metadata
            .as_ref()
            .map(|m| Box::new(KinesisRecordMetadata::from(m))),
    }
}

impl From<&KinesisFirehoseRecordMetadata> for KinesisRecordMetadata {
    fn from(m: &KinesisFirehoseRecordMetadata) -> Self {
        KinesisRecordMetadata {
            shard_id: m.shard_id.clone(),
            partition_key: m.partition_key.clone(),
            sequence_number: m.sequence_number.clone(),
            subsequence_number: u64::try_from(m.subsequence_number).ok(),
            approximate_arrival_timestamp: Some(
                m.approximate_arrival_timestamp.0.timestamp_millis(),
            ),
        }
    }
}

/// An event or response that cannot be converted: Firehose would refuse it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unconvertible {
    #[error("record {index} has no recordId")]
    MissingRecordId { index: usize },
    #[error("record {index} has data that is not valid base64: {reason}")]
    BadBase64 { index: usize, reason: String },
    #[error(
        "record {index} has result {result:?}; Firehose accepts only Ok, Dropped or ProcessingFailed"
    )]
    BadResult {
        index: usize,
        result: Option<String>,
    },
}

impl TryFrom<&KinesisFirehoseResponse> for Response {
    type Error = Unconvertible;

    fn try_from(response: &KinesisFirehoseResponse) -> Result<Self, Unconvertible> {
        let records = response.records.iter().enumerate().map(|(index, r)| {
            let record_id = r
                .record_id
                .clone()
                .ok_or(Unconvertible::MissingRecordId { index })?;
            let result = match r.result.as_deref() {
                Some("Ok") => Outcome::Ok,
                Some("Dropped") => Outcome::Dropped,
                Some("ProcessingFailed") => Outcome::ProcessingFailed,
                other => {
                    return Err(Unconvertible::BadResult {
                        index,
                        result: other.map(str::to_owned),
                    });
                }
            };
            let keys = &r.metadata.partition_keys;
            Ok(ResponseRecord {
                record_id,
                result,
                data: codec::encode(&r.data),
                metadata: (!keys.is_empty()).then(|| ResponseMetadata {
                    partition_keys: keys.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                }),
            })
        });
        Ok(Response {
            records: records.collect::<Result<_, _>>()?,
        })
    }
}

impl TryFrom<&Response> for KinesisFirehoseResponse {
    type Error = Unconvertible;

    fn try_from(response: &Response) -> Result<Self, Unconvertible> {
        let mut out = KinesisFirehoseResponse::default();
        out.records = response
            .records
            .iter()
            .enumerate()
            .map(|(index, r)| {
                let mut record = KinesisFirehoseResponseRecord::default();
                record.record_id = Some(r.record_id.clone());
                record.result = Some(r.result.as_str().to_owned());
                *record.data = codec::decode(&r.data)
                    .map_err(|e| Unconvertible::BadBase64 {
                        index,
                        reason: e.to_string(),
                    })?
                    .bytes;
                if let Some(metadata) = &r.metadata {
                    record.metadata.partition_keys = metadata
                        .partition_keys
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                }
                Ok(record)
            })
            .collect::<Result<_, _>>()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Pipeline;
    use crate::pipeline::transform::{Verdict, transform_fn};

    const EVENT: &str = r#"{"invocationId":"i","deliveryStreamArn":"arn:aws:firehose:us-east-1:1:deliverystream/s",
        "records":[{"recordId":"r1","approximateArrivalTimestamp":1507217624302,"data":"SGVsbG8=",
        "kinesisRecordMetadata":{"shardId":"s","partitionKey":"p","sequenceNumber":"1","subsequenceNumber":3,
        "approximateArrivalTimestamp":1507217624302}}]}"#;

    #[test]
    fn their_event_runs_through_our_pipeline_and_back() {
        let theirs: KinesisFirehoseEvent = serde_json::from_str(EVENT).unwrap();
        let ours = Event::try_from(&theirs).unwrap();
        assert_eq!(ours.records[0].data, "SGVsbG8=");
        assert_eq!(
            ours.records[0]
                .kinesis_record_metadata
                .as_ref()
                .unwrap()
                .subsequence_number,
            Some(3)
        );
        let pipeline = Pipeline::new().then(transform_fn("key", |r| {
            r.set_partition_key("k", "v");
            Ok(Verdict::Keep)
        }));
        let processed = pipeline.process_event(&ours, 0).unwrap();
        let response = Response::from_slice(&processed.response).unwrap();
        let theirs_back = KinesisFirehoseResponse::try_from(&response).unwrap();
        assert_eq!(&*theirs_back.records[0].data, b"Hello");
        assert_eq!(theirs_back.records[0].metadata.partition_keys["k"], "v");
        assert_eq!(Response::try_from(&theirs_back).unwrap(), response);
        // What we write, their types read.
        let parsed: KinesisFirehoseResponse = serde_json::from_slice(&processed.response).unwrap();
        assert_eq!(parsed, theirs_back);
    }

    #[test]
    fn their_free_text_results_are_checked() {
        let mut theirs = KinesisFirehoseResponse::default();
        let mut record = KinesisFirehoseResponseRecord::default();
        record.record_id = Some("r".to_owned());
        record.result = Some("TRANSFORMED_STATE_OK".to_owned());
        theirs.records.push(record);
        assert!(matches!(
            Response::try_from(&theirs),
            Err(Unconvertible::BadResult { index: 0, .. })
        ));
    }

    #[test]
    fn what_firehose_would_refuse_is_an_error_not_an_empty_value() {
        let mut theirs: KinesisFirehoseEvent = serde_json::from_str(EVENT).unwrap();
        theirs.records[0].record_id = None;
        assert_eq!(
            Event::try_from(&theirs).err(),
            Some(Unconvertible::MissingRecordId { index: 0 })
        );
        let ours = Response {
            records: vec![ResponseRecord {
                record_id: "r".to_owned(),
                result: Outcome::Ok,
                data: "not base64!".to_owned(),
                metadata: None,
            }],
        };
        assert!(matches!(
            KinesisFirehoseResponse::try_from(&ours),
            Err(Unconvertible::BadBase64 { index: 0, .. })
        ));
    }
}
