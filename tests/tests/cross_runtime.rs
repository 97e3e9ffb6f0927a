//! tokio ↔ smol over loopback: a listener of one runtime and a dialer of the other, each on
//! its own thread and executor. Both sides exchange eth/68 messages of 1 B, 1 KiB and 1 MiB
//! (checked byte for byte and in order), ping each other, and one side disconnects with a
//! reason the other side must see.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use paxeer_p2p_core::p2p::DisconnectReason;
use paxeer_p2p_core::session::{CloseReason, SessionEvent};
use paxeer_p2p_core::types::Direction;
use paxeer_p2p_tests::{
    accept, bind_local, config, connect_ok, eth68_cap, localhost, next_event, on, payload, peer_id,
    step, with_deadline, Accepted, Runtime, SessionHandle, Smol, Tokio, STEP_TIMEOUT,
    TEST_DEADLINE,
};

const LISTENER_KEY: u8 = 0x31;
const DIALER_KEY: u8 = 0x32;

/// Message sizes sent by each side, in this order, as eth/68 message ids 1, 2, 3. The
/// payloads are incompressible, so the last one is a frame of over 1 MiB on the wire.
const SIZES: [usize; 3] = [1, 1024, 1 << 20];
/// The same for the same-runtime reference pairs: the last one still needs a 3-byte frame
/// size and several reads, at a fraction of the cost (Keccak is slow in debug builds).
const SMALL_SIZES: [usize; 3] = [1, 1024, 70_000];
/// The last eth/68 message id: "I have received everything".
const DONE_ID: u64 = 16;

/// Which end of the connection a thread runs, and who disconnects.
#[derive(Clone, Copy, Debug)]
struct Role {
    key: u8,
    peer_key: u8,
    direction: Direction,
    /// `Some(reason)`: this side disconnects with `reason`; `None`: it expects the other to.
    closes_with: Option<DisconnectReason>,
    /// The reason whichever side disconnects uses.
    reason: DisconnectReason,
    /// Sizes of the messages each side sends.
    sizes: [usize; 3],
}

/// What one side measured.
struct Report {
    established: Duration,
    exchange: Duration,
    total: Duration,
    rtt: Duration,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "established {:.1?}, messages and ping {:.1?} (rtt {:.1?}), closed at {:.1?}",
            self.established, self.exchange, self.rtt, self.total
        )
    }
}

/// The common scenario, run by both sides at once on their own runtime.
async fn exchange<R: Runtime>(mut h: SessionHandle, role: Role, started: Instant) -> Report {
    let who = format!("{} {:?}", R::NAME, role.direction);
    let established = started.elapsed();
    let info = h.info().clone();
    assert_eq!(info.remote, peer_id(role.peer_key), "[{who}] remote key");
    assert_eq!(info.hello.id, peer_id(role.peer_key), "[{who}] Hello id");
    assert_eq!(
        info.hello.client_id,
        format!("paxeer-p2p-tests/{}", role.peer_key)
    );
    assert_eq!(info.hello.protocol_version, 5);
    assert_eq!(info.direction, role.direction, "[{who}]");
    assert_eq!(info.caps.len(), 1, "[{who}] {:?}", info.caps);
    let eth = info.caps.find("eth").expect("eth negotiated");
    assert_eq!(info.caps.get(eth).unwrap().cap, eth68_cap());

    // Send ours, in order, then ping.
    let t = Instant::now();
    for (i, size) in role.sizes.iter().enumerate() {
        h.send(eth, i as u64 + 1, payload(u64::from(role.key), *size))
            .await
            .unwrap_or_else(|e| panic!("[{who}] send {size} B: {e}"));
    }
    h.ping()
        .await
        .unwrap_or_else(|e| panic!("[{who}] ping: {e}"));

    // Receive theirs, in order, and our Pong; once we have both, say "done". The peer's
    // "done" may come before our Pong (it only follows their messages), so take it any time.
    let mut received = 0;
    let mut rtt = None;
    let (mut sent_done, mut peer_done) = (false, false);
    loop {
        if !sent_done && received == role.sizes.len() && rtt.is_some() {
            h.send(eth, DONE_ID, b"done".to_vec())
                .await
                .unwrap_or_else(|e| panic!("[{who}] send done: {e}"));
            sent_done = true;
        }
        if sent_done && peer_done {
            break;
        }
        match next_event::<R>(&mut h, "messages, Pong and done").await {
            SessionEvent::Message {
                cap,
                msg_id: DONE_ID,
                payload,
            } => {
                assert_eq!(cap, eth, "[{who}]");
                assert_eq!(payload, b"done", "[{who}]");
                assert_eq!(
                    received,
                    role.sizes.len(),
                    "[{who}] done before the messages"
                );
                assert!(!peer_done, "[{who}] done twice");
                peer_done = true;
            }
            SessionEvent::Message {
                cap,
                msg_id,
                payload: got,
            } => {
                assert!(
                    received < role.sizes.len(),
                    "[{who}] extra message {msg_id}"
                );
                assert_eq!(cap, eth, "[{who}]");
                assert_eq!(msg_id, received as u64 + 1, "[{who}] message order");
                let size = role.sizes[received];
                assert_eq!(got.len(), size, "[{who}] size of message {msg_id}");
                assert!(
                    got == payload(u64::from(role.peer_key), size),
                    "[{who}] contents of the {size} B message differ"
                );
                received += 1;
            }
            SessionEvent::Pong { rtt: r } => {
                assert!(rtt.is_none(), "[{who}] second Pong");
                rtt = Some(r);
            }
            other => panic!("[{who}] unexpected event {other:?}"),
        }
    }
    let exchange = t.elapsed();

    // Both sides have everything: one leaves, the other must see why.
    let want = match role.closes_with {
        Some(reason) => {
            h.disconnect(reason)
                .await
                .unwrap_or_else(|e| panic!("[{who}] disconnect: {e}"));
            CloseReason::Local(reason)
        }
        None => CloseReason::Remote(role.reason),
    };
    match next_event::<R>(&mut h, "Closed").await {
        SessionEvent::Closed { reason } => assert_eq!(reason, want, "[{who}]"),
        other => panic!("[{who}] expected Closed, got {other:?}"),
    }
    let end = step::<R, _>("the end of events", h.next_event()).await;
    assert!(end.is_none(), "[{who}] event after Closed: {end:?}");
    Report {
        established,
        exchange,
        total: started.elapsed(),
        rtt: rtt.unwrap_or_default(),
    }
}

