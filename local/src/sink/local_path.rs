//! S3 keys as paths in a local folder, reversibly. S3 takes keys a folder
//! cannot hold as they are (a `.` or `..` segment, an empty one from `//` or
//! a leading or trailing `/`, NUL, a segment over 255 bytes), so those parts
//! are escaped with `%`, and `%` itself too:
//!
//! | in the key | in the path |
//! |---|---|
//! | `%` | `%25` |
//! | NUL | `%00` |
//! | a `.` segment, a `..` segment | `%2E`, `%2E%2E` |
//! | an empty segment | `%` |
//! | a segment longer than [`MAX_PIECE_BYTES`] | pieces of it, each but the last ending in `%+` |
//!
//! Every other key is its own path. A file whose name holds `%tmp` is one
//! being written (see [`TEMPORARY`]): no key's path holds it.

use std::path::{Component, Path, PathBuf};

/// The longest piece of a segment in one path component: room is left for [`CONTINUED`] and a
/// temporary name's suffix under Linux's 255 bytes.
pub const MAX_PIECE_BYTES: usize = 232;

/// Ends each piece of a long segment but the last.
const CONTINUED: &str = "%+";

/// In the name of a file being written, before it is renamed to its object's.
pub const TEMPORARY: &str = "%tmp";

/// The relative path `key` is kept at.
pub fn path_of(key: &str) -> PathBuf {
    let mut path = PathBuf::new();
    for segment in key.split('/') {
        let escaped = match segment {
            "" => "%".to_owned(),
            _ => segment.replace('%', "%25").replace('\0', "%00"),
        };
        let mut rest = escaped.as_str();
        while rest.len() > MAX_PIECE_BYTES {
            let mut cut = MAX_PIECE_BYTES;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            path.push(format!("{}{CONTINUED}", &rest[..cut]));
            rest = &rest[cut..];
        }
        // A `.` or `..` component would be taken as a folder, not a name: the
        // whole segment, or the last piece of a long one (`%2E` reads back
        // as `.` wherever it is in a segment).
        path.push(match rest {
            "." => "%2E",
            ".." => "%2E%2E",
            piece => piece,
        });
    }
    path
}

/// The key kept at the relative path `path` (the inverse of [`path_of`]); none
/// for a path no key is kept at (a temporary file, a name that is not UTF-8).
pub fn key_of(path: &Path) -> Option<String> {
    let mut segments: Vec<String> = Vec::new();
    let mut continued = false;
    for component in path.components() {
        let Component::Normal(name) = component else {
            return None;
        };
        let name = name.to_str()?;
        if name.contains(TEMPORARY) {
            return None;
        }
        let (piece, continues) = match name.strip_suffix(CONTINUED) {
            Some(piece) => (piece, true),
            None => (name, false),
        };
        match segments.last_mut() {
            Some(last) if continued => last.push_str(piece),
            _ => segments.push(piece.to_owned()),
        }
        continued = continues;
    }
    if continued {
        return None;
    }
    let segments: Vec<String> = segments.iter().map(|s| unescape(s)).collect();
    Some(segments.join("/"))
}

/// One segment's escaped text, as it was in the key.
fn unescape(escaped: &str) -> String {
    if escaped == "%" {
        return String::new();
    }
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3).unwrap_or("");
        out.push(match code {
            "25" => '%',
            "00" => '\0',
            "2E" => '.',
            // Not written by path_of: kept as it is.
            _ => {
                rest = &rest[at + 1..];
                out.push('%');
                continue;
            }
        });
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordinary_keys_are_their_own_paths() {
        let key = "rawdata/2026/12/01/10/stream-1-2026-12-01-10-00-00-uuid.gz";
        assert_eq!(path_of(key), Path::new(key));
        assert_eq!(key_of(Path::new(key)).as_deref(), Some(key));
    }

    #[test]
    fn keys_a_folder_cannot_hold_stay_inside_it_and_come_back() {
        let long = "x".repeat(600);
        for key in [
            "a/../../etc/passwd",
            "/abs",
            "a//b/",
            ".",
            "a/./b",
            "100%/25%25",
            "nul\0here",
            long.as_str(),
            // A long segment whose last piece alone would be `.` or `..`.
            &format!("{}a%.", "x".repeat(MAX_PIECE_BYTES - 4)),
            &format!("{}..", "x".repeat(MAX_PIECE_BYTES)),
            "",
        ] {
            let path = path_of(key);
            assert!(
                path.components()
                    .all(|c| matches!(c, Component::Normal(n) if n.len() <= 255)),
                "{key:?} → {path:?}"
            );
            assert_eq!(key_of(&path).as_deref(), Some(key), "{path:?}");
        }
    }

    #[test]
    fn temporary_files_are_no_key() {
        assert_eq!(key_of(Path::new("b/k/name%tmp123")), None);
    }

    proptest! {
        #[test]
        fn every_key_comes_back(key in "([a-z%./\u{0}é]{0,3}|x{200,300}){0,5}") {
            let path = path_of(&key);
            prop_assert!(path.components().all(|c| matches!(c, Component::Normal(n) if n.len() <= 255)));
            prop_assert_eq!(key_of(&path), Some(key));
        }
    }
}
