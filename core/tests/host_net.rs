//! Whole-network scenarios of the sans-IO `Host` in virtual time (see `hostnet/`): admission
//! limits, protocol routing, discovery feeding the dialer, static and trusted peers, bans,
//! and graceful shutdown.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod hostnet;

use std::time::Duration;

use hostnet::{HostNet, NodeSpec};
use paxeer_p2p_core::host::{ConnFailure, HostConfig, HostEvent};
use paxeer_p2p_core::p2p::{Capability, DisconnectReason, ProtocolSpec};
use paxeer_p2p_core::peers::{AdmissionError, ReputationChange};
use paxeer_p2p_core::protocol::{PeerInfo, Protocol, ProtocolContext};
use paxeer_p2p_core::session::CloseReason;
use paxeer_p2p_core::types::PeerId;

/// `echo/1`: 0 = ping (answered with 1 = pong carrying the same payload), 2 = garbage (the
/// receiver reports it as a bad message).
struct Echo;

/// What [`Echo`] tells the application.
#[derive(Debug, PartialEq, Eq)]
enum EchoEvent {
    Up(PeerId),
    Pong(PeerId, Vec<u8>),
    Down(PeerId),
}

impl Protocol for Echo {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: Capability::new("echo", 1),
            message_count: 3,
        }
    }
    fn on_connected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, _: &PeerInfo) {
        ctx.emit(Box::new(EchoEvent::Up(peer))).unwrap();
    }
    fn on_message(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, id: u64, p: &[u8]) {
        match id {
            0 => ctx.send(peer, 1, p.to_vec()).unwrap(),
            1 => ctx
                .emit(Box::new(EchoEvent::Pong(peer, p.to_vec())))
                .unwrap(),
            _ => ctx.report(peer, ReputationChange::BadMessage).unwrap(),
        }
    }
    fn on_disconnected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId) {
        ctx.emit(Box::new(EchoEvent::Down(peer))).unwrap();
    }
}

/// A protocol nobody else speaks.
struct Lonely;

impl Protocol for Lonely {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: Capability::new("lonely", 1),
            message_count: 1,
        }
    }
    fn on_connected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId, _: &PeerInfo) {}
    fn on_message(&mut self, _: &mut ProtocolContext<'_>, _: PeerId, _: u64, _: &[u8]) {}
    fn on_disconnected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId) {}
}

fn cfg(max_peers: usize) -> HostConfig {
    let mut c = HostConfig::default();
    c.peers.max_peers = max_peers;
    c
}

fn echo_node(max_peers: usize) -> NodeSpec {
    NodeSpec::new(cfg(max_peers), vec![Box::new(Echo)])
}

fn echo_events(net: &HostNet, i: usize) -> Vec<&EchoEvent> {
    net.nodes[i]
        .events
        .iter()
        .filter_map(|e| match e {
            HostEvent::Protocol { event, .. } => event.downcast_ref::<EchoEvent>(),
            _ => None,
        })
        .collect()
}

fn echo_id(net: &HostNet, i: usize) -> paxeer_p2p_core::protocol::ProtocolId {
    net.nodes[i]
        .host
        .registry()
        .find(&Capability::new("echo", 1))
        .unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn static_peer_connects_and_protocol_messages_route_both_ways() {
    let mut net = HostNet::new(1, ms(5));
    let a = net.add(echo_node(50));
    let b = net.add(echo_node(50));
    let (now, bid, baddr) = (net.now, net.id(b), net.nodes[b].addr);
    net.host(a).add_static(now, bid, baddr).unwrap();
    net.drain(a);
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.peer_split(a), (0, 1));
    assert_eq!(net.peer_split(b), (1, 0));
    assert!(echo_events(&net, a).contains(&&EchoEvent::Up(bid)));
    assert!(echo_events(&net, b).contains(&&EchoEvent::Up(net.id(a))));
    let peer = net.nodes[a].host.peer(&bid).unwrap();
    assert!(peer.is_static && peer.established);
    assert_eq!(peer.client_id, "sim/1");
    assert_eq!(peer.caps, vec![Capability::new("echo", 1)]);

    // The application asks its protocol (through the host) to ping b.
    let id = echo_id(&net, a);
    let now = net.now;
    net.host(a)
        .with_protocol::<Echo, _>(now, id, |_, ctx| ctx.send(bid, 0, b"hi".to_vec()))
        .unwrap()
        .unwrap();
    net.drain(a);
    net.run_for(ms(100));
    assert!(echo_events(&net, a).contains(&&EchoEvent::Pong(bid, b"hi".to_vec())));
    let m = net.nodes[a].host.metrics();
    let out: u64 = m.egress.values().map(|t| t.messages).sum();
    let inb: u64 = m.ingress.values().map(|t| t.messages).sum();
    assert_eq!((out, inb), (1, 1));
    assert_eq!(m.handshakes, 1);
}

