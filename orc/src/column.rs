//! One writer per column of the type tree: it takes the rows of an Arrow
//! array, encodes them into the column's streams, and hands the streams over
//! at each stripe's end.
//!
//! Rows come as ranges of the array. A child is given only the rows under
//! a parent value that is not null (a struct's valid rows, a list's elements),
//! which is how ORC stores nesting: a child has no entry under a null parent.

use std::ops::Range as Rows;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, ArrowPrimitiveType, OffsetSizeTrait};
use arrow_schema::{DataType, TimeUnit};

use crate::OrcError;
use crate::encoding::byte_rle::{BooleanRle, ByteRle};
use crate::encoding::int_rle::{IntRle, RleVersion};
use crate::encoding::varint::write_signed_128;
use crate::proto::{ColumnEncoding, EncodingKind, StreamKind};
use crate::schema::OrcType;
use crate::statistics::{Kind, Range, Statistics};
use crate::text::{TextValues, encoding};

/// Seconds from 1970-01-01 to 2015-01-01 UTC, ORC's timestamp epoch.
pub const ORC_EPOCH_SECONDS: i64 = 1_420_070_400;

/// A finished stream of one stripe, not yet compressed.
pub struct StreamData {
    pub kind: StreamKind,
    pub column: u32,
    pub bytes: Vec<u8>,
}

/// Where a row group starts in one stream: the byte offset before
/// compression, then what the stream's encoding needs to start there.
pub struct Mark {
    pub kind: StreamKind,
    pub offset: u64,
    pub run: Vec<u64>,
}

/// A row group of a column: where it starts in each stream, and its statistics.
pub struct Group {
    pub marks: Vec<Mark>,
    pub statistics: Statistics,
}

/// A column's row groups in one stripe: its row index.
pub struct ColumnIndex {
    pub column: u32,
    pub groups: Vec<Group>,
}

/// What a column hands over at a stripe's end, in column order.
#[derive(Default)]
pub struct StripeColumns {
    pub streams: Vec<StreamData>,
    pub encodings: Vec<ColumnEncoding>,
    pub statistics: Vec<Statistics>,
    pub indexes: Vec<ColumnIndex>,
}

/// What every column's writer is told.
pub struct ColumnOptions {
    pub version: RleVersion,
    /// See [`crate::Options::dictionary_key_threshold`].
    pub dictionary_threshold: f64,
}

/// The writer of one column and, through its children, of the columns under it.
pub struct Column {
    id: u32,
    /// Where the column sits, for error messages (`order.items.price`).
    path: String,
    present: BooleanRle,
    /// Statistics of the row group being written, of the stripe's finished
    /// groups, and of the file's finished stripes.
    group: Statistics,
    stripe: Statistics,
    file: Statistics,
    /// The open row group's starts, and the stripe's finished groups.
    open_marks: Vec<Mark>,
    groups: Vec<Group>,
    values: Values,
    children: Vec<Column>,
}

/// The streams of each kind of column.
enum Values {
    Boolean(BooleanRle),
    Byte(ByteRle),
    /// smallint, int, bigint and date: signed RLE of the value.
    Integer(IntRle),
    /// float and double: IEEE 754, little-endian.
    Float(Vec<u8>),
    Double(Vec<u8>),
    /// string, varchar and char: written directly or through a dictionary
    /// at the stripe's end.
    Text {
        values: TextValues,
        fit: TextFit,
    },
    Binary {
        data: Vec<u8>,
        lengths: IntRle,
    },
    /// Varints of the unscaled value, and the scale of each.
    Decimal {
        data: Vec<u8>,
        scales: IntRle,
        precision: u8,
        scale: u8,
    },
    Timestamp {
        seconds: IntRle,
        nanos: IntRle,
    },
    /// Lists and maps: the element or entry count of each value.
    Lengths(IntRle),
    Struct,
}

/// What a text column does to a value's length.
#[derive(Clone, Copy)]
enum TextFit {
    Any,
    /// `varchar(n)`: cut to n characters.
    AtMost(usize),
    /// `char(n)`: cut or padded with spaces to n characters.
    Exactly(usize),
}

