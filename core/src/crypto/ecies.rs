//! ECIES as RLPx uses it (devp2p `rlpx.md`, "ECIES Encryption"): ephemeral secp256k1 key,
//! concat-KDF (NIST SP 800-56) over SHA-256, AES-128-CTR, HMAC-SHA256 over
//! `iv ‖ ciphertext ‖ shared_mac_data`. Wire form: `0x04 ‖ R(64) ‖ iv(16) ‖ c ‖ tag(32)`.

use secp256k1::{PublicKey, SecretKey};

use crate::rng::MachineRng;

/// Bytes ECIES adds to a plaintext: 65 (ephemeral key) + 16 (IV) + 32 (HMAC tag).
pub const ECIES_OVERHEAD: usize = 65 + 16 + 32;

/// Why an ECIES message could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EciesError {
    /// Shorter than the fixed overhead.
    #[error("ecies message too short")]
    TooShort,
    /// The ephemeral public key is not a valid curve point.
    #[error("ecies ephemeral key is not a valid curve point")]
    InvalidPublicKey,
    /// The HMAC tag does not match.
    #[error("ecies tag mismatch")]
    TagMismatch,
}

/// Encrypts `plaintext` to `remote`, appending the ECIES message to `out`. The ephemeral key
/// and IV are drawn from `rng`.
pub fn encrypt(
    remote: &PublicKey,
    plaintext: &[u8],
    shared_mac_data: &[u8],
    rng: &mut MachineRng,
    out: &mut Vec<u8>,
) {
    let _ = (remote, plaintext, shared_mac_data, rng, out);
    todo!("helper A")
}

/// Like [`encrypt`] with an explicit ephemeral key and IV (for vectors and tests).
pub fn encrypt_with(
    remote: &PublicKey,
    plaintext: &[u8],
    shared_mac_data: &[u8],
    ephemeral: &SecretKey,
    iv: [u8; 16],
    out: &mut Vec<u8>,
) {
    let _ = (remote, plaintext, shared_mac_data, ephemeral, iv, out);
    todo!("helper A")
}

/// Opens an ECIES message addressed to `sk`, checking the tag before decrypting.
pub fn decrypt(sk: &SecretKey, msg: &[u8], shared_mac_data: &[u8]) -> Result<Vec<u8>, EciesError> {
    let _ = (sk, msg, shared_mac_data);
    todo!("helper A")
}
