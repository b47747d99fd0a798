//! Settings from environment variables, checked once at start-up.
//!
//! Each setting is declared once, as a [`Setting`]: its name, default, the
//! parser that reads it and a line of documentation. That one declaration
//! reads the value, words the error when it is wrong, and writes the guide's
//! settings table. Every variable with a function's prefix (`NORMALIZE_`) or
//! the common prefix (`FIREHOSE_`) must be a declared setting: a typo stops the
//! function at start-up instead of being silently ignored.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::text::shorten;

/// A snapshot of the environment, taken once. Tests build one from pairs.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    not_unicode: Vec<String>,
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Env {
        let mut env = Env::default();
        for (name, value) in std::env::vars_os() {
            match (name.into_string(), value.into_string()) {
                (Ok(name), Ok(value)) => {
                    env.vars.insert(name, value);
                }
                (Ok(name), Err(_)) => env.not_unicode.push(name),
                (Err(_), _) => {}
            }
        }
        env
    }

    /// An environment made of these pairs only.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            not_unicode: Vec::new(),
        }
    }

    /// A variable's value; an empty value counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Reads one kind of value from text, and says what it accepts.
pub trait Parse {
    type Value;
    /// Reads the value, or says in a few words what is wrong with it.
    fn parse(&self, raw: &str) -> Result<Self::Value, String>;
    /// What the setting accepts, for error messages and the guide's table.
    fn expects(&self) -> String;
}

/// One setting: declared once, read, checked and documented from here.
pub struct Setting<P> {
    pub name: &'static str,
    /// The value used when the variable is unset, in the form a user would write it.
    pub default: Option<&'static str>,
    pub doc: &'static str,
    pub parser: P,
}

/// A setting seen without its value type: what the table and the typo check need.
pub trait Declared: Sync {
    fn name(&self) -> &'static str;
    fn default(&self) -> Option<&'static str>;
    fn doc(&self) -> &'static str;
    fn expects(&self) -> String;
    /// Whether the default reads with the setting's own parser.
    fn default_is_valid(&self) -> bool;
}

impl<P: Parse + Sync> Declared for Setting<P> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn default(&self) -> Option<&'static str> {
        self.default
    }
    fn doc(&self) -> &'static str {
        self.doc
    }
    fn expects(&self) -> String {
        self.parser.expects()
    }
    fn default_is_valid(&self) -> bool {
        self.default.is_none_or(|d| self.parser.parse(d).is_ok())
    }
}

/// The settings of one function or concern, sharing a prefix.
pub struct SettingGroup {
    /// Every variable starting with this belongs to the group, e.g. `NORMALIZE_`.
    pub prefix: &'static str,
    pub settings: &'static [&'static dyn Declared],
}

/// A bad setting; the function stops at start-up with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("unknown setting {name}{suggestion}; the {prefix} settings are: {known}")]
    Unknown {
        name: String,
        prefix: &'static str,
        suggestion: String,
        known: String,
    },
    #[error("{name}={value:?} is invalid: {reason} (expected {expected})")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
        expected: String,
    },
    #[error("{name} is not set: {hint}")]
    Missing { name: &'static str, hint: String },
    #[error("{name} is not valid UTF-8")]
    NotUnicode { name: String },
    #[error("{0}")]
    Conflict(String),
}

impl SettingError {
    /// The stable `errorType` reported to Lambda's init-error endpoint.
    pub fn error_type(&self) -> &'static str {
        match self {
            SettingError::Unknown { .. } => "UnknownSetting",
            SettingError::Missing { .. } => "MissingSetting",
            _ => "InvalidSetting",
        }
    }

    /// An invalid value found after parsing (a jq program that does not compile, say).
    pub fn invalid(setting: &dyn Declared, value: &str, reason: impl Into<String>) -> Self {
        SettingError::Invalid {
            name: setting.name(),
            value: shorten(value, 200),
            reason: reason.into(),
            expected: setting.expects(),
        }
    }
}

/// The environment, checked against the declared settings.
#[derive(Debug, Clone)]
pub struct Settings {
    env: Env,
}

impl Settings {
    /// Checks that every variable with one of the groups' prefixes is declared
    /// in that group and is valid UTF-8.
    pub fn load(env: Env, groups: &[&SettingGroup]) -> Result<Settings, SettingError> {
        if let Some(name) = env
            .not_unicode
            .iter()
            .find(|n| groups.iter().any(|g| n.starts_with(g.prefix)))
        {
            return Err(SettingError::NotUnicode { name: name.clone() });
        }
        for name in env.vars.keys() {
            for group in groups.iter().filter(|g| name.starts_with(g.prefix)) {
                if !group.settings.iter().any(|s| s.name() == name) {
                    return Err(unknown(name, group));
                }
            }
        }
        Ok(Settings { env })
    }

