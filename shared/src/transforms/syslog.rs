//! `syslog`: parses a syslog line, RFC 3164 or RFC 5424, into a JSON object.
//!
//! Parsing is `syslog_loose`'s (Vector's parser), in its exact mode: a line
//! with no recognisable timestamp fails. What AWS's blueprint lacks is added
//! here: RFC 5424 with structured data, facility and severity decoded from the
//! priority, and RFC 3164 times (which carry neither year nor zone) placed in
//! the year and zone the settings give.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use jiff::civil::{Date, DateTime as CivilDateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde_json::{Map, Value};
use syslog_loose::{Message, ProcId, Protocol, Variant};

use crate::pipeline::record::Record;
use crate::pipeline::transform::{Transform, TransformError, Verdict};
use crate::settings::{Choice, Names, Parse, Setting, SettingError, SettingGroup, Settings};
use crate::text::snake_case;
use crate::transforms::line_output::{self, FieldValue, LineFields, LineOutput};
use crate::transforms::timestamp::{UtcForm, utc_text};

pub const YEAR: Setting<YearSetting> = Setting {
    name: "SYSLOG_YEAR",
    default: Some("arrival"),
    doc: "The year of RFC 3164 times, which have none: `arrival` (the year Firehose received the record; a date \
          more than a day after the arrival is from the year before, as December lines arriving in January \
          are) or a year such as `2024`.",
    parser: YearSetting,
};

pub const TIMEZONE: Setting<ZoneSetting> = Setting {
    name: "SYSLOG_TIMEZONE",
    default: Some("UTC"),
    doc: "The zone of RFC 3164 times, which have none: an IANA name (`Europe/London`, daylight saving applied) \
          or a fixed offset (`+02:00`). Times with an offset (RFC 5424, RFC 3339) keep their own.",
    parser: ZoneSetting,
};

pub const STRUCTURED_DATA: Setting<Choice> = Setting {
    name: "SYSLOG_STRUCTURED_DATA",
    default: Some("nested"),
    doc: "RFC 5424 structured data: `nested` (`structured_data: {\"id@123\": {\"name\": \"value\"}}`) or \
          `flat` (top-level fields named `sd_<id>_<name>` in snake case, which Glue columns can match).",
    parser: Choice(&["nested", "flat"]),
};

pub const OUTPUT: Setting<Choice> = Setting {
    name: "SYSLOG_OUTPUT",
    default: Some("json"),
    doc: "`json`: one object per line. `csv`: one CSV row per line (RFC 4180 quoting), columns as \
          `SYSLOG_CSV_COLUMNS` lists them.",
    parser: line_output::OUTPUT_CHOICE,
};

pub const CSV_COLUMNS: Setting<Names> = Setting {
    name: "SYSLOG_CSV_COLUMNS",
    default: None,
    doc: "The CSV columns, in order: any field names, including `sd_…` fields and fields later steps add. \
          Unset: the fields of the JSON output, in its order (structured data as JSON text).",
    parser: Names,
};

/// The fields of the JSON output, in order; `structured_data` only when nested.
const FIELDS: [&str; 11] = [
    "format",
    "priority",
    "facility",
    "severity",
    "timestamp",
    "hostname",
    "appname",
    "procid",
    "msgid",
    "structured_data",
    "message",
];

/// The settings of `firehose-syslog`.
pub const SETTINGS: SettingGroup = SettingGroup {
    prefix: "SYSLOG_",
    settings: &[&YEAR, &TIMEZONE, &STRUCTURED_DATA, &OUTPUT, &CSV_COLUMNS],
};

/// Where RFC 3164 times get their year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Year {
    /// The year of the record's arrival, or the one before for a date after it.
    Arrival,
    Fixed(i16),
}

/// Parses each record's syslog line.
pub struct Syslog {
    year: Year,
    zone: TimeZone,
    flat_structured_data: bool,
    output: LineOutput,
}

impl Syslog {
    /// A parser placing RFC 3164 times in `year` and `zone`.
    pub fn new(year: Year, zone: TimeZone, flat_structured_data: bool, output: LineOutput) -> Self {
        Syslog {
            year,
            zone,
            flat_structured_data,
            output,
        }
    }

