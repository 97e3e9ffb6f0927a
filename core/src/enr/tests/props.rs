//! Properties: built records round-trip through bytes and text, decoding is total, key order
//! is enforced on signed records, and `LocalEnr` bumps seq exactly when entries change.

use std::net::IpAddr;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::*;
use crate::enr::{Enr, EnrError, LocalEnr, MAX_RECORD_BYTES};

/// Keys the builder's typed setters or signing own.
const RESERVED: [&[u8]; 8] = [
    b"id",
    b"secp256k1",
    b"ip",
    b"ip6",
    b"tcp",
    b"udp",
    b"tcp6",
    b"udp6",
];

fn arb_secret() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_filter_map("invalid scalar", |b| SecretKey::from_slice(&b).ok())
}

fn arb_ip() -> impl Strategy<Value = Option<IpAddr>> {
    prop_oneof![
        Just(None),
        any::<[u8; 4]>().prop_map(|o| Some(IpAddr::from(o))),
        any::<[u8; 16]>().prop_map(|o| Some(IpAddr::from(o))),
    ]
}

/// One RLP item: an integer, a string, or a list of strings.
fn arb_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<u64>().prop_map(item::uint_item),
        vec(any::<u8>(), 0..24).prop_map(|b| item::bytes_item(&b)),
        vec(vec(any::<u8>(), 0..6), 0..4).prop_map(|parts| {
            let mut payload = Vec::new();
            for p in parts {
                item::put_bytes(&mut payload, &p);
            }
            item::wrap_list(&payload)
        }),
    ]
}

fn arb_key() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..6).prop_filter("reserved key", |k| !RESERVED.contains(&k.as_slice()))
}

