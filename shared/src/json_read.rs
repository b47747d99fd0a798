//! JSON read from bytes, checked as UTF-8 once and then read as text: read as
//! bytes, serde_json checks every string's UTF-8 again, a call per string.

use serde::Deserialize;

/// Reads `bytes` as JSON. Invalid UTF-8 is read as bytes, so that its error
/// is serde_json's own, with where it is.
pub(crate) fn from_bytes<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}
