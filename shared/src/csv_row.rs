//! A JSON object written as one CSV row (RFC 4180 quoting), for the line
//! parsers' CSV output.

use serde_json::Value;

/// The row of `columns` taken from `object`, ending in `\n`: a field holding a
/// comma, quote or line break is quoted, with quotes doubled. A missing or
/// `null` field is empty; an object or array is written as compact JSON.
pub(crate) fn csv_row(object: &Value, columns: &[String]) -> Vec<u8> {
    let fields = columns.iter().map(|column| match object.get(column) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    });
    // Lines end in `\n` rather than RFC 4180's `\r\n`: Athena and Hive read `\r` as part of the last field.
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(fields);
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(object: Value, columns: &[&str]) -> String {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        String::from_utf8(csv_row(&object, &columns)).unwrap()
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        let object = json!({"a": "plain", "b": "x,y", "c": "say \"hi\"", "d": "two\nlines", "n": 3, "z": null});
        assert_eq!(
            row(object, &["a", "b", "c", "d", "n", "z", "missing"]),
            "plain,\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\",3,,\n"
        );
    }

    #[test]
    fn nested_values_are_compact_json() {
        assert_eq!(
            row(json!({"sd": {"k": "v"}}), &["sd"]),
            "\"{\"\"k\"\":\"\"v\"\"}\"\n"
        );
    }
}
