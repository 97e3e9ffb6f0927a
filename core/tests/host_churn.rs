//! Hosts under churn in virtual time: nodes crash and new ones join while discovery keeps
//! feeding the dialers. After every step, every host's limits and bookkeeping must hold.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod hostnet;

use std::time::Duration;

use hostnet::{HostNet, NodeSpec};
use paxeer_p2p_core::host::HostConfig;
use paxeer_p2p_core::p2p::{Capability, ProtocolSpec};
use paxeer_p2p_core::protocol::{PeerInfo, Protocol, ProtocolContext};
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::types::{Direction, PeerId, Seed};

struct Nop;

impl Protocol for Nop {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: Capability::new("nop", 1),
            message_count: 1,
        }
    }
    fn on_connected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId, _: &PeerInfo) {}
    fn on_message(&mut self, _: &mut ProtocolContext<'_>, _: PeerId, _: u64, _: &[u8]) {}
    fn on_disconnected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId) {}
}

fn node(max_peers: usize, boot: Option<paxeer_p2p_core::discv4::packet::NodeRecord>) -> NodeSpec {
    let mut c = HostConfig::default();
    c.peers.max_peers = max_peers;
    let mut n = NodeSpec::new(c, vec![Box::new(Nop)]);
    n.discovery = true;
    n.bootnodes = boot.into_iter().collect();
    n
}

fn check_invariants(net: &HostNet, step: usize) {
    for (i, n) in net.nodes.iter().enumerate().filter(|(_, n)| n.up) {
        let h = &n.host;
        let pm = h.peer_manager();
        let cfg = pm.config();
        let (inb, out) = (
            h.peer_count(Some(Direction::Inbound)),
            h.peer_count(Some(Direction::Outbound)),
        );
        let ctx = format!("step {step} node {i}");
        assert!(inb + out <= cfg.max_peers, "{ctx}: {inb}+{out} peers");
        assert!(out <= cfg.max_outbound(), "{ctx}: {out} outbound");
        assert!(inb <= cfg.max_inbound(), "{ctx}: {inb} inbound");
        // Every peer the host lists is one the manager counts, and vice versa.
        assert_eq!(h.peers().len(), pm.peers().count(), "{ctx}: bookkeeping");
        assert!(
            pm.dialing_count() <= cfg.dial.max_concurrent,
            "{ctx}: dials"
        );
        assert!(
            pm.pending_inbound_count() <= cfg.max_pending_inbound,
            "{ctx}: pending"
        );
        // Connections tracked: peers, dials and handshakes only.
        assert!(
            h.connection_count()
                <= cfg.max_peers + cfg.dial.max_concurrent + cfg.max_pending_inbound,
            "{ctx}: {} connections",
            h.connection_count()
        );
    }
}

#[test]
fn limits_and_bookkeeping_hold_while_nodes_crash_and_join() {
    for seed in [1u8, 2] {
        let mut net = HostNet::new(seed, Duration::from_millis(20));
        let mut rng = MachineRng::new(Seed([seed; 32]));
        let boot = net.add(node(8, None));
        let rec = net.nodes[boot].record;
        for _ in 0..14 {
            net.add(node(6, Some(rec)));
        }
        for step in 0..40 {
            net.run_for(Duration::from_secs(2));
            check_invariants(&net, step);
            let live: Vec<usize> = (1..net.nodes.len()).filter(|&i| net.nodes[i].up).collect();
            match rng.range_inclusive(0, 3) {
                0 if live.len() > 6 => {
                    let victim = live[rng.range_inclusive(0, live.len() as u64 - 1) as usize];
                    net.crash(victim);
                }
                1 => {
                    net.add(node(6, Some(rec)));
                }
                _ => {}
            }
        }
        net.run_for(Duration::from_secs(30));
        check_invariants(&net, 999);
        // The survivors are connected: nobody live is left alone.
        for (i, n) in net.nodes.iter().enumerate().filter(|(_, n)| n.up) {
            assert!(
                n.host.peer_count(None) >= 1,
                "seed {seed}: node {i} isolated"
            );
        }
    }
}
