//! Misbehaving inbound connections against the tokio and smol `Listener`s: garbage instead of
//! an auth packet, silence, an RLPx handshake without Hello, early closes, more pending
//! handshakes than allowed. Each must end as one `Incoming::Failed` with the right reason
//! (nothing panics, the socket is closed), and the listener must keep accepting good peers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use paxeer_p2p_core::driver::os_seed;
use paxeer_p2p_core::p2p::DisconnectReason;
use paxeer_p2p_core::session::{CloseReason, Session, SessionConfig, SessionError, SessionEvent};
use paxeer_p2p_tests::{
    accept, config, connect_ok, dial, localhost, localhost_any, next_event, on, payload, peer_id,
    timeout, Accepted, ConnectFailure, Listener, Runtime, STEP_TIMEOUT,
};

const LISTENER_KEY: u8 = 0x41;
const GOOD_KEY: u8 = 0x42;
const BAD_KEY: u8 = 0x43;

/// Short handshake timeout of the listener in these tests.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(300);

/// Listener configuration: 300 ms handshake timeout, 200 ms linger after Disconnect.
fn listener_config() -> SessionConfig {
    let mut cfg = config(LISTENER_KEY);
    cfg.handshake_timeout = HANDSHAKE_TIMEOUT;
    cfg.disconnect_linger = Duration::from_millis(200);
    cfg
}

async fn bind<R: Runtime>(cfg: SessionConfig, max_pending: usize) -> Listener {
    Listener::bind_with_limit::<R>(localhost_any(), Arc::new(cfg), max_pending)
        .await
        .unwrap_or_else(|e| panic!("[{}] bind: {e}", R::NAME))
}

fn addr_of(l: &Listener) -> SocketAddr {
    localhost(l.local_addr().port())
}

/// A raw TCP client of the listener.
fn raw_connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, STEP_TIMEOUT).expect("raw connect");
    s.set_read_timeout(Some(STEP_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(STEP_TIMEOUT)).unwrap();
    s
}

/// Reads until the listener closes the connection (EOF or reset); returns what it sent.
/// Panics if it stays open for [`STEP_TIMEOUT`].
fn read_until_closed(s: &mut TcpStream, what: &str) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                ) =>
            {
                return got
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("{what}: the listener did not close the connection within {STEP_TIMEOUT:?}")
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("{what}: read: {e}"),
        }
    }
}

/// A sans-IO client session (key [`BAD_KEY`]) dialing `remote`, driven by hand.
fn client_session(remote: paxeer_p2p_core::types::PeerId) -> Session {
    Session::connect(Arc::new(config(BAD_KEY)), remote, Instant::now(), os_seed()).unwrap()
}

/// The first thing [`client_session`] sends: its auth packet.
fn auth_packet(remote: paxeer_p2p_core::types::PeerId) -> Vec<u8> {
    let mut auth = Vec::new();
    client_session(remote).poll_transmit(&mut auth, usize::MAX);
    assert!(!auth.is_empty());
    auth
}

/// Feeds everything the listener sent into `client` and returns its events; every byte
/// must be consumed.
fn decode_all<R: Runtime>(client: &mut Session, got: &mut [u8]) -> Vec<SessionEvent> {
    let mut events = Vec::new();
    let mut pos = 0;
    loop {
        let n = client.handle_input(Instant::now(), &mut got[pos..]);
        pos += n;
        let before = events.len();
        while let Some(ev) = client.poll_event() {
            events.push(ev);
        }
        if n == 0 && events.len() == before {
            break;
        }
    }
    assert_eq!(
        pos,
        got.len(),
        "[{}] undecoded bytes; events {events:?}",
        R::NAME
    );
    events
}

/// The events of a client that saw the listener's ack, Hello, then Disconnect(`reason`).
fn assert_hello_then_disconnect<R: Runtime>(events: &[SessionEvent], reason: DisconnectReason) {
    assert!(
        matches!(events.first(), Some(SessionEvent::Authenticated { remote }) if *remote == peer_id(LISTENER_KEY)),
        "[{}] {events:?}",
        R::NAME
    );
    assert!(
        matches!(events.get(1), Some(SessionEvent::Established { hello, .. }) if hello.id == peer_id(LISTENER_KEY)),
        "[{}] {events:?}",
        R::NAME
    );
    assert_eq!(
        events.get(2..),
        Some(
            &[SessionEvent::Closed {
                reason: CloseReason::Remote(reason)
            }][..]
        ),
        "[{}] {events:?}",
        R::NAME
    );
}

