//! `Enr::decode` on arbitrary bytes and `Enr::from_text` on arbitrary strings.
//!
//! Invariants: never panics; a record that decodes re-encodes to the same bytes (records are
//! kept exactly as signed), its text form parses back to it, and it is at most 300 bytes;
//! a text that parses prints to a text that parses to the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::enr::{Enr, MAX_RECORD_BYTES};

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = Enr::decode(data) {
        assert_eq!(rec.encode(), data);
        assert!(data.len() <= MAX_RECORD_BYTES);
        assert_eq!(Enr::from_text(&rec.to_text()).ok(), Some(rec));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(rec) = Enr::from_text(s) {
            assert_eq!(Enr::from_text(&rec.to_text()).ok(), Some(rec));
        }
    }
});
