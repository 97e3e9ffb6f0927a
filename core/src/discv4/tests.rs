//! Machine-level tests: real packets between machines and hand-crafted peers, in virtual
//! time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::packet::{
    Endpoint, EnrRequest, FindNode, Neighbors, NodeRecord, Packet, Ping, Pong, MAX_NEIGHBORS,
};
use super::test_util::*;
use super::*;
use crate::nodedb::StoredNode;

const MS: Duration = Duration::from_millis(1);

/// The `expiration` a packet sent at `now` carries, for a test that started at `t`.
fn exp(t: Instant, now: Instant) -> u64 {
    UNIX0 + now.duration_since(t).as_secs() + 20
}

fn ping_from(r: &Raw, to: &Node, expiration: u64) -> Packet {
    Packet::Ping(Ping {
        version: 4,
        from: r.record().endpoint,
        to: to.record().endpoint,
        expiration,
        enr_seq: Some(1),
    })
}

fn pong_to(m: &Node, ping_hash: [u8; 32], expiration: u64) -> Packet {
    Packet::Pong(Pong {
        to: m.record().endpoint,
        ping_hash,
        expiration,
        enr_seq: Some(1),
    })
}

/// `r` pings `m`, and answers the ping-back: afterwards each holds a proof of the other
/// and `r` is in `m`'s table.
fn bond_raw(m: &mut Node, r: &Raw, t: Instant, now: Instant) {
    let (d, _) = r.encode(&ping_from(r, m, exp(t, now)));
    m.disc.handle_datagram(now, r.addr(), &d);
    for (to, dec) in m.drain_decoded() {
        if to == r.addr() {
            if let Packet::Ping(_) = dec.packet {
                let (d, _) = r.encode(&pong_to(m, dec.hash, exp(t, now)));
                m.disc.handle_datagram(now, r.addr(), &d);
            }
        }
    }
    m.drain();
}

fn sent_to(out: &[(SocketAddr, super::packet::Decoded)], to: SocketAddr) -> Vec<&'static str> {
    out.iter()
        .filter(|(a, _)| *a == to)
        .map(|(_, d)| d.packet.name())
        .collect()
}

#[test]
fn ping_from_unbonded_node_gets_pong_and_a_ping_back() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    m.drain();
    let r = Raw::new(2);
    let (d, hash) = r.encode(&ping_from(&r, &m, exp(t, t)));
    m.disc.handle_datagram(t, r.addr(), &d);
    let out = m.drain_decoded();
    assert_eq!(sent_to(&out, r.addr()), ["pong", "ping"]);
    let Packet::Pong(pong) = &out[0].1.packet else {
        panic!()
    };
    assert_eq!(pong.ping_hash, hash);
    assert_eq!(pong.to.ip, r.addr().ip());
    assert_eq!(pong.to.udp, r.addr().port());
    assert_eq!(pong.enr_seq, Some(m.disc.local_enr().seq()));
    assert_eq!(pong.expiration, exp(t, t));
    let Packet::Ping(ping) = &out[1].1.packet else {
        panic!()
    };
    assert_eq!(ping.enr_seq, Some(m.disc.local_enr().seq()));
    // Not in the table before it answers.
    assert_eq!(m.disc.table_len(), 0);
    let (d, _) = r.encode(&pong_to(&m, out[1].1.hash, exp(t, t)));
    m.disc.handle_datagram(t + 10 * MS, r.addr(), &d);
    m.drain();
    assert_eq!(m.disc.table_len(), 1);
    assert!(matches!(&m.events[..], [Discv4Event::NodeAdded(e)] if e.record.id == r.id()));
    // Stored in the database once it answered.
    let stored = m.db.lock().node(&r.id().node_id()).unwrap();
    assert_eq!(stored.last_pong, UNIX0);
}

#[test]
fn ping_from_bonded_node_is_not_pinged_back() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    let r = Raw::new(2);
    bond_raw(&mut m, &r, t, t);
    let (d, _) = r.encode(&ping_from(&r, &m, exp(t, t)));
    m.disc.handle_datagram(t + MS, r.addr(), &d);
    assert_eq!(sent_to(&m.drain_decoded(), r.addr()), ["pong"]);
}