#[test]
fn max_peers_two_keeps_two_of_five_and_refuses_the_rest_with_too_many_peers() {
    let mut net = HostNet::new(2, ms(5));
    let mut c = cfg(2);
    c.peers.no_dial = true;
    let target = net.add(NodeSpec::new(c, vec![Box::new(Echo)]));
    let dialers: Vec<usize> = (0..5).map(|_| net.add(echo_node(50))).collect();
    let (tid, taddr) = (net.id(target), net.nodes[target].addr);
    for &d in &dialers {
        let now = net.now;
        net.host(d).add_static(now, tid, taddr).unwrap();
        net.drain(d);
    }
    net.run_for(Duration::from_secs(2));
    assert_eq!(net.peer_split(target), (2, 0));
    let refused = net.nodes[target]
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                HostEvent::ConnectionFailed {
                    failure: ConnFailure::Refused(AdmissionError::TooManyPeers)
                        | ConnFailure::Refused(AdmissionError::TooManyInbound),
                    ..
                }
            )
        })
        .count();
    assert!(refused >= 3, "refused {refused}");
    // Each refused dialer heard the reason.
    let told: usize = dialers
        .iter()
        .filter(|&&d| {
            net.nodes[d].events.iter().any(|e| {
                // The dialer had admitted the target (it authenticated first), so it sees a
                // peer leaving before Hello.
                matches!(
                    e,
                    HostEvent::PeerDisconnected {
                        reason: CloseReason::Remote(DisconnectReason::TooManyPeers),
                        established: false,
                        ..
                    }
                )
            })
        })
        .count();
    assert_eq!(told, 3);
    // The static dialers keep retrying with backoff; the limit still holds much later.
    net.run_for(Duration::from_secs(120));
    assert_eq!(net.peer_split(target).0, 2);
}

#[test]
fn a_peer_sharing_no_protocol_is_dropped_as_useless() {
    let mut net = HostNet::new(3, ms(5));
    let a = net.add(echo_node(50));
    let b = net.add(NodeSpec::new(cfg(50), vec![Box::new(Lonely)]));
    let (now, bid, baddr) = (net.now, net.id(b), net.nodes[b].addr);
    net.host(a).add_static(now, bid, baddr).unwrap();
    net.drain(a);
    net.run_for(Duration::from_secs(3));
    assert_eq!(net.peer_split(a), (0, 0));
    assert_eq!(net.peer_split(b), (0, 0));
    let useless = |i: usize| {
        net.nodes[i].events.iter().any(|e| match e {
            HostEvent::PeerDisconnected { reason, .. } => {
                reason.disconnect_reason() == Some(DisconnectReason::UselessPeer)
            }
            _ => false,
        })
    };
    assert!(useless(a) && useless(b));
}

#[test]
fn eight_nodes_discover_each_other_from_one_bootnode_and_connect() {
    let mut net = HostNet::new(4, ms(10));
    let mut boot = echo_node(50);
    boot.discovery = true;
    let b0 = net.add(boot);
    let bootrec = net.nodes[b0].record;
    for _ in 1..8 {
        let mut n = echo_node(50);
        n.discovery = true;
        n.bootnodes = vec![bootrec];
        net.add(n);
    }
    net.run_for(Duration::from_secs(60));
    for i in 0..8 {
        let (inb, out) = net.peer_split(i);
        assert!(inb + out >= 3, "node {i} has {inb}+{out} peers");
        assert!(out <= net.nodes[i].host.peer_manager().config().max_outbound());
    }
}

