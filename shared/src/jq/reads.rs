//! Which of a record's top-level keys a jq program can see, so that only
//! those are converted to jaq's values: a filter such as `.level == "DEBUG"`
//! then costs one key, not the whole record.
//!
//! The reading is conservative. A program reads named keys only when every
//! use of the record itself (the program's input, `.`) is a path starting
//! with a literal key (`.level`, `."a b"`, `.http.status`) and nothing it
//! outputs can be the record itself. Anything else (a bare `.`, `.[]`, `..`,
//! a call such as `keys` or `has("a")` on the record, definitions, updates,
//! `reduce`) reads the whole record. What follows `|` after such a path runs
//! on that key's value, which is converted whole, so it may do anything.

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Pattern, Term};
use jaq_core::path::Part;

/// What of the record a program reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reads {
    /// The whole record.
    Whole,
    /// Only these top-level keys of an object record (any other record whole).
    Keys(Vec<String>),
}

/// Calls that do not read their input, and so may stand where the record is the input.
const IGNORE_INPUT: [&str; 6] = ["true", "false", "null", "empty", "now", "env"];

/// What `code`, a program that compiles, reads of the record.
pub fn reads(code: &str) -> Reads {
    let Some(term) = jaq_core::load::parse(code, |p| p.term()) else {
        return Reads::Whole;
    };
    let mut keys = Vec::new();
    if on_record(&term, &mut keys) {
        keys.sort();
        keys.dedup();
        Reads::Keys(keys)
    } else {
        Reads::Whole
    }
}

/// Whether `term`, run with the record as its input, reads only named keys
/// of it (added to `keys`) and never outputs the record itself.
fn on_record(term: &Term<&str>, keys: &mut Vec<String>) -> bool {
    match term {
        Term::Num(_) | Term::Var(_) | Term::Arr(None) => true,
        Term::Str(_, parts) => parts.iter().all(|part| match part {
            StrPart::Term(t) => on_record(t, keys),
            StrPart::Str(_) | StrPart::Char(_) => true,
        }),
        Term::Arr(Some(t)) | Term::Neg(t) => on_record(t, keys),
        Term::Obj(entries) => entries.iter().all(|(key, value)| match value {
            Some(value) => on_record(key, keys) && on_record(value, keys),
            // `{a}` is `{a: .a}`, `{$x}` is `{x: $x}`.
            None => match (literal(key), key) {
                (Some(name), _) => {
                    keys.push(name);
                    true
                }
                (None, Term::Var(_)) => true,
                _ => false,
            },
        }),
        Term::Call(name, args) => args.is_empty() && IGNORE_INPUT.contains(name),
        Term::IfThenElse(branches, otherwise) => {
            branches
                .iter()
                .all(|(cond, then)| on_record(cond, keys) && on_record(then, keys))
                // Without `else`, a false condition outputs the record.
                && otherwise.as_deref().is_some_and(|t| on_record(t, keys))
        }
        // The handler's input is the error, not the record.
        Term::TryCatch(body, _) => on_record(body, keys),
        Term::BinOp(left, op, right) => match op {
            // The right side runs on the left side's outputs, none of them the record.
            BinaryOp::Pipe(None) => on_record(left, keys),
            BinaryOp::Pipe(Some(Pattern::Var(_)))
            | BinaryOp::Comma
            | BinaryOp::Alt
            | BinaryOp::Or
            | BinaryOp::And
            | BinaryOp::Math(_)
            | BinaryOp::Cmp(_) => on_record(left, keys) && on_record(right, keys),
            // Updates output the record; destructuring patterns may index it.
            _ => false,
        },
        Term::Path(base, path) => {
            let mut parts = path.0.iter();
            if matches!(**base, Term::Id) {
                // The record's own key, named literally, comes first.
                match parts.next() {
                    Some((Part::Index(key), _)) => match literal(key) {
                        Some(name) => keys.push(name),
                        None => return false,
                    },
                    _ => return false,
                }
            } else if !on_record(base, keys) {
                return false;
            }
            // Index expressions run on the record too (`.a[.i]`).
            parts.all(|(part, _)| match part {
                Part::Index(t) => on_record(t, keys),
                Part::Range(from, to) => {
                    [from, to].into_iter().flatten().all(|t| on_record(t, keys))
                }
            })
        }
        Term::Id
        | Term::Recurse
        | Term::Label(..)
        | Term::Break(_)
        | Term::Fold(..)
        | Term::Def(..) => false,
    }
}

/// The text of a plain string literal (`"a b"`, `"\u0041"`), else `None`.
fn literal(term: &Term<&str>) -> Option<String> {
    let Term::Str(None, parts) = term else {
        return None;
    };
    let mut text = String::new();
    for part in parts {
        match part {
            StrPart::Str(s) => text.push_str(s),
            StrPart::Char(c) => text.push(*c),
            StrPart::Term(_) => return None,
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[&str]) -> Reads {
        Reads::Keys(names.iter().map(|n| n.to_string()).collect())
    }

    #[test]
    fn paths_from_literal_keys_read_those_keys() {
        for (code, read) in [
            (r#".level == "DEBUG""#, keys(&["level"])),
            (r#".path | startswith("/health")"#, keys(&["path"])),
            (".b.c? // .a[0] + 1", keys(&["a", "b"])),
            (r#"."a b", .["c"], ."\u0041""#, keys(&["A", "a b", "c"])),
            (".a[.i:.j]", keys(&["a", "i", "j"])),
            (r#"{k: .a, "\(.b)": 1, c}"#, keys(&["a", "b", "c"])),
            (
                r#"if .a then .b elif .c then 1 else null end"#,
                keys(&["a", "b", "c"]),
            ),
            (".a as $x | .b + $x", keys(&["a", "b"])),
            // `|` binds loosest: `.x` reads the tags.
            (
                ".tags | map(. + 1) | length > 2 and (.x | not)",
                keys(&["tags"]),
            ),
            ("try .a.b catch .", keys(&["a"])),
            ("true, false, null, empty, $__loc__, 1, -.n", keys(&["n"])),
        ] {
            assert_eq!(reads(code), read, "{code}");
        }
    }

    #[test]
    fn anything_that_may_see_or_output_the_record_reads_it_whole() {
        for code in [
            ".",
            ".[]",
            ".[0]",
            "..",
            "keys",
            r#"has("a")"#,
            "select(.a)",
            "(.a | not), length",
            "if .a then 1 end",
            ".a |= 1",
            ".a = 1",
            "def f: .; f",
            "reduce .a[] as $x (0; . + $x)",
            ". as {a: $x} | $x",
            r#".a as [$x] | $x"#,
            "label $out | .a",
            ".[.k]",
            r#".@base64 "x""#,
            "{$__loc__, .}",
            "error",
            "tostring",
        ] {
            assert_eq!(reads(code), Reads::Whole, "{code}");
        }
    }
}
