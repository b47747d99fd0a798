//! Stream compression: each stream (and each metadata message) is cut into
//! chunks of at most the block size, each compressed on its own behind a
//! 3-byte header, or kept as it is where compressing would not make it smaller.

use std::io::{Read as _, Write};

use crate::OrcError;
use crate::proto::CompressionKind;

/// The codecs Firehose's `OrcSerDe` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    /// Raw DEFLATE (no zlib header or checksum).
    Zlib,
    /// Raw Snappy blocks (not the framed format).
    Snappy,
}

impl Compression {
    pub(crate) fn kind(self) -> CompressionKind {
        match self {
            Compression::None => CompressionKind::None,
            Compression::Zlib => CompressionKind::Zlib,
            Compression::Snappy => CompressionKind::Snappy,
        }
    }
}

/// The chunk header's length field has 23 bits.
pub const MAX_BLOCK_SIZE: usize = (1 << 23) - 1;

/// `bytes` as they are stored: as they are without a codec, else chunks of
/// at most `block_size` bytes.
pub fn compress(
    codec: Compression,
    block_size: usize,
    bytes: Vec<u8>,
) -> Result<Vec<u8>, OrcError> {
    if codec == Compression::None {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() / 2);
    let mut compressed = Vec::new();
    for chunk in bytes.chunks(block_size) {
        compressed.clear();
        if codec == Compression::Zlib {
            let mut encoder =
                flate2::write::DeflateEncoder::new(&mut compressed, flate2::Compression::default());
            encoder.write_all(chunk)?;
            encoder.finish()?;
        } else {
            compressed.resize(snap::raw::max_compress_len(chunk.len()), 0);
            let length = snap::raw::Encoder::new()
                .compress(chunk, &mut compressed)
                .map_err(|e| OrcError::Io(std::io::Error::other(e)))?;
            compressed.truncate(length);
        }
        let original = compressed.len() >= chunk.len();
        let payload = if original { chunk } else { &compressed[..] };
        let header = (payload.len() as u32) << 1 | u32::from(original);
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.extend_from_slice(payload);
    }
    Ok(out)
}

/// A row group's start in a stored stream, for the row index: the byte
/// offset if uncompressed; else where the chunk holding `offset` starts in
/// `stored`, and `offset`'s place in that chunk once decompressed. A start at
/// the stream's very end names the end of its last chunk, not an empty chunk
/// after it (Trino refuses the latter).
pub fn position(codec: Compression, block_size: usize, stored: &[u8], offset: u64) -> Vec<u64> {
    if codec == Compression::None {
        return vec![offset];
    }
    let mut starts = Vec::new();
    let mut at = 0;
    while at + 3 <= stored.len() {
        starts.push(at as u64);
        let header = u32::from_le_bytes([stored[at], stored[at + 1], stored[at + 2], 0]);
        at += 3 + (header >> 1) as usize;
    }
    let block = block_size as u64;
    let chunk = (offset / block) as usize;
    match starts.get(chunk) {
        Some(start) => vec![*start, offset % block],
        None if chunk > 0 && chunk == starts.len() => vec![starts[chunk - 1], block],
        None => vec![0, 0],
    }
}

