//! Record rules: go-ethereum's `TestDecodeIncomplete`, the size limit, key order, the unsigned
//! encoding sizes and sorted-set cases of `p2p/enr/enr_test.go` (enr.json `record_decode_cases`
//! and `record_rules`), and the predefined keys.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::enr::record::{encode_fields, parse};
use crate::enr::{Enr, EnrError, MAX_RECORD_BYTES};

/// A key for records built here (the EIP-778 example key).
const KEY: &str = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

#[test]
fn incomplete_records_are_rejected_at_the_shape_layer() {
    // TestDecodeIncomplete: decoding only, no signature check.
    let less_than_two = EnrError::Malformed("record contains less than two list elements");
    let incomplete = EnrError::Malformed("record contains incomplete k/v pair");
    assert_eq!(parse(&h("c0")).unwrap_err(), less_than_two);
    assert_eq!(parse(&h("c101")).unwrap_err(), less_than_two);
    assert_eq!(parse(&h("c3010203")).unwrap_err(), incomplete);
    assert_eq!(parse(&h("c50102030405")).unwrap_err(), incomplete);

    let (a, b) = (h("c20102"), h("c401020304"));
    let r = parse(&a).unwrap();
    assert_eq!((r.signature, r.seq, r.pairs.len()), (&[1u8][..], 2, 0));
    let r = parse(&b).unwrap();
    assert_eq!(r.pairs, [(&[3u8][..], &[4u8][..])]);

    // They have the shape of a record but no identity scheme.
    assert_eq!(Enr::decode(&h("c20102")), Err(EnrError::UnsupportedScheme));
    assert_eq!(
        Enr::decode(&h("c401020304")),
        Err(EnrError::UnsupportedScheme)
    );
}

#[test]
fn unsigned_record_sizes_match_go_ethereum() {
    // record_rules.size_examples: an empty unsigned record is rlp([ "", 0 ]) = c28080, and one
    // pair k=v adds two bytes (geth's test comment says C58080C26B76, a typo).
    assert_eq!(hex::encode(encode_fields(&[], 0, &[])), "c28080");
    assert_eq!(
        hex::encode(encode_fields(&[], 0, &[(b"k", b"v")])),
        "c480806b76"
    );
}

