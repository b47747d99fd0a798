//! One stripe's columns as Arrow arrays. A column is read for a number of
//! slots: its parent's rows, where a child of a null struct has no entry in
//! its streams (ORC stores nothing under a null parent) and reads as null.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::types::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimestampMicrosecondType,
};
use arrow_array::{
    ArrayRef, ArrowPrimitiveType, BinaryArray, BooleanArray, ListArray, MapArray, PrimitiveArray,
    StringArray, StructArray,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields};

use super::runs::{self, Cursor};
use crate::OrcError;
use crate::column::ORC_EPOCH_SECONDS;
use crate::encoding::int_rle::RleVersion;
use crate::proto::{ColumnEncoding, EncodingKind, StreamKind, StripeFooter, Type, TypeKind};

/// Time zones in which a timestamp's stored seconds are its UTC wall clock.
const UTC_NAMES: [&str; 4] = ["UTC", "GMT", "Etc/UTC", "Z"];

/// A stripe's streams, decompressed, and its columns' encodings.
pub struct Stripe<'a> {
    types: &'a [Type],
    encodings: &'a [ColumnEncoding],
    streams: HashMap<(u32, i32), Vec<u8>>,
}

impl<'a> Stripe<'a> {
    /// The stripe of `footer`, whose streams are `(column, kind, stored
    /// bytes)`; index and bloom filter streams are left stored.
    pub fn new(
        types: &'a [Type],
        footer: &'a StripeFooter,
        stored: Vec<(u32, Option<i32>, &[u8])>,
        decompress: impl Fn(&[u8]) -> Result<Vec<u8>, OrcError>,
    ) -> Result<Stripe<'a>, OrcError> {
        let has_timestamps = types
            .iter()
            .any(|t| t.kind == Some(TypeKind::Timestamp as i32));
        let zone = footer.writer_timezone.as_deref().unwrap_or("UTC");
        if has_timestamps && !UTC_NAMES.contains(&zone) {
            return Err(OrcError::Read(format!(
                "timestamps written in the time zone {zone} are not read: firehose-orc reads those written in UTC"
            )));
        }
        let wanted = [
            StreamKind::Present,
            StreamKind::Data,
            StreamKind::Length,
            StreamKind::DictionaryData,
            StreamKind::Secondary,
        ]
        .map(|kind| kind as i32);
        let mut streams = HashMap::new();
        for (column, kind, bytes) in stored {
            let Some(kind) = kind.filter(|k| wanted.contains(k)) else {
                continue;
            };
            streams.insert((column, kind), decompress(bytes)?);
        }
        Ok(Stripe {
            types,
            encodings: &footer.columns,
            streams,
        })
    }

    /// The root struct's columns, each of `rows` rows.
    pub fn read_root(&self, rows: usize) -> Result<Vec<ArrayRef>, OrcError> {
        let root = &self.types[0];
        root.subtypes
            .iter()
            .map(|&id| self.read(id, rows, None))
            .collect()
    }

    fn stream(&self, column: u32, kind: StreamKind) -> Cursor<'_> {
        let bytes = self.streams.get(&(column, kind as i32));
        let name = match kind {
            StreamKind::Present => "PRESENT",
            StreamKind::Data => "DATA",
            StreamKind::Length => "LENGTH",
            StreamKind::DictionaryData => "DICTIONARY_DATA",
            _ => "SECONDARY",
        };
        Cursor::new(bytes.map_or(&[], Vec::as_slice), name)
    }

    /// `count` integers of one of the column's streams.
    fn integers(
        &self,
        id: u32,
        kind: StreamKind,
        version: RleVersion,
        signed: bool,
        count: usize,
    ) -> Result<Vec<i64>, OrcError> {
        runs::integers(&mut self.stream(id, kind), version, signed, count)
    }

    /// The column's encoding: its integer RLE version, and its dictionary's
    /// size if it has one.
    fn encoding(&self, column: u32) -> Result<(RleVersion, Option<usize>), OrcError> {
        let encoding = self.encodings.get(column as usize);
        let kind = encoding.and_then(|e| EncodingKind::try_from(e.kind?).ok());
        let size = || encoding.and_then(|e| e.dictionary_size).unwrap_or(0) as usize;
        Ok(match kind {
            Some(EncodingKind::Direct) => (RleVersion::V1, None),
            Some(EncodingKind::DirectV2) => (RleVersion::V2, None),
            Some(EncodingKind::Dictionary) => (RleVersion::V1, Some(size())),
            Some(EncodingKind::DictionaryV2) => (RleVersion::V2, Some(size())),
            None => {
                return Err(OrcError::Read(format!(
                    "column {column} has no known encoding"
                )));
            }
        })
    }

    /// Column `id` over `slots` slots; `parent` says which slots have a
    /// parent value (all when `None`).
    fn read(&self, id: u32, slots: usize, parent: Option<&[bool]>) -> Result<ArrayRef, OrcError> {
        self.read_column(id, slots, parent).map_err(|e| match e {
            OrcError::Read(message) if !message.starts_with("column ") => {
                OrcError::Read(format!("column {id}: {message}"))
            }
            other => other,
        })
    }

    fn read_column(
        &self,
        id: u32,
        slots: usize,
        parent: Option<&[bool]>,
    ) -> Result<ArrayRef, OrcError> {
        let ty = (self.types.get(id as usize))
            .ok_or_else(|| OrcError::Read("the footer has no such type".to_owned()))?;
        let entries = parent.map_or(slots, |p| p.iter().filter(|&&v| v).count());
        let present = match self.streams.contains_key(&(id, StreamKind::Present as i32)) {
            true => runs::booleans(&mut self.stream(id, StreamKind::Present), entries)?,
            false => vec![true; entries],
        };
        let valid = match parent {
            None => present,
            Some(parent) => {
                let mut present = present.into_iter();
                parent
                    .iter()
                    .map(|&p| p && present.next().unwrap_or(false))
                    .collect()
            }
        };
        let count = valid.iter().filter(|&&v| v).count();
        let nulls = (count < slots).then(|| NullBuffer::from(valid.clone()));
        let (version, dictionary) = self.encoding(id)?;
        let integers = |kind, signed| self.integers(id, kind, version, signed, count);
        let kind = TypeKind::try_from(ty.kind.unwrap_or_default()).unwrap_or(TypeKind::Union);
        let array: ArrayRef = match kind {
            TypeKind::Boolean => {
                let values = runs::booleans(&mut self.stream(id, StreamKind::Data), count)?;
                let values = BooleanBuffer::from(spread(values, &valid));
                Arc::new(BooleanArray::new(values, nulls))
            }
            TypeKind::Byte => {
                let values = runs::bytes(&mut self.stream(id, StreamKind::Data), count)?;
                let values = values.into_iter().map(|b| b as i8).collect();
                primitive::<Int8Type>(spread(values, &valid), nulls)
            }
            TypeKind::Short => primitive::<Int16Type>(
                narrowed(integers(StreamKind::Data, true)?, &valid, "smallint")?,
                nulls,
            ),
            TypeKind::Int => primitive::<Int32Type>(
                narrowed(integers(StreamKind::Data, true)?, &valid, "int")?,
                nulls,
            ),
            TypeKind::Date => primitive::<Date32Type>(
                narrowed(integers(StreamKind::Data, true)?, &valid, "date")?,
                nulls,
            ),
            TypeKind::Long => {
                primitive::<Int64Type>(spread(integers(StreamKind::Data, true)?, &valid), nulls)
            }
            TypeKind::Float => {
                let bytes = self.stream(id, StreamKind::Data).take(count * 4)?;
                let values = bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                primitive::<Float32Type>(spread(values, &valid), nulls)
            }
            TypeKind::Double => {
                let bytes = self.stream(id, StreamKind::Data).take(count * 8)?;
                let values = bytes
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                    .collect();
                primitive::<Float64Type>(spread(values, &valid), nulls)
            }
            TypeKind::String | TypeKind::Varchar | TypeKind::Char | TypeKind::Binary => {
                let (offsets, data) = match dictionary {
                    None => {
                        let lengths = integers(StreamKind::Length, false)?;
                        let offsets = offsets(spread(lengths, &valid))?;
                        let total = offsets.as_ref().last().copied().unwrap_or_default() as usize;
                        let data = self.stream(id, StreamKind::Data).take(total)?.to_vec();
                        (offsets, data)
                    }
                    Some(size) => self.dictionary_values(id, version, size, &valid, count)?,
                };
                if kind == TypeKind::Binary {
                    Arc::new(BinaryArray::new(offsets, Buffer::from(data), nulls))
                } else {
                    let strings = StringArray::try_new(offsets, Buffer::from(data), nulls)
                        .map_err(|e| OrcError::Read(format!("a string is not UTF-8: {e}")))?;
                    Arc::new(strings)
                }
            }
            TypeKind::Decimal => {
                let (precision, scale) = (ty.precision.unwrap_or(38) as u8, ty.scale.unwrap_or(0));
                let mut data = self.stream(id, StreamKind::Data);
                let scales = integers(StreamKind::Secondary, true)?;
                let mut values = Vec::with_capacity(count);
                for value_scale in scales {
                    values.push(rescaled(data.signed_128()?, value_scale, i64::from(scale))?);
                }
                let array = PrimitiveArray::<Decimal128Type>::new(
                    ScalarBuffer::from(spread(values, &valid)),
                    nulls,
                )
                .with_precision_and_scale(precision, scale as i8)
                .map_err(|e| OrcError::Read(e.to_string()))?;
                Arc::new(array)
            }
            TypeKind::Timestamp => {
                let seconds = integers(StreamKind::Data, true)?;
                let nanos = integers(StreamKind::Secondary, false)?;
                let micros = seconds
                    .into_iter()
                    .zip(nanos)
                    .map(|(seconds, nanos)| micros(seconds, nanos))
                    .collect::<Result<Vec<i64>, OrcError>>()?;
                primitive::<TimestampMicrosecondType>(spread(micros, &valid), nulls)
            }
            TypeKind::List | TypeKind::Map => {
                let lengths = integers(StreamKind::Length, false)?;
                let offsets = offsets(spread(lengths, &valid))?;
                let elements = offsets.as_ref().last().copied().unwrap_or_default() as usize;
                let children = ty
                    .subtypes
                    .iter()
                    .map(|&child| self.read(child, elements, None))
                    .collect::<Result<Vec<ArrayRef>, OrcError>>()?;
                collection(kind, children, offsets, nulls)?
            }
            TypeKind::Struct => {
                let children = ty
                    .subtypes
                    .iter()
                    .map(|&child| self.read(child, slots, Some(&valid)))
                    .collect::<Result<Vec<ArrayRef>, OrcError>>()?;
                let fields: Fields = ty
                    .field_names
                    .iter()
                    .zip(&children)
                    .map(|(name, child)| Field::new(name, child.data_type().clone(), true))
                    .collect();
                let array = match fields.is_empty() {
                    true => StructArray::new_empty_fields(slots, nulls),
                    false => StructArray::try_new(fields, children, nulls)
                        .map_err(|e| OrcError::Read(e.to_string()))?,
                };
                Arc::new(array)
            }
            TypeKind::Union | TypeKind::TimestampInstant => {
                return Err(OrcError::Read(format!("{kind:?} columns are not read")));
            }
        };
        Ok(array)
    }

    /// A dictionary column's values: each value's entry number in DATA, the
    /// entries' bytes in DICTIONARY_DATA and their lengths in LENGTH.
    fn dictionary_values(
        &self,
        id: u32,
        version: RleVersion,
        size: usize,
        valid: &[bool],
        count: usize,
    ) -> Result<(OffsetBuffer<i32>, Vec<u8>), OrcError> {
        let lengths = self.integers(id, StreamKind::Length, version, false, size)?;
        let mut entries = Vec::with_capacity(size.min(runs::MAX_RESERVED));
        let mut dictionary = self.stream(id, StreamKind::DictionaryData);
        for length in lengths {
            let length = usize::try_from(length)
                .map_err(|_| OrcError::Read("a negative dictionary length".to_owned()))?;
            entries.push(dictionary.take(length)?);
        }
        let numbers = self.integers(id, StreamKind::Data, version, false, count)?;
        let mut data = Vec::new();
        let mut lengths = Vec::with_capacity(count);
        for number in numbers {
            let entry = usize::try_from(number)
                .ok()
                .and_then(|n| entries.get(n))
                .ok_or_else(|| {
                    OrcError::Read(format!("entry {number} is past the dictionary's {size}"))
                })?;
            data.extend_from_slice(entry);
            lengths.push(entry.len() as i64);
        }
        Ok((offsets(spread(lengths, valid))?, data))
    }
}