/// Runs a listener on runtime `L` (this thread) and a dialer on runtime `D` (another thread);
/// the dialer disconnects when `dialer_closes`, else the listener does.
fn listener_dialer<L: Runtime, D: Runtime + 'static>(
    reason: DisconnectReason,
    dialer_closes: bool,
    sizes: [usize; 3],
) {
    let started = Instant::now();
    let rt = on::<L>();
    let mut listener = rt.block_on(bind_local::<L>(Arc::new(config(LISTENER_KEY))));
    let port = listener.local_addr().port();

    let (tx, rx) = mpsc::channel();
    let dialer = std::thread::Builder::new()
        .name(format!("{}-dialer", D::NAME))
        .spawn(move || {
            let rt = on::<D>();
            let report = rt.block_on(async {
                let h = connect_ok::<D>(
                    localhost(port),
                    peer_id(LISTENER_KEY),
                    Arc::new(config(DIALER_KEY)),
                )
                .await;
                let role = Role {
                    key: DIALER_KEY,
                    peer_key: LISTENER_KEY,
                    direction: Direction::Outbound,
                    closes_with: dialer_closes.then_some(reason),
                    reason,
                    sizes,
                };
                exchange::<D>(h, role, started).await
            });
            let _ = tx.send(());
            report
        })
        .unwrap();

    let report = rt.block_on(async {
        let h = match accept::<L>(&mut listener, "the dialer").await {
            Accepted::Established(h) => h,
            Accepted::Failed { addr, error } => panic!("inbound from {addr} failed: {error}"),
        };
        let role = Role {
            key: LISTENER_KEY,
            peer_key: DIALER_KEY,
            direction: Direction::Inbound,
            closes_with: (!dialer_closes).then_some(reason),
            reason,
            sizes,
        };
        exchange::<L>(h, role, started).await
    });
    // The dialer thread ends with its own checks; a panic there is reported here.
    if rx.recv_timeout(2 * STEP_TIMEOUT).is_err() && !dialer.is_finished() {
        panic!("the {} dialer did not finish", D::NAME);
    }
    let dialer_report = match dialer.join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    eprintln!(
        "{} listener: {report}\n{} dialer: {dialer_report}",
        L::NAME,
        D::NAME
    );
}

#[test]
fn tokio_listener_smol_dialer() {
    with_deadline("tokio_listener_smol_dialer", TEST_DEADLINE, || {
        listener_dialer::<Tokio, Smol>(DisconnectReason::TooManyPeers, true, SIZES);
    });
}

#[test]
fn smol_listener_tokio_dialer() {
    with_deadline("smol_listener_tokio_dialer", TEST_DEADLINE, || {
        listener_dialer::<Smol, Tokio>(DisconnectReason::Requested, false, SIZES);
    });
}

/// Same runtime on both ends, as a reference for the cross-runtime pairs.
#[test]
fn tokio_listener_tokio_dialer() {
    with_deadline("tokio_listener_tokio_dialer", TEST_DEADLINE, || {
        listener_dialer::<Tokio, Tokio>(DisconnectReason::SubprotocolError, false, SMALL_SIZES);
    });
}

/// Same runtime on both ends, as a reference for the cross-runtime pairs.
#[test]
fn smol_listener_smol_dialer() {
    with_deadline("smol_listener_smol_dialer", TEST_DEADLINE, || {
        listener_dialer::<Smol, Smol>(DisconnectReason::UselessPeer, true, SMALL_SIZES);
    });
}
