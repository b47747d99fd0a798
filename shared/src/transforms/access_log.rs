//! `access-log`: parses an Apache or nginx access-log line into a JSON object.
//!
//! The line format is an Apache `LogFormat` string (`%h %l %u %t "%r" %>s %b`),
//! or a name for a common one; nginx's default `combined` format is Apache's.
//! Unlike AWS's blueprint, hosts may be IPv6, a `-` byte count is `null`, the
//! time keeps its zone (written in UTC), and the request line is split into
//! method, path, query and protocol. A line that does not match the format is
//! `ProcessingFailed`, with the column where it stopped matching.

use std::borrow::Cow;
use std::collections::HashSet;

use jiff::Timestamp;

use crate::pipeline::record::Record;
use crate::pipeline::transform::{Transform, TransformError, Verdict};
use crate::settings::{Choice, Names, Parse, Setting, SettingError, SettingGroup, Settings};
use crate::text::snake_case;
use crate::transforms::line_output::{self, FieldValue, LineFields, LineOutput};
use crate::transforms::timestamp::{UtcForm, utc_text};

/// Apache's `common` format.
const COMMON: &str = r#"%h %l %u %t "%r" %>s %b"#;
/// Apache's `combined` format, also nginx's default.
const COMBINED: &str = r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#;

pub const FORMAT: Setting<FormatSetting> = Setting {
    name: "ACCESS_LOG_FORMAT",
    default: Some("auto"),
    doc: "The line format: `common`, `combined` (also nginx's default), `auto` (combined, else common), or an \
          Apache `LogFormat` string such as `%h %l %u %t \"%r\" %>s %b %D`.",
    parser: FormatSetting,
};

pub const OUTPUT: Setting<Choice> = Setting {
    name: "ACCESS_LOG_OUTPUT",
    default: Some("json"),
    doc: "`json`: one object per line. `csv`: one CSV row per line (RFC 4180 quoting), columns as \
          `ACCESS_LOG_CSV_COLUMNS` lists them.",
    parser: line_output::OUTPUT_CHOICE,
};

pub const CSV_COLUMNS: Setting<Names> = Setting {
    name: "ACCESS_LOG_CSV_COLUMNS",
    default: None,
    doc: "The CSV columns, in order: any field names, including fields later steps add. Unset: the format's \
          fields, in the order of the JSON output.",
    parser: Names,
};

/// The settings of `firehose-access-log`.
pub const SETTINGS: SettingGroup = SettingGroup {
    prefix: "ACCESS_LOG_",
    settings: &[&FORMAT, &OUTPUT, &CSV_COLUMNS],
};

/// One piece of a `LogFormat`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    Field(Field),
}

/// A `%` directive, and the JSON field it fills.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    /// Text, `-` read as `null`.
    Text(String),
    /// A whole number, `-` read as `null`.
    Number(String),
    /// `%t`: `[10/Oct/2000:13:55:36 -0700]`, written as UTC ISO 8601.
    Time,
    /// `%r`: the request line, also split into method, path, query and protocol.
    Request,
}

/// A compiled `LogFormat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    tokens: Vec<Token>,
    /// Whether two directives fill the same field (`%h` and `%{Host}i`): the later one wins.
    names_repeat: bool,
}

impl LogFormat {
    /// Compiles an Apache `LogFormat` string.
    pub fn compile(format: &str) -> Result<LogFormat, String> {
        let mut tokens = Vec::new();
        let mut literal = String::new();
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            // Modifiers: `%>s`, `%<s`, status conditions like `%400,501{User-agent}i`.
            while chars
                .peek()
                .is_some_and(|c| matches!(c, '<' | '>' | '!' | ',') || c.is_ascii_digit())
            {
                chars.next();
            }
            let mut argument = None;
            if chars.peek() == Some(&'{') {
                chars.next();
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                argument = Some(name);
            }
            let directive = chars.next().ok_or("the format ends in `%`")?;
            if directive == '%' {
                literal.push('%');
                continue;
            }
            if !literal.is_empty() {
                tokens.push(Token::Literal(std::mem::take(&mut literal)));
            }
            if matches!(tokens.last(), Some(Token::Field(_))) {
                return Err(format!(
                    "`%{directive}` follows another directive with nothing between them, so the line cannot be split"
                ));
            }
            tokens.push(Token::Field(field(directive, argument.as_deref())?));
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        let mut format = LogFormat {
            tokens,
            names_repeat: false,
        };
        let names = format.fields();
        format.names_repeat = names.iter().collect::<HashSet<_>>().len() < names.len();
        Ok(format)
    }