#[test]
fn findnode_from_unbonded_node_is_ignored() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    m.drain();
    let r = Raw::new(2);
    let fnode = Packet::FindNode(FindNode {
        target: r.id(),
        expiration: exp(t, t),
    });
    let (d, _) = r.encode(&fnode);
    m.disc.handle_datagram(t, r.addr(), &d);
    assert!(m.drain().is_empty());
    assert_eq!(m.disc.stats().unbonded, 1);
    let (d, _) = r.encode(&Packet::EnrRequest(EnrRequest {
        expiration: exp(t, t),
    }));
    m.disc.handle_datagram(t, r.addr(), &d);
    assert!(m.drain().is_empty());
    assert_eq!(m.disc.stats().unbonded, 2);
}

#[test]
fn findnode_from_bonded_node_is_answered_in_chunks_of_twelve() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    let peers: Vec<Raw> = (10..30).map(Raw::new).collect();
    for r in &peers {
        bond_raw(&mut m, r, t, t);
    }
    let n = m.disc.table_len();
    assert!(n >= 17, "{n} in table");
    let r = &peers[0];
    let (d, _) = r.encode(&Packet::FindNode(FindNode {
        target: peers[5].id(),
        expiration: exp(t, t),
    }));
    m.disc.handle_datagram(t + MS, r.addr(), &d);
    let out = m.drain_decoded();
    let sizes: Vec<usize> = out
        .iter()
        .map(|(_, d)| match &d.packet {
            Packet::Neighbors(n) => n.nodes.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sizes, [MAX_NEIGHBORS, BUCKET_SIZE - MAX_NEIGHBORS]);
    // The closest to the target comes first: the target itself.
    let Packet::Neighbors(first) = &out[0].1.packet else {
        panic!()
    };
    assert_eq!(first.nodes[0].id, peers[5].id());
}

#[test]
fn enr_request_from_bonded_node_is_answered_with_our_record() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    let r = Raw::new(2);
    bond_raw(&mut m, &r, t, t);
    let (d, hash) = r.encode(&Packet::EnrRequest(EnrRequest {
        expiration: exp(t, t),
    }));
    m.disc.handle_datagram(t, r.addr(), &d);
    let out = m.drain_decoded();
    let [(_, dec)] = &out[..] else {
        panic!("{out:?}")
    };
    let Packet::EnrResponse(resp) = &dec.packet else {
        panic!()
    };
    assert_eq!(resp.request_hash, hash);
    assert_eq!(&resp.record, m.disc.local_enr());
}

#[test]
fn unsolicited_replies_are_dropped_and_counted() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    m.drain();
    let r = Raw::new(2);
    let (d, _) = r.encode(&pong_to(&m, [7; 32], exp(t, t)));
    m.disc.handle_datagram(t, r.addr(), &d);
    let (d, _) = r.encode(&Packet::Neighbors(Neighbors {
        nodes: vec![record(3)],
        expiration: exp(t, t),
    }));
    m.disc.handle_datagram(t, r.addr(), &d);
    assert!(m.drain().is_empty());
    assert_eq!(m.disc.stats().unsolicited, 2);
    assert_eq!(m.disc.table_len(), 0);
}

#[test]
fn pong_from_another_node_does_not_match_our_ping() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    m.drain();
    m.disc.ping(t, record(2));
    let out = m.drain_decoded();
    let hash = out[0].1.hash;
    // Right hash, wrong signer.
    let (d, _) = Raw::new(3).encode(&pong_to(&m, hash, exp(t, t)));
    m.disc.handle_datagram(t, addr(2), &d);
    assert_eq!(m.disc.stats().unsolicited, 1);
    m.drain();
    assert!(m.events.is_empty());
}

#[test]
fn expired_packets_are_dropped_and_counted_invalid() {
    let t = t0();
    let now = t + Duration::from_secs(100);
    let mut m = Node::new(1, t, |_| {});
    m.drain();
    let r = Raw::new(2);
    let (d, _) = r.encode(&ping_from(&r, &m, UNIX0 + 99));
    m.disc.handle_datagram(now, r.addr(), &d);
    assert!(m.drain().is_empty());
    assert_eq!(m.disc.stats().invalid, 1);
    // Still valid when the expiration is now.
    let (d, _) = r.encode(&ping_from(&r, &m, UNIX0 + 100));
    m.disc.handle_datagram(now, r.addr(), &d);
    assert!(!m.drain().is_empty());
}

