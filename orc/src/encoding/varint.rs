//! Base-128 varints (little-endian groups of 7 bits, high bit set on all but
//! the last) and zigzag for signed values.

pub fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

pub fn write_unsigned(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub fn write_signed(out: &mut Vec<u8>, value: i64) {
    write_unsigned(out, zigzag(value));
}

/// A decimal's unscaled value: zigzag over 128 bits, then a varint as long as
/// it needs (up to 19 bytes for 38 digits).
pub fn write_signed_128(out: &mut Vec<u8>, value: i128) {
    let mut zigzagged = ((value << 1) ^ (value >> 127)) as u128;
    while zigzagged >= 0x80 {
        out.push(zigzagged as u8 | 0x80);
        zigzagged >>= 7;
    }
    out.push(zigzagged as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag() {
        let mut out = Vec::new();
        write_unsigned(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        assert_eq!([zigzag(0), zigzag(-1), zigzag(1), zigzag(-2)], [0, 1, 2, 3]);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
        let mut big = Vec::new();
        write_signed_128(&mut big, -1);
        assert_eq!(big, [1]);
        big.clear();
        write_signed_128(&mut big, i128::MAX);
        assert_eq!(big.len(), 19);
    }
}
