//! The Firehose data-transformation contract: the event a function receives
//! (read leniently) and the response it returns (written strictly).
//!
//! Input is lenient because the published sample events disagree with each
//! other: `subsequenceNumber` comes as a number, a string or `""`, timestamps as
//! numbers, numeric strings, ISO strings or fractional milliseconds, ARNs are
//! missing or misspelt (`deliverySteamArn`). Record `data` stays base64 text
//! here; it is decoded per record by the pipeline, so one bad record never
//! fails the batch.

pub(crate) mod codec;
#[cfg(feature = "aws-lambda-events")]
pub mod interop;
mod lenient;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A Firehose data-transformation event, borrowing from the payload it was read from.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    rename_all = "camelCase",
    expecting = "a Firehose data-transformation event: an object with a `records` array"
)]
pub struct Event<'a> {
    /// Changes on every retry of the same batch.
    #[serde(default)]
    pub invocation_id: Option<String>,
    /// Also read from the misspelt `deliverySteamArn` of the SAM sample event.
    #[serde(default, alias = "deliverySteamArn")]
    pub delivery_stream_arn: Option<String>,
    /// Present when the delivery stream reads a Kinesis data stream.
    #[serde(default)]
    pub source_kinesis_stream_arn: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(borrow)]
    pub records: Vec<EventRecord<'a>>,
}

/// One record of an [`Event`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord<'a> {
    /// Opaque; must be echoed. The same id can appear twice in sample events.
    #[serde(borrow)]
    pub record_id: Cow<'a, str>,
    /// Base64 of the record's bytes, as sent (not yet decoded).
    #[serde(borrow, default)]
    pub data: Cow<'a, str>,
    /// Epoch milliseconds; `None` when absent or unreadable.
    #[serde(default, deserialize_with = "lenient::epoch_millis")]
    pub approximate_arrival_timestamp: Option<i64>,
    /// Present when the delivery stream reads a Kinesis data stream. Boxed:
    /// it is most of a record's size, and an event holds thousands of records.
    #[serde(default)]
    pub kinesis_record_metadata: Option<Box<KinesisRecordMetadata>>,
}

/// Where a record came from in its Kinesis data stream.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecordMetadata {
    #[serde(default)]
    pub shard_id: Option<String>,
    #[serde(default)]
    pub partition_key: Option<String>,
    #[serde(default)]
    pub sequence_number: Option<String>,
    /// Index inside a KPL-aggregated record; `None` for `""` or absent.
    #[serde(default, deserialize_with = "lenient::unsigned")]
    pub subsequence_number: Option<u64>,
    #[serde(default, deserialize_with = "lenient::epoch_millis")]
    pub approximate_arrival_timestamp: Option<i64>,
}

impl Event<'_> {
    /// The delivery stream's name: the part of its ARN after the last `/`.
    pub fn delivery_stream_name(&self) -> Option<&str> {
        name_from_arn(self.delivery_stream_arn.as_deref()?)
    }

    /// The AWS Region: the event's `region`, else the one in the delivery stream's ARN.
    pub fn region(&self) -> Option<&str> {
        let from_arn = || self.delivery_stream_arn.as_deref()?.split(':').nth(3);
        self.region
            .as_deref()
            .or_else(from_arn)
            .filter(|region| !region.is_empty())
    }

    /// The source Kinesis data stream's name, when the delivery stream reads one.
    pub fn source_stream_name(&self) -> Option<&str> {
        name_from_arn(self.source_kinesis_stream_arn.as_deref()?)
    }
}

fn name_from_arn(arn: &str) -> Option<&str> {
    arn.rsplit_once('/')
        .map(|(_, name)| name)
        .filter(|name| !name.is_empty())
}

/// What happened to a record; serialises to exactly the words Firehose accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// Transformed; Firehose delivers the returned data.
    Ok,
    /// Deliberately left out; Firehose counts it as processed.
    Dropped,
    /// Failed; Firehose writes the original record under the `processing-failed` error prefix.
    ProcessingFailed,
}