#[test]
fn garbage_is_counted_invalid() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    m.drain();
    for junk in [&[][..], &[0u8; 10][..], &[1u8; 200][..], &[0xff; 2000][..]] {
        m.disc.handle_datagram(t, addr(2), junk);
    }
    assert!(m.drain().is_empty());
    assert_eq!(m.disc.stats().invalid, 4);
    assert_eq!(m.disc.stats().packets_in, 4);
    assert!(m.disc.stats().received_by_kind.iter().sum::<u64>() <= 4);
}

#[test]
fn packets_beyond_the_per_ip_rate_are_dropped() {
    let t = t0();
    let mut m = Node::new(1, t, |c| c.max_packets_per_ip_per_sec = 5);
    m.drain();
    let r = Raw::new(2);
    let (d, _) = r.encode(&ping_from(&r, &m, exp(t, t)));
    for _ in 0..8 {
        m.disc.handle_datagram(t, r.addr(), &d);
    }
    assert_eq!(m.disc.stats().rate_limited, 3);
    let pongs = m
        .drain_decoded()
        .iter()
        .filter(|(_, d)| d.packet.name() == "pong")
        .count();
    assert_eq!(pongs, 5);
    // Another source is not affected.
    let r3 = Raw::new(3);
    let (d, _) = r3.encode(&ping_from(&r3, &m, exp(t, t)));
    m.disc.handle_datagram(t, r3.addr(), &d);
    assert_eq!(m.disc.stats().rate_limited, 3);
}

#[test]
fn netrestrict_drops_outside_sources() {
    let t = t0();
    let nl = crate::netutil::Netlist::parse("10.0.1.0/24").unwrap();
    let mut m = Node::new(1, t, |c| c.netrestrict = Some(nl));
    m.drain();
    let r = Raw::new(2);
    let (d, _) = r.encode(&ping_from(&r, &m, exp(t, t)));
    m.disc.handle_datagram(t, r.addr(), &d);
    assert!(m.drain().is_empty());
    assert_eq!(m.disc.stats().restricted, 1);
}

#[test]
fn tool_ping_reports_pong_or_failure() {
    let t = t0();
    let mut a = Node::new(1, t, |_| {});
    let mut b = Node::new(2, t, |_| {});
    let id = a.disc.ping(t, b.record());
    exchange(&mut [&mut a, &mut b], t + 20 * MS);
    a.drain();
    assert!(a.events.iter().any(|e| matches!(e,
        Discv4Event::PongReceived { id: i, enr_seq: Some(_), .. } if *i == id)));
    // Nobody at 10.0.0.9.
    let lost = a.disc.ping(t + 30 * MS, record(9));
    a.drain();
    let deadline = a.disc.poll_timeout().unwrap();
    assert!(deadline <= t + 30 * MS + REPLY_TIMEOUT);
    a.disc.handle_timeout(t + 30 * MS + REPLY_TIMEOUT);
    a.drain();
    assert!(a.events.contains(&Discv4Event::RequestFailed { id: lost }));
}

#[test]
fn request_enr_bonds_first_then_returns_the_record() {
    let t = t0();
    let mut a = Node::new(1, t, |_| {});
    let mut b = Node::new(2, t, |_| {});
    let id = a.disc.request_enr(t, b.record());
    // First a Ping, not the ENRRequest: b would not answer an unbonded requester.
    let out = a.drain();
    let names: Vec<&str> = out
        .iter()
        .map(|(_, d)| super::packet::decode(d).unwrap().packet.name())
        .collect();
    assert_eq!(names, ["ping"]);
    for (to, bytes) in &out {
        assert_eq!(*to, b.addr());
        b.disc.handle_datagram(t, a.addr(), bytes);
    }
    let mut now = t;
    for _ in 0..20 {
        exchange(&mut [&mut a, &mut b], now);
        now += 100 * MS;
        a.disc.handle_timeout(now);
        b.disc.handle_timeout(now);
    }
    exchange(&mut [&mut a, &mut b], now);
    let got = a.events.iter().find_map(|e| match e {
        Discv4Event::EnrReceived { id: i, record } if *i == id => Some(record.clone()),
        _ => None,
    });
    assert_eq!(got.as_ref(), Some(b.disc.local_enr()));
    assert_eq!(b.disc.stats().unbonded, 0);
}

