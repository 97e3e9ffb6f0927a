//! Session scenarios in virtual time: establishment, messaging, keep-alive, timeouts,
//! admission, disconnects and bad input.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use paxeer_p2p_core::p2p::{
    Capability, DisconnectReason, Hello, ProtocolSpec, DISCONNECT_ID, HELLO_ID, PING_ID, PONG_ID,
};
use paxeer_p2p_core::session::{CloseReason, SendError, Session, SessionError, SessionEvent};
use paxeer_p2p_core::types::Seed;
use support::*;

fn established_pair() -> Pair {
    let mut p = Pair::new(config(1, eth_specs()), config(2, eth_specs()));
    p.drive();
    assert!(p.established(), "a: {:?}\nb: {:?}", p.a.events, p.b.events);
    p
}

#[test]
fn handshake_and_hello_establish_both_sides_with_the_same_offsets() {
    let p = established_pair();
    for side in [&p.a, &p.b] {
        assert!(matches!(side.events[0], SessionEvent::Authenticated { .. }));
        assert!(matches!(side.events[1], SessionEvent::Established { .. }));
    }
    let caps_a = p.a.drv.session().caps().clone();
    let caps_b = p.b.drv.session().caps().clone();
    assert_eq!(caps_a, caps_b);
    let names: Vec<String> = caps_a.iter().map(|(_, c)| c.cap.to_string()).collect();
    assert_eq!(names, ["eth/69", "snap/1"]);
    assert_eq!(
        caps_a.iter().map(|(_, c)| c.offset).collect::<Vec<_>>(),
        [0x10, 0x10 + 18]
    );
    assert!(p.a.drv.session().snappy() && p.b.drv.session().snappy());
    assert_eq!(p.a.drv.session().hello().unwrap().client_id, "test/2");
}

#[test]
fn messages_flow_in_both_directions_with_and_without_snappy() {
    for legacy in [false, true] {
        let mut cfg_b = config(2, eth_specs());
        if legacy {
            cfg_b.p2p_version = 4;
        }
        let mut p = Pair::new(config(1, eth_specs()), cfg_b);
        p.drive();
        assert!(p.established());
        assert_eq!(p.a.drv.session().snappy(), !legacy);
        let snap = p.a.drv.session().caps().find("snap").unwrap();
        let eth = p.b.drv.session().caps().find("eth").unwrap();
        let big = vec![7u8; 100_000];
        p.a.drv
            .session_mut()
            .send(p.now, snap, 3, big.clone())
            .unwrap();
        p.b.drv
            .session_mut()
            .send(p.now, eth, 17, b"tail".to_vec())
            .unwrap();
        p.drive();
        assert_eq!(p.b.messages(), vec![(3, big)]);
        assert_eq!(p.a.messages(), vec![(17, b"tail".to_vec())]);
    }
}

#[test]
fn send_refuses_caller_mistakes() {
    let mut p = established_pair();
    let now = p.now;
    let s = p.a.drv.session_mut();
    let eth = s.caps().find("eth").unwrap();
    assert_eq!(
        s.send(now, eth, 18, vec![]),
        Err(SendError::MessageIdOutOfRange(18))
    );
    assert_eq!(
        s.send(now, paxeer_p2p_core::p2p::CapId(9), 0, vec![]),
        Err(SendError::UnknownCapability)
    );
    s.disconnect(now, DisconnectReason::ClientQuitting);
    assert_eq!(s.send(now, eth, 0, vec![]), Err(SendError::NotEstablished));
}

#[test]
fn ping_reports_round_trip_and_keepalive_holds_an_idle_session() {
    let mut p = established_pair();
    p.a.drv.session_mut().ping(p.now).unwrap();
    p.drive();
    assert!(p
        .a
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::Pong { .. })));
    // Ten minutes of silence from the application: keep-alive pings keep both sides up.
    p.advance(Duration::from_secs(600));
    assert!(p.established());
    let pongs =
        p.b.events
            .iter()
            .filter(|e| matches!(e, SessionEvent::Pong { .. }))
            .count();
    assert!(
        pongs >= 30,
        "b saw {pongs} pongs in 600 s with a 15 s ping interval"
    );
}

