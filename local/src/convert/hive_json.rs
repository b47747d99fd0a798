//! The Hive JSON SerDe's rules (`org.apache.hive.hcatalog.data.JsonSerDe`),
//! stricter than OpenX: a key matches a column only as it is (column names
//! are lower case, so `UserId` is dropped), numeric columns read only JSON
//! numbers (`{"a":"123"}` fails an `int` column), nested JSON is never text,
//! and timestamps are read by the `TimestampFormats` the template lists
//! (Joda-Time patterns, or `millis`), then as `java.sql.Timestamp` reads them.

use std::borrow::Cow;

use super::hive::HiveType;
use super::json::Json;
use super::openx::{decimal, space_separated};
use super::rows::Cell;

/// The deserialiser's options, as the template sets them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HiveJson {
    /// `TimestampFormats`, tried in order before `yyyy-MM-dd HH:mm:ss[.S…]`.
    pub timestamp_formats: Vec<TimestampFormat>,
}

/// One of `TimestampFormats`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampFormat {
    /// `millis`: epoch milliseconds.
    Millis,
    /// A Joda-Time pattern, as the `jiff` formats it translates to: a
    /// pattern with a zone offset also reads `Z` there, as Joda does.
    Pattern { joda: String, formats: Vec<String> },
}

const NUMBERS_ONLY: &str = "the Hive JSON SerDe reads only JSON numbers in numeric columns";
const NO_NESTED_TEXT: &str = "the Hive JSON SerDe does not turn nested JSON into text";

impl HiveJson {
    /// A scalar read as `ty`, in the form the writer takes.
    pub(super) fn scalar<'v>(
        &self,
        value: &'v Json,
        ty: &HiveType,
    ) -> Result<Cell<'v>, Option<&'static str>> {
        // HCatalog reads every other scalar from the token's text.
        let text = value.scalar_text().ok_or(Some(NO_NESTED_TEXT))?;
        Ok(match ty {
            HiveType::String => Cell::Text(Cow::Borrowed(text)),
            // `Boolean.valueOf`: "true" in any case, anything else is false.
            HiveType::Boolean => Cell::Bool(text.eq_ignore_ascii_case("true")),
            HiveType::TinyInt => whole(value, i8::MIN.into(), i8::MAX.into())?,
            HiveType::SmallInt => whole(value, i16::MIN.into(), i16::MAX.into())?,
            HiveType::Int => whole(value, i32::MIN.into(), i32::MAX.into())?,
            HiveType::BigInt => whole(value, i64::MIN, i64::MAX)?,
            HiveType::Float | HiveType::Double => match value {
                Json::Number(n) => Cell::Number(n),
                _ => return Err(Some(NUMBERS_ONLY)),
            },
            // `HiveDecimal.create` reads the text, so a string holding a number is read too.
            HiveType::Decimal { precision, scale } => decimal(text.trim(), *precision, *scale)
                .map(|d| Cell::Text(Cow::Owned(d)))
                .ok_or(None)?,
            HiveType::Date => sql_date(text)
                .map(|d| Cell::Text(Cow::Owned(d)))
                .ok_or(None)?,
            HiveType::Timestamp => self.timestamp_micros(text).map(Cell::Int).ok_or(None)?,
            HiveType::Binary => {
                return Err(Some("the Hive JSON SerDe does not read binary columns"));
            }
            // Containers are walked by `rows`.
            HiveType::Varchar(_)
            | HiveType::Char(_)
            | HiveType::Array(_)
            | HiveType::Map(..)
            | HiveType::Struct(_) => return Err(None),
        })
    }

    /// Microseconds since the epoch (UTC) of `text`: the first of
    /// `TimestampFormats` that reads all of it, else `Timestamp.valueOf`.
    pub fn timestamp_micros(&self, text: &str) -> Option<i64> {
        self.timestamp_formats
            .iter()
            .find_map(|format| format.read(text))
            .or_else(|| space_separated(text))
    }
}

/// A JSON integer in `min..=max`; a fraction is cut towards zero, as Jackson
/// reads a float as an integer.
fn whole(value: &Json, min: i64, max: i64) -> Result<Cell<'static>, Option<&'static str>> {
    let Json::Number(text) = value else {
        return Err(Some(NUMBERS_ONLY));
    };
    let whole = match text.parse::<i128>() {
        Ok(whole) => i64::try_from(whole).ok(),
        Err(_) => text
            .parse::<f64>()
            .ok()
            .map(f64::trunc)
            .filter(|f| (i64::MIN as f64..=i64::MAX as f64).contains(f))
            .map(|f| f as i64),
    };
    match whole {
        Some(whole) if (min..=max).contains(&whole) => Ok(Cell::Int(whole)),
        _ => Err(Some("out of the column's range")),
    }
}

