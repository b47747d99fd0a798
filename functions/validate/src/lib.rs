//! `validate`: checks each JSON record against a JSON Schema. A crate of its
//! own, so that only the functions that validate compile the JSON Schema
//! validator (`firehose-validate` and `firehose-pipeline`).
//!
//! The schema is compiled once at start-up, formats asserted, and never
//! fetches anything: a `$ref` to a remote or file URI stops the function at
//! start-up. A record that does not match is `ProcessingFailed`; its reason
//! (in the WARN line) gives the instance path and the validator's message.

use std::path::{Path, PathBuf};

use jsonschema::{Draft, Validator};
use serde_json::Value;

use firehose_transform::pipeline::record::json_kind;
use firehose_transform::settings::{
    Choice, Declared, Flag, Setting, SettingError, SettingGroup, Settings, Text,
};
use firehose_transform::transforms::BuiltIn;
use firehose_transform::{Record, Transform, TransformError, Verdict};

pub const SCHEMA: Setting<Text> = Setting {
    name: "VALIDATE_SCHEMA",
    default: None,
    doc: "The JSON Schema, inline. Lambda allows 4 KB for all variables together, so larger schemas go in \
          `VALIDATE_SCHEMA_FILE`. Set this or that.",
    parser: Text { max_len: 4096 },
};

pub const SCHEMA_FILE: Setting<Text> = Setting {
    name: "VALIDATE_SCHEMA_FILE",
    default: None,
    doc: "Path of a JSON Schema file in the deployment package; a relative path is read from \
          `LAMBDA_TASK_ROOT` (the package root on Lambda), else the working directory.",
    parser: Text { max_len: 1024 },
};

pub const DRAFT: Setting<Choice> = Setting {
    name: "VALIDATE_DRAFT",
    default: Some("auto"),
    doc: "The JSON Schema draft. `auto` reads the schema's `$schema` and falls back to 2020-12.",
    parser: Choice(&["auto", "7", "2019-09", "2020-12"]),
};

pub const FORMATS: Setting<Flag> = Setting {
    name: "VALIDATE_FORMATS",
    default: Some("true"),
    doc: "Assert `format` (`date-time`, `email`, `ipv4`, `uuid`, …) in every draft; 2019-09 and 2020-12 \
          only annotate it otherwise.",
    parser: Flag,
};

/// The settings of `firehose-validate`.
pub const SETTINGS: SettingGroup = SettingGroup {
    prefix: "VALIDATE_",
    settings: &[&SCHEMA, &SCHEMA_FILE, &DRAFT, &FORMATS],
};

/// The `validate` step, for `firehose-pipeline`'s catalogue and served alone as `firehose-validate`.
pub const VALIDATE: BuiltIn = BuiltIn {
    name: "validate",
    reads_raw_records: false,
    settings: &SETTINGS,
    make: |settings| Ok(Box::new(Validate::from_settings(settings)?)),
};

/// Checks records against a compiled JSON Schema.
pub struct Validate {
    validator: Validator,
}

impl Validate {
    /// Compiles `schema`; `draft` is `None` to read it from `$schema`.
    pub fn new(schema: &Value, draft: Option<Draft>, formats: bool) -> Result<Self, String> {
        let mut options = jsonschema::options().should_validate_formats(formats);
        if let Some(draft) = draft {
            options = options.with_draft(draft);
        }
        let validator = options.build(schema).map_err(|e| e.to_string())?;
        Ok(Validate { validator })
    }

    /// Reads the schema from `VALIDATE_SCHEMA` or `VALIDATE_SCHEMA_FILE` and compiles it.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingError> {
        let inline = settings.optional(&SCHEMA)?;
        let file = settings.optional(&SCHEMA_FILE)?;
        let (setting, raw, text): (&dyn Declared, String, String) = match (inline, file) {
            (Some(text), None) => (&SCHEMA, text.clone(), text),
            (None, Some(path)) => {
                let full = resolve(settings, &path);
                let text = std::fs::read_to_string(&full).map_err(|e| {
                    SettingError::invalid(
                        &SCHEMA_FILE,
                        &path,
                        format!("cannot read {}: {e}", full.display()),
                    )
                })?;
                (&SCHEMA_FILE, path, text)
            }
            (Some(_), Some(_)) => {
                return Err(SettingError::Conflict(
                    "VALIDATE_SCHEMA and VALIDATE_SCHEMA_FILE are both set; set one of them"
                        .to_owned(),
                ));
            }
            (None, None) => {
                return Err(SettingError::Missing {
                    name: SCHEMA.name,
                    hint: "set VALIDATE_SCHEMA (the JSON Schema, inline) or VALIDATE_SCHEMA_FILE \
                           (its path in the deployment package)"
                        .to_owned(),
                });
            }
        };
        let schema: Value = serde_json::from_str(&text).map_err(|e| {
            SettingError::invalid(setting, &raw, format!("the schema is not JSON: {e}"))
        })?;
        let draft = match settings.get(&DRAFT)? {
            "7" => Some(Draft::Draft7),
            "2019-09" => Some(Draft::Draft201909),
            "2020-12" => Some(Draft::Draft202012),
            _ => None,
        };
        Validate::new(&schema, draft, settings.get(&FORMATS)?).map_err(|e| {
            SettingError::invalid(setting, &raw, format!("the schema does not compile: {e}"))
        })
    }
}

