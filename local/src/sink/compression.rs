//! `CompressionFormat`: what each object holds, as AWS writes it, and reading
//! any of them back (`replay`, `cat`).
//!
//! What AWS writes was observed on the service and reported in floci's issue
//! #2328 (objects reproduced byte for byte): `ZIP` is one deflated entry named
//! with a random UUID; `Snappy` is snappy-java's stream format (a 16-byte
//! header, then blocks of a big-endian compressed length and raw Snappy), not
//! Google's framing format; `HADOOP_SNAPPY` is Hadoop's block format (each block
//! its uncompressed length, its compressed length, raw Snappy); both Snappy
//! kinds are named `.snappy`, although AWS's object-name page says `.hsnappy`
//! for Hadoop's.

use std::io::{BufRead, BufReader, Cursor, Read, Write};

use flate2::Compression as Level;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

/// `CompressionFormat`, in the order AWS's refusal lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zip,
    HadoopSnappy,
    Snappy,
    Gzip,
    Uncompressed,
}

/// snappy-java's stream header: its magic, then version 1 and compatible version 1.
const SNAPPY_JAVA_HEADER: [u8; 16] = [
    0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
];
/// The uncompressed bytes in one Snappy block: snappy-java's default, which
/// Hadoop's decompressor (a 256 KiB buffer) takes too.
const SNAPPY_BLOCK: usize = 32 << 10;

impl Compression {
    /// The names AWS takes, exactly as it spells them (`Snappy` is not `SNAPPY`).
    pub const NAMES: [&str; 5] = ["ZIP", "HADOOP_SNAPPY", "Snappy", "GZIP", "UNCOMPRESSED"];
    const ALL: [Compression; 5] = [
        Compression::Zip,
        Compression::HadoopSnappy,
        Compression::Snappy,
        Compression::Gzip,
        Compression::Uncompressed,
    ];

    /// The format AWS names `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Compression> {
        let index = Self::NAMES.iter().position(|known| *known == name)?;
        Some(Self::ALL[index])
    }

    /// Its name in the API and in templates.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The extension of its objects when `FileExtension` does not say.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::Uncompressed => "",
            Compression::Gzip => ".gz",
            Compression::Zip => ".zip",
            Compression::Snappy | Compression::HadoopSnappy => ".snappy",
        }
    }

    /// The `Content-Encoding` AWS sets on its objects (observed: floci's issue #2328).
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Compression::Uncompressed => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zip => Some("zip"),
            Compression::Snappy => Some("snappy-java"),
            Compression::HadoopSnappy => Some("hadoop-snappy"),
        }
    }

    /// The format `object` is in, told by its bytes (an object written
    /// before, as `replay --undelivered` delivers it).
    pub fn of_object(object: &[u8]) -> Compression {
        match format_of(object) {
            Compression::HadoopSnappy if unsnappy(object, true).is_err() => {
                Compression::Uncompressed
            }
            format => format,
        }
    }

    /// An object holding `data`; a ZIP's one entry is named `entry_name()`.
    pub fn compress(self, data: Vec<u8>, entry_name: impl FnOnce() -> String) -> Vec<u8> {
        match self {
            Compression::Uncompressed => data,
            Compression::Gzip => gzip(&data),
            Compression::Zip => zip(&data, &entry_name()),
            Compression::Snappy => snappy_blocks(&data, &SNAPPY_JAVA_HEADER, false),
            Compression::HadoopSnappy => snappy_blocks(&data, &[], true),
        }
    }
}

/// Why an object could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("not a whole {format} object: {why}")]
pub struct NotWhole {
    format: &'static str,
    why: String,
}

