//! Reply matching tests: hashes, senders, accumulation, timeouts and the in-flight bound.

use super::*;
use crate::discv4::packet::Endpoint;
use crate::discv4::test_util::t0;
use std::net::Ipv4Addr;
use std::time::Duration;

fn rec(n: u8) -> NodeRecord {
    NodeRecord {
        endpoint: Endpoint {
            ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
            udp: 30303,
            tcp: 30303,
        },
        id: PeerId([n; 64]),
    }
}

const MS500: Duration = Duration::from_millis(500);

fn ping(to: NodeRecord, purpose: PingPurpose) -> Request {
    Request::Ping { to, purpose }
}

#[test]
fn pong_matches_by_hash_sender_and_ip() {
    let t = t0();
    let mut r = Requests::new(8, MS500);
    let a = rec(1);
    r.sent_ping([1; 32], a, PingPurpose::Revalidate, t, t + MS500);
    // Wrong hash, wrong sender, wrong IP: no match.
    assert!(r.take_pong(&[2; 32], &a.id, a.endpoint.ip).is_none());
    assert!(r.take_pong(&[1; 32], &rec(2).id, a.endpoint.ip).is_none());
    assert!(r
        .take_pong(&[1; 32], &a.id, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)))
        .is_none());
    let p = r.take_pong(&[1; 32], &a.id, a.endpoint.ip).unwrap();
    assert_eq!(p.purposes, vec![PingPurpose::Revalidate]);
    // Matched once only.
    assert!(r.take_pong(&[1; 32], &a.id, a.endpoint.ip).is_none());
    assert_eq!(r.in_flight(), 0);
    assert_eq!(r.next_deadline(), None);
}

#[test]
fn requests_time_out_at_their_deadline_in_order() {
    let t = t0();
    let mut r = Requests::new(8, MS500);
    r.sent_ping([1; 32], rec(1), PingPurpose::Bond, t, t + MS500);
    r.sent_findnode(rec(2), LookupId(1), t + MS500 + MS500);
    r.sent_enr([3; 32], rec(3), EnrPurpose::Update, t + MS500);
    assert_eq!(r.next_deadline(), Some(t + MS500));
    assert!(r.expire(t + MS500 - Duration::from_millis(1)).is_empty());
    let e = r.expire(t + MS500);
    assert_eq!(e.len(), 2);
    assert!(matches!(e[0], Expired::Ping(_)));
    assert!(matches!(e[1], Expired::Enr(_)));
    assert_eq!(r.next_deadline(), Some(t + MS500 + MS500));
    let e = r.expire(t + Duration::from_secs(5));
    assert!(matches!(&e[..], [Expired::FindNode(_)]));
    assert_eq!(r.in_flight(), 0);
}

#[test]
fn neighbors_accumulate_over_packets_until_sixteen() {
    let t = t0();
    let mut r = Requests::new(8, MS500);
    let a = rec(1);
    let ip = a.endpoint.ip;
    r.sent_findnode(a, LookupId(7), t + MS500);
    let nodes: Vec<NodeRecord> = (10..22).map(rec).collect();
    assert!(matches!(
        r.add_neighbors(&a.id, ip, 12, nodes.clone()),
        NeighborsMatch::Partial
    ));
    // Duplicates count towards completion but are kept once.
    let more: Vec<NodeRecord> = (20..24).map(rec).collect();
    match r.add_neighbors(&a.id, ip, 4, more) {
        NeighborsMatch::Complete(p) => {
            assert_eq!(p.lookup, LookupId(7));
            assert_eq!(p.nodes.len(), 14);
        }
        other => panic!("{other:?}"),
    }
    // The request is gone: a further packet is unsolicited.
    assert!(matches!(
        r.add_neighbors(&a.id, ip, 1, vec![rec(30)]),
        NeighborsMatch::Unsolicited
    ));
}

#[test]
fn neighbors_from_the_wrong_node_or_ip_are_unsolicited() {
    let t = t0();
    let mut r = Requests::new(8, MS500);
    let a = rec(1);
    r.sent_findnode(a, LookupId(1), t + MS500);
    assert!(matches!(
        r.add_neighbors(&rec(2).id, a.endpoint.ip, 1, vec![]),
        NeighborsMatch::Unsolicited
    ));
    assert!(matches!(
        r.add_neighbors(&a.id, rec(2).endpoint.ip, 1, vec![]),
        NeighborsMatch::Unsolicited
    ));
    assert!(r.awaiting_neighbors(&a.id.node_id()));
}

