//! jq programs, compiled once at start-up with jaq and run on a record's parsed JSON.
//!
//! The record is already a `serde_json::Value` (parsed once for the whole chain),
//! so it is converted to jaq's value type rather than parsed again, and only the
//! top-level keys the program reads ([`reads`]). Numbers keep their exact text:
//! integers become jaq integers, anything else a jaq decimal.

mod reads;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::{Num, Rc, Val};
use serde_json::Value;

use crate::pipeline::transform::TransformError;
use crate::redact;
use crate::settings::Parse;
use reads::Reads;

type Data = data::JustLut<Val>;

/// The settings parser for a jq program: it compiles at start-up.
pub struct JqProgram;

impl Parse for JqProgram {
    type Value = Jq;
    fn parse(&self, raw: &str) -> Result<Jq, String> {
        Jq::compile(raw)
    }
    fn expects(&self) -> String {
        "a jq expression".to_owned()
    }
}

/// A compiled jq program.
pub struct Jq {
    filter: jaq_core::Filter<Data>,
    /// The program's text: what its messages may quote without quoting the record.
    code: String,
    /// What of the record it reads, and so is converted.
    reads: Reads,
}

/// What goes wrong when a jq program runs on one record. It shows jq's
/// message with the record's values as their kinds; the full message is kept
/// for `FIREHOSE_LOG_RECORD_VALUES`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("jq: {redacted}")]
pub struct JqError {
    redacted: String,
    full: String,
}

impl From<JqError> for TransformError {
    fn from(e: JqError) -> Self {
        TransformError::quoting(e.to_string(), format!("jq: {}", e.full))
    }
}

