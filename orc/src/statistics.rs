//! Column statistics, kept per stripe and merged into the file's. Readers
//! skip stripes by them, so each is exact or left out: a minimum or maximum
//! over doubles with a NaN, a sum that overflows and strings longer than
//! 1024 bytes are not written.

use crate::proto::{
    BinaryStatistics, BucketStatistics, CollectionStatistics, ColumnStatistics, DateStatistics,
    DecimalStatistics, DoubleStatistics, IntegerStatistics, StringStatistics, TimestampStatistics,
};

/// Java's writer records string bounds up to this length only.
const MAX_STRING_BOUND: usize = 1024;

/// Statistics of one column over one scope (a stripe, or the file).
#[derive(Debug, Clone)]
pub struct Statistics {
    /// Non-null values (rows, for the root).
    pub values: u64,
    pub has_null: bool,
    pub kind: Kind,
}

/// What is kept beside the counts, by type.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Structs.
    Counts,
    Boolean {
        trues: u64,
    },
    Integer(Range<i64>, Option<i64>),
    /// A NaN makes the minimum, maximum and sum unknown.
    Double(Range<f64>, f64, bool),
    String(Range<Vec<u8>>, i64),
    Binary {
        bytes: i64,
    },
    /// Unscaled values of the column's scale; the sum, while it fits.
    Decimal(Range<i128>, Option<i128>, u8),
    Date(Range<i32>),
    /// Nanoseconds since 1970-01-01 (UTC).
    Timestamp(Range<i128>),
    /// Elements (lists) or entries (maps) per value.
    Collection(Range<u64>, u64),
}

/// The smallest and largest value seen, if any.
#[derive(Debug, Clone)]
pub struct Range<T>(Option<(T, T)>);

impl<T: PartialOrd + Clone> Range<T> {
    fn add(&mut self, value: &T) {
        match &mut self.0 {
            None => self.0 = Some((value.clone(), value.clone())),
            Some((min, max)) => {
                if value < min {
                    *min = value.clone();
                } else if value > max {
                    *max = value.clone();
                }
            }
        }
    }

    fn merge(&mut self, other: &Range<T>) {
        if let Some((min, max)) = &other.0 {
            self.add(min);
            self.add(max);
        }
    }
}

impl<T> Default for Range<T> {
    fn default() -> Self {
        Range(None)
    }
}

impl Statistics {
    pub fn new(kind: Kind) -> Statistics {
        Statistics {
            values: 0,
            has_null: false,
            kind,
        }
    }

    pub fn null(&mut self) {
        self.has_null = true;
    }

    /// A value of a struct (or of a type whose value statistics are kept
    /// by the typed `add_*` calls, which also count it).
    pub fn count(&mut self) {
        self.values += 1;
    }

    pub fn add_boolean(&mut self, value: bool) {
        self.values += 1;
        if let Kind::Boolean { trues } = &mut self.kind {
            *trues += u64::from(value);
        }
    }

    pub fn add_integer(&mut self, value: i64) {
        self.values += 1;
        match &mut self.kind {
            Kind::Integer(range, sum) => {
                range.add(&value);
                *sum = sum.and_then(|s| s.checked_add(value));
            }
            Kind::Date(range) => range.add(&(value as i32)),
            _ => {}
        }
    }

    pub fn add_double(&mut self, value: f64) {
        self.values += 1;
        if let Kind::Double(range, sum, nan) = &mut self.kind {
            if value.is_nan() {
                *nan = true;
            } else {
                range.add(&value);
                *sum += value;
            }
        }
    }

    pub fn add_bytes(&mut self, value: &[u8]) {
        self.values += 1;
        match &mut self.kind {
            Kind::String(range, sum) => {
                // Compare before copying: most values are neither bound.
                let new_bound = match &range.0 {
                    None => true,
                    Some((min, max)) => value < min.as_slice() || value > max.as_slice(),
                };
                if new_bound {
                    range.add(&value.to_vec());
                }
                *sum += value.len() as i64;
            }
            Kind::Binary { bytes } => *bytes += value.len() as i64,
            _ => {}
        }
    }

