//! Reading lines with a cap: input files, error objects and a function's logs
//! come from programs we do not control, and a line with no newline must not
//! be read whole into memory before anyone looks at its size.

use std::io::{self, BufRead};

/// The longest input or error-object line read: a record of 1,000 KiB as JSON
/// escapes (`\u0000`, six bytes a byte) with room to spare.
pub const MAX_LINE_BYTES: usize = 8 << 20;

/// One line, without its newline.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The whole line is in the buffer.
    Whole,
    /// The line is longer than the cap: the buffer holds its first `cap` bytes
    /// and the rest was read past; `bytes` is its whole length.
    TooLong { bytes: u64 },
}

/// Reads the next line of `reader` into `buffer` (cleared first), keeping at
/// most `cap` bytes of it; `None` at the end of the input.
pub fn read_capped(
    reader: &mut impl BufRead,
    buffer: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<Line>> {
    buffer.clear();
    let mut length: u64 = 0;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        any = true;
        let (chunk, ended) = match memchr::memchr(b'\n', available) {
            Some(at) => (&available[..at], Some(at + 1)),
            None => (available, None),
        };
        let room = cap.saturating_sub(buffer.len());
        buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        length += chunk.len() as u64;
        let used = ended.unwrap_or(available.len());
        reader.consume(used);
        if ended.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    Ok(Some(if length > cap as u64 {
        Line::TooLong { bytes: length }
    } else {
        Line::Whole
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], cap: usize) -> Vec<(Vec<u8>, Line)> {
        // A small buffer: lines cross many fills.
        let mut reader = io::BufReader::with_capacity(3, input);
        let mut buffer = Vec::new();
        let mut lines = Vec::new();
        while let Some(line) = read_capped(&mut reader, &mut buffer, cap).unwrap() {
            lines.push((buffer.clone(), line));
        }
        lines
    }

    #[test]
    fn lines_are_read_without_their_newline_and_the_last_needs_none() {
        assert_eq!(
            all(b"ab\n\ncd", 10),
            [
                (b"ab".to_vec(), Line::Whole),
                (Vec::new(), Line::Whole),
                (b"cd".to_vec(), Line::Whole)
            ]
        );
        assert!(all(b"", 10).is_empty());
    }

    #[test]
    fn a_long_line_keeps_its_head_and_the_next_line_is_read_whole() {
        assert_eq!(
            all(b"abcdefgh\nxy\n", 4),
            [
                (b"abcd".to_vec(), Line::TooLong { bytes: 8 }),
                (b"xy".to_vec(), Line::Whole)
            ]
        );
        assert_eq!(all(b"abcd", 4), [(b"abcd".to_vec(), Line::Whole)]);
    }
}
