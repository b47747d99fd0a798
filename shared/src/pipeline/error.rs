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
    #[error("{0}")]
    Other(String),
}

impl TransformError {
    /// A failure described in words.
    pub fn new(reason: impl Into<String>) -> Self {
        TransformError::Other(reason.into())
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
