//! Decoding of the value encodings: byte RLE, booleans, integer RLE version 1
//! and version 2 (all four sub-encodings, PATCHED_BASE included, which other
//! writers use), varints. Each decodes a whole stream of a stripe.

use crate::OrcError;
use crate::encoding::int_rle::RleVersion;

/// Reads a stream's bytes in order, failing clearly where it ends too soon.
pub struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The stream, for error messages.
    name: &'a str,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8], name: &'a str) -> Cursor<'a> {
        Cursor { bytes, at: 0, name }
    }

    pub fn error(&self, what: &str) -> OrcError {
        OrcError::Read(format!("{}: {what} at byte {}", self.name, self.at))
    }

    pub fn byte(&mut self) -> Result<u8, OrcError> {
        let byte = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| self.error("the stream ends"))?;
        self.at += 1;
        Ok(byte)
    }

    pub fn take(&mut self, count: usize) -> Result<&'a [u8], OrcError> {
        let end = self
            .at
            .checked_add(count)
            .filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| self.error("the stream ends"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    /// A base-128 varint of at most 128 bits.
    pub fn varint_128(&mut self) -> Result<u128, OrcError> {
        let mut value = 0u128;
        for shift in (0..128).step_by(7) {
            let byte = self.byte()?;
            value |= u128::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error("a varint runs past 128 bits"))
    }

    pub fn unsigned(&mut self) -> Result<u64, OrcError> {
        u64::try_from(self.varint_128()?).map_err(|_| self.error("a varint runs past 64 bits"))
    }

    pub fn signed(&mut self) -> Result<i64, OrcError> {
        Ok(unzigzag(self.unsigned()?))
    }

    /// A decimal's unscaled value: a zigzagged varint of up to 128 bits.
    pub fn signed_128(&mut self) -> Result<i128, OrcError> {
        let value = self.varint_128()?;
        Ok((value >> 1) as i128 ^ -((value & 1) as i128))
    }

    /// `count` values of `width` bits, packed most significant bit first.
    fn unpack(&mut self, count: usize, width: u32, out: &mut Vec<u64>) -> Result<(), OrcError> {
        let bytes = (count as u64 * u64::from(width)).div_ceil(8) as usize;
        let packed = self.take(bytes)?;
        let mut buffer: u128 = 0;
        let mut bits = 0;
        let mut bytes = packed.iter();
        let mask = if width == 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        for _ in 0..count {
            while bits < width {
                // `bytes` holds enough for `count` values, checked above.
                buffer = buffer << 8 | u128::from(*bytes.next().unwrap_or(&0));
                bits += 8;
            }
            bits -= width;
            out.push((buffer >> bits) as u64 & mask);
        }
        Ok(())
    }
}

/// The most values a decoder reserves room for before reading them: a
/// damaged or hostile count fails at the stream's end, not at an allocation.
pub const MAX_RESERVED: usize = 1 << 20;

pub fn unzigzag(value: u64) -> i64 {
    (value >> 1) as i64 ^ -((value & 1) as i64)
}

/// Byte RLE: runs (`count - 3`, byte) and literal groups (`-count`, bytes…).
pub fn bytes(cursor: &mut Cursor, count: usize) -> Result<Vec<u8>, OrcError> {
    let mut out = Vec::with_capacity(count.min(MAX_RESERVED));
    while out.len() < count {
        let control = cursor.byte()? as i8;
        if control >= 0 {
            let byte = cursor.byte()?;
            out.resize(out.len() + control as usize + 3, byte);
        } else {
            out.extend_from_slice(cursor.take(usize::from(control.unsigned_abs()))?);
        }
    }
    out.truncate(count);
    Ok(out)
}

/// Booleans: byte RLE of bits, most significant first.
pub fn booleans(cursor: &mut Cursor, count: usize) -> Result<Vec<bool>, OrcError> {
    let packed = bytes(cursor, count.div_ceil(8))?;
    Ok((0..count)
        .map(|i| packed[i / 8] & (0x80 >> (i % 8)) != 0)
        .collect())
}

/// `count` integers of a stream in either RLE version; unsigned streams'
/// values are taken as they are, signed ones unzigzagged.
pub fn integers(
    cursor: &mut Cursor,
    version: RleVersion,
    signed: bool,
    count: usize,
) -> Result<Vec<i64>, OrcError> {
    let mut out = Vec::with_capacity(count.min(MAX_RESERVED));
    while out.len() < count {
        match version {
            RleVersion::V1 => v1_run(cursor, signed, &mut out)?,
            RleVersion::V2 => v2_run(cursor, signed, &mut out)?,
        }
    }
    if out.len() > count {
        return Err(cursor.error("a run goes past the column's values"));
    }
    Ok(out)
}

