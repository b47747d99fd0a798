//! JSON strings written fast. Nearly all text needs no escape: it is copied
//! whole between quotes. The rest goes through serde_json, so every string
//! comes out exactly as serde_json writes it.

/// Whether serde_json writes `text` unchanged between quotes: no control
/// character, quote or backslash.
fn needs_no_escape(text: &str) -> bool {
    // No early exit, so that the compiler checks many bytes at a time.
    !text.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// Appends `text` as a JSON string, quotes and escapes included.
pub(crate) fn write(buf: &mut Vec<u8>, text: &str) {
    if needs_no_escape(text) {
        buf.reserve(text.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(text.as_bytes());
        buf.push(b'"');
    } else {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(buf, text);
    }
}

/// The length of `text` written as a JSON string, quotes and escapes included.
pub(crate) fn len(text: &str) -> usize {
    if needs_no_escape(text) {
        return text.len() + 2;
    }
    let mut written = Vec::with_capacity(text.len() + 8);
    write(&mut written, text);
    written.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every string, escaped or not, is written as serde_json writes it.
        #[test]
        fn strings_are_written_as_serde_json_writes_them(text in "(\\PC|[\"\\\\\u{0}-\u{1f}\u{7f}])*") {
            let expected = serde_json::to_vec(&text).unwrap();
            let mut written = b"x".to_vec();
            write(&mut written, &text);
            prop_assert_eq!(&written[1..], &expected[..]);
            prop_assert_eq!(len(&text), expected.len());
        }
    }
}