    /// Reads the `SYSLOG_` settings.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingError> {
        let flat = settings.get(&STRUCTURED_DATA)? == "flat";
        let fields = FIELDS
            .iter()
            .filter(|f| !(flat && **f == "structured_data"))
            .map(|f| f.to_string())
            .collect();
        let output = LineOutput::from_settings(settings, &OUTPUT, &CSV_COLUMNS, fields)?;
        Ok(Syslog::new(
            settings.get(&YEAR)?,
            settings.get(&TIMEZONE)?,
            flat,
            output,
        ))
    }

    /// Parses one line; `arrival` is when Firehose received it.
    pub fn parse<'l>(&self, line: &'l str, arrival: Timestamp) -> Result<LineFields<'l>, String> {
        let arrival_date = arrival.to_zoned(self.zone.clone()).date();
        let year = self.year;
        let year_of = move |(month, day, ..): syslog_loose::IncompleteDate| -> i32 {
            match year {
                Year::Fixed(year) => i32::from(year),
                Year::Arrival => year_before_arrival(arrival_date, month, day),
            }
        };
        // Times without a zone are read as UTC wall-clock times, then placed in the configured zone.
        let utc = FixedOffset::east_opt(0);
        let message = syslog_loose::parse_message_with_year_exact_tz(
            line,
            year_of,
            utc,
            Variant::Either,
        )
        .map_err(|_| {
            "not a syslog line (RFC 3164 or RFC 5424): its priority or timestamp could not be read"
                .to_owned()
        })?;
        let timestamp = match message.timestamp {
            Some(at) if has_no_zone(line, &message.protocol) => Some(self.in_zone(at)?),
            Some(at) => Some(
                Timestamp::new(at.timestamp(), at.timestamp_subsec_nanos() as i32)
                    .map_err(|e| format!("timestamp out of range: {e}"))?,
            ),
            None => None,
        };
        Ok(self.object(line, message, timestamp))
    }

    /// A wall-clock time read as UTC, placed in the configured zone instead.
    fn in_zone(&self, at: DateTime<FixedOffset>) -> Result<Timestamp, String> {
        let wall = at.naive_local();
        let civil = CivilDateTime::new(
            i16::try_from(wall.year()).map_err(|_| "year out of range")?,
            wall.month() as i8,
            wall.day() as i8,
            wall.hour() as i8,
            wall.minute() as i8,
            wall.second() as i8,
            wall.nanosecond().min(999_999_999) as i32,
        )
        .map_err(|e| format!("invalid time: {e}"))?;
        // A time repeated when clocks go back reads as the earlier one; a time
        // skipped when they go forward, as if the clocks had not changed yet.
        self.zone
            .to_ambiguous_timestamp(civil)
            .compatible()
            .map_err(|e| {
                format!(
                    "time not in {}: {e}",
                    self.zone.iana_name().unwrap_or("the zone")
                )
            })
    }

    fn object<'l>(
        &self,
        line: &'l str,
        message: Message<&'l str>,
        timestamp: Option<Timestamp>,
    ) -> LineFields<'l> {
        // The names below differ, and flat structured data's all start `sd_`.
        let mut object = LineFields::with_capacity(FIELDS.len(), false);
        let format = match message.protocol {
            Protocol::RFC3164 => "rfc3164",
            Protocol::RFC5424(_) => "rfc5424",
        };
        object.set("format", FieldValue::Text(format.into()));
        object.set(
            "priority",
            priority(line).map_or(FieldValue::Null, |p| FieldValue::Number(p.into())),
        );
        object.set(
            "facility",
            FieldValue::text_or_null(message.facility.map(|f| f.as_str())),
        );
        object.set(
            "severity",
            FieldValue::text_or_null(message.severity.map(|s| s.as_str())),
        );
        object.set(
            "timestamp",
            FieldValue::text_or_null(timestamp.map(|t| utc_text(t, UtcForm::Iso))),
        );
        object.set("hostname", FieldValue::text_or_null(message.hostname));
        object.set("appname", FieldValue::text_or_null(message.appname));
        let procid = message.procid.map(|p| match p {
            ProcId::PID(pid) => Cow::Owned(pid.to_string()),
            ProcId::Name(name) => Cow::Borrowed(name),
        });
        object.set("procid", FieldValue::text_or_null(procid));
        object.set("msgid", FieldValue::text_or_null(message.msgid));
        if self.flat_structured_data {
            let mut flat = Map::new();
            for element in &message.structured_data {
                for (name, value) in &element.params {
                    let key = snake_case(&format!("sd_{}_{name}", element.id));
                    add_param(&mut flat, key, value);
                }
            }
            for (key, value) in flat {
                object.set(key, FieldValue::Json(value));
            }
        } else {
            let mut data = Map::new();
            for element in &message.structured_data {
                let Value::Object(params) = data
                    .entry(element.id.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()))
                else {
                    continue;
                };
                for (name, value) in &element.params {
                    add_param(params, (*name).to_owned(), value);
                }
            }
            object.set("structured_data", FieldValue::Json(Value::Object(data)));
        }
        // RFC 5424 marks a UTF-8 message with a byte-order mark, which is not part of it.
        let message = message.msg.strip_prefix('\u{feff}').unwrap_or(message.msg);
        object.set("message", FieldValue::Text(message.into()));
        object
    }
}

