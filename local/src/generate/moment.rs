//! moment.js display formats, as the Kinesis Data Generator's `date.now`,
//! `date.utc` and `date.simTime` take them (`DD/MMM/YYYY:HH:mm:ss Z`):
//! translated once into jiff's strftime pieces, rendered per record. A
//! moment token not translated here is refused by name, never guessed;
//! other letters are text, as moment writes them.

use jiff::Zoned;

/// A translated format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MomentFormat(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// A jiff strftime format (literals escaped).
    Strftime(String),
    /// `Do`: the day of the month with its English ordinal suffix.
    DayOrdinal,
    /// `x`: epoch milliseconds.
    EpochMillis,
}

/// The moment.js tokens read, longest first, and what each becomes.
const TOKENS: [(&str, &str); 24] = [
    ("YYYY", "%Y"),
    ("YY", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%-m"),
    ("dddd", "%A"),
    ("ddd", "%a"),
    ("DDDD", "%j"),
    ("DDD", "%-j"),
    ("DD", "%d"),
    ("D", "%-d"),
    ("HH", "%H"),
    ("H", "%-H"),
    ("hh", "%I"),
    ("h", "%-I"),
    ("mm", "%M"),
    ("m", "%-M"),
    ("ss", "%S"),
    ("s", "%-S"),
    ("A", "%p"),
    ("a", "%P"),
    ("ZZ", "%z"),
    ("Z", "%:z"),
];

/// Letters that begin moment tokens not translated here (quarter, week, era, zone name, …).
const UNSUPPORTED: &str = "QwWeEgGkNzdSy";

impl MomentFormat {
    /// moment's default format, `YYYY-MM-DDTHH:mm:ssZ` (UTC: `Z` for the offset when `utc`).
    pub fn default_for(utc: bool) -> MomentFormat {
        let text = if utc {
            "YYYY-MM-DDTHH:mm:ss[Z]"
        } else {
            "YYYY-MM-DDTHH:mm:ssZ"
        };
        MomentFormat::parse(text).unwrap_or(MomentFormat(Vec::new()))
    }

    /// Translates a moment.js format; `[text]` is literal.
    pub fn parse(format: &str) -> Result<MomentFormat, String> {
        let mut pieces = Vec::new();
        let mut strftime = String::new();
        let mut rest = format;
        while let Some(c) = rest.chars().next() {
            if c == '[' {
                let end = rest
                    .find(']')
                    .ok_or_else(|| format!("date format {format:?}: a [ is not closed"))?;
                rest[1..end].chars().for_each(|c| literal(&mut strftime, c));
                rest = &rest[end + 1..];
                continue;
            }
            let special = match rest {
                r if r.starts_with("Do") => Some((Piece::DayOrdinal, 2)),
                r if r.starts_with("SSS") => Some((Piece::Strftime("%3f".to_owned()), 3)),
                r if r.starts_with('X') => Some((Piece::Strftime("%s".to_owned()), 1)),
                r if r.starts_with('x') => Some((Piece::EpochMillis, 1)),
                _ => None,
            };
            if let Some((piece, length)) = special {
                flush(&mut pieces, &mut strftime);
                match piece {
                    Piece::Strftime(spec) => strftime.push_str(&spec),
                    other => pieces.push(other),
                }
                rest = &rest[length..];
                continue;
            }
            if let Some((token, spec)) = TOKENS.iter().find(|(token, _)| rest.starts_with(token)) {
                strftime.push_str(spec);
                rest = &rest[token.len()..];
                continue;
            }
            // moment writes a letter that is no token as it is (the `T` of its default format).
            if UNSUPPORTED.contains(c) {
                let run: String = rest.chars().take_while(|&x| x == c).collect();
                return Err(format!(
                    "date format {format:?}: {run:?} is not a moment.js token firehose-local reads \
                     (YYYY YY M MM MMM MMMM D DD Do DDD DDDD ddd dddd H HH h hh m mm s ss SSS A a Z ZZ X x, [literal])"
                ));
            }
            literal(&mut strftime, c);
            rest = &rest[c.len_utf8()..];
        }
        flush(&mut pieces, &mut strftime);
        Ok(MomentFormat(pieces))
    }

    /// The format applied to `at`.
    pub fn render(&self, at: &Zoned, out: &mut String) {
        for piece in &self.0 {
            match piece {
                // Every spec here formats any zoned time.
                Piece::Strftime(format) => {
                    out.push_str(&jiff::fmt::strtime::format(format, at).unwrap_or_default())
                }
                Piece::DayOrdinal => {
                    let day = at.day();
                    let suffix = match (day % 10, day) {
                        (_, 11..=13) => "th",
                        (1, _) => "st",
                        (2, _) => "nd",
                        (3, _) => "rd",
                        _ => "th",
                    };
                    out.push_str(&format!("{day}{suffix}"));
                }
                Piece::EpochMillis => out.push_str(&at.timestamp().as_millisecond().to_string()),
            }
        }
    }
}

fn literal(strftime: &mut String, c: char) {
    if c == '%' {
        strftime.push_str("%%");
    } else {
        strftime.push(c);
    }
}

fn flush(pieces: &mut Vec<Piece>, strftime: &mut String) {
    if !strftime.is_empty() {
        pieces.push(Piece::Strftime(std::mem::take(strftime)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: &MomentFormat) -> String {
        let at: Zoned = "2010-02-14T15:25:50.123+00:00[UTC]".parse().unwrap();
        let mut out = String::new();
        format.render(&at, &mut out);
        out
    }

    #[test]
    fn the_kdg_help_pages_examples_render_as_moment_renders_them() {
        for (format, want) in [
            (
                "dddd, MMMM Do YYYY, h:mm:ss a",
                "Sunday, February 14th 2010, 3:25:50 pm",
            ),
            ("ddd, hA", "Sun, 3PM"),
            ("DD/MMM/YYYY:HH:mm:ss Z", "14/Feb/2010:15:25:50 +00:00"),
            ("YYYY-MM-DD HH:mm:ss.SSS", "2010-02-14 15:25:50.123"),
            ("X x [at] ZZ", "1266161150 1266161150123 at +0000"),
            ("100% T", "100% T"),
        ] {
            assert_eq!(
                render(&MomentFormat::parse(format).unwrap()),
                want,
                "{format}"
            );
        }
        assert_eq!(
            render(&MomentFormat::default_for(false)),
            "2010-02-14T15:25:50+00:00"
        );
        assert_eq!(
            render(&MomentFormat::default_for(true)),
            "2010-02-14T15:25:50Z"
        );
    }

    #[test]
    fn a_token_it_cannot_render_is_refused_by_name() {
        let error = MomentFormat::parse("YYYY-Q").unwrap_err();
        assert!(error.contains(r#""Q" is not a moment.js token"#), "{error}");
        let error = MomentFormat::parse("ss.SS").unwrap_err();
        assert!(
            error.contains(r#""SS" is not a moment.js token"#),
            "{error}"
        );
        assert!(
            MomentFormat::parse("[open")
                .unwrap_err()
                .contains("not closed")
        );
    }
}
