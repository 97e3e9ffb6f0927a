//! Property test of the whole machine: random sequences of signed packets from a few peers
//! (valid, malformed in content, expired, unsolicited, answering our real requests or not),
//! commands and time steps never panic and keep the invariants: table limits, bounded
//! queues, and no timer due right after `handle_timeout`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use proptest::prelude::*;

use super::packet::{
    self, Endpoint, EnrRequest, FindNode, Neighbors, NodeRecord, Packet, Ping, Pong,
};
use super::test_util::*;
use super::MAX_TRANSMIT_QUEUE;
use crate::types::PeerId;

const PEERS: u8 = 4;

/// The hash of the last datagram of each type we sent to each address.
type Last = std::collections::BTreeMap<(SocketAddr, u8), [u8; 32]>;

#[derive(Clone, Debug)]
enum Action {
    /// Peer `from` sends `packet`; `expired` makes it a second too old.
    Send {
        from: u8,
        packet: Shape,
        expired: bool,
    },
    /// Peer `from` answers the last Ping we sent it (if any).
    AnswerPing {
        from: u8,
    },
    /// Peer `from` answers the last FindNode we sent it with `nodes`.
    AnswerFindNode {
        from: u8,
        nodes: Vec<NodeRecord>,
    },
    /// Peer `from` answers the last ENRRequest we sent it with its record.
    AnswerEnr {
        from: u8,
    },
    /// Time passes.
    Advance {
        ms: u64,
    },
    /// A command.
    Lookup {
        target: u8,
    },
    PingCmd {
        to: u8,
    },
    EnrCmd {
        to: u8,
    },
}

