//! Unit tests of the manager as a whole: discovery, dial slots, timers, rate limits,
//! reputation recovery and determinism.

use std::time::Duration;

use super::testutil::*;
use super::*;
use crate::discv4::packet::Endpoint;
use crate::netutil::Netlist;

#[test]
fn discovered_nodes_are_filtered() {
    let now = t0();
    let cfg = PeerManagerConfig {
        netrestrict: Some(Netlist::parse("8.1.0.0/16").unwrap()),
        no_dial: true,
        ..PeerManagerConfig::default()
    };
    let mut pm = manager(cfg, now);
    assert!(!pm.on_discovered(now, record(1), false));
    let mut no_tcp = record(2);
    no_tcp.endpoint.tcp = 0;
    assert!(!pm.on_discovered(now, no_tcp, true));
    let mut me = record(3);
    me.id = local();
    assert!(!pm.on_discovered(now, me, true));
    let outside = NodeRecord {
        endpoint: Endpoint {
            ip: "9.9.9.9".parse().unwrap(),
            udp: 1,
            tcp: 1,
        },
        id: peer(4),
    };
    assert!(!pm.on_discovered(now, outside, true));
    pm.ban(now, peer(5), None, Duration::from_secs(60));
    assert!(!pm.on_discovered(now, record(5), true));
    pm.ban_ip(now, record(6).endpoint.ip, Duration::from_secs(60));
    assert!(!pm.on_discovered(now, record(6), true));
    assert!(pm.on_discovered(now, record(7), true));
    assert!(pm.is_candidate(&peer(7)));
    assert_eq!(pm.table_sizes().candidates, 1);
}

#[test]
fn dials_stay_within_the_concurrent_cap_and_twice_the_free_outbound_slots() {
    let now = t0();
    let cfg = PeerManagerConfig {
        max_peers: 9,
        ..PeerManagerConfig::default()
    };
    let mut pm = manager(cfg, now);
    for n in 0..100 {
        pm.on_discovered(now, record(n), true);
    }
    // 3 outbound slots → at most 6 dials in flight.
    assert_eq!(dials(&mut pm).len(), 6);
    connect_out(&mut pm, now, 500).unwrap();
    // Now 2 free slots → 4 allowed, 6 in flight: nothing new.
    assert!(dials(&mut pm).is_empty());
    let mut pm = manager(PeerManagerConfig::default(), now);
    for n in 0..100 {
        pm.on_discovered(now, record(n), true);
    }
    assert_eq!(dials(&mut pm).len(), MAX_CONCURRENT_DIALS);
}

#[test]
fn failed_and_unreported_dials_return_their_slots() {
    let now = t0();
    let cfg = PeerManagerConfig {
        dial: DialConfig {
            max_concurrent: 2,
            ..DialConfig::default()
        },
        ..PeerManagerConfig::default()
    };
    let mut pm = manager(cfg, now);
    for n in 0..10 {
        pm.on_discovered(now, record(n), true);
    }
    let first = dials(&mut pm);
    assert_eq!(first.len(), 2);
    pm.on_dial_failed(now, first[0], DialFailure::Connect);
    assert_eq!(dials(&mut pm).len(), 1);
    assert_eq!(pm.dialing_count(), 2);
    // Nobody reports the rest: reclaimed at the deadline, and replaced.
    pm.handle_timeout(now + DIAL_TIMEOUT);
    assert_eq!(pm.stats().dials_reclaimed, 2);
    assert_eq!(dials(&mut pm).len(), 2);
    assert_eq!(pm.dialing_count(), 2);
    // A late report of a reclaimed dial changes nothing.
    pm.on_dial_failed(now + DIAL_TIMEOUT, first[1], DialFailure::Timeout);
    assert_eq!(pm.dialing_count(), 2);
    assert_eq!(pm.stats().dial_failures, 1);
}

