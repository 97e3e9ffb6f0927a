//! The seeded CSPRNG every machine owns (ChaCha20), so no machine touches a global RNG.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use crate::types::Seed;

/// A machine's own random number generator, seeded explicitly.
pub struct MachineRng(ChaCha20Rng);

impl MachineRng {
    /// A generator seeded from `seed`.
    pub fn new(seed: Seed) -> Self {
        Self(ChaCha20Rng::from_seed(seed.0))
    }

    /// A seed for a child machine, drawn from this generator.
    pub fn child_seed(&mut self) -> Seed {
        let mut s = [0u8; 32];
        self.0.fill_bytes(&mut s);
        Seed(s)
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        self.0.fill_bytes(buf);
    }

    /// A random 32-byte array (nonces, keys).
    pub fn bytes32(&mut self) -> [u8; 32] {
        let mut b = [0u8; 32];
        self.0.fill_bytes(&mut b);
        b
    }

    /// A uniform integer in `lo..=hi` (`lo <= hi`); slight modulo bias is irrelevant for
    /// padding lengths and jitter, which are its only uses.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        let span = hi.saturating_sub(lo).saturating_add(1);
        if span == 0 {
            return self.0.next_u64();
        }
        lo + self.0.next_u64() % span
    }
}

impl std::fmt::Debug for MachineRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MachineRng(..)")
    }
}