/// The format of an object that starts with `head` (16 bytes, or all it has).
/// Hadoop's blocks have no magic, but a block's uncompressed length is far
/// under 16 MiB, so their first byte is 0: a guess, for the caller to confirm.
fn format_of(head: &[u8]) -> Compression {
    if head.starts_with(b"PK\x03\x04") {
        Compression::Zip
    } else if head.starts_with(&SNAPPY_JAVA_HEADER[..8]) {
        Compression::Snappy
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.first() == Some(&0) {
        Compression::HadoopSnappy
    } else {
        Compression::Uncompressed
    }
}

/// The records an object holds, whichever format it is in, told by its first
/// bytes: gzip, and records as they are, stream; ZIP and the Snappy kinds are
/// read whole. What looks like Hadoop's blocks and does not parse as them is
/// taken as it is.
pub fn reader<'a>(mut object: impl Read + 'a) -> std::io::Result<Box<dyn BufRead + 'a>> {
    let mut head = Vec::with_capacity(SNAPPY_JAVA_HEADER.len());
    (&mut object)
        .take(SNAPPY_JAVA_HEADER.len() as u64)
        .read_to_end(&mut head)?;
    let format = format_of(&head);
    if let Compression::Gzip | Compression::Uncompressed = format {
        let object = Cursor::new(head).chain(object);
        return Ok(if format == Compression::Gzip {
            Box::new(BufReader::new(MultiGzDecoder::new(object)))
        } else {
            Box::new(BufReader::new(object))
        });
    }
    let mut whole = head;
    object.read_to_end(&mut whole)?;
    let failed = |why| {
        std::io::Error::other(NotWhole {
            format: format.name(),
            why,
        })
    };
    let records = match format {
        Compression::Zip => unzip(whole).map_err(failed)?,
        Compression::Snappy => {
            unsnappy(&whole[SNAPPY_JAVA_HEADER.len().min(whole.len())..], false).map_err(failed)?
        }
        _ => unsnappy(&whole, true).unwrap_or(whole),
    };
    Ok(Box::new(Cursor::new(records)))
}

/// The records `object` holds, whole: `reader`'s.
pub fn decompress(object: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut records = Vec::new();
    reader(Cursor::new(object))?.read_to_end(&mut records)?;
    Ok(records)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 4), Level::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

fn zip(data: &[u8], entry_name: &str) -> Vec<u8> {
    let mut archive = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(data.len() / 4)));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        // Objects reach 128 MiB and more before compression: past 4 GiB a
        // ZIP needs Zip64, which the writer adds only when asked up front.
        .large_file(data.len() as u64 >= u64::from(u32::MAX));
    // Writing to memory fails only on a bug of the writer's; an empty object says so to every reader.
    let written = archive
        .start_file(entry_name, options)
        .map_err(std::io::Error::other)
        .and_then(|()| archive.write_all(data))
        .and_then(|()| archive.finish().map_err(std::io::Error::other));
    written.map(Cursor::into_inner).unwrap_or_default()
}

fn unzip(object: Vec<u8>) -> Result<Vec<u8>, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(object)).map_err(|e| e.to_string())?;
    let mut data = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| e.to_string())?;
        entry
            .read_to_end(&mut data)
            .map_err(|e| format!("entry {index}: {e}"))?;
    }
    Ok(data)
}

/// `header`, then each block of `data` as raw Snappy behind its big-endian
/// compressed length, and first its uncompressed length if `hadoop`.
fn snappy_blocks(data: &[u8], header: &[u8], hadoop: bool) -> Vec<u8> {
    let mut encoder = snap::raw::Encoder::new();
    let mut out = Vec::with_capacity(header.len() + data.len() / 2);
    out.extend_from_slice(header);
    let mut compressed = vec![0; snap::raw::max_compress_len(SNAPPY_BLOCK)];
    for block in data.chunks(SNAPPY_BLOCK) {
        // A block of at most SNAPPY_BLOCK bytes always fits the buffer.
        let length = encoder.compress(block, &mut compressed).unwrap_or(0);
        if hadoop {
            out.extend_from_slice(&(block.len() as u32).to_be_bytes());
        }
        out.extend_from_slice(&(length as u32).to_be_bytes());
        out.extend_from_slice(&compressed[..length]);
    }
    out
}

