//! Integer run-length encoding, version 1 (format 0.11) and version 2 (format
//! 0.12), for integer values and for lengths, scales, nanoseconds and counts.
//!
//! Values are buffered and encoded a block at a time: runs of equal values
//! (v1: of one step) are found first, and what lies between them is written
//! as literals. Version 2 writes SHORT_REPEAT, DIRECT and DELTA runs, never
//! PATCHED_BASE, whose corner cases readers have disagreed on.

use super::varint::{write_signed, write_unsigned, zigzag};

/// The largest run either version writes in one header.
const MAX_V2_RUN: usize = 512;

/// Which integer RLE a stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RleVersion {
    V1,
    V2,
}

/// An integer stream: signed streams zigzag their values, unsigned ones
/// (lengths, nanoseconds) never hold negatives.
#[derive(Debug)]
pub struct IntRle {
    version: RleVersion,
    signed: bool,
    pending: Vec<i64>,
    out: Vec<u8>,
}

impl IntRle {
    pub fn new(version: RleVersion, signed: bool) -> IntRle {
        IntRle {
            version,
            signed,
            pending: Vec::with_capacity(MAX_V2_RUN),
            out: Vec::new(),
        }
    }

    pub fn push(&mut self, value: i64) {
        self.pending.push(value);
        if self.pending.len() == MAX_V2_RUN {
            self.flush();
        }
    }

    /// Encodes what is pending, so that the stream could end here.
    pub fn flush(&mut self) {
        match self.version {
            RleVersion::V1 => v1::encode(&mut self.out, &self.pending, self.signed),
            RleVersion::V2 => v2::encode(&mut self.out, &self.pending, self.signed),
        }
        self.pending.clear();
    }

    /// Bytes so far, pending values counted at 8 bytes each.
    pub fn len(&self) -> usize {
        self.out.len() + 8 * self.pending.len()
    }

    /// Where the next value will be read from: ends the runs in progress, so
    /// that a reader seeking here skips no values (`[offset, 0]`).
    pub fn mark(&mut self) -> (u64, Vec<u64>) {
        self.flush();
        (self.out.len() as u64, vec![0])
    }

    pub fn finish(&mut self) -> Vec<u8> {
        self.flush();
        std::mem::take(&mut self.out)
    }
}

/// The length of the run of `step`-apart values starting at `values[0]`
/// (equal values when `step` is 0), at most `max`.
fn run_length(values: &[i64], step: i64, max: usize) -> usize {
    let mut length = 1;
    while length < values.len().min(max)
        && values[length - 1].checked_add(step) == Some(values[length])
    {
        length += 1;
    }
    length
}

mod v1 {
    use super::*;

    const MIN_RUN: usize = 3;
    const MAX_RUN: usize = 130;
    const MAX_LITERALS: usize = 128;

    /// Runs: (length − 3, step as i8, first value); literals: (−count, values).
    pub fn encode(out: &mut Vec<u8>, values: &[i64], signed: bool) {
        let mut literals_from = 0;
        let mut at = 0;
        while at < values.len() {
            let step = values
                .get(at + 1)
                .and_then(|next| next.checked_sub(values[at]))
                .filter(|step| i8::try_from(*step).is_ok());
            let run = step.map_or(1, |step| run_length(&values[at..], step, MAX_RUN));
            if run >= MIN_RUN {
                literals(out, &values[literals_from..at], signed);
                out.push((run - MIN_RUN) as u8);
                out.push(step.unwrap_or(0) as i8 as u8);
                varint(out, values[at], signed);
                at += run;
                literals_from = at;
            } else {
                at += 1;
            }
        }
        literals(out, &values[literals_from..], signed);
    }

    fn literals(out: &mut Vec<u8>, values: &[i64], signed: bool) {
        for group in values.chunks(MAX_LITERALS) {
            out.push((group.len() as i8).wrapping_neg() as u8);
            group.iter().for_each(|&v| varint(out, v, signed));
        }
    }

    fn varint(out: &mut Vec<u8>, value: i64, signed: bool) {
        if signed {
            write_signed(out, value);
        } else {
            write_unsigned(out, value as u64);
        }
    }
}

mod v2 {
    use super::*;

    const MIN_REPEAT: usize = 3;
    const MAX_SHORT_REPEAT: usize = 10;

    /// Bit widths a header's 5-bit code can name, in code order.
    const WIDTHS: [u32; 32] = [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 26,
        28, 30, 32, 40, 48, 56, 64,
    ];

    pub fn encode(out: &mut Vec<u8>, values: &[i64], signed: bool) {
        let mut literals_from = 0;
        let mut at = 0;
        while at < values.len() {
            let run = run_length(&values[at..], 0, MAX_V2_RUN);
            if run >= MIN_REPEAT {
                literals(out, &values[literals_from..at], signed);
                repeat(out, values[at], run, signed);
                literals_from = at + run;
            }
            at += run;
        }
        literals(out, &values[literals_from..], signed);
    }

    /// The code and width for values of `bits` significant bits.
    fn width(bits: u32) -> (u8, u32) {
        let code = WIDTHS.iter().position(|&w| w >= bits.max(1)).unwrap_or(31);
        (code as u8, WIDTHS[code])
    }

    fn encoded(value: i64, signed: bool) -> u64 {
        if signed { zigzag(value) } else { value as u64 }
    }

    fn header(out: &mut Vec<u8>, kind: u8, width_code: u8, length: usize) {
        let length = length - 1;
        out.push(kind << 6 | width_code << 1 | (length >> 8) as u8);
        out.push(length as u8);
    }

