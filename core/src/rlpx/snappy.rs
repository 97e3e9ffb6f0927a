//! Snappy (block format) for message payloads after Hello when both sides speak p2p v5+.
//! The decoded length is read from the snappy header and checked against the limit before
//! any decompression happens, so a small input cannot make us allocate a large buffer.

/// Why a compressed payload was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnappyError {
    /// The announced decoded length exceeds the limit.
    #[error("snappy decoded length {len} exceeds the limit {max}")]
    TooLarge {
        /// Announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not valid snappy data.
    #[error("invalid snappy data")]
    Corrupt,
}

/// Compresses `input`, appending to `out`.
///
/// The snappy block format cannot describe inputs of 2^32−1 bytes or more (far above the
/// 2^24−1 frame limit every caller is bound by); for such an input nothing is appended.
pub fn compress(input: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let max = snap::raw::max_compress_len(input.len());
    if max == 0 {
        return;
    }
    out.resize(start + max, 0);
    let (_, dst) = out.split_at_mut(start);
    let written = snap::raw::Encoder::new().compress(input, dst).unwrap_or(0);
    out.truncate(start + written);
}

/// The decoded length `input` declares in its snappy header, refused when it exceeds
/// `max_len` or when the header is not valid snappy. Nothing is decompressed, so this is
/// cheap enough to run on every incoming message before looking at its code.
pub fn decoded_len(input: &[u8], max_len: usize) -> Result<usize, SnappyError> {
    if input.is_empty() {
        // Not even a length header (snap reports 0 for this; it is not valid snappy).
        return Err(SnappyError::Corrupt);
    }
    let len = snap::raw::decompress_len(input).map_err(|e| match e {
        // A length beyond what snappy can describe: certainly over our limit too.
        snap::Error::TooBig { given, .. } => SnappyError::TooLarge {
            len: usize::try_from(given).unwrap_or(usize::MAX),
            max: max_len,
        },
        _ => SnappyError::Corrupt,
    })?;
    if len > max_len {
        return Err(SnappyError::TooLarge { len, max: max_len });
    }
    Ok(len)
}

/// Decompresses `input` whose decoded length must not exceed `max_len`.
pub fn decompress(input: &[u8], max_len: usize) -> Result<Vec<u8>, SnappyError> {
    let len = decoded_len(input, max_len)?;
    let mut buf = vec![0u8; len];
    let n = snap::raw::Decoder::new()
        .decompress(input, &mut buf)
        .map_err(|_| SnappyError::Corrupt)?;
    if n != len {
        return Err(SnappyError::Corrupt);
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encoding_of_short_input() {
        // Snappy block format: varint length 5, then a literal tag (len-1)<<2 = 0x10.
        let mut out = Vec::new();
        compress(b"hello", &mut out);
        assert_eq!(out, b"\x05\x10hello");
        assert_eq!(decompress(&out, 5).unwrap(), b"hello");
    }

    #[test]
    fn compress_appends() {
        let mut out = b"xy".to_vec();
        compress(&[7u8; 1000], &mut out);
        assert_eq!(&out[..2], b"xy");
        assert!(out.len() < 100, "repetitive input compresses");
        assert_eq!(decompress(&out[2..], 1000).unwrap(), vec![7u8; 1000]);
    }

    #[test]
    fn empty_round_trip() {
        let mut out = Vec::new();
        compress(b"", &mut out);
        assert_eq!(out, [0]);
        assert_eq!(decompress(&out, 0).unwrap(), b"");
        assert_eq!(decompress(b"", 10), Err(SnappyError::Corrupt));
    }

    #[test]
    fn limit_is_inclusive() {
        let mut out = Vec::new();
        compress(&[1u8; 100], &mut out);
        assert_eq!(decompress(&out, 100).unwrap().len(), 100);
        assert_eq!(
            decompress(&out, 99),
            Err(SnappyError::TooLarge { len: 100, max: 99 })
        );
    }

    #[test]
    fn huge_announced_length_is_too_large() {
        // varint 0xffff_ffff (snappy's maximum) followed by nothing useful.
        let input = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        assert_eq!(
            decompress(&input, 1 << 24),
            Err(SnappyError::TooLarge {
                len: 0xffff_ffff,
                max: 1 << 24
            })
        );
        // 2^24 announced against a limit of 2^24 - 1.
        let input = [0x80, 0x80, 0x80, 0x08];
        assert_eq!(
            decompress(&input, (1 << 24) - 1),
            Err(SnappyError::TooLarge {
                len: 1 << 24,
                max: (1 << 24) - 1
            })
        );
        // Beyond what snappy can describe (2^32).
        let input = [0x80, 0x80, 0x80, 0x80, 0x10];
        assert_eq!(
            decompress(&input, 1 << 24),
            Err(SnappyError::TooLarge {
                len: 1 << 32,
                max: 1 << 24
            })
        );
    }

    #[test]
    fn decoded_len_reads_the_header_only() {
        // 4 GiB - 1 declared, no body at all: the header alone decides.
        let input = [0xff, 0xff, 0xff, 0xff, 0x0f];
        assert_eq!(
            decoded_len(&input, (1 << 24) - 1),
            Err(SnappyError::TooLarge {
                len: 0xffff_ffff,
                max: (1 << 24) - 1
            })
        );
        // A valid header with a truncated body is accepted by the header check.
        assert_eq!(decoded_len(b"\x05\x10hel", 100), Ok(5));
        assert_eq!(decoded_len(&[], 100), Err(SnappyError::Corrupt));
        assert_eq!(decoded_len(&[0x80], 100), Err(SnappyError::Corrupt));
    }

    #[test]
    fn corrupt_inputs_are_rejected() {
        // Truncated varint.
        assert_eq!(decompress(&[0x80], 100), Err(SnappyError::Corrupt));
        // Announces 10 bytes, carries a 5-byte literal.
        assert_eq!(decompress(b"\x0a\x10hello", 100), Err(SnappyError::Corrupt));
        // Announces 5, literal runs past the input.
        assert_eq!(decompress(b"\x05\x10hel", 100), Err(SnappyError::Corrupt));
        // Copy with an offset before the start of the output.
        assert_eq!(decompress(b"\x08\x01\x05", 100), Err(SnappyError::Corrupt));
    }

    proptest! {
        #[test]
        fn round_trip(data in prop::collection::vec(any::<u8>(), 0..4096), rep in 0usize..4) {
            // Repeat to give the compressor something to find.
            let data: Vec<u8> = std::iter::repeat_n(data, rep + 1).flatten().collect();
            let mut out = Vec::new();
            compress(&data, &mut out);
            prop_assert_eq!(decompress(&out, data.len()).unwrap(), data);
        }

        #[test]
        fn arbitrary_input_never_panics(
            input in prop::collection::vec(any::<u8>(), 0..256),
            max in 0usize..100_000,
        ) {
            if let Ok(out) = decompress(&input, max) {
                prop_assert!(out.len() <= max);
            }
        }
    }
}
