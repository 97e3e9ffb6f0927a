//! `DisconnectReason::decode` on arbitrary bytes.
//!
//! Invariants: never panics (decoding is total); the reason survives encode → decode, and its
//! code maps back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::p2p::DisconnectReason;

fuzz_target!(|data: &[u8]| {
    let reason = DisconnectReason::decode(data);
    assert_eq!(DisconnectReason::from_code(reason.code()), reason);
    assert_eq!(DisconnectReason::decode(&reason.encode()), reason);
    let _ = reason.to_string();
});
