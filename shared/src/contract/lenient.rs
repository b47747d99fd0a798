//! Readers for the event's fields that sample events write in several ways: a
//! number, a numeric string, `""`. Each takes the field's raw JSON text rather
//! than a `serde_json::Value` (this runs once per record, and a `Value` number
//! is built digit by digit under `arbitrary_precision`).

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// Reads epoch milliseconds from a number, a numeric string, fractional
/// milliseconds or an ISO 8601 string; anything else is `None`.
pub(super) fn epoch_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    Ok(scalar_text(&raw).and_then(|text| millis_from_text(text.trim())))
}

/// Reads an unsigned integer from a number or a numeric string; `""` is `None`.
pub(super) fn unsigned<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    Ok(scalar_text(&raw).and_then(|text| text.trim().parse().ok()))
}

/// A number's text, or a string's contents; anything else is `None`.
fn scalar_text(raw: &RawValue) -> Option<Cow<'_, str>> {
    let raw = raw.get();
    match raw.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<&str>(raw)
            .map(Cow::Borrowed)
            .or_else(|_| serde_json::from_str::<String>(raw).map(Cow::Owned))
            .ok(),
        Some(b'-' | b'0'..=b'9') => Some(Cow::Borrowed(raw)),
        _ => None,
    }
}

fn millis_from_text(text: &str) -> Option<i64> {
    if let Ok(whole) = text.parse::<i64>() {
        return Some(whole);
    }
    if let Ok(fractional) = text.parse::<f64>() {
        // Fractional milliseconds are truncated toward the past, never a panic.
        return (fractional.is_finite() && fractional.abs() < 9.2e18)
            .then(|| fractional.floor() as i64);
    }
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Times {
        #[serde(deserialize_with = "epoch_millis")]
        at: Option<i64>,
        #[serde(deserialize_with = "unsigned")]
        n: Option<u64>,
    }

    /// From the JSON text and from a `Value`, each form reads the same.
    #[test]
    fn numbers_strings_and_anything_else() {
        let cases = [
            (
                json!(1700000000123_i64),
                json!(7),
                Some(1700000000123),
                Some(7),
            ),
            (
                json!("1700000000123"),
                json!(" 7 "),
                Some(1700000000123),
                Some(7),
            ),
            (json!(1700000000123.9), json!(""), Some(1700000000123), None),
            (
                json!("2023-11-14T22:13:20.5Z"),
                json!(-1),
                Some(1700000000500),
                None,
            ),
            (json!(null), json!(true), None, None),
            (
                json!({"a": {"b": [1]}, "c": 2}),
                json!([1, [2]]),
                None,
                None,
            ),
            (json!("soon"), json!(1.5), None, None),
        ];
        for (at, n, want_at, want_n) in cases {
            let value = json!({"at": at, "n": n});
            let from_text: Times = serde_json::from_str(&value.to_string()).unwrap();
            let from_value: Times = serde_json::from_value(value.clone()).unwrap();
            for got in [from_text, from_value] {
                assert_eq!((got.at, got.n), (want_at, want_n), "{value}");
            }
        }
        let escaped: Times = serde_json::from_str(r#"{"at": "17\u0030", "n": "\u0037"}"#).unwrap();
        assert_eq!((escaped.at, escaped.n), (Some(170), Some(7)));
    }
}