impl Column {
    /// The writers of `ty` and its children, numbered from `*next_id`.
    pub fn new(ty: &OrcType, path: String, options: &ColumnOptions, next_id: &mut u32) -> Column {
        let id = *next_id;
        *next_id += 1;
        let version = options.version;
        let signed = || IntRle::new(version, true);
        let unsigned = || IntRle::new(version, false);
        let text = |fit| Values::Text {
            values: TextValues::new(options.dictionary_threshold),
            fit,
        };
        let (values, kind) = match ty {
            OrcType::Boolean => (
                Values::Boolean(BooleanRle::default()),
                Kind::Boolean { trues: 0 },
            ),
            OrcType::TinyInt => (Values::Byte(ByteRle::default()), integer_kind()),
            OrcType::SmallInt | OrcType::Int | OrcType::BigInt => {
                (Values::Integer(signed()), integer_kind())
            }
            OrcType::Date => (Values::Integer(signed()), Kind::Date(Range::default())),
            OrcType::Float => (Values::Float(Vec::new()), double_kind()),
            OrcType::Double => (Values::Double(Vec::new()), double_kind()),
            OrcType::String => (text(TextFit::Any), string_kind()),
            OrcType::Varchar(n) => (text(TextFit::AtMost(*n as usize)), string_kind()),
            OrcType::Char(n) => (text(TextFit::Exactly(*n as usize)), string_kind()),
            OrcType::Binary => (
                Values::Binary {
                    data: Vec::new(),
                    lengths: unsigned(),
                },
                Kind::Binary { bytes: 0 },
            ),
            OrcType::Decimal { precision, scale } => (
                Values::Decimal {
                    data: Vec::new(),
                    scales: signed(),
                    precision: *precision,
                    scale: *scale,
                },
                Kind::Decimal(Range::default(), Some(0), *scale),
            ),
            OrcType::Timestamp => (
                Values::Timestamp {
                    seconds: signed(),
                    nanos: unsigned(),
                },
                Kind::Timestamp(Range::default()),
            ),
            OrcType::Array(_) | OrcType::Map(..) => (
                Values::Lengths(unsigned()),
                Kind::Collection(Range::default(), 0),
            ),
            OrcType::Struct(_) => (Values::Struct, Kind::Counts),
        };
        let children: Vec<(String, &OrcType)> = match ty {
            OrcType::Array(item) => vec![(format!("{path}.item"), item)],
            OrcType::Map(key, value) => vec![
                (format!("{path}.key"), key),
                (format!("{path}.value"), value),
            ],
            OrcType::Struct(fields) => fields
                .iter()
                .map(|(name, ty)| (join(&path, name), ty))
                .collect(),
            _ => Vec::new(),
        };
        let children = children
            .into_iter()
            .map(|(path, ty)| Column::new(ty, path, options, next_id))
            .collect();
        Column {
            id,
            path,
            present: BooleanRle::default(),
            group: Statistics::new(kind.clone()),
            stripe: Statistics::new(kind.clone()),
            file: Statistics::new(kind),
            open_marks: Vec::new(),
            groups: Vec::new(),
            values,
            children,
        }
    }