fn varint(cursor: &mut Cursor, signed: bool) -> Result<i64, OrcError> {
    if signed {
        cursor.signed()
    } else {
        Ok(cursor.unsigned()? as i64)
    }
}

/// Version 1: runs (`length - 3`, step as i8, first value) and literal
/// groups (`-count`, values…).
fn v1_run(cursor: &mut Cursor, signed: bool, out: &mut Vec<i64>) -> Result<(), OrcError> {
    let control = cursor.byte()? as i8;
    if control >= 0 {
        let step = i64::from(cursor.byte()? as i8);
        let first = varint(cursor, signed)?;
        for i in 0..i64::from(control) + 3 {
            out.push(first.wrapping_add(step.wrapping_mul(i)));
        }
    } else {
        for _ in 0..control.unsigned_abs() {
            out.push(varint(cursor, signed)?);
        }
    }
    Ok(())
}

/// The bit width a 5-bit code names.
fn width(code: u8) -> u32 {
    match code {
        0..=23 => u32::from(code) + 1,
        24 => 26,
        25 => 28,
        26 => 30,
        27 => 32,
        28 => 40,
        29 => 48,
        30 => 56,
        _ => 64,
    }
}

/// The smallest width a header can name that holds `bits`.
fn closest_width(bits: u32) -> u32 {
    (0..32).map(width).find(|&w| w >= bits).unwrap_or(64)
}

/// Version 2: one run of SHORT_REPEAT, DIRECT, PATCHED_BASE or DELTA.
fn v2_run(cursor: &mut Cursor, signed: bool, out: &mut Vec<i64>) -> Result<(), OrcError> {
    let header = cursor.byte()?;
    let decode = |v: u64| if signed { unzigzag(v) } else { v as i64 };
    if header >> 6 == 0 {
        // SHORT_REPEAT: 3 to 10 copies of a value of 1 to 8 bytes.
        let bytes = usize::from(header >> 3 & 7) + 1;
        let value = cursor
            .take(bytes)?
            .iter()
            .fold(0u64, |v, &b| v << 8 | u64::from(b));
        let value = decode(value);
        out.resize(out.len() + usize::from(header & 7) + 3, value);
        return Ok(());
    }
    let code = header >> 1 & 0x1f;
    let length = (usize::from(header & 1) << 8 | usize::from(cursor.byte()?)) + 1;
    let mut unpacked = Vec::with_capacity(length);
    match header >> 6 {
        1 => {
            cursor.unpack(length, width(code), &mut unpacked)?;
            out.extend(unpacked.into_iter().map(decode));
        }
        2 => patched_base(cursor, width(code), length, out)?,
        _ => {
            // DELTA: a first value, a step base, then the other steps'
            // magnitudes (none when the code is 0: every step is the base).
            let first = varint(cursor, signed)?;
            let base = cursor.signed()?;
            out.push(first);
            if length > 1 {
                out.push(first.wrapping_add(base));
            }
            let rest = length.saturating_sub(2);
            if code == 0 {
                for _ in 0..rest {
                    let last = out.last().copied().unwrap_or_default();
                    out.push(last.wrapping_add(base));
                }
            } else {
                cursor.unpack(rest, width(code), &mut unpacked)?;
                for step in unpacked {
                    let last = out.last().copied().unwrap_or_default();
                    out.push(if base < 0 {
                        last.wrapping_sub(step as i64)
                    } else {
                        last.wrapping_add(step as i64)
                    });
                }
            }
        }
    }
    Ok(())
}

