//! ECIES as RLPx uses it (devp2p `rlpx.md`, "ECIES Encryption"): ephemeral secp256k1 key,
//! concat-KDF (NIST SP 800-56) over SHA-256, AES-128-CTR, HMAC-SHA256 over
//! `iv ‖ ciphertext ‖ shared_mac_data`. Wire form: `0x04 ‖ R(64) ‖ iv(16) ‖ c ‖ tag(32)`.

use aes::Aes128;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use secp256k1::{PublicKey, SecretKey};
use sha2::{Digest, Sha256};

use crate::crypto::keys::{ecdh_x, generate_secret_key, public_key_from_uncompressed, secp};
use crate::rng::MachineRng;

/// Bytes ECIES adds to a plaintext: 65 (ephemeral key) + 16 (IV) + 32 (HMAC tag).
pub const ECIES_OVERHEAD: usize = 65 + 16 + 32;

/// Bytes of the uncompressed ephemeral public key at the front of a message.
const PUBKEY_LEN: usize = 65;
/// Bytes of the AES-CTR IV.
const IV_LEN: usize = 16;
/// Bytes of the HMAC-SHA256 tag at the end of a message.
const TAG_LEN: usize = 32;

type Aes128Ctr = ctr::Ctr128BE<Aes128>;
type HmacSha256 = Hmac<Sha256>;

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

/// NIST SP 800-56 concatenation KDF with SHA-256 and empty `OtherInfo`: the output is
/// `SHA256(1 ‖ z) ‖ SHA256(2 ‖ z) ‖ …` (32-bit big-endian counters), truncated to `out`.
fn concat_kdf(z: &[u8], out: &mut [u8]) {
    let mut counter: u32 = 1;
    for chunk in out.chunks_mut(32) {
        let mut h = Sha256::new();
        h.update(counter.to_be_bytes());
        h.update(z);
        let block = h.finalize();
        for (o, b) in chunk.iter_mut().zip(block.iter()) {
            *o = *b;
        }
        counter = counter.wrapping_add(1);
    }
}

/// The two keys ECIES derives from a shared secret.
struct Keys {
    /// AES-128-CTR key: the first 16 KDF bytes.
    enc: [u8; 16],
    /// HMAC-SHA256 key: SHA-256 of the last 16 KDF bytes.
    mac: [u8; 32],
}

impl Keys {
    fn derive(shared: &[u8; 32]) -> Self {
        let mut kdf = [0u8; 32];
        concat_kdf(shared, &mut kdf);
        let (enc_part, mac_part) = kdf.split_at(16);
        let mut enc = [0u8; 16];
        enc.copy_from_slice(enc_part);
        let mac: [u8; 32] = Sha256::digest(mac_part).into();
        Keys { enc, mac }
    }

    /// A MAC keyed with `mac`. HMAC zero-pads keys shorter than the hash block (64 bytes for
    /// SHA-256), so keying with the zero-padded block is the same function and cannot fail.
    fn hmac(&self) -> HmacSha256 {
        let mut block = [0u8; 64];
        for (b, k) in block.iter_mut().zip(self.mac.iter()) {
            *b = *k;
        }
        <HmacSha256 as hmac::digest::KeyInit>::new(&block.into())
    }

    fn tag(&self, iv: &[u8], ciphertext: &[u8], shared_mac_data: &[u8]) -> HmacSha256 {
        let mut mac = self.hmac();
        mac.update(iv);
        mac.update(ciphertext);
        mac.update(shared_mac_data);
        mac
    }

    fn apply_keystream(&self, iv: &[u8; 16], data: &mut [u8]) {
        let mut cipher = Aes128Ctr::new(&self.enc.into(), &(*iv).into());
        cipher.apply_keystream(data);
    }
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
    let ephemeral = generate_secret_key(rng);
    let mut iv = [0u8; IV_LEN];
    rng.fill(&mut iv);
    encrypt_with(remote, plaintext, shared_mac_data, &ephemeral, iv, out);
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
    let shared = ecdh_x(remote, ephemeral);
    let keys = Keys::derive(&shared);
    let mut ciphertext = plaintext.to_vec();
    keys.apply_keystream(&iv, &mut ciphertext);
    let tag = keys
        .tag(&iv, &ciphertext, shared_mac_data)
        .finalize()
        .into_bytes();

