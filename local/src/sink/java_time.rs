//! Java `DateTimeFormatter` patterns, as `!{timestamp:...}` takes them: the
//! letters Firehose users write, translated once and rendered per object;
//! any other letter is refused by name, never guessed.
//!
//! Locale-dependent fields follow `en_US`, the JVM default Firehose runs
//! with: `YYYY`/`ww` are the week-based year and week of weeks that start on
//! Sunday, week 1 being the one holding 1 January (so `YYYY` is next year in
//! the last days of December, a classic prefix bug).

use jiff::Zoned;
use jiff::civil::Date;

/// A pattern that `!{timestamp:...}` cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timestamp pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

/// A translated pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// A number at least `width` digits wide (`yy`-style two-digit years are `Year2`).
    Number(Field, usize),
    Year2,
    WeekYear2,
    MonthName {
        long: bool,
    },
    DayName {
        long: bool,
    },
    AmPm,
    /// The first `n` digits of the second's fraction.
    Fraction(usize),
    /// `Z`/`ZZ`/`ZZZ` (`+0000`), `XXX`/`xxx` (`+00:00`) and friends: `zulu` writes `Z` for a zero offset.
    Offset {
        colon: bool,
        minutes: OffsetMinutes,
        zulu: bool,
    },
    ZoneId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Year,
    WeekYear,
    Month,
    Day,
    DayOfYear,
    Hour,
    ClockHour24,
    ClockHour12,
    Hour12,
    Minute,
    Second,
    Week,
    Quarter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OffsetMinutes {
    Always,
    /// `X`/`x`: `+01`, with minutes only when they are not zero.
    WhenNotZero,
}

