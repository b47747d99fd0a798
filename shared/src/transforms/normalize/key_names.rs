//! How `normalize` rewrites one key: lower-cased, dots and characters a Glue
//! column cannot hold turned into `_`, as the settings say.

/// The key settings, with what they make of each ASCII byte worked out once:
/// nearly every key is ASCII, and then each byte maps to one byte.
#[derive(Debug, Clone)]
pub(super) struct KeyNames {
    keep_case: bool,
    replace_dots: bool,
    safe_keys: bool,
    /// What each ASCII byte becomes.
    ascii: [u8; 128],
    /// The bytes that at most change case: ASCII that is not replaced.
    plain: [bool; 256],
}

impl KeyNames {
    pub(super) fn new(keep_case: bool, replace_dots: bool, safe_keys: bool) -> Self {
        let mut names = KeyNames {
            keep_case,
            replace_dots,
            safe_keys,
            ascii: [0; 128],
            plain: [false; 256],
        };
        for byte in 0..=127u8 {
            let at = usize::from(byte);
            let mut one = String::with_capacity(1);
            names.push_chars(char::from(byte).encode_utf8(&mut [0; 4]), &mut one);
            // Every rule maps ASCII to ASCII: lower-casing, or `_`.
            names.ascii[at] = one.bytes().next().unwrap_or(b'_');
            names.plain[at] = names.ascii[at] != b'_' || byte == b'_';
        }
        names
    }

    /// Appends `raw` rewritten.
    pub(super) fn push(&self, raw: &str, key: &mut String) {
        if raw.bytes().all(|b| self.plain[usize::from(b)]) {
            // Most keys: copied whole, then lower-cased in place.
            let start = key.len();
            key.push_str(raw);
            if !self.keep_case {
                key[start..].make_ascii_lowercase();
            }
        } else if raw.is_ascii() {
            self.push_ascii(raw, key);
        } else {
            self.push_chars(raw, key);
        }
    }

    /// Appends ASCII `raw` rewritten byte by byte, in blocks through a stack
    /// buffer: pushing it a character at a time costs several times more.
    fn push_ascii(&self, raw: &str, key: &mut String) {
        let mut block = [0u8; 64];
        for chunk in raw.as_bytes().chunks(block.len()) {
            let mapped = &mut block[..chunk.len()];
            for (to, from) in mapped.iter_mut().zip(chunk) {
                *to = self.ascii[usize::from(*from)];
            }
            // Always ASCII, so always text.
            key.push_str(std::str::from_utf8(mapped).unwrap_or_default());
        }
    }

    /// Appends `raw` rewritten a character at a time: any text.
    fn push_chars(&self, raw: &str, key: &mut String) {
        let lower = !self.keep_case && raw.chars().any(char::is_uppercase);
        // `str::to_lowercase` knows context (a final `Σ` is `ς`).
        let lowered;
        let chars = if lower {
            lowered = raw.to_lowercase();
            lowered.as_str()
        } else {
            raw
        };
        for c in chars.chars() {
            key.push(if self.replaced(c) { '_' } else { c });
        }
    }

    /// Whether a key's character becomes `_`.
    fn replaced(&self, c: char) -> bool {
        (self.replace_dots && c == '.') || (self.safe_keys && is_unsafe(c))
    }
}

/// A character a Glue column name cannot hold (dots have their own setting).
fn is_unsafe(c: char) -> bool {
    !(c.is_alphanumeric() || c == '_' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(names: &KeyNames, raw: &str) -> String {
        let mut key = String::new();
        names.push(raw, &mut key);
        key
    }

    #[test]
    fn ascii_bytes_map_as_characters_do() {
        let every_ascii: String = (0..=127u8).map(char::from).collect();
        for setting in 0..8 {
            let names = KeyNames::new(setting & 1 != 0, setting & 2 != 0, setting & 4 != 0);
            let mut by_chars = String::new();
            names.push_chars(&every_ascii, &mut by_chars);
            assert_eq!(
                rewritten(&names, &every_ascii),
                by_chars,
                "setting {setting}"
            );
            // Longer than one block.
            let long = every_ascii.repeat(3);
            assert_eq!(rewritten(&names, &long), by_chars.repeat(3));
        }
    }

    #[test]
    fn keys_as_the_defaults_write_them() {
        let names = KeyNames::new(false, true, true);
        assert_eq!(rewritten(&names, "X.Forwarded-For"), "x_forwarded_for");
        // A final capital sigma lowers to `ς`, as `str::to_lowercase` knows.
        assert_eq!(rewritten(&names, "ÉTÉ.ΟΔΟΣ"), "été_οδο\u{3c2}");
        let kept = KeyNames::new(true, false, false);
        assert_eq!(rewritten(&kept, "X.Forwarded-For"), "X.Forwarded-For");
    }
}
