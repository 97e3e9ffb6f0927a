//! `EthMessage::decode` on arbitrary bytes, for every message id of eth/68, eth/69 and eth/70.
//!
//! The first input byte picks the version (modulo 3) and the message id (the rest, so ids
//! beyond the version's range are exercised too); the remaining bytes are the payload.
//!
//! Invariants: never panics; decoding is canonical, so a decoded message re-encodes to
//! exactly the input payload, with the message id it was decoded under.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::eth::{EthMessage, EthVersion};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let version = match selector % 3 {
        0 => EthVersion::Eth68,
        1 => EthVersion::Eth69,
        _ => EthVersion::Eth70,
    };
    let msg_id = (selector / 3) % 0x14;
    let Ok(msg) = EthMessage::decode(version, msg_id, payload) else {
        return;
    };
    assert_eq!(msg.msg_id(), msg_id);
    assert_eq!(msg.encode(), payload, "re-encoding differs from the input");
});
