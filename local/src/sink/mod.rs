//! The S3 side: prefixes and object names, the buffers objects are cut
//! from, error objects, and where the objects are written.

pub mod compression;
pub mod delivery;
pub mod error_record;
pub mod java_time;
pub mod local_path;
pub mod objects;
pub mod prefix;
#[cfg(feature = "s3")]
pub mod s3;
pub mod store;

pub use compression::Compression;
use prefix::Prefix;

/// An S3 destination (the main one, or the backup).
#[derive(Debug, Clone)]
pub struct Destination {
    pub bucket: String,
    pub prefix: Prefix,
    pub error_prefix: Prefix,
    pub compression: Compression,
    /// The objects' extension (`FileExtension`, else the compression's).
    pub extension: String,
    pub buffering: Buffering,
    pub time_zone: jiff::tz::TimeZone,
}

/// Buffering hints: a buffer is flushed when it holds this much, or this long after its first record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffering {
    pub size_bytes: u64,
    pub interval_ms: i64,
}
