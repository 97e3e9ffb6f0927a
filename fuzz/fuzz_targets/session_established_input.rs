//! A session whose handshake a raw peer completed by hand (deterministic keys and seeds), fed
//! a fuzzer-chosen sequence of frames sealed with the raw peer's codec (arbitrary contents,
//! message ids and payloads, optionally snappy-compressed), raw bytes, split deliveries, time
//! steps, local commands and a transport close.
//!
//! Invariants: never panics; at most one `Closed`, and it is the last event; events follow
//! the lifecycle (no message before `Established`); every frame the session writes opens
//! with the raw peer's codec; a closed session has no deadline and wants no input.
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::p2p::{DisconnectReason, HELLO_ID};
use paxeer_p2p_core::rlpx::snappy;
use paxeer_p2p_fuzz::{raw_hello, Established};

/// One step of the raw peer or of the local side.
#[derive(Arbitrary, Debug)]
enum Op {
    /// Arbitrary frame content, sealed.
    Frame(Vec<u8>),
    /// A message `rlp(id) ‖ payload`, the payload snappy-compressed when asked.
    Message {
        id: u8,
        payload: Vec<u8>,
        compress: bool,
    },
    /// A sealed frame delivered in two pieces.
    Split { content: Vec<u8>, at: u16 },
    /// Raw bytes straight into the stream (desynchronises the framing).
    Raw(Vec<u8>),
    /// Virtual time moves forward by this many 100 ms steps.
    Advance(u16),
    /// The local side sends a sub-protocol message.
    Send {
        snap: bool,
        msg_id: u8,
        payload: Vec<u8>,
    },
    /// The local side pings.
    Ping,
    /// The local side disconnects.
    Disconnect(u8),
    /// The transport closes.
    TransportClosed,
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// The raw peer's Hello (its p2p version) before everything else, if any.
    hello: Option<u8>,
    ops: Vec<Op>,
}

fuzz_target!(|input: Input| {
    let mut s = Established::new();
    if let Some(version) = input.hello {
        let hello = raw_hello(s.peer_id, u64::from(version));
        let frame = s.seal_msg(HELLO_ID, &hello);
        s.h.input(&frame);
        let _ = s.read_output();
    }
    for op in input.ops.into_iter().take(64) {
        match op {
            Op::Frame(content) => {
                let frame = s.seal(&content);
                s.h.input(&frame);
            }
            Op::Message {
                id,
                payload,
                compress,
            } => {
                let payload = if compress {
                    let mut c = Vec::new();
                    snappy::compress(&payload, &mut c);
                    c
                } else {
                    payload
                };
                let frame = s.seal_msg(u64::from(id), &payload);
                s.h.input(&frame);
            }
            Op::Split { content, at } => {
                let frame = s.seal(&content);
                let (a, b) = frame.split_at(usize::from(at) % frame.len());
                s.h.input(a);
                s.h.input(b);
            }
            Op::Raw(bytes) => s.h.input(&bytes),
            Op::Advance(steps) => s.h.advance(Duration::from_millis(100) * u32::from(steps)),
            Op::Send {
                snap,
                msg_id,
                payload,
            } => {
                let name = if snap { "snap" } else { "eth" };
                if let Some(cap) = s.h.session.caps().find(name) {
                    let now = s.h.now;
                    let _ = s.h.session.send(now, cap, u64::from(msg_id), payload);
                }
                s.h.drain();
            }
            Op::Ping => {
                let now = s.h.now;
                let _ = s.h.session.ping(now);
                s.h.drain();
            }
            Op::Disconnect(code) => {
                let now = s.h.now;
                s.h.session
                    .disconnect(now, DisconnectReason::from_code(code));
                s.h.drain();
            }
            Op::TransportClosed => s.h.transport_closed(),
        }
        let _ = s.read_output();
    }
    s.h.finish();
    let _ = s.read_output();
});