    /// The fields a parsed line has, in order.
    pub fn fields(&self) -> Vec<String> {
        let mut names = Vec::new();
        for token in &self.tokens {
            match token {
                Token::Literal(_) => {}
                Token::Field(Field::Text(name) | Field::Number(name)) => names.push(name.clone()),
                Token::Field(Field::Time) => names.push("time".to_owned()),
                Token::Field(Field::Request) => names
                    .extend(["method", "path", "query", "protocol", "request"].map(str::to_owned)),
            }
        }
        names
    }

    /// Parses one line into the fields of a JSON object.
    pub fn parse<'a>(&'a self, line: &'a str) -> Result<LineFields<'a>, String> {
        let mut object = LineFields::with_capacity(self.tokens.len() + 4, self.names_repeat);
        let mut rest = line;
        for (i, token) in self.tokens.iter().enumerate() {
            let column = line.len() - rest.len() + 1;
            match token {
                Token::Literal(literal) => {
                    rest = rest
                        .strip_prefix(literal.as_str())
                        .ok_or_else(|| format!("expected {literal:?} at column {column}"))?;
                }
                Token::Field(field) => {
                    let next = match self.tokens.get(i + 1) {
                        Some(Token::Literal(next)) => Some(next.as_str()),
                        _ => None,
                    };
                    let quoted = matches!(i.checked_sub(1).map(|p| &self.tokens[p]), Some(Token::Literal(l)) if l.ends_with('"'));
                    let end = field_end(rest, next, quoted, field == &Field::Time)
                        .ok_or_else(|| format!("the line ends early at column {column}"))?;
                    let (value, after) = rest.split_at(end);
                    fill(&mut object, field, value)
                        .map_err(|e| format!("{e} at column {column}"))?;
                    rest = after;
                }
            }
        }
        if rest.is_empty() {
            Ok(object)
        } else {
            let column = line.len() - rest.len() + 1;
            Err(format!("unexpected text at column {column}"))
        }
    }
}

/// Where a field's text ends: at its closing `]` for a time, else before the
/// next literal (outside `\"` escapes when quoted), else at the end of the line.
fn field_end(rest: &str, next: Option<&str>, quoted: bool, time: bool) -> Option<usize> {
    if time {
        return rest
            .starts_with('[')
            .then(|| rest.find(']').map(|i| i + 1))?;
    }
    let Some(next) = next else {
        return Some(rest.len());
    };
    let mut from = 0;
    loop {
        let at = from + rest.get(from..)?.find(next)?;
        // Escaped by an odd run of backslashes: `\"` is a quote, `\\"` a backslash then the end.
        let backslashes = rest[..at].bytes().rev().take_while(|b| *b == b'\\').count();
        let escaped = quoted && backslashes % 2 == 1;
        if !escaped {
            return Some(at);
        }
        from = at + 1;
    }
}

