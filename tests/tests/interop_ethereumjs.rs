//! Interop with `@ethereumjs/devp2p` (tests/interop/peer.mjs) over loopback, for both runtimes
//! and both directions: RLPx handshake, Hello, Ping/Pong, Disconnect.
//!
//! These tests fail (they do not skip) when `node` or `tests/interop/node_modules` is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Instant;

use paxeer_p2p_core::p2p::DisconnectReason;
use paxeer_p2p_core::session::{CloseReason, SessionEvent};
use paxeer_p2p_core::types::Direction;
use paxeer_p2p_tests::{
    accept, bind_local, config, connect_ok, eth68_cap, key_hex, localhost, next_event, on, peer_id,
    step, with_deadline, Accepted, NodePeer, Runtime, SessionHandle, Smol, Tokio, STEP_TIMEOUT,
    TEST_DEADLINE,
};
use serde_json::Value;

/// Our key byte and the ethereumjs peer's.
const OURS: u8 = 0x11;
const NODE: u8 = 0x22;

/// Checks the Hello ethereumjs sent us and our view of the session.
fn check_remote_hello(h: &SessionHandle, direction: Direction) {
    let info = h.info();
    assert_eq!(info.remote, peer_id(NODE), "authenticated key");
    assert_eq!(info.hello.id, peer_id(NODE), "Hello id");
    assert!(
        info.hello.client_id.starts_with("ethereumjs"),
        "client id {:?}",
        info.hello.client_id
    );
    assert_eq!(info.hello.protocol_version, 5);
    assert!(
        info.hello.capabilities.contains(&eth68_cap()),
        "caps {:?}",
        info.hello.capabilities
    );
    assert_eq!(info.direction, direction);
    let eth = info.caps.find("eth").expect("eth negotiated");
    let shared = info.caps.get(eth).unwrap();
    assert_eq!(shared.cap, eth68_cap());
    assert_eq!(shared.offset, 0x10);
    assert!(info.timings.handshake.is_some() && info.timings.established.is_some());
}

/// Checks the Hello ethereumjs reports from us.
fn check_node_hello(ev: &Value, direction: &str) {
    assert_eq!(ev["id"], peer_id(OURS).to_hex(), "{ev}");
    assert_eq!(ev["client_id"], format!("paxeer-p2p-tests/{OURS}"), "{ev}");
    assert_eq!(ev["protocol_version"], 5, "{ev}");
    assert!(
        ev["caps"].as_array().unwrap().iter().any(|c| c == "eth/68"),
        "{ev}"
    );
    assert_eq!(ev["direction"], direction, "{ev}");
    let shared = ev["shared"].as_array().unwrap();
    assert_eq!(shared.len(), 1, "{ev}");
    assert_eq!(shared[0]["cap"], "eth/68", "{ev}");
    assert_eq!(shared[0]["offset"], 16, "{ev}");
}

/// ethereumjs reported no errors, apart from socket-level ones that depend on which side
/// closes the TCP connection first.
fn assert_no_protocol_errors(node: &NodePeer) {
    let errors: Vec<&Value> = node
        .events()
        .iter()
        .filter(|e| e["event"] == "error")
        .filter(|e| {
            let m = e["message"].as_str().unwrap_or_default();
            !(m.contains("ECONNRESET") || m.contains("EPIPE"))
        })
        .collect();
    assert!(errors.is_empty(), "ethereumjs reported errors: {errors:?}");
}

