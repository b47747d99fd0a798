//! Built-in transforms, one per module, each with its settings declared beside it.

pub mod normalize;
pub mod timestamp;