impl Jq {
    /// Compiles a program with jq's standard library; the error quotes the compiler.
    pub fn compile(code: &str) -> Result<Jq, String> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(&arena, File { code, path: () })
            .map_err(|errors| describe_load_errors(code, errors))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| describe_compile_errors(code, errors))?;
        Ok(Jq {
            filter,
            code: code.to_owned(),
            reads: reads::reads(code),
        })
    }

    /// Runs the program on `input`, giving its outputs one by one, lazily.
    pub fn run(&self, input: &Value) -> impl Iterator<Item = Result<Val, JqError>> + '_ {
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new([]));
        self.filter
            .id
            .run((ctx, self.input(input)))
            .map(unwrap_valr)
            .map(|output| {
                output.map_err(|e| {
                    let full = e.to_string();
                    JqError {
                        redacted: redact::values(&full, &self.code),
                        full,
                    }
                })
            })
    }

    /// The record as jaq's value: an object with only the keys the program
    /// reads, in the record's order, when it reads named keys only.
    fn input(&self, record: &Value) -> Val {
        match (&self.reads, record) {
            (Reads::Keys(keys), Value::Object(map)) => Val::obj(
                map.iter()
                    .filter(|(k, _)| keys.binary_search(k).is_ok())
                    .map(|(k, v)| (Val::utf8_str(k.clone().into_bytes()), to_jaq(v)))
                    .collect(),
            ),
            _ => to_jaq(record),
        }
    }

    /// Whether any output is true (anything but `false` and `null`), as in
    /// jq's `select`. Stops at the first true output; no output is false.
    pub fn any_true(&self, input: &Value) -> Result<bool, JqError> {
        for output in self.run(input) {
            if truthy(&output?) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn truthy(value: &Val) -> bool {
    !matches!(value, Val::Null | Val::Bool(false))
}

/// Converts a parsed record to jaq's value, numbers exactly.
fn to_jaq(value: &Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => Val::Num(to_jaq_number(n)),
        Value::String(s) => Val::utf8_str(s.clone().into_bytes()),
        Value::Array(items) => Val::Arr(Rc::new(items.iter().map(to_jaq).collect())),
        Value::Object(map) => Val::obj(
            map.iter()
                .map(|(k, v)| (Val::utf8_str(k.clone().into_bytes()), to_jaq(v)))
                .collect(),
        ),
    }
}

fn to_jaq_number(n: &serde_json::Number) -> Num {
    let text = n.as_str();
    Num::from_str_radix(text, 10).unwrap_or_else(|| Num::Dec(Rc::new(text.to_owned())))
}

/// A string or number as text (numbers as jq prints them), for partition keys.
pub fn scalar_text(value: &Val) -> Option<String> {
    match value {
        Val::TStr(s) => Some(String::from_utf8_lossy(s).into_owned()),
        Val::Num(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The jq type of a value, in words, for failure reasons.
pub fn kind(value: &Val) -> &'static str {
    match value {
        Val::Null => "null",
        Val::Bool(_) => "a boolean",
        Val::Num(_) => "a number",
        Val::TStr(_) | Val::BStr(_) => "a string",
        Val::Arr(_) => "an array",
        Val::Obj(_) => "an object",
    }
}

fn describe_load_errors(code: &str, errors: jaq_core::load::Errors<&str, ()>) -> String {
    use jaq_core::load::Error;
    let mut messages = Vec::new();
    for (_, error) in errors {
        match error {
            Error::Io(errs) => {
                for (path, e) in errs {
                    messages.push(format!("cannot load module {path}: {e}"));
                }
            }
            Error::Lex(errs) => messages.extend(
                errs.into_iter()
                    .map(|(expected, found)| mismatch(code, expected.as_str(), found)),
            ),
            Error::Parse(errs) => messages.extend(
                errs.into_iter()
                    .map(|(expected, found)| mismatch(code, expected.as_str(), found)),
            ),
        }
    }
    messages.join("; ")
}

fn describe_compile_errors(code: &str, errors: jaq_core::compile::Errors<&str, ()>) -> String {
    let mut messages = Vec::new();
    for (_, errs) in errors {
        for (name, undefined) in errs {
            messages.push(format!(
                "undefined {} `{name}`{}",
                undefined.as_str(),
                column(code, name).map_or(String::new(), |c| format!(" at column {c}"))
            ));
        }
    }
    messages.join("; ")
}

/// What the lexer or parser expected, and what it found instead.
fn mismatch(code: &str, expected: &str, found: &str) -> String {
    format!("expected {expected}, found {}", found_at(code, found))
}

/// `"x" at column 3`, or `end of input`, for what the lexer or parser stopped at.
fn found_at(code: &str, found: &str) -> String {
    let token: String = found.chars().take(12).collect();
    match (token.is_empty(), column(code, found)) {
        (true, _) => "end of input".to_owned(),
        (false, Some(c)) => format!("`{token}` at column {c}"),
        (false, None) => format!("`{token}`"),
    }
}

/// The 1-based column of `part` inside `code`, when it is a slice of it.
fn column(code: &str, part: &str) -> Option<usize> {
    let offset = (part.as_ptr() as usize).checked_sub(code.as_ptr() as usize)?;
    let before = code.get(..offset)?;
    Some(before.chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outputs(code: &str, input: Value) -> Vec<String> {
        Jq::compile(code)
            .unwrap()
            .run(&input)
            .map(|v| v.unwrap().to_string())
            .collect()
    }

    #[test]
    fn runs_jq_with_its_standard_library() {
        assert_eq!(outputs(".a + 1", json!({"a": 41})), ["42"]);
        assert_eq!(
            outputs(r#".ts | strftime("%Y-%m")"#, json!({"ts": 1700000000})),
            [r#""2023-11""#]
        );
        assert_eq!(
            outputs(r#".m | test("^GET")"#, json!({"m": "GET /"})),
            ["true"]
        );
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        let input: Value =
            serde_json::from_str(r#"{"big": 123456789012345678901234567890, "f": 1.10}"#).unwrap();
        assert_eq!(
            outputs(".big, .f", input),
            ["123456789012345678901234567890", "1.10"]
        );
    }

    #[test]
    fn truth_follows_select() {
        let jq = Jq::compile(".level").unwrap();
        assert!(jq.any_true(&json!({"level": "x"})).unwrap());
        assert!(!jq.any_true(&json!({"level": null})).unwrap());
        assert!(!jq.any_true(&json!({})).unwrap());
        assert!(!Jq::compile("empty").unwrap().any_true(&json!(1)).unwrap());
        // Stops at the first true output, so an endless stream of them ends.
        assert!(
            Jq::compile("repeat(true)")
                .unwrap()
                .any_true(&json!(1))
                .unwrap()
        );
    }

    /// Converting only the keys a program reads changes nothing it outputs, errors included.
    #[test]
    fn a_program_that_reads_named_keys_gives_what_it_gives_on_the_whole_record() {
        let records = [
            json!({"level": "DEBUG", "a": [1, 2.50, "x"], "b": {"c": null}, "i": 1, "j": 3, "n": 7}),
            json!({"level": "INFO", "a": "text", "b": 5, "tags": ["t1", "t2", "t3"], "x": false}),
            json!({"A": 1, "a b": {"z": 1e300}, "c": "\u{fc}", "k": "a"}),
            json!({}),
            json!([1, 2]),
            json!("a string"),
            json!(null),
        ];
        let programs = [
            r#".level == "DEBUG""#,
            r#".level != "DEBUG" and (.a | type) == "array""#,
            ".b.c? // .a[0] + 1",
            ".b.c",
            r#"."a b", .["c"], ."\u0041""#,
            ".a[.i:.j], .a[.i]",
            r#"{k: .a, "\(.level)": 1, c}"#,
            "if .a then .b elif .c then 1 else null end",
            ".a as $x | .n + ($x | length)",
            ".tags | map(. + \"!\") | length > 2 and (.x | not)",
            "try .a.b catch .",
            "-.n, [.i, .j], .x // \"none\"",
        ];
        for code in programs {
            let jq = Jq::compile(code).unwrap();
            assert!(matches!(jq.reads, Reads::Keys(_)), "{code}");
            let whole = Jq {
                reads: Reads::Whole,
                ..Jq::compile(code).unwrap()
            };
            for record in &records {
                let run = |jq: &Jq| -> Vec<Result<String, JqError>> {
                    jq.run(record)
                        .take(20)
                        .map(|o| o.map(|v| v.to_string()))
                        .collect()
                };
                assert_eq!(run(&jq), run(&whole), "{code} on {record}");
            }
        }
    }

    #[test]
    fn runtime_errors_are_reported_not_panicked() {
        let err = Jq::compile(".a.b")
            .unwrap()
            .any_true(&json!({"a": 5}))
            .unwrap_err();
        assert!(err.to_string().starts_with("jq: cannot index"), "{err}");
    }

    #[test]
    fn messages_name_the_record_s_values_by_kind_unless_asked() {
        let err = Jq::compile(".card.number")
            .unwrap()
            .any_true(&json!({"card": "4111-1111"}))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"jq: cannot index a string with "number""#
        );
        let err = TransformError::from(err);
        assert_eq!(
            err.reason(false),
            r#"jq: cannot index a string with "number""#
        );
        assert_eq!(
            err.reason(true),
            r#"jq: cannot index "4111-1111" with "number""#
        );
    }

    #[test]
    fn compile_errors_say_what_and_where() {
        assert_eq!(
            Jq::compile(".a |").err().unwrap(),
            "expected term, found end of input"
        );
        assert_eq!(
            Jq::compile(".a | nosuch(1)").err().unwrap(),
            "undefined filter `nosuch` at column 6"
        );
        assert!(
            Jq::compile("(.a")
                .err()
                .unwrap()
                .contains("closing parenthesis")
        );
    }
}
