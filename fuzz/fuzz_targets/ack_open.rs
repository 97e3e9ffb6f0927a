//! `AuthSent::read_ack` on arbitrary bytes, raw or sealed to the initiator (so the fuzzer
//! reaches the EIP-8 and pre-EIP-8 ack decoders behind ECIES).
//!
//! Invariants: never panics; a success consumes at most the input, and reading exactly the
//! consumed bytes again gives the same secrets.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::crypto::ecies;
use paxeer_p2p_core::crypto::keys::{peer_id_of, secp};
use paxeer_p2p_core::rlpx::handshake::AuthSent;
use paxeer_p2p_fuzz::{fixed_key, rng};
use secp256k1::PublicKey;

fn initiator() -> &'static (AuthSent, PublicKey) {
    static I: OnceLock<(AuthSent, PublicKey)> = OnceLock::new();
    I.get_or_init(|| {
        let sk = fixed_key(2);
        let pk = PublicKey::from_secret_key(secp(), &sk);
        match AuthSent::new(&sk, &peer_id_of(&fixed_key(1)), &mut rng(7)) {
            Ok((state, _auth)) => (state, pk),
            Err(e) => panic!("setup: {e}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (initiator, pk) = initiator();
    let mut rng = rng(8);
    let packet = match mode % 3 {
        0 => rest.to_vec(),
        1 => {
            let Ok(size) = u16::try_from(rest.len() + ecies::ECIES_OVERHEAD) else {
                return;
            };
            let prefix = size.to_be_bytes();
            let mut p = prefix.to_vec();
            ecies::encrypt(pk, rest, &prefix, &mut rng, &mut p);
            p
        }
        _ => {
            let mut p = Vec::new();
            ecies::encrypt(pk, rest, &[], &mut rng, &mut p);
            p
        }
    };
    if let Ok(Some(got)) = initiator.read_ack(&packet) {
        assert!(got.consumed <= packet.len());
        match initiator.read_ack(&packet[..got.consumed]) {
            Ok(Some(a)) => {
                assert_eq!(a.consumed, got.consumed);
                assert_eq!(a.secrets.aes, got.secrets.aes);
                assert_eq!(a.secrets.mac, got.secrets.mac);
            }
            other => panic!("exact packet read differently: {other:?}"),
        }
    }
});