    /// Writes the rows `rows` of `array`.
    pub fn write(&mut self, array: &dyn Array, rows: &[Rows<usize>]) -> Result<(), OrcError> {
        // Most columns have no nulls: then no row needs its validity looked up.
        let no_nulls = array.null_count() == 0;
        if no_nulls {
            let count = rows.iter().map(ExactSizeIterator::len).sum();
            self.present.push_trues(count);
        } else {
            for row in rows.iter().flat_map(|r| r.clone()) {
                let valid = array.is_valid(row);
                self.present.push(valid);
                if !valid {
                    self.group.null();
                }
            }
        }
        let mismatch = || OrcError::ArrowType {
            column: self.path.clone(),
            found: array.data_type().clone(),
        };
        let stats = &mut self.group;
        let valid_rows = || {
            rows.iter()
                .flat_map(|r| r.clone())
                .filter(move |&row| no_nulls || array.is_valid(row))
        };
        match &mut self.values {
            Values::Boolean(data) => {
                let array = array.as_boolean_opt().ok_or_else(mismatch)?;
                for row in valid_rows() {
                    let value = array.value(row);
                    data.push(value);
                    stats.add_boolean(value);
                }
            }
            Values::Byte(data) => {
                let array = array.as_primitive_opt::<Int8Type>().ok_or_else(mismatch)?;
                for row in valid_rows() {
                    let value = array.value(row);
                    data.push(value as u8);
                    stats.add_integer(i64::from(value));
                }
            }
            Values::Integer(data) => {
                let values = integers(array).ok_or_else(mismatch)?;
                for row in valid_rows() {
                    let value = values(row);
                    data.push(value);
                    stats.add_integer(value);
                }
            }
            Values::Float(data) => {
                let array = array
                    .as_primitive_opt::<Float32Type>()
                    .ok_or_else(mismatch)?;
                for row in valid_rows() {
                    let value = array.value(row);
                    data.extend_from_slice(&value.to_le_bytes());
                    stats.add_double(f64::from(value));
                }
            }
            Values::Double(data) => {
                let array = array
                    .as_primitive_opt::<Float64Type>()
                    .ok_or_else(mismatch)?;
                for row in valid_rows() {
                    let value = array.value(row);
                    data.extend_from_slice(&value.to_le_bytes());
                    stats.add_double(value);
                }
            }
            Values::Text { values, fit, .. } => {
                let array = array.as_string_opt::<i32>().ok_or_else(mismatch)?;
                let mut padded = Vec::new();
                for row in valid_rows() {
                    let value = fit.fitted(array.value(row), &mut padded);
                    if values.push(value) {
                        stats.add_bytes(value);
                    } else {
                        stats.add_bytes_again(value.len());
                    }
                }
            }
            Values::Binary { data, lengths } => {
                let array = array.as_binary_opt::<i32>().ok_or_else(mismatch)?;
                for row in valid_rows() {
                    let value = array.value(row);
                    data.extend_from_slice(value);
                    lengths.push(value.len() as i64);
                    stats.add_bytes(value);
                }
            }
            Values::Decimal {
                data,
                scales,
                precision,
                scale,
            } => {
                let array = array
                    .as_primitive_opt::<Decimal128Type>()
                    .filter(|a| a.scale() == *scale as i8)
                    .ok_or_else(mismatch)?;
                let limit = 10u128.pow(u32::from(*precision));
                for row in valid_rows() {
                    let value = array.value(row);
                    if value.unsigned_abs() >= limit {
                        return Err(OrcError::Value {
                            column: self.path.clone(),
                            message: format!(
                                "the decimal with unscaled value {value} has more than {precision} digits"
                            ),
                        });
                    }
                    write_signed_128(data, value);
                    scales.push(i64::from(*scale));
                    stats.add_decimal(value);
                }
            }
            Values::Timestamp { seconds, nanos } => {
                let at = timestamps(array).ok_or_else(mismatch)?;
                for row in valid_rows() {
                    let since_1970 = at(row);
                    let (second, nano) = (
                        since_1970.div_euclid(1_000_000_000) as i64,
                        since_1970.rem_euclid(1_000_000_000) as u32,
                    );
                    // Readers take a second back from negative times with more
                    // than 999,999 nanoseconds; add it here so they get `second`.
                    let borrowed = i64::from(second < 0 && nano > 999_999);
                    seconds.push(second + borrowed - ORC_EPOCH_SECONDS);
                    nanos.push(encoded_nanos(nano));
                    stats.add_timestamp(since_1970);
                }
            }
            Values::Lengths(lengths) => {
                let children = match array.data_type() {
                    DataType::List(_) => {
                        let list = array.as_list_opt::<i32>().ok_or_else(mismatch)?;
                        let ranges =
                            element_rows(list.value_offsets(), valid_rows(), lengths, stats);
                        vec![(list.values().as_ref(), ranges)]
                    }
                    DataType::Map(..) => {
                        let map = array.as_map_opt().ok_or_else(mismatch)?;
                        let ranges =
                            element_rows(map.value_offsets(), valid_rows(), lengths, stats);
                        vec![
                            (map.keys().as_ref(), ranges.clone()),
                            (map.values().as_ref(), ranges),
                        ]
                    }
                    _ => return Err(mismatch()),
                };
                for (child, (array, ranges)) in self.children.iter_mut().zip(children) {
                    child.write(array, &ranges)?;
                }
            }
            Values::Struct => {
                let array = array
                    .as_struct_opt()
                    .filter(|a| a.num_columns() == self.children.len())
                    .ok_or_else(mismatch)?;
                let mut ranges: Vec<Rows<usize>> = Vec::new();
                for row in valid_rows() {
                    stats.count();
                    extend(&mut ranges, row..row + 1);
                }
                for (child, array) in self.children.iter_mut().zip(array.columns()) {
                    child.write(array.as_ref(), &ranges)?;
                }
            }
        }
        Ok(())
    }