#[test]
fn timeouts_never_spin() {
    let now = t0();
    let mut pm = manager(PeerManagerConfig::default(), now);
    for n in 0..40 {
        pm.on_discovered(now, record(n), true);
    }
    connect_in(&mut pm, now, 900).unwrap();
    pm.report(now, peer(900), ReputationChange::Timeout);
    pm.ban_ip(now, public(901).ip(), Duration::from_secs(90));
    let mut t = now;
    for _ in 0..200 {
        drain(&mut pm);
        let Some(next) = pm.poll_timeout() else { break };
        assert!(next > t || t == now, "deadline {next:?} not after {t:?}");
        t = next;
        pm.handle_timeout(t);
        // Fail every dial so the scheduler keeps working.
        for p in dials(&mut pm) {
            pm.on_dial_failed(t, p, DialFailure::Connect);
        }
        if let Some(after) = pm.poll_timeout() {
            assert!(after > t);
        }
    }
}

#[test]
fn noisy_peer_is_throttled_then_penalised_then_dropped() {
    let now = t0();
    let cfg = PeerManagerConfig {
        rate_limit: RateLimitConfig {
            per_protocol: Some(RateLimit {
                messages_per_sec: 1,
                message_burst: 1,
                bytes_per_sec: 1 << 20,
                byte_burst: 1 << 20,
            }),
            throttles_before_penalty: 2,
            penalties_before_drop: 2,
            ..RateLimitConfig::default()
        },
        ..PeerManagerConfig::default()
    };
    let mut pm = manager(cfg, now);
    connect_in(&mut pm, now, 1).unwrap();
    let verdicts: Vec<_> = (0..6)
        .map(|_| pm.on_message(now, peer(1), "eth", 100))
        .collect();
    assert_eq!(
        verdicts,
        [
            RateVerdict::Ok,
            RateVerdict::Throttle,
            RateVerdict::Penalize,
            RateVerdict::Throttle,
            RateVerdict::Drop,
            RateVerdict::Drop,
        ]
    );
    assert_eq!(pm.reputation(&peer(1)), -16 * REPUTATION_UNIT);
    assert_eq!(
        drain(&mut pm),
        vec![PeerAction::Disconnect {
            peer: peer(1),
            reason: DisconnectReason::SubprotocolError
        }]
    );
    let stats = pm.stats();
    assert_eq!(
        (stats.throttled, stats.rate_penalties, stats.rate_drops),
        (4, 2, 1)
    );
    // Unknown peers are not tracked.
    assert_eq!(pm.on_message(now, peer(2), "eth", 1), RateVerdict::Ok);
}

#[test]
fn reputation_recovers_while_the_peer_behaves() {
    let now = t0();
    let mut pm = manager(PeerManagerConfig::default(), now);
    connect_in(&mut pm, now, 1).unwrap();
    pm.report(now, peer(1), ReputationChange::BadMessage);
    let bad = pm.reputation(&peer(1));
    pm.handle_timeout(now + Duration::from_secs(600));
    let better = pm.reputation(&peer(1));
    assert!(bad < better && better < 0);
    pm.handle_timeout(now + Duration::from_secs(3 * 3600));
    assert_eq!(pm.reputation(&peer(1)), 0);
    assert_eq!(pm.poll_timeout(), None);
    assert_eq!(pm.peer(&peer(1)).unwrap().reputation, 0);
}

#[test]
fn same_seed_and_inputs_give_the_same_dials() {
    let now = t0();
    let run = |seed: u8| {
        let clock = WallClock {
            at: now,
            unix_secs: 0,
        };
        let mut pm = PeerManager::new(
            PeerManagerConfig::default(),
            local(),
            clock,
            Seed([seed; 32]),
        );
        for n in 0..200 {
            pm.on_discovered(now, record(n), true);
        }
        // The first dials follow discovery order; the next ones are drawn at random.
        for p in dials(&mut pm) {
            pm.on_dial_failed(now, p, DialFailure::Connect);
        }
        dials(&mut pm)
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}
