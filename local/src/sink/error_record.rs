//! Error objects: one JSON line per record that did not make it, in the
//! form Firehose writes under `ErrorOutputPrefix` (the field order and the
//! `lambdaARN` spelling of real objects; `rawData` is the record as it
//! arrived, never what the function returned; `format-conversion-failed`
//! lines hold what the converter read, and have a shape of their own).

use base64::Engine;
use serde::Serialize;

use crate::convert::Table;

/// Firehose's error codes and the messages it writes with them.
pub mod codes {
    pub const PROCESSING_FAILED: &str = "Lambda.ProcessingFailedStatus";
    pub const MISSING_RECORD_ID: &str = "Lambda.MissingRecordId";
    pub const DUPLICATED_RECORD_ID: &str = "Lambda.DuplicatedRecordId";
    pub const JSON_PROCESSING: &str = "Lambda.JsonProcessingException";
    pub const FUNCTION_ERROR: &str = "Lambda.FunctionError";
    pub const PARTITIONING_FAILED: &str = "DynamicPartitioning.MetadataExtractionFailed";
    /// AWS documents no code for `activePartitionExceeded` records: firehose-local's choice,
    /// the spelling one third-party project shows.
    pub const ACTIVE_PARTITIONS_EXCEEDED: &str =
        "DynamicPartitioning.ActivePartitionsLimitExceeded";
    /// As observed in real `decompression-failed` objects (stackd's captures), full stop included.
    pub const DECOMPRESSION_FAILED: &str = "Decompression failed.";

    /// The `&'static` code of the checker's code text.
    pub fn of(code: &str) -> &'static str {
        [
            PROCESSING_FAILED,
            MISSING_RECORD_ID,
            DUPLICATED_RECORD_ID,
            JSON_PROCESSING,
        ]
        .into_iter()
        .find(|c| *c == code)
        .unwrap_or(FUNCTION_ERROR)
    }

    /// The `errorMessage` Firehose writes with `code`. A `Lambda.FunctionError`
    /// has two: this one when the invocation failed (crash, timeout, error,
    /// a response Lambda refuses), [`OUTPUT_FORMAT`] when the answer is malformed.
    pub fn message(code: &str) -> &'static str {
        match code {
            PROCESSING_FAILED => "ProcessingFailed status set for record",
            MISSING_RECORD_ID => {
                "One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids."
            }
            DUPLICATED_RECORD_ID => {
                "Multiple records were returned with the same record Id. Ensure that the Lambda function returns unique record Ids for each record."
            }
            JSON_PROCESSING => {
                "There was an error parsing returned records from the Lambda function. Ensure that the returned records follow the status model required by Firehose."
            }
            _ => "The Lambda function was successfully invoked but it returned an error result.",
        }
    }

    /// The `errorMessage` of a `Lambda.FunctionError` for an answer Firehose
    /// cannot take (a wrong result word, a missing id, data that is not base64).
    pub const OUTPUT_FORMAT: &str = "Check your function and make sure the output is in required format. In addition to that, make sure the processed records contain valid result status of Dropped, Ok, or ProcessingFailed";

    /// The `errorMessage` for the checker's rejection `code` of an answer.
    pub fn rejection_message(code: &str) -> &'static str {
        match code {
            FUNCTION_ERROR => OUTPUT_FORMAT,
            other => message(other),
        }
    }
}

/// One line of a `processing-failed` object.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorLine<'a> {
    raw_data: String,
    error_code: &'a str,
    error_message: &'a str,
    attempts_made: u32,
    arrival_timestamp: i64,
    attempt_ending_timestamp: i64,
    #[serde(rename = "lambdaARN", skip_serializing_if = "Option::is_none")]
    lambda_arn: Option<&'a str>,
}

/// What Firehose knows of a failed record.
pub struct Failure<'a> {
    pub raw: &'a [u8],
    pub code: &'static str,
    /// What went wrong; Firehose's own words for the Lambda codes.
    pub message: &'a str,
    pub attempts: u32,
    pub arrival_ms: i64,
    pub ended_ms: i64,
    /// The function's ARN, for failures of the Lambda processor.
    pub lambda_arn: Option<&'a str>,
}

