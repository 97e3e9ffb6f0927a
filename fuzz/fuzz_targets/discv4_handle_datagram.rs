//! `Discv4::handle_datagram` on arbitrary datagrams from arbitrary sources, some of them
//! validly hashed and signed (so bodies reach the machine's logic past the authenticity
//! checks), with time advancing between them. Output is drained after every input.
//!
//! Invariants: never panics; every datagram we send is at most 1280 bytes and goes to a UDP
//! address; the drain leaves nothing behind; after `handle_timeout(now)` the next deadline is
//! later than `now` (no busy loop).
#![no_main]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::crypto::keccak::keccak256;
use paxeer_p2p_core::crypto::keys::sign_recoverable;
use paxeer_p2p_core::discv4::packet::{Endpoint, MAX_PACKET_BYTES};
use paxeer_p2p_core::discv4::{Discv4, Discv4Config};
use paxeer_p2p_core::enr::LocalEnr;
use paxeer_p2p_core::nodedb::MemoryNodeDb;
use paxeer_p2p_core::types::{Seed, WallClock};
use paxeer_p2p_fuzz::{fixed_key, t0};

/// `hash ‖ signature ‖ body` with a valid hash and signature by `key` over `body`.
fn sign(body: &[u8], key: &secp256k1::SecretKey) -> Vec<u8> {
    let sig = sign_recoverable(&keccak256(body), key);
    let mut signed = sig.to_vec();
    signed.extend_from_slice(body);
    let mut out = keccak256(&signed).to_vec();
    out.extend_from_slice(&signed);
    out
}

fn drain(d: &mut Discv4) {
    while let Some((to, bytes)) = d.poll_transmit() {
        assert!(
            bytes.len() <= MAX_PACKET_BYTES,
            "sent {} bytes",
            bytes.len()
        );
        assert_ne!(to.port(), 0);
    }
    while d.poll_event().is_some() {}
}

fuzz_target!(|data: &[u8]| {
    let now0 = t0();
    let key = fixed_key(1);
    let local = Endpoint {
        ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        udp: 30303,
        tcp: 30303,
    };
    let cfg = Discv4Config::new(key, local);
    let clock = WallClock {
        at: now0,
        unix_secs: 1_700_000_000,
    };
    let mut d = Discv4::new(
        cfg,
        LocalEnr::new(key, 1),
        clock,
        now0,
        Seed([5; 32]),
        Box::new(MemoryNodeDb::new()),
    );
    let peer = fixed_key(2);
    let mut now = now0;
    drain(&mut d);
    // Each record: [flags, len, bytes...]; flags: bit0 sign it, bits1-3 source, bits4-7 time step.
    let mut rest = data;
    while let [flags, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(n);
        rest = next;
        let datagram = if flags & 1 == 1 {
            sign(body, &peer)
        } else {
            body.to_vec()
        };
        let from = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2 + ((flags >> 1) & 7))),
            30303,
        );
        d.handle_datagram(now, from, &datagram);
        drain(&mut d);
        now += Duration::from_millis(u64::from(flags >> 4) * 200);
        if d.poll_timeout().is_some_and(|t| t <= now) {
            d.handle_timeout(now);
            drain(&mut d);
            if let Some(next) = d.poll_timeout() {
                assert!(next > now, "deadline not moved past now");
            }
        }
    }
});
