//! Keccak-256 behind one small module, so the implementation can be swapped for the fastest
//! candidate measured in `benches/` without touching callers.
//!
//! The implementation is `keccak-asm` (CRYPTOGAMS assembly on baseline x86-64): in
//! `benches/frame.rs` it has about 1.28× the throughput of `sha3` and `tiny-keccak` on bulk data
//! and a quarter cheaper clone-and-finalize digest, which the frame MAC takes three times per
//! frame (see `docs/benchmarks.md`).

use keccak_asm::{Digest, Keccak256};

/// An incremental Keccak-256 state. Cloneable so a MAC can read its digest and keep going.
#[derive(Clone, Default)]
pub struct KeccakState(Keccak256);

impl KeccakState {
    /// A fresh state.
    pub fn new() -> Self {
        Self(Keccak256::new())
    }

    /// Absorbs `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest of everything absorbed so far, leaving the state untouched.
    pub fn digest(&self) -> [u8; 32] {
        self.0.clone().finalize().into()
    }
}

impl std::fmt::Debug for KeccakState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeccakState(..)")
    }
}

/// Keccak-256 of `data`.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// Keccak-256 of the concatenation of `parts`.
pub fn keccak256_concat(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_hash_is_the_known_constant() {
        assert_eq!(
            hex::encode(keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn incremental_digest_does_not_consume_state() {
        let mut s = KeccakState::new();
        s.update(b"fo");
        let _ = s.digest();
        s.update(b"o");
        assert_eq!(s.digest(), keccak256(b"foo"));
    }
}
