//! `Enode::from_str` on arbitrary strings.
//!
//! Invariants: never panics; a parsed enode prints to a URL that parses to the same enode,
//! and printing that is a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::enode::Enode;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(enode) = s.parse::<Enode>() else {
        return;
    };
    let printed = enode.to_string();
    match printed.parse::<Enode>() {
        Ok(again) => {
            assert_eq!(again, enode);
            assert_eq!(again.to_string(), printed);
        }
        Err(e) => panic!("{printed:?} (from {s:?}) does not parse: {e}"),
    }
});
