//! `Session::accept` fed arbitrary bytes in chunks whose size comes from the first input
//! byte, optionally after a genuine auth packet, then a handshake timeout or a transport
//! close. Output and events are drained after every chunk (the drain rule).
//!
//! Invariants: never panics; consumes at most what it is given; at most one `Closed`, and it
//! is the last event; a closed session has no deadline and wants no input.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::crypto::keys::peer_id_of;
use paxeer_p2p_core::rlpx::handshake::AuthSent;
use paxeer_p2p_core::session::Session;
use paxeer_p2p_core::types::Seed;
use paxeer_p2p_fuzz::{fixed_key, rng, session_config, t0, Harness};

/// A genuine auth packet to the session's key, so inputs can also start past the handshake.
fn genuine_auth() -> &'static [u8] {
    static A: OnceLock<Vec<u8>> = OnceLock::new();
    A.get_or_init(|| {
        let to = peer_id_of(&fixed_key(1));
        match AuthSent::new(&fixed_key(2), &to, &mut rng(3)) {
            Ok((_, auth)) => auth,
            Err(e) => panic!("setup: {e}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let [chunking, flags, rest @ ..] = data else {
        return;
    };
    let chunk = if *chunking == 0 {
        usize::MAX
    } else {
        usize::from(*chunking)
    };
    let mut h = Harness::new(Session::accept(session_config(), t0(), Seed([4; 32])));
    let mut stream = Vec::new();
    if flags & 1 != 0 {
        stream.extend_from_slice(genuine_auth());
    }
    stream.extend_from_slice(rest);
    for piece in stream.chunks(chunk.min(stream.len().max(1))) {
        h.input(piece);
    }
    match (flags >> 1) & 3 {
        0 => {}
        1 => h.advance(Duration::from_secs(6)),
        2 => h.transport_closed(),
        _ => {
            h.advance(Duration::from_secs(6));
            h.advance(Duration::from_secs(2));
            h.transport_closed();
        }
    }
    h.finish();
});