/// Adds a structured-data parameter; a name given twice (RFC 5424 allows it) keeps every value, in an array.
fn add_param(object: &mut Map<String, Value>, name: String, value: &str) {
    let value = unescape_param(value);
    let value = value.as_str();
    match object.get_mut(&name) {
        Some(Value::Array(values)) => values.push(Value::from(value)),
        Some(first) => *first = Value::Array(vec![first.take(), Value::from(value)]),
        None => {
            object.insert(name, Value::from(value));
        }
    }
}

/// RFC 5424 writes `"`, `\` and `]` in a parameter value as `\"`, `\\` and `\]`;
/// a backslash before anything else is kept.
fn unescape_param(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(&next @ ('"' | '\\' | ']'))) => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// The line split after its `<PRI>` part: the part's digits, if there is one, and the rest.
fn split_priority(line: &str) -> (Option<&str>, &str) {
    let line = line.trim_start();
    match line.strip_prefix('<').and_then(|r| r.split_once('>')) {
        Some((digits, rest)) => (Some(digits), rest),
        None => (None, line),
    }
}

/// The `<PRI>` number at the start of the line, if there is one.
fn priority(line: &str) -> Option<u8> {
    split_priority(line).0?.parse().ok().filter(|p| *p <= 191)
}

/// Whether the line's time is an RFC 3164 one (`Oct 11 22:14:15`, no zone),
/// rather than an RFC 3339 time with an offset.
fn has_no_zone(line: &str, protocol: &Protocol) -> bool {
    !matches!(protocol, Protocol::RFC5424(_))
        && split_priority(line)
            .1
            .trim_start()
            .starts_with(|c: char| c.is_ascii_alphabetic())
}

/// The year a `month`/`day` without one most likely fell in: the arrival's
/// year, or the year before when the date would be more than a day ahead of it.
fn year_before_arrival(arrival: Date, month: u32, day: u32) -> i32 {
    let year = arrival.year();
    let (Ok(month), Ok(day)) = (i8::try_from(month), i8::try_from(day)) else {
        return i32::from(year);
    };
    let tomorrow = arrival.checked_add(1.day()).unwrap_or(arrival);
    match Date::new(year, month, day) {
        Ok(date) if date <= tomorrow => i32::from(year),
        // Ahead of the arrival, or 29 February in a year without one: the year before.
        _ => i32::from(year) - 1,
    }
}

impl Transform for Syslog {
    fn name(&self) -> &str {
        "syslog"
    }

    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        let arrival = record
            .arrival_millis()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .unwrap_or_else(Timestamp::now);
        let line = line_output::one_line(record.bytes(), "syslog line")?;
        let payload = self.output.write(self.parse(&line, arrival)?);
        payload.put(record);
        Ok(Verdict::Keep)
    }
}

/// The `SYSLOG_YEAR` parser.
pub struct YearSetting;

impl Parse for YearSetting {
    type Value = Year;
    fn parse(&self, raw: &str) -> Result<Year, String> {
        match raw.trim() {
            "arrival" => Ok(Year::Arrival),
            year => year
                .parse::<i16>()
                .ok()
                .filter(|y| (1970..=9999).contains(y))
                .map(Year::Fixed)
                .ok_or_else(|| "not `arrival` or a year from 1970 to 9999".to_owned()),
        }
    }
    fn expects(&self) -> String {
        "`arrival` or a year such as `2024`".to_owned()
    }
}

/// The `SYSLOG_TIMEZONE` parser: an IANA name from the bundled database, or an offset.
pub struct ZoneSetting;