#[test]
fn misbehaving_peer_is_banned_and_not_admitted_again() {
    let mut net = HostNet::new(5, ms(5));
    let a = net.add(echo_node(50));
    let b = net.add(echo_node(50));
    let (now, aid, aaddr) = (net.now, net.id(a), net.nodes[a].addr);
    net.host(b).add_static(now, aid, aaddr).unwrap();
    net.drain(b);
    net.run_for(ms(500));
    assert_eq!(net.peer_split(a), (1, 0));
    // b's application sends garbage until a bans it.
    let id = echo_id(&net, b);
    for _ in 0..10 {
        let now = net.now;
        let _ = net
            .host(b)
            .with_protocol::<Echo, _>(now, id, |_, ctx| ctx.send(aid, 2, vec![0xff]));
        net.drain(b);
        net.run_for(ms(50));
    }
    let bid = net.id(b);
    assert!(net.nodes[a]
        .events
        .iter()
        .any(|e| matches!(e, HostEvent::Banned(ban) if ban.target == paxeer_p2p_core::peers::BanTarget::Peer(bid))));
    assert_eq!(net.peer_split(a), (0, 0));
    assert!(net.nodes[a].host.metrics().protocol_errors["echo"] >= 1);
    // b keeps redialing (static), and a keeps refusing.
    net.run_for(Duration::from_secs(600));
    assert_eq!(net.peer_split(a), (0, 0));
    assert!(net.nodes[a].events.iter().any(|e| matches!(
        e,
        HostEvent::ConnectionFailed {
            failure: ConnFailure::Refused(AdmissionError::BannedPeer | AdmissionError::BannedIp),
            ..
        }
    )));
}

#[test]
fn trusted_peer_gets_in_over_the_limit() {
    let mut net = HostNet::new(6, ms(5));
    let mut c = cfg(1);
    c.peers.no_dial = true;
    let t = net.add(NodeSpec::new(c, vec![Box::new(Echo)]));
    let d1 = net.add(echo_node(50));
    let d2 = net.add(echo_node(50));
    let (tid, taddr) = (net.id(t), net.nodes[t].addr);
    let now = net.now;
    net.host(d1).add_static(now, tid, taddr).unwrap();
    net.drain(d1);
    net.run_for(ms(500));
    assert_eq!(net.peer_split(t), (1, 0));
    let d2id = net.id(d2);
    let now = net.now;
    net.host(t).add_trusted(now, d2id).unwrap();
    net.host(d2).add_static(now, tid, taddr).unwrap();
    net.drain(d2);
    net.run_for(ms(500));
    assert_eq!(net.peer_split(t), (2, 0));
    assert!(net.nodes[t].host.peer(&d2id).unwrap().is_trusted);
}

#[test]
fn static_peer_comes_back_after_it_was_unreachable() {
    let mut net = HostNet::new(7, ms(5));
    let a = net.add(echo_node(50));
    let b = net.add(echo_node(50));
    net.unreachable.push(b);
    let (now, bid, baddr) = (net.now, net.id(b), net.nodes[b].addr);
    net.host(a).add_static(now, bid, baddr).unwrap();
    net.drain(a);
    net.run_for(Duration::from_secs(20));
    assert_eq!(net.peer_split(a), (0, 0));
    assert!(net.nodes[a].host.metrics().dial_errors["connect"] >= 1);
    net.unreachable.clear();
    net.run_for(Duration::from_secs(600));
    assert_eq!(net.peer_split(a), (0, 1));
}

#[test]
fn shutdown_says_client_quitting_to_every_peer_and_finishes() {
    let mut net = HostNet::new(8, ms(5));
    let hub = net.add(echo_node(50));
    let others: Vec<usize> = (0..3).map(|_| net.add(echo_node(50))).collect();
    let (hid, haddr) = (net.id(hub), net.nodes[hub].addr);
    for &o in &others {
        let now = net.now;
        net.host(o).add_static(now, hid, haddr).unwrap();
        net.drain(o);
    }
    net.run_for(ms(500));
    assert_eq!(net.peer_split(hub), (3, 0));
    let now = net.now;
    net.host(hub).shutdown(now);
    net.drain(hub);
    net.run_for(Duration::from_secs(3));
    assert!(net.nodes[hub].host.is_finished());
    for &o in &others {
        assert!(net.nodes[o].events.iter().any(|e| matches!(
            e,
            HostEvent::PeerDisconnected {
                reason: CloseReason::Remote(DisconnectReason::ClientQuitting),
                ..
            }
        )));
    }
    assert_eq!(
        net.nodes[hub].host.metrics().disconnects
            [&("client quitting", paxeer_p2p_core::metrics::Side::Sent)],
        3
    );
}

