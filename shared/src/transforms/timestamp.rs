//! Reading timestamps in the forms producers send, and writing them in a form
//! Firehose's OpenX JSON SerDe reads for a Parquet/ORC `timestamp` column.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::pipeline::record::json_kind;

/// How a converted timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    /// `2024-05-01T12:30:00.123Z` (OpenX: `yyyy-MM-dd'T'HH:mm:ss[.S]'Z'`).
    Iso,
    /// `2024-05-01 12:30:00.123` in UTC (OpenX and Hive: `yyyy-MM-dd HH:mm:ss[.S]`).
    Hive,
    /// Whole epoch milliseconds, a JSON number.
    EpochMillis,
    /// Whole epoch seconds, a JSON number (sub-second precision is dropped).
    EpochSeconds,
}

impl TimestampFormat {
    /// The setting words, in order.
    pub const WORDS: &'static [&'static str] = &["iso", "hive", "epoch_millis", "epoch_seconds"];

    /// Reads a setting word (one of [`Self::WORDS`]).
    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "iso" => Some(Self::Iso),
            "hive" => Some(Self::Hive),
            "epoch_millis" => Some(Self::EpochMillis),
            "epoch_seconds" => Some(Self::EpochSeconds),
            _ => None,
        }
    }

    /// Writes `at` in this format.
    pub fn write(self, at: Timestamp) -> Value {
        match self {
            Self::Iso => Value::String(utc_text(at, UtcForm::Iso)),
            Self::Hive => Value::String(utc_text(at, UtcForm::Hive)),
            Self::EpochMillis => Value::from(at.as_millisecond()),
            Self::EpochSeconds => Value::from(at.as_second()),
        }
    }
}

/// The text forms of a UTC time that [`utc_text`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UtcForm {
    /// `2024-05-01T12:30:00.25Z`: the fraction's digits as needed, none when it is zero.
    Iso,
    /// `2024-05-01T12:30:00.250Z`: always three fraction digits.
    IsoMillis,
    /// `2024-05-01 12:30:00.25`, Hive's.
    Hive,
}

impl UtcForm {
    /// The strftime format that writes the same text.
    fn strftime_format(self) -> &'static str {
        match self {
            UtcForm::Iso => "%Y-%m-%dT%H:%M:%S%.fZ",
            UtcForm::IsoMillis => "%Y-%m-%dT%H:%M:%S%.3fZ",
            UtcForm::Hive => "%Y-%m-%d %H:%M:%S%.f",
        }
    }
}

/// `at` in UTC in `form`, exactly as strftime writes the form's format, but
/// without reading a format string for every record. Years before 0, which
/// strftime writes with a sign, are left to strftime.
pub(crate) fn utc_text(at: Timestamp, form: UtcForm) -> String {
    let dt = jiff::tz::Offset::UTC.to_datetime(at);
    let Ok(year) = u32::try_from(dt.year()) else {
        return at.strftime(form.strftime_format()).to_string();
    };
    let separator = match form {
        UtcForm::Iso | UtcForm::IsoMillis => b'T',
        UtcForm::Hive => b' ',
    };
    let mut text = Vec::with_capacity(32);
    let fields = [
        (year, 4, b'-'),
        (dt.month() as u32, 2, b'-'),
        (dt.day() as u32, 2, separator),
        (dt.hour() as u32, 2, b':'),
        (dt.minute() as u32, 2, b':'),
    ];
    for (value, width, then) in fields {
        push_digits(&mut text, value, width);
        text.push(then);
    }
    push_digits(&mut text, dt.second() as u32, 2);
    let nanos = dt.subsec_nanosecond() as u32;
    if form == UtcForm::IsoMillis {
        text.push(b'.');
        push_digits(&mut text, nanos / 1_000_000, 3);
    } else if nanos > 0 {
        text.push(b'.');
        let zeros = (1..9)
            .take_while(|i| nanos.is_multiple_of(10u32.pow(*i)))
            .count() as u32;
        push_digits(&mut text, nanos / 10u32.pow(zeros), 9 - zeros);
    }
    if form != UtcForm::Hive {
        text.push(b'Z');
    }
    // Only ASCII digits and separators were written.
    String::from_utf8(text).unwrap_or_else(|_| at.strftime(form.strftime_format()).to_string())
}

/// `value`'s last `width` decimal digits, zero-padded.
fn push_digits(text: &mut Vec<u8>, value: u32, width: u32) {
    for place in (0..width).rev() {
        text.push(b'0' + (value / 10u32.pow(place) % 10) as u8);
    }
}

/// The unit of a numeric timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    /// By size: below 10^11 seconds, below 10^14 milliseconds, below 10^17
    /// microseconds, else nanoseconds (each covers 1973 to 5138 in its unit).
    Auto,
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

impl EpochUnit {
    /// The setting words, in order.
    pub const WORDS: &'static [&'static str] = &[
        "auto",
        "seconds",
        "milliseconds",
        "microseconds",
        "nanoseconds",
    ];

    /// Reads a setting word (one of [`Self::WORDS`]).
    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "auto" => Some(Self::Auto),
            "seconds" => Some(Self::Seconds),
            "milliseconds" => Some(Self::Milliseconds),
            "microseconds" => Some(Self::Microseconds),
            "nanoseconds" => Some(Self::Nanoseconds),
            _ => None,
        }
    }

    fn nanos_per_unit(self, magnitude: f64) -> i128 {
        match self {
            Self::Seconds => 1_000_000_000,
            Self::Milliseconds => 1_000_000,
            Self::Microseconds => 1_000,
            Self::Nanoseconds => 1,
            Self::Auto if magnitude < 1e11 => 1_000_000_000,
            Self::Auto if magnitude < 1e14 => 1_000_000,
            Self::Auto if magnitude < 1e17 => 1_000,
            Self::Auto => 1,
        }
    }
}