fn field(directive: char, argument: Option<&str>) -> Result<Field, String> {
    let text = |name: &str| Ok(Field::Text(name.to_owned()));
    let number = |name: &str| Ok(Field::Number(name.to_owned()));
    match (directive, argument) {
        ('h', _) => text("host"),
        ('a', _) => text("client_ip"),
        ('A', _) => text("server_ip"),
        ('l', _) => text("logname"),
        ('u', _) => text("user"),
        ('t', None) => Ok(Field::Time),
        ('r', _) => Ok(Field::Request),
        ('s', _) => number("status"),
        ('b' | 'B', _) => number("bytes"),
        ('D', _) => number("duration_us"),
        ('T', None) => number("duration_s"),
        ('I', _) => number("bytes_received"),
        ('O', _) => number("bytes_sent"),
        ('p', None) => number("port"),
        ('P', None) => number("pid"),
        ('k', _) => number("keepalive_requests"),
        ('v' | 'V', _) => text("server_name"),
        ('m', _) => text("method"),
        ('U', _) => text("path"),
        ('q', _) => text("query"),
        ('H', _) => text("protocol"),
        ('X', _) => text("connection_status"),
        ('L', _) => text("log_id"),
        ('R', _) => text("handler"),
        ('f', _) => text("filename"),
        ('i', Some(header)) => text(&header_name("", header)),
        ('o', Some(header)) => text(&header_name("response_", header)),
        ('C', Some(cookie)) => text(&header_name("cookie_", cookie)),
        ('e', Some(variable)) => text(&header_name("env_", variable)),
        ('n', Some(note)) => text(&header_name("note_", note)),
        (other, Some(argument)) => Err(format!("`%{{{argument}}}{other}` is not supported")),
        (other, None) => Err(format!("`%{other}` is not a LogFormat directive we read")),
    }
}

fn header_name(prefix: &str, header: &str) -> String {
    format!("{prefix}{}", snake_case(header))
}

fn fill<'a>(object: &mut LineFields<'a>, field: &'a Field, text: &'a str) -> Result<(), String> {
    match field {
        Field::Text(name) => {
            object.set(
                name.as_str(),
                dash_is_null(text, |t| Ok(FieldValue::Text(unescape(t))))?,
            );
        }
        Field::Number(name) => {
            let value = dash_is_null(text, |t| {
                t.parse::<u64>()
                    .map(FieldValue::Number)
                    .map_err(|_| format!("{name} {t:?} is not a whole number"))
            })?;
            object.set(name.as_str(), value);
        }
        Field::Time => {
            let at = utc_text(time(text)?, UtcForm::Iso);
            object.set("time", FieldValue::Text(at.into()));
        }
        Field::Request => request(object, text),
    }
    Ok(())
}

fn dash_is_null<'a>(
    text: &'a str,
    read: impl FnOnce(&'a str) -> Result<FieldValue<'a>, String>,
) -> Result<FieldValue<'a>, String> {
    if text == "-" {
        Ok(FieldValue::Null)
    } else {
        read(text)
    }
}

/// Apache writes `"` and `\` in quoted fields as `\"` and `\\`.
fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace("\\\"", "\"").replace("\\\\", "\\"))
}

/// `[10/Oct/2000:13:55:36 -0700]`.
fn time(text: &str) -> Result<Timestamp, String> {
    let inner = text.trim_start_matches('[').trim_end_matches(']');
    jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", inner)
        .and_then(|parsed| parsed.to_timestamp())
        .map_err(|_| format!("time {text:?} is not [dd/Mon/yyyy:HH:mm:ss +zzzz]"))
}

/// The request line, raw and split: `GET /a?b=1 HTTP/1.1`. A line that is not
/// a request (`-`, or the bytes of a TLS handshake sent to a plain port) keeps
/// only `request`, with the parts `null`.
fn request<'a>(object: &mut LineFields<'a>, text: &'a str) {
    match unescape(text) {
        Cow::Borrowed(raw) => split_request(object, raw, Cow::Borrowed),
        Cow::Owned(raw) => split_request(object, &raw, |part| Cow::Owned(part.to_owned())),
    }
}