    /// The raw environment, for variables outside any group (`AWS_LAMBDA_*`).
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// Whether the variable is set (to something non-empty).
    pub fn is_set<P>(&self, setting: &Setting<P>) -> bool {
        self.env.get(setting.name).is_some()
    }

    /// The name of the first setting of `group` that is set, if any.
    pub fn first_set(&self, group: &SettingGroup) -> Option<&'static str> {
        group
            .settings
            .iter()
            .map(|s| s.name())
            .find(|name| self.env.get(name).is_some())
    }

    /// The setting's value, or its default; `None` when it has neither.
    pub fn optional<P: Parse + Sync>(
        &self,
        setting: &Setting<P>,
    ) -> Result<Option<P::Value>, SettingError> {
        let Some(raw) = self.env.get(setting.name).or(setting.default) else {
            return Ok(None);
        };
        setting
            .parser
            .parse(raw)
            .map(Some)
            .map_err(|reason| SettingError::invalid(setting, raw, reason))
    }

    /// The setting's value, or its default; a setting with neither is `Missing`.
    pub fn get<P: Parse + Sync>(&self, setting: &Setting<P>) -> Result<P::Value, SettingError> {
        self.optional(setting)?
            .ok_or_else(|| SettingError::Missing {
                name: setting.name,
                hint: setting.doc.to_owned(),
            })
    }
}

fn unknown(name: &str, group: &SettingGroup) -> SettingError {
    let closest = group
        .settings
        .iter()
        .map(|s| (strsim::levenshtein(name, s.name()), s.name()))
        .min()
        .filter(|(distance, _)| *distance <= 3);
    SettingError::Unknown {
        name: name.to_owned(),
        prefix: group.prefix,
        suggestion: closest
            .map(|(_, n)| format!(" (did you mean {n}?)"))
            .unwrap_or_default(),
        known: group
            .settings
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The guide's table of a group's settings.
pub fn markdown_table(group: &SettingGroup) -> String {
    let mut out =
        String::from("| Variable | Default | Accepts | What it does |\n|---|---|---|---|\n");
    for s in group.settings {
        let default = s
            .default()
            .map(|d| format!("`{d}`"))
            .unwrap_or_else(|| "unset".to_owned());
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            s.name(),
            default,
            s.expects(),
            s.doc()
        );
    }
    out
}

/// `true` or `false`.
pub struct Flag;

impl Parse for Flag {
    type Value = bool;
    fn parse(&self, raw: &str) -> Result<bool, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err("not a boolean".to_owned()),
        }
    }
    fn expects(&self) -> String {
        "`true` or `false`".to_owned()
    }
}

/// A whole number in a range.
pub struct Integer {
    pub min: u64,
    pub max: u64,
}

impl Parse for Integer {
    type Value = u64;
    fn parse(&self, raw: &str) -> Result<u64, String> {
        let digits: String = raw.trim().chars().filter(|c| *c != '_').collect();
        let n: u64 = digits
            .parse()
            .map_err(|_| "not a whole number".to_owned())?;
        if n < self.min || n > self.max {
            return Err("out of range".to_owned());
        }
        Ok(n)
    }
    fn expects(&self) -> String {
        format!("a whole number from {} to {}", self.min, self.max)
    }
}

/// One of a fixed set of words.
pub struct Choice(pub &'static [&'static str]);

impl Parse for Choice {
    type Value = &'static str;
    fn parse(&self, raw: &str) -> Result<&'static str, String> {
        let raw = raw.trim();
        self.0
            .iter()
            .copied()
            .find(|c| c.eq_ignore_ascii_case(raw))
            .ok_or_else(|| "not one of the choices".to_owned())
    }
    fn expects(&self) -> String {
        let words: Vec<String> = self.0.iter().map(|w| format!("`{w}`")).collect();
        format!("one of {}", words.join(", "))
    }
}

/// Free text of bounded length.
pub struct Text {
    pub max_len: usize,
}

impl Parse for Text {
    type Value = String;
    fn parse(&self, raw: &str) -> Result<String, String> {
        if raw.chars().count() > self.max_len {
            return Err("too long".to_owned());
        }
        Ok(raw.to_owned())
    }
    fn expects(&self) -> String {
        format!("text of 1 to {} characters", self.max_len)
    }
}

/// A comma-separated list of names, e.g. `ts,created_at`.
pub struct Names;

