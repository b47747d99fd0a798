//! Why a step failed a record: the error every step and record accessor returns.

/// Why a step failed a record. Its text goes into the WARN log line, so it
/// should say what was wrong without quoting the record's contents.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    #[error("not valid JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("not valid UTF-8: {0}")]
    NotUtf8(#[source] std::str::Utf8Error),
    #[error("expected a JSON object, found {found}")]
    NotAnObject { found: &'static str },
    /// A reason whose full text quotes the record: logged as `redacted`
    /// unless `FIREHOSE_LOG_RECORD_VALUES` asks for `full`.
    #[error("{redacted}")]
    Quoting { redacted: String, full: String },
    #[error("{0}")]
    Other(String),
}

impl TransformError {
    /// A failure described in words.
    pub fn new(reason: impl Into<String>) -> Self {
        TransformError::Other(reason.into())
    }

    /// A failure whose full reason quotes the record, with a redacted one to log by default.
    pub fn quoting(redacted: impl Into<String>, full: impl Into<String>) -> Self {
        TransformError::Quoting {
            redacted: redacted.into(),
            full: full.into(),
        }
    }

    /// The same failure, its reasons prefixed with `what: `.
    pub fn context(self, what: &str) -> Self {
        match self {
            TransformError::Quoting { redacted, full } => {
                TransformError::quoting(format!("{what}: {redacted}"), format!("{what}: {full}"))
            }
            other => TransformError::Other(format!("{what}: {other}")),
        }
    }

    /// The reason to log: record values only `with_values`.
    pub fn reason(&self, with_values: bool) -> String {
        match self {
            TransformError::Quoting { full, .. } if with_values => full.clone(),
            other => other.to_string(),
        }
    }
}

impl From<String> for TransformError {
    fn from(reason: String) -> Self {
        TransformError::Other(reason)
    }
}

impl From<&str> for TransformError {
    fn from(reason: &str) -> Self {
        TransformError::Other(reason.to_owned())
    }
}