#[test]
fn silent_peer_is_dropped_by_pong_or_idle_timeout_with_read_timeout_reason() {
    let mut p = established_pair();
    p.b.mute = true;
    p.advance(Duration::from_secs(60));
    let reason = p.a.close_reason().expect("a closed");
    assert!(
        matches!(
            reason,
            CloseReason::Error(SessionError::PongTimeout | SessionError::IdleTimeout)
        ),
        "{reason:?}"
    );
    assert_eq!(
        reason.disconnect_reason(),
        Some(DisconnectReason::ReadTimeout)
    );
    assert_eq!(p.a.closed_events(), 1);
    assert!(matches!(
        p.a.events.last(),
        Some(SessionEvent::Closed { .. })
    ));
}

#[test]
fn handshake_timeout_closes_a_session_that_hears_nothing() {
    let cfg = Arc::new(config(3, eth_specs()));
    let now = t0();
    let mut s = Session::accept(cfg, now, Seed([1; 32]));
    assert_eq!(s.poll_timeout(), Some(now + Duration::from_secs(5)));
    s.handle_timeout(now + Duration::from_secs(4));
    assert!(s.poll_event().is_none());
    s.handle_timeout(now + Duration::from_secs(5));
    assert_eq!(
        s.poll_event(),
        Some(SessionEvent::Closed {
            reason: CloseReason::Error(SessionError::HandshakeTimeout)
        })
    );
    assert!(s.is_closed() && s.poll_timeout().is_none());
}

#[test]
fn local_disconnect_reaches_the_remote_with_its_reason() {
    let mut p = established_pair();
    p.a.drv
        .session_mut()
        .disconnect(p.now, DisconnectReason::ClientQuitting);
    p.advance(Duration::from_secs(2));
    assert_eq!(
        p.b.close_reason(),
        Some(&CloseReason::Remote(DisconnectReason::ClientQuitting))
    );
    assert_eq!(
        p.a.close_reason(),
        Some(&CloseReason::Local(DisconnectReason::ClientQuitting))
    );
    assert_eq!((p.a.closed_events(), p.b.closed_events()), (1, 1));
}

#[test]
fn refusal_at_the_authenticated_checkpoint_sends_disconnect_without_hello() {
    let mut p = Pair::new(config(1, eth_specs()), config(2, eth_specs()));
    p.b.refuse = Some(DisconnectReason::TooManyPeers);
    p.advance(Duration::from_secs(2));
    assert_eq!(
        p.a.close_reason(),
        Some(&CloseReason::Remote(DisconnectReason::TooManyPeers))
    );
    assert!(!p
        .a
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::Established { .. })));
}

#[test]
fn no_shared_capability_closes_as_useless_peer() {
    let other = vec![ProtocolSpec {
        cap: Capability::new("les", 4),
        message_count: 24,
    }];
    let mut p = Pair::new(config(1, eth_specs()), config(2, other));
    p.advance(Duration::from_secs(2));
    for side in [&p.a, &p.b] {
        let r = side.close_reason().expect("closed");
        assert!(
            *r == CloseReason::Error(SessionError::NoSharedCapability)
                || *r == CloseReason::Remote(DisconnectReason::UselessPeer),
            "{r:?}"
        );
    }
}

// ----- raw peer: frames crafted by hand -----

/// A session accepting a raw peer, with the handshake and the session's Hello done.
fn raw_setup(max_message_bytes: usize) -> (Session, RawPeer, std::time::Instant) {
    let mut cfg = config(5, eth_specs());
    cfg.max_message_bytes = max_message_bytes;
    let local = cfg.local_id();
    let now = t0();
    let mut s = Session::accept(Arc::new(cfg), now, Seed([2; 32]));
    let (mut raw, auth) = RawPeer::dial(9, local);
    let (out, events) = feed(&mut s, now, &auth);
    assert!(matches!(events[..], [SessionEvent::Authenticated { .. }]));
    raw.receive(&out);
    let frames = raw.frames();
    assert_eq!(frames.len(), 1, "the session's Hello");
    assert_eq!(frames[0].0, HELLO_ID);
    (s, raw, now)
}