#[derive(Clone, Debug)]
enum Shape {
    Ping,
    Pong([u8; 32]),
    FindNode(u8),
    Neighbors(Vec<NodeRecord>),
    EnrRequest,
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    let ip = prop_oneof![
        (0u8..8).prop_map(|n| IpAddr::V4(Ipv4Addr::new(10, 0, 0, 20 + n))),
        (0u8..4).prop_map(|n| IpAddr::V4(Ipv4Addr::new(20, 0, n, 1))),
        Just(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        Just(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
    ];
    let port = prop_oneof![Just(0u16), Just(1024), Just(30303), 1025u16..];
    (ip, port).prop_map(|(ip, udp)| Endpoint { ip, udp, tcp: udp })
}

fn node() -> impl Strategy<Value = NodeRecord> {
    let id = prop_oneof![
        (10u8..40).prop_map(|n| record(n).id),
        Just(PeerId([1; 64])), // not on the curve
        Just(record(1).id),    // the machine itself
    ];
    (endpoint(), id).prop_map(|(endpoint, id)| NodeRecord { endpoint, id })
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Ping),
        any::<[u8; 32]>().prop_map(Shape::Pong),
        (0u8..40).prop_map(Shape::FindNode),
        prop::collection::vec(node(), 0..14).prop_map(Shape::Neighbors),
        Just(Shape::EnrRequest),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let from = 2u8..2 + PEERS;
    prop_oneof![
        3 => (from.clone(), shape(), prop::bool::weighted(0.1))
            .prop_map(|(from, packet, expired)| Action::Send { from, packet, expired }),
        3 => from.clone().prop_map(|from| Action::AnswerPing { from }),
        2 => (from.clone(), prop::collection::vec(node(), 0..17))
            .prop_map(|(from, nodes)| Action::AnswerFindNode { from, nodes }),
        1 => from.clone().prop_map(|from| Action::AnswerEnr { from }),
        3 => (1u64..3000).prop_map(|ms| Action::Advance { ms }),
        1 => (0u8..40).prop_map(|target| Action::Lookup { target }),
        1 => (2u8..40).prop_map(|to| Action::PingCmd { to }),
        1 => (2u8..40).prop_map(|to| Action::EnrCmd { to }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_traffic_keeps_the_machine_consistent(actions in prop::collection::vec(action(), 1..60)) {
        let t = t0();
        let mut now = t;
        let mut m = Node::new(1, t, |c| c.bootnodes = vec![record(2)]);
        // The last datagram of each kind we sent to each peer.
        let mut last = Last::new();
        let collect = |m: &mut Node, last: &mut Last| {
            let out = m.drain();
            assert!(out.len() <= MAX_TRANSMIT_QUEUE);
            for (to, bytes) in out {
                assert!(bytes.len() <= packet::MAX_PACKET_BYTES);
                let d = packet::decode(&bytes).unwrap();
                last.insert((to, d.packet.kind()), d.hash);
            }
        };
        collect(&mut m, &mut last);
        for a in actions {
            let unix = UNIX0 + now.duration_since(t).as_secs();
            let exp = unix + 20;
            match a {
                Action::Send { from, packet, expired } => {
                    let r = Raw::new(from);
                    let expiration = if expired { unix - 1 } else { exp };
                    let p = match packet {
                        Shape::Ping => Packet::Ping(Ping {
                            version: 4,
                            from: r.record().endpoint,
                            to: m.record().endpoint,
                            expiration,
                            enr_seq: Some(3),
                        }),
                        Shape::Pong(h) => Packet::Pong(Pong {
                            to: m.record().endpoint,
                            ping_hash: h,
                            expiration,
                            enr_seq: None,
                        }),
                        Shape::FindNode(n) => Packet::FindNode(FindNode {
                            target: record(n).id,
                            expiration,
                        }),
                        Shape::Neighbors(nodes) => Packet::Neighbors(Neighbors { nodes, expiration }),
                        Shape::EnrRequest => Packet::EnrRequest(EnrRequest { expiration }),
                    };
                    let (d, _) = r.encode(&p);
                    m.disc.handle_datagram(now, r.addr(), &d);
                }
                Action::AnswerPing { from } => {
                    let r = Raw::new(from);
                    if let Some(h) = last.get(&(r.addr(), 1)) {
                        let (d, _) = r.encode(&Packet::Pong(Pong {
                            to: m.record().endpoint,
                            ping_hash: *h,
                            expiration: exp,
                            enr_seq: Some(2),
                        }));
                        m.disc.handle_datagram(now, r.addr(), &d);
                    }
                }
                Action::AnswerFindNode { from, nodes } => {
                    let r = Raw::new(from);
                    if last.contains_key(&(r.addr(), 3)) {
                        for chunk in nodes.chunks(packet::MAX_NEIGHBORS) {
                            let (d, _) = r.encode(&Packet::Neighbors(Neighbors {
                                nodes: chunk.to_vec(),
                                expiration: exp,
                            }));
                            m.disc.handle_datagram(now, r.addr(), &d);
                        }
                    }
                }
                Action::AnswerEnr { from } => {
                    let r = Raw::new(from);
                    if let Some(h) = last.get(&(r.addr(), 5)) {
                        let rec = crate::enr::Enr::builder().seq(2).sign(&r.key).unwrap();
                        let (d, _) = r.encode(&Packet::EnrResponse(packet::EnrResponse {
                            request_hash: *h,
                            record: rec,
                        }));
                        m.disc.handle_datagram(now, r.addr(), &d);
                    }
                }
                Action::Advance { ms } => {
                    now += Duration::from_millis(ms);
                    while let Some(d) = m.disc.poll_timeout() {
                        if d > now {
                            break;
                        }
                        m.disc.handle_timeout(d);
                        prop_assert!(m.disc.poll_timeout().is_none_or(|n| n > d));
                        collect(&mut m, &mut last);
                    }
                    m.disc.handle_timeout(now);
                    prop_assert!(m.disc.poll_timeout().is_none_or(|n| n > now));
                }
                Action::Lookup { target } => {
                    m.disc.lookup(now, record(target).id);
                }
                Action::PingCmd { to } => {
                    m.disc.ping(now, record(to));
                }
                Action::EnrCmd { to } => {
                    m.disc.request_enr(now, record(to));
                }
            }
            collect(&mut m, &mut last);
            if let Err(e) = m.disc.table.check_invariants() {
                return Err(TestCaseError::fail(e));
            }
            let (in_flight, queued) = m.disc.pending_requests();
            prop_assert!(in_flight <= m.disc.cfg.max_pending_requests);
            prop_assert!(queued <= m.disc.cfg.max_pending_requests);
            // Only nodes that proved their endpoint (real peers at their own address) are in
            // the table.
            for e in m.disc.closest(&crate::types::NodeId([0; 32]), usize::MAX) {
                let n = (10..40u8)
                    .chain(2..2 + PEERS)
                    .find(|n| record(*n).id == e.record.id);
                prop_assert!(n.is_some(), "unknown node in table");
                prop_assert_eq!(e.record.endpoint.ip, addr(n.unwrap()).ip());
            }
        }
    }
}
