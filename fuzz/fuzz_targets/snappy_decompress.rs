//! `snappy::decompress` on arbitrary bytes with a fuzzer-chosen limit, and a round trip.
//!
//! Invariants: never panics; the output never exceeds the limit; what is compressed
//! decompresses to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::rlpx::snappy;

fuzz_target!(|data: &[u8]| {
    let [l0, l1, rest @ ..] = data else {
        return;
    };
    // Limits up to 1 MiB: enough to cover every branch without slowing the fuzzer down.
    let max_len = (usize::from(*l0) << 8 | usize::from(*l1)) << 4;
    match snappy::decompress(rest, max_len) {
        Ok(out) => assert!(out.len() <= max_len),
        Err(snappy::SnappyError::TooLarge { len, max }) => {
            assert!(len > max);
            assert_eq!(max, max_len);
        }
        Err(_) => {}
    }
    let mut packed = Vec::new();
    snappy::compress(rest, &mut packed);
    match snappy::decompress(&packed, rest.len()) {
        Ok(out) => assert_eq!(out, rest),
        Err(e) => panic!("round trip failed: {e}"),
    }
});