/// Sets the request's fields from `raw`, its unescaped text; `keep` makes a
/// part of it a field's text (borrowed from the line while nothing was unescaped).
fn split_request<'a, 'r>(
    object: &mut LineFields<'a>,
    raw: &'r str,
    keep: impl Fn(&'r str) -> Cow<'a, str>,
) {
    let mut parts = raw.split(' ');
    let (method, target, protocol) = match (parts.next(), parts.next(), parts.next(), parts.next())
    {
        (Some(method), Some(target), Some(protocol), None) if protocol.starts_with("HTTP/") => {
            (Some(method), Some(target), Some(protocol))
        }
        (Some(method), Some(target), None, None) => (Some(method), Some(target), None),
        _ => (None, None, None),
    };
    let method = method.filter(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_uppercase()));
    let target = target.filter(|_| method.is_some());
    let (path, query) = match target.map(|t| t.split_once('?').unwrap_or((t, ""))) {
        Some((path, query)) => (Some(path), (!query.is_empty()).then_some(query)),
        None => (None, None),
    };
    let text_or_null = |t: Option<&'r str>| FieldValue::text_or_null(t.map(&keep));
    object.set("method", text_or_null(method));
    object.set("path", text_or_null(path));
    object.set("query", text_or_null(query));
    object.set(
        "protocol",
        text_or_null(protocol.filter(|_| method.is_some())),
    );
    let request = match raw {
        "-" => FieldValue::Null,
        raw => FieldValue::Text(keep(raw)),
    };
    object.set("request", request);
}

/// The `ACCESS_LOG_FORMAT` parser: a name or a `LogFormat`, compiled at start-up.
pub struct FormatSetting;

impl Parse for FormatSetting {
    type Value = Vec<LogFormat>;
    fn parse(&self, raw: &str) -> Result<Vec<LogFormat>, String> {
        let formats: &[&str] = match raw.trim() {
            "auto" => &[COMBINED, COMMON],
            "combined" | "nginx" => &[COMBINED],
            "common" => &[COMMON],
            custom if custom.contains('%') => &[custom],
            _ => return Err("not a format name, and no `%` directive in it".to_owned()),
        };
        formats.iter().map(|f| LogFormat::compile(f)).collect()
    }
    fn expects(&self) -> String {
        "`auto`, `common`, `combined`, `nginx` or an Apache `LogFormat` string".to_owned()
    }
}

/// Parses each record's line with the first format that matches.
pub struct AccessLog {
    formats: Vec<LogFormat>,
    output: LineOutput,
}

impl AccessLog {
    /// Tries each format in turn; the first that matches a line parses it.
    pub fn new(formats: Vec<LogFormat>, output: LineOutput) -> Self {
        AccessLog { formats, output }
    }

    /// Reads the `ACCESS_LOG_` settings.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingError> {
        let formats = settings.get(&FORMAT)?;
        let fields = formats.first().map(LogFormat::fields).unwrap_or_default();
        let output = LineOutput::from_settings(settings, &OUTPUT, &CSV_COLUMNS, fields)?;
        Ok(AccessLog::new(formats, output))
    }
}