    /// Bytes buffered for the stripe by this column and those under it.
    pub fn buffered(&self) -> usize {
        let own = match &self.values {
            Values::Boolean(data) => data.len(),
            Values::Byte(data) => data.len(),
            Values::Integer(data) | Values::Lengths(data) => data.len(),
            Values::Float(data) | Values::Double(data) => data.len(),
            Values::Text { values, .. } => values.buffered(),
            Values::Binary { data, lengths } => data.len() + lengths.len(),
            Values::Decimal { data, scales, .. } => data.len() + scales.len(),
            Values::Timestamp { seconds, nanos } => seconds.len() + nanos.len(),
            Values::Struct => 0,
        };
        own + self.present.len() + self.children.iter().map(Column::buffered).sum::<usize>()
    }

    /// Starts a row group here: ends every run in progress (a reader seeking
    /// to the group skips nothing) and marks where each stream is.
    pub fn begin_group(&mut self) {
        let mark = |kind, (offset, run)| Mark { kind, offset, run };
        let raw = |kind, data: &Vec<u8>| Mark {
            kind,
            offset: data.len() as u64,
            run: Vec::new(),
        };
        // In the order of the specification's streams for the type.
        let mut marks = vec![mark(StreamKind::Present, self.present.mark())];
        match &mut self.values {
            Values::Boolean(data) => marks.push(mark(StreamKind::Data, data.mark())),
            Values::Byte(data) => marks.push(mark(StreamKind::Data, data.mark())),
            Values::Integer(data) => marks.push(mark(StreamKind::Data, data.mark())),
            Values::Float(data) | Values::Double(data) => marks.push(raw(StreamKind::Data, data)),
            // Known once the stripe's encoding is chosen.
            Values::Text { values, .. } => values.begin_group(),
            Values::Binary { data, lengths } => {
                marks.push(raw(StreamKind::Data, data));
                marks.push(mark(StreamKind::Length, lengths.mark()));
            }
            Values::Decimal { data, scales, .. } => {
                marks.push(raw(StreamKind::Data, data));
                marks.push(mark(StreamKind::Secondary, scales.mark()));
            }
            Values::Timestamp { seconds, nanos } => {
                marks.push(mark(StreamKind::Data, seconds.mark()));
                marks.push(mark(StreamKind::Secondary, nanos.mark()));
            }
            Values::Lengths(lengths) => marks.push(mark(StreamKind::Length, lengths.mark())),
            Values::Struct => {}
        }
        self.open_marks = marks;
        self.children.iter_mut().for_each(Column::begin_group);
    }

    /// Ends the row group: its statistics join the stripe's.
    pub fn end_group(&mut self) {
        let statistics = self.group.take();
        self.stripe.merge(&statistics);
        self.groups.push(Group {
            marks: std::mem::take(&mut self.open_marks),
            statistics,
        });
        self.children.iter_mut().for_each(Column::end_group);
    }