/// The next outcome must be `Failed` for the client at `from`; returns its close reason.
async fn expect_failed<R: Runtime>(l: &mut Listener, from: SocketAddr, what: &str) -> CloseReason {
    match accept::<R>(l, what).await {
        Accepted::Failed { addr, error } => {
            assert_eq!(addr, from, "[{}] {what}: address", R::NAME);
            match error {
                ConnectFailure::Closed(reason) => reason,
                other => panic!(
                    "[{}] {what}: expected a closed session, got {other}",
                    R::NAME
                ),
            }
        }
        Accepted::Established(h) => panic!("[{}] {what}: established {h:?}", R::NAME),
    }
}

/// A good peer still gets in: established on both ends, Ping answered, Disconnect seen.
async fn good_peer_gets_in<R: Runtime>(l: &mut Listener) {
    let (mut out, accepted) = smol::future::zip(
        connect_ok::<R>(
            addr_of(l),
            peer_id(LISTENER_KEY),
            Arc::new(config(GOOD_KEY)),
        ),
        accept::<R>(l, "the good peer"),
    )
    .await;
    let mut inbound = match accepted {
        Accepted::Established(h) => h,
        Accepted::Failed { addr, error } => {
            panic!("[{}] good peer from {addr} failed: {error}", R::NAME)
        }
    };
    assert_eq!(inbound.info().remote, peer_id(GOOD_KEY));
    assert_eq!(inbound.remote_addr(), out.local_addr());
    out.ping().await.unwrap();
    assert!(matches!(
        next_event::<R>(&mut out, "Pong").await,
        SessionEvent::Pong { .. }
    ));
    inbound
        .disconnect(DisconnectReason::TooManyPeers)
        .await
        .unwrap();
    assert_eq!(
        next_event::<R>(&mut out, "Closed").await,
        SessionEvent::Closed {
            reason: CloseReason::Remote(DisconnectReason::TooManyPeers)
        }
    );
    assert_eq!(
        next_event::<R>(&mut inbound, "Closed").await,
        SessionEvent::Closed {
            reason: CloseReason::Local(DisconnectReason::TooManyPeers)
        }
    );
}

/// Bytes that are not an auth packet: each must fail the handshake at once.
fn garbage_is_a_handshake_error<R: Runtime>() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // "GE" read as an EIP-8 size prefix: 18245 bytes, over the 2 KiB limit.
        (
            "an HTTP request",
            b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
        ),
        // A size prefix just over the limit, nothing else.
        ("a too large size prefix", vec![0x08, 0x01]),
        // A plausible size prefix (300) and 300 bytes of noise: ECIES fails.
        (
            "EIP-8 sized noise",
            [&[0x01, 0x2c][..], &payload(1, 300)].concat(),
        ),
        // Starts like a pre-EIP-8 auth (0x04) but is noise, long enough for both readings.
        (
            "legacy-looking noise",
            [&[0x04][..], &payload(2, 2100)].concat(),
        ),
    ];
    let mut cases = cases;
    // A well-formed auth sealed to another node's key (a dial with the wrong node id): the
    // ECIES MAC check fails.
    cases.push(("an auth sealed to another key", auth_packet(peer_id(0x99))));
    let rt = on::<R>();
    rt.block_on(async {
        let mut l = bind::<R>(listener_config(), 50).await;
        for (what, bytes) in &cases {
            let started = Instant::now();
            let mut s = raw_connect(addr_of(&l));
            s.write_all(bytes).unwrap();
            let from = s.local_addr().unwrap();
            let reason = expect_failed::<R>(&mut l, from, what).await;
            assert!(
                matches!(reason, CloseReason::Error(SessionError::Handshake(_))),
                "[{}] {what}: expected a handshake error, got {reason:?}",
                R::NAME
            );
            let sent = read_until_closed(&mut s, what);
            assert!(
                sent.is_empty(),
                "[{}] {what}: the listener answered garbage",
                R::NAME
            );
            eprintln!(
                "[{}] {what}: {reason} after {:?}",
                R::NAME,
                started.elapsed()
            );
        }
        good_peer_gets_in::<R>(&mut l).await;
    });
}

/// A client that connects and sends nothing fails with `HandshakeTimeout` after the
/// configured timeout, and is disconnected.
fn silent_client_times_out<R: Runtime>() {
    let rt = on::<R>();
    rt.block_on(async {
        let mut l = bind::<R>(listener_config(), 50).await;
        let started = Instant::now();
        let mut s = raw_connect(addr_of(&l));
        let from = s.local_addr().unwrap();
        let reason = expect_failed::<R>(&mut l, from, "a silent client").await;
        let elapsed = started.elapsed();
        assert_eq!(
            reason,
            CloseReason::Error(SessionError::HandshakeTimeout),
            "[{}]",
            R::NAME
        );
        // The timer starts after the TCP accept, which follows our connect.
        assert!(
            elapsed >= HANDSHAKE_TIMEOUT - Duration::from_millis(20),
            "[{}] timed out after only {elapsed:?}",
            R::NAME
        );
        let sent = read_until_closed(&mut s, "a silent client");
        assert!(sent.is_empty(), "[{}] sent {} bytes", R::NAME, sent.len());
        eprintln!("[{}] silent client: {reason} after {elapsed:?}", R::NAME);
        good_peer_gets_in::<R>(&mut l).await;
    });
}

