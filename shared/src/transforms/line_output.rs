//! What the line parsers (`access-log`, `syslog`) write: a JSON object, or a
//! CSV row with the columns in a fixed order.

use std::sync::Arc;

use crate::settings::{Choice, Names, Setting, SettingError, Settings};

/// How a parsed line is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutput {
    Json,
    /// One CSV row of these columns.
    Csv(Arc<[String]>),
}

/// The `<PREFIX>OUTPUT` setting's parser: `json` or `csv`.
pub const OUTPUT_CHOICE: Choice = Choice(&["json", "csv"]);

impl LineOutput {
    /// Reads `output` and `columns`; `default_columns` are the parser's own fields, in order.
    pub fn from_settings(
        settings: &Settings,
        output: &Setting<Choice>,
        columns: &Setting<Names>,
        default_columns: Vec<String>,
    ) -> Result<LineOutput, SettingError> {
        match settings.get(output)? {
            "csv" => {
                let columns = settings.optional(columns)?.unwrap_or(default_columns);
                Ok(LineOutput::Csv(Arc::from(columns)))
            }
            _ if settings.is_set(columns) => Err(SettingError::Conflict(format!(
                "{} applies to {}=csv only",
                columns.name, output.name
            ))),
            _ => Ok(LineOutput::Json),
        }
    }
}
