//! The AWS APIs `firehose-local serve` answers, for producers and SDKs to
//! write to: requests routed by `X-Amz-Target` to the template's delivery
//! streams (the Firehose API), each running on the wall clock
//! ([`crate::stream::live`]), and to its Kinesis data streams (the Kinesis
//! API), which hand their records to the delivery streams reading them.

pub mod data_stream;
pub mod firehose_api;
pub mod kinesis_api;
pub mod protocol;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard};

use data_stream::LiveDataStream;
use protocol::{ApiError, Protocol};

use crate::http_server::{Body, BodyError, Incoming, Request, Response, read_body};
use crate::stream::RunError;
use crate::stream::live::{LiveStream, now_ms};
use crate::stream::summary::Summary;
use crate::template::{ACCOUNT, DataStream, DeliveryStream, REGION, Source};

/// The most bytes a request's body may have: a `PutRecords` of 10 MiB of
/// data is about 14 MB of base64, with room for its JSON.
const MAX_BODY_BYTES: usize = 16 << 20;

/// The template's streams, answering requests until [`Service::finish`].
pub struct Service {
    /// The delivery streams, by name.
    streams: RwLock<BTreeMap<String, LiveStream>>,
    /// The Kinesis data streams, by name.
    data_streams: BTreeMap<String, LiveDataStream>,
    /// Shutting down: puts are refused.
    closing: AtomicBool,
    started_ms: i64,
    /// Numbers request and record ids.
    next_id: AtomicU64,
}

impl Service {
    pub fn new(streams: Vec<LiveStream>, data_streams: Vec<DataStream>) -> Self {
        let started_ms = now_ms();
        let data_streams = data_streams
            .into_iter()
            .map(|stream| {
                let readers = streams
                    .iter()
                    .filter(|live| {
                        matches!(&live.stream.source, Source::Kinesis { stream_arn, .. } if *stream_arn == stream.arn)
                    })
                    .map(|live| live.stream.name.clone())
                    .collect();
                let live = LiveDataStream::new(stream, readers, started_ms);
                (live.stream.name.clone(), live)
            })
            .collect();
        let streams = streams
            .into_iter()
            .map(|live| (live.stream.name.clone(), live))
            .collect();
        Service {
            streams: RwLock::new(streams),
            data_streams,
            closing: AtomicBool::new(false),
            started_ms,
            next_id: AtomicU64::new(0),
        }
    }

    /// The Kinesis data streams, by name.
    pub fn data_streams(&self) -> impl Iterator<Item = &LiveDataStream> {
        self.data_streams.values()
    }

    /// Answers one HTTP request, in the protocol it came in (JSON when that is not known).
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let request_id = self.new_id();
        let content_type = header(&request, "Content-Type");
        let protocol = Protocol::of(&content_type);
        let result = match protocol {
            Some(protocol) => self.operation(protocol, request).await,
            None => Err(ApiError::new(
                "UnknownOperationException",
                format!(
                    "Content-Type {content_type} is not one firehose-local serve reads (it reads {} and, for Kinesis, {})",
                    protocol::JSON_CONTENT_TYPE,
                    protocol::CBOR_CONTENT_TYPE
                ),
            )),
        };
        protocol::answer(protocol.unwrap_or(Protocol::Json), result, &request_id)
    }

    async fn operation(
        &self,
        protocol: Protocol,
        request: Request<Incoming>,
    ) -> Result<Vec<u8>, ApiError> {
        let target = header(&request, "X-Amz-Target");
        let region =
            protocol::signed_region(request.headers()).unwrap_or_else(|| REGION.to_owned());
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
            Some(("Firehose_20150804", _)) if protocol == Protocol::Cbor => Err(ApiError::new(
                "SerializationException",
                format!(
                    "Firehose reads only {} (CBOR is for Kinesis)",
                    protocol::JSON_CONTENT_TYPE
                ),
            )),
            Some(("Firehose_20150804", operation)) => {
                firehose_api::call(self, operation, &body, &region).await
            }
            Some(("Kinesis_20131202", operation)) => {
                kinesis_api::call(self, protocol, operation, &body, &region).await
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

/// A request header's text, or "" when it has none.
fn header(request: &Request<Incoming>, name: &str) -> String {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}
