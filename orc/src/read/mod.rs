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
        // Arrow's offsets are 32 bits; a stripe of more rows is damage.
        let rows = usize::try_from(info.number_of_rows())
            .ok()
            .filter(|&rows| rows <= i32::MAX as usize)
            .ok_or_else(|| damaged("it claims more rows than a stripe can hold"))?;
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
        // The column reader reads every child type listed: a list has one, a map two.
        TypeKind::List | TypeKind::Map
            if ty.subtypes.len() != usize::from(kind == TypeKind::Map) + 1 =>
        {
            return Err(damaged(format!(
                "a {kind:?} type lists {} child types",
                ty.subtypes.len()
            )));
        }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Array, Int64Array, ListArray, StringArray, StructArray};
    use arrow_schema::Fields;

    use super::*;
    use crate::{Compression, Options, OrcType, Writer};

    /// A small file of a few types, nulls and a nested column.
    fn small_file(compression: Compression) -> Vec<u8> {
        let ids = Arc::new(Int64Array::from(vec![Some(1), None, Some(-300)]));
        let names = Arc::new(StringArray::from(vec![Some("a"), Some("bb"), None]));
        let tags = Arc::new(ListArray::from_iter_primitive::<
            arrow_array::types::Int64Type,
            _,
            _,
        >(vec![
            Some(vec![Some(1), None]),
            None,
            Some(vec![]),
        ]));
        let fields = Fields::from(vec![Field::new("x", DataType::Int64, true)]);
        let point = Arc::new(StructArray::new(
            fields,
            vec![Arc::new(Int64Array::from(vec![Some(7), Some(8), None])) as _],
            Some(vec![true, false, true].into()),
        ));
        let batch = RecordBatch::try_from_iter([
            ("id", ids as Arc<dyn Array>),
            ("name", names as _),
            ("tags", tags as _),
            ("point", point as _),
        ])
        .unwrap();
        let schema = vec![
            ("id".to_owned(), OrcType::BigInt),
            ("name".to_owned(), OrcType::String),
            ("tags".to_owned(), OrcType::Array(Box::new(OrcType::BigInt))),
            (
                "point".to_owned(),
                OrcType::Struct(vec![("x".to_owned(), OrcType::BigInt)]),
            ),
        ];
        let options = Options {
            compression,
            ..Options::default()
        };
        let mut writer = Writer::new(Vec::new(), schema, options).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap()
    }

    #[test]
    fn a_file_reads_back_with_its_nulls_and_nesting() {
        let file = small_file(Compression::Zlib);
        let reader = Reader::new(&file).unwrap();
        let batches: Vec<RecordBatch> = reader.stripes().collect::<Result<_, _>>().unwrap();
        assert_eq!(batches.len(), 1);
        let batch = &batches[0];
        assert_eq!(batch.num_rows(), 3);
        let point = batch
            .column(3)
            .as_any()
            .downcast_ref::<StructArray>()
            .unwrap();
        assert!(point.is_null(1));
        // The struct's child has no entry under the null struct: the third
        // row's x is the second value written, null.
        let x = point
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!((x.value(0), x.is_null(2)), (7, true));
        let tags = batch
            .column(2)
            .as_any()
            .downcast_ref::<ListArray>()
            .unwrap();
        assert!(tags.is_null(1) && tags.value(2).is_empty() && tags.value(0).is_null(1));
    }

    /// Whatever a damaged file holds, reading it ends in an error or rows,
    /// never a panic.
    #[test]
    fn damaged_files_are_refused_without_a_panic() {
        assert!(
            matches!(Reader::new(b"PAR1"), Err(OrcError::Read(m)) if m.contains("not an ORC file"))
        );
        for compression in [Compression::None, Compression::Snappy, Compression::Zlib] {
            let file = small_file(compression);
            for cut in 3..file.len() {
                let _ = Reader::new(&file[..cut]).map(|r| r.stripes().count());
            }
            for at in 3..file.len() {
                for flip in [0x01, 0x10] {
                    let mut damaged = file.clone();
                    damaged[at] ^= flip;
                    if let Ok(reader) = Reader::new(&damaged) {
                        reader.stripes().for_each(drop);
                    }
                }
            }
        }
    }

    /// A list or map whose type lists more child types than it has is
    /// refused when the file is opened (a fuzzed file's extra child pointed
    /// past the footer's types and the column reader followed it).
    #[test]
    fn a_collection_type_with_an_extra_child_is_refused() {
        let file = small_file(Compression::None);
        let postscript_start = file.len() - 1 - usize::from(file[file.len() - 1]);
        let mut postscript = PostScript::decode(&file[postscript_start..file.len() - 1]).unwrap();
        let footer_start = postscript_start - postscript.footer_length() as usize;
        let mut footer = Footer::decode(&file[footer_start..postscript_start]).unwrap();
        let list = (footer.types.iter_mut())
            .find(|ty| ty.kind == Some(TypeKind::List as i32))
            .unwrap();
        list.subtypes.push(99);
        let footer = footer.encode_to_vec();
        postscript.footer_length = Some(footer.len() as u64);
        let postscript = postscript.encode_to_vec();
        let damaged = [
            &file[..footer_start],
            &footer,
            &postscript,
            &[postscript.len() as u8],
        ]
        .concat();
        let refused = Reader::new(&damaged).err().unwrap().to_string();
        assert!(
            refused.contains("List type lists 2 child types"),
            "{refused}"
        );
    }
}