#[test]
fn bootnode_enters_the_table_after_its_pong_and_a_lookup_follows() {
    let t = t0();
    let mut boot = Node::new(1, t, |_| {});
    let mut a = Node::new(2, t, |c| c.bootnodes = vec![record(1)]);
    assert_eq!(a.disc.table_len(), 0);
    let out = a.drain();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, boot.addr());
    assert_eq!(
        super::packet::decode(&out[0].1).unwrap().packet.name(),
        "ping"
    );
    boot.disc.handle_datagram(t, a.addr(), &out[0].1);
    let mut now = t;
    for _ in 0..30 {
        exchange(&mut [&mut a, &mut boot], now);
        now += 100 * MS;
        a.disc.handle_timeout(now);
        boot.disc.handle_timeout(now);
    }
    assert_eq!(a.disc.table_len(), 1);
    assert_eq!(boot.disc.table_len(), 1);
    assert!(a
        .events
        .iter()
        .any(|e| matches!(e, Discv4Event::NodeAdded(n) if n.record.id == boot.record().id)));
    // The refresh right after bootstrap asked the bootnode for neighbours, and the bootnode
    // answered (the bond was mutual).
    assert_eq!(boot.disc.stats().unbonded, 0);
    assert!(boot.disc.stats().packets_out >= 4);
}

#[test]
fn lookup_reports_done_with_closest_answered_nodes() {
    let t = t0();
    let mut nodes: Vec<Node> = (1..=8)
        .map(|n| Node::new(n, t, |c| c.bootnodes = vec![record(1)]))
        .collect();
    let mut now = t;
    for _ in 0..100 {
        let mut refs: Vec<&mut Node> = nodes.iter_mut().collect();
        exchange(&mut refs, now);
        now += 50 * MS;
        for n in refs {
            n.disc.handle_timeout(now);
        }
    }
    let target = record(5).id;
    let id = nodes[7].disc.lookup(now, target);
    for _ in 0..100 {
        let mut refs: Vec<&mut Node> = nodes.iter_mut().collect();
        exchange(&mut refs, now);
        now += 50 * MS;
        for n in refs {
            n.disc.handle_timeout(now);
        }
    }
    let done = nodes[7].events.iter().find_map(|e| match e {
        Discv4Event::LookupDone {
            id: i,
            target: tg,
            nodes,
        } if *i == id => Some((*tg, nodes.clone())),
        _ => None,
    });
    let (tg, found) = done.expect("lookup finished");
    assert_eq!(tg, target);
    // Everyone but the asker answered; the target itself is closest.
    assert_eq!(found.len(), 7, "{found:?}");
    assert_eq!(found[0].record.id, target);
}

#[test]
fn neighbours_with_bad_ports_relay_ips_or_our_id_are_ignored() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    let r = Raw::new(2);
    bond_raw(&mut m, &r, t, t);
    m.disc.lookup(t, record(50).id);
    let out = m.drain_decoded();
    assert_eq!(sent_to(&out, r.addr()), ["findnode"]);
    let good = record(40);
    let mut low_port = record(41);
    low_port.endpoint.udp = 1024;
    let mut zero_port = record(42);
    zero_port.endpoint.udp = 0;
    let mut loopback = record(43);
    loopback.endpoint.ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut unspecified = record(44);
    unspecified.endpoint.ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let mut bad_key = record(45);
    bad_key.id.0 = [1; 64];
    let me = m.record();
    let (d, _) = r.encode(&Packet::Neighbors(Neighbors {
        nodes: vec![
            low_port,
            zero_port,
            loopback,
            unspecified,
            bad_key,
            me,
            good,
        ],
        expiration: exp(t, t),
    }));
    m.disc.handle_datagram(t + MS, r.addr(), &d);
    // Fewer than 16 nodes: the reply completes at the timeout. Then only the good node is
    // contacted (bonded with first).
    assert!(m.drain().is_empty());
    m.disc.handle_timeout(t + REPLY_TIMEOUT);
    let out = m.drain_decoded();
    let contacted: Vec<(SocketAddr, &str)> = out
        .iter()
        .filter(|(a, _)| *a != r.addr())
        .map(|(a, d)| (*a, d.packet.name()))
        .collect();
    assert_eq!(contacted, [(addr(40), "ping")]);
}