/// `java.sql.Date.valueOf`: `yyyy-[M]M-[d]d`, a real date.
fn sql_date(text: &str) -> Option<String> {
    let mut parts = text.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, widths: std::ops::RangeInclusive<usize>| {
        widths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(year, 4..=4) || !digits(month, 1..=2) || !digits(day, 1..=2) {
        return None;
    }
    let date = jiff::civil::Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    date.ok().map(|d| d.to_string())
}

impl TimestampFormat {
    /// One entry of `TimestampFormats`, checked once at start-up.
    pub fn parse(pattern: &str) -> Result<TimestampFormat, String> {
        if pattern == "millis" {
            return Ok(TimestampFormat::Millis);
        }
        let refuse = |why: String| format!("TimestampFormats {pattern:?}: {why}");
        let chars: Vec<char> = pattern.chars().collect();
        // Each piece of the jiff format, the offset kept apart so that `Z` can stand for it.
        let mut format = String::new();
        let mut offset_at = None;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                // 'quoted text' is literal; '' is one quote.
                let end = chars[i + 1..]
                    .iter()
                    .position(|&q| q == '\'')
                    .ok_or_else(|| refuse("a quote is not closed".to_owned()))?;
                if end == 0 {
                    format.push('\'');
                }
                for &literal in &chars[i + 1..i + 1 + end] {
                    push_literal(&mut format, literal);
                }
                i += end + 2;
                continue;
            }
            if !c.is_ascii_alphabetic() {
                push_literal(&mut format, c);
                i += 1;
                continue;
            }
            let run = chars[i..].iter().take_while(|&&x| x == c).count();
            let spec = match (c, run) {
                ('y' | 'Y', 2) => "%y",
                ('y' | 'Y', _) => "%Y",
                ('M', 1 | 2) => "%m",
                ('M', 3) => "%b",
                ('M', _) => "%B",
                ('d', 1 | 2) => "%d",
                ('D', _) => "%j",
                ('H', 1 | 2) => "%H",
                ('h', 1 | 2) => "%I",
                ('a', _) => "%p",
                ('m', 1 | 2) => "%M",
                ('s', 1 | 2) => "%S",
                ('S', _) => "%f",
                ('E', 1..=3) => "%a",
                ('E', _) => "%A",
                ('Z', 1 | 2) => {
                    offset_at = Some(format.len());
                    if run == 1 { "%z" } else { "%:z" }
                }
                ('Z', _) => "%Q",
                _ => {
                    return Err(refuse(format!(
                        "{:?} is not a pattern letter firehose-local reads (it reads y M d D H h a m s S E Z)",
                        chars[i..i + run].iter().collect::<String>()
                    )));
                }
            };
            format.push_str(spec);
            i += run;
        }
        let mut formats = vec![format.clone()];
        if let Some(at) = offset_at {
            let spec_len = if format[at..].starts_with("%:z") {
                3
            } else {
                2
            };
            formats.push(format!("{}Z{}", &format[..at], &format[at + spec_len..]));
        }
        Ok(TimestampFormat::Pattern {
            joda: pattern.to_owned(),
            formats,
        })
    }

    /// Microseconds since the epoch (UTC) of `text`, if this format reads all of it.
    fn read(&self, text: &str) -> Option<i64> {
        match self {
            TimestampFormat::Millis => text.parse::<i64>().ok()?.checked_mul(1_000),
            TimestampFormat::Pattern { formats, .. } => formats.iter().find_map(|format| {
                let parsed = jiff::fmt::strtime::parse(format, text).ok()?;
                let at = match parsed.offset() {
                    Some(_) => parsed.to_timestamp().ok()?,
                    None => parsed
                        .to_datetime()
                        .ok()?
                        .to_zoned(jiff::tz::TimeZone::UTC)
                        .ok()?
                        .timestamp(),
                };
                Some(at.as_microsecond())
            }),
        }
    }
}