#[test]
fn crossed_dials_leave_exactly_one_connection_on_both_sides() {
    for seed in 20..26 {
        let mut net = HostNet::new(seed, ms(5));
        let a = net.add(echo_node(50));
        let b = net.add(echo_node(50));
        let (aid, aaddr, bid, baddr) = (net.id(a), net.nodes[a].addr, net.id(b), net.nodes[b].addr);
        let now = net.now;
        net.host(a).add_static(now, bid, baddr).unwrap();
        net.host(b).add_static(now, aid, aaddr).unwrap();
        net.drain(a);
        net.drain(b);
        net.run_for(Duration::from_secs(2));
        let (ai, ao) = net.peer_split(a);
        let (bi, bo) = net.peer_split(b);
        assert_eq!(ai + ao, 1, "seed {seed}");
        // The same TCP connection survives on both sides: a's outbound is b's inbound.
        assert_eq!((ai, ao), (bo, bi), "seed {seed}");
        // Both dials happened, so one connection was retired as a duplicate.
        assert!(net.nodes[a].host.metrics().dial_attempts >= 1);
        let retired: u64 = [a, b]
            .iter()
            .map(|&i| {
                net.nodes[i]
                    .host
                    .metrics()
                    .disconnects
                    .iter()
                    .filter(|((r, _), _)| *r == "already connected")
                    .map(|(_, n)| *n)
                    .sum::<u64>()
            })
            .sum();
        assert!(retired >= 1, "seed {seed}");
        net.run_for(Duration::from_secs(60));
        assert_eq!(net.peer_split(a), (ai, ao), "seed {seed}: stays connected");
    }
}

/// One instance serving `echo/1` (3 messages) and `echo/2` (4 messages).
struct Echo2 {
    negotiated: Vec<Capability>,
}

impl Protocol for Echo2 {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: Capability::new("echo", 2),
            message_count: 4,
        }
    }
    fn specs(&self) -> Vec<ProtocolSpec> {
        vec![self.spec(), Echo.spec()]
    }
    fn on_connected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, info: &PeerInfo) {
        self.negotiated.push(info.cap.clone());
        // Message 3 exists in echo/2 only.
        let v2_only = ctx.send(peer, 3, vec![]);
        ctx.emit(Box::new((info.cap.clone(), v2_only.is_ok())))
            .unwrap();
    }
    fn on_message(&mut self, _: &mut ProtocolContext<'_>, _: PeerId, _: u64, _: &[u8]) {}
    fn on_disconnected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId) {}
}

#[test]
fn one_protocol_instance_serves_two_versions_and_each_peer_gets_the_highest_shared() {
    let mut net = HostNet::new(30, ms(5));
    let multi = net.add(NodeSpec::new(
        cfg(50),
        vec![Box::new(Echo2 {
            negotiated: Vec::new(),
        })],
    ));
    let old = net.add(echo_node(50));
    let new = net.add(NodeSpec::new(
        cfg(50),
        vec![Box::new(Echo2 {
            negotiated: Vec::new(),
        })],
    ));
    let (mid, maddr) = (net.id(multi), net.nodes[multi].addr);
    for d in [old, new] {
        let now = net.now;
        net.host(d).add_static(now, mid, maddr).unwrap();
        net.drain(d);
    }
    net.run_for(Duration::from_secs(1));
    assert_eq!(net.peer_split(multi), (2, 0));
    let seen: Vec<(Capability, bool)> = net.nodes[multi]
        .events
        .iter()
        .filter_map(|e| match e {
            HostEvent::Protocol { event, .. } => {
                event.downcast_ref::<(Capability, bool)>().cloned()
            }
            _ => None,
        })
        .collect();
    assert!(
        seen.contains(&(Capability::new("echo", 1), false)),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(Capability::new("echo", 2), true)),
        "{seen:?}"
    );
    let id = echo_id(&net, multi);
    let p = net.nodes[multi].host.protocol::<Echo2>(id).unwrap();
    assert_eq!(p.negotiated.len(), 2);
}

#[test]
fn a_node_that_never_dials_discovered_nodes_still_keeps_its_static_peers() {
    let mut net = HostNet::new(31, ms(5));
    let mut c = cfg(2);
    c.peers.no_dial = true;
    let hub = net.add(NodeSpec::new(c, vec![Box::new(Echo)]));
    let friend = net.add(echo_node(50));
    let inbound: Vec<usize> = (0..3).map(|_| net.add(echo_node(50))).collect();
    // The hub's operator adds a static peer at runtime (admin_addPeer).
    let (now, fid, faddr) = (net.now, net.id(friend), net.nodes[friend].addr);
    net.host(hub).add_static(now, fid, faddr).unwrap();
    net.drain(hub);
    net.run_for(ms(500));
    assert_eq!(net.peer_split(hub), (0, 1));
    let (hid, haddr) = (net.id(hub), net.nodes[hub].addr);
    for &i in &inbound {
        let now = net.now;
        net.host(i).add_static(now, hid, haddr).unwrap();
        net.drain(i);
    }
    net.run_for(Duration::from_secs(5));
    // One slot left, taken by one inbound peer: the total limit holds.
    assert_eq!(net.peer_split(hub), (1, 1));
}
