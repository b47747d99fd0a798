//! `firehose-local generate`: records from a Kinesis Data Generator record
//! template (`{{name.firstName}},{{random.number(70)}}`), in its own syntax:
//! moustache-wrapped faker.js helpers with JSON arguments, and the KDG's own
//! `date.now`, `date.utc`, `date.simTime` and `random.weightedArrayElement`.
//! The template is parsed once, every helper and argument checked; records
//! are drawn from a seeded generator, so a seed repeats them byte for byte.

pub mod faker;
pub mod moment;
pub mod send;
#[cfg(feature = "producer")]
pub mod sender;

use jiff::Timestamp;
use serde_json::Value;

use faker::Helper;
use moment::MomentFormat;

/// A record template that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record template line {line}: {message}")]
pub struct TemplateError {
    pub line: usize,
    pub message: String,
}

/// A parsed record template.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordTemplate(Vec<Part>);

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Helper(Helper),
    /// `date.now` and `date.simTime` (the record's time, UTC), `date.utc`.
    Date(MomentFormat),
}

impl RecordTemplate {
    pub fn parse(text: &str) -> Result<RecordTemplate, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let at = text.len() - rest.len() + open;
            let fail = |message: String| TemplateError {
                line: text[..at].matches('\n').count() + 1,
                message,
            };
            let inside = rest[open + 2..].trim_start();
            let name_len = inside
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .unwrap_or(inside.len());
            let name = &inside[..name_len];
            if name.is_empty() {
                return Err(fail("{{ is not followed by a helper name".to_owned()));
            }
            let mut after = inside[name_len..].trim_start();
            let arguments = if after.starts_with('(') {
                let close = closing_parenthesis(after)
                    .ok_or_else(|| fail(format!("{name}( is not closed")))?;
                let json = format!("[{}]", &after[1..close]);
                after = after[close + 1..].trim_start();
                serde_json::from_str::<Vec<Value>>(&json).map_err(|e| {
                    fail(format!(
                        "the arguments of {name} are not JSON ({e}): write strings in double quotes"
                    ))
                })?
            } else {
                Vec::new()
            };
            let Some(end) = after.strip_prefix("}}") else {
                return Err(fail(format!("{{{{{name} is not closed by }}}}")));
            };
            parts.push(part(name, &arguments).map_err(fail)?);
            rest = end;
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(RecordTemplate(parts))
    }

    /// One record, drawn from `rng`, made at `at`.
    pub fn render(&self, rng: &mut fastrand::Rng, at: Timestamp, out: &mut String) {
        let zoned = at.to_zoned(jiff::tz::TimeZone::UTC);
        for part in &self.0 {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Helper(helper) => helper.render(rng, out),
                Part::Date(format) => format.render(&zoned, out),
            }
        }
    }
}

fn part(name: &str, arguments: &[Value]) -> Result<Part, String> {
    let utc = match name {
        "date.now" | "date.simTime" => false,
        "date.utc" => true,
        _ => return Helper::parse(name, arguments).map(Part::Helper),
    };
    match arguments {
        [] => Ok(Part::Date(MomentFormat::default_for(utc))),
        [Value::String(format)] => MomentFormat::parse(format).map(Part::Date),
        _ => Err(format!("{name} takes one moment.js format, or nothing")),
    }
}

