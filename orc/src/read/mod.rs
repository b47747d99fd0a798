//! Reading an ORC file back as Arrow record batches, a stripe at a time:
//! what `firehose-local cat` shows of ORC objects. It reads what this crate
//! writes and what other writers write with the same types and codecs
//! (PATCHED_BASE runs, dictionaries, format 0.11 and 0.12); it refuses, with
//! the reason, codecs and types Firehose never writes (LZ4, ZSTD, unions).

mod column;
mod runs;

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use prost::Message;

use crate::OrcError;
use crate::compression::{Compression, decompress};
use crate::proto::{CompressionKind, Footer, PostScript, StripeFooter, Type, TypeKind};

/// The longest a PostScript can be: its length is the file's last byte.
const MAX_POSTSCRIPT: usize = 255;
/// How deep types may nest, so that a hostile footer cannot exhaust the stack.
const MAX_DEPTH: usize = 100;

/// An ORC file, its tail read.
pub struct Reader<'a> {
    file: &'a [u8],
    compression: Compression,
    block_size: usize,
    footer: Footer,
    schema: SchemaRef,
}

impl<'a> Reader<'a> {
    /// Reads the file's tail (PostScript, footer) and its schema.
    pub fn new(file: &'a [u8]) -> Result<Reader<'a>, OrcError> {
        let damaged = |what: &str| OrcError::Read(what.to_owned());
        if !file.starts_with(b"ORC") {
            return Err(damaged("not an ORC file: it does not start with ORC"));
        }
        let end = file.len() - 1;
        let postscript_length = usize::from(file[end]);
        let postscript = end
            .checked_sub(postscript_length)
            .filter(|&start| start >= 3 && postscript_length <= MAX_POSTSCRIPT)
            .map(|start| &file[start..end])
            .ok_or_else(|| damaged("the file is cut short: its PostScript is missing"))?;
        let postscript = PostScript::decode(postscript)
            .map_err(|e| OrcError::Read(format!("the PostScript is damaged: {e}")))?;
        let codec = postscript.compression.unwrap_or_default();
        let compression = match CompressionKind::try_from(codec) {
            Ok(CompressionKind::None) => Compression::None,
            Ok(CompressionKind::Zlib) => Compression::Zlib,
            Ok(CompressionKind::Snappy) => Compression::Snappy,
            other => {
                let name = other.map_or(format!("codec {codec}"), |kind| format!("{kind:?}"));
                return Err(OrcError::Read(format!(
                    "the file is compressed with {name}, which firehose-orc does not read (Firehose writes SNAPPY, ZLIB or NONE)"
                )));
            }
        };
        let block_size = postscript.compression_block_size.unwrap_or(256 << 10) as usize;
        let footer_end = end - postscript_length;
        let footer = usize::try_from(postscript.footer_length())
            .ok()
            .and_then(|length| footer_end.checked_sub(length))
            .filter(|&start| start >= 3)
            .map(|start| &file[start..footer_end])
            .ok_or_else(|| damaged("the file is cut short: its footer is missing"))?;
        let footer = Footer::decode(&decompress(compression, block_size, footer)?[..])
            .map_err(|e| OrcError::Read(format!("the footer is damaged: {e}")))?;
        let schema = match arrow_type(&footer.types, 0, 0)? {
            DataType::Struct(fields) => Arc::new(Schema::new(fields)),
            _ => return Err(damaged("the file's root type is not a struct")),
        };
        Ok(Reader {
            file,
            compression,
            block_size,
            footer,
            schema,
        })
    }

    /// The columns as Arrow reads them (see [`arrow_type`]).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Each stripe's rows, in order.
    pub fn stripes(&self) -> impl Iterator<Item = Result<RecordBatch, OrcError>> + '_ {
        (0..self.footer.stripes.len()).map(|i| self.stripe(i))
    }

