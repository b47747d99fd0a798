//! JSON strings written fast. Nearly all text needs no escape: it is copied
//! whole between quotes. The rest goes through serde_json, so every string
//! comes out exactly as serde_json writes it.

/// Whether serde_json writes `text` unchanged between quotes: no control
/// character, quote or backslash.
fn needs_no_escape(text: &str) -> bool {
    // Sixteen bytes at a time, the last block overlapping the one before (a
    // short string padded to one block), so that no byte is checked alone:
    // most strings here are field names and values of a few blocks or less.
    // (A short string checked a byte at a time measured 3.5% worse in all.)
    let bytes = text.as_bytes();
    let Some(last) = bytes.last_chunk::<BLOCK>() else {
        let mut padded = [b' '; BLOCK];
        padded[..bytes.len()].copy_from_slice(bytes);
        return !has_escape(&padded);
    };
    let (blocks, _) = bytes.as_chunks::<BLOCK>();
    !blocks
        .iter()
        .fold(has_escape(last), |found, block| found | has_escape(block))
}

const BLOCK: usize = 16;

/// Whether `block` holds a byte serde_json escapes.
#[inline(always)]
fn has_escape(block: &[u8; BLOCK]) -> bool {
    // No early exit, so that the compiler checks the block's bytes at once.
    block.iter().fold(false, |found, &b| found | escaped(b))
}

/// Whether serde_json escapes the byte `b`.
#[inline(always)]
fn escaped(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\')
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

    #[test]
    fn an_escape_is_found_at_every_place_in_strings_of_every_length() {
        for len in 0..3 * BLOCK {
            let clean = "a".repeat(len);
            assert!(needs_no_escape(&clean), "{len}");
            for at in 0..len {
                for c in ['"', '\\', '\n', '\u{1f}'] {
                    let mut text = clean.clone();
                    text.replace_range(at..=at, &c.to_string());
                    assert!(!needs_no_escape(&text), "{text:?}");
                }
            }
        }
    }

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