fn hello_from(raw: &RawPeer, version: u64) -> Vec<u8> {
    Hello {
        protocol_version: version,
        client_id: "raw".into(),
        capabilities: vec![Capability::new("eth", 68)],
        listen_port: 0,
        id: raw.id,
    }
    .encode()
}

fn closed_with(events: &[SessionEvent]) -> CloseReason {
    match events.last() {
        Some(SessionEvent::Closed { reason }) => reason.clone(),
        other => panic!("expected Closed last, got {other:?} in {events:?}"),
    }
}

/// Feeds a frame, then lets the linger run out; returns the Disconnect reason the raw peer
/// received and the session's close reason.
fn expect_close(
    s: &mut Session,
    raw: &mut RawPeer,
    now: std::time::Instant,
    bytes: &[u8],
) -> (Option<DisconnectReason>, CloseReason) {
    let (frames, why) = expect_close_frames(s, raw, now, bytes);
    let sent = frames
        .into_iter()
        .find(|(id, _)| *id == DISCONNECT_ID)
        .map(|(_, p)| {
            let p = paxeer_p2p_core::rlpx::snappy::decompress(&p, 64).unwrap_or(p);
            DisconnectReason::decode(&p)
        });
    (sent, why)
}

/// Like [`expect_close`], returning every frame the raw peer received.
fn expect_close_frames(
    s: &mut Session,
    raw: &mut RawPeer,
    now: std::time::Instant,
    bytes: &[u8],
) -> (Vec<(u64, Vec<u8>)>, CloseReason) {
    let (out, mut events) = feed(s, now, bytes);
    s.handle_timeout(now + Duration::from_secs(2));
    let mut out2 = Vec::new();
    s.poll_transmit(&mut out2, usize::MAX);
    while let Some(e) = s.poll_event() {
        events.push(e);
    }
    raw.receive(&out);
    raw.receive(&out2);
    let n_closed = events
        .iter()
        .filter(|e| matches!(e, SessionEvent::Closed { .. }))
        .count();
    assert_eq!(n_closed, 1, "{events:?}");
    (raw.frames(), closed_with(&events))
}

#[test]
fn useless_peer_disconnect_after_a_v5_hello_is_snappy_compressed() {
    // go-ethereum's devp2p eth-test reads this Disconnect through snappy: with both Hellos
    // at p2p v5 compression is on, also for the Disconnect that refuses the peer.
    let (mut s, mut raw, now) = raw_setup(1 << 20);
    let mut hello = Hello::decode(&hello_from(&raw, 5)).unwrap();
    hello.capabilities = vec![Capability::new("eth", 71)];
    let f = raw.frame(HELLO_ID, &hello.encode());
    let (out, _) = feed(&mut s, now, &f);
    raw.receive(&out);
    let (id, payload) = raw
        .frames()
        .into_iter()
        .find(|(id, _)| *id == DISCONNECT_ID)
        .expect("a Disconnect");
    assert_eq!(id, DISCONNECT_ID);
    let plain = paxeer_p2p_core::rlpx::snappy::decompress(&payload, 64).expect("snappy");
    assert_eq!(
        DisconnectReason::decode(&plain),
        DisconnectReason::UselessPeer
    );
}

#[test]
fn hello_with_a_different_identity_is_unexpected_identity() {
    let (mut s, mut raw, now) = raw_setup(1 << 20);
    let mut hello = Hello::decode(&hello_from(&raw, 5)).unwrap();
    hello.id.0[0] ^= 1;
    let f = raw.frame(HELLO_ID, &hello.encode());
    let (sent, why) = expect_close(&mut s, &mut raw, now, &f);
    assert_eq!(why, CloseReason::Error(SessionError::UnexpectedIdentity));
    assert_eq!(sent, Some(DisconnectReason::UnexpectedIdentity));
}

#[test]
fn data_before_hello_is_a_breach_of_protocol() {
    let (mut s, mut raw, now) = raw_setup(1 << 20);
    let f = raw.frame(0x10, b"\xc0");
    let (sent, why) = expect_close(&mut s, &mut raw, now, &f);
    assert_eq!(
        why,
        CloseReason::Error(SessionError::UnexpectedMessage(0x10))
    );
    assert_eq!(sent, Some(DisconnectReason::ProtocolError));
}

