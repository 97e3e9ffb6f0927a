//! `ExpectAuth::read_auth` on arbitrary bytes, raw or sealed to the recipient (so the fuzzer
//! reaches the EIP-8 and pre-EIP-8 body decoders behind ECIES).
//!
//! Invariants: never panics; a success consumes at most the input, and the same packet
//! without whatever followed it gives the same result (trailing bytes never matter).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::crypto::ecies;
use paxeer_p2p_core::crypto::keys::secp;
use paxeer_p2p_core::rlpx::handshake::ExpectAuth;
use paxeer_p2p_fuzz::{fixed_key, rng};
use secp256k1::PublicKey;

fn recipient() -> &'static (ExpectAuth, PublicKey) {
    static R: OnceLock<(ExpectAuth, PublicKey)> = OnceLock::new();
    R.get_or_init(|| {
        let sk = fixed_key(1);
        let pk = PublicKey::from_secret_key(secp(), &sk);
        (ExpectAuth::with_keys(sk, fixed_key(5), [9; 32]), pk)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (recipient, pk) = recipient();
    let mut rng = rng(6);
    let packet = match mode % 3 {
        0 => rest.to_vec(),
        1 => {
            // EIP-8: size prefix, used as MAC data.
            let Ok(size) = u16::try_from(rest.len() + ecies::ECIES_OVERHEAD) else {
                return;
            };
            let prefix = size.to_be_bytes();
            let mut p = prefix.to_vec();
            ecies::encrypt(pk, rest, &prefix, &mut rng, &mut p);
            p
        }
        _ => {
            // Pre-EIP-8: bare ECIES.
            let mut p = Vec::new();
            ecies::encrypt(pk, rest, &[], &mut rng, &mut p);
            p
        }
    };
    if let Ok(Some(got)) = recipient.read_auth(&packet, &mut rng) {
        assert!(got.consumed <= packet.len());
        assert!(!got.ack.is_empty());
        let again = recipient.read_auth(&packet[..got.consumed], &mut rng);
        match again {
            Ok(Some(a)) => {
                assert_eq!(a.consumed, got.consumed);
                assert_eq!(a.secrets.remote, got.secrets.remote);
                assert_eq!(a.eip8, got.eip8);
            }
            other => panic!("exact packet read differently: {other:?}"),
        }
    }
});
