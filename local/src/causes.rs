//! An error with the chain of its causes, for people: the AWS SDK's errors
//! say what failed at the top and why only in their sources.

/// `error`'s message, then each cause's, joined by `: `.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