    /// Ends the stripe (after its last group): this column's and its
    /// children's streams, encodings, statistics and row groups. The stripe's
    /// statistics are added to the file's.
    pub fn finish_stripe(&mut self, version: RleVersion, out: &mut StripeColumns) {
        let mut groups = std::mem::take(&mut self.groups);
        let column = self.id;
        let mut stream = |kind, bytes| {
            out.streams.push(StreamData {
                kind,
                column,
                bytes,
            })
        };
        let present = self.present.finish();
        // A stripe without nulls in this column has no PRESENT stream, and
        // its row groups no PRESENT positions.
        let has_nulls = self.stripe.has_null;
        if has_nulls {
            stream(StreamKind::Present, present);
        }
        let direct = |v2: bool| {
            let v2 = if v2 {
                EncodingKind::DirectV2
            } else {
                EncodingKind::Direct
            };
            encoding(version, EncodingKind::Direct, v2, None)
        };
        // Format 0.11 knows only DIRECT; 0.12 readers take DIRECT_V2 only
        // where a column has RLE integers.
        let encoding = match &mut self.values {
            Values::Boolean(data) => {
                stream(StreamKind::Data, data.finish());
                direct(false)
            }
            Values::Byte(data) => {
                stream(StreamKind::Data, data.finish());
                direct(false)
            }
            Values::Float(data) | Values::Double(data) => {
                stream(StreamKind::Data, std::mem::take(data));
                direct(false)
            }
            Values::Struct => direct(false),
            Values::Integer(data) => {
                stream(StreamKind::Data, data.finish());
                direct(true)
            }
            Values::Text { values, .. } => {
                let text = values.finish(version);
                for (kind, bytes) in text.streams {
                    stream(kind, bytes);
                }
                for (group, marks) in groups.iter_mut().zip(text.group_marks) {
                    group.marks.extend(marks);
                }
                text.encoding
            }
            Values::Binary { data, lengths } => {
                stream(StreamKind::Data, std::mem::take(data));
                stream(StreamKind::Length, lengths.finish());
                direct(true)
            }
            Values::Decimal { data, scales, .. } => {
                stream(StreamKind::Data, std::mem::take(data));
                stream(StreamKind::Secondary, scales.finish());
                direct(true)
            }
            Values::Timestamp { seconds, nanos } => {
                stream(StreamKind::Data, seconds.finish());
                stream(StreamKind::Secondary, nanos.finish());
                direct(true)
            }
            Values::Lengths(lengths) => {
                stream(StreamKind::Length, lengths.finish());
                direct(true)
            }
        };
        out.encodings.push(encoding);
        let stripe = self.stripe.take();
        self.file.merge(&stripe);
        out.statistics.push(stripe);
        if !has_nulls {
            for group in &mut groups {
                group.marks.retain(|m| m.kind != StreamKind::Present);
            }
        }
        out.indexes.push(ColumnIndex { column, groups });
        for child in &mut self.children {
            child.finish_stripe(version, out);
        }
    }

    /// The file's statistics of this column and those under it, in column order.
    pub fn file_statistics(&self, statistics: &mut Vec<Statistics>) {
        statistics.push(self.file.clone());
        for child in &self.children {
            child.file_statistics(statistics);
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn integer_kind() -> Kind {
    Kind::Integer(Range::default(), Some(0))
}

fn double_kind() -> Kind {
    Kind::Double(Range::default(), 0.0, false)
}

fn string_kind() -> Kind {
    Kind::String(Range::default(), 0)
}

/// The value at a row of a smallint, int, bigint or date array, widened.
fn integers(array: &dyn Array) -> Option<Box<dyn Fn(usize) -> i64 + '_>> {
    fn at<T: ArrowPrimitiveType>(array: &dyn Array) -> Option<Box<dyn Fn(usize) -> i64 + '_>>
    where
        T::Native: Into<i64>,
    {
        let array = array.as_primitive_opt::<T>()?;
        Some(Box::new(move |row| array.value(row).into()))
    }
    match array.data_type() {
        DataType::Int16 => at::<Int16Type>(array),
        DataType::Int32 => at::<Int32Type>(array),
        DataType::Int64 => at::<Int64Type>(array),
        DataType::Date32 => at::<Date32Type>(array),
        _ => None,
    }
}

/// Nanoseconds since 1970 at a row of a timestamp array of any unit.
fn timestamps(array: &dyn Array) -> Option<Box<dyn Fn(usize) -> i128 + '_>> {
    fn at<T: ArrowPrimitiveType<Native = i64>>(
        array: &dyn Array,
        nanos_per_unit: i128,
    ) -> Option<Box<dyn Fn(usize) -> i128 + '_>> {
        let array = array.as_primitive_opt::<T>()?;
        Some(Box::new(move |row| {
            i128::from(array.value(row)) * nanos_per_unit
        }))
    }
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, None) => {
            at::<TimestampSecondType>(array, 1_000_000_000)
        }
        DataType::Timestamp(TimeUnit::Millisecond, None) => {
            at::<TimestampMillisecondType>(array, 1_000_000)
        }
        DataType::Timestamp(TimeUnit::Microsecond, None) => {
            at::<TimestampMicrosecondType>(array, 1_000)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, None) => at::<TimestampNanosecondType>(array, 1),
        _ => None,
    }
}