#[test]
fn signing_enforces_the_300_byte_limit_exactly() {
    let key = sk(KEY);
    let mut saw_max = false;
    let mut saw_over = false;
    for len in 100..250 {
        let value = item::bytes_item(&vec![0xab; len]);
        match Enr::builder().raw(b"x", value).sign(&key) {
            Ok(e) => {
                assert!(e.size() <= MAX_RECORD_BYTES);
                saw_max |= e.size() == MAX_RECORD_BYTES;
                assert_eq!(Enr::decode(&e.encode()).unwrap(), e);
            }
            Err(EnrError::TooLarge(n)) => {
                assert!(n > MAX_RECORD_BYTES);
                saw_over |= n == MAX_RECORD_BYTES + 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(saw_max && saw_over);
}

#[test]
fn decoding_rejects_records_over_300_bytes_even_when_signed() {
    assert_eq!(Enr::decode(&[0u8; 301]), Err(EnrError::TooLarge(301)));
    let key = sk(KEY);
    let mut pairs: Vec<(&[u8], Vec<u8>)> = Vec::new();
    let id = identity(&key);
    for (k, v) in &id {
        pairs.push((k, v.clone()));
    }
    pairs.push((b"z", item::bytes_item(&[0x11; 200])));
    let raw = sign_raw(&key, 1, &pairs);
    assert!(raw.len() > MAX_RECORD_BYTES);
    assert_eq!(Enr::decode(&raw), Err(EnrError::TooLarge(raw.len())));
}

/// A correctly signed record over identity plus `extra`, in the order given.
fn signed_with(extra: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
    let key = sk(KEY);
    let id = identity(&key);
    let mut pairs: Vec<(&[u8], Vec<u8>)> = Vec::new();
    pairs.push((b"id", id[&b"id"[..]].clone()));
    for (k, v) in extra {
        pairs.push((k, v.clone()));
    }
    pairs.push((b"secp256k1", id[&b"secp256k1"[..]].clone()));
    sign_raw(&key, 5, &pairs)
}

#[test]
fn unsorted_or_duplicate_keys_are_rejected_even_when_signed() {
    // Sorted control.
    assert!(Enr::decode(&signed_with(&[(b"ip", h("847f000001")), (b"p", h("01"))])).is_ok());
    // geth: "record key/value pairs are not sorted by key".
    assert_eq!(
        Enr::decode(&signed_with(&[(b"p", h("01")), (b"ip", h("847f000001"))])),
        Err(EnrError::KeysNotSorted)
    );
    // geth: "record contains duplicate key".
    assert_eq!(
        Enr::decode(&signed_with(&[(b"p", h("01")), (b"p", h("01"))])),
        Err(EnrError::KeysNotSorted)
    );
    // Byte order, not length order: "p" < "pp" < "q" (all between "id" and "secp256k1").
    assert!(Enr::decode(&signed_with(&[
        (b"p", h("01")),
        (b"pp", h("01")),
        (b"q", h("01"))
    ]))
    .is_ok());
    assert_eq!(
        Enr::decode(&signed_with(&[
            (b"p", h("01")),
            (b"q", h("01")),
            (b"pp", h("01"))
        ])),
        Err(EnrError::KeysNotSorted)
    );
}

#[test]
fn structural_errors_are_malformed() {
    let good = h("f884b8407098ad865b00a582051940cb9cf36836572411a47278783077011599ed5cd16b76f2635f4e234738f30813a89eb9137e3e3df5266e3a1f11df72ecf1145ccb9c01826964827634826970847f00000189736563703235366b31a103ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31388375647082765f");
    assert!(Enr::decode(&good).is_ok());
    // Trailing bytes after the list.
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(
        Enr::decode(&trailing),
        Err(EnrError::Malformed(_))
    ));
    // Truncated.
    assert!(matches!(
        Enr::decode(&good[..good.len() - 1]),
        Err(EnrError::Malformed(_))
    ));
    // Not a list.
    assert_eq!(
        Enr::decode(&h("83616263")),
        Err(EnrError::Malformed("record is not a list"))
    );
    // A list as signature or key.
    assert!(matches!(
        Enr::decode(&h("c3c00102")),
        Err(EnrError::Malformed(_))
    ));
    assert!(matches!(
        Enr::decode(&h("c48080c001")),
        Err(EnrError::Malformed(_))
    ));
    // A non-canonical seq (leading zero).
    assert!(matches!(
        Enr::decode(&h("c480820001")),
        Err(EnrError::Malformed(_))
    ));
}

#[test]
fn sorted_set_cases_sort_and_replace() {
    // record_rules.sorted_set_cases: Set() keeps pairs sorted, a later Set replaces.
    type Case = (&'static [(&'static str, u8)], &'static [(&'static str, u8)]);
    let cases: [Case; 3] = [
        (
            &[("a", 1), ("c", 2), ("b", 3)],
            &[("a", 1), ("b", 3), ("c", 2)],
        ),
        (
            &[("a", 1), ("c", 2), ("b", 3), ("d", 4), ("a", 5), ("bb", 6)],
            &[("a", 5), ("b", 3), ("bb", 6), ("c", 2), ("d", 4)],
        ),
        (
            &[("c", 2), ("b", 3), ("d", 4), ("a", 5), ("bb", 6)],
            &[("a", 5), ("b", 3), ("bb", 6), ("c", 2), ("d", 4)],
        ),
    ];
    let key = sk(KEY);
    for (input, want) in cases {
        let want: Vec<(Vec<u8>, Vec<u8>)> = want
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), item::uint_item(u64::from(*v))))
            .collect();
        let mut b = Enr::builder();
        let mut local = crate::enr::LocalEnr::new(key, 1);
        for (k, v) in input {
            b = b.raw(k.as_bytes(), item::uint_item(u64::from(*v)));
            local.set_entry(k.as_bytes(), item::uint_item(u64::from(*v)));
        }
        let built = b.sign(&key).unwrap();
        assert_eq!(non_identity(&built), want);
        assert_eq!(non_identity(local.record()), want);
        assert_eq!(Enr::decode(&built.encode()).unwrap(), built);
    }
}