    fn stripe(&self, index: usize) -> Result<RecordBatch, OrcError> {
        let info = &self.footer.stripes[index];
        let damaged = |what: &str| OrcError::Read(format!("stripe {index}: {what}"));
        let rows = usize::try_from(info.number_of_rows()).map_err(|_| damaged("too many rows"))?;
        let slice = |start: u64, length: u64| {
            let start = usize::try_from(start).ok()?;
            let end = start.checked_add(usize::try_from(length).ok()?)?;
            self.file.get(start..end)
        };
        let data_start = info.offset().checked_add(info.index_length());
        let footer_start = data_start.and_then(|s| s.checked_add(info.data_length()));
        let footer = footer_start
            .and_then(|start| slice(start, info.footer_length()))
            .ok_or_else(|| damaged("it lies past the file's end"))?;
        let footer = decompress(self.compression, self.block_size, footer)?;
        let footer = StripeFooter::decode(&footer[..])
            .map_err(|e| damaged(&format!("its footer is damaged: {e}")))?;
        // Streams lie end to end from the stripe's start, in the footer's order.
        let mut streams = Vec::with_capacity(footer.streams.len());
        let mut at = info.offset();
        for stream in &footer.streams {
            let stored = slice(at, stream.length())
                .ok_or_else(|| damaged("a stream lies past the file's end"))?;
            at = at.saturating_add(stream.length());
            streams.push((stream.column(), stream.kind, stored));
        }
        let stripe = column::Stripe::new(&self.footer.types, &footer, streams, |stored| {
            decompress(self.compression, self.block_size, stored)
        })
        .map_err(|e| damaged(&e.to_string()))?;
        let columns = stripe
            .read_root(rows)
            .map_err(|e| damaged(&e.to_string()))?;
        RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| damaged(&e.to_string()))
    }
}

/// The Arrow type a column is read as: Hive's types as firehose-local's
/// Parquet path writes them (`element` lists, `key_value` maps), timestamps
/// to the microsecond (the precision of what Firehose converts; finer
/// digits are cut).
fn arrow_type(types: &[Type], id: u32, depth: usize) -> Result<DataType, OrcError> {
    let damaged = |what: String| OrcError::Read(format!("column {id}: {what}"));
    let ty = types
        .get(id as usize)
        .ok_or_else(|| damaged("the footer has no such type".to_owned()))?;
    if depth > MAX_DEPTH {
        return Err(damaged(format!("types nest deeper than {MAX_DEPTH}")));
    }
    let child = |i: usize| -> Result<DataType, OrcError> {
        match ty.subtypes.get(i) {
            // Types are numbered in pre-order: a child's id is after its parent's.
            Some(&child) if child > id => arrow_type(types, child, depth + 1),
            _ => Err(damaged(
                "a child type is missing or out of order".to_owned(),
            )),
        }
    };
    let kind = TypeKind::try_from(ty.kind.unwrap_or_default()).map_err(|_| {
        damaged(format!(
            "type kind {:?} is not one firehose-orc reads",
            ty.kind
        ))
    })?;
    Ok(match kind {
        TypeKind::Boolean => DataType::Boolean,
        TypeKind::Byte => DataType::Int8,
        TypeKind::Short => DataType::Int16,
        TypeKind::Int => DataType::Int32,
        TypeKind::Long => DataType::Int64,
        TypeKind::Float => DataType::Float32,
        TypeKind::Double => DataType::Float64,
        TypeKind::String | TypeKind::Varchar | TypeKind::Char => DataType::Utf8,
        TypeKind::Binary => DataType::Binary,
        TypeKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        TypeKind::Date => DataType::Date32,
        TypeKind::Decimal => match (ty.precision, ty.scale) {
            (Some(precision @ 1..=38), Some(scale)) if scale <= precision => {
                DataType::Decimal128(precision as u8, scale as i8)
            }
            (None, _) => {
                return Err(damaged(
                    "a decimal without a precision (Hive 0.11's) is not read".to_owned(),
                ));
            }
            (precision, scale) => {
                return Err(damaged(format!(
                    "decimal({precision:?},{scale:?}) is not a Hive decimal"
                )));
            }
        },
        TypeKind::List => DataType::List(Arc::new(Field::new("element", child(0)?, true))),
        TypeKind::Map => {
            let entries = Fields::from(vec![
                Field::new("key", child(0)?, false),
                Field::new("value", child(1)?, true),
            ]);
            DataType::Map(
                Arc::new(Field::new("key_value", DataType::Struct(entries), false)),
                false,
            )
        }
        TypeKind::Struct => {
            if ty.field_names.len() != ty.subtypes.len() {
                return Err(damaged(
                    "a struct's field names do not match its fields".to_owned(),
                ));
            }
            let fields: Result<Vec<Field>, OrcError> = ty
                .field_names
                .iter()
                .enumerate()
                .map(|(i, name)| Ok(Field::new(name, child(i)?, true)))
                .collect();
            DataType::Struct(Fields::from(fields?))
        }
        TypeKind::Union | TypeKind::TimestampInstant => {
            return Err(damaged(format!(
                "{kind:?} columns are not read: Hive tables of Glue have none"
            )));
        }
    })
}