/// ethereumjs listens; we dial, ping, and disconnect with ClientQuitting.
fn we_dial_ethereumjs<R: Runtime>() {
    let t0 = Instant::now();
    let key = key_hex(NODE);
    let mut node = NodePeer::spawn(
        &format!("{}-listener", R::NAME),
        &[
            "listen",
            "--port",
            "0",
            "--key",
            &key,
            "--caps",
            "eth/68",
            "--timeout-ms",
            "60000",
        ],
    );
    let listening = node.wait_event("listening", STEP_TIMEOUT);
    assert_eq!(listening["id"], peer_id(NODE).to_hex(), "{listening}");
    let port = u16::try_from(listening["port"].as_u64().unwrap()).unwrap();
    let t_listening = t0.elapsed();

    let rt = on::<R>();
    let (closed, t_session) = rt.block_on(async {
        let t1 = Instant::now();
        let mut h = connect_ok::<R>(localhost(port), peer_id(NODE), Arc::new(config(OURS))).await;
        check_remote_hello(&h, Direction::Outbound);

        h.ping().await.expect("ping");
        match next_event::<R>(&mut h, "Pong").await {
            SessionEvent::Pong { rtt } => assert!(rtt < STEP_TIMEOUT, "rtt {rtt:?}"),
            other => panic!("[{}] expected Pong, got {other:?}", R::NAME),
        }

        h.disconnect(DisconnectReason::ClientQuitting)
            .await
            .expect("disconnect");
        let closed = next_event::<R>(&mut h, "Closed").await;
        let end = step::<R, _>("the end of events", h.next_event()).await;
        assert!(end.is_none(), "[{}] event after Closed: {end:?}", R::NAME);
        (closed, t1.elapsed())
    });
    assert_eq!(
        closed,
        SessionEvent::Closed {
            reason: CloseReason::Local(DisconnectReason::ClientQuitting)
        },
        "[{}]",
        R::NAME
    );

    let hello = node.wait_event("hello", STEP_TIMEOUT);
    check_node_hello(&hello, "inbound");
    let disc = node.wait_event("disconnect", STEP_TIMEOUT);
    assert_eq!(disc["reason_code"], 8, "{disc}");
    assert_eq!(disc["by"], "remote", "{disc}");
    assert_eq!(disc["id"], peer_id(OURS).to_hex(), "{disc}");
    assert_no_protocol_errors(&node);
    eprintln!(
        "[{}] we dial ethereumjs: node listening after {t_listening:?}, session {t_session:?}",
        R::NAME
    );
}

/// We listen; ethereumjs dials, pings us, and disconnects with ClientQuitting.
fn ethereumjs_dials_us<R: Runtime>() {
    let rt = on::<R>();
    let mut listener = rt.block_on(bind_local::<R>(Arc::new(config(OURS))));
    let port = listener.local_addr().port().to_string();
    let t0 = Instant::now();
    let key = key_hex(NODE);
    let remote_id = peer_id(OURS).to_hex();
    let mut node = NodePeer::spawn(
        &format!("{}-dialer", R::NAME),
        &[
            "dial",
            "--key",
            &key,
            "--remote-id",
            &remote_id,
            "--remote-port",
            &port,
            "--caps",
            "eth/68",
            "--ping",
            "--disconnect-after-hello",
            "--timeout-ms",
            "60000",
        ],
    );

    let (mut h, t_accept) = rt.block_on(async {
        match accept::<R>(&mut listener, "ethereumjs to dial in").await {
            Accepted::Established(h) => (h, t0.elapsed()),
            Accepted::Failed { addr, error } => node.fail(&format!(
                "[{}] inbound from {addr} failed: {error}",
                R::NAME
            )),
        }
    });
    check_remote_hello(&h, Direction::Inbound);
    assert_eq!(h.local_addr(), listener.local_addr());

    let hello = node.wait_event("hello", STEP_TIMEOUT);
    check_node_hello(&hello, "outbound");
    let pong = node.wait_event("pong", STEP_TIMEOUT);
    assert!(pong["rtt_ms"].is_number(), "{pong}");

    let closed = rt.block_on(async {
        let closed = next_event::<R>(&mut h, "Closed").await;
        let end = step::<R, _>("the end of events", h.next_event()).await;
        assert!(end.is_none(), "[{}] event after Closed: {end:?}", R::NAME);
        closed
    });
    assert_eq!(
        closed,
        SessionEvent::Closed {
            reason: CloseReason::Remote(DisconnectReason::ClientQuitting)
        },
        "[{}]",
        R::NAME
    );
    let disc = node.wait_event("disconnect", STEP_TIMEOUT);
    assert_eq!(disc["reason_code"], 8, "{disc}");
    assert_eq!(disc["by"], "local", "{disc}");
    assert_no_protocol_errors(&node);
    eprintln!(
        "[{}] ethereumjs dials us: established after {t_accept:?} (incl. node start-up), closed after {:?}",
        R::NAME,
        t0.elapsed()
    );
}

#[test]
fn tokio_dials_ethereumjs() {
    with_deadline(
        "tokio_dials_ethereumjs",
        TEST_DEADLINE,
        we_dial_ethereumjs::<Tokio>,
    );
}

#[test]
fn smol_dials_ethereumjs() {
    with_deadline(
        "smol_dials_ethereumjs",
        TEST_DEADLINE,
        we_dial_ethereumjs::<Smol>,
    );
}

#[test]
fn ethereumjs_dials_tokio() {
    with_deadline(
        "ethereumjs_dials_tokio",
        TEST_DEADLINE,
        ethereumjs_dials_us::<Tokio>,
    );
}

#[test]
fn ethereumjs_dials_smol() {
    with_deadline(
        "ethereumjs_dials_smol",
        TEST_DEADLINE,
        ethereumjs_dials_us::<Smol>,
    );
}
