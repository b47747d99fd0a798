//! The file: the `ORC` header, stripes of whole rows (streams, then the
//! stripe footer), and the tail (stripe statistics, footer, PostScript, and
//! the PostScript's length in the last byte).

use std::io::Write;

use arrow_array::{Array, RecordBatch, StructArray};
use prost::Message;

use crate::column::{Column, ColumnIndex, ColumnOptions, StreamData, StripeColumns};
use crate::compression::{Compression, MAX_BLOCK_SIZE, compress, position};
use crate::encoding::int_rle::RleVersion;
use crate::proto::{
    CalendarKind, Footer, Metadata, PostScript, RowIndex, RowIndexEntry, StreamKind, StripeFooter,
    StripeInformation, StripeStatistics,
};
use crate::schema::OrcType;
use crate::statistics::Statistics;
use crate::{OrcError, proto};

const MAGIC: &[u8] = b"ORC";
/// Readers know the Java writer's versions below 6; others start at 6.
const WRITER_VERSION: u32 = 6;
/// An implementation id no one has registered: Java readers take it as a
/// writer with every known fix.
const WRITER_ID: u32 = 100;
/// Rows handed to the columns at a time, between checks of the stripe size.
const ROWS_PER_CHECK: usize = 1024;

/// The file format version: what the lowest Hive that reads it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatVersion {
    /// Hive 0.11: run-length encoding version 1.
    V0_11,
    /// Hive 0.12: run-length encoding version 2 (Firehose's default).
    V0_12,
}

/// How the file is written.
#[derive(Debug, Clone)]
pub struct Options {
    pub compression: Compression,
    /// Bytes of each compressed chunk before compression (at most 8 MiB − 1).
    pub compression_block_size: usize,
    /// A stripe ends once its streams hold about this many bytes, uncompressed.
    pub stripe_size: usize,
    /// Rows per row group, each with its index entry (positions and
    /// statistics); 0 writes no row index.
    pub row_index_stride: usize,
    pub format_version: FormatVersion,
    /// A string column is written through a dictionary in a stripe where its
    /// distinct values are at most this fraction of its values (0 never,
    /// 1 always).
    pub dictionary_key_threshold: f64,
}

impl Default for Options {
    /// Firehose's defaults: SNAPPY, 64 MiB stripes, a row group every 10,000
    /// rows, format 0.12; Java's 256 KiB chunks and dictionary threshold.
    fn default() -> Options {
        Options {
            compression: Compression::Snappy,
            compression_block_size: 256 << 10,
            stripe_size: 64 << 20,
            row_index_stride: 10_000,
            format_version: FormatVersion::V0_12,
            dictionary_key_threshold: 0.8,
        }
    }
}

/// Writes record batches as one ORC file.
pub struct Writer<W: Write> {
    out: W,
    /// Bytes written so far: where the next stripe starts.
    offset: u64,
    options: Options,
    types: Vec<proto::Type>,
    root: Column,
    stripe_rows: u64,
    /// Rows of the open row group, if one is open.
    group_rows: Option<usize>,
    rows: u64,
    stripes: Vec<StripeInformation>,
    stripe_statistics: Vec<StripeStatistics>,
}

impl<W: Write> Writer<W> {
    /// Starts a file of the columns `schema` (names, types) into `out`.
    pub fn new(
        mut out: W,
        schema: Vec<(String, OrcType)>,
        options: Options,
    ) -> Result<Writer<W>, OrcError> {
        if !(1..=MAX_BLOCK_SIZE).contains(&options.compression_block_size) {
            return Err(OrcError::Option(format!(
                "compression block size {} is not 1 to {MAX_BLOCK_SIZE} bytes",
                options.compression_block_size
            )));
        }
        if !(0.0..=1.0).contains(&options.dictionary_key_threshold) {
            return Err(OrcError::Option(format!(
                "dictionary key threshold {} is not 0 to 1",
                options.dictionary_key_threshold
            )));
        }
        let root = OrcType::Struct(schema);
        root.check("")?;
        let mut types = Vec::new();
        root.flatten(&mut types);
        let mut next_id = 0;
        let column_options = ColumnOptions {
            version: options.rle_version(),
            dictionary_threshold: options.dictionary_key_threshold,
        };
        let root = Column::new(&root, String::new(), &column_options, &mut next_id);
        out.write_all(MAGIC)?;
        Ok(Writer {
            out,
            offset: MAGIC.len() as u64,
            options,
            types,
            root,
            stripe_rows: 0,
            group_rows: None,
            rows: 0,
            stripes: Vec::new(),
            stripe_statistics: Vec::new(),
        })
    }

