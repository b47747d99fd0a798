//! The one nesting limit of every JSON reader in firehose-local: 127 levels
//! of arrays and objects, serde_json's own (it refuses the 128th), which reads
//! the answers, input and error-object lines and conversion. jaq's reader has none and
//! recurses, so a record is measured against it here before jaq sees it: a
//! record 100,000 levels deep would otherwise overflow the stack and end the run.

/// The deepest JSON firehose-local reads.
pub const MAX_JSON_DEPTH: usize = 127;

/// `json` nests arrays and objects deeper than [`MAX_JSON_DEPTH`]. Brackets
/// inside strings do not count; the JSON need not be valid.
pub fn too_deep(json: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_containers_not_brackets_in_strings() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(!too_deep(nested(MAX_JSON_DEPTH).as_bytes()));
        assert!(too_deep(nested(MAX_JSON_DEPTH + 1).as_bytes()));
        let quoted = format!("{{\"a\":\"{}\\\"{}\"}}", "[".repeat(500), "{".repeat(500));
        assert!(!too_deep(quoted.as_bytes()));
        // Unclosed, as a truncated record is: the depth it reaches is what counts.
        assert!(too_deep("{\"a\":".repeat(200).as_bytes()));
    }

    #[test]
    fn serde_json_refuses_what_is_too_deep_here() {
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH + 1),
            "]".repeat(MAX_JSON_DEPTH + 1)
        );
        assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
        let fits = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(serde_json::from_str::<serde_json::Value>(&fits).is_ok());
    }
}
