//! The AWS APIs `firehose-local serve` answers, for producers and SDKs to
//! write to: requests routed by `X-Amz-Target` to the template's delivery
//! streams, each running on the wall clock ([`crate::stream::live`]).

pub mod aws_json;
pub mod firehose_api;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard};

use aws_json::{ApiError, CONTENT_TYPE};

use crate::http_server::{Body, BodyError, Incoming, Request, Response, read_body};
use crate::stream::RunError;
use crate::stream::live::{LiveStream, now_ms};
use crate::stream::summary::Summary;
use crate::template::{ACCOUNT, DeliveryStream, REGION};

/// The most bytes a request's body may have: a `PutRecordBatch` of 4 MiB of
/// data is about 5.6 MB of base64, with room for its JSON.
const MAX_BODY_BYTES: usize = 8 << 20;

/// The template's streams, answering requests until [`Service::finish`].
pub struct Service {
    streams: RwLock<BTreeMap<String, LiveStream>>,
    /// Shutting down: puts are refused.
    closing: AtomicBool,
    started_ms: i64,
    /// Numbers request and record ids.
    next_id: AtomicU64,
}

impl Service {
    pub fn new(streams: Vec<LiveStream>) -> Self {
        let streams = streams
            .into_iter()
            .map(|live| (live.stream.name.clone(), live))
            .collect();
        Service {
            streams: RwLock::new(streams),
            closing: AtomicBool::new(false),
            started_ms: now_ms(),
            next_id: AtomicU64::new(0),
        }
    }

    /// Answers one HTTP request.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let request_id = self.new_id();
        let result = self.operation(request).await;
        aws_json::answer(result, &request_id)
    }

    async fn operation(&self, request: Request<Incoming>) -> Result<serde_json::Value, ApiError> {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let target = header("X-Amz-Target");
        let content_type = header("Content-Type");
        let region =
            aws_json::signed_region(request.headers()).unwrap_or_else(|| REGION.to_owned());
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        if media_type != CONTENT_TYPE && !media_type.is_empty() {
            return Err(ApiError::new(
                "UnknownOperationException",
                format!(
                    "Content-Type {media_type} is not one firehose-local serve reads (it reads {CONTENT_TYPE})"
                ),
            ));
        }
        let body = match read_body(request.into_body(), MAX_BODY_BYTES).await {
            Ok(body) => body,
            Err(BodyError::TooLarge(limit)) => {
                return Err(ApiError::new(
                    "InvalidArgumentException",
                    format!("the request body is over {limit} bytes"),
                ));
            }
            Err(e @ BodyError::Failed(_)) => {
                return Err(ApiError::new("SerializationException", e.to_string()));
            }
        };
        match target.split_once('.') {
            Some(("Firehose_20150804", operation)) => {
                firehose_api::call(self, operation, &body, &region)
            }
            _ if target.is_empty() => Err(ApiError::new(
                "UnknownOperationException",
                "the request names no operation (no X-Amz-Target header)",
            )),
            _ => Err(ApiError::new(
                "UnknownOperationException",
                format!("{target} is not an operation firehose-local serve answers"),
            )),
        }
    }

    /// Runs `f` on the stream `name`, or answers that there is none, as AWS does.
    fn with_stream<T>(
        &self,
        name: &str,
        f: impl FnOnce(&LiveStream) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let streams = self.streams();
        let live = streams.get(name).ok_or_else(|| {
            ApiError::new(
                "ResourceNotFoundException",
                format!("Firehose {name} not found under account {ACCOUNT}."),
            )
        })?;
        f(live)
    }

    /// The names of the streams `wanted` keeps, in order.
    fn stream_names(&self, wanted: impl Fn(&DeliveryStream) -> bool) -> Vec<String> {
        self.streams()
            .values()
            .filter(|live| wanted(&live.stream))
            .map(|live| live.stream.name.clone())
            .collect()
    }

    /// When the service started, in epoch seconds, as the streams' `CreateTimestamp`.
    fn created_s(&self) -> f64 {
        self.started_ms as f64 / 1000.0
    }

    /// A new id for a request or a record, unique in this service.
    fn new_id(&self) -> String {
        let number = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}{number:016x}", self.started_ms)
    }

    /// Shutting down: puts are refused.
    fn closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Flushes every stream's buffers now.
    pub fn flush_now(&self) {
        self.streams().values().for_each(LiveStream::flush_now);
    }

    /// Refuses new records, then flushes every stream and waits for each to
    /// land what it took: each stream's name and summary.
    pub fn finish(&self) -> Vec<(String, Result<Summary, RunError>)> {
        self.closing.store(true, Ordering::SeqCst);
        let streams = std::mem::take(
            &mut *self
                .streams
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        streams
            .into_iter()
            .map(|(name, live)| (name, live.finish()))
            .collect()
    }

    fn streams(&self) -> RwLockReadGuard<'_, BTreeMap<String, LiveStream>> {
        // A poisoned lock only means a request's thread panicked; the map is unchanged.
        self.streams
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