#[test]
fn pending_requests_are_bounded() {
    let t = t0();
    let mut m = Node::new(1, t, |c| c.max_pending_requests = 4);
    m.drain();
    let ids: Vec<RequestId> = (10..30).map(|n| m.disc.ping(t, record(n))).collect();
    let out = m.drain();
    assert_eq!(out.len(), 4);
    assert_eq!(m.disc.pending_requests(), (4, 4));
    let failed = m
        .events
        .iter()
        .filter(|e| matches!(e, Discv4Event::RequestFailed { .. }))
        .count();
    assert_eq!(failed, 12);
    assert_eq!(m.disc.stats().overloaded, 12);
    // Timeouts free slots for the queued ones.
    m.disc.handle_timeout(t + REPLY_TIMEOUT);
    assert_eq!(m.drain().len(), 4);
    assert_eq!(m.disc.pending_requests(), (4, 0));
    assert_eq!(ids.len(), 20);
}

#[test]
fn unanswered_revalidation_removes_the_node() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    let r = Raw::new(2);
    bond_raw(&mut m, &r, t, t);
    assert_eq!(m.disc.table_len(), 1);
    let mut now = t;
    let mut pinged = false;
    while now < t + Duration::from_secs(20) && m.disc.table_len() == 1 {
        let next = m.disc.poll_timeout().unwrap();
        assert!(next > now, "timer must not spin");
        now = next;
        m.disc.handle_timeout(now);
        pinged |= sent_to(&m.drain_decoded(), r.addr()).contains(&"ping");
    }
    assert!(pinged);
    assert_eq!(m.disc.table_len(), 0);
    assert!(m
        .events
        .iter()
        .any(|e| matches!(e, Discv4Event::NodeRemoved(n) if n.id == r.id().node_id())));
}

#[test]
fn answered_revalidation_fetches_a_newer_record() {
    let t = t0();
    let mut a = Node::new(1, t, |_| {});
    let mut b = Node::new(2, t, |_| {});
    b.disc.ping(t, a.record());
    let mut now = t;
    for _ in 0..200 {
        exchange(&mut [&mut a, &mut b], now);
        now += 100 * MS;
        a.disc.handle_timeout(now);
        b.disc.handle_timeout(now);
    }
    let a_sees_b = a.disc.closest(&b.record().id.node_id(), 1);
    assert_eq!(a_sees_b.len(), 1);
    assert_eq!(a_sees_b[0].enr.as_ref(), Some(b.disc.local_enr()));
}

#[test]
fn timer_never_spins_and_covers_every_deadline() {
    let t = t0();
    let mut nodes: Vec<Node> = (1..=5)
        .map(|n| Node::new(n, t, |c| c.bootnodes = vec![record(1)]))
        .collect();
    let mut now = t;
    for _ in 0..400 {
        let mut refs: Vec<&mut Node> = nodes.iter_mut().collect();
        exchange(&mut refs, now);
        for n in &refs {
            let d = n.disc.poll_timeout().unwrap();
            assert!(d > now, "input left a deadline at or before now");
        }
        now = refs
            .iter()
            .filter_map(|n| n.disc.poll_timeout())
            .min()
            .unwrap();
        for n in refs {
            if n.disc.poll_timeout() == Some(now) {
                n.disc.handle_timeout(now);
                let after = n.disc.poll_timeout().unwrap();
                assert!(after > now, "deadline {after:?} not after {now:?}");
            }
        }
    }
    assert!(now > t + Duration::from_secs(5));
}