/// The error object line for `failure`, newline included.
pub fn line(failure: &Failure<'_>) -> Vec<u8> {
    let line = ErrorLine {
        raw_data: base64::engine::general_purpose::STANDARD.encode(failure.raw),
        error_code: failure.code,
        error_message: failure.message,
        attempts_made: failure.attempts,
        arrival_timestamp: failure.arrival_ms,
        attempt_ending_timestamp: failure.ended_ms,
        lambda_arn: failure.lambda_arn,
    };
    let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// One line of a `format-conversion-failed` object: its own shape, with
/// `lastErrorCode` as observed in real objects and the table it was read by.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversionErrorLine<'a> {
    attempts_made: u32,
    arrival_timestamp: i64,
    last_error_code: &'a str,
    last_error_message: &'a str,
    attempt_ending_timestamp: i64,
    raw_data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_sequence_number: Option<u32>,
    data_catalog_table: CatalogTable<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CatalogTable<'a> {
    catalog_id: &'a str,
    database_name: &'a str,
    table_name: &'a str,
    region: &'a str,
    version_id: &'a str,
    catalog_arn: String,
}

/// The `format-conversion-failed` line for `failure` (`raw` is what the
/// converter read), newline included; `kinesis` is the record's sequence
/// number and sub-sequence when a Kinesis data stream is the source.
pub fn conversion_line(
    failure: &Failure<'_>,
    table: &Table,
    kinesis: Option<(&str, u32)>,
) -> Vec<u8> {
    let line = ConversionErrorLine {
        attempts_made: failure.attempts,
        arrival_timestamp: failure.arrival_ms,
        last_error_code: failure.code,
        last_error_message: failure.message,
        attempt_ending_timestamp: failure.ended_ms,
        raw_data: base64::engine::general_purpose::STANDARD.encode(failure.raw),
        sequence_number: kinesis.map(|(sequence, _)| sequence),
        sub_sequence_number: kinesis.map(|(_, sub)| sub),
        data_catalog_table: CatalogTable {
            catalog_id: &table.catalog_id,
            database_name: &table.database,
            table_name: &table.name,
            region: &table.region,
            version_id: &table.version_id,
            catalog_arn: format!("arn:aws:glue:{}:{}:catalog", table.region, table.catalog_id),
        },
    };
    let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_the_shape_of_real_error_objects() {
        let got = line(&Failure {
            raw: b"FAIL this one\n",
            code: codes::PROCESSING_FAILED,
            message: codes::message(codes::PROCESSING_FAILED),
            attempts: 1,
            arrival_ms: 1_789_014_240_448,
            ended_ms: 1_789_014_301_529,
            lambda_arn: Some("arn:aws:lambda:us-west-2:123456789012:function:f:$LATEST"),
        });
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "{\"rawData\":\"RkFJTCB0aGlzIG9uZQo=\",\"errorCode\":\"Lambda.ProcessingFailedStatus\",\
\"errorMessage\":\"ProcessingFailed status set for record\",\"attemptsMade\":1,\"arrivalTimestamp\":1789014240448,\
\"attemptEndingTimestamp\":1789014301529,\"lambdaARN\":\"arn:aws:lambda:us-west-2:123456789012:function:f:$LATEST\"}\n"
        );
    }

    #[test]
    fn conversion_lines_name_the_table_and_a_kinesis_records_sequence() {
        let text = |s: &str| s.to_owned();
        let column = crate::convert::table::column("id", "int").unwrap();
        let table = Table::new(
            text("123456789012"),
            text("db"),
            text("t"),
            text("eu-west-1"),
            text("LATEST"),
            vec![column],
            Vec::new(),
        )
        .unwrap();
        let failure = Failure {
            raw: b"x",
            code: "DataFormatConversion.ParseError",
            message: "the record is not JSON",
            attempts: 1,
            arrival_ms: 1,
            ended_ms: 2,
            lambda_arn: None,
        };
        let got = conversion_line(&failure, &table, Some(("4960", 3)));
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "{\"attemptsMade\":1,\"arrivalTimestamp\":1,\"lastErrorCode\":\"DataFormatConversion.ParseError\",\
\"lastErrorMessage\":\"the record is not JSON\",\"attemptEndingTimestamp\":2,\"rawData\":\"eA==\",\
\"sequenceNumber\":\"4960\",\"subSequenceNumber\":3,\"dataCatalogTable\":{\"catalogId\":\"123456789012\",\
\"databaseName\":\"db\",\"tableName\":\"t\",\"region\":\"eu-west-1\",\"versionId\":\"LATEST\",\
\"catalogArn\":\"arn:aws:glue:eu-west-1:123456789012:catalog\"}}\n"
        );
        let direct_put = conversion_line(&failure, &table, None);
        assert!(
            !String::from_utf8(direct_put)
                .unwrap()
                .contains("sequenceNumber")
        );
    }
}