impl Transform for AccessLog {
    fn name(&self) -> &str {
        "access-log"
    }

    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        let line = line_output::one_line(record.bytes(), "access-log line")?;
        let mut first_error = None;
        for format in &self.formats {
            match format.parse(&line) {
                Ok(fields) => {
                    let payload = self.output.write(fields);
                    payload.put(record);
                    return Ok(Verdict::Keep);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(format!(
            "does not match ACCESS_LOG_FORMAT: {}",
            first_error.unwrap_or_default()
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parse(format: &str, line: &str) -> Result<Value, String> {
        let formats = FormatSetting.parse(format)?;
        let step = AccessLog::new(formats, LineOutput::Json);
        let mut record = Record::detached(line);
        step.apply(&mut record).map_err(|e| e.to_string())?;
        Ok(record.json().map_err(|e| e.to_string())?.clone())
    }

    #[test]
    fn combined_lines_with_ipv6_dash_bytes_and_a_zone() {
        let got = parse(
            "auto",
            r#"2001:db8::1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a/b.html?x=1&y=2 HTTP/1.1" 304 - "https://example.com/" "Mozilla/5.0 (X11; \"quoted\")""#,
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"host":"2001:db8::1","logname":null,"user":"frank","time":"2000-10-10T20:55:36Z",
                "method":"GET","path":"/a/b.html","query":"x=1&y=2","protocol":"HTTP/1.1",
                "request":"GET /a/b.html?x=1&y=2 HTTP/1.1","status":304,"bytes":null,
                "referer":"https://example.com/","user_agent":"Mozilla/5.0 (X11; \"quoted\")"})
        );
    }

    #[test]
    fn escaped_quotes_and_backslashes_come_back_as_logged() {
        // Apache logs `a\"b\` as `a\\\"b\\`; the field ends at the quote after it.
        let got = parse(
            "%h %l %u %t \"%r\" %>s %b \"%{User-agent}i\"",
            r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "a\\\"b\\""#,
        )
        .unwrap();
        assert_eq!(got["user_agent"], r#"a\"b\"#);
    }

    #[test]
    fn common_lines_parse_under_auto() {
        let got = parse(
            "auto",
            r#"64.242.88.10 - - [07/Mar/2004:16:10:02 -0800] "GET /mailman/listinfo/hsdivision HTTP/1.1" 200 6291"#,
        )
        .unwrap();
        assert_eq!(got["time"], "2004-03-08T00:10:02Z");
        assert_eq!(got["bytes"], 6291);
        assert!(got.get("user_agent").is_none());
    }

    #[test]
    fn custom_formats_and_odd_requests() {
        let got = parse(
            r#"%a %{X-Forwarded-For}i %t "%r" %>s %B %D"#,
            r#"10.0.0.1 203.0.113.9 [01/May/2024:12:30:00 +0000] "\x16\x03\x01" 400 0 1234"#,
        )
        .unwrap();
        assert_eq!(got["x_forwarded_for"], "203.0.113.9");
        assert_eq!(got["method"], Value::Null);
        assert_eq!(got["request"], r"\x16\x03\x01");
        assert_eq!(got["duration_us"], 1234);
    }

    #[test]
    fn a_field_filled_twice_keeps_its_first_place_and_the_later_value() {
        let format = r#"%h %m "%{Host}i" "%r""#;
        let line = r#"10.0.0.1 PUT "example.com" "GET /a HTTP/1.1""#;
        let step = AccessLog::new(FormatSetting.parse(format).unwrap(), LineOutput::Json);
        let mut record = Record::detached(line);
        step.apply(&mut record).unwrap();
        assert_eq!(
            String::from_utf8_lossy(record.bytes()),
            r#"{"host":"example.com","method":"GET","path":"/a","query":null,"protocol":"HTTP/1.1","request":"GET /a HTTP/1.1"}"#
        );
    }

    #[test]
    fn lines_that_do_not_match_say_where() {
        let err = parse("common", "not a log line").unwrap_err();
        assert!(
            err.contains("does not match ACCESS_LOG_FORMAT: the line ends early"),
            "{err}"
        );
        let err = parse(
            "common",
            r#"h - - [07/Mar/2004:16:10:02 -0800] "GET / HTTP/1.1" 2x0 1"#,
        )
        .unwrap_err();
        assert!(
            err.contains(r#"status "2x0" is not a whole number"#),
            "{err}"
        );
        let err = parse("common", r#"h - - [yesterday] "GET / HTTP/1.1" 200 1"#).unwrap_err();
        assert!(err.contains("time"), "{err}");
        assert!(
            parse("common", "a\nb")
                .unwrap_err()
                .contains("several lines")
        );
    }

    #[test]
    fn fields_follow_the_format() {
        let formats = FormatSetting.parse("common").unwrap();
        assert_eq!(
            formats[0].fields(),
            [
                "host", "logname", "user", "time", "method", "path", "query", "protocol",
                "request", "status", "bytes"
            ]
        );
    }

    #[test]
    fn bad_formats_stop_at_start_up() {
        assert!(FormatSetting.parse("apache").is_err());
        assert!(
            FormatSetting
                .parse("%h%u")
                .unwrap_err()
                .contains("nothing between")
        );
        assert!(FormatSetting.parse("%h %Z").unwrap_err().contains("%Z"));
        assert!(FormatSetting.parse("%h %{%d}t").is_err());
    }
}