#[test]
fn database_seeds_are_bonded_at_start_and_expired_hourly() {
    let t = t0();
    let db = SharedDb::default();
    let fresh = record(2);
    let stale = record(3);
    db.lock().put_node(&StoredNode {
        record: fresh,
        enr: None,
        last_pong: UNIX0 - 3600,
    });
    db.lock().put_node(&StoredNode {
        record: stale,
        enr: None,
        last_pong: UNIX0 - 6 * 24 * 3600,
    });
    let mut m = Node::with_db(1, t, db.clone(), |_| {});
    let out = m.drain_decoded();
    assert_eq!(sent_to(&out, fresh.endpoint_addr()), ["ping"]);
    assert!(sent_to(&out, stale.endpoint_addr()).is_empty());
    assert_eq!(db.lock().local_seq(), Some(m.disc.local_enr().seq()));
    // After an hour the stale entry (older than 24 h) is swept; the fresh one is too once
    // it is older than 24 h, which it is not yet.
    m.disc.handle_timeout(t + Duration::from_secs(3600));
    assert!(db.lock().node(&stale.id.node_id()).is_none());
    assert!(db.lock().node(&fresh.id.node_id()).is_some());
}

#[test]
fn enr_entry_change_persists_the_sequence() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    let before = m.disc.local_enr().seq();
    m.disc.set_enr_entry(b"eth", vec![0xc0]);
    let after = m.disc.local_enr().seq();
    assert!(after > before);
    assert_eq!(m.db.lock().local_seq(), Some(after));
}

#[test]
fn external_endpoint_is_predicted_from_pong_statements() {
    let t = t0();
    let mut m = Node::new(1, t, |c| c.local.ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    m.drain();
    let seen_as = Endpoint {
        ip: IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)),
        udp: 40404,
        tcp: 0,
    };
    for n in 10..30 {
        m.disc.ping(t, record(n));
        let out = m.drain_decoded();
        let r = Raw::new(n);
        let (d, _) = r.encode(&Packet::Pong(Pong {
            to: seen_as,
            ping_hash: out[0].1.hash,
            expiration: exp(t, t),
            enr_seq: None,
        }));
        m.disc.handle_datagram(t, r.addr(), &d);
    }
    m.drain();
    let want = SocketAddr::new(seen_as.ip, seen_as.udp);
    let evs: Vec<_> = m
        .events
        .iter()
        .filter(|e| matches!(e, Discv4Event::ExternalEndpoint(_)))
        .collect();
    assert_eq!(evs, [&Discv4Event::ExternalEndpoint(want)]);
    assert_eq!(m.disc.local_enr().ip4(), Some(Ipv4Addr::new(1, 2, 3, 4)));
    assert_eq!(m.disc.local_enr().udp4(), Some(40404));
    assert_eq!(m.db.lock().local_seq(), Some(m.disc.local_enr().seq()));
}

#[test]
fn fixed_external_ip_disables_prediction() {
    let t = t0();
    let ext = IpAddr::V4(Ipv4Addr::new(5, 6, 7, 8));
    let mut m = Node::new(1, t, |c| c.ext_ip = Some(ext));
    assert_eq!(m.disc.local_enr().ip4(), Some(Ipv4Addr::new(5, 6, 7, 8)));
    m.drain();
    for n in 10..30 {
        m.disc.ping(t, record(n));
        let out = m.drain_decoded();
        let r = Raw::new(n);
        let (d, _) = r.encode(&pong_to(&m, out[0].1.hash, exp(t, t)));
        m.disc.handle_datagram(t, r.addr(), &d);
    }
    m.drain();
    assert!(!m
        .events
        .iter()
        .any(|e| matches!(e, Discv4Event::ExternalEndpoint(_))));
}

trait EndpointAddr {
    fn endpoint_addr(&self) -> SocketAddr;
}

impl EndpointAddr for NodeRecord {
    fn endpoint_addr(&self) -> SocketAddr {
        SocketAddr::new(self.endpoint.ip, self.endpoint.udp)
    }
}

#[test]
fn lookups_beyond_the_limit_answer_from_the_table_at_once() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    let r = Raw::new(2);
    bond_raw(&mut m, &r, t, t);
    let ids: Vec<LookupId> = (0..=MAX_ACTIVE_LOOKUPS)
        .map(|i| m.disc.lookup(t, record(100 + i as u8).id))
        .collect();
    m.drain();
    let done: Vec<&Discv4Event> = m
        .events
        .iter()
        .filter(|e| matches!(e, Discv4Event::LookupDone { .. }))
        .collect();
    let [Discv4Event::LookupDone { id, nodes, .. }] = &done[..] else {
        panic!("{done:?}")
    };
    assert_eq!(*id, ids[MAX_ACTIVE_LOOKUPS]);
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].record.id, r.id());
    assert_eq!(m.disc.stats().overloaded, 1);
}