/// A client that completes the RLPx handshake but never sends Hello: the listener times out
/// and says so with Disconnect(ReadTimeout) before closing.
fn no_hello_times_out<R: Runtime>() {
    let rt = on::<R>();
    rt.block_on(async {
        let mut l = bind::<R>(listener_config(), 50).await;
        let started = Instant::now();
        let mut s = raw_connect(addr_of(&l));
        let from = s.local_addr().unwrap();
        // A sans-IO session on our side, driven by hand: send its auth and nothing else.
        let mut client = client_session(peer_id(LISTENER_KEY));
        let mut auth = Vec::new();
        client.poll_transmit(&mut auth, usize::MAX);
        s.write_all(&auth).unwrap();

        let mut got = read_until_closed(&mut s, "a client without Hello");
        let reason = expect_failed::<R>(&mut l, from, "a client without Hello").await;
        let elapsed = started.elapsed();
        assert_eq!(
            reason,
            CloseReason::Error(SessionError::HandshakeTimeout),
            "[{}]",
            R::NAME
        );
        // What the listener sent: ack, Hello, Disconnect(ReadTimeout).
        let events = decode_all::<R>(&mut client, &mut got);
        assert_hello_then_disconnect::<R>(&events, DisconnectReason::ReadTimeout);
        eprintln!(
            "[{}] client without Hello: {reason} after {elapsed:?}",
            R::NAME
        );
        good_peer_gets_in::<R>(&mut l).await;
    });
}

/// A client that completes the RLPx handshake and then sends noise instead of frames: the
/// frame MAC check fails, and the listener says Disconnect(NetworkError) before closing.
fn garbage_after_auth_is_a_frame_error<R: Runtime>() {
    let rt = on::<R>();
    rt.block_on(async {
        let mut l = bind::<R>(listener_config(), 50).await;
        let mut s = raw_connect(addr_of(&l));
        let from = s.local_addr().unwrap();
        let mut client = client_session(peer_id(LISTENER_KEY));
        let mut auth = Vec::new();
        client.poll_transmit(&mut auth, usize::MAX);
        s.write_all(&auth).unwrap();
        s.write_all(&payload(3, 64)).unwrap();

        let mut got = read_until_closed(&mut s, "a client sending noise frames");
        let reason = expect_failed::<R>(&mut l, from, "a client sending noise frames").await;
        assert!(
            matches!(reason, CloseReason::Error(SessionError::Frame(_))),
            "[{}] expected a frame error, got {reason:?}",
            R::NAME
        );
        let events = decode_all::<R>(&mut client, &mut got);
        assert_hello_then_disconnect::<R>(&events, DisconnectReason::NetworkError);
        good_peer_gets_in::<R>(&mut l).await;
    });
}

/// A peer sharing no capability with us is refused on both ends with UselessPeer.
fn useless_peer_is_refused<R: Runtime>() {
    let rt = on::<R>();
    rt.block_on(async {
        let mut l = bind::<R>(listener_config(), 50).await;
        let mut useless = config(BAD_KEY);
        useless.protocols = vec![paxeer_p2p_core::p2p::ProtocolSpec {
            cap: paxeer_p2p_core::p2p::Capability::new("les", 4),
            message_count: 24,
        }];
        let (dialed, accepted) = smol::future::zip(
            dial::<R>(addr_of(&l), peer_id(LISTENER_KEY), Arc::new(useless)),
            accept::<R>(&mut l, "the useless peer"),
        )
        .await;
        match dialed {
            Err(ConnectFailure::Closed(CloseReason::Error(SessionError::NoSharedCapability))) => {}
            other => panic!("[{}] dialer: {other:?}", R::NAME),
        }
        match accepted {
            Accepted::Failed {
                error: ConnectFailure::Closed(CloseReason::Error(SessionError::NoSharedCapability)),
                ..
            } => {}
            other => panic!("[{}] listener: {other:?}", R::NAME),
        }
        good_peer_gets_in::<R>(&mut l).await;
    });
}