/// Reads a timestamp from epoch numbers (or numeric strings) in `unit`, RFC
/// 3339 / ISO 8601 text with `Z` or an offset, naive `2024-05-01 12:30:00`
/// text (taken as UTC), or RFC 2822 text. The error says what was found,
/// never the value itself.
pub fn read(value: &Value, unit: EpochUnit) -> Result<Timestamp, String> {
    match value {
        Value::Number(n) => read_text(&n.to_string(), unit),
        Value::String(s) => read_text(s, unit),
        other => Err(format!("{} is not a timestamp", json_kind(other))),
    }
}

/// [`read`] of a number's text or a string's contents, spaces around them ignored.
pub(crate) fn read_text(text: &str, unit: EpochUnit) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Some(at) = from_epoch(text, unit) {
        return at;
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    if let Ok(at) = text
        .parse::<DateTime>()
        .and_then(|dt| TimeZone::UTC.to_timestamp(dt))
    {
        return Ok(at);
    }
    if let Ok(at) = jiff::fmt::rfc2822::parse(text) {
        return Ok(at.timestamp());
    }
    Err(format!(
        "a string of {} characters that is not a timestamp",
        text.chars().count()
    ))
}

/// `None` when `text` is not a number at all.
fn from_epoch(text: &str, unit: EpochUnit) -> Option<Result<Timestamp, String>> {
    let out_of_range = || "a number out of the timestamp range".to_owned();
    if let Ok(whole) = text.parse::<i64>() {
        let nanos = i128::from(whole) * unit.nanos_per_unit(whole.unsigned_abs() as f64);
        return Some(Timestamp::from_nanosecond(nanos).map_err(|_| out_of_range()));
    }
    let fractional = text.parse::<f64>().ok().filter(|f| f.is_finite())?;
    let nanos = fractional * unit.nanos_per_unit(fractional.abs()) as f64;
    if nanos.abs() > 1e29 {
        return Some(Err(out_of_range()));
    }
    Some(Timestamp::from_nanosecond(nanos.round() as i128).map_err(|_| out_of_range()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        /// The quick writer gives what strftime gives, over every time jiff holds.
        #[test]
        fn utc_text_is_strftimes(
            seconds in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            nanos in prop_oneof![Just(0), 0..1_000_000_000i32, (0..1000i32).prop_map(|ms| ms * 1_000_000)],
        ) {
            let at = Timestamp::new(seconds, nanos).unwrap_or(Timestamp::MAX);
            for form in [UtcForm::Iso, UtcForm::IsoMillis, UtcForm::Hive] {
                prop_assert_eq!(utc_text(at, form), at.strftime(form.strftime_format()).to_string());
            }
        }
    }

    fn iso(value: Value) -> String {
        match TimestampFormat::Iso.write(read(&value, EpochUnit::Auto).unwrap()) {
            Value::String(s) => s,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn every_common_form_reads() {
        assert_eq!(iso(json!(1_714_566_600)), "2024-05-01T12:30:00Z");
        assert_eq!(
            iso(json!(1_714_566_600_123_i64)),
            "2024-05-01T12:30:00.123Z"
        );
        assert_eq!(iso(json!(1_714_566_600.5)), "2024-05-01T12:30:00.5Z");
        assert_eq!(iso(json!("1714566600123")), "2024-05-01T12:30:00.123Z");
        assert_eq!(
            iso(json!("2024-05-01T14:30:00+02:00")),
            "2024-05-01T12:30:00Z"
        );
        assert_eq!(
            iso(json!("2024-05-01T12:30:00.000123Z")),
            "2024-05-01T12:30:00.000123Z"
        );
        assert_eq!(iso(json!("2024-05-01 12:30:00")), "2024-05-01T12:30:00Z");
        assert_eq!(
            iso(json!("Wed, 01 May 2024 12:30:00 +0000")),
            "2024-05-01T12:30:00Z"
        );
    }

    #[test]
    fn each_format_writes_what_openx_reads() {
        let at = read(&json!("2024-05-01T12:30:00.25Z"), EpochUnit::Auto).unwrap();
        assert_eq!(
            TimestampFormat::Hive.write(at),
            json!("2024-05-01 12:30:00.25")
        );
        assert_eq!(
            TimestampFormat::EpochMillis.write(at),
            json!(1_714_566_600_250_i64)
        );
        assert_eq!(
            TimestampFormat::EpochSeconds.write(at),
            json!(1_714_566_600)
        );
    }

    #[test]
    fn an_explicit_unit_overrides_the_size_rule() {
        let at = read(&json!(1_000), EpochUnit::Milliseconds).unwrap();
        assert_eq!(at.as_millisecond(), 1_000);
    }

    #[test]
    fn errors_describe_without_quoting() {
        assert_eq!(
            read(&json!("secret text"), EpochUnit::Auto).unwrap_err(),
            "a string of 11 characters that is not a timestamp"
        );
        assert_eq!(
            read(&json!(true), EpochUnit::Auto).unwrap_err(),
            "a boolean is not a timestamp"
        );
        assert!(
            read(&json!(1e300), EpochUnit::Auto)
                .unwrap_err()
                .contains("out of the timestamp range")
        );
        assert!(read(&json!(i64::MAX), EpochUnit::Seconds).is_err());
    }

    #[test]
    fn words_round_trip() {
        for word in TimestampFormat::WORDS {
            assert!(TimestampFormat::from_word(word).is_some(), "{word}");
        }
        for word in EpochUnit::WORDS {
            assert!(EpochUnit::from_word(word).is_some(), "{word}");
        }
    }
}
