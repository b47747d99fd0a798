//! The transform abstraction: one step of a pipeline, applied to one record.
//!
//! A step cannot add or remove records, so the one-answer-per-record contract
//! holds by construction. It keeps the record ([`Verdict::Keep`]), drops it
//! ([`Verdict::Drop`]) or fails it (`Err`), and the pipeline turns a failure or
//! a panic into `ProcessingFailed` with the record's original bytes.

pub use crate::pipeline::error::TransformError;
use crate::pipeline::record::Record;

/// What a step decided about a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on to the next step; after the last one the record is `Ok`.
    Keep,
    /// Stop here: the record is `Dropped` and later steps do not see it.
    Drop,
}

/// One step of a pipeline.
pub trait Transform: Send + Sync {
    /// Short, stable name; appears in logs and failure reasons.
    fn name(&self) -> &str;

    /// Transforms one record in place.
    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError>;
}

/// A boxed step is a step, so steps chosen at start-up chain like any other.
impl Transform for Box<dyn Transform> {
    fn name(&self) -> &str {
        self.as_ref().name()
    }

    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        self.as_ref().apply(record)
    }
}

/// A step made from a closure.
pub struct TransformFn<F> {
    name: String,
    f: F,
}

/// Makes a step from a closure: the shortest way to write a custom transform.
pub fn transform_fn<F>(name: impl Into<String>, f: F) -> TransformFn<F>
where
    F: Fn(&mut Record<'_>) -> Result<Verdict, TransformError> + Send + Sync,
{
    TransformFn {
        name: name.into(),
        f,
    }
}

impl<F> Transform for TransformFn<F>
where
    F: Fn(&mut Record<'_>) -> Result<Verdict, TransformError> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        (self.f)(record)
    }
}
