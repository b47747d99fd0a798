//! JSON strings as firehose-local writes them (events, rows): text with
//! nothing to escape, nearly all of it, is copied whole between quotes; the
//! rest goes through serde_json, so every string is written as serde_json
//! writes it.

/// Whether serde_json writes `text` unchanged between quotes: no control
/// character, quote or backslash.
pub fn needs_no_escape(text: &str) -> bool {
    // A chunk's bytes are folded with no early exit, so that the compiler
    // checks them many at a time; long strings stop at the first bad chunk.
    text.as_bytes().chunks(32).all(|chunk| {
        chunk.iter().fold(true, |clean, &b| {
            clean & (b >= 0x20) & (b != b'"') & (b != b'\\')
        })
    })
}

/// Appends `text` as a JSON string, quotes and escapes included.
pub fn push_string(out: &mut Vec<u8>, text: &str) {
    if needs_no_escape(text) {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(out, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let long = "x".repeat(100);
        let texts = [
            "",
            "plain",
            "quote \" here",
            "back\\slash",
            "tab\there",
            "\u{0}\u{1f}",
            "del \u{7f}",
            "ünïcode ✓",
            &long,
        ];
        for text in texts {
            for at in [0, 31, 32, 33, 99] {
                let text = format!("{}{text}", "y".repeat(at));
                let mut written = b"x".to_vec();
                push_string(&mut written, &text);
                assert_eq!(
                    &written[1..],
                    serde_json::to_vec(&text).unwrap(),
                    "{text:?}"
                );
            }
        }
    }
}
