//! Base64 as Firehose uses it: standard alphabet with padding.
//!
//! Decoding forgives excess `=` padding (the SAM `apachelog` sample has it) but
//! nothing else; encoding is always canonical, so a record echoed back can
//! never carry invalid base64 into the response.

use base64_simd::{STANDARD, STANDARD_NO_PAD};

/// Why a record's `data` is not base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data is not valid standard base64 ({length} characters{hint})")]
pub struct InvalidBase64 {
    length: usize,
    hint: &'static str,
}

/// Decoded bytes, and whether the text they came from was already canonical.
#[derive(Debug)]
pub struct Decoded {
    pub bytes: Vec<u8>,
    pub canonical: bool,
}

/// Decodes standard base64, accepting missing or excess trailing padding.
pub fn decode(text: &str) -> Result<Decoded, InvalidBase64> {
    if let Ok(bytes) = STANDARD.decode_to_vec(text) {
        return Ok(Decoded {
            bytes,
            canonical: true,
        });
    }
    let unpadded = text.trim_end_matches('=');
    STANDARD_NO_PAD
        .decode_to_vec(unpadded)
        .map(|bytes| Decoded {
            bytes,
            canonical: false,
        })
        .map_err(|_| InvalidBase64 {
            length: text.len(),
            hint: hint(unpadded),
        })
}

fn hint(unpadded: &str) -> &'static str {
    if unpadded.bytes().any(|b| b == b'-' || b == b'_') {
        ": URL-safe alphabet"
    } else if unpadded.bytes().any(|b| b.is_ascii_whitespace()) {
        ": contains whitespace"
    } else if unpadded.len() % 4 == 1 {
        ": truncated"
    } else {
        ""
    }
}

/// The length of the canonical encoding of `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    STANDARD.encoded_length(n)
}

/// The canonical encoding of `bytes`.
#[cfg(feature = "aws-lambda-events")]
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode_to_string(bytes)
}

/// Appends the canonical encoding of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    STANDARD.encode_append(bytes, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_input_is_recognised() {
        let d = decode("SGVsbG8=").unwrap();
        assert_eq!(d.bytes, b"Hello");
        assert!(d.canonical);
    }

    #[test]
    fn excess_and_missing_padding_are_forgiven_but_flagged() {
        for text in ["SGVsbG8==", "SGVsbG8"] {
            let d = decode(text).unwrap();
            assert_eq!(d.bytes, b"Hello", "{text}");
            assert!(!d.canonical, "{text}");
        }
    }

    #[test]
    fn garbage_is_refused_with_a_hint() {
        assert!(decode("!!!!").is_err());
        assert!(
            decode("SGVsbG8-")
                .unwrap_err()
                .to_string()
                .contains("URL-safe")
        );
        assert!(
            decode("SGVsb")
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
    }

    #[test]
    fn non_zero_trailing_bits_are_refused() {
        // `canonical` may be trusted to echo the input text: "QR==" would decode
        // to the same byte as "QQ==" in a forgiving decoder.
        assert!(decode("QR==").is_err());
        assert!(decode("QR").is_err());
    }

    #[test]
    fn empty_is_empty() {
        let d = decode("").unwrap();
        assert!(d.bytes.is_empty() && d.canonical);
    }

    #[test]
    fn encoding_round_trips_and_predicts_its_length() {
        let mut out = Vec::new();
        encode_into(b"Hello", &mut out);
        assert_eq!(out, b"SGVsbG8=");
        assert_eq!(encoded_len(5), 8);
    }
}
