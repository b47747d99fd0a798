//! The two protocols AWS's SDKs speak to these APIs: awsJson1_1 (`POST /`,
//! the operation named by `X-Amz-Target`, JSON bodies with blobs in base64),
//! and its CBOR twin, which the Java SDKs (and so the KCL and the Kinesis
//! Agent) use for Kinesis: the same members, blobs as byte strings, moments as
//! epoch milliseconds. Errors carry their code both as a body `__type` and
//! as an `X-Amzn-ErrorType` header (botocore reads the one, the JavaScript
//! and Java SDKs the other first).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hyper::HeaderMap;
use hyper::header::HeaderValue;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::http_server::{Body, Response, StatusCode, respond};

/// How a request's body, and so its answer, is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.1`.
    Json,
    /// `application/x-amz-cbor-1.1`.
    Cbor,
}

pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";
pub const CBOR_CONTENT_TYPE: &str = "application/x-amz-cbor-1.1";

impl Protocol {
    /// The protocol of a request's `Content-Type` (its media type only);
    /// JSON when there is none.
    pub fn of(content_type: &str) -> Option<Protocol> {
        match content_type.split(';').next().unwrap_or("").trim() {
            JSON_CONTENT_TYPE | "" => Some(Protocol::Json),
            CBOR_CONTENT_TYPE => Some(Protocol::Cbor),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Json => JSON_CONTENT_TYPE,
            Protocol::Cbor => CBOR_CONTENT_TYPE,
        }
    }

    /// A request's input; an empty body is `{}`, as Smithy says servers must accept.
    pub fn input<T: DeserializeOwned>(self, body: &[u8]) -> Result<T, ApiError> {
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            match self {
                Protocol::Json => b"{}".as_slice(),
                // An empty map.
                Protocol::Cbor => &[0xA0],
            }
        } else {
            body
        };
        // A missing member or one of the wrong type is what AWS's validation
        // names; anything else is a body that cannot be read at all.
        let (data_error, message) = match self {
            Protocol::Json => match serde_json::from_slice(body) {
                Ok(input) => return Ok(input),
                Err(e) => (e.is_data(), e.to_string()),
            },
            Protocol::Cbor => match ciborium::from_reader(body) {
                Ok(input) => return Ok(input),
                Err(e) => (
                    matches!(e, ciborium::de::Error::Semantic(..)),
                    format!("{e:?}"),
                ),
            },
        };
        Err(if data_error {
            ApiError::new(
                "ValidationException",
                format!("1 validation error detected: {message}"),
            )
        } else {
            ApiError::new(
                "SerializationException",
                format!("the body is not {self:?}: {message}"),
            )
        })
    }

    /// An operation's output, written in this protocol.
    pub fn output(self, output: &impl Serialize) -> Result<Vec<u8>, ApiError> {
        let written = match self {
            Protocol::Json => serde_json::to_vec(output).map_err(|e| e.to_string()),
            Protocol::Cbor => {
                let mut bytes = Vec::new();
                ciborium::into_writer(output, &mut bytes)
                    .map(|()| bytes)
                    .map_err(|e| e.to_string())
            }
        };
        written.map_err(|e| {
            ApiError::new(
                "InternalFailureException",
                format!("cannot write the answer: {e}"),
            )
        })
    }
}

/// A blob member's bytes: base64 text in JSON, decoded as it is read (from
/// the body itself, without a copy of the text), or a byte string in CBOR.
#[derive(Debug)]
pub struct Blob(Result<Vec<u8>, base64::DecodeError>);

impl Blob {
    /// Its bytes; `member` names it when its base64 is bad.
    pub fn decode(self, member: impl FnOnce() -> String) -> Result<Vec<u8>, ApiError> {
        self.0.map_err(|e| {
            ApiError::new(
                "SerializationException",
                format!("Value of {} can not be converted to a Blob: {e}", member()),
            )
        })
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BlobVisitor;
        impl Visitor<'_> for BlobVisitor {
            type Value = Blob;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a blob (base64 text, or CBOR bytes)")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Blob, E> {
                Ok(Blob(STANDARD.decode(text)))
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Blob, E> {
                Ok(Blob(Ok(bytes.to_vec())))
            }
            fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(Ok(bytes)))
            }
        }
        deserializer.deserialize_any(BlobVisitor)
    }
}

