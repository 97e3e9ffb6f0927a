//! secp256k1 helpers: key generation from a machine's RNG, the 64-byte wire form of public
//! keys, raw ECDH (the X coordinate, as RLPx and ECIES use it) and recoverable signatures.

use std::sync::LazyLock;

use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{All, Message, PublicKey, Secp256k1, SecretKey};

use crate::rng::MachineRng;
use crate::types::PeerId;

/// The process-wide verification/signing context. It carries precomputed tables only (no
/// randomness): blinding is not needed for our threat model and would need a global RNG.
static SECP: LazyLock<Secp256k1<All>> = LazyLock::new(Secp256k1::new);

/// The shared secp256k1 context.
pub fn secp() -> &'static Secp256k1<All> {
    &SECP
}

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The bytes are not a point on the curve.
    #[error("invalid secp256k1 public key")]
    InvalidPublicKey,
    /// The scalar is zero or not below the curve order.
    #[error("invalid secp256k1 secret key")]
    InvalidSecretKey,
    /// A signature that does not parse or does not recover to a key.
    #[error("invalid signature")]
    InvalidSignature,
}

/// Draws a valid secret key from `rng`.
pub fn generate_secret_key(rng: &mut MachineRng) -> SecretKey {
    loop {
        // Probability of an invalid scalar is ~2^-128; the loop is for correctness only.
        if let Ok(sk) = SecretKey::from_slice(&rng.bytes32()) {
            return sk;
        }
    }
}

/// Parses a 32-byte secret key.
pub fn secret_key_from_bytes(bytes: &[u8]) -> Result<SecretKey, KeyError> {
    SecretKey::from_slice(bytes).map_err(|_| KeyError::InvalidSecretKey)
}

/// The 64-byte wire form of a public key (uncompressed, without the `0x04` prefix).
pub fn public_key_bytes(pk: &PublicKey) -> [u8; 64] {
    let full = pk.serialize_uncompressed();
    let mut out = [0u8; 64];
    out.copy_from_slice(&full[1..]);
    out
}

/// The wire identity of the holder of `sk`.
pub fn peer_id_of(sk: &SecretKey) -> PeerId {
    PeerId(public_key_bytes(&PublicKey::from_secret_key(secp(), sk)))
}

/// Parses a 64-byte wire public key, rejecting points not on the curve.
pub fn public_key_from_bytes(bytes: &[u8; 64]) -> Result<PublicKey, KeyError> {
    let mut full = [0u8; 65];
    full[0] = 4;
    full[1..].copy_from_slice(bytes);
    PublicKey::from_slice(&full).map_err(|_| KeyError::InvalidPublicKey)
}

/// Parses a 65-byte uncompressed public key (`0x04 ‖ X ‖ Y`), as ECIES carries it.
pub fn public_key_from_uncompressed(bytes: &[u8]) -> Result<PublicKey, KeyError> {
    if bytes.len() != 65 || bytes.first() != Some(&4) {
        return Err(KeyError::InvalidPublicKey);
    }
    PublicKey::from_slice(bytes).map_err(|_| KeyError::InvalidPublicKey)
}

impl PeerId {
    /// The curve point behind this identity, or an error if it is not on the curve.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        public_key_from_bytes(&self.0)
    }
}

/// Raw ECDH: the X coordinate of `sk · pk` (not hashed), as RLPx and ECIES require.
pub fn ecdh_x(pk: &PublicKey, sk: &SecretKey) -> [u8; 32] {
    let point = secp256k1::ecdh::shared_secret_point(pk, sk);
    let mut x = [0u8; 32];
    x.copy_from_slice(&point[..32]);
    x
}

/// A 65-byte recoverable signature `R ‖ S ‖ V` (V ∈ {0, 1}) over a 32-byte digest.
pub fn sign_recoverable(digest: &[u8; 32], sk: &SecretKey) -> [u8; 65] {
    let msg = Message::from_digest(*digest);
    let sig = secp().sign_ecdsa_recoverable(&msg, sk);
    let (rec_id, compact) = sig.serialize_compact();
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&compact);
    out[64] = i32::from(rec_id) as u8;
    out
}

/// Recovers the signer's public key from a 65-byte `R ‖ S ‖ V` signature over `digest`.
pub fn recover(digest: &[u8; 32], sig: &[u8; 65]) -> Result<PublicKey, KeyError> {
    let rec_id =
        RecoveryId::try_from(i32::from(sig[64])).map_err(|_| KeyError::InvalidSignature)?;
    let sig = RecoverableSignature::from_compact(&sig[..64], rec_id)
        .map_err(|_| KeyError::InvalidSignature)?;
    secp()
        .recover_ecdsa(&Message::from_digest(*digest), &sig)
        .map_err(|_| KeyError::InvalidSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Seed;

    #[test]
    fn sign_then_recover_gives_the_signer() {
        let mut rng = MachineRng::new(Seed([7; 32]));
        let sk = generate_secret_key(&mut rng);
        let digest = [9u8; 32];
        let sig = sign_recoverable(&digest, &sk);
        let pk = recover(&digest, &sig).unwrap();
        assert_eq!(public_key_bytes(&pk), peer_id_of(&sk).0);
    }

    #[test]
    fn off_curve_point_is_rejected() {
        assert_eq!(
            public_key_from_bytes(&[1u8; 64]),
            Err(KeyError::InvalidPublicKey)
        );
    }

    #[test]
    fn ecdh_is_symmetric() {
        let mut rng = MachineRng::new(Seed([1; 32]));
        let a = generate_secret_key(&mut rng);
        let b = generate_secret_key(&mut rng);
        let pa = PublicKey::from_secret_key(secp(), &a);
        let pb = PublicKey::from_secret_key(secp(), &b);
        assert_eq!(ecdh_x(&pb, &a), ecdh_x(&pa, &b));
    }

    #[test]
    fn vector_static_keys_give_the_documented_public_keys() {
        // rlpx_handshake.json: static_key_a -> static_pub_a.
        let sk = secret_key_from_bytes(
            &hex::decode("49a7b37aa6f6645917e7b807e9d1c00d4fa71f18343b0d4122a4d2df64dd6fee")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(peer_id_of(&sk).to_hex(), "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877");
    }
}