    fn repeat(out: &mut Vec<u8>, value: i64, count: usize, signed: bool) {
        if count <= MAX_SHORT_REPEAT {
            let value = encoded(value, signed);
            let bytes = (64 - value.leading_zeros()).div_ceil(8).max(1) as usize;
            out.push(((bytes - 1) << 3 | (count - MIN_REPEAT)) as u8);
            out.extend_from_slice(&value.to_be_bytes()[8 - bytes..]);
        } else {
            // DELTA with width code 0: every step is the step base, here 0.
            header(out, 3, 0, count);
            first_value(out, value, signed);
            write_signed(out, 0);
        }
    }

    fn first_value(out: &mut Vec<u8>, value: i64, signed: bool) {
        if signed {
            write_signed(out, value);
        } else {
            write_unsigned(out, value as u64);
        }
    }

    /// Values that are not a repeat: DELTA where they move one way (and each
    /// step fits), else DIRECT.
    fn literals(out: &mut Vec<u8>, values: &[i64], signed: bool) {
        if values.len() >= 3 && delta(out, values, signed) {
            return;
        }
        let bits = values
            .iter()
            .map(|&v| 64 - encoded(v, signed).leading_zeros())
            .max();
        let Some(bits) = bits else { return };
        let (code, width) = width(bits);
        header(out, 1, code, values.len());
        pack(out, values.iter().map(|&v| encoded(v, signed)), width);
    }

    /// Writes `values` as one DELTA run if they are monotonic with a first
    /// step that is not 0; says whether it did.
    fn delta(out: &mut Vec<u8>, values: &[i64], signed: bool) -> bool {
        // Steps after the first; `None` when one overflows.
        let rest = || values[1..].windows(2).map(|w| w[1].checked_sub(w[0]));
        let base = match values[1].checked_sub(values[0]) {
            Some(base) if base != 0 => base,
            _ => return false,
        };
        // One pass that stops at the first step against the direction (most
        // literals are not monotonic): the widest step, and whether all equal.
        let (mut bits, mut fixed) = (0, true);
        for step in rest() {
            match step {
                Some(step) if step.signum() * base.signum() >= 0 => {
                    bits = bits.max(64 - step.unsigned_abs().leading_zeros());
                    fixed &= step == base;
                }
                _ => return false,
            }
        }
        // Code 0 means "fixed step", so a varying 1-bit step is written as 2 bits.
        let (code, width) = if fixed { (0, 0) } else { width(bits.max(2)) };
        header(out, 3, code, values.len());
        first_value(out, values[0], signed);
        write_signed(out, base);
        if !fixed {
            pack(out, rest().flatten().map(i64::unsigned_abs), width);
        }
        true
    }

    /// Big-endian bit packing, most significant bit first, padded to a byte.
    fn pack(out: &mut Vec<u8>, values: impl Iterator<Item = u64>, width: u32) {
        let mut buffer: u128 = 0;
        let mut bits = 0;
        for value in values {
            buffer = buffer << width | u128::from(value);
            bits += width;
            while bits >= 8 {
                bits -= 8;
                out.push((buffer >> bits) as u8);
            }
        }
        if bits > 0 {
            out.push((buffer << (8 - bits)) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(version: RleVersion, signed: bool, values: &[i64]) -> Vec<u8> {
        let mut rle = IntRle::new(version, signed);
        values.iter().for_each(|&v| rle.push(v));
        rle.finish()
    }

    /// The specification's examples (unsigned streams).
    #[test]
    fn v2_spec_examples() {
        let v2 = |values: &[i64]| encode(RleVersion::V2, false, values);
        assert_eq!(v2(&[10000; 5]), [0x0a, 0x27, 0x10]);
        assert_eq!(
            v2(&[23713, 43806, 57005, 48879]),
            [0x5e, 0x03, 0x5c, 0xa1, 0xab, 0x1e, 0xde, 0xad, 0xbe, 0xef]
        );
        // The specification packs these steps in 4 bits; 3 is the closest
        // width, which readers take as well.
        assert_eq!(
            v2(&[2, 3, 5, 7, 11, 13, 17, 19, 23, 29]),
            [0xc4, 0x09, 0x02, 0x02, 0x4a, 0x28, 0xa6]
        );
    }

    #[test]
    fn v2_long_repeats_are_fixed_deltas_and_extremes_fit() {
        let v2 = |values: &[i64]| encode(RleVersion::V2, true, values);
        // 100 × −1: DELTA, code 0, length 100, base zigzag(−1) = 1, step 0.
        assert_eq!(v2(&[-1; 100]), [0xc0, 99, 0x01, 0x00]);
        let extremes = v2(&[i64::MIN, i64::MAX]);
        assert_eq!(extremes[..2], [0x7e, 0x01]);
        assert_eq!(extremes.len(), 2 + 16);
        // A step that overflows i64 is not a delta.
        assert_eq!(v2(&[i64::MIN, 0, i64::MAX])[0] >> 6, 1);
    }

    #[test]
    fn v1_spec_examples() {
        let v1 = |values: &[i64]| encode(RleVersion::V1, false, values);
        assert_eq!(v1(&[7; 100]), [0x61, 0x00, 0x07]);
        let down: Vec<i64> = (1..=100).rev().collect();
        assert_eq!(v1(&down), [0x61, 0xff, 0x64]);
        assert_eq!(v1(&[2, 3, 6, 7, 11]), [0xfb, 0x02, 0x03, 0x06, 0x07, 0x0b]);
    }
}