/// The reverse of `snappy_blocks`, after the header.
fn unsnappy(mut blocks: &[u8], hadoop: bool) -> Result<Vec<u8>, String> {
    let mut decoder = snap::raw::Decoder::new();
    let mut data = Vec::new();
    let take = |blocks: &mut &[u8]| -> Result<usize, String> {
        let (length, rest) = blocks
            .split_first_chunk::<4>()
            .ok_or("it ends inside a block's length")?;
        *blocks = rest;
        Ok(u32::from_be_bytes(*length) as usize)
    };
    while !blocks.is_empty() {
        let expected = if hadoop {
            Some(take(&mut blocks)?)
        } else {
            None
        };
        let length = take(&mut blocks)?;
        let block = blocks.get(..length).ok_or("it ends inside a block")?;
        blocks = &blocks[length..];
        let start = data.len();
        data.extend(decoder.decompress_vec(block).map_err(|e| e.to_string())?);
        if expected.is_some_and(|expected| expected != data.len() - start) {
            return Err("a block is not the length its header says".to_owned());
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Vec<u8> {
        (0..20_000)
            .map(|n| format!("{{\"n\":{n},\"text\":\"record number {n}\"}}\n"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn every_format_reads_back_as_its_records() {
        let data = records();
        for format in Compression::ALL {
            let object = format.compress(data.clone(), || "entry".to_owned());
            assert_eq!(decompress(object).unwrap(), data, "{format:?}");
        }
    }

    #[test]
    fn names_are_aws_spelling_and_extensions_as_aws_names_objects() {
        for format in Compression::ALL {
            assert_eq!(Compression::from_name(format.name()), Some(format));
        }
        assert_eq!(Compression::from_name("SNAPPY"), None);
        assert_eq!(Compression::from_name("gzip"), None);
        let extensions = Compression::ALL.map(Compression::extension);
        assert_eq!(extensions, [".zip", ".snappy", ".snappy", ".gz", ""]);
    }

    #[test]
    fn the_snappy_kinds_are_snappy_java_streams_and_hadoop_blocks() {
        let data = records();
        let snappy = Compression::Snappy.compress(data.clone(), String::new);
        assert_eq!(snappy[..16], SNAPPY_JAVA_HEADER);
        let first = u32::from_be_bytes(snappy[16..20].try_into().unwrap()) as usize;
        let block = snap::raw::Decoder::new()
            .decompress_vec(&snappy[20..20 + first])
            .unwrap();
        assert_eq!(block, data[..SNAPPY_BLOCK]);

        let hadoop = Compression::HadoopSnappy.compress(data.clone(), String::new);
        let uncompressed = u32::from_be_bytes(hadoop[..4].try_into().unwrap()) as usize;
        assert_eq!(uncompressed, SNAPPY_BLOCK);
    }

    #[test]
    fn an_object_s_format_is_told_by_its_bytes() {
        let data = records();
        for format in Compression::ALL {
            let object = format.compress(data.clone(), || "e".to_owned());
            assert_eq!(Compression::of_object(&object), format);
        }
        for plain in [&b"PAR1"[..], b"", b"\x00\x00\x00\x05ab"] {
            assert_eq!(Compression::of_object(plain), Compression::Uncompressed);
        }
    }

    #[test]
    fn a_zip_holds_one_entry_by_the_name_given() {
        let object = Compression::Zip.compress(b"a\nb\n".to_vec(), || "the-uuid".to_owned());
        let mut archive = zip::ZipArchive::new(Cursor::new(object)).unwrap();
        assert_eq!(archive.len(), 1);
        let entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "the-uuid");
        assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
    }

    #[test]
    fn records_that_are_not_compressed_come_back_as_they_are_and_cut_objects_are_refused() {
        for plain in [&b""[..], b"{\"a\":1}\n", b"\x00\x00\x00\x05ab"] {
            assert_eq!(decompress(plain.to_vec()).unwrap(), plain);
        }
        let snappy = Compression::Snappy.compress(records(), String::new);
        let cut = snappy[..snappy.len() - 10].to_vec();
        assert!(decompress(cut).unwrap_err().to_string().contains("Snappy"));
        let zip = Compression::Zip.compress(records(), || "e".to_owned());
        assert!(decompress(zip[..zip.len() / 2].to_vec()).is_err());
    }
}
