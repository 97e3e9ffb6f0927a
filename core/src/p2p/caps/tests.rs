//! Capability negotiation tests. The `MATCH_CASES` are go-ethereum's `TestMatchProtocols`
//! (`p2p/peer_test.go` at 02b73d4e), transcribed from `shared/vectors/p2p_base.json`.

use super::*;
use proptest::prelude::*;

struct MatchCase {
    /// Remote Hello caps: (name, version).
    remote: &'static [(&'static str, u32)],
    /// Local protocols: (name, version, message count).
    local: &'static [(&'static str, u32, u64)],
    /// Negotiated: (name, version, offset - 16), in name order.
    want: &'static [(&'static str, u32, u64)],
}

const MATCH_CASES: &[MatchCase] = &[
    MatchCase {
        remote: &[],
        local: &[("a", 0, 0)],
        want: &[],
    },
    MatchCase {
        remote: &[("a", 0)],
        local: &[],
        want: &[],
    },
    MatchCase {
        remote: &[("a", 0)],
        local: &[("b", 0, 0)],
        want: &[],
    },
    MatchCase {
        remote: &[("local", 0), ("match1", 0), ("match2", 0)],
        local: &[("match1", 0, 0), ("match2", 0, 0), ("remote", 0, 0)],
        want: &[("match1", 0, 0), ("match2", 0, 0)],
    },
    MatchCase {
        remote: &[("aa", 0), ("ab", 0), ("bb", 0), ("ba", 0)],
        local: &[("ba", 0, 0), ("bb", 0, 0), ("ab", 0, 0), ("aa", 0, 0)],
        want: &[("aa", 0, 0), ("ab", 0, 0), ("ba", 0, 0), ("bb", 0, 0)],
    },
    MatchCase {
        remote: &[("", 1)],
        local: &[("", 2, 0)],
        want: &[],
    },
    MatchCase {
        remote: &[("", 1), ("", 2)],
        local: &[("", 2, 0), ("", 3, 0)],
        want: &[("", 2, 0)],
    },
    MatchCase {
        remote: &[("", 1), ("", 2), ("", 3), ("", 4)],
        local: &[("", 2, 0), ("", 3, 0)],
        want: &[("", 3, 0)],
    },
    MatchCase {
        remote: &[("", 4), ("", 1), ("", 3), ("", 2)],
        local: &[("", 2, 0), ("", 3, 0), ("", 1, 0)],
        want: &[("", 3, 0)],
    },
    MatchCase {
        remote: &[("", 1), ("", 2), ("", 3), ("a", 0)],
        local: &[("", 1, 1), ("", 2, 2), ("", 3, 3), ("a", 0, 0)],
        want: &[("", 3, 0), ("a", 0, 3)],
    },
];

fn specs(local: &[(&str, u32, u64)]) -> Vec<ProtocolSpec> {
    local
        .iter()
        .map(|&(n, v, len)| ProtocolSpec {
            cap: Capability::new(n, v),
            message_count: len,
        })
        .collect()
}

fn caps(remote: &[(&str, u32)]) -> Vec<Capability> {
    remote.iter().map(|&(n, v)| Capability::new(n, v)).collect()
}

#[test]
fn geth_match_protocols_cases() {
    for (i, case) in MATCH_CASES.iter().enumerate() {
        let shared = SharedCapabilities::negotiate(&specs(case.local), &caps(case.remote));
        let got: Vec<(&str, u32, u64)> = shared
            .iter()
            .map(|(_, c)| {
                (
                    c.cap.name.as_str(),
                    c.cap.version,
                    c.offset - BASE_PROTOCOL_LENGTH,
                )
            })
            .collect();
        assert_eq!(got, case.want, "case {i}");
        assert_eq!(shared.is_empty(), case.want.is_empty(), "case {i}");
        assert_eq!(shared.len(), case.want.len(), "case {i}");
    }
}

#[test]
fn message_counts_come_from_the_local_spec() {
    let case = MATCH_CASES.last().unwrap();
    let shared = SharedCapabilities::negotiate(&specs(case.local), &caps(case.remote));
    let counts: Vec<u64> = shared.iter().map(|(_, c)| c.message_count).collect();
    assert_eq!(counts, [3, 0]);
}

#[test]
fn geth_peer_proto_encode() {
    // TestPeerProtoEncodeMsg: protocol "a" with length 2 at offset 16; local code 2 is out
    // of range, local code 1 goes on the wire as 17.
    let shared = SharedCapabilities::negotiate(&specs(&[("a", 1, 2)]), &caps(&[("a", 1)]));
    let a = shared.find("a").unwrap();
    assert_eq!(shared.absolute(a, 2), None);
    assert_eq!(shared.absolute(a, 1), Some(17));
    assert_eq!(shared.absolute(a, 0), Some(16));
    assert_eq!(shared.route(17), Some((a, 1)));
    assert_eq!(shared.route(18), None);
}

