//! Parquet objects: the converter's rows decoded into Arrow batches
//! ([`super::arrow_rows`]) and written by Arrow's Parquet writer, with the
//! template's `ParquetSerDe` settings; and read back by Arrow's reader.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, GzipLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};

use super::arrow_rows::decode;

/// `ParquetSerDe`'s settings, with Firehose's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetSettings {
    /// `Compression`: `SNAPPY` (default), `GZIP` or `UNCOMPRESSED`.
    pub compression: ParquetCompression,
    /// `BlockSizeBytes`: the row group size (default 256 MiB, at least 64 MiB).
    pub block_size_bytes: usize,
    /// `PageSizeBytes` (default 1 MiB, at least 64 KiB).
    pub page_size_bytes: usize,
    /// `EnableDictionaryCompression` (default false).
    pub dictionary: bool,
    /// `WriterVersion`: `V1` (default) or `V2`.
    pub writer_version_2: bool,
}

/// A Parquet codec `ParquetSerDe` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCompression {
    Snappy,
    Gzip,
    Uncompressed,
}

impl Default for ParquetSettings {
    fn default() -> Self {
        ParquetSettings {
            compression: ParquetCompression::Snappy,
            block_size_bytes: 256 << 20,
            page_size_bytes: 1 << 20,
            dictionary: false,
            writer_version_2: false,
        }
    }
}

impl ParquetSettings {
    fn properties(&self) -> WriterProperties {
        let compression = match self.compression {
            ParquetCompression::Snappy => Compression::SNAPPY,
            ParquetCompression::Gzip => Compression::GZIP(GzipLevel::default()),
            ParquetCompression::Uncompressed => Compression::UNCOMPRESSED,
        };
        let version = if self.writer_version_2 {
            WriterVersion::PARQUET_2_0
        } else {
            WriterVersion::PARQUET_1_0
        };
        WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_bytes(Some(self.block_size_bytes))
            .set_data_page_size_limit(self.page_size_bytes)
            .set_dictionary_enabled(self.dictionary)
            .set_writer_version(version)
            .set_created_by("firehose-local (Firehose record format conversion)".to_owned())
            .build()
    }
}

/// Rows (one JSON object a line, as [`super::Deserializer::rows`] makes them) as a Parquet file.
pub fn write(
    schema: &SchemaRef,
    rows: &[u8],
    settings: &ParquetSettings,
) -> Result<Vec<u8>, String> {
    let why = |e: &dyn std::fmt::Display| format!("writing Parquet: {e}");
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema.clone(), Some(settings.properties()))
        .map_err(|e| why(&e))?;
    decode(schema, rows, |batch| {
        writer.write(&batch).map_err(|e| why(&e))
    })?;
    writer.close().map_err(|e| why(&e))?;
    Ok(out)
}

/// A Parquet file's schema and rows.
pub fn read(bytes: &[u8]) -> Result<(SchemaRef, Vec<RecordBatch>), String> {
    let why =
        |e: &dyn std::fmt::Display| format!("not a Parquet file firehose-local can read: {e}");
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| why(&e))?
        .build()
        .map_err(|e| why(&e))?;
    let schema = arrow_array::RecordBatchReader::schema(&reader);
    let batches = reader
        .collect::<Result<Vec<RecordBatch>, _>>()
        .map_err(|e| why(&e))?;
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_parquet_is_refused_by_the_reader() {
        assert!(
            read(b"{\"a\":1}")
                .unwrap_err()
                .contains("not a Parquet file")
        );
    }
}