/// `values` (one per valid slot) placed at the valid slots, default elsewhere.
fn spread<T: Default + Copy>(values: Vec<T>, valid: &[bool]) -> Vec<T> {
    if values.len() == valid.len() {
        return values;
    }
    let mut values = values.into_iter();
    valid
        .iter()
        .map(|&v| match v {
            true => values.next().unwrap_or_default(),
            false => T::default(),
        })
        .collect()
}

fn primitive<T: ArrowPrimitiveType>(values: Vec<T::Native>, nulls: Option<NullBuffer>) -> ArrayRef {
    Arc::new(PrimitiveArray::<T>::new(ScalarBuffer::from(values), nulls))
}

/// 64-bit values narrowed to the column's type, placed at the valid slots.
fn narrowed<T: TryFrom<i64> + Default + Copy>(
    values: Vec<i64>,
    valid: &[bool],
    type_name: &str,
) -> Result<Vec<T>, OrcError> {
    let narrow = values
        .into_iter()
        .map(|v| {
            T::try_from(v).map_err(|_| OrcError::Read(format!("{v} is out of {type_name}'s range")))
        })
        .collect::<Result<Vec<T>, OrcError>>()?;
    Ok(spread(narrow, valid))
}

/// Offsets from lengths, checked to be positive and to fit Arrow's 32 bits.
fn offsets(lengths: Vec<i64>) -> Result<OffsetBuffer<i32>, OrcError> {
    let mut offsets = Vec::with_capacity(lengths.len() + 1);
    let mut end = 0i32;
    offsets.push(end);
    for length in lengths {
        end = i32::try_from(length)
            .ok()
            .filter(|&l| l >= 0)
            .and_then(|l| end.checked_add(l))
            .ok_or_else(|| OrcError::Read(format!("a length of {length} does not fit")))?;
        offsets.push(end);
    }
    Ok(OffsetBuffer::new(ScalarBuffer::from(offsets)))
}