    let r = PublicKey::from_secret_key(secp(), ephemeral).serialize_uncompressed();
    out.reserve(ECIES_OVERHEAD + plaintext.len());
    out.extend_from_slice(&r);
    out.extend_from_slice(&iv);
    out.extend_from_slice(&ciphertext);
    out.extend_from_slice(&tag);
}

/// Opens an ECIES message addressed to `sk`, checking the tag before decrypting.
pub fn decrypt(sk: &SecretKey, msg: &[u8], shared_mac_data: &[u8]) -> Result<Vec<u8>, EciesError> {
    if msg.len() < ECIES_OVERHEAD {
        return Err(EciesError::TooShort);
    }
    let (r_bytes, rest) = msg
        .split_at_checked(PUBKEY_LEN)
        .ok_or(EciesError::TooShort)?;
    let (iv_bytes, rest) = rest.split_at_checked(IV_LEN).ok_or(EciesError::TooShort)?;
    let body_len = rest
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(EciesError::TooShort)?;
    let (ciphertext, tag) = rest
        .split_at_checked(body_len)
        .ok_or(EciesError::TooShort)?;

    let r = public_key_from_uncompressed(r_bytes).map_err(|_| EciesError::InvalidPublicKey)?;
    let shared = ecdh_x(&r, sk);
    let keys = Keys::derive(&shared);
    keys.tag(iv_bytes, ciphertext, shared_mac_data)
        .verify_slice(tag)
        .map_err(|_| EciesError::TagMismatch)?;

    let iv: [u8; IV_LEN] = iv_bytes.try_into().map_err(|_| EciesError::TooShort)?;
    let mut plaintext = ciphertext.to_vec();
    keys.apply_keystream(&iv, &mut plaintext);
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::{public_key_bytes, secret_key_from_bytes};
    use crate::types::Seed;

    fn keypair(rng: &mut MachineRng) -> (SecretKey, PublicKey) {
        let sk = generate_secret_key(rng);
        let pk = PublicKey::from_secret_key(secp(), &sk);
        (sk, pk)
    }

    #[test]
    fn concat_kdf_first_block_is_sha256_of_counter_and_secret() {
        let z = [0xabu8; 32];
        let mut out = [0u8; 40];
        concat_kdf(&z, &mut out);
        let mut first = Sha256::new();
        first.update([0, 0, 0, 1]);
        first.update(z);
        let mut second = Sha256::new();
        second.update([0, 0, 0, 2]);
        second.update(z);
        assert_eq!(&out[..32], first.finalize().as_slice());
        assert_eq!(&out[32..], &second.finalize()[..8]);
    }

    #[test]
    fn encrypt_then_decrypt_round_trips() {
        let mut rng = MachineRng::new(Seed([3; 32]));
        let (sk, pk) = keypair(&mut rng);
        for len in [0usize, 1, 15, 16, 17, 100, 1000] {
            let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut msg = Vec::new();
            encrypt(&pk, &plaintext, b"mac-data", &mut rng, &mut msg);
            assert_eq!(msg.len(), plaintext.len() + ECIES_OVERHEAD);
            assert_eq!(msg[0], 4);
            assert_eq!(decrypt(&sk, &msg, b"mac-data").unwrap(), plaintext);
        }
    }

    #[test]
    fn explicit_key_and_iv_are_used() {
        let mut rng = MachineRng::new(Seed([4; 32]));
        let (sk, pk) = keypair(&mut rng);
        let (eph, eph_pub) = keypair(&mut rng);
        let iv = [7u8; 16];
        let mut msg = Vec::new();
        encrypt_with(&pk, b"hello", &[], &eph, iv, &mut msg);
        assert_eq!(&msg[1..65], &public_key_bytes(&eph_pub)[..]);
        assert_eq!(&msg[65..81], &iv[..]);
        assert_eq!(decrypt(&sk, &msg, &[]).unwrap(), b"hello");
        // Deterministic given key and IV.
        let mut again = Vec::new();
        encrypt_with(&pk, b"hello", &[], &eph, iv, &mut again);
        assert_eq!(msg, again);
    }

    #[test]
    fn any_flipped_byte_is_a_tag_mismatch_or_bad_key() {
        let mut rng = MachineRng::new(Seed([5; 32]));
        let (sk, pk) = keypair(&mut rng);
        let mut msg = Vec::new();
        encrypt(&pk, b"some plaintext", b"", &mut rng, &mut msg);
        for i in 0..msg.len() {
            let mut bad = msg.clone();
            bad[i] ^= 0x01;
            let err = decrypt(&sk, &bad, b"").unwrap_err();
            if i < 65 {
                assert!(matches!(
                    err,
                    EciesError::InvalidPublicKey | EciesError::TagMismatch
                ));
            } else {
                assert_eq!(err, EciesError::TagMismatch, "byte {i}");
            }
        }
    }

    #[test]
    fn wrong_mac_data_or_wrong_key_is_a_tag_mismatch() {
        let mut rng = MachineRng::new(Seed([6; 32]));
        let (sk, pk) = keypair(&mut rng);
        let (other, _) = keypair(&mut rng);
        let mut msg = Vec::new();
        encrypt(&pk, b"x", b"\x01\x02", &mut rng, &mut msg);
        assert_eq!(
            decrypt(&sk, &msg, b"\x01\x03"),
            Err(EciesError::TagMismatch)
        );
        assert_eq!(decrypt(&sk, &msg, b""), Err(EciesError::TagMismatch));
        assert_eq!(
            decrypt(&other, &msg, b"\x01\x02"),
            Err(EciesError::TagMismatch)
        );
    }

    #[test]
    fn short_input_is_rejected() {
        let mut rng = MachineRng::new(Seed([7; 32]));
        let (sk, _) = keypair(&mut rng);
        for len in [0usize, 1, 64, 65, 81, ECIES_OVERHEAD - 1] {
            let mut msg = vec![0u8; len];
            if let Some(b) = msg.first_mut() {
                *b = 4;
            }
            assert_eq!(decrypt(&sk, &msg, &[]), Err(EciesError::TooShort));
        }
    }

    #[test]
    fn off_curve_ephemeral_key_is_rejected() {
        let mut rng = MachineRng::new(Seed([8; 32]));
        let (sk, _) = keypair(&mut rng);
        let mut msg = vec![1u8; ECIES_OVERHEAD + 4];
        msg[0] = 4;
        assert_eq!(decrypt(&sk, &msg, &[]), Err(EciesError::InvalidPublicKey));
        // A compressed-form prefix is not accepted either.
        msg[0] = 2;
        assert_eq!(decrypt(&sk, &msg, &[]), Err(EciesError::InvalidPublicKey));
    }

    #[test]
    fn decrypts_the_legacy_ack_vector() {
        // rlpx_handshake.json (go-ethereum p2p/rlpx_test.go / EIP-8): Ack1 is a bare ECIES
        // message to static_key_a whose plaintext starts with ephemeral_pub_b.
        let sk = secret_key_from_bytes(
            &hex::decode("49a7b37aa6f6645917e7b807e9d1c00d4fa71f18343b0d4122a4d2df64dd6fee")
                .unwrap(),
        )
        .unwrap();
        let msg = hex::decode(concat!(
            "049f8abcfa9c0dc65b982e98af921bc0ba6e4243169348a236abe9df5f93aa69d99cadddaa387662b0",
            "ff2c08e9006d5a11a278b1b3331e5aaabf0a32f01281b6f4ede0e09a2d5f585b26513cb794d9635a57",
            "563921c04a9090b4f14ee42be1a5461049af4ea7a7f49bf4c97a352d39c8d02ee4acc416388c1c66ce",
            "c761d2bc1c72da6ba143477f049c9d2dde846c252c111b904f630ac98e51609b3b1f58168ddca6505b",
            "7196532e5f85b259a20c45e1979491683fee108e9660edbf38f3add489ae73e3dda2c71bd1497113d5",
            "c755e942d1",
        ))
        .unwrap();
        let plain = decrypt(&sk, &msg, &[]).unwrap();
        assert_eq!(plain.len(), 97);
        assert_eq!(
            hex::encode(&plain[..64]),
            "b6d82fa3409da933dbf9cb0140c5dde89f4e64aec88d476af648880f4a10e1e49fe35ef3e69e93dd300b4797765a747c6384a6ecf5db9c2690398607a86181e4"
        );
    }
}
