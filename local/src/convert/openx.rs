//! The OpenX JSON SerDe's rules, as Firehose's converter reads a record:
//! keys matched to columns lower-cased unless `CaseInsensitive` is off, dots
//! made underscores when asked, `ColumnToJsonKeyMappings`; scalars read
//! generously (numbers in strings, nested JSON as text in string columns).

use std::borrow::Cow;

use super::hive::HiveType;
use super::json::Json;
use super::rows::Cell;

/// The deserialiser's options, as the template sets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenX {
    /// `CaseInsensitive` (default true): keys are lower-cased before matching.
    pub case_insensitive: bool,
    /// `ConvertDotsInJsonKeysToUnderscores` (default false).
    pub dots_to_underscores: bool,
    /// `ColumnToJsonKeyMappings`: column → the JSON key it reads.
    pub mappings: Vec<(String, String)>,
}

impl Default for OpenX {
    fn default() -> Self {
        OpenX {
            case_insensitive: true,
            dots_to_underscores: false,
            mappings: Vec::new(),
        }
    }
}

impl OpenX {
    /// The key a JSON key matches columns by (borrowed when matching leaves it as it is).
    pub(super) fn key<'k>(&self, key: &'k str) -> Cow<'k, str> {
        // Keys are nearly always ASCII: checked in one pass over the bytes,
        // with no early exit so that the compiler checks many at a time, and
        // lowered without decoding characters.
        let (ascii, upper) = key.bytes().fold((true, false), |(ascii, upper), b| {
            (ascii & b.is_ascii(), upper | b.is_ascii_uppercase())
        });
        let lower = self.case_insensitive
            && match ascii {
                true => upper,
                false => key.chars().any(char::is_uppercase),
            };
        let dots = self.dots_to_underscores && key.contains('.');
        if !lower && !dots {
            return Cow::Borrowed(key);
        }
        let key = match (lower, ascii) {
            (true, true) => key.to_ascii_lowercase(),
            (true, false) => key.to_lowercase(),
            (false, _) => key.to_owned(),
        };
        Cow::Owned(if dots { key.replace('.', "_") } else { key })
    }

    /// The JSON key `column` reads: its mapping, else its name.
    pub(super) fn column_key<'a>(&'a self, column: &'a str) -> &'a str {
        self.mappings
            .iter()
            .find(|(mapped, _)| mapped == column)
            .map_or(column, |(_, key)| key.as_str())
    }

    /// A scalar read as `ty`, in the form the writer takes.
    pub(super) fn scalar<'v>(
        &self,
        value: &'v Json,
        ty: &HiveType,
    ) -> Result<Cell<'v>, Option<&'static str>> {
        Ok(match ty {
            HiveType::String => Cell::Text(text(value)),
            HiveType::Boolean => match value {
                Json::Bool(b) => Cell::Bool(*b),
                Json::String(s) if s.eq_ignore_ascii_case("true") => Cell::Bool(true),
                Json::String(s) if s.eq_ignore_ascii_case("false") => Cell::Bool(false),
                _ => return Err(None),
            },
            HiveType::TinyInt => integer(value, i8::MIN.into(), i8::MAX.into()).ok_or(None)?,
            HiveType::SmallInt => integer(value, i16::MIN.into(), i16::MAX.into()).ok_or(None)?,
            HiveType::Int => integer(value, i32::MIN.into(), i32::MAX.into()).ok_or(None)?,
            HiveType::BigInt => integer(value, i64::MIN, i64::MAX).ok_or(None)?,
            HiveType::Float | HiveType::Double => match value {
                Json::Number(n) => Cell::Number(n),
                Json::String(s) => s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Cell::Float)
                    .ok_or(None)?,
                _ => return Err(None),
            },
            HiveType::Decimal { precision, scale } => number_text(value)
                .and_then(|n| decimal(n, *precision, *scale))
                .map(|d| Cell::Text(Cow::Owned(d)))
                .ok_or(None)?,
            HiveType::Date => date(value).map(|d| Cell::Text(Cow::Owned(d))).ok_or(None)?,
            HiveType::Timestamp => number_text(value)
                .or(match value {
                    Json::String(s) => Some(s.as_ref()),
                    _ => None,
                })
                .and_then(timestamp_micros)
                .map(Cell::Int)
                .ok_or(None)?,
            // The string's own bytes, which the writer takes as hex.
            HiveType::Binary => match value {
                Json::String(s) => Cell::Text(Cow::Owned(hex(s.as_bytes()))),
                _ => return Err(None),
            },
            // Containers are walked by `rows`.
            HiveType::Varchar(_)
            | HiveType::Char(_)
            | HiveType::Array(_)
            | HiveType::Map(..)
            | HiveType::Struct(_) => return Err(None),
        })
    }
}

