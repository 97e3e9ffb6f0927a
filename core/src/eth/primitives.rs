//! Fixed-size values of the eth wire format: hashes, addresses, blooms and 256-bit integers.

use crate::crypto::keccak::keccak256;

/// A 32-byte hash (block, transaction, state root, …).
pub type B256 = [u8; 32];

/// A 20-byte account address.
pub type Address = [u8; 20];

/// Size of a logs bloom filter in bytes (yellow paper: 2048 bits).
pub const BLOOM_BYTES: usize = 256;

/// A 2048-bit logs bloom filter.
pub type Bloom = [u8; BLOOM_BYTES];

/// Keccak-256 of the empty RLP list `0xc0`: the ommers hash of a block without uncles.
pub const EMPTY_UNCLES_HASH: B256 = [
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47,
];

/// Root of the empty Merkle-Patricia trie: keccak of the RLP empty string `0x80`.
pub const EMPTY_ROOT_HASH: B256 = [
    0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
    0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
];

/// An unsigned 256-bit integer, stored big-endian. Ordering is numeric.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct U256(pub [u8; 32]);

impl U256 {
    /// Zero.
    pub const ZERO: U256 = U256([0; 32]);

    /// The value of a `u64`.
    pub fn from_u64(v: u64) -> Self {
        let mut out = [0u8; 32];
        if let Some(tail) = out.get_mut(24..) {
            tail.copy_from_slice(&v.to_be_bytes());
        }
        U256(out)
    }

    /// The value of up to 32 big-endian bytes; `None` if longer.
    pub fn from_be_slice(bytes: &[u8]) -> Option<Self> {
        let start = 32usize.checked_sub(bytes.len())?;
        let mut out = [0u8; 32];
        out.get_mut(start..)?.copy_from_slice(bytes);
        Some(U256(out))
    }

    /// The big-endian bytes without leading zeros (empty for zero).
    pub fn trimmed(&self) -> &[u8] {
        let skip = self.0.iter().take_while(|&&b| b == 0).count();
        self.0.get(skip..).unwrap_or(&[])
    }

    /// The value as a `u64` if it fits.
    pub fn to_u64(&self) -> Option<u64> {
        let t = self.trimmed();
        if t.len() > 8 {
            return None;
        }
        Some(t.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 32]
    }
}

/// Sets the three bloom bits of `data` (yellow paper §4.3.1: the low 11 bits of the first
/// three byte pairs of its Keccak-256 pick bits counted from the end of the filter).
pub fn bloom_add(bloom: &mut Bloom, data: &[u8]) {
    let h = keccak256(data);
    for pair in h.chunks_exact(2).take(3) {
        let [hi, lo] = [pair.first().copied(), pair.get(1).copied()];
        let bit = ((usize::from(hi.unwrap_or(0)) << 8) | usize::from(lo.unwrap_or(0))) & 2047;
        if let Some(byte) = bloom.get_mut(BLOOM_BYTES - 1 - bit / 8) {
            *byte |= 1 << (bit % 8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_hashes_are_keccak_of_their_rlp() {
        assert_eq!(keccak256(&[0xc0]), EMPTY_UNCLES_HASH);
        assert_eq!(keccak256(&[0x80]), EMPTY_ROOT_HASH);
    }

    #[test]
    fn u256_orders_numerically() {
        assert!(U256::from_u64(256) > U256::from_u64(255));
        assert_eq!(U256::from_u64(0x0102).trimmed(), &[1, 2]);
        assert_eq!(U256::from_be_slice(&[1, 2]).unwrap().to_u64(), Some(0x0102));
        assert!(U256::from_be_slice(&[1; 33]).is_none());
    }
}
