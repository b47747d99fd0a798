//! The value encodings of ORC's streams.

pub mod byte_rle;
pub mod int_rle;
pub mod varint;