/// A `LocalEnr` command.
#[derive(Clone, Debug)]
enum Op {
    Endpoint(Option<IpAddr>, u16, u16),
    Set(&'static [u8], Vec<u8>),
    Remove(&'static [u8]),
}

fn arb_op() -> impl Strategy<Value = Op> {
    // Small domains so that repeated and no-op commands are common.
    let ip = prop_oneof![
        Just(None),
        Just(Some(IpAddr::from([10, 0, 0, 1]))),
        Just(Some(IpAddr::from([
            0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
        ]))),
    ];
    let port = prop_oneof![Just(0u16), Just(1), Just(30303)];
    let key = prop_oneof![Just(&b"a"[..]), Just(&b"eth"[..]), Just(&b"tcp"[..])];
    let value = prop_oneof![Just(h("01")), Just(h("c0")), Just(h("8461626364"))];
    prop_oneof![
        (ip, port.clone(), port).prop_map(|(i, t, u)| Op::Endpoint(i, t, u)),
        (key.clone(), value).prop_map(|(k, v)| Op::Set(k, v)),
        key.prop_map(Op::Remove),
    ]
}

fn apply(l: &mut LocalEnr, op: &Op) -> bool {
    match op {
        Op::Endpoint(ip, tcp, udp) => l.set_endpoint(*ip, *tcp, *udp),
        Op::Set(k, v) => l.set_entry(k, v.clone()),
        Op::Remove(k) => l.remove_entry(k),
    }
}

proptest! {
    #[test]
    fn built_records_round_trip_through_bytes_and_text(
        key in arb_secret(),
        seq in any::<u64>(),
        ip in arb_ip(),
        tcp in option::of(any::<u16>()),
        udp in option::of(any::<u16>()),
        extra in vec((arb_key(), arb_value()), 0..5),
    ) {
        let mut b = Enr::builder().seq(seq);
        if let Some(ip) = ip {
            b = b.ip(ip);
        }
        if let Some(p) = tcp {
            b = b.tcp(p);
        }
        if let Some(p) = udp {
            b = b.udp(p);
        }
        let mut want = BTreeMap::new();
        for (k, v) in &extra {
            b = b.raw(k, v.clone());
            want.insert(k.clone(), v.clone());
        }
        let e = match b.sign(&key) {
            Ok(e) => e,
            Err(EnrError::TooLarge(n)) => {
                prop_assert!(n > MAX_RECORD_BYTES);
                return Ok(());
            }
            Err(other) => return Err(TestCaseError::fail(other.to_string())),
        };
        prop_assert!(e.size() <= MAX_RECORD_BYTES);
        prop_assert_eq!(&Enr::decode(&e.encode()).unwrap(), &e);
        prop_assert_eq!(&Enr::from_text(&e.to_text()).unwrap(), &e);
        prop_assert_eq!(e.seq(), seq);
        prop_assert_eq!(e.public_key(), crate::crypto::keys::peer_id_of(&key));
        match ip {
            Some(IpAddr::V4(a)) => {
                prop_assert_eq!((e.ip4(), e.ip6()), (Some(a), None));
                prop_assert_eq!((e.tcp4(), e.udp4(), e.tcp6(), e.udp6()), (tcp, udp, None, None));
            }
            Some(IpAddr::V6(a)) => {
                prop_assert_eq!((e.ip4(), e.ip6()), (None, Some(a)));
                prop_assert_eq!((e.tcp4(), e.udp4(), e.tcp6(), e.udp6()), (None, None, tcp, udp));
            }
            None => {
                prop_assert_eq!((e.ip4(), e.ip6()), (None, None));
                prop_assert_eq!((e.tcp4(), e.udp4(), e.tcp6(), e.udp6()), (tcp, udp, None, None));
            }
        }
        for (k, v) in &want {
            prop_assert_eq!(e.get_raw(k), Some(v.as_slice()));
        }
        let entries = e.entries();
        prop_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn signed_records_decode_iff_keys_strictly_increase(
        key in arb_secret(),
        extra in vec((arb_key(), arb_value()), 0..5),
    ) {
        let id = identity(&key);
        let mut pairs: Vec<(&[u8], Vec<u8>)> = id.iter().map(|(k, v)| (k.as_slice(), v.clone())).collect();
        for (k, v) in &extra {
            pairs.push((k, v.clone()));
        }
        let raw = sign_raw(&key, 1, &pairs);
        let sorted = pairs.windows(2).all(|w| w[0].0 < w[1].0);
        match Enr::decode(&raw) {
            Ok(e) => {
                prop_assert!(sorted && raw.len() <= MAX_RECORD_BYTES);
                prop_assert_eq!(e.encode(), raw);
                let got: Vec<(&[u8], &[u8])> = e.entries();
                let want: Vec<(&[u8], &[u8])> = pairs.iter().map(|(k, v)| (*k, v.as_slice())).collect();
                prop_assert_eq!(got, want);
            }
            Err(EnrError::TooLarge(n)) => prop_assert!(n > MAX_RECORD_BYTES),
            Err(EnrError::KeysNotSorted) => prop_assert!(!sorted),
            Err(other) => return Err(TestCaseError::fail(other.to_string())),
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(data in vec(any::<u8>(), 0..400)) {
        if let Ok(e) = Enr::decode(&data) {
            prop_assert_eq!(e.encode(), data);
        }
    }

    #[test]
    fn decoding_mutated_records_never_panics(
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut raw = Enr::builder()
            .ip(IpAddr::from([127, 0, 0, 1]))
            .udp(30303)
            .raw(b"eth", h("c7c68488cf81d980"))
            .sign(&sk("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"))
            .unwrap()
            .encode();
        for (i, b) in edits {
            let i = i.index(raw.len());
            raw[i] = b;
        }
        if truncate {
            raw.truncate(cut.index(raw.len()));
        }
        let _ = Enr::decode(&raw);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(s in any::<String>(), b64 in "[A-Za-z0-9_=+/-]{0,420}") {
        let _ = Enr::from_text(&s);
        let _ = Enr::from_text(&format!("enr:{s}"));
        if let Ok(e) = Enr::from_text(&format!("enr:{b64}")) {
            prop_assert_eq!(e.to_text(), format!("enr:{b64}"));
        }
    }

    #[test]
    fn local_seq_increases_exactly_when_entries_change(
        key in arb_secret(),
        start in 0u64..1_000_000,
        ops in vec(arb_op(), 1..12),
    ) {
        let mut l = LocalEnr::new(key, start);
        for op in &ops {
            let before = l.record().clone();
            let changed = apply(&mut l, op);
            let after = l.record().clone();
            prop_assert_eq!(changed, non_identity(&before) != non_identity(&after), "{:?}", op);
            if changed {
                prop_assert_eq!(after.seq(), before.seq() + 1);
            } else {
                prop_assert_eq!(&after, &before);
            }
            prop_assert_eq!(l.seq(), after.seq());
            prop_assert_eq!(&Enr::decode(&after.encode()).unwrap(), &after);
            // Repeating a command is a no-op.
            prop_assert!(!apply(&mut l, op), "{:?} repeated", op);
            prop_assert_eq!(l.record(), &after);
        }
    }
}