    /// Adds the batch's rows; its columns are the schema's, in order.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), OrcError> {
        let rows = StructArray::from(batch.clone());
        let stride = self.options.row_index_stride;
        let mut start = 0;
        while start < rows.len() {
            let in_group = *self.group_rows.get_or_insert_with(|| {
                self.root.begin_group();
                0
            });
            let mut end = rows.len().min(start + ROWS_PER_CHECK);
            if stride > 0 {
                end = end.min(start + stride - in_group);
            }
            let range = start..end;
            self.root.write(&rows, std::slice::from_ref(&range))?;
            self.stripe_rows += (end - start) as u64;
            self.group_rows = Some(in_group + end - start);
            if stride > 0 && self.group_rows == Some(stride) {
                self.root.end_group();
                self.group_rows = None;
            }
            if self.root.buffered() >= self.options.stripe_size {
                self.write_stripe()?;
            }
            start = end;
        }
        Ok(())
    }

    /// Writes the last stripe and the file's tail; returns the output.
    pub fn finish(mut self) -> Result<W, OrcError> {
        if self.stripe_rows > 0 {
            self.write_stripe()?;
        }
        let metadata = Metadata {
            stripe_stats: std::mem::take(&mut self.stripe_statistics),
        };
        let metadata = self.compressed(metadata.encode_to_vec())?;
        let mut statistics = Vec::new();
        self.root.file_statistics(&mut statistics);
        let footer = Footer {
            header_length: Some(MAGIC.len() as u64),
            content_length: Some(self.offset),
            stripes: std::mem::take(&mut self.stripes),
            types: std::mem::take(&mut self.types),
            number_of_rows: Some(self.rows),
            statistics: statistics.iter().map(Statistics::to_proto).collect(),
            row_index_stride: Some(self.options.row_index_stride as u32),
            writer: Some(WRITER_ID),
            calendar: Some(CalendarKind::ProlepticGregorian as i32),
            software_version: Some(concat!("firehose-orc ", env!("CARGO_PKG_VERSION")).to_owned()),
        };
        let footer = self.compressed(footer.encode_to_vec())?;
        let version = match self.options.format_version {
            FormatVersion::V0_11 => vec![0, 11],
            FormatVersion::V0_12 => vec![0, 12],
        };
        let postscript = PostScript {
            footer_length: Some(footer.len() as u64),
            compression: Some(self.options.compression.kind() as i32),
            compression_block_size: Some(self.options.compression_block_size as u64),
            version,
            metadata_length: Some(metadata.len() as u64),
            writer_version: Some(WRITER_VERSION),
            magic: Some("ORC".to_owned()),
        }
        .encode_to_vec();
        self.out.write_all(&metadata)?;
        self.out.write_all(&footer)?;
        self.out.write_all(&postscript)?;
        // The PostScript is a few dozen bytes: its length fits the last byte.
        self.out.write_all(&[postscript.len() as u8])?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn write_stripe(&mut self) -> Result<(), OrcError> {
        if self.group_rows.take().is_some() {
            self.root.end_group();
        }
        let mut columns = StripeColumns::default();
        self.root
            .finish_stripe(self.options.rle_version(), &mut columns);
        let mut data = Vec::new();
        for StreamData {
            kind,
            column,
            bytes,
        } in columns.streams
        {
            data.push((kind, column, self.compressed(bytes)?));
        }
        let mut index = Vec::new();
        if self.options.row_index_stride > 0 {
            for ColumnIndex { column, groups } in columns.indexes {
                let stored = |kind| {
                    data.iter()
                        .find(|(k, c, _)| *k == kind && *c == column)
                        .map_or(&[][..], |(_, _, bytes)| bytes.as_slice())
                };
                let entry = groups
                    .into_iter()
                    .map(|group| RowIndexEntry {
                        positions: group
                            .marks
                            .iter()
                            .flat_map(|mark| {
                                let at = position(
                                    self.options.compression,
                                    self.options.compression_block_size,
                                    stored(mark.kind),
                                    mark.offset,
                                );
                                at.into_iter().chain(mark.run.iter().copied())
                            })
                            .collect(),
                        statistics: Some(group.statistics.to_proto()),
                    })
                    .collect();
                let row_index = RowIndex { entry }.encode_to_vec();
                index.push((StreamKind::RowIndex, column, self.compressed(row_index)?));
            }
        }
        let mut footer = StripeFooter {
            columns: columns.encodings,
            writer_timezone: Some("UTC".to_owned()),
            ..StripeFooter::default()
        };
        // Index streams come first, then data; a stream's place in the file is
        // the sum of the lengths listed before it, so every stream is listed,
        // empty ones too.
        let area_length = |streams: &[(StreamKind, u32, Vec<u8>)]| {
            streams.iter().map(|(_, _, b)| b.len() as u64).sum::<u64>()
        };
        let (index_length, data_length) = (area_length(&index), area_length(&data));
        for (kind, column, bytes) in index.iter().chain(&data) {
            self.out.write_all(bytes)?;
            footer.streams.push(proto::Stream {
                kind: Some(*kind as i32),
                column: Some(*column),
                length: Some(bytes.len() as u64),
            });
        }
        let footer = self.compressed(footer.encode_to_vec())?;
        self.out.write_all(&footer)?;
        self.stripes.push(StripeInformation {
            offset: Some(self.offset),
            index_length: Some(index_length),
            data_length: Some(data_length),
            footer_length: Some(footer.len() as u64),
            number_of_rows: Some(self.stripe_rows),
        });
        self.stripe_statistics.push(StripeStatistics {
            col_stats: columns
                .statistics
                .iter()
                .map(Statistics::to_proto)
                .collect(),
        });
        self.offset += index_length + data_length + footer.len() as u64;
        self.rows += self.stripe_rows;
        self.stripe_rows = 0;
        Ok(())
    }

    fn compressed(&self, bytes: Vec<u8>) -> Result<Vec<u8>, OrcError> {
        compress(
            self.options.compression,
            self.options.compression_block_size,
            bytes,
        )
    }
}

