//! Keeping record contents out of failure reasons: the values a message
//! quotes become their kinds (`a string`), unless the text is the program's own.
//!
//! Logs of a SIEM pipeline are read by people who must not see the records;
//! `FIREHOSE_LOG_RECORD_VALUES=true` logs the full messages instead.

use serde_json::Value;

use crate::pipeline::record::json_kind;

/// `message` with each JSON value it quotes (`"text"`, `42`, `{"a":1}`, `[1]`)
/// replaced by its kind, except values whose text appears in `program` (a key
/// or a literal the user wrote): `cannot index "secret" with "level"` under
/// `.level` becomes `cannot index a string with "level"`.
pub(crate) fn values(message: &str, program: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(|c: char| may_start_value(c)) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        // A value starts only after a space or an opening: digits inside a word are not one.
        let after_boundary = out.is_empty() || out.ends_with([' ', '(', '[', ',', ':']);
        match after_boundary.then(|| leading_value(from)).flatten() {
            Some((value, len)) => {
                let text = &from[..len];
                if is_the_programs(&value, text, program) {
                    out.push_str(text);
                } else {
                    out.push_str(json_kind(&value));
                }
                rest = &from[len..];
            }
            None => {
                let c = from.chars().next().map_or(1, char::len_utf8);
                out.push_str(&from[..c]);
                rest = &from[c..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A serde error without the value it quotes: `invalid type: string "4111",
/// expected i64` becomes `invalid type: string, expected i64` (serde quotes
/// strings in `"…"` and other values in `` `…` ``; field names stay).
pub(crate) fn serde_error(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(" \"").into_iter().chain(rest.find(" `")).min() {
        out.push_str(&rest[..start]);
        let quoted = &rest[start + 1..];
        let len = if quoted.starts_with('"') {
            leading_value(quoted).map(|(_, len)| len)
        } else {
            quoted[1..].find('`').map(|end| end + 2)
        };
        match len {
            // Field names are the reader's own words, not the record's values.
            Some(len) if quoted.starts_with('`') && out.ends_with("field") => {
                out.push(' ');
                out.push_str(&quoted[..len]);
                rest = &quoted[len..];
            }
            Some(len) => rest = &quoted[len..],
            None => {
                out.push(' ');
                rest = quoted;
                // An unclosed quote: what follows may be the value; drop it.
                if let Some(c) = rest.chars().next() {
                    out.push(c);
                    rest = "";
                }
            }
        }
    }
    out.push_str(rest);
    out
}

fn may_start_value(c: char) -> bool {
    matches!(c, '"' | '{' | '[' | '-' | '0'..='9' | 't' | 'f' | 'n')
}

/// The JSON value at the start of `text`, and how many bytes it takes.
fn leading_value(text: &str) -> Option<(Value, usize)> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let value = values.next()?.ok()?;
    let len = values.byte_offset();
    // `true`/`false`/`null` only as whole words, never the start of `nothing`.
    let word_goes_on = text[len..]
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    (!word_goes_on).then_some((value, len))
}

/// Whether a quoted value is the program's own text rather than the record's.
fn is_the_programs(value: &Value, text: &str, program: &str) -> bool {
    match value {
        // Kinds say everything about these.
        Value::Null | Value::Bool(_) => true,
        Value::String(s) => !s.is_empty() && program.contains(s.as_str()),
        _ => program.contains(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_values_become_kinds_and_the_program_s_text_stays() {
        let cases = [
            (
                r#"cannot index [{"a":"secret"}] with "level""#,
                r#"cannot index an array with "level""#,
            ),
            (
                r#"cannot index "secret" with "level""#,
                r#"cannot index a string with "level""#,
            ),
            (
                r#"cannot use {"card":"4111"} as number"#,
                "cannot use an object as number",
            ),
            (
                r#"cannot calculate "x" - 1234567"#,
                "cannot calculate a string - a number",
            ),
            ("cannot use null as object", "cannot use null as object"),
            (r#""secret message""#, "a string"),
            (r#""bad level""#, r#""bad level""#),
        ];
        for (message, redacted) in cases {
            assert_eq!(
                values(message, r#".level | error("bad level")"#),
                redacted,
                "{message}"
            );
        }
    }

    #[test]
    fn serde_errors_lose_their_values() {
        let cases = [
            (
                r#"invalid type: string "4111", expected i64 at line 1 column 9"#,
                "invalid type: string, expected i64 at line 1 column 9",
            ),
            (
                "invalid value: integer `-5`, expected u64",
                "invalid value: integer, expected u64",
            ),
            ("missing field `logEvents`", "missing field `logEvents`"),
            (r#"unclosed "quote and secret"#, r#"unclosed ""#),
        ];
        for (message, redacted) in cases {
            assert_eq!(serde_error(message), redacted, "{message}");
        }
    }

    #[test]
    fn words_and_broken_values_pass_through() {
        let message = "nothing found for tag5 or nullable: {unclosed";
        assert_eq!(values(message, ""), message);
        assert_eq!(values("é \"ü\" ß", ""), "é a string ß");
    }
}