    /// A string equal to one already added: counted, its length summed, the
    /// bounds as they are.
    pub fn add_bytes_again(&mut self, length: usize) {
        self.values += 1;
        if let Kind::String(_, sum) = &mut self.kind {
            *sum += length as i64;
        }
    }

    pub fn add_decimal(&mut self, unscaled: i128) {
        self.values += 1;
        if let Kind::Decimal(range, sum, _) = &mut self.kind {
            range.add(&unscaled);
            *sum = sum
                .and_then(|s| s.checked_add(unscaled))
                .filter(|s| s.unsigned_abs() < 10u128.pow(38));
        }
    }

    pub fn add_timestamp(&mut self, nanos: i128) {
        self.values += 1;
        if let Kind::Timestamp(range) = &mut self.kind {
            range.add(&nanos);
        }
    }

    pub fn add_collection(&mut self, children: u64) {
        self.values += 1;
        if let Kind::Collection(range, total) = &mut self.kind {
            range.add(&children);
            *total += children;
        }
    }

    /// Adds a stripe's statistics to the file's.
    pub fn merge(&mut self, other: &Statistics) {
        self.values += other.values;
        self.has_null |= other.has_null;
        match (&mut self.kind, &other.kind) {
            (Kind::Counts, Kind::Counts) => {}
            (Kind::Boolean { trues }, Kind::Boolean { trues: more }) => *trues += more,
            (Kind::Integer(range, sum), Kind::Integer(other_range, other_sum)) => {
                range.merge(other_range);
                *sum = sum.zip(*other_sum).and_then(|(a, b)| a.checked_add(b));
            }
            (Kind::Double(range, sum, nan), Kind::Double(other_range, other_sum, other_nan)) => {
                range.merge(other_range);
                *sum += other_sum;
                *nan |= other_nan;
            }
            (Kind::String(range, sum), Kind::String(other_range, other_sum)) => {
                range.merge(other_range);
                *sum += other_sum;
            }
            (Kind::Binary { bytes }, Kind::Binary { bytes: more }) => *bytes += more,
            (Kind::Decimal(range, sum, _), Kind::Decimal(other_range, other_sum, _)) => {
                range.merge(other_range);
                *sum = sum
                    .zip(*other_sum)
                    .and_then(|(a, b)| a.checked_add(b))
                    .filter(|s| s.unsigned_abs() < 10u128.pow(38));
            }
            (Kind::Date(range), Kind::Date(other_range)) => range.merge(other_range),
            (Kind::Timestamp(range), Kind::Timestamp(other_range)) => range.merge(other_range),
            (Kind::Collection(range, total), Kind::Collection(other_range, other_total)) => {
                range.merge(other_range);
                *total += other_total;
            }
            _ => {}
        }
    }

    /// Empties the statistics for the next stripe.
    pub fn take(&mut self) -> Statistics {
        let empty = Statistics::new(match &self.kind {
            Kind::Counts => Kind::Counts,
            Kind::Boolean { .. } => Kind::Boolean { trues: 0 },
            Kind::Integer(..) => Kind::Integer(Range::default(), Some(0)),
            Kind::Double(..) => Kind::Double(Range::default(), 0.0, false),
            Kind::String(..) => Kind::String(Range::default(), 0),
            Kind::Binary { .. } => Kind::Binary { bytes: 0 },
            Kind::Decimal(_, _, scale) => Kind::Decimal(Range::default(), Some(0), *scale),
            Kind::Date(_) => Kind::Date(Range::default()),
            Kind::Timestamp(_) => Kind::Timestamp(Range::default()),
            Kind::Collection(..) => Kind::Collection(Range::default(), 0),
        });
        std::mem::replace(self, empty)
    }