/// A stored stream or message as it was before compression. A chunk may
/// not grow past `block_size` (the PostScript's), so that a damaged or
/// hostile file cannot make a reader hold more than it says.
pub fn decompress(
    codec: Compression,
    block_size: usize,
    stored: &[u8],
) -> Result<Vec<u8>, OrcError> {
    if codec == Compression::None {
        return Ok(stored.to_vec());
    }
    let damaged = |what: String| OrcError::Read(format!("a compressed stream {what}"));
    let mut out = Vec::with_capacity(stored.len() * 2);
    let mut at = 0;
    while at < stored.len() {
        let header = stored
            .get(at..at + 3)
            .ok_or_else(|| damaged("ends inside a chunk header".to_owned()))?;
        let header = u32::from_le_bytes([header[0], header[1], header[2], 0]);
        let length = (header >> 1) as usize;
        let chunk = stored
            .get(at + 3..at + 3 + length)
            .ok_or_else(|| damaged("ends inside a chunk".to_owned()))?;
        at += 3 + length;
        let start = out.len();
        if header & 1 == 1 {
            out.extend_from_slice(chunk);
        } else if codec == Compression::Zlib {
            let decoder = flate2::read::DeflateDecoder::new(chunk);
            std::io::Read::read_to_end(&mut decoder.take(block_size as u64 + 1), &mut out)
                .map_err(|e| damaged(format!("does not inflate: {e}")))?;
        } else {
            let length = snap::raw::decompress_len(chunk)
                .map_err(|e| damaged(format!("is not Snappy: {e}")))?;
            if length > block_size {
                return Err(damaged(format!(
                    "has a chunk of {length} bytes, past the block size {block_size}"
                )));
            }
            out.resize(start + length, 0);
            snap::raw::Decoder::new()
                .decompress(chunk, &mut out[start..])
                .map_err(|e| damaged(format!("is not Snappy: {e}")))?;
        }
        if out.len() - start > block_size {
            return Err(damaged(format!(
                "has a chunk past the block size {block_size}"
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incompressible_chunks_are_kept_as_they_are_behind_a_header() {
        let out = compress(Compression::Zlib, 1024, b"hello".to_vec()).unwrap_or_default();
        assert_eq!(out, [0x0b, 0x00, 0x00, b'h', b'e', b'l', b'l', b'o']);
    }

    #[test]
    fn positions_name_the_chunk_and_the_place_in_it() {
        let stored = compress(Compression::Snappy, 1000, vec![7u8; 2500]).unwrap_or_default();
        let second = 3 + (u32::from_le_bytes([stored[0], stored[1], stored[2], 0]) >> 1) as u64;
        let at = |offset| position(Compression::Snappy, 1000, &stored, offset);
        assert_eq!(at(0), [0, 0]);
        assert_eq!(at(1000), [second, 0]);
        assert_eq!(at(1999), [second, 999]);
        assert_eq!(at(2500)[1], 500);
        let whole = compress(Compression::Snappy, 1000, vec![7u8; 2000]).unwrap_or_default();
        assert_eq!(
            position(Compression::Snappy, 1000, &whole, 2000),
            [second, 1000]
        );
        assert_eq!(position(Compression::Zlib, 1000, &[], 0), [0, 0]);
        assert_eq!(position(Compression::None, 1000, &[], 9), [9]);
    }

    #[test]
    fn each_chunk_is_at_most_a_block() {
        let bytes = vec![7u8; 2500];
        let out = compress(Compression::Snappy, 1000, bytes).unwrap_or_default();
        let mut at = 0;
        let mut chunks = 0;
        while at < out.len() {
            let header = u32::from_le_bytes([out[at], out[at + 1], out[at + 2], 0]);
            assert_eq!(header & 1, 0, "repeated bytes compress");
            let length = (header >> 1) as usize;
            let chunk = snap::raw::Decoder::new()
                .decompress_vec(&out[at + 3..at + 3 + length])
                .unwrap_or_default();
            assert!(chunk.len() <= 1000 && chunk.iter().all(|&b| b == 7));
            at += 3 + length;
            chunks += 1;
        }
        assert_eq!(chunks, 3);
    }

    #[test]
    fn what_is_compressed_decompresses_and_damage_is_named() {
        let bytes: Vec<u8> = (0..5000u32).map(|i| (i % 7 * i % 13) as u8).collect();
        for codec in [Compression::None, Compression::Zlib, Compression::Snappy] {
            let stored = compress(codec, 1000, bytes.clone()).unwrap();
            assert_eq!(decompress(codec, 1000, &stored).unwrap(), bytes);
        }
        let stored = compress(Compression::Zlib, 1000, bytes).unwrap();
        let cut = decompress(Compression::Zlib, 1000, &stored[..stored.len() - 1]);
        assert!(cut.unwrap_err().to_string().contains("ends inside a chunk"));
        let bomb = compress(Compression::Snappy, 5000, vec![0; 5000]).unwrap();
        let refused = decompress(Compression::Snappy, 1000, &bomb);
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("past the block size")
        );
    }
}
