//! A synchronous client of the Lambda Runtime API.
//!
//! A Firehose transform is synchronous CPU work on one payload at a time, so a
//! blocking client is all it needs: the payload arrives as bytes that the
//! event is read from in place, and the response leaves as the bytes the
//! pipeline wrote, with no async runtime and no re-serialisation.
//! Protocol: <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>.

use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::settings::Env;

const API_VERSION: &str = "2018-06-01";
/// Lambda caps a synchronous request at 6 MB; anything past this is not Lambda.
const MAX_PAYLOAD_BYTES: u64 = 32 * 1024 * 1024;

/// Talking to the Runtime API failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "AWS_LAMBDA_RUNTIME_API is not set: this binary runs inside AWS Lambda, or locally under \
         `firehose-local invoke` or `cargo lambda watch`"
    )]
    NoApi,
    #[error("Runtime API request failed: {0}")]
    Http(#[from] ureq::Error),
    #[error("Runtime API answered {status} to {what}")]
    Status { status: u16, what: &'static str },
    #[error("Runtime API sent an invocation without a Lambda-Runtime-Aws-Request-Id header")]
    NoRequestId,
}

/// One invocation handed out by the Runtime API.
pub struct Invocation {
    pub request_id: String,
    pub payload: Vec<u8>,
    /// When Lambda stops the invocation (`Lambda-Runtime-Deadline-Ms`).
    pub deadline: Option<SystemTime>,
    /// The X-Ray trace header (`Lambda-Runtime-Trace-Id`), to pass on to AWS calls.
    pub trace_id: Option<String>,
}

pub struct RuntimeClient {
    agent: ureq::Agent,
    base: String,
}

impl RuntimeClient {
    pub fn from_env(env: &Env) -> Result<Self, RuntimeError> {
        let api = env
            .get("AWS_LAMBDA_RUNTIME_API")
            .ok_or(RuntimeError::NoApi)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // `next` blocks until there is work, however long that takes.
            .timeout_global(None)
            .max_idle_age(Duration::from_secs(3600))
            .build()
            .into();
        Ok(RuntimeClient {
            agent,
            base: format!("http://{api}/{API_VERSION}/runtime"),
        })
    }

    /// Waits for the next invocation.
    pub fn next(&self) -> Result<Invocation, RuntimeError> {
        let mut response = self
            .agent
            .get(format!("{}/invocation/next", self.base))
            .call()?;
        check(response.status().as_u16(), "invocation/next")?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id =
            header("lambda-runtime-aws-request-id").ok_or(RuntimeError::NoRequestId)?;
        let deadline = header("lambda-runtime-deadline-ms")
            .and_then(|ms| ms.trim().parse::<u64>().ok())
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
        let trace_id = header("lambda-runtime-trace-id");
        // Sized once from Content-Length: reading into a growing buffer would
        // copy the event again at each doubling.
        let length = header("content-length")
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0)
            .min(MAX_PAYLOAD_BYTES);
        let mut payload = Vec::with_capacity(length as usize);
        response
            .body_mut()
            .with_config()
            .limit(MAX_PAYLOAD_BYTES)
            .reader()
            .read_to_end(&mut payload)
            .map_err(ureq::Error::from)?;
        Ok(Invocation {
            request_id,
            payload,
            deadline,
            trace_id,
        })
    }

    /// Returns a successful response.
    pub fn respond(&self, request_id: &str, body: &[u8]) -> Result<(), RuntimeError> {
        let url = format!("{}/invocation/{request_id}/response", self.base);
        let response = self
            .agent
            .post(url)
            .header("content-type", "application/json")
            .send(body)?;
        check(response.status().as_u16(), "invocation response")
    }

    /// Fails the invocation.
    pub fn fail(
        &self,
        request_id: &str,
        error_type: &str,
        message: &str,
    ) -> Result<(), RuntimeError> {
        self.post_error(
            format!("{}/invocation/{request_id}/error", self.base),
            error_type,
            message,
        )
    }

    /// Reports a start-up failure; the process should exit afterwards.
    pub fn init_error(&self, error_type: &str, message: &str) -> Result<(), RuntimeError> {
        self.post_error(format!("{}/init/error", self.base), error_type, message)
    }

    fn post_error(&self, url: String, error_type: &str, message: &str) -> Result<(), RuntimeError> {
        let body = json!({"errorType": error_type, "errorMessage": message}).to_string();
        let response = self
            .agent
            .post(url)
            .header("content-type", "application/json")
            .header("lambda-runtime-function-error-type", error_type)
            .send(body.as_bytes())?;
        check(response.status().as_u16(), "error report")
    }
}

fn check(status: u16, what: &'static str) -> Result<(), RuntimeError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(RuntimeError::Status { status, what })
    }
}
