//! Backpressure end to end: a peer that pipelines a thousand eth requests to `paxeer-p2p run`
//! gets every answer, with its request id, on both runtimes (none is dropped when the
//! connection's command channel fills up; the node slows the peer down instead).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::disallowed_methods
)]

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use paxeer_p2p_core::crypto::keys::generate_secret_key;
use paxeer_p2p_core::driver::SessionDriver;
use paxeer_p2p_core::enode::Enode;
use paxeer_p2p_core::eth::messages::{id, EthMessage, GetBlockHeaders, HashOrNumber};
use paxeer_p2p_core::eth::version::EthVersion;
use paxeer_p2p_core::p2p::{CapId, Capability, ProtocolSpec};
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::session::{Session, SessionConfig, SessionEvent};
use paxeer_p2p_core::types::Seed;
use support::{metric, Daemon};

const REQUESTS: u64 = 1000;
/// Gives up on the whole exchange after this long (a hang fails the test, it is no timing).
const LIMIT: Duration = Duration::from_secs(120);

/// A raw eth/69 peer over a non-blocking socket, driven by core's session driver.
struct RawPeer {
    stream: TcpStream,
    drv: SessionDriver,
}

impl RawPeer {
    fn connect(enode: &str) -> Self {
        let node: Enode = enode.parse().unwrap();
        let mut rng = MachineRng::new(Seed([42; 32]));
        let key = generate_secret_key(&mut rng);
        let spec = ProtocolSpec {
            cap: Capability::new("eth", EthVersion::Eth69.as_u32()),
            message_count: u64::from(EthVersion::Eth69.message_count()),
        };
        let cfg = Arc::new(SessionConfig::new(key, "pipeliner", vec![spec]));
        let stream = TcpStream::connect((node.ip, node.tcp_port)).unwrap();
        stream.set_nonblocking(true).unwrap();
        stream.set_nodelay(true).unwrap();
        let session = Session::connect(cfg, node.id, Instant::now(), Seed([43; 32])).unwrap();
        Self {
            stream,
            drv: SessionDriver::new(session),
        }
    }

    /// One round of I/O; returns the session's events.
    fn step(&mut self) -> Vec<SessionEvent> {
        let now = Instant::now();
        let mut events = self.drv.pump(now);
        if self.drv.awaiting_verdict() {
            // No host here: admit whoever answers.
            self.drv.admit();
            events.extend(self.drv.pump(now));
        }
        let mut moved = !events.is_empty();
        let (_, wbuf) = self.drv.io_buffers();
        if !wbuf.is_empty() {
            match self.stream.write(wbuf) {
                Ok(n) => {
                    moved = true;
                    self.drv.on_written(n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("write: {e}"),
            }
        }
        if self.drv.wants_read() {
            let (rbuf, _) = self.drv.io_buffers();
            match self.stream.read(rbuf) {
                Ok(n) => {
                    moved = true;
                    self.drv.on_read(now, n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("read: {e}"),
            }
        }
        if self.drv.deadline().is_some_and(|d| now >= d) {
            self.drv.on_timeout(now);
        }
        if !moved {
            std::thread::sleep(Duration::from_millis(1));
        }
        events
    }

    fn send(&mut self, cap: CapId, msg: &EthMessage) {
        let id = u64::from(msg.msg_id());
        self.drv
            .session_mut()
            .send(Instant::now(), cap, id, msg.encode())
            .unwrap();
    }
}

/// Connects, answers the node's Status with its own (same chain), pipelines [`REQUESTS`]
/// GetBlockHeaders for the genesis header, and returns the request ids of the BlockHeaders
/// answers in arrival order.
fn pipeline(enode: &str) -> Vec<u64> {
    let started = Instant::now();
    let mut peer = RawPeer::connect(enode);
    let mut eth = None;
    let mut answered = Vec::new();
    while answered.len() < REQUESTS as usize {
        assert!(
            started.elapsed() < LIMIT,
            "{} answers so far",
            answered.len()
        );
        for ev in peer.step() {
            match ev {
                SessionEvent::Established { caps, .. } => {
                    let (cap, shared) = caps.iter().next().unwrap();
                    assert_eq!(shared.cap.name, "eth");
                    eth = Some(cap);
                }
                SessionEvent::Message {
                    cap,
                    msg_id,
                    payload,
                } if msg_id == u64::from(id::STATUS) => {
                    // Our Status is the node's own: same network, genesis, fork and range.
                    peer.drv
                        .session_mut()
                        .send(Instant::now(), cap, msg_id, payload)
                        .unwrap();
                    for request_id in 1..=REQUESTS {
                        let req = EthMessage::GetBlockHeaders(GetBlockHeaders {
                            request_id,
                            origin: HashOrNumber::Number(0),
                            amount: 1,
                            skip: 0,
                            reverse: false,
                        });
                        peer.send(eth.unwrap(), &req);
                    }
                }
                SessionEvent::Message {
                    msg_id, payload, ..
                } if msg_id == u64::from(id::BLOCK_HEADERS) => {
                    let msg =
                        EthMessage::decode(EthVersion::Eth69, id::BLOCK_HEADERS, &payload).unwrap();
                    let EthMessage::BlockHeaders { headers, .. } = &msg else {
                        panic!("{msg:?}");
                    };
                    assert_eq!(headers.len(), 1);
                    answered.push(msg.request_id().unwrap());
                }
                SessionEvent::Closed { reason } => {
                    panic!("closed after {} answers: {reason}", answered.len())
                }
                _ => {}
            }
        }
    }
    answered
}

fn pipelined_requests_all_answered(runtime: &str) {
    let node = Daemon::start(&[
        "--runtime",
        runtime,
        "--nodiscover",
        "--metrics",
        "--metrics.port",
        "0",
    ]);
    let answered = pipeline(&node.enode());
    assert_eq!(answered, (1..=REQUESTS).collect::<Vec<_>>());
    let text = node.metrics();
    let sent = metric(
        &text,
        "p2p_egress_messages_total{protocol=\"eth\",version=\"69\",code=\"4\"}",
    );
    assert_eq!(sent, REQUESTS as f64, "egress counts what was sent");
}

#[test]
fn a_thousand_pipelined_header_requests_are_all_answered_on_tokio() {
    pipelined_requests_all_answered("tokio");
}

#[test]
fn a_thousand_pipelined_header_requests_are_all_answered_on_smol() {
    pipelined_requests_all_answered("smol");
}
