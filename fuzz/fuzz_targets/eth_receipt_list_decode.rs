//! The stored receipt list decoder (`decode_receipt_list`, the chain store's receipts table)
//! on arbitrary bytes.
//!
//! Invariants: never panics; what decodes re-encodes to exactly the input (the form is
//! canonical), and its receipts root can be computed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::eth::receipts::{decode_receipt_list, encode_receipt_list, receipts_root};

fuzz_target!(|data: &[u8]| {
    if let Ok(rs) = decode_receipt_list(data) {
        assert_eq!(encode_receipt_list(&rs), data);
        let _ = receipts_root(&rs);
    }
});