#[test]
fn oversize_frame_is_rejected_from_its_header() {
    let (mut s, mut raw, now) = raw_setup(1024);
    let mut bytes = raw.frame(HELLO_ID, &hello_from(&raw, 5));
    bytes.extend(raw.frame(0x10, &[0u8; 2000]));
    // Only the header of the big frame is needed to reject it.
    let (sent, why) = expect_close(&mut s, &mut raw, now, &bytes[..bytes.len() - 1000]);
    assert!(
        matches!(
            why,
            CloseReason::Error(SessionError::MessageTooLarge { max: 1024, .. })
        ),
        "{why:?}"
    );
    assert_eq!(sent, Some(DisconnectReason::ProtocolError));
}

#[test]
fn snappy_length_over_the_limit_is_rejected_before_decompressing() {
    let (mut s, mut raw, now) = raw_setup(4096);
    let mut bytes = raw.frame(HELLO_ID, &hello_from(&raw, 5));
    // Varint 0x10_0000 (1 MiB) announced, 3 bytes of body.
    bytes.extend(raw.frame(0x10, &[0x80, 0x80, 0x40, 0, 0, 0]));
    let (sent, why) = expect_close(&mut s, &mut raw, now, &bytes);
    assert!(
        matches!(why, CloseReason::Error(SessionError::Snappy(_))),
        "{why:?}"
    );
    assert_eq!(sent, Some(DisconnectReason::ProtocolError));
}

#[test]
fn out_of_range_message_id_is_a_breach_of_protocol() {
    let (mut s, mut raw, now) = raw_setup(1 << 20);
    let mut bytes = raw.frame(HELLO_ID, &hello_from(&raw, 5));
    let mut c = Vec::new();
    paxeer_p2p_core::rlpx::snappy::compress(b"\xc0", &mut c);
    bytes.extend(raw.frame(0x10 + 17, &c)); // eth/68 has ids 0..17 → 0x21 is out of range
    let (sent, why) = expect_close(&mut s, &mut raw, now, &bytes);
    assert_eq!(why, CloseReason::Error(SessionError::BadMessageId(0x21)));
    assert_eq!(sent, Some(DisconnectReason::ProtocolError));
    assert_eq!(
        DisconnectReason::ProtocolError.as_str(),
        "breach of protocol"
    );
}

#[test]
fn bad_mac_closes_with_network_error() {
    let (mut s, mut raw, now) = raw_setup(1 << 20);
    let mut bytes = raw.frame(HELLO_ID, &hello_from(&raw, 5));
    bytes[20] ^= 0x01; // inside the header MAC
    let (_, why) = expect_close(&mut s, &mut raw, now, &bytes);
    assert!(
        matches!(why, CloseReason::Error(SessionError::Frame(_))),
        "{why:?}"
    );
}

#[test]
fn garbage_instead_of_auth_closes_without_panicking() {
    let cfg = Arc::new(config(6, eth_specs()));
    let now = t0();
    for garbage in [
        vec![0u8; 400],
        vec![0xffu8; 2],
        (0..=255u8).cycle().take(3000).collect(),
    ] {
        let mut s = Session::accept(cfg.clone(), now, Seed([3; 32]));
        let (out, events) = feed(&mut s, now, &garbage);
        assert!(out.is_empty());
        if let Some(SessionEvent::Closed { reason }) = events.last() {
            assert!(
                matches!(reason, CloseReason::Error(SessionError::Handshake(_))),
                "{reason:?}"
            );
        } else {
            // Still waiting for more bytes of a plausible packet: the timeout ends it.
            s.handle_timeout(now + Duration::from_secs(5));
            assert!(matches!(s.poll_event(), Some(SessionEvent::Closed { .. })));
        }
    }
}

