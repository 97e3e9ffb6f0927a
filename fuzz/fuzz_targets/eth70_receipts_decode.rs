//! The eth/70 (EIP-7975) receipt messages on arbitrary bytes: GetReceipts with its first
//! receipt index and Receipts with its last-block-incomplete flag.
//!
//! The first input byte picks the message (low bit: GetReceipts 0x0f or Receipts 0x10);
//! the remaining bytes are the payload.
//!
//! Invariants: never panics; decoding is canonical, so a decoded message re-encodes to
//! exactly the input payload; it decodes to the eth/70 shapes only, and those are never
//! valid eth/69 messages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::eth::messages::ReceiptsBody;
use paxeer_p2p_core::eth::{EthMessage, EthVersion};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let msg_id = if selector & 1 == 0 { 0x0f } else { 0x10 };
    let Ok(msg) = EthMessage::decode(EthVersion::Eth70, msg_id, payload) else {
        return;
    };
    assert!(matches!(
        msg,
        EthMessage::GetReceipts70 { .. }
            | EthMessage::Receipts {
                receipts: ReceiptsBody::Eth70 { .. },
                ..
            }
    ));
    assert_eq!(msg.msg_id(), msg_id);
    assert_eq!(msg.encode(), payload, "re-encoding differs from the input");
    assert!(EthMessage::decode(EthVersion::Eth69, msg_id, payload).is_err());
});