/// A value as a string column holds it: strings as they are, anything else as its JSON.
fn text<'v>(value: &'v Json) -> Cow<'v, str> {
    match value {
        // Nested JSON as compact text; it came from a valid record, so it parses.
        Json::Array(raw) | Json::Object(raw) => Cow::Owned(
            serde_json::from_str::<serde_json::Value>(raw.get())
                .map_or_else(|_| raw.get().to_owned(), |v| v.to_string()),
        ),
        scalar => Cow::Borrowed(scalar.scalar_text().unwrap_or("null")),
    }
}

/// The text of a number, or of a string holding one (OpenX reads both).
fn number_text<'v>(value: &'v Json) -> Option<&'v str> {
    match value {
        Json::Number(n) => Some(n),
        Json::String(s) if s.parse::<f64>().is_ok() => Some(s.trim()),
        _ => None,
    }
}

/// A whole number in `min..=max`, from a JSON integer or a string holding one
/// (decimal, or hex with `0x` as OpenX reads it). A fraction is refused: the
/// value would be cut short.
fn integer(value: &Json, min: i64, max: i64) -> Option<Cell<'static>> {
    let text = match value {
        Json::Number(n) => n,
        Json::String(s) => s.as_ref(),
        _ => return None,
    };
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => text.parse::<i64>().ok(),
    }?;
    (min..=max).contains(&parsed).then_some(Cell::Int(parsed))
}

/// A decimal's text rounded half up to `scale` digits, if it has at most
/// `precision` digits then.
pub(super) fn decimal(text: &str, precision: u8, scale: u8) -> Option<String> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    // All digits, and where the point goes after applying the exponent.
    let digits: Vec<u8> = whole
        .bytes()
        .chain(fraction.bytes())
        .map(|b| b - b'0')
        .collect();
    let point = whole.len() as i64 + i64::from(exponent);
    let wanted = point + i64::from(scale);
    if wanted > 80 {
        return None;
    }
    let mut kept: Vec<u8> = (0..wanted.max(0))
        .map(|i| digits.get(i as usize).copied().unwrap_or(0))
        .collect();
    let next = usize::try_from(wanted)
        .ok()
        .and_then(|i| digits.get(i))
        .copied();
    if next.is_some_and(|d| d >= 5) {
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, 1);
                break;
            }
            i -= 1;
            if kept[i] == 9 {
                kept[i] = 0;
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    let first = kept.iter().position(|&d| d != 0).unwrap_or(kept.len());
    if kept.len() - first > usize::from(precision) {
        return None;
    }
    let mut out = String::new();
    if negative && first < kept.len() {
        out.push('-');
    }
    let scale = usize::from(scale);
    while kept.len() <= scale {
        kept.insert(0, 0);
    }
    let (int_part, frac_part) = kept.split_at(kept.len() - scale);
    let int_part = &int_part[int_part
        .iter()
        .position(|&d| d != 0)
        .unwrap_or(int_part.len() - 1)..];
    out.extend(int_part.iter().map(|d| char::from(b'0' + d)));
    if scale > 0 {
        out.push('.');
        out.extend(frac_part.iter().map(|d| char::from(b'0' + d)));
    }
    Some(out)
}

/// A date: `yyyy-MM-dd`, or whole days since 1970-01-01.
fn date(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => s.parse::<jiff::civil::Date>().ok().map(|d| d.to_string()),
        Json::Number(n) => {
            let days = n.parse::<i64>().ok()?;
            let date = jiff::civil::date(1970, 1, 1)
                .checked_add(jiff::Span::new().try_days(days).ok()?)
                .ok()?;
            Some(date.to_string())
        }
        _ => None,
    }
}