fn push_literal(format: &mut String, c: char) {
    if c == '%' {
        format.push_str("%%");
    } else {
        format.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::rows::Deserializer;
    use crate::convert::table::column;
    use crate::convert::{Refused, Rows, codes};

    fn rows(hive: &HiveJson, record: &str, spec: &[(&str, &str)]) -> Result<Rows, Refused> {
        let columns: Vec<_> = spec.iter().map(|(n, t)| column(n, t).unwrap()).collect();
        let deserializer = Deserializer::HiveJson(hive.clone());
        deserializer.rows(record.as_bytes(), &deserializer.fields(&columns))
    }

    fn line(rows: &Rows) -> &str {
        std::str::from_utf8(&rows.lines).unwrap().trim_end()
    }

    fn formats(patterns: &[&str]) -> HiveJson {
        HiveJson {
            timestamp_formats: patterns
                .iter()
                .map(|p| TimestampFormat::parse(p).unwrap())
                .collect(),
        }
    }

    #[test]
    fn keys_match_columns_only_as_they_are() {
        let rows = rows(
            &HiveJson::default(),
            r#"{"id":1,"UserId":"u","s":{"A":1,"a":2}}"#,
            &[("id", "int"), ("userid", "string"), ("s", "struct<a:int>")],
        )
        .unwrap();
        assert_eq!(line(&rows), r#"{"id":1,"userid":null,"s":{"a":2}}"#);
        assert_eq!(rows.dropped, ["UserId", "s.A"]);
    }

    #[test]
    fn scalars_are_read_from_their_text_but_numbers_only_from_numbers() {
        let spec = [
            ("s", "string"),
            ("v", "varchar(2)"),
            ("b", "boolean"),
            ("yes", "boolean"),
            ("i", "int"),
            ("f", "double"),
            ("d", "decimal(5,2)"),
            ("day", "date"),
        ];
        let record = r#"{"s":12.50,"v":true,"b":"TRUE","yes":1,"i":7.9,"f":-1,"d":"3.14159","day":"2024-2-9"}"#;
        let rows = rows(&HiveJson::default(), record, &spec).unwrap();
        assert_eq!(
            line(&rows),
            r#"{"s":"12.50","v":"tr","b":true,"yes":false,"i":7,"f":-1,"d":"3.14","day":"2024-02-09"}"#
        );
    }

    #[test]
    fn what_hive_refuses_is_malformed_data_saying_why() {
        for (ty, value, why) in [
            ("int", r#""123""#, NUMBERS_ONLY),
            ("bigint", "true", NUMBERS_ONLY),
            ("double", r#""1.5""#, NUMBERS_ONLY),
            ("tinyint", "128", "out of the column's range"),
            ("bigint", "1e30", "out of the column's range"),
            ("string", r#"{"k":1}"#, NO_NESTED_TEXT),
            ("varchar(5)", "[1]", NO_NESTED_TEXT),
            ("binary", r#""aGk=""#, "binary"),
            ("date", "20240101", "cannot be read as date"),
            ("date", r#""2024-02-30""#, "cannot be read as date"),
            ("timestamp", "1486480381000", "cannot be read as timestamp"),
            (
                "timestamp",
                r#""2017-02-07T15:13:01Z""#,
                "cannot be read as timestamp",
            ),
            (
                "decimal(4,2)",
                r#""12.3x""#,
                "cannot be read as decimal(4,2)",
            ),
        ] {
            let record = format!(r#"{{"col":{value}}}"#);
            let refused = rows(&HiveJson::default(), &record, &[("col", ty)]).unwrap_err();
            assert_eq!(refused.code, codes::MALFORMED_DATA, "{ty} {value}");
            assert!(
                refused.message.starts_with(&format!("col ({ty})")),
                "{}",
                refused.message
            );
            assert!(
                refused.message.contains(why),
                "{ty} {value}: {}",
                refused.message
            );
        }
    }

    #[test]
    fn timestamps_are_read_by_timestamp_formats_then_as_java_reads_them() {
        let at = 1_486_480_381_000_000; // 2017-02-07T15:13:01Z
        let hive = formats(&[
            "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
            "dd/MMM/yyyy:HH:mm:ss ZZ",
            "millis",
        ]);
        for (text, want) in [
            ("2017-02-07T15:13:01.392Z", at + 392_000),
            ("2017-02-07T16:13:01.392+0100", at + 392_000),
            ("07/Feb/2017:15:13:01 +00:00", at),
            ("07/feb/2017:10:13:01 -05:00", at),
            ("1486480381000", at),
            ("2017-02-07 15:13:01.5", at + 500_000),
        ] {
            assert_eq!(hive.timestamp_micros(text), Some(want), "{text}");
        }
        // `millis` reads any whole number as milliseconds, epoch seconds too: a silent 1970.
        assert_eq!(hive.timestamp_micros("1486480381"), Some(1_486_480_381_000));
        for bad in ["2017-02-07T15:13:01Z", "07/Feb/2017:15:13:01"] {
            assert_eq!(hive.timestamp_micros(bad), None, "{bad}");
        }
        let plain = HiveJson::default();
        assert_eq!(plain.timestamp_micros("2017-02-07 15:13:01"), Some(at));
        assert_eq!(plain.timestamp_micros("1486480381000"), None);
        let quoted = formats(&["yyyy.MM.dd 'at' HH'h'mm'm'ss''"]);
        assert_eq!(quoted.timestamp_micros("2017.02.07 at 15h13m01'"), Some(at));
    }

    #[test]
    fn a_pattern_it_cannot_read_is_refused_at_start_up_by_name() {
        for (pattern, named) in [
            ("yyyy-ww", "\"ww\""),
            ("xxxx-MM-dd", "\"xxxx\""),
            ("HH:mm 'oops", "a quote is not closed"),
            ("kk:mm", "\"kk\""),
        ] {
            let error = TimestampFormat::parse(pattern).unwrap_err();
            assert!(error.contains(pattern) && error.contains(named), "{error}");
        }
    }
}