/// Where the `(` that `text` starts with is closed, skipping JSON strings.
fn closing_parenthesis(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, seed: u64) -> String {
        let template = RecordTemplate::parse(template).unwrap();
        let mut rng = fastrand::Rng::with_seed(seed);
        let at: Timestamp = "2026-12-01T10:00:00.250Z".parse().unwrap();
        let mut out = String::new();
        template.render(&mut rng, at, &mut out);
        out
    }

    #[test]
    fn the_kdg_help_pages_templates_render_records_of_their_shape() {
        let csv = render(
            "{{name.firstName}},{{name.lastName}},{{random.number(70)}},{{internet.ip}}",
            1,
        );
        let fields: Vec<&str> = csv.split(',').collect();
        assert_eq!(fields.len(), 4, "{csv}");
        assert!(fields[2].parse::<u32>().unwrap() <= 70);
        assert_eq!(fields[3].split('.').count(), 4);
        let json = render(
            r#"{
    "sensorId": {{random.number(50)}},
    "currentTemperature": {{random.number(
        {
            "min":10,
            "max":150
        }
    )}},
    "status": "{{random.arrayElement(
        ["OK","FAIL","WARN"]
    )}}",
    "pet": "{{random.weightedArrayElement({"weights":[0.3,0.2,0.5],"data":["cat","fish","dog"]})}}",
    "at": "{{date.now("DD/MMM/YYYY:HH:mm:ss Z")}}",
    "utc": "{{date.utc}}",
    "id": "{{random.uuid}}"
}"#,
            2,
        );
        let record: Value = serde_json::from_str(&json).unwrap();
        let temperature = record["currentTemperature"].as_u64().unwrap();
        assert!((10..=150).contains(&temperature));
        assert!(["OK", "FAIL", "WARN"].contains(&record["status"].as_str().unwrap()));
        assert!(["cat", "fish", "dog"].contains(&record["pet"].as_str().unwrap()));
        assert_eq!(record["at"], "01/Dec/2026:10:00:00 +00:00");
        assert_eq!(record["utc"], "2026-12-01T10:00:00Z");
        let id = record["id"].as_str().unwrap();
        assert_eq!((id.len(), &id[14..15]), (36, "4"), "{id}");
    }

    #[test]
    fn a_seed_repeats_the_records_and_another_seed_changes_them() {
        let template = "{{random.alphaNumeric(12)}} {{internet.email}} {{finance.amount(1,5,2)}} {{lorem.sentence}}";
        assert_eq!(render(template, 7), render(template, 7));
        assert_ne!(render(template, 7), render(template, 8));
    }

    #[test]
    fn every_helper_renders_and_weights_are_followed() {
        for name in faker::NAMES {
            let call = match *name {
                "random.arrayElement" => format!("{{{{{name}([1])}}}}"),
                "random.weightedArrayElement" => {
                    format!(r#"{{{{{name}({{"weights":[1],"data":[1]}})}}}}"#)
                }
                _ => format!("{{{{{name}}}}}"),
            };
            let text = render(&call, 3);
            assert!(!text.is_empty(), "{name}");
        }
        let template = RecordTemplate::parse(
            r#"{{random.weightedArrayElement({"weights":[0.9,0.1,0],"data":["a","b","c"]})}}"#,
        )
        .unwrap();
        let mut rng = fastrand::Rng::with_seed(4);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..10_000 {
            let mut out = String::new();
            template.render(&mut rng, Timestamp::UNIX_EPOCH, &mut out);
            *counts.entry(out).or_insert(0) += 1;
        }
        assert!((8_700..=9_300).contains(&counts["a"]), "{counts:?}");
        assert!(!counts.contains_key("c"), "{counts:?}");
        let fraction = render(
            r#"{{random.number({"min":1,"max":2,"precision":0.25})}}"#,
            5,
        );
        assert!(
            ["1.00", "1.25", "1.50", "1.75", "2.00"].contains(&fraction.as_str()),
            "{fraction}"
        );
    }

    #[test]
    fn a_template_it_cannot_follow_is_refused_naming_the_line_and_the_helper() {
        for (template, line, says) in [
            (
                "a\n{{name.middleName}}",
                2,
                "name.middleName is not a helper",
            ),
            (
                "{{random.arrayElement(['a','b'])}}",
                1,
                "write strings in double quotes",
            ),
            ("{{random.number(5)", 1, "is not closed by }}"),
            ("{{random.number(5}}", 1, "random.number( is not closed"),
            ("{{ }}", 1, "not followed by a helper name"),
            (
                "\n\n{{random.uuid(1)}}",
                3,
                "random.uuid: takes no arguments",
            ),
            (
                r#"{{date.now("YYYY-Q")}}"#,
                1,
                "\"Q\" is not a moment.js token",
            ),
            (r#"{{random.number({"min":5,"max":1})}}"#, 1, "min ≤ max"),
            (
                r#"{{random.weightedArrayElement({"weights":[1],"data":[]})}}"#,
                1,
                "same length",
            ),
        ] {
            let error = RecordTemplate::parse(template).unwrap_err();
            assert_eq!(error.line, line, "{template}: {error}");
            assert!(error.to_string().contains(says), "{template}: {error}");
        }
    }
}