    pub fn to_proto(&self) -> ColumnStatistics {
        let mut proto = ColumnStatistics {
            number_of_values: Some(self.values),
            has_null: Some(self.has_null),
            ..ColumnStatistics::default()
        };
        match &self.kind {
            Kind::Counts => {}
            Kind::Boolean { trues } => {
                proto.bucket_statistics = Some(BucketStatistics {
                    count: vec![*trues],
                });
            }
            Kind::Integer(range, sum) => {
                proto.int_statistics = Some(IntegerStatistics {
                    minimum: range.0.map(|(min, _)| min),
                    maximum: range.0.map(|(_, max)| max),
                    sum: range.0.and(*sum),
                });
            }
            Kind::Double(range, sum, nan) => {
                let known = range.0.filter(|_| !nan);
                proto.double_statistics = Some(DoubleStatistics {
                    minimum: known.map(|(min, _)| min),
                    maximum: known.map(|(_, max)| max),
                    sum: known.map(|_| *sum),
                });
            }
            Kind::String(range, sum) => {
                let bound = |text: &Vec<u8>| {
                    (text.len() <= MAX_STRING_BOUND)
                        .then(|| String::from_utf8_lossy(text).into_owned())
                };
                let (minimum, maximum) = match &range.0 {
                    Some((min, max)) => (bound(min), bound(max)),
                    None => (None, None),
                };
                proto.string_statistics = Some(StringStatistics {
                    minimum,
                    maximum,
                    sum: Some(*sum),
                });
            }
            Kind::Binary { bytes } => {
                proto.binary_statistics = Some(BinaryStatistics { sum: Some(*bytes) });
            }
            Kind::Decimal(range, sum, scale) => {
                let text = |unscaled: i128| decimal_text(unscaled, *scale);
                proto.decimal_statistics = Some(DecimalStatistics {
                    minimum: range.0.map(|(min, _)| text(min)),
                    maximum: range.0.map(|(_, max)| text(max)),
                    sum: range.0.and(*sum).map(text),
                });
            }
            Kind::Date(range) => {
                proto.date_statistics = Some(DateStatistics {
                    minimum: range.0.map(|(min, _)| min),
                    maximum: range.0.map(|(_, max)| max),
                });
            }
            Kind::Timestamp(range) => {
                // Milliseconds, and the nanoseconds under the millisecond plus one.
                let millis = |nanos: i128| nanos.div_euclid(1_000_000) as i64;
                let under = |nanos: i128| nanos.rem_euclid(1_000_000) as i32 + 1;
                proto.timestamp_statistics = Some(TimestampStatistics {
                    minimum_utc: range.0.map(|(min, _)| millis(min)),
                    maximum_utc: range.0.map(|(_, max)| millis(max)),
                    minimum_nanos: range.0.map(|(min, _)| under(min)),
                    maximum_nanos: range.0.map(|(_, max)| under(max)),
                });
            }
            Kind::Collection(range, total) => {
                proto.collection_statistics = Some(CollectionStatistics {
                    min_children: range.0.map(|(min, _)| min),
                    max_children: range.0.map(|(_, max)| max),
                    total_children: Some(*total),
                });
            }
        }
        proto
    }
}

/// `12345` at scale 2 is `"123.45"`; `-5` at scale 3 is `"-0.005"`.
fn decimal_text(unscaled: i128, scale: u8) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    let scale = usize::from(scale);
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_at_their_scale() {
        assert_eq!(decimal_text(12345, 2), "123.45");
        assert_eq!(decimal_text(-5, 3), "-0.005");
        assert_eq!(decimal_text(7, 0), "7");
    }

    #[test]
    fn a_nan_or_an_overflow_leaves_out_what_it_makes_unknown() {
        let mut doubles = Statistics::new(Kind::Double(Range::default(), 0.0, false));
        doubles.add_double(1.5);
        doubles.add_double(f64::NAN);
        let proto = doubles.to_proto().double_statistics.unwrap_or_default();
        assert_eq!((proto.minimum, proto.sum), (None, None));

        let mut integers = Statistics::new(Kind::Integer(Range::default(), Some(0)));
        integers.add_integer(i64::MAX);
        integers.add_integer(1);
        let proto = integers.to_proto().int_statistics.unwrap_or_default();
        assert_eq!(
            (proto.minimum, proto.maximum, proto.sum),
            (Some(1), Some(i64::MAX), None)
        );
    }
}