impl Pattern {
    /// Translates a Java `DateTimeFormatter` pattern.
    pub fn parse(pattern: &str) -> Result<Pattern, PatternError> {
        let refuse = |reason: String| PatternError {
            pattern: pattern.to_owned(),
            reason,
        };
        let chars: Vec<char> = pattern.chars().collect();
        let mut pieces = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                // 'quoted text' is literal; '' is one quote.
                let mut text = String::new();
                i += 1;
                if chars.get(i) == Some(&'\'') {
                    pieces.push(Piece::Text("'".to_owned()));
                    i += 1;
                    continue;
                }
                loop {
                    match chars.get(i) {
                        None => return Err(refuse("a quote is not closed".to_owned())),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            text.push(other);
                            i += 1;
                        }
                    }
                }
                pieces.push(Piece::Text(text));
                continue;
            }
            if !c.is_ascii_alphabetic() {
                if matches!(c, '[' | ']' | '{' | '}' | '#') {
                    return Err(refuse(format!(
                        "{c:?} is reserved (optional sections are not supported)"
                    )));
                }
                pieces.push(Piece::Text(c.to_string()));
                i += 1;
                continue;
            }
            let run = chars[i..].iter().take_while(|&&x| x == c).count();
            pieces.push(letter(c, run).map_err(refuse)?);
            i += run;
        }
        Ok(Pattern(pieces))
    }

    /// The pattern applied to `at`.
    pub fn render(&self, at: &Zoned) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Number(field, width) => {
                    out.push_str(&format!("{:0width$}", number(*field, at)))
                }
                Piece::Year2 => {
                    out.push_str(&format!("{:02}", i32::from(at.year()).rem_euclid(100)))
                }
                Piece::WeekYear2 => {
                    out.push_str(&format!("{:02}", week_year(at.date()).rem_euclid(100)))
                }
                Piece::MonthName { long } => out.push_str(name(
                    MONTHS[usize::from(at.month().unsigned_abs()) - 1],
                    *long,
                )),
                Piece::DayName { long } => out.push_str(name(
                    DAYS[usize::from(at.weekday().to_sunday_zero_offset().unsigned_abs())],
                    *long,
                )),
                Piece::AmPm => out.push_str(if at.hour() < 12 { "AM" } else { "PM" }),
                Piece::Fraction(n) => {
                    let nanos = format!("{:09}", at.subsec_nanosecond());
                    let digits: String = nanos
                        .chars()
                        .chain(std::iter::repeat('0'))
                        .take(*n)
                        .collect();
                    out.push_str(&digits);
                }
                Piece::Offset {
                    colon,
                    minutes,
                    zulu,
                } => {
                    let seconds = at.offset().seconds();
                    if seconds == 0 && *zulu {
                        out.push('Z');
                        continue;
                    }
                    let sign = if seconds < 0 { '-' } else { '+' };
                    let (h, m) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
                    out.push_str(&format!("{sign}{h:02}"));
                    if *minutes == OffsetMinutes::Always || m != 0 {
                        out.push_str(&format!("{}{m:02}", if *colon { ":" } else { "" }));
                    }
                }
                Piece::ZoneId => out.push_str(at.time_zone().iana_name().unwrap_or("UTC")),
            }
        }
        out
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn name(full: &'static str, long: bool) -> &'static str {
    if long { full } else { &full[..3] }
}

/// The piece for a run of `count` letters `c`.
fn letter(c: char, count: usize) -> Result<Piece, String> {
    let number = |field, most: usize| {
        if count <= most {
            Ok(Piece::Number(field, count))
        } else {
            Err(format!("{} is too many {c:?} (at most {most})", count))
        }
    };
    match c {
        'y' | 'u' if count == 2 => Ok(Piece::Year2),
        'y' | 'u' => Ok(Piece::Number(Field::Year, count)),
        'Y' if count == 2 => Ok(Piece::WeekYear2),
        'Y' => Ok(Piece::Number(Field::WeekYear, count)),
        'M' | 'L' if count >= 4 => Ok(Piece::MonthName { long: true }),
        'M' | 'L' if count == 3 => Ok(Piece::MonthName { long: false }),
        'M' | 'L' => number(Field::Month, 2),
        'd' => number(Field::Day, 2),
        'D' => number(Field::DayOfYear, 3),
        'H' => number(Field::Hour, 2),
        'k' => number(Field::ClockHour24, 2),
        'h' => number(Field::ClockHour12, 2),
        'K' => number(Field::Hour12, 2),
        'm' => number(Field::Minute, 2),
        's' => number(Field::Second, 2),
        'w' => number(Field::Week, 2),
        'Q' | 'q' => number(Field::Quarter, 2),
        'S' if count <= 9 => Ok(Piece::Fraction(count)),
        'a' if count == 1 => Ok(Piece::AmPm),
        'E' if count >= 4 => Ok(Piece::DayName { long: true }),
        'E' => Ok(Piece::DayName { long: false }),
        'Z' if count <= 3 => Ok(Piece::Offset {
            colon: false,
            minutes: OffsetMinutes::Always,
            zulu: false,
        }),
        'Z' if count == 5 => Ok(Piece::Offset {
            colon: true,
            minutes: OffsetMinutes::Always,
            zulu: true,
        }),
        'X' | 'x' if count <= 3 => Ok(Piece::Offset {
            colon: count == 3,
            minutes: if count == 1 {
                OffsetMinutes::WhenNotZero
            } else {
                OffsetMinutes::Always
            },
            zulu: c == 'X',
        }),
        'V' if count == 2 => Ok(Piece::ZoneId),
        'G' => Err("the era (G) is not supported".to_owned()),
        'z' => Err("zone names (z) depend on the locale's names; use VV or XXX".to_owned()),
        other => Err(format!(
            "the letter {other:?} ({count} of it) is not supported"
        )),
    }
}

fn number(field: Field, at: &Zoned) -> i64 {
    let hour = i64::from(at.hour());
    match field {
        Field::Year => i64::from(at.year()),
        Field::WeekYear => i64::from(week_year(at.date())),
        Field::Month => i64::from(at.month()),
        Field::Day => i64::from(at.day()),
        Field::DayOfYear => i64::from(at.day_of_year()),
        Field::Hour => hour,
        Field::ClockHour24 => {
            if hour == 0 {
                24
            } else {
                hour
            }
        }
        Field::ClockHour12 => match hour % 12 {
            0 => 12,
            h => h,
        },
        Field::Hour12 => hour % 12,
        Field::Minute => i64::from(at.minute()),
        Field::Second => i64::from(at.second()),
        Field::Week => i64::from(week(at.date())),
        Field::Quarter => (i64::from(at.month()) - 1) / 3 + 1,
    }
}

/// Days since the Sunday that starts `date`'s week.
fn since_sunday(date: Date) -> i16 {
    i16::from(date.weekday().to_sunday_zero_offset())
}

/// The `en_US` week-based year: that of the week's Saturday when its week holds 1 January.
fn week_year(date: Date) -> i16 {
    let saturday_day_of_year = date.day_of_year() + (6 - since_sunday(date));
    if saturday_day_of_year > date.days_in_year() {
        date.year() + 1
    } else {
        date.year()
    }
}

/// The `en_US` week of the week-based year: week 1 holds 1 January.
fn week(date: Date) -> i16 {
    if week_year(date) > date.year() {
        return 1;
    }
    let first = date.first_of_year();
    (date.day_of_year() - 1 + since_sunday(first)) / 7 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Zoned {
        text.parse().unwrap()
    }

    fn render(pattern: &str, zoned: &str) -> String {
        Pattern::parse(pattern).unwrap().render(&at(zoned))
    }

    #[test]
    fn the_patterns_firehose_users_write() {
        let t = "2026-03-04T05:06:07.089+00:00[UTC]";
        assert_eq!(render("yyyy/MM/dd/HH/", t), "2026/03/04/05/");
        assert_eq!(
            render("yyyy-MM-dd'T'HH:mm:ss.SSS", t),
            "2026-03-04T05:06:07.089"
        );
        assert_eq!(render("'year='yyyy'/month='MM", t), "year=2026/month=03");
        assert_eq!(render("yy M d H m s", t), "26 3 4 5 6 7");
        assert_eq!(
            render("MMM MMMM EEE EEEE a hh DDD", t),
            "Mar March Wed Wednesday AM 05 063"
        );
        assert_eq!(render("'it''s' Q", t), "it's 1");
    }

    #[test]
    fn offsets_and_zones() {
        let tokyo = "2026-03-04T14:06:07+09:00[Asia/Tokyo]";
        assert_eq!(
            render("HH XXX Z xx VV", tokyo),
            "14 +09:00 +0900 +0900 Asia/Tokyo"
        );
        assert_eq!(render("X XXX", "2026-03-04T05:06:07+00:00[UTC]"), "Z Z");
    }

    #[test]
    fn capital_y_is_the_week_based_year() {
        // Sunday 29 December 2024 starts the week holding 1 January 2025.
        let t = "2024-12-29T00:00:00+00:00[UTC]";
        assert_eq!(render("yyyy YYYY ww", t), "2024 2025 01");
        assert_eq!(
            render("yyyy YYYY ww", "2024-12-28T00:00:00+00:00[UTC]"),
            "2024 2024 52"
        );
        assert_eq!(
            render("YYYY ww", "2021-01-01T00:00:00+00:00[UTC]"),
            "2021 01"
        );
        assert_eq!(
            render("YYYY ww", "2021-01-03T00:00:00+00:00[UTC]"),
            "2021 02"
        );
    }

    #[test]
    fn what_is_not_understood_is_refused_by_name() {
        for (pattern, needle) in [
            ("yyyy-z", "(z)"),
            ("G", "era"),
            ("yyyy[MM]", "reserved"),
            ("'open", "quote"),
            ("n", "'n'"),
        ] {
            let error = Pattern::parse(pattern).unwrap_err();
            assert!(error.to_string().contains(needle), "{pattern}: {error}");
        }
    }
}
