//! The awsJson1_1 protocol as AWS's SDKs speak it: `POST /`, the operation
//! named by `X-Amz-Target`, JSON bodies with blobs in base64, and errors as
//! both a body `__type` and an `X-Amzn-ErrorType` header (botocore reads the
//! one, the JavaScript and Java SDKs the other first).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hyper::HeaderMap;
use hyper::header::HeaderValue;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::http_server::{Body, Response, StatusCode, respond};

/// The protocol's media type, which answers carry too.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

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

/// The HTTP answer to an operation: its output, or its error.
pub fn answer(result: Result<Value, ApiError>, request_id: &str) -> Response<Body> {
    let (status, body, error_type) = match result {
        Ok(output) => (StatusCode::OK, output, None),
        Err(error) => (
            error.status(),
            json!({"__type": error.code, "message": error.message}),
            Some(error.code),
        ),
    };
    let mut response = respond(status, body.to_string());
    let headers = response.headers_mut();
    headers.insert("Content-Type", HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(id) = request_id.parse() {
        headers.insert("x-amzn-RequestId", id);
    }
    if let Some(Ok(error_type)) = error_type.map(str::parse) {
        headers.insert("X-Amzn-ErrorType", error_type);
    }
    response
}

/// A request's input; an empty body is `{}`, as Smithy says servers must accept.
pub fn input<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            // A missing member or one of the wrong type: what AWS's validation names.
            ApiError::new(
                "ValidationException",
                format!("1 validation error detected: {e}"),
            )
        } else {
            ApiError::new(
                "SerializationException",
                format!("the body is not JSON: {e}"),
            )
        }
    })
}

/// A blob member's bytes, from base64 with padding as the SDKs send it.
pub fn blob(text: &str, member: &str) -> Result<Vec<u8>, ApiError> {
    STANDARD.decode(text).map_err(|e| {
        ApiError::new(
            "SerializationException",
            format!("Value of {member} can not be converted to a Blob: {e}"),
        )
    })
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
            Err(ApiError::new("ServiceUnavailableException", "Slow down.")),
            "id-2",
        );
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn an_empty_body_is_an_empty_input_and_bad_json_a_serialization_error() {
        let empty: Value = input(b"").unwrap();
        assert_eq!(empty, json!({}));
        assert_eq!(
            input::<Value>(b"{").unwrap_err().code,
            "SerializationException"
        );
    }
}