/// ORC's nanoseconds: trailing decimal zeros (two or more) are dropped and
/// their count less one kept in the low three bits.
fn encoded_nanos(nanos: u32) -> i64 {
    if nanos == 0 || !nanos.is_multiple_of(100) {
        return i64::from(nanos) << 3;
    }
    let mut value = nanos / 100;
    let mut zeros = 1;
    while value.is_multiple_of(10) && zeros < 7 {
        value /= 10;
        zeros += 1;
    }
    i64::from(value) << 3 | zeros
}

/// Counts the elements of each valid row (into `lengths` and `stats`) and
/// returns the element rows they span.
fn element_rows<O: OffsetSizeTrait>(
    offsets: &[O],
    valid_rows: impl Iterator<Item = usize>,
    lengths: &mut IntRle,
    stats: &mut Statistics,
) -> Vec<Rows<usize>> {
    let mut ranges = Vec::new();
    for row in valid_rows {
        let (start, end) = (offsets[row].as_usize(), offsets[row + 1].as_usize());
        lengths.push((end - start) as i64);
        stats.add_collection((end - start) as u64);
        extend(&mut ranges, start..end);
    }
    ranges
}

/// Appends `rows`, joining it to the last range when they touch.
fn extend(ranges: &mut Vec<Rows<usize>>, rows: Rows<usize>) {
    if rows.is_empty() {
        return;
    }
    match ranges.last_mut() {
        Some(last) if last.end == rows.start => last.end = rows.end,
        _ => ranges.push(rows),
    }
}

impl TextFit {
    /// `value` cut or padded to fit; a padded value is written in `padded`.
    fn fitted<'a>(self, value: &'a str, padded: &'a mut Vec<u8>) -> &'a [u8] {
        let cut = |n: usize| match value.char_indices().nth(n) {
            Some((at, _)) => &value[..at],
            None => value,
        };
        match self {
            TextFit::Any => value.as_bytes(),
            TextFit::AtMost(n) => cut(n).as_bytes(),
            TextFit::Exactly(n) => {
                let kept = cut(n);
                let padding = n - kept.chars().count();
                if padding == 0 {
                    return kept.as_bytes();
                }
                padded.clear();
                padded.extend_from_slice(kept.as_bytes());
                padded.resize(kept.len() + padding, b' ');
                padded
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's examples of encoded nanoseconds.
    #[test]
    fn nanoseconds_drop_their_trailing_zeros() {
        assert_eq!(encoded_nanos(1_000), 0x0a);
        assert_eq!(encoded_nanos(100_000), 0x0c);
        assert_eq!(encoded_nanos(0), 0);
        assert_eq!(encoded_nanos(123), 123 << 3);
        assert_eq!(encoded_nanos(500_000_000), 5 << 3 | 7);
    }

    #[test]
    fn char_and_varchar_fit_their_length_in_characters() {
        let fit = |fit: TextFit, value: &str| {
            let mut padded = Vec::new();
            String::from_utf8(fit.fitted(value, &mut padded).to_vec()).unwrap_or_default()
        };
        assert_eq!(fit(TextFit::Exactly(4), "ab"), "ab  ");
        assert_eq!(fit(TextFit::Exactly(3), "abc"), "abc");
        assert_eq!(fit(TextFit::Exactly(2), "héllo"), "hé");
        assert_eq!(fit(TextFit::AtMost(3), "héllo"), "hél");
        assert_eq!(fit(TextFit::AtMost(9), "hé"), "hé");
    }
}
