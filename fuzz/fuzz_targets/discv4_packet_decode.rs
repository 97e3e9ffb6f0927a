//! `discv4::packet::decode` on arbitrary datagrams, through the codec's own invariant check
//! (`fuzz_decode`: a decoded packet re-encodes without growing and decodes to itself).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    paxeer_p2p_core::discv4::packet::fuzz_decode(data);
});
