//! An Apache ORC writer for Arrow record batches of Hive's types, written from
//! the ORC v1 specification (orc.apache.org/specification/ORCv1): what
//! `firehose-local` writes for a Glue table whose SerDe is `OrcSerDe`.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Int32Array, RecordBatch};
//! use firehose_orc::{OrcType, Options, Writer};
//!
//! let ids = Arc::new(Int32Array::from(vec![Some(1), None, Some(3)]));
//! let batch = RecordBatch::try_from_iter([("id", ids as _)]).unwrap();
//! let mut writer = Writer::new(Vec::new(), vec![("id".into(), OrcType::Int)], Options::default()).unwrap();
//! writer.write(&batch).unwrap();
//! let file = writer.finish().unwrap();
//! assert_eq!(&file[..3], b"ORC");
//! ```

mod column;
mod compression;
mod encoding;
mod proto;
mod read;
mod schema;
mod statistics;
mod text;
mod writer;

pub use compression::Compression;
pub use read::Reader;
pub use schema::OrcType;
pub use writer::{FormatVersion, Options, Writer};

use arrow_schema::DataType;

/// Why a file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum OrcError {
    #[error("writing the ORC file: {0}")]
    Io(#[from] std::io::Error),
    #[error("column {column}: {message}")]
    Schema { column: String, message: String },
    #[error("column {column}: the schema's type cannot be written from Arrow's {found}")]
    ArrowType { column: String, found: DataType },
    #[error("column {column}: {message}")]
    Value { column: String, message: String },
    #[error("{0}")]
    Option(String),
    #[error("reading the ORC file: {0}")]
    Read(String),
}