#[test]
fn predefined_endpoint_keys_decode_by_family() {
    let key = sk(KEY);
    let v4 = Enr::builder()
        .ip(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        .tcp(30303)
        .udp(30301)
        .sign(&key)
        .unwrap();
    assert_eq!(v4.ip4(), Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!((v4.tcp4(), v4.udp4()), (Some(30303), Some(30301)));
    assert_eq!((v4.ip6(), v4.tcp6(), v4.udp6()), (None, None, None));
    assert_eq!(v4.get_raw(b"ip"), Some(&h("840a000001")[..]));
    assert_eq!(v4.get_raw(b"tcp"), Some(&h("82765f")[..]));

    // Ports set before the IP still follow its family.
    let ip6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    let v6 = Enr::builder()
        .tcp(1)
        .udp(0)
        .ip(IpAddr::V6(ip6))
        .sign(&key)
        .unwrap();
    assert_eq!(v6.ip6(), Some(ip6));
    assert_eq!((v6.tcp6(), v6.udp6()), (Some(1), Some(0)));
    assert_eq!((v6.ip4(), v6.tcp4(), v6.udp4()), (None, None, None));
    assert_eq!(v6.get_raw(b"udp6"), Some(&h("80")[..]));

    // Ports without an IP use the IPv4 keys.
    let bare = Enr::builder().udp(9).sign(&key).unwrap();
    assert_eq!(bare.udp4(), Some(9));
}

#[test]
fn malformed_predefined_values_read_as_none_but_round_trip() {
    let key = sk(KEY);
    let e = Enr::builder()
        .raw(b"ip", h("850102030405")) // 5 bytes
        .raw(b"ip6", h("847f000001")) // 4 bytes
        .raw(b"tcp", h("83010000")) // 65536
        .raw(b"udp", h("820050")) // leading zero
        .raw(b"tcp6", h("c0")) // a list
        .raw(b"udp6", h("00")) // non-canonical zero
        .sign(&key)
        .unwrap();
    assert_eq!((e.ip4(), e.ip6()), (None, None));
    assert_eq!(
        (e.tcp4(), e.udp4(), e.tcp6(), e.udp6()),
        (None, None, None, None)
    );
    let back = Enr::decode(&e.encode()).unwrap();
    assert_eq!(back.get_raw(b"udp"), Some(&h("820050")[..]));
    assert_eq!(back, e);
}

#[test]
fn unknown_and_list_entries_round_trip_untouched() {
    // `eth` = [[fork hash fc64ec04, fork next 1150000]] (devp2p enr-entries/eth.md), plus
    // an entry with a trailing element and a `quic` port.
    let eth = h("cac984fc64ec0483118c30");
    let odd = h("c6c2010280c103");
    let key = sk(KEY);
    let e = Enr::builder()
        .raw(b"eth", eth.clone())
        .raw(b"zz", odd.clone())
        .raw(b"quic", item::uint_item(9001))
        .sign(&key)
        .unwrap();
    let back = Enr::from_text(&e.to_text()).unwrap();
    assert_eq!(back.get_raw(b"eth"), Some(&eth[..]));
    assert_eq!(back.get_raw(b"zz"), Some(&odd[..]));
    assert_eq!(back.get_raw(b"quic"), Some(&h("822329")[..]));
    assert_eq!(back.encode(), e.encode());
}

#[test]
fn builder_rejects_values_that_are_not_one_rlp_item() {
    let key = sk(KEY);
    for bad in ["", "0102", "83aa", "8105"] {
        assert!(
            matches!(
                Enr::builder().raw(b"x", h(bad)).sign(&key),
                Err(EnrError::Malformed(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn builder_identity_entries_are_always_the_signers() {
    let key = sk(KEY);
    let e = Enr::builder()
        .raw(b"id", h("827635"))
        .raw(b"secp256k1", h("80"))
        .sign(&key)
        .unwrap();
    assert_eq!(e.get_raw(b"id"), Some(&h("827634")[..]));
    assert_eq!(e.public_key(), crate::crypto::keys::peer_id_of(&key));
}

#[test]
fn text_form_is_strict_base64url_without_padding() {
    let e = Enr::builder().sign(&sk(KEY)).unwrap();
    let text = e.to_text();
    let b64 = text.strip_prefix("enr:").unwrap();
    assert!(!b64.contains('=') && !b64.contains('+') && !b64.contains('/'));
    // Padding, standard alphabet, a wrong prefix and whitespace are rejected.
    let padded = format!("{text}==");
    assert_eq!(Enr::from_text(&padded), Err(EnrError::InvalidText));
    let std_alphabet = text.replace('-', "+").replace('_', "/");
    if std_alphabet != text {
        assert_eq!(Enr::from_text(&std_alphabet), Err(EnrError::InvalidText));
    }
    assert_eq!(
        Enr::from_text(&text.replacen("enr:", "ENR:", 1)),
        Err(EnrError::InvalidText)
    );
    assert_eq!(
        Enr::from_text(&format!(" {text}")),
        Err(EnrError::InvalidText)
    );
    // Too long to hold 300 bytes: rejected before decoding.
    let long = format!("enr:{}", "A".repeat(404));
    assert_eq!(Enr::from_text(&long), Err(EnrError::TooLarge(303)));
}
