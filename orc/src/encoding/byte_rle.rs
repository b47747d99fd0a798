//! Byte run-length encoding (tinyint values, and the bytes under boolean
//! streams), and boolean encoding: bits packed most significant first into
//! bytes that are then byte-RLE'd.

/// Runs are 3 to 130 copies; literal groups 1 to 128 bytes.
const MIN_RUN: usize = 3;
const MAX_RUN: usize = 130;
const MAX_LITERALS: usize = 128;

/// Encodes bytes into runs (`count - 3`, byte) and literal groups
/// (`-count`, bytes…).
#[derive(Debug, Default)]
pub struct ByteRle {
    out: Vec<u8>,
    /// Bytes not yet written: literals, whose last `run` bytes are equal.
    pending: Vec<u8>,
    run: usize,
}

impl ByteRle {
    pub fn push(&mut self, byte: u8) {
        if self.run >= MIN_RUN && self.pending.last() != Some(&byte) {
            // The run ended: it goes out before the new byte starts anything.
            self.flush();
        }
        if self.pending.last() == Some(&byte) {
            self.run += 1;
        } else {
            self.run = 1;
        }
        self.pending.push(byte);
        let literals = self.pending.len() - self.run;
        if self.run == MIN_RUN && literals > 0 {
            // A run starts: the literals before it go out on their own.
            self.write_literals(literals);
        } else if self.run == MAX_RUN {
            self.flush();
        } else if self.run < MIN_RUN && self.pending.len() == MAX_LITERALS {
            self.write_literals(MAX_LITERALS);
        }
    }

    /// Writes everything pending, so that the stream ends here.
    pub fn flush(&mut self) {
        if self.run >= MIN_RUN {
            self.out.push((self.run - MIN_RUN) as u8);
            self.out.push(self.pending[0]);
            self.pending.clear();
            self.run = 0;
        } else if !self.pending.is_empty() {
            self.write_literals(self.pending.len());
        }
    }

    fn write_literals(&mut self, count: usize) {
        self.out.push((count as i8).wrapping_neg() as u8);
        self.out.extend(self.pending.drain(..count));
        if self.pending.is_empty() {
            self.run = 0;
        }
    }

    /// Bytes so far, pending ones included.
    pub fn len(&self) -> usize {
        self.out.len() + self.pending.len()
    }

    /// Where the next byte will be read from: ends the run in progress, so
    /// that a reader seeking here skips no values (`[offset, 0]`).
    pub fn mark(&mut self) -> (u64, Vec<u64>) {
        self.flush();
        (self.out.len() as u64, vec![0])
    }

    /// The encoded stream; flushes first.
    pub fn finish(&mut self) -> Vec<u8> {
        self.flush();
        std::mem::take(&mut self.out)
    }
}

/// Booleans as bits, most significant first, over byte RLE; an unfinished last
/// byte is padded with zero bits.
#[derive(Debug, Default)]
pub struct BooleanRle {
    bytes: ByteRle,
    current: u8,
    bits: u8,
}

impl BooleanRle {
    pub fn push(&mut self, value: bool) {
        self.current |= u8::from(value) << (7 - self.bits);
        self.bits += 1;
        if self.bits == 8 {
            self.bytes.push(self.current);
            self.current = 0;
            self.bits = 0;
        }
    }

    /// Pushes `count` trues: whole bytes at a time once aligned.
    pub fn push_trues(&mut self, mut count: usize) {
        while count > 0 && self.bits > 0 {
            self.push(true);
            count -= 1;
        }
        (0..count / 8).for_each(|_| self.bytes.push(0xff));
        (0..count % 8).for_each(|_| self.push(true));
    }

    pub fn len(&self) -> usize {
        self.bytes.len() + 1
    }

    /// Where the next boolean will be read from: `[offset, 0, bits]`, the
    /// bits of the unfinished byte that belong before the mark.
    pub fn mark(&mut self) -> (u64, Vec<u64>) {
        let (offset, mut run) = self.bytes.mark();
        run.push(u64::from(self.bits));
        (offset, run)
    }

    pub fn finish(&mut self) -> Vec<u8> {
        if self.bits > 0 {
            self.bytes.push(self.current);
            self.current = 0;
            self.bits = 0;
        }
        self.bytes.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(values: &[u8]) -> Vec<u8> {
        let mut rle = ByteRle::default();
        values.iter().for_each(|&b| rle.push(b));
        rle.finish()
    }

    /// The specification's examples.
    #[test]
    fn spec_examples() {
        assert_eq!(bytes(&[0; 100]), [0x61, 0x00]);
        assert_eq!(bytes(&[0x44, 0x45]), [0xfe, 0x44, 0x45]);
    }

    #[test]
    fn runs_and_literals_mix_and_split_at_their_limits() {
        assert_eq!(bytes(&[1, 2, 7, 7, 7, 7, 3]), [0xfe, 1, 2, 1, 7, 0xff, 3]);
        assert_eq!(bytes(&[5; 131]), [127, 5, 0xff, 5]);
        let literals: Vec<u8> = (0..=200).collect();
        let encoded = bytes(&literals);
        assert_eq!(encoded[0], 0x80);
        assert_eq!(encoded[129], (-73i8) as u8);
        assert_eq!(encoded.len(), 2 + 201);
        assert_eq!(bytes(&[9, 9]), [0xfe, 9, 9]);
    }

    #[test]
    fn booleans_pack_most_significant_bit_first() {
        let mut rle = BooleanRle::default();
        rle.push(true);
        (0..7).for_each(|_| rle.push(false));
        rle.push(true);
        assert_eq!(rle.finish(), [0xfe, 0x80, 0x80]);
    }

    #[test]
    fn trues_pushed_at_once_are_the_same_bits_as_one_by_one() {
        for (before, count) in [(0, 0), (0, 8), (3, 5), (3, 4), (5, 100), (7, 1), (1, 23)] {
            let (mut one_by_one, mut repeated) = (BooleanRle::default(), BooleanRle::default());
            for rle in [&mut one_by_one, &mut repeated] {
                (0..before).for_each(|i| rle.push(i % 2 == 0));
            }
            (0..count).for_each(|_| one_by_one.push(true));
            repeated.push_trues(count);
            assert_eq!(
                repeated.finish(),
                one_by_one.finish(),
                "{before} then {count}"
            );
        }
    }
}
