//! Two real sessions in virtual time, each host routing through a `ProtocolRegistry`: the
//! registry's specs go into Hello and a `ping/1` echo protocol answers end to end.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::any::Any;
use std::time::Instant;

use paxeer_p2p_core::p2p::{CapId, Capability, ProtocolSpec};
use paxeer_p2p_core::protocol::{
    PeerInfo, Protocol, ProtocolAction, ProtocolContext, ProtocolRegistry,
};
use paxeer_p2p_core::session::SessionEvent;
use paxeer_p2p_core::types::{Direction, PeerId};
use support::*;

/// `ping/1`: 0 = Ping (echoed as Pong), 1 = Pong (surfaced as a [`Ponged`] event). The dialer
/// pings as soon as the protocol is connected.
struct Ping;

#[derive(Debug, PartialEq, Eq)]
struct Ponged(Vec<u8>);

impl Protocol for Ping {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: Capability::new("ping", 1),
            message_count: 2,
        }
    }
    fn on_connected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, info: &PeerInfo) {
        if info.direction == Direction::Outbound {
            ctx.send(peer, 0, b"hello".to_vec()).unwrap();
        }
    }
    fn on_message(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, id: u64, p: &[u8]) {
        let _ = match id {
            0 => ctx.send(peer, 1, p.to_vec()),
            _ => ctx.emit(Box::new(Ponged(p.to_vec()))),
        };
    }
    fn on_disconnected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId) {}
}

/// A protocol that does nothing, to occupy a capability slot before `ping`.
struct Idle(Capability, u64);

impl Protocol for Idle {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: self.0.clone(),
            message_count: self.1,
        }
    }
    fn on_connected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId, _: &PeerInfo) {}
    fn on_message(&mut self, _: &mut ProtocolContext<'_>, _: PeerId, _: u64, _: &[u8]) {}
    fn on_disconnected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId) {}
}

fn registry(eth_versions: &[u32]) -> ProtocolRegistry {
    let mut reg = ProtocolRegistry::new();
    for &v in eth_versions {
        let count = if v >= 69 { 18 } else { 17 };
        reg.register(Box::new(Idle(Capability::new("eth", v), count)))
            .unwrap();
    }
    reg.register(Box::new(Ping)).unwrap();
    reg
}

/// A protocol's application event, as the host hands it on.
type AppEvent = Box<dyn Any + Send>;

/// What a host does: feeds new session events to the registry, then applies its actions to
/// the session. Returns the application events and the sends applied (cap, id).
fn route(
    now: Instant,
    side: &mut Side,
    reg: &mut ProtocolRegistry,
) -> (Vec<AppEvent>, Vec<(CapId, u64)>) {
    let session = side.drv.session_mut();
    for ev in std::mem::take(&mut side.events) {
        match ev {
            SessionEvent::Established { hello, caps } => {
                let n = reg
                    .on_established(now, hello.id, session.direction(), &caps)
                    .unwrap();
                assert!(n > 0, "useless peer");
            }
            SessionEvent::Message {
                cap,
                msg_id,
                payload,
            } => {
                let remote = session.remote_id().unwrap();
                reg.on_message(now, remote, cap, msg_id, &payload).unwrap();
            }
            SessionEvent::Closed { .. } => {
                if let Some(remote) = session.remote_id() {
                    reg.on_disconnected(now, remote);
                }
            }
            _ => {}
        }
    }
    let mut events = Vec::new();
    let mut sent = Vec::new();
    for action in reg.drain_actions() {
        match action {
            ProtocolAction::Send {
                cap,
                msg_id,
                payload,
                ..
            } => {
                session.send(now, cap, msg_id, payload).unwrap();
                sent.push((cap, msg_id));
            }
            ProtocolAction::Disconnect { reason, .. } => session.disconnect(now, reason),
            ProtocolAction::Event { event, .. } => events.push(event),
            _ => {}
        }
    }
    (events, sent)
}

#[test]
fn registry_specs_negotiate_in_hello_and_ping_echoes_end_to_end() {
    let mut reg_a = registry(&[68, 69]);
    let mut reg_b = registry(&[68]);
    let mut pair = Pair::new(config(1, reg_a.specs()), config(2, reg_b.specs()));
    pair.drive();
    assert!(pair.established());
    let caps = pair.a.drv.session().caps().clone();
    assert_eq!(caps.find("eth"), Some(CapId(0)));
    assert_eq!(caps.get(CapId(0)).unwrap().cap, Capability::new("eth", 68));
    assert_eq!(caps.find("ping"), Some(CapId(1)));

    let now = pair.now;
    // B learns of A (nothing to send yet), A connects ping/1 and pings.
    let (ev_b, sent_b) = route(now, &mut pair.b, &mut reg_b);
    assert!(ev_b.is_empty() && sent_b.is_empty());
    let (ev_a, sent_a) = route(now, &mut pair.a, &mut reg_a);
    assert!(ev_a.is_empty());
    assert_eq!(sent_a, [(CapId(1), 0)]);

    pair.drive();
    let (ev_b, sent_b) = route(pair.now, &mut pair.b, &mut reg_b);
    assert!(ev_b.is_empty());
    assert_eq!(sent_b, [(CapId(1), 1)], "B echoes as Pong");

    pair.drive();
    let (ev_a, sent_a) = route(pair.now, &mut pair.a, &mut reg_a);
    assert!(sent_a.is_empty());
    let pongs: Vec<Ponged> = ev_a
        .into_iter()
        .map(|e| *e.downcast::<Ponged>().unwrap())
        .collect();
    assert_eq!(pongs, [Ponged(b"hello".to_vec())]);

    // A hangs up; both registries forget the other side.
    let a_id = pair.b.drv.session().remote_id().unwrap();
    let b_id = pair.a.drv.session().remote_id().unwrap();
    assert!(reg_a.is_established(&b_id) && reg_b.is_established(&a_id));
    pair.a
        .drv
        .session_mut()
        .disconnect(pair.now, paxeer_p2p_core::p2p::DisconnectReason::Requested);
    pair.advance(std::time::Duration::from_secs(2));
    route(pair.now, &mut pair.a, &mut reg_a);
    route(pair.now, &mut pair.b, &mut reg_b);
    assert!(!reg_a.is_established(&b_id));
    assert!(!reg_b.is_established(&a_id));
}