fn resolve(settings: &Settings, path: &str) -> PathBuf {
    let path = Path::new(path);
    match settings.env().get("LAMBDA_TASK_ROOT") {
        Some(root) if path.is_relative() => Path::new(root).join(path),
        _ => path.to_owned(),
    }
}

impl Transform for Validate {
    fn name(&self) -> &str {
        "validate"
    }

    fn apply(&self, record: &mut Record<'_>) -> Result<Verdict, TransformError> {
        let value = record.json_value()?;
        match self.validator.validate(value) {
            Ok(()) => Ok(Verdict::Keep),
            Err(error) => {
                let path = error.instance_path().to_string();
                let at = if path.is_empty() { "/" } else { &path };
                // jsonschema's own masking: the instance becomes its kind, the schema's words stay.
                let masked = error.masked_with(json_kind(error.instance()));
                Err(TransformError::quoting(
                    format!("schema: at {at}: {masked}"),
                    format!("schema: at {at}: {error}"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use firehose_transform::settings::Env;

    const SCHEMA_7: &str = r#"{"$schema":"http://json-schema.org/draft-07/schema#","type":"object",
        "required":["id"],"properties":{"id":{"type":"integer"},"at":{"type":"string","format":"date-time"}}}"#;

    fn validate(pairs: &[(&str, &str)]) -> Result<Validate, SettingError> {
        let settings = Settings::load(Env::from_pairs(pairs.iter().copied()), &[&SETTINGS])?;
        Validate::from_settings(&settings)
    }

    fn check(v: &Validate, record: &str) -> Result<Verdict, String> {
        v.apply(&mut Record::detached(record))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn matching_records_pass_and_others_say_where_and_why() {
        let v = validate(&[("VALIDATE_SCHEMA", SCHEMA_7)]).unwrap();
        assert_eq!(check(&v, r#"{"id": 1}"#), Ok(Verdict::Keep));
        assert_eq!(
            check(&v, r#"{"id": "x"}"#),
            Err(r#"schema: at /id: a string is not of type "integer""#.to_owned())
        );
        let full = v
            .apply(&mut Record::detached(r#"{"id": "x"}"#))
            .unwrap_err()
            .reason(true);
        assert_eq!(full, r#"schema: at /id: "x" is not of type "integer""#);
        assert_eq!(
            check(&v, r#"{}"#),
            Err(r#"schema: at /: "id" is a required property"#.to_owned())
        );
    }

    #[test]
    fn big_numbers_are_read_exactly() {
        let v = validate(&[(
            "VALIDATE_SCHEMA",
            r#"{"properties":{"n":{"maximum":18446744073709551615}}}"#,
        )])
        .unwrap();
        assert!(check(&v, r#"{"n": 18446744073709551615}"#).is_ok());
        assert!(check(&v, r#"{"n": 18446744073709551616}"#).is_err());
    }

    #[test]
    fn formats_are_asserted_in_every_draft() {
        for draft in ["7", "2019-09", "2020-12"] {
            let v = validate(&[("VALIDATE_SCHEMA", SCHEMA_7), ("VALIDATE_DRAFT", draft)]).unwrap();
            let err = check(&v, r#"{"id": 1, "at": "yesterday"}"#).unwrap_err();
            assert!(err.contains(r#"is not a "date-time""#), "{draft}: {err}");
        }
    }

    #[test]
    fn remote_references_stop_the_function_at_start_up() {
        let err = validate(&[(
            "VALIDATE_SCHEMA",
            r#"{"$ref":"https://example.com/s.json"}"#,
        )])
        .err()
        .unwrap()
        .to_string();
        assert!(err.starts_with("VALIDATE_SCHEMA="), "{err}");
        assert!(err.contains("does not compile"), "{err}");
    }

    #[test]
    fn bad_settings_are_named() {
        let err = validate(&[("VALIDATE_SCHEMA", "{not json")])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("the schema is not JSON"), "{err}");
        let err = validate(&[("VALIDATE_SCHEMA", r#"{"type": 5}"#)])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("does not compile"), "{err}");
        let err = validate(&[("VALIDATE_SCHEMA_FILE", "/nonexistent/schema.json")])
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("VALIDATE_SCHEMA_FILE=") && err.contains("cannot read"),
            "{err}"
        );
        assert_eq!(validate(&[]).err().unwrap().error_type(), "MissingSetting");
        let both = validate(&[("VALIDATE_SCHEMA", "{}"), ("VALIDATE_SCHEMA_FILE", "x")]);
        assert!(matches!(both, Err(SettingError::Conflict(_))));
    }

    #[test]
    fn schema_files_are_read_from_the_task_root() {
        let dir = std::env::temp_dir().join(format!("validate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("schema.json"), SCHEMA_7).unwrap();
        let v = validate(&[
            ("VALIDATE_SCHEMA_FILE", "schema.json"),
            ("LAMBDA_TASK_ROOT", dir.to_str().unwrap()),
        ])
        .unwrap();
        assert!(check(&v, r#"{"id": "x"}"#).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