#[test]
fn every_disconnect_encoding_peers_send_is_understood() {
    // Uncompressed after snappy (ethereumjs sends a bare integer), compressed list, raw byte.
    let mut compressed = Vec::new();
    paxeer_p2p_core::rlpx::snappy::compress(&[0xc1, 0x04], &mut compressed);
    let cases: Vec<(Vec<u8>, DisconnectReason)> = vec![
        (vec![0x08], DisconnectReason::ClientQuitting),
        (vec![0xc1, 0x03], DisconnectReason::UselessPeer),
        (compressed, DisconnectReason::TooManyPeers),
        (vec![0x10], DisconnectReason::SubprotocolError),
    ];
    for (payload, want) in cases {
        let (mut s, mut raw, now) = raw_setup(1 << 20);
        let mut bytes = raw.frame(HELLO_ID, &hello_from(&raw, 5));
        bytes.extend(raw.frame(DISCONNECT_ID, &payload));
        let (_, events) = feed(&mut s, now, &bytes);
        assert_eq!(
            closed_with(&events),
            CloseReason::Remote(want),
            "payload {payload:02x?}"
        );
    }
}

#[test]
fn ping_from_the_peer_is_answered_with_a_compressed_pong() {
    let (mut s, mut raw, now) = raw_setup(1 << 20);
    let mut bytes = raw.frame(HELLO_ID, &hello_from(&raw, 5));
    let mut c = Vec::new();
    paxeer_p2p_core::rlpx::snappy::compress(&[0xc0], &mut c);
    bytes.extend(raw.frame(PING_ID, &c));
    let (out, _) = feed(&mut s, now, &bytes);
    raw.receive(&out);
    let frames = raw.frames();
    assert_eq!(frames, vec![(PONG_ID, c)]);
}

/// A snappy header declaring 2^32 - 1 decoded bytes (snappy's largest), then one byte.
const FOUR_GIB_DECLARED: [u8; 6] = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];

/// Sends the raw peer's Hello then a frame `id` carrying `payload`; expects the session to
/// end with a snappy size error and a breach-of-protocol Disconnect, and returns what else
/// the raw peer received.
fn expect_snappy_breach(id: u64, payload: &[u8]) -> Vec<u64> {
    let (mut s, mut raw, now) = raw_setup(1 << 20);
    let mut bytes = raw.frame(HELLO_ID, &hello_from(&raw, 5));
    bytes.extend(raw.frame(id, payload));
    let (frames, why) = expect_close_frames(&mut s, &mut raw, now, &bytes);
    assert!(
        matches!(why, CloseReason::Error(SessionError::Snappy(_))),
        "id {id:#x}: {why:?}"
    );
    let disconnect = frames
        .iter()
        .find(|(id, _)| *id == DISCONNECT_ID)
        .map(|(_, p)| {
            DisconnectReason::decode(&paxeer_p2p_core::rlpx::snappy::decompress(p, 64).unwrap())
        });
    assert_eq!(
        disconnect,
        Some(DisconnectReason::ProtocolError),
        "id {id:#x}"
    );
    frames.into_iter().map(|(id, _)| id).collect()
}

#[test]
fn ping_declaring_four_gib_decoded_closes_the_session_without_a_pong() {
    let sent = expect_snappy_breach(PING_ID, &FOUR_GIB_DECLARED);
    assert!(!sent.contains(&PONG_ID), "{sent:?}");
}

#[test]
fn pong_and_capability_messages_declaring_four_gib_decoded_close_the_session() {
    for id in [PONG_ID, 0x10, 0x10 + 2, 0x0f] {
        expect_snappy_breach(id, &FOUR_GIB_DECLARED);
    }
}

#[test]
fn ping_just_over_the_configured_limit_or_not_snappy_closes_the_session() {
    // raw_setup limits messages to 1 MiB: varint 2^20 + 1 declared.
    let sent = expect_snappy_breach(PING_ID, &[0x81, 0x80, 0x40, 0x00]);
    assert!(!sent.contains(&PONG_ID), "{sent:?}");
    // An uncompressed empty list is not valid snappy (truncated varint).
    let sent = expect_snappy_breach(PING_ID, &[0xc0]);
    assert!(!sent.contains(&PONG_ID), "{sent:?}");
}

#[test]
fn disconnect_declaring_four_gib_decoded_is_a_breach_not_a_reason() {
    expect_snappy_breach(DISCONNECT_ID, &FOUR_GIB_DECLARED);
}

// ----- driver read buffer against declared frame sizes -----