/// PATCHED_BASE: a base (sign and magnitude), values above it in `width`
/// bits, and a patch list giving the high bits of the few that need more:
/// each entry is a gap from the last patched value and the bits to add.
fn patched_base(
    cursor: &mut Cursor,
    width_bits: u32,
    length: usize,
    out: &mut Vec<i64>,
) -> Result<(), OrcError> {
    let third = cursor.byte()?;
    let fourth = cursor.byte()?;
    let base_bytes = usize::from(third >> 5) + 1;
    let patch_width = width(third & 0x1f);
    let gap_width = u32::from(fourth >> 5) + 1;
    let patches = usize::from(fourth & 0x1f);
    let raw = cursor
        .take(base_bytes)?
        .iter()
        .fold(0u64, |v, &b| v << 8 | u64::from(b));
    let sign = 1u64 << (base_bytes * 8 - 1);
    let base = if raw & sign != 0 {
        -((raw & !sign) as i64)
    } else {
        raw as i64
    };
    let mut values = Vec::with_capacity(length);
    cursor.unpack(length, width_bits, &mut values)?;
    let mut entries = Vec::with_capacity(patches);
    if gap_width + patch_width > 64 {
        return Err(cursor.error("a patch wider than 64 bits"));
    }
    cursor.unpack(
        patches,
        closest_width(gap_width + patch_width),
        &mut entries,
    )?;
    let patch_mask = if patch_width == 64 {
        u64::MAX
    } else {
        (1 << patch_width) - 1
    };
    let mut at = 0usize;
    for entry in entries {
        let (gap, patch) = (entry >> patch_width, entry & patch_mask);
        at += gap as usize;
        // A gap of 255 with no patch only carries the gap further.
        if gap == 255 && patch == 0 {
            continue;
        }
        let value = values
            .get_mut(at)
            .ok_or_else(|| cursor.error("a patch past the run"))?;
        *value |= patch.checked_shl(width_bits).unwrap_or(0);
    }
    out.extend(values.into_iter().map(|v| base.wrapping_add(v as i64)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::int_rle::IntRle;

    fn ints(bytes: &[u8], version: RleVersion, signed: bool, count: usize) -> Vec<i64> {
        integers(&mut Cursor::new(bytes, "test"), version, signed, count).unwrap()
    }

    /// The specification's examples, PATCHED_BASE's among them.
    #[test]
    fn v2_spec_examples() {
        assert_eq!(
            ints(&[0x0a, 0x27, 0x10], RleVersion::V2, false, 5),
            [10000; 5]
        );
        assert_eq!(
            ints(
                &[0x5e, 0x03, 0x5c, 0xa1, 0xab, 0x1e, 0xde, 0xad, 0xbe, 0xef],
                RleVersion::V2,
                false,
                4
            ),
            [23713, 43806, 57005, 48879]
        );
        let patched = [
            0x8e, 0x13, 0x2b, 0x21, 0x07, 0xd0, 0x1e, 0x00, 0x14, 0x70, 0x28, 0x32, 0x3c, 0x46,
            0x50, 0x5a, 0x64, 0x6e, 0x78, 0x82, 0x8c, 0x96, 0xa0, 0xaa, 0xb4, 0xbe, 0xfc, 0xe8,
        ];
        assert_eq!(
            ints(&patched, RleVersion::V2, false, 20),
            [
                2030, 2000, 2020, 1000000, 2040, 2050, 2060, 2070, 2080, 2090, 2100, 2110, 2120,
                2130, 2140, 2150, 2160, 2170, 2180, 2190
            ]
        );
        assert_eq!(
            ints(
                &[0xc6, 0x09, 0x02, 0x02, 0x22, 0x42, 0x42, 0x46],
                RleVersion::V2,
                false,
                10
            ),
            [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
        );
    }

    #[test]
    fn what_the_writer_writes_reads_back() {
        let mut random = fastrand::Rng::with_seed(3);
        for version in [RleVersion::V1, RleVersion::V2] {
            for signed in [true, false] {
                let values: Vec<i64> = (0..5000)
                    .map(|i| match i / 500 % 5 {
                        0 => random.i64(..),
                        1 => 7,
                        2 => i * 3,
                        3 => random.i64(-3..1000),
                        _ => -i,
                    })
                    .map(|v| if signed { v } else { v.wrapping_abs().max(0) })
                    .collect();
                let mut rle = IntRle::new(version, signed);
                values.iter().for_each(|&v| rle.push(v));
                assert_eq!(ints(&rle.finish(), version, signed, values.len()), values);
            }
        }
    }

    #[test]
    fn booleans_and_bytes_read_back_and_short_streams_are_named() {
        assert_eq!(
            bytes(&mut Cursor::new(&[0x61, 0x00], "b"), 100).unwrap(),
            [0; 100]
        );
        assert_eq!(
            booleans(&mut Cursor::new(&[0xff, 0x80], "b"), 8).unwrap(),
            [true, false, false, false, false, false, false, false]
        );
        let short = bytes(&mut Cursor::new(&[0xfe, 0x44], "column 3 DATA"), 2);
        assert_eq!(
            short.unwrap_err().to_string(),
            "reading the ORC file: column 3 DATA: the stream ends at byte 1"
        );
    }
}