impl Outcome {
    /// The word on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "Ok",
            Outcome::Dropped => "Dropped",
            Outcome::ProcessingFailed => "ProcessingFailed",
        }
    }
}

/// A data-transformation response, read strictly: unknown fields are refused.
///
/// The pipeline writes responses straight into bytes; this type is for reading
/// them back (tests, the local contract check, interoperation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub records: Vec<ResponseRecord>,
}

/// One record of a [`Response`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResponseRecord {
    pub record_id: String,
    pub result: Outcome,
    /// Canonical standard base64 of the output bytes.
    pub data: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ResponseMetadata>,
}

/// Per-record metadata; present only when there are partition keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResponseMetadata {
    /// Dynamic-partitioning keys, in key order.
    pub partition_keys: BTreeMap<String, String>,
}

impl Response {
    /// Reads a response, refusing anything Firehose would refuse in its shape.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> EventRecord<'static> {
        let record: EventRecord<'_> = serde_json::from_str(json).unwrap();
        EventRecord {
            record_id: Cow::Owned(record.record_id.into_owned()),
            data: Cow::Owned(record.data.into_owned()),
            ..record
        }
    }

    #[test]
    fn timestamps_in_every_published_form() {
        let cases = [
            (r#"1495072949453"#, Some(1_495_072_949_453)),
            (r#""1495072949453""#, Some(1_495_072_949_453)),
            (r#"1495072949453.7"#, Some(1_495_072_949_453)),
            (r#""2012-04-23T18:25:43.511Z""#, Some(1_335_205_543_511)),
            (r#""yesterday""#, None),
            (r#"null"#, None),
            (r#"1e400"#, None),
        ];
        for (raw, want) in cases {
            let r = record(&format!(
                r#"{{"recordId":"r","approximateArrivalTimestamp":{raw}}}"#
            ));
            assert_eq!(r.approximate_arrival_timestamp, want, "{raw}");
        }
    }

    #[test]
    fn subsequence_number_as_number_string_or_empty() {
        for (raw, want) in [
            ("123456", Some(123_456)),
            (r#""123456""#, Some(123_456)),
            (r#""""#, None),
        ] {
            let r = record(&format!(
                r#"{{"recordId":"r","data":"","kinesisRecordMetadata":{{"subsequenceNumber":{raw}}}}}"#
            ));
            assert_eq!(
                r.kinesis_record_metadata.unwrap().subsequence_number,
                want,
                "{raw}"
            );
        }
    }

    #[test]
    fn record_id_and_data_borrow_from_the_payload() {
        let payload = r#"{"records":[{"recordId":"a","data":"QQ=="}]}"#;
        let event: Event<'_> = serde_json::from_str(payload).unwrap();
        assert!(matches!(event.records[0].record_id, Cow::Borrowed("a")));
        assert!(matches!(event.records[0].data, Cow::Borrowed("QQ==")));
    }

    #[test]
    fn misspelt_delivery_stream_arn_is_read() {
        let event: Event<'_> = serde_json::from_str(
            r#"{"deliverySteamArn":"arn:aws:firehose:r:1:deliverystream/s","records":[]}"#,
        )
        .unwrap();
        assert_eq!(event.delivery_stream_name(), Some("s"));
    }

    #[test]
    fn outcome_words_are_exact() {
        assert_eq!(
            serde_json::to_string(&Outcome::ProcessingFailed).unwrap(),
            r#""ProcessingFailed""#
        );
        assert!(serde_json::from_str::<Outcome>(r#""ok""#).is_err());
    }

    #[test]
    fn response_metadata_is_optional_and_strict() {
        let r = Response::from_slice(br#"{"records":[{"recordId":"a","result":"Ok","data":""}]}"#)
            .unwrap();
        assert_eq!(r.records[0].metadata, None);
        assert!(
            Response::from_slice(
                br#"{"records":[{"recordId":"a","result":"Ok","data":"","x":1}]}"#
            )
            .is_err()
        );
    }
}