/// A decimal's unscaled value at the column's scale.
fn rescaled(value: i128, value_scale: i64, scale: i64) -> Result<i128, OrcError> {
    let out_of_range = || OrcError::Read(format!("a decimal's scale {value_scale} does not fit"));
    let factor = |digits: i64| {
        u32::try_from(digits)
            .ok()
            .and_then(|d| 10i128.checked_pow(d))
            .ok_or_else(out_of_range)
    };
    match value_scale.cmp(&scale) {
        std::cmp::Ordering::Equal => Ok(value),
        std::cmp::Ordering::Less => value
            .checked_mul(factor(scale - value_scale)?)
            .ok_or_else(out_of_range),
        std::cmp::Ordering::Greater => Ok(value / factor(value_scale - scale)?),
    }
}

/// Microseconds since 1970 of ORC's seconds since 2015 and encoded
/// nanoseconds (trailing zeros dropped, their count less one in the low three
/// bits); digits past the microsecond are cut.
fn micros(seconds: i64, encoded_nanos: i64) -> Result<i64, OrcError> {
    let zeros = encoded_nanos & 7;
    let mut nanos = encoded_nanos >> 3;
    if zeros != 0 {
        nanos = nanos.saturating_mul(10i64.pow(zeros as u32 + 1));
    }
    if !(0..1_000_000_000).contains(&nanos) {
        return Err(OrcError::Read(format!(
            "{nanos} nanoseconds is not a fraction of a second"
        )));
    }
    let mut seconds = seconds
        .checked_add(ORC_EPOCH_SECONDS)
        .ok_or_else(|| OrcError::Read(format!("{seconds} seconds is out of range")))?;
    // Before 1970 writers store a second more where the fraction is over a
    // millisecond (ORC's rule, which every reader follows).
    if seconds < 0 && nanos > 999_999 {
        seconds -= 1;
    }
    seconds
        .checked_mul(1_000_000)
        .and_then(|m| m.checked_add(nanos / 1000))
        .ok_or_else(|| OrcError::Read(format!("{seconds} seconds is out of range")))
}

/// A list (one child) or a map (keys and values) of `children`.
fn collection(
    kind: TypeKind,
    children: Vec<ArrayRef>,
    offsets: OffsetBuffer<i32>,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef, OrcError> {
    let why = |e: arrow_schema::ArrowError| OrcError::Read(e.to_string());
    let mut children = children.into_iter();
    let (Some(first), second) = (children.next(), children.next()) else {
        return Err(OrcError::Read("a list or map without children".to_owned()));
    };
    if kind == TypeKind::List {
        let field = Arc::new(Field::new("element", first.data_type().clone(), true));
        return Ok(Arc::new(
            ListArray::try_new(field, offsets, first, nulls).map_err(why)?,
        ));
    }
    let Some(values) = second else {
        return Err(OrcError::Read("a map without values".to_owned()));
    };
    let fields = Fields::from(vec![
        Field::new("key", first.data_type().clone(), false),
        Field::new("value", values.data_type().clone(), true),
    ]);
    let entries = StructArray::try_new(fields.clone(), vec![first, values], None).map_err(why)?;
    let field = Arc::new(Field::new("key_value", DataType::Struct(fields), false));
    Ok(Arc::new(
        MapArray::try_new(field, offsets, entries, nulls, false).map_err(why)?,
    ))
}