/// Pumps `drv` and moves everything it wrote to `raw`.
fn drv_flush(drv: &mut paxeer_p2p_core::driver::SessionDriver, raw: &mut RawPeer) {
    let now = t0();
    loop {
        drv.pump(now);
        if drv.awaiting_verdict() {
            // No host here: admit the peer, as a standalone session does.
            drv.admit();
            continue;
        }
        let (_, w) = drv.io_buffers();
        if w.is_empty() {
            break;
        }
        let n = w.len();
        raw.receive(w);
        drv.on_written(n);
    }
}

/// Delivers `bytes` to `drv` the way a runtime does: reads into `io_buffers().0`, at most
/// `per_read` bytes at a time.
fn drv_deliver(
    drv: &mut paxeer_p2p_core::driver::SessionDriver,
    raw: &mut RawPeer,
    mut bytes: &[u8],
    per_read: usize,
) {
    let now = t0();
    while !bytes.is_empty() && drv.wants_read() {
        let (r, _) = drv.io_buffers();
        let n = r.len().min(per_read).min(bytes.len());
        assert!(n > 0, "the driver offers space to read into");
        r[..n].copy_from_slice(&bytes[..n]);
        bytes = &bytes[n..];
        drv.on_read(now, n);
        drv_flush(drv, raw);
    }
}

/// A valid snappy payload of exactly `wire_len` bytes: one literal of zeros.
fn snappy_literal(wire_len: usize) -> Vec<u8> {
    // varint(decoded) ‖ tag 0xfc (literal, 4-byte length − 1 follows) ‖ length ‖ bytes.
    let decoded = wire_len - 4 - 5;
    assert!((1 << 21..1 << 28).contains(&decoded), "a 4-byte varint");
    let mut out = Vec::with_capacity(wire_len);
    let mut v = decoded;
    for _ in 0..3 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out.push(0xfc);
    out.extend_from_slice(&((decoded - 1) as u32).to_le_bytes());
    out.resize(wire_len, 0);
    assert_eq!(
        paxeer_p2p_core::rlpx::snappy::decompress(&out, decoded)
            .unwrap()
            .len(),
        decoded
    );
    out
}

#[test]
fn a_declared_16_mib_frame_does_not_size_the_drivers_read_buffer() {
    use paxeer_p2p_core::driver::{SessionDriver, READ_CHUNK};
    let cfg = config(5, eth_specs());
    assert_eq!(
        cfg.max_message_bytes,
        (1 << 24) - 1,
        "the largest frame is allowed"
    );
    let local = cfg.local_id();
    let mut drv = SessionDriver::new(Session::accept(Arc::new(cfg), t0(), Seed([2; 32])));
    let (mut raw, auth) = RawPeer::dial(9, local);
    drv_deliver(&mut drv, &mut raw, &auth, usize::MAX);
    drv_flush(&mut drv, &mut raw);
    let hello = raw.frame(HELLO_ID, &hello_from(&raw, 5));
    drv_deliver(&mut drv, &mut raw, &hello, usize::MAX);
    assert!(drv.session().is_established());
    let idle = drv.read_buffer_capacity();
    assert!(
        idle <= 8 * 1024,
        "an established idle session holds {idle} bytes"
    );

    // The header declares a 16 MiB frame; only 1 KiB of its body follows, in small reads.
    let big = raw.frame(0x10, &snappy_literal((1 << 24) - 2));
    let header_len = paxeer_p2p_core::rlpx::frame::HEADER_LEN;
    drv_deliver(&mut drv, &mut raw, &big[..header_len + 1024], 100);
    assert_eq!(drv.session().bytes_wanted(), Some(big.len() - header_len));
    let held = drv.read_buffer_capacity();
    assert!(
        held <= 1024 + READ_CHUNK,
        "a trickled 16 MiB frame made the read buffer {held} bytes"
    );
    // The rest of the body arrives and is consumed: the memory goes back.
    drv_deliver(&mut drv, &mut raw, &big[header_len + 1024..], usize::MAX);
    assert!(drv.session().is_established());
    assert_eq!(drv.session().bytes_wanted(), None);
    let ping = {
        let mut c = Vec::new();
        paxeer_p2p_core::rlpx::snappy::compress(&[0xc0], &mut c);
        raw.frame(PING_ID, &c)
    };
    drv_deliver(&mut drv, &mut raw, &ping, usize::MAX);
    let after = drv.read_buffer_capacity();
    assert!(
        after <= 8 * 1024,
        "after the frame the buffer holds {after} bytes"
    );
}