/// A client that closes during the handshake (at once, or after part of an auth) fails with
/// `TransportClosed`.
fn early_close_is_transport_closed<R: Runtime>() {
    let rt = on::<R>();
    rt.block_on(async {
        let mut l = bind::<R>(listener_config(), 50).await;
        // At once.
        let s = raw_connect(addr_of(&l));
        let from = s.local_addr().unwrap();
        drop(s);
        let reason = expect_failed::<R>(&mut l, from, "a client closing at once").await;
        assert_eq!(reason, CloseReason::TransportClosed, "[{}]", R::NAME);

        // After half an auth packet.
        let auth = auth_packet(peer_id(LISTENER_KEY));
        let mut s = raw_connect(addr_of(&l));
        let from = s.local_addr().unwrap();
        s.write_all(&auth[..auth.len() / 2]).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let reason = expect_failed::<R>(&mut l, from, "a client closing mid-auth").await;
        assert_eq!(reason, CloseReason::TransportClosed, "[{}]", R::NAME);
        let sent = read_until_closed(&mut s, "a client closing mid-auth");
        assert!(sent.is_empty(), "[{}] sent {} bytes", R::NAME, sent.len());

        good_peer_gets_in::<R>(&mut l).await;
    });
}

/// Clients stuck in the handshake do not delay anyone else: with ten silent connections
/// pending (and a handshake timeout far away), a good peer is established first.
fn silent_clients_do_not_block_good_peers<R: Runtime>() {
    let rt = on::<R>();
    rt.block_on(async {
        let mut cfg = listener_config();
        cfg.handshake_timeout = Duration::from_secs(60);
        let mut l = bind::<R>(cfg, 50).await;
        let silent: Vec<TcpStream> = (0..10).map(|_| raw_connect(addr_of(&l))).collect();
        good_peer_gets_in::<R>(&mut l).await;
        let mut froms: Vec<SocketAddr> = silent.iter().map(|s| s.local_addr().unwrap()).collect();
        drop(silent);
        for _ in 0..froms.len() {
            match accept::<R>(&mut l, "the silent clients to fail").await {
                Accepted::Failed {
                    addr,
                    error: ConnectFailure::Closed(CloseReason::TransportClosed),
                } => {
                    let i = froms
                        .iter()
                        .position(|a| *a == addr)
                        .expect("a silent client");
                    froms.swap_remove(i);
                }
                other => panic!("[{}] expected TransportClosed, got {other:?}", R::NAME),
            }
        }
    });
}

/// Beyond `max_pending` connections in the handshake, new ones are closed at once and never
/// reported; once the pending ones end, good peers get in again.
fn pending_limit_closes_excess<R: Runtime>() {
    let rt = on::<R>();
    rt.block_on(async {
        let mut cfg = listener_config();
        cfg.handshake_timeout = Duration::from_secs(60);
        let mut l = bind::<R>(cfg, 2).await;
        let pending: Vec<TcpStream> = (0..2).map(|_| raw_connect(addr_of(&l))).collect();
        let mut excess = raw_connect(addr_of(&l));
        let started = Instant::now();
        let sent = read_until_closed(&mut excess, "a connection over the pending limit");
        assert!(sent.is_empty());
        eprintln!(
            "[{}] over the limit: closed after {:?}",
            R::NAME,
            started.elapsed()
        );
        // Nothing is reported for it while the two stay pending.
        assert!(
            timeout::<R, _>(Duration::from_millis(100), l.accept())
                .await
                .is_none(),
            "[{}] the listener reported something",
            R::NAME
        );
        drop(pending);
        for _ in 0..2 {
            let reason = match accept::<R>(&mut l, "the pending clients to fail").await {
                Accepted::Failed {
                    error: ConnectFailure::Closed(r),
                    ..
                } => r,
                other => panic!("[{}] {other:?}", R::NAME),
            };
            assert_eq!(reason, CloseReason::TransportClosed);
        }
        good_peer_gets_in::<R>(&mut l).await;
    });
}

macro_rules! on_both_runtimes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use paxeer_p2p_tests::{with_deadline, Smol, Tokio, TEST_DEADLINE};

            #[test]
            fn tokio() {
                with_deadline(concat!(stringify!($name), "::tokio"), TEST_DEADLINE, super::$name::<Tokio>);
            }

            #[test]
            fn smol() {
                with_deadline(concat!(stringify!($name), "::smol"), TEST_DEADLINE, super::$name::<Smol>);
            }
        }
    )*};
}

on_both_runtimes!(
    garbage_is_a_handshake_error,
    silent_client_times_out,
    no_hello_times_out,
    garbage_after_auth_is_a_frame_error,
    useless_peer_is_refused,
    early_close_is_transport_closed,
    silent_clients_do_not_block_good_peers,
    pending_limit_closes_excess,
);