#[test]
fn partial_neighbors_are_delivered_on_timeout() {
    let t = t0();
    let mut r = Requests::new(8, MS500);
    let a = rec(1);
    r.sent_findnode(a, LookupId(1), t + MS500);
    r.add_neighbors(&a.id, a.endpoint.ip, 3, (10..13).map(rec).collect());
    match &r.expire(t + MS500)[..] {
        [Expired::FindNode(p)] => assert_eq!(p.nodes.len(), 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn pings_to_one_node_share_a_request() {
    let mut r = Requests::new(8, MS500);
    let t = t0();
    let a = rec(1);
    let Admit::Send(req) = r.admit(ping(a, PingPurpose::Revalidate), t) else {
        panic!()
    };
    let Request::Ping { to, purpose } = req else {
        panic!()
    };
    r.sent_ping([1; 32], to, purpose, t, t + MS500);
    assert!(matches!(
        r.admit(ping(a, PingPurpose::Bond), t),
        Admit::Joined
    ));
    let p = r.take_pong(&[1; 32], &a.id, a.endpoint.ip).unwrap();
    assert_eq!(p.purposes, vec![PingPurpose::Revalidate, PingPurpose::Bond]);
}

#[test]
fn in_flight_bound_queues_then_refuses_and_drops_ping_backs() {
    let t = t0();
    let mut r = Requests::new(2, MS500);
    for n in 0..2 {
        match r.admit(ping(rec(n), PingPurpose::Bond), t) {
            Admit::Send(Request::Ping { to, purpose }) => {
                r.sent_ping([n; 32], to, purpose, t, t + MS500)
            }
            other => panic!("{other:?}"),
        }
    }
    // Full: ping-backs (answers to unauthenticated input) are dropped, others queue.
    assert!(matches!(
        r.admit(ping(rec(5), PingPurpose::PingBack), t),
        Admit::Refused(_)
    ));
    assert!(matches!(
        r.admit(ping(rec(6), PingPurpose::Bond), t),
        Admit::Queued
    ));
    assert!(matches!(
        r.admit(ping(rec(7), PingPurpose::Bond), t),
        Admit::Queued
    ));
    assert!(matches!(
        r.admit(ping(rec(8), PingPurpose::Bond), t),
        Admit::Refused(_)
    ));
    assert_eq!((r.in_flight(), r.queued()), (2, 2));
    assert!(r.next_queued().is_none());
    r.expire(t + MS500);
    let next = r.next_queued().unwrap();
    assert!(matches!(next, Request::Ping { to, .. } if to == rec(6)));
}

#[test]
fn second_findnode_to_a_node_waits_for_the_first() {
    let t = t0();
    let mut r = Requests::new(8, MS500);
    let a = rec(1);
    let req = |l| Request::FindNode {
        to: a,
        target: PeerId([0; 64]),
        lookup: LookupId(l),
    };
    let Admit::Send(_) = r.admit(req(1), t) else {
        panic!()
    };
    r.sent_findnode(a, LookupId(1), t + MS500);
    assert!(matches!(r.admit(req(2), t), Admit::Queued));
    assert!(r.next_queued().is_none());
    r.expire(t + MS500);
    assert!(matches!(
        r.next_queued(),
        Some(Request::FindNode {
            lookup: LookupId(2),
            ..
        })
    ));
}

#[test]
fn ping_back_sends_a_fresh_ping_when_the_pending_one_has_waited() {
    let t = t0();
    let mut r = Requests::new(8, MS500);
    let a = rec(1);
    r.sent_ping([1; 32], a, PingPurpose::PingBack, t, t + MS500);
    // Soon after: shared.
    assert!(matches!(
        r.admit(
            ping(a, PingPurpose::PingBack),
            t + Duration::from_millis(100)
        ),
        Admit::Joined
    ));
    // Half a timeout later the first was probably lost: a new Ping goes out.
    let later = t + Duration::from_millis(250);
    let Admit::Send(Request::Ping { to, purpose }) = r.admit(ping(a, PingPurpose::PingBack), later)
    else {
        panic!()
    };
    r.sent_ping([2; 32], to, purpose, later, later + MS500);
    assert_eq!(r.in_flight(), 2);
    // Either Pong matches; other purposes join the latest.
    assert!(matches!(
        r.admit(ping(a, PingPurpose::Bond), later),
        Admit::Joined
    ));
    assert_eq!(
        r.take_pong(&[2; 32], &a.id, a.endpoint.ip)
            .unwrap()
            .purposes,
        vec![PingPurpose::PingBack, PingPurpose::Bond]
    );
    assert!(r.take_pong(&[1; 32], &a.id, a.endpoint.ip).is_some());
    assert_eq!(r.in_flight(), 0);
}

#[test]
fn identical_ping_resent_restarts_the_timer_instead_of_dying_with_the_first() {
    let t = t0();
    let mut r = Requests::new(8, MS500);
    let a = rec(1);
    let later = t + Duration::from_millis(300);
    r.sent_ping([1; 32], a, PingPurpose::PingBack, t, t + MS500);
    r.sent_ping([1; 32], a, PingPurpose::PingBack, later, later + MS500);
    assert_eq!(r.in_flight(), 1);
    assert!(r.expire(t + MS500).is_empty());
    assert!(r.take_pong(&[1; 32], &a.id, a.endpoint.ip).is_some());
    assert_eq!(r.next_deadline(), None);
}

#[test]
fn identical_enr_requests_to_two_nodes_are_told_apart() {
    let t = t0();
    let mut r = Requests::new(8, MS500);
    let (a, b) = (rec(1), rec(2));
    r.sent_enr([9; 32], a, EnrPurpose::Update, t + MS500);
    r.sent_enr([9; 32], b, EnrPurpose::Tool(RequestId(4)), t + MS500);
    assert_eq!(r.in_flight(), 2);
    let pb = r.take_enr(&[9; 32], &b.id, b.endpoint.ip).unwrap();
    assert_eq!(pb.purpose, EnrPurpose::Tool(RequestId(4)));
    let pa = r.take_enr(&[9; 32], &a.id, a.endpoint.ip).unwrap();
    assert_eq!(pa.purpose, EnrPurpose::Update);
    // A second request to a node with one in flight waits for it.
    r.sent_enr([9; 32], a, EnrPurpose::Update, t + MS500);
    let again = Request::Enr {
        to: a,
        purpose: EnrPurpose::Tool(RequestId(5)),
    };
    assert!(matches!(r.admit(again, t), Admit::Queued));
}