impl Parse for Names {
    type Value = Vec<String>;
    fn parse(&self, raw: &str) -> Result<Vec<String>, String> {
        let names: Vec<String> = raw.split(',').map(|n| n.trim().to_owned()).collect();
        if names.iter().any(String::is_empty) {
            return Err("a name in the list is empty".to_owned());
        }
        Ok(names)
    }
    fn expects(&self) -> String {
        "names separated by commas, e.g. `a,b`".to_owned()
    }
}

/// A comma-separated list of `from=to` pairs, e.g. `timestamp=ts,date=dt`.
pub struct Pairs;

impl Parse for Pairs {
    type Value = Vec<(String, String)>;
    fn parse(&self, raw: &str) -> Result<Vec<(String, String)>, String> {
        raw.split(',')
            .map(|pair| match pair.split_once('=') {
                Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
                    Ok((from.trim().to_owned(), to.trim().to_owned()))
                }
                _ => Err(format!("{:?} is not a `from=to` pair", pair.trim())),
            })
            .collect()
    }
    fn expects(&self) -> String {
        "`from=to` pairs separated by commas, e.g. `timestamp=ts,date=dt`".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Setting<Integer> = Setting {
        name: "DEMO_LIMIT",
        default: Some("10"),
        doc: "How many.",
        parser: Integer { min: 1, max: 100 },
    };
    const MODE: Setting<Choice> = Setting {
        name: "DEMO_MODE",
        default: None,
        doc: "Which mode.",
        parser: Choice(&["fast", "safe"]),
    };
    const DEMO: SettingGroup = SettingGroup {
        prefix: "DEMO_",
        settings: &[&LIMIT, &MODE],
    };

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingError> {
        Settings::load(Env::from_pairs(pairs.iter().copied()), &[&DEMO])
    }

    #[test]
    fn defaults_apply_when_unset_or_empty() {
        assert_eq!(load(&[]).unwrap().get(&LIMIT), Ok(10));
        assert_eq!(load(&[("DEMO_LIMIT", "")]).unwrap().get(&LIMIT), Ok(10));
        assert_eq!(load(&[]).unwrap().optional(&MODE), Ok(None));
    }

    #[test]
    fn an_unknown_variable_is_named_with_a_suggestion() {
        let err = load(&[("DEMO_LIMTI", "3")]).unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown setting DEMO_LIMTI (did you mean DEMO_LIMIT?); the DEMO_ settings are: DEMO_LIMIT, DEMO_MODE"
        );
    }

    #[test]
    fn variables_outside_the_groups_are_ignored() {
        assert!(load(&[("OTHER_THING", "x"), ("PATH", "/bin")]).is_ok());
    }

    #[test]
    fn an_invalid_value_names_setting_value_and_expectation() {
        let err = load(&[("DEMO_LIMIT", "500")])
            .unwrap()
            .get(&LIMIT)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            r#"DEMO_LIMIT="500" is invalid: out of range (expected a whole number from 1 to 100)"#
        );
        let err = load(&[("DEMO_MODE", "slow")])
            .unwrap()
            .get(&MODE)
            .unwrap_err()
            .to_string();
        assert!(err.contains("one of `fast`, `safe`"), "{err}");
    }

    #[test]
    fn missing_required_setting_says_what_to_set() {
        let err = load(&[]).unwrap().get(&MODE).unwrap_err();
        assert_eq!(err.error_type(), "MissingSetting");
        assert_eq!(err.to_string(), "DEMO_MODE is not set: Which mode.");
    }

    #[test]
    fn parsers_read_what_they_promise() {
        assert_eq!(Flag.parse(" TRUE "), Ok(true));
        assert!(Flag.parse("yes").is_err());
        assert_eq!(
            Integer {
                min: 0,
                max: 10_000_000
            }
            .parse("6_000_000"),
            Ok(6_000_000)
        );
        assert_eq!(
            Names.parse("a, b"),
            Ok(vec!["a".to_owned(), "b".to_owned()])
        );
        assert!(Names.parse("a,,b").is_err());
        assert_eq!(
            Pairs.parse("timestamp=ts"),
            Ok(vec![("timestamp".to_owned(), "ts".to_owned())])
        );
        assert!(Pairs.parse("timestamp").is_err());
        assert!(Text { max_len: 2 }.parse("abc").is_err());
    }

    #[test]
    fn table_lists_every_setting() {
        let table = markdown_table(&DEMO);
        assert!(
            table.contains("| `DEMO_LIMIT` | `10` | a whole number from 1 to 100 | How many. |")
        );
        assert!(table.contains("| `DEMO_MODE` | unset |"));
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(1000);
        let err = load(&[("DEMO_MODE", long.as_str())])
            .unwrap()
            .get(&MODE)
            .unwrap_err()
            .to_string();
        assert!(err.len() < 400);
    }
}
