//! ORC objects: the converter's rows decoded as for Parquet, written by
//! firehose-orc (our own writer) with the template's `OrcSerDe` settings;
//! and read back by firehose-orc's reader.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use firehose_orc::{Compression, FormatVersion, Options, OrcType, Reader, Writer};

use super::arrow_rows::decode;
use super::table::Table;

/// `OrcSerDe`'s settings that shape the file, with Firehose's defaults; the
/// ones that shape only its layout on HDFS are `notes`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrcSettings {
    /// `Compression`: `SNAPPY` (default), `ZLIB` or `NONE`.
    pub compression: Compression,
    /// `StripeSizeBytes` (default 64 MiB, at least 8 MiB).
    pub stripe_size_bytes: usize,
    /// `RowIndexStride` (default 10,000, at least 1,000).
    pub row_index_stride: usize,
    /// `FormatVersion`: `V0_12` (default) or `V0_11`.
    pub format_version: FormatVersion,
    /// `DictionaryKeyThreshold` (default 0.8, Java's): a string column is
    /// written through a dictionary in a stripe where its distinct values
    /// are at most this fraction of its values.
    pub dictionary_key_threshold: f64,
    /// Settings accepted but not followed, each saying why the file is the
    /// same for a reader (the summary shows them).
    pub notes: Vec<String>,
}

impl Default for OrcSettings {
    fn default() -> Self {
        OrcSettings {
            compression: Compression::Snappy,
            stripe_size_bytes: 64 << 20,
            row_index_stride: 10_000,
            format_version: FormatVersion::V0_12,
            dictionary_key_threshold: 0.8,
            notes: Vec::new(),
        }
    }
}

/// Rows (one JSON object a line) of `table` as an ORC file.
pub fn write(
    table: &Table,
    schema: &SchemaRef,
    rows: &[u8],
    settings: &OrcSettings,
) -> Result<Vec<u8>, String> {
    let why = |e: &dyn std::fmt::Display| format!("writing ORC: {e}");
    let columns = table
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.orc_type()))
        .collect::<Vec<(String, OrcType)>>();
    let options = Options {
        compression: settings.compression,
        stripe_size: settings.stripe_size_bytes,
        row_index_stride: settings.row_index_stride,
        format_version: settings.format_version,
        dictionary_key_threshold: settings.dictionary_key_threshold,
        ..Options::default()
    };
    let mut writer = Writer::new(Vec::new(), columns, options).map_err(|e| why(&e))?;
    decode(schema, rows, |batch| {
        writer.write(&batch).map_err(|e| why(&e))
    })?;
    writer.finish().map_err(|e| why(&e))
}

/// An ORC file's schema and rows.
pub fn read(bytes: &[u8]) -> Result<(SchemaRef, Vec<RecordBatch>), String> {
    let why = |e: &dyn std::fmt::Display| format!("not an ORC file firehose-local can read: {e}");
    let reader = Reader::new(bytes).map_err(|e| why(&e))?;
    let batches = reader
        .stripes()
        .collect::<Result<Vec<RecordBatch>, _>>()
        .map_err(|e| why(&e))?;
    Ok((reader.schema(), batches))
}