#[test]
fn eth_and_snap_layout() {
    // eth/68 has 17 messages, snap/1 has 8: eth at 0x10..0x21, snap at 0x21..0x29.
    let local = specs(&[("snap", 1, 8), ("eth", 67, 17), ("eth", 68, 17)]);
    let remote = caps(&[
        ("eth", 66),
        ("eth", 67),
        ("eth", 68),
        ("snap", 1),
        ("les", 4),
    ]);
    let shared = SharedCapabilities::negotiate(&local, &remote);
    let eth = shared.find("eth").unwrap();
    let snap = shared.find("snap").unwrap();
    assert_eq!(shared.get(eth).unwrap().cap, Capability::new("eth", 68));
    assert_eq!(shared.get(eth).unwrap().offset, 0x10);
    assert_eq!(shared.get(snap).unwrap().offset, 0x21);
    assert_eq!(shared.find("les"), None);
    for id in 0..0x10 {
        assert_eq!(shared.route(id), None, "base protocol id {id}");
    }
    assert_eq!(shared.route(0x10), Some((eth, 0)));
    assert_eq!(shared.route(0x20), Some((eth, 16)));
    assert_eq!(shared.route(0x21), Some((snap, 0)));
    assert_eq!(shared.route(0x28), Some((snap, 7)));
    assert_eq!(shared.route(0x29), None);
    assert_eq!(shared.route(u64::MAX), None);
    assert_eq!(shared.absolute(snap, 7), Some(0x28));
    assert_eq!(shared.absolute(snap, 8), None);
    assert_eq!(shared.absolute(CapId(2), 0), None);
}

#[test]
fn duplicate_remote_caps_change_nothing() {
    let local = specs(&[("eth", 68, 17)]);
    let once = SharedCapabilities::negotiate(&local, &caps(&[("eth", 68)]));
    let twice = SharedCapabilities::negotiate(&local, &caps(&[("eth", 68), ("eth", 68)]));
    assert_eq!(once, twice);
}

#[test]
fn empty_negotiation() {
    let shared = SharedCapabilities::negotiate(&[], &[]);
    assert!(shared.is_empty());
    assert_eq!(shared.route(0x10), None);
    assert_eq!(shared.absolute(CapId(0), 0), None);
}

/// A small universe of (name, version) -> message count, so both peers agree on counts.
fn universe() -> Vec<ProtocolSpec> {
    let mut v = Vec::new();
    for (name, base) in [
        ("eth", 3u64),
        ("snap", 8),
        ("les", 23),
        ("wit", 1),
        ("a", 0),
    ] {
        for version in 1..=4u32 {
            v.push(ProtocolSpec {
                cap: Capability::new(name, version),
                message_count: base + u64::from(version),
            });
        }
    }
    v
}

fn pick(mask: u32) -> Vec<ProtocolSpec> {
    universe()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, s)| s)
        .collect()
}

fn offered(specs: &[ProtocolSpec]) -> Vec<Capability> {
    specs.iter().map(|s| s.cap.clone()).collect()
}

proptest! {
    #[test]
    fn negotiation_is_symmetric_and_contiguous(mx in any::<u32>(), my in any::<u32>(), shuffle in any::<bool>()) {
        let x = pick(mx);
        let y = pick(my);
        let mut x_offers = offered(&x);
        if shuffle {
            x_offers.reverse();
        }
        let at_x = SharedCapabilities::negotiate(&x, &offered(&y));
        let at_y = SharedCapabilities::negotiate(&y, &x_offers);
        prop_assert_eq!(&at_x, &at_y);

        // Contiguous from 0x10, one per name, names strictly increasing, the highest
        // version both sides have.
        let mut next = BASE_PROTOCOL_LENGTH;
        let mut prev: Option<&str> = None;
        for (id, c) in at_x.iter() {
            prop_assert_eq!(c.offset, next);
            next += c.message_count;
            if let Some(p) = prev {
                prop_assert!(p < c.cap.name.as_str());
            }
            prev = Some(c.cap.name.as_str());
            let best = x
                .iter()
                .filter(|s| s.cap.name == c.cap.name && y.iter().any(|t| t.cap == s.cap))
                .map(|s| s.cap.version)
                .max();
            prop_assert_eq!(best, Some(c.cap.version));
            for rel in 0..c.message_count {
                let abs = at_x.absolute(id, rel).unwrap();
                prop_assert_eq!(at_x.route(abs), Some((id, rel)));
            }
            prop_assert_eq!(at_x.absolute(id, c.message_count), None);
        }
        prop_assert_eq!(at_x.route(next), None);
        // Every name both sides share is present.
        for s in &x {
            if y.iter().any(|t| t.cap == s.cap) {
                prop_assert!(at_x.find(&s.cap.name).is_some());
            }
        }
    }

    #[test]
    fn route_and_absolute_are_total(
        mx in any::<u32>(),
        id in any::<u64>(),
        cap in any::<u8>(),
        rel in any::<u64>(),
    ) {
        let x = pick(mx);
        let shared = SharedCapabilities::negotiate(&x, &offered(&x));
        if let Some((c, r)) = shared.route(id) {
            prop_assert!(id >= BASE_PROTOCOL_LENGTH);
            prop_assert_eq!(shared.absolute(c, r), Some(id));
        }
        if let Some(abs) = shared.absolute(CapId(cap), rel) {
            prop_assert_eq!(shared.route(abs), Some((CapId(cap), rel)));
        }
    }
}

#[test]
fn protocol_lists_parse_known_and_explicit_counts() {
    let specs = parse_protocol_list("eth/68, eth/69,chat/1:3").unwrap();
    let got: Vec<(String, u64)> = specs
        .iter()
        .map(|p| (p.cap.to_string(), p.message_count))
        .collect();
    assert_eq!(
        got,
        [
            ("eth/68".to_string(), 17),
            ("eth/69".to_string(), 18),
            ("chat/1".to_string(), 3)
        ]
    );
    assert!(parse_protocol_list("mystery/1").is_err());
    assert!(parse_protocol_list("eth").is_err());
    assert!(parse_protocol_list("eth/x").is_err());
}