/// A moment in an answer: epoch seconds (a number) in JSON; in CBOR, tag 1
/// and epoch milliseconds, which is what the Java SDKs read (seconds there
/// fail them).
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Timestamp(ms) = *self;
        // The CBOR writer is the one that is not human-readable.
        if serializer.is_human_readable() {
            serializer.serialize_f64(ms as f64 / 1000.0)
        } else {
            ciborium::tag::Required::<i64, 1>(ms).serialize(serializer)
        }
    }
}

/// An error as AWS answers it: its code (the error shape's name) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// 500 for the faults SDKs retry by their status, 400 for the caller's errors.
    fn status(&self) -> StatusCode {
        match self.code {
            "ServiceUnavailableException" | "InternalFailureException" => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// The HTTP answer to an operation: its output, or its error, in `protocol`.
pub fn answer(
    protocol: Protocol,
    result: Result<Vec<u8>, ApiError>,
    request_id: &str,
) -> Response<Body> {
    let (status, body, error_type) = match result {
        Ok(output) => (StatusCode::OK, output, None),
        Err(error) => {
            let shape = ErrorShape {
                kind: error.code,
                message: &error.message,
            };
            // Two string members cannot fail to be written.
            let body = protocol.output(&shape).unwrap_or_default();
            (error.status(), body, Some(error.code))
        }
    };
    let mut response = respond(status, body);
    let headers = response.headers_mut();
    headers.insert(
        "Content-Type",
        HeaderValue::from_static(protocol.content_type()),
    );
    if let Ok(id) = request_id.parse() {
        headers.insert("x-amzn-RequestId", id);
    }
    if let Some(Ok(error_type)) = error_type.map(str::parse) {
        headers.insert("X-Amzn-ErrorType", error_type);
    }
    response
}

/// An error's body.
#[derive(Serialize)]
struct ErrorShape<'a> {
    #[serde(rename = "__type")]
    kind: &'a str,
    message: &'a str,
}

/// The most violations a validation message lists, as AWS's do.
const LISTED_VIOLATIONS: usize = 10;

/// AWS's message for violated constraints, the first ten listed.
pub fn validation(violations: &[String]) -> ApiError {
    let count = violations.len();
    let listed: Vec<&str> = violations
        .iter()
        .take(LISTED_VIOLATIONS)
        .map(String::as_str)
        .collect();
    let errors = if count == 1 { "error" } else { "errors" };
    ApiError::new(
        "ValidationException",
        format!(
            "{count} validation {errors} detected: {}",
            listed.join("; ")
        ),
    )
}

/// A batch of `count` records within 1 to `max`, or AWS's message for it.
pub fn check_count(count: usize, max: usize) -> Result<(), ApiError> {
    let bound = match count {
        0 => "greater than or equal to 1".to_owned(),
        n if n > max => format!("less than or equal to {max}"),
        _ => return Ok(()),
    };
    Err(validation(&[format!(
        "Value '[{count} records]' at 'records' failed to satisfy constraint: Member must have length {bound}"
    )]))
}

/// The violation of a blob `member` of `length` bytes, over `limit`, in AWS's (Java's) words.
pub fn too_long(length: usize, member: &str, limit: usize) -> String {
    format!(
        "Value 'java.nio.HeapByteBuffer[pos=0 lim={length} cap={length}]' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {limit}"
    )
}

/// The region a request was signed for, from its SigV4 credential scope
/// (`Credential=AKID/date/region/service/aws4_request`); no signature is checked.
pub fn signed_region(headers: &HeaderMap) -> Option<String> {
    let authorization = headers.get("Authorization")?.to_str().ok()?;
    let scope = authorization.split("Credential=").nth(1)?;
    let region = scope.split('/').nth(2)?;
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid.then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_region_comes_from_the_credential_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20261206/eu-west-2/firehose/aws4_request, SignedHeaders=host, Signature=ab"
                .parse()
                .unwrap(),
        );
        assert_eq!(signed_region(&headers).as_deref(), Some("eu-west-2"));
        headers.insert("Authorization", "Bearer x".parse().unwrap());
        assert_eq!(signed_region(&headers), None);
    }

    #[test]
    fn errors_carry_their_code_in_the_body_and_the_header() {
        let response = answer(
            Protocol::Json,
            Err(ApiError::new("ResourceNotFoundException", "gone")),
            "id-1",
        );
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()["X-Amzn-ErrorType"],
            "ResourceNotFoundException"
        );
        assert_eq!(response.headers()["x-amzn-RequestId"], "id-1");
        let response = answer(
            Protocol::Cbor,
            Err(ApiError::new("ServiceUnavailableException", "Slow down.")),
            "id-2",
        );
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()["Content-Type"], CBOR_CONTENT_TYPE);
    }

    #[test]
    fn an_empty_body_is_an_empty_input_and_a_bad_one_a_serialization_error() {
        for protocol in [Protocol::Json, Protocol::Cbor] {
            let empty: BTreeMap<String, String> = protocol.input(b"").unwrap();
            assert!(empty.is_empty());
            assert_eq!(
                protocol
                    .input::<BTreeMap<String, String>>(b"{")
                    .unwrap_err()
                    .code,
                "SerializationException"
            );
        }
        assert_eq!(
            Protocol::Json.input::<Put>(b"{}").unwrap_err().code,
            "ValidationException"
        );
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Put {
        data: Blob,
    }

    #[test]
    fn blobs_are_base64_in_json_and_bytes_in_cbor_however_long_their_lengths() {
        let json: Put = Protocol::Json.input(br#"{"Data":"AP8="}"#).unwrap();
        assert_eq!(json.data.decode(|| "data".to_owned()).unwrap(), [0, 255]);
        // An indefinite-length map holding an indefinite-length byte string
        // in two chunks, and a tagged timestamp member no one reads.
        let cbor = [
            &[0xBF][..],
            &[0x64],
            b"Data",
            &[0x5F, 0x41, 0x00, 0x41, 0xFF, 0xFF],
            &[0x77],
            b"StreamCreationTimestamp",
            &[0xC1, 0x1B, 0, 0, 1, 0x8F, 0, 0, 0, 0],
            &[0xFF],
        ]
        .concat();
        let put: Put = Protocol::Cbor.input(&cbor).unwrap();
        assert_eq!(put.data.decode(|| "data".to_owned()).unwrap(), [0, 255]);
        assert_eq!(
            Protocol::Json
                .input::<Put>(br#"{"Data":"!"}"#)
                .unwrap()
                .data
                .decode(|| "data".to_owned())
                .unwrap_err()
                .code,
            "SerializationException"
        );
    }

    #[test]
    fn moments_are_seconds_in_json_and_tagged_milliseconds_in_cbor() {
        let moment = Timestamp(1_765_000_000_123);
        assert_eq!(Protocol::Json.output(&moment).unwrap(), b"1765000000.123");
        let cbor = Protocol::Cbor.output(&moment).unwrap();
        // Tag 1, then the milliseconds as an 8-byte unsigned integer.
        assert_eq!(cbor[..2], [0xC1, 0x1B]);
        assert_eq!(cbor[2..], 1_765_000_000_123u64.to_be_bytes());
    }

    #[test]
    fn content_types_pick_the_protocol_by_their_media_type() {
        assert_eq!(
            Protocol::of("application/x-amz-cbor-1.1; charset=utf-8"),
            Some(Protocol::Cbor)
        );
        assert_eq!(Protocol::of(""), Some(Protocol::Json));
        assert_eq!(Protocol::of("application/json"), None);
    }
}