impl Options {
    fn rle_version(&self) -> RleVersion {
        match self.format_version {
            FormatVersion::V0_11 => RleVersion::V1,
            FormatVersion::V0_12 => RleVersion::V2,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::StringArray;

    use super::*;
    use crate::proto::EncodingKind;

    /// Each stripe's encoding of its only column, read from an uncompressed file.
    fn stripe_encodings(file: &[u8]) -> Vec<(Option<i32>, Option<u32>)> {
        let end = file.len() - 1;
        let postscript = PostScript::decode(&file[end - usize::from(file[end])..end]).unwrap();
        let footer_end = end - usize::from(file[end]);
        let footer_start = footer_end - postscript.footer_length.unwrap_or_default() as usize;
        let footer = Footer::decode(&file[footer_start..footer_end]).unwrap();
        footer
            .stripes
            .iter()
            .map(|stripe| {
                let at = (stripe.offset() + stripe.index_length() + stripe.data_length()) as usize;
                let footer =
                    StripeFooter::decode(&file[at..at + stripe.footer_length() as usize]).unwrap();
                let column = &footer.columns[1];
                (column.kind, column.dictionary_size)
            })
            .collect()
    }

    #[test]
    fn each_stripe_chooses_dictionary_or_direct_strings_by_its_own_values() {
        let schema = vec![("s".to_owned(), OrcType::String)];
        let options = Options {
            compression: Compression::None,
            stripe_size: 1, // a stripe per batch
            ..Options::default()
        };
        let mut writer = Writer::new(Vec::new(), schema, options).unwrap();
        let repeated = (0..100).map(|i| ["a", "b"][i % 2].to_owned());
        let distinct = (0..100).map(|i| format!("v{i}"));
        for values in [repeated.collect::<Vec<_>>(), distinct.collect()] {
            let array = Arc::new(StringArray::from(values));
            writer
                .write(&RecordBatch::try_from_iter([("s", array as _)]).unwrap())
                .unwrap();
        }
        let file = writer.finish().unwrap();
        assert_eq!(
            stripe_encodings(&file),
            [
                (Some(EncodingKind::DictionaryV2 as i32), Some(2)),
                (Some(EncodingKind::DirectV2 as i32), None),
            ]
        );
    }
}