/// Microseconds since the epoch (UTC) of a timestamp in a form OpenX reads:
/// ISO 8601 with `T` and a zone (`Z` or an offset); `yyyy-[M]M-[d]d
/// HH:mm:ss[.S…]`; epoch seconds, with a fraction or not; epoch milliseconds
/// (13 digits or more, as OpenX tells them apart). Digits past the
/// microsecond are cut.
pub fn timestamp_micros(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.contains('T') {
        return text
            .parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.as_microsecond());
    }
    if text.contains(':') {
        return space_separated(text);
    }
    if text.contains(['.', 'e', 'E']) {
        let seconds: f64 = text.parse().ok()?;
        let micros = (seconds * 1e6).round();
        return (micros.is_finite() && micros.abs() < 9.2e18).then_some(micros as i64);
    }
    let whole: i64 = text.parse().ok()?;
    let digits = text.trim_start_matches('-').len();
    if digits >= 13 {
        whole.checked_mul(1_000)
    } else {
        whole.checked_mul(1_000_000)
    }
}

/// `yyyy-[M]M-[d]d HH:mm:ss[.S…]`, read as UTC (Java's `Timestamp.valueOf`).
pub(super) fn space_separated(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(' ')?;
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut clock = clock.splitn(3, ':');
    let (hour, minute, second) = (clock.next()?, clock.next()?, clock.next()?);
    if year.len() != 4
        || !(1..=2).contains(&month.len())
        || !(1..=2).contains(&day.len())
        || [hour, minute, second].iter().any(|p| p.len() != 2)
        || fraction.len() > 9
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let micros: i32 = format!("{fraction:0<6}")[..6].parse().ok()?;
    let at = jiff::civil::DateTime::new(
        year.parse().ok()?,
        month.parse().ok()?,
        day.parse().ok()?,
        hour.parse().ok()?,
        minute.parse().ok()?,
        second.parse().ok()?,
        micros * 1_000,
    )
    .ok()?;
    at.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_microsecond())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::rows::{Deserializer, Rows};
    use crate::convert::table::{Column, column};
    use crate::convert::{Refused, codes};

    fn columns(spec: &[(&str, &str)]) -> Vec<Column> {
        spec.iter().map(|(n, t)| column(n, t).unwrap()).collect()
    }

    fn rows(openx: &OpenX, record: &str, spec: &[(&str, &str)]) -> Result<Rows, Refused> {
        let deserializer = Deserializer::OpenX(openx.clone());
        deserializer.rows(record.as_bytes(), &deserializer.fields(&columns(spec)))
    }

    fn line(rows: &Rows) -> &str {
        std::str::from_utf8(&rows.lines).unwrap().trim_end()
    }

    #[test]
    fn keys_are_lowered_in_ascii_and_beyond_and_borrowed_when_already_lower() {
        let openx = OpenX::default();
        assert_eq!(openx.key("Ticker_SYMBOL"), "ticker_symbol");
        assert_eq!(openx.key("ÜBER_Größe"), "über_größe");
        assert!(matches!(openx.key("ticker_symbol"), Cow::Borrowed(_)));
        assert!(matches!(openx.key("über_größe"), Cow::Borrowed(_)));
    }

    #[test]
    fn keys_match_columns_without_case_and_the_rest_is_dropped_and_listed() {
        let rows = rows(
            &OpenX::default(),
            r#"{"Ticker_Symbol":"AMZN","PRICE":1.5,"extra":1,"nested":{"x":1}}"#,
            &[
                ("ticker_symbol", "string"),
                ("price", "double"),
                ("sector", "string"),
            ],
        )
        .unwrap();
        assert_eq!(
            line(&rows),
            r#"{"ticker_symbol":"AMZN","price":1.5,"sector":null}"#
        );
        assert_eq!(rows.dropped, ["extra", "nested"]);
    }

    #[test]
    fn case_sensitive_matching_drops_what_differs_in_case() {
        let openx = OpenX {
            case_insensitive: false,
            ..OpenX::default()
        };
        let rows = rows(&openx, r#"{"ID":1,"id":2}"#, &[("id", "int")]).unwrap();
        assert_eq!(line(&rows), r#"{"id":2}"#);
        assert_eq!(rows.dropped, ["ID"]);
    }

    #[test]
    fn dots_become_underscores_and_mappings_rename() {
        let openx = OpenX {
            dots_to_underscores: true,
            mappings: vec![("ts".to_owned(), "timestamp".to_owned())],
            ..OpenX::default()
        };
        let mapped = rows(
            &openx,
            r#"{"user.name":"a","timestamp":0}"#,
            &[("user_name", "string"), ("ts", "bigint")],
        )
        .unwrap();
        assert_eq!(line(&mapped), r#"{"user_name":"a","ts":0}"#);
        let dropped = rows(
            &OpenX::default(),
            r#"{"user.name":"a"}"#,
            &[("user_name", "string")],
        );
        assert_eq!(dropped.unwrap().dropped, ["user.name"]);
    }

    #[test]
    fn several_objects_make_several_rows_and_other_json_is_a_parse_error() {
        let spec = [("a", "int")];
        let three = rows(&OpenX::default(), "{\"a\":1}{\"a\":2}\n{\"a\":3}\n", &spec).unwrap();
        assert_eq!(three.count, 3);
        for bad in ["[{\"a\":1}]", "not json", "", "{\"a\":1} 7", "{\"a\":"] {
            let refused = rows(&OpenX::default(), bad, &spec).unwrap_err();
            assert_eq!(refused.code, codes::PARSE_ERROR, "{bad}");
        }
    }

    #[test]
    fn values_are_read_as_their_column_type() {
        let spec = [
            ("s", "string"),
            ("v", "varchar(3)"),
            ("c", "char(3)"),
            ("b", "boolean"),
            ("t", "tinyint"),
            ("i", "int"),
            ("h", "bigint"),
            ("d", "decimal(5,2)"),
            ("day", "date"),
            ("bin", "binary"),
            ("arr", "array<int>"),
            ("m", "map<string,double>"),
            ("st", "struct<x:int,y:string>"),
        ];
        let record = r#"{"s":{"k":[1]},"v":"abcdef","c":"a","b":"TRUE","t":"-128","i":"0x10","h":9007199254740993,
            "d":"12.345","day":"2024-02-29","bin":"hi","arr":[1,null,"3"],"m":{"k":"2.5"},
            "st":{"X":1,"z":true}}"#;
        let rows = rows(&OpenX::default(), record, &spec).unwrap();
        assert_eq!(
            line(&rows),
            r#"{"s":"{\"k\":[1]}","v":"abc","c":"a  ","b":true,"t":-128,"i":16,"h":9007199254740993,"d":"12.35","day":"2024-02-29","bin":"6869","arr":[1,null,3],"m":{"k":2.5},"st":{"x":1,"y":null}}"#
        );
        assert_eq!(rows.dropped, ["st.z"]);
    }

    #[test]
    fn a_value_that_does_not_fit_its_column_is_malformed_data_naming_the_column() {
        for (ty, value) in [
            ("int", r#""abc""#),
            ("int", "1.5"),
            ("int", "2147483648"),
            ("tinyint", "128"),
            ("boolean", "1"),
            ("double", r#""x""#),
            ("decimal(4,2)", "123.45"),
            ("date", r#""2024-02-30""#),
            ("timestamp", r#""yesterday""#),
            ("array<int>", "1"),
            ("struct<a:int>", "[1]"),
            ("map<int,int>", r#"{"x":1}"#),
            ("binary", "1"),
        ] {
            let record = format!(r#"{{"col":{value}}}"#);
            let refused = rows(&OpenX::default(), &record, &[("col", ty)]).unwrap_err();
            assert_eq!(refused.code, codes::MALFORMED_DATA, "{ty} {value}");
            assert!(refused.message.starts_with("col"), "{}", refused.message);
            assert!(
                !refused.message.contains("abc"),
                "no value in {}",
                refused.message
            );
        }
    }

    #[test]
    fn decimals_round_half_up_to_their_scale() {
        for (text, want) in [
            ("1", Some("1.00")),
            ("-0.005", Some("-0.01")),
            ("0.004", Some("0.00")),
            ("999.995", None),
            ("999.994", Some("999.99")),
            ("1.5e2", Some("150.00")),
            ("12e-3", Some("0.01")),
            ("abc", None),
        ] {
            assert_eq!(decimal(text, 5, 2).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn every_timestamp_form_openx_reads() {
        let at = 1_486_480_381_000_000; // 2017-02-07T15:13:01Z
        for (text, want) in [
            ("2017-02-07T15:13:01Z", at),
            ("2017-02-07T15:13:01.39256Z", at + 392_560),
            ("2017-02-07T16:13:01+01:00", at),
            ("2017-02-07 15:13:01", at),
            ("2017-02-07 15:13:01.14", at + 140_000),
            ("2017-2-7 15:13:01.123456789", at + 123_456),
            ("1486480381", at),
            ("1486480381000", at),
            ("1486480381.5", at + 500_000),
        ] {
            assert_eq!(timestamp_micros(text), Some(want), "{text}");
        }
        for bad in [
            "2017-02-07",
            "2017-02-07 15:13",
            "07/02/2017 15:13:01",
            "soon",
        ] {
            assert_eq!(timestamp_micros(bad), None, "{bad}");
        }
    }
}
