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
pub fn compress(input: &[u8], out: &mut Vec<u8>) {
    let _ = (input, out);
    todo!("helper B")
}

/// Decompresses `input` whose decoded length must not exceed `max_len`.
pub fn decompress(input: &[u8], max_len: usize) -> Result<Vec<u8>, SnappyError> {
    let _ = (input, max_len);
    todo!("helper B")
}