#[test]
fn node_failing_findnode_five_times_leaves_the_table() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    // No revalidation during the test: removals can only come from FindNode failures.
    m.disc.reval = revalidate::Revalidation::with_interval(Duration::from_secs(3600));
    let peers: Vec<Raw> = (10..40).map(Raw::new).collect();
    for r in &peers {
        bond_raw(&mut m, r, t, t);
    }
    // A peer in a bucket with at least four entries (go-ethereum keeps nodes of sparse
    // buckets, so small networks still bootstrap).
    let victim = peers
        .iter()
        .find(|r| m.disc.table.bucket_len_of(&r.id().node_id()) >= BUCKET_SIZE / 4)
        .unwrap();
    let vid = victim.id().node_id();
    let ip = victim.addr().ip();
    m.db.lock()
        .set_findnode_failures(&vid, ip, bond::MAX_FINDNODE_FAILURES - 1);
    m.disc.lookup(t, victim.id());
    m.drain();
    // Nobody answers: the victim's fifth failure removes it.
    let mut now = t;
    for _ in 0..10 {
        now += REPLY_TIMEOUT;
        m.disc.handle_timeout(now);
        m.drain();
    }
    assert!(m
        .events
        .iter()
        .any(|e| matches!(e, Discv4Event::NodeRemoved(n) if n.id == vid)));
    // The lookup asks it three times in all.
    assert_eq!(
        m.db.lock().findnode_failures(&vid, ip),
        bond::MAX_FINDNODE_FAILURES + 2
    );
    // The others failed at most three times: they stay.
    let removed: Vec<NodeId> = m
        .events
        .iter()
        .filter_map(|e| match e {
            Discv4Event::NodeRemoved(n) => Some(n.id),
            _ => None,
        })
        .collect();
    assert_eq!(removed, [vid]);
}

#[test]
fn empty_neighbors_is_an_answer_not_a_failure() {
    let t = t0();
    let mut m = Node::new(1, t, |_| {});
    let r = Raw::new(2);
    bond_raw(&mut m, &r, t, t);
    let id = m.disc.lookup(t, record(50).id);
    assert_eq!(sent_to(&m.drain_decoded(), r.addr()), ["findnode"]);
    let (d, _) = r.encode(&Packet::Neighbors(Neighbors {
        nodes: vec![],
        expiration: exp(t, t),
    }));
    m.disc.handle_datagram(t + MS, r.addr(), &d);
    m.disc.handle_timeout(t + REPLY_TIMEOUT);
    m.drain();
    let done = m.events.iter().find_map(|e| match e {
        Discv4Event::LookupDone { id: i, nodes, .. } if *i == id => Some(nodes.clone()),
        _ => None,
    });
    let nodes = done.expect("lookup done without asking again");
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].record.id, r.id());
    assert_eq!(
        m.db.lock()
            .findnode_failures(&r.id().node_id(), r.addr().ip()),
        0
    );
}

#[test]
fn lost_bootstrap_ping_is_retried_within_a_second() {
    let t = t0();
    let mut boot = Node::new(1, t, |_| {});
    let mut a = Node::new(2, t, |c| c.bootnodes = vec![record(1)]);
    assert_eq!(a.drain().len(), 1); // lost
    a.disc.handle_timeout(t + REPLY_TIMEOUT);
    assert!(a.drain().is_empty());
    let retry = a.disc.poll_timeout().unwrap();
    assert_eq!(retry, t + Duration::from_secs(1));
    a.disc.handle_timeout(retry);
    let out = a.drain_decoded();
    assert_eq!(sent_to(&out, boot.addr()), ["ping"]);
    let bytes = super::packet::encode(&out[0].1.packet, &key(2)).0;
    boot.disc.handle_datagram(retry, a.addr(), &bytes);
    exchange(&mut [&mut a, &mut boot], retry);
    assert_eq!(a.disc.table_len(), 1);
}
