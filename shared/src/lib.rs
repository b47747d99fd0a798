//! Amazon Data Firehose record transformation for AWS Lambda.
//!
//! A [`Pipeline`] of [`Transform`] steps answers every record of a Firehose
//! data-transformation event exactly once, in order, with a valid result and
//! valid base64. A step that fails or panics fails only its record, which keeps
//! its original bytes; the response never exceeds the Lambda response limit.
//! [`lambda::serve`] runs a pipeline as a Lambda function, with its settings
//! checked at start-up.
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
#![forbid(unsafe_code)]

#[cfg(feature = "reingest")]
pub mod aws_put;
mod codec;
pub mod contract;
mod csv_row;
#[cfg(feature = "aws-lambda-events")]
pub mod interop;
pub mod jq;
pub mod lambda;
#[cfg(feature = "local")]
pub mod local;
mod logging;
mod metrics;
mod panic;
pub mod pipeline;
pub mod record;
mod response;
mod runtime_client;
pub mod settings;
mod text;
pub mod transform;
pub mod transforms;

pub use contract::{Event, EventRecord, Outcome, Response, ResponseRecord};
pub use metrics::Summary;
pub use pipeline::{InvalidEvent, Pipeline, Processed};
pub use record::Record;
pub use transform::{Transform, TransformError, Verdict, transform_fn};

/// Everything a custom transform usually needs, in one import.
pub mod prelude {
    pub use crate::lambda;
    pub use crate::pipeline::Pipeline;
    pub use crate::record::Record;
    pub use crate::settings::{Setting, SettingError, SettingGroup, Settings};
    pub use crate::transform::{Transform, TransformError, Verdict, transform_fn};
    pub use serde_json::{Value, json};
}
