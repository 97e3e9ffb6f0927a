//! `Hello::decode` on arbitrary bytes.
//!
//! Invariants: never panics; a decoded Hello re-encodes to bytes that decode to the same
//! Hello, whose encoding is then a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::p2p::hello::MAX_HELLO_BYTES;
use paxeer_p2p_core::p2p::{Hello, HelloError};

fuzz_target!(|data: &[u8]| {
    let Ok(hello) = Hello::decode(data) else {
        return;
    };
    let encoded = hello.encode();
    match Hello::decode(&encoded) {
        Ok(again) => {
            assert_eq!(again, hello);
            assert_eq!(again.encode(), encoded);
        }
        // Lossy UTF-8 decoding may grow a string (one invalid byte becomes U+FFFD, three
        // bytes), so a Hello near the size limit may not fit once re-encoded.
        Err(HelloError::TooLarge(n)) => assert!(n > MAX_HELLO_BYTES && n == encoded.len()),
        Err(e) => panic!("re-encoded hello does not decode: {e}"),
    }
});
