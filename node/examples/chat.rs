//! How a third party plugs a protocol of its own into paxeer-p2p: a tiny `chat/1` protocol
//! registered on a host, run on tokio. Two nodes start on loopback; the second keeps the
//! first as a static peer; once connected, each says hello and prints what it hears.
//!
//! Run with `cargo run -p paxeer-p2p --example chat`.
//!
//! The steps a protocol engineer follows:
//! 1. implement [`Protocol`]: a capability (name, version, message count) and the `on_*`
//!    inputs, acting only through the [`ProtocolContext`] (send, disconnect, report, emit);
//! 2. register it on a [`HostBuilder`] before the host starts;
//! 3. drive the host with a runtime (`paxeer_p2p_tokio::host::Sockets`, started on `Tokio`);
//! 4. reach the protocol from the application with `Host::with_protocol`, and receive its
//!    events (`HostEvent::Protocol`, downcast to the type the protocol documents).

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use paxeer_p2p_core::crypto::keys::generate_secret_key;
use paxeer_p2p_core::driver::os_seed;
use paxeer_p2p_core::host::{HostBuilder, HostConfig, HostEvent};
use paxeer_p2p_core::p2p::{Capability, ProtocolSpec};
use paxeer_p2p_core::peers::ReputationChange;
use paxeer_p2p_core::protocol::{PeerInfo, Protocol, ProtocolContext};
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::session::SessionConfig;
use paxeer_p2p_core::types::{PeerId, WallClock};
use paxeer_p2p_tokio::host::{RunningHost, Sockets};
use paxeer_p2p_tokio::Tokio;

/// Longest chat line accepted; longer ones cost the sender reputation.
const MAX_LINE_BYTES: usize = 1024;

/// `chat/1`: message 0 is one UTF-8 line of text.
struct Chat {
    name: String,
}

/// What `chat/1` tells the application.
#[derive(Debug)]
enum ChatEvent {
    /// A peer joined.
    Joined(PeerId),
    /// A peer said something.
    Said(PeerId, String),
}

impl Protocol for Chat {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: Capability::new("chat", 1),
            message_count: 1,
        }
    }

    fn on_connected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, _info: &PeerInfo) {
        let _ = ctx.emit(Box::new(ChatEvent::Joined(peer)));
        let hello = format!("hello from {}", self.name);
        let _ = ctx.send(peer, 0, hello.into_bytes());
    }

    fn on_message(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        _id: u64,
        payload: &[u8],
    ) {
        match std::str::from_utf8(payload) {
            Ok(line) if payload.len() <= MAX_LINE_BYTES => {
                let _ = ctx.emit(Box::new(ChatEvent::Said(peer, line.to_string())));
            }
            // Bad input never panics: it becomes a reputation report.
            _ => {
                let _ = ctx.report(peer, ReputationChange::BadMessage);
            }
        }
    }

    fn on_disconnected(&mut self, _ctx: &mut ProtocolContext<'_>, _peer: PeerId) {}
}

fn start(
    name: &str,
    rng: &mut MachineRng,
    heard: mpsc::Sender<String>,
) -> (RunningHost, PeerId, SocketAddr) {
    let key = generate_secret_key(rng);
    let now = Instant::now();
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let clock = WallClock {
        at: now,
        unix_secs: unix.as_secs(),
    };
    let mut session = SessionConfig::new(key, format!("chat-example/{name}"), Vec::new());
    let sockets = Sockets::bind(SocketAddr::from(([127, 0, 0, 1], 0)), None)
        .unwrap_or_else(|e| panic!("bind: {e}"));
    session.listen_port = sockets.tcp_addr().port();
    let mut builder = HostBuilder::new(session, HostConfig::default());
    if let Err(e) = builder.protocol(Box::new(Chat { name: name.into() })) {
        panic!("register: {e}");
    }
    let host = builder.build(now, clock, os_seed());
    let (id, addr) = (host.local_id(), sockets.tcp_addr());
    let me = name.to_string();
    let running = sockets
        .start::<Tokio, _>(host, move |_host, ev| {
            if let HostEvent::Protocol { event, .. } = ev {
                match event.downcast_ref::<ChatEvent>() {
                    Some(ChatEvent::Joined(p)) => {
                        let _ = heard.send(format!("{me}: {} joined", &p.to_hex()[..8]));
                    }
                    Some(ChatEvent::Said(p, line)) => {
                        let _ = heard.send(format!("{me}: {} says {line:?}", &p.to_hex()[..8]));
                    }
                    None => {}
                }
            }
        })
        .unwrap_or_else(|e| panic!("start: {e}"));
    (running, id, addr)
}

fn main() {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => panic!("tokio: {e}"),
    };
    let _guard = rt.enter();
    let mut rng = MachineRng::new(os_seed());
    let (tx, rx) = mpsc::channel();
    let (alice, alice_id, alice_addr) = start("alice", &mut rng, tx.clone());
    let (bob, _, _) = start("bob", &mut rng, tx);
    // Bob keeps Alice as a static peer: the host dials her and redials after failures.
    let added = rt.block_on(
        bob.handle()
            .call(move |d, now| d.host_mut().add_static(now, alice_id, alice_addr)),
    );
    if !matches!(added, Ok(Ok(()))) {
        panic!("add_static: {added:?}");
    }
    let mut lines = 0;
    while lines < 4 {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => {
                println!("{line}");
                lines += 1;
            }
            Err(_) => panic!("the nodes did not talk within 10 s"),
        }
    }
    rt.block_on(async {
        bob.shutdown().await;
        alice.shutdown().await;
    });
}
