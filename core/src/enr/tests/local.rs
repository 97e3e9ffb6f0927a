//! [`LocalEnr`] behaviour: identity-only start, endpoint families, no-op detection, refused
//! changes, and go-ethereum's `TestSeq` (a change after signing at seq 0 gives seq 1).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::crypto::keys::peer_id_of;
use crate::enr::{Enr, LocalEnr, MAX_RECORD_BYTES};

const KEY: &str = "45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8";

#[test]
fn new_local_record_holds_only_identity_at_the_given_seq() {
    let key = sk(KEY);
    let l = LocalEnr::new(key, 1_700_000_000_000);
    assert_eq!(l.seq(), 1_700_000_000_000);
    assert_eq!(l.record().seq(), l.seq());
    assert_eq!(l.record().public_key(), peer_id_of(&key));
    assert!(non_identity(l.record()).is_empty());
    assert_eq!(Enr::decode(&l.record().encode()).unwrap(), *l.record());
}

#[test]
fn a_change_after_seq_zero_gives_seq_one() {
    // geth TestSeq: signed at seq 0, Set(UDP(2)) then sign -> seq 1.
    let mut l = LocalEnr::new(sk(KEY), 0);
    assert!(l.set_endpoint(None, 0, 2));
    assert_eq!(l.seq(), 1);
    assert_eq!(l.record().udp4(), Some(2));
}

#[test]
fn endpoint_follows_the_ip_family_and_replaces_the_old_one() {
    let mut l = LocalEnr::new(sk(KEY), 10);
    let v4 = IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4));
    assert!(l.set_endpoint(Some(v4), 30303, 30301));
    let r = l.record();
    assert_eq!(r.ip4(), Some(Ipv4Addr::new(1, 2, 3, 4)));
    assert_eq!((r.tcp4(), r.udp4()), (Some(30303), Some(30301)));
    assert_eq!(l.seq(), 11);

    let ip6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
    assert!(l.set_endpoint(Some(IpAddr::V6(ip6)), 30303, 30303));
    let r = l.record();
    assert_eq!(r.ip6(), Some(ip6));
    assert_eq!((r.tcp6(), r.udp6()), (Some(30303), Some(30303)));
    assert_eq!((r.ip4(), r.tcp4(), r.udp4()), (None, None, None));
    assert_eq!(l.seq(), 12);

    // None removes the IP; port 0 means no entry.
    assert!(l.set_endpoint(None, 0, 30303));
    let r = l.record();
    assert_eq!(
        (r.ip4(), r.ip6(), r.tcp4(), r.tcp6()),
        (None, None, None, None)
    );
    assert_eq!(r.udp4(), Some(30303));
    assert_eq!(l.seq(), 13);

    assert!(l.set_endpoint(None, 0, 0));
    assert!(non_identity(l.record()).is_empty());
}

#[test]
fn no_op_changes_keep_the_record_and_seq() {
    let mut l = LocalEnr::new(sk(KEY), 3);
    let ip = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert!(l.set_endpoint(ip, 1, 2));
    let before = l.record().clone();
    assert!(!l.set_endpoint(ip, 1, 2));
    assert!(l.set_entry(b"eth", h("c7c68488cf81d980")));
    let before_eth = l.record().clone();
    assert!(!l.set_entry(b"eth", h("c7c68488cf81d980")));
    assert_eq!(*l.record(), before_eth);
    assert!(!l.remove_entry(b"absent"));
    assert!(l.remove_entry(b"eth"));
    assert!(!l.remove_entry(b"eth"));
    // Same entries as `before`, but a newer version of the record.
    assert_eq!(non_identity(l.record()), non_identity(&before));
    assert_eq!(l.seq(), before.seq() + 2);
}

#[test]
fn refused_changes_leave_the_record_untouched() {
    let mut l = LocalEnr::new(sk(KEY), 7);
    let before = l.record().clone();
    // Identity entries belong to LocalEnr.
    assert!(!l.set_entry(b"id", h("827635")));
    assert!(!l.set_entry(b"secp256k1", h("80")));
    assert!(!l.remove_entry(b"id"));
    assert!(!l.remove_entry(b"secp256k1"));
    // Not one RLP item.
    assert!(!l.set_entry(b"x", h("0102")));
    assert!(!l.set_entry(b"x", Vec::new()));
    // Too large.
    assert!(!l.set_entry(b"x", item::bytes_item(&[0; MAX_RECORD_BYTES])));
    assert_eq!(*l.record(), before);
    assert_eq!(l.seq(), 7);
}

#[test]
fn the_last_sequence_number_refuses_further_changes() {
    let mut l = LocalEnr::new(sk(KEY), u64::MAX);
    assert_eq!(l.seq(), u64::MAX);
    assert!(!l.set_entry(b"x", h("01")));
    assert_eq!(l.seq(), u64::MAX);
    assert!(non_identity(l.record()).is_empty());
}
