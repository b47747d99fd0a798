//! Amazon Data Firehose record transformation for AWS Lambda.
//!
//! A [`Pipeline`] of [`Transform`] steps answers every record of a Firehose
//! data-transformation event exactly once, in order, with a valid result and
//! valid base64. A step that fails or panics fails only its record, which keeps
//! its original bytes; the response never exceeds the Lambda response limit.
//! A step sees a [`Record`]: its bytes, its text or its JSON (parsed once for
//! the whole chain), and its metadata; it keeps, changes, drops or fails it by
//! returning a [`Verdict`] or a [`TransformError`].
//!
//! A transform in full, run here on an event as Firehose sends it, of two
//! records: `hello`, and a byte that is not UTF-8.
//!
//! ```
//! use firehose_transform::prelude::*;
//! use firehose_transform::{Outcome, Response};
//!
//! let pipeline = Pipeline::new().then(transform_fn("uppercase", |record| {
//!     let upper = record.text()?.to_uppercase();
//!     record.set_bytes(upper);
//!     Ok(Verdict::Keep)
//! }));
//! let event = br#"{
//!     "invocationId": "invocation-1",
//!     "deliveryStreamArn": "arn:aws:firehose:eu-west-1:123456789012:deliverystream/class-stream",
//!     "region": "eu-west-1",
//!     "records": [
//!         {"recordId": "r1", "approximateArrivalTimestamp": 1700000000000, "data": "aGVsbG8="},
//!         {"recordId": "r2", "approximateArrivalTimestamp": 1700000000000, "data": "/w=="}
//!     ]
//! }"#;
//! let processed = pipeline.process(event).expect("a Firehose event");
//! let response = Response::from_slice(&processed.response).expect("a response Firehose takes");
//! assert_eq!(response.records[0].result, Outcome::Ok);
//! assert_eq!(response.records[0].data, "SEVMTE8="); // HELLO
//! // `text()` failed on the second record alone: it keeps its original bytes.
//! assert_eq!(response.records[1].result, Outcome::ProcessingFailed);
//! assert_eq!(response.records[1].data, "/w==");
//! ```
//!
//! [`lambda::serve`] runs a pipeline as a Lambda function, with its settings
//! checked at start-up: the whole `main` of a deployable function.
//!
//! ```no_run
//! use firehose_transform::prelude::*;
//!
//! fn main() -> std::process::ExitCode {
//!     lambda::serve("uppercase", &[], |_settings| {
//!         Ok(Pipeline::new().then(transform_fn("uppercase", |record| {
//!             let upper = record.text()?.to_uppercase();
//!             record.set_bytes(upper);
//!             Ok(Verdict::Keep)
//!         })))
//!     })
//! }
//! ```
//!
//! The guide in the repository's `docs/` says more: writing your own
//! transform, what the crate guarantees, and the built-in steps in
//! [`transforms`].
#![forbid(unsafe_code)]

pub mod contract;
mod csv_row;
pub mod jq;
mod json_read;
mod json_str;
pub mod pipeline;
mod redact;
pub mod runtime;
pub mod settings;
mod text;
pub mod transforms;

pub use contract::{Event, EventRecord, Outcome, Response, ResponseRecord};
pub use pipeline::record::Record;
pub use pipeline::summary::Summary;
pub use pipeline::transform::{Transform, TransformError, Verdict, transform_fn};
pub use pipeline::{InvalidEvent, Pipeline, Processed};
pub use runtime::lambda;

/// Everything a custom transform usually needs, in one import.
pub mod prelude {
    pub use crate::pipeline::Pipeline;
    pub use crate::pipeline::record::Record;
    pub use crate::pipeline::transform::{Transform, TransformError, Verdict, transform_fn};
    pub use crate::runtime::lambda;
    pub use crate::settings::{Setting, SettingError, SettingGroup, Settings};
    pub use serde_json::{Value, json};
}
