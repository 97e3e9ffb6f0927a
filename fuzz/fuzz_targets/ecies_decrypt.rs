//! ECIES: `decrypt` on arbitrary bytes with arbitrary MAC data, and a round trip of arbitrary
//! plaintext with one byte flipped.
//!
//! Invariants: never panics; what is encrypted decrypts to itself; any changed byte is
//! rejected.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::crypto::ecies;
use paxeer_p2p_core::crypto::keys::secp;
use paxeer_p2p_fuzz::{fixed_key, rng};
use secp256k1::{PublicKey, SecretKey};

fn keys() -> &'static (SecretKey, PublicKey) {
    static K: OnceLock<(SecretKey, PublicKey)> = OnceLock::new();
    K.get_or_init(|| {
        let sk = fixed_key(1);
        (sk, PublicKey::from_secret_key(secp(), &sk))
    })
}

fuzz_target!(|data: &[u8]| {
    let [mode, mac_len, flip_hi, flip_lo, rest @ ..] = data else {
        return;
    };
    let (sk, pk) = keys();
    let mac_len = usize::from(*mac_len).min(rest.len());
    let (mac_data, body) = rest.split_at(mac_len);
    if mode % 2 == 0 {
        let _ = ecies::decrypt(sk, body, mac_data);
        return;
    }
    let mut msg = Vec::new();
    ecies::encrypt(pk, body, mac_data, &mut rng(9), &mut msg);
    assert_eq!(msg.len(), body.len() + ecies::ECIES_OVERHEAD);
    match ecies::decrypt(sk, &msg, mac_data) {
        Ok(plain) => assert_eq!(plain, body),
        Err(e) => panic!("round trip failed: {e}"),
    }
    let flip = (usize::from(*flip_hi) << 8 | usize::from(*flip_lo)) % msg.len();
    if let Some(b) = msg.get_mut(flip) {
        *b ^= 1u8 << (mode >> 5);
    }
    assert!(
        ecies::decrypt(sk, &msg, mac_data).is_err(),
        "byte {flip} flipped"
    );
});