/// A driver fed the dialer's auth message, pumped up to the admission checkpoint.
fn driver_at_checkpoint() -> (paxeer_p2p_core::driver::SessionDriver, RawPeer) {
    use paxeer_p2p_core::driver::SessionDriver;
    let cfg = config(5, eth_specs());
    let local = cfg.local_id();
    let mut drv = SessionDriver::new(Session::accept(Arc::new(cfg), t0(), Seed([2; 32])));
    let (raw, auth) = RawPeer::dial(9, local);
    let (r, _) = drv.io_buffers();
    r[..auth.len()].copy_from_slice(&auth);
    drv.on_read(t0(), auth.len());
    let events = drv.pump(t0());
    assert!(
        matches!(events.last(), Some(SessionEvent::Authenticated { .. })),
        "{events:?}"
    );
    assert!(drv.awaiting_verdict());
    (drv, raw)
}

/// Bytes the driver has to write, marked as written.
fn take_written(drv: &mut paxeer_p2p_core::driver::SessionDriver) -> Vec<u8> {
    let (_, w) = drv.io_buffers();
    let out = w.to_vec();
    drv.on_written(out.len());
    out
}

#[test]
fn at_the_checkpoint_nothing_goes_out_until_the_verdict_and_admit_releases_the_hello() {
    let (mut drv, mut raw) = driver_at_checkpoint();
    // The ack went out with the handshake; our Hello waits for the verdict.
    raw.receive(&take_written(&mut drv));
    for _ in 0..3 {
        assert!(drv.pump(t0()).is_empty());
    }
    assert!(
        take_written(&mut drv).is_empty(),
        "nothing before the verdict"
    );
    assert!(raw.frames().is_empty());
    // Still reading (a little), to notice the peer leaving.
    assert!(drv.wants_read());
    drv.admit();
    drv.pump(t0());
    raw.receive(&take_written(&mut drv));
    let ids: Vec<u64> = raw.frames().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, vec![HELLO_ID]);
}

#[test]
fn waiting_for_a_verdict_still_ends_at_the_handshake_deadline() {
    let (mut drv, _raw) = driver_at_checkpoint();
    let deadline = drv.deadline().expect("a handshake deadline while waiting");
    assert!(deadline <= t0() + Duration::from_secs(60));
    drv.on_timeout(deadline);
    let mut events = drv.pump(deadline);
    assert!(!drv.awaiting_verdict(), "the timeout ends the wait");
    // The Disconnect goes out, then the session closes (at once or after its linger).
    assert!(
        !take_written(&mut drv).is_empty(),
        "a Disconnect is written"
    );
    if let Some(linger) = drv.deadline() {
        drv.on_timeout(linger);
        events.extend(drv.pump(linger));
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e, SessionEvent::Closed { .. })),
        "{events:?}"
    );
}

#[test]
fn waiting_for_a_verdict_notices_the_peer_leaving_and_reads_only_a_little() {
    use paxeer_p2p_core::driver::VERDICT_READ_LIMIT;
    let (mut drv, _raw) = driver_at_checkpoint();
    // A peer that keeps sending while we decide gets at most the verdict read limit read.
    let mut read = 0;
    while drv.wants_read() {
        let (r, _) = drv.io_buffers();
        let n = r.len();
        assert!(n > 0);
        read += n;
        drv.on_read(t0(), n);
        assert!(
            drv.pump(t0()).is_empty(),
            "nothing is processed before the verdict"
        );
        assert!(
            read <= VERDICT_READ_LIMIT + 64 * 1024,
            "read {read} bytes while waiting"
        );
    }
    let (mut drv, _raw) = driver_at_checkpoint();
    drv.on_read(t0(), 0);
    let events = drv.pump(t0());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, SessionEvent::Closed { .. })),
        "{events:?}"
    );
    assert!(!drv.awaiting_verdict());
}