impl Parse for ZoneSetting {
    type Value = TimeZone;
    fn parse(&self, raw: &str) -> Result<TimeZone, String> {
        let raw = raw.trim();
        if raw.starts_with(['+', '-']) {
            let offset: jiff::tz::Offset = jiff::fmt::temporal::DateTimeParser::new()
                .parse_time_zone(raw)
                .ok()
                .and_then(|tz| tz.to_fixed_offset().ok())
                // Real zones span -12:00 to +14:00.
                .filter(|o| o.seconds().abs() <= 14 * 3600)
                .ok_or_else(|| {
                    "not an offset from -14:00 to +14:00, such as `+02:00`".to_owned()
                })?;
            return Ok(TimeZone::fixed(offset));
        }
        TimeZone::get(raw).map_err(|_| "not a time zone name we know".to_owned())
    }
    fn expects(&self) -> String {
        "an IANA time zone name such as `Europe/London`, or an offset such as `+02:00`".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(syslog: &Syslog, line: &str) -> Result<Value, String> {
        let arrival: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
        syslog
            .parse(line, arrival)
            .map(|fields| Value::Object(fields.into_map()))
    }

    fn utc() -> Syslog {
        Syslog::new(Year::Arrival, TimeZone::UTC, false, LineOutput::Json)
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let line = r#"<165>1 2003-10-11T22:14:15.003-07:00 mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] BOMAn application event log entry"#
            .replace("BOM", "\u{feff}");
        let got = parse(&utc(), &line).unwrap();
        assert_eq!(
            got,
            json!({"format": "rfc5424", "priority": 165, "facility": "local4", "severity": "notice",
                "timestamp": "2003-10-12T05:14:15.003Z", "hostname": "mymachine.example.com", "appname": "evntslog",
                "procid": null, "msgid": "ID47",
                "structured_data": {"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
                                    "examplePriority@32473": {"class": "high"}},
                "message": "An application event log entry"})
        );
        let flat = Syslog::new(Year::Arrival, TimeZone::UTC, true, LineOutput::Json);
        let got = parse(&flat, &line).unwrap();
        assert_eq!(got["sd_examplesdid_32473_eventsource"], "Application");
        assert!(got.get("structured_data").is_none());
    }

    #[test]
    fn rfc3164_with_and_without_priority_in_the_configured_zone() {
        let london = Syslog::new(
            Year::Arrival,
            TimeZone::get("Europe/London").unwrap(),
            false,
            LineOutput::Json,
        );
        let got = parse(
            &london,
            "<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8",
        )
        .unwrap();
        // October 2023: the arrival is in May 2024, so October is last year's; BST is UTC+1.
        assert_eq!(got["timestamp"], "2023-10-11T21:14:15Z");
        assert_eq!(
            (got["facility"].clone(), got["severity"].clone()),
            (json!("auth"), json!("crit"))
        );
        assert_eq!(got["appname"], "su");
        assert_eq!(got["procid"], "123");
        let got = parse(&london, "Jan  2 03:04:05 host cron: ran").unwrap();
        assert_eq!(got["timestamp"], "2024-01-02T03:04:05Z");
        assert_eq!(got["priority"], Value::Null);
        assert_eq!(got["facility"], Value::Null);
    }

    #[test]
    fn years_come_from_the_setting_or_the_arrival() {
        let arrival = Date::constant(2025, 1, 1);
        assert_eq!(year_before_arrival(arrival, 12, 31), 2024);
        assert_eq!(year_before_arrival(arrival, 1, 2), 2025);
        assert_eq!(year_before_arrival(arrival, 1, 3), 2024);
        let fixed = Syslog::new(Year::Fixed(2019), TimeZone::UTC, false, LineOutput::Json);
        assert_eq!(
            parse(&fixed, "<13>Aug  4 16:49:07 h a: m").unwrap()["timestamp"],
            "2019-08-04T16:49:07Z"
        );
    }

    #[test]
    fn lines_that_are_not_syslog_fail_and_odd_bytes_do_not_crash() {
        assert!(
            parse(&utc(), "hello world")
                .unwrap_err()
                .contains("not a syslog line")
        );
        assert!(parse(&utc(), "").is_err());
        let got = parse(&utc(), "<13>May  1 10:00:00 host app: naïve ✓ \u{fffd}").unwrap();
        assert_eq!(got["message"], "naïve ✓ \u{fffd}");
    }

    #[test]
    fn repeated_parameters_keep_every_value() {
        let got = parse(
            &utc(),
            r#"<13>1 2024-05-01T10:00:00Z h a - - [x@1 ip="1" ip="2"] m"#,
        )
        .unwrap();
        assert_eq!(got["structured_data"]["x@1"]["ip"], json!(["1", "2"]));
    }

    #[test]
    fn parameter_values_are_unescaped() {
        assert_eq!(unescape_param(r#"a \"b\" \] \\ \n"#), r#"a "b" ] \ \n"#);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(YearSetting.parse("24").is_err());
        assert!(ZoneSetting.parse("Mars/Olympus").is_err());
        assert!(ZoneSetting.parse("+25:00").is_err());
        assert_eq!(
            ZoneSetting.parse("+02:00").unwrap(),
            TimeZone::fixed(jiff::tz::offset(2))
        );
    }
}
