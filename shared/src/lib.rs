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

pub mod contract;
mod csv_row;
pub mod jq;
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
