//! Hello codec tests. Vectors transcribed from `shared/vectors/p2p_base.json`: the EIP-8
//! base-protocol Hello (EIPS/eip-8.md at f767a1e8) and go-ethereum's
//! `TestProtocolHandshakeErrors` (`p2p/transport_test.go` at 02b73d4e).

use super::*;
use crate::p2p::P2P_VERSION;
use proptest::prelude::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// EIP-8 "devp2p Base Protocol" Hello: version 55 and three extra trailing list elements
/// (`c883666f6f83626172` = `["foo", "bar"]`, `03`, `04`) that must be ignored.
const EIP8_HELLO: &str = concat!(
    "f87137916b6e6574682f76302e39312f706c616e39cdc5836574683dc6846d6f726b1682270fb840fda1cff6",
    "74c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310df",
    "d5f88a010cd2ffd1005ca406f1842877c883666f6f836261720304"
);
/// static_pub_a of rlpx_handshake.json, the id carried by the EIP-8 Hello.
const STATIC_PUB_A: &str = concat!(
    "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc80",
    "3e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877"
);

fn sample() -> Hello {
    Hello {
        protocol_version: P2P_VERSION,
        client_id: "paxeer/v0.1.0/linux-amd64".into(),
        capabilities: vec![Capability::new("eth", 68), Capability::new("snap", 1)],
        listen_port: 30303,
        id: PeerId::from_hex(STATIC_PUB_A).unwrap(),
    }
}

#[test]
fn eip8_hello_is_accepted() {
    let hello = Hello::decode(&h(EIP8_HELLO)).unwrap();
    assert_eq!(hello.protocol_version, 55);
    assert_eq!(hello.client_id, "kneth/v0.91/plan9");
    assert_eq!(
        hello.capabilities,
        [Capability::new("eth", 61), Capability::new("mork", 22)]
    );
    assert_eq!(hello.listen_port, 9999);
    assert_eq!(hello.id.to_hex(), STATIC_PUB_A);
}

#[test]
fn eip8_hello_without_its_tail_reencodes_exactly() {
    // Our encoding of the decoded fields is the vector minus the three trailing items
    // (9 + 1 + 1 bytes) with the list header adjusted: f871 -> f866.
    let hello = Hello::decode(&h(EIP8_HELLO)).unwrap();
    let full = EIP8_HELLO;
    let body = &full[4..full.len() - 2 * 11];
    assert_eq!(hex::encode(hello.encode()), format!("f866{body}"));
}

#[test]
fn geth_hello_field_rules() {
    // hello_fields_geth: version 5, 2 KiB limit, listen port 0 allowed, id 64 bytes non-zero.
    assert_eq!(P2P_VERSION, 5);
    assert_eq!(MAX_HELLO_BYTES, 2048);
    let mut hello = sample();
    hello.listen_port = 0;
    let enc = hello.encode();
    assert_eq!(&enc[..2], [0xf8, enc.len() as u8 - 2]);
    assert_eq!(enc[2], 0x05, "version 5 as a single-byte uint");
    assert_eq!(Hello::decode(&enc).unwrap(), hello);
}

#[test]
fn geth_handshake_error_cases() {
    // rlp(2050 zero bytes): "message too big".
    let mut big = vec![0xb9, 0x08, 0x02];
    big.extend_from_slice(&[0; 2050]);
    assert_eq!(Hello::decode(&big), Err(HelloError::TooLarge(2053)));
    // 83010203: a string, not a list.
    assert!(matches!(
        Hello::decode(&h("83010203")),
        Err(HelloError::Malformed(_))
    ));
    // rlp(protoHandshake{Version: 3}) = [3, "", [], 0, ""]: invalid identity.
    assert_eq!(
        Hello::decode(&h("c50380c08080")),
        Err(HelloError::InvalidId)
    );
}

#[test]
fn size_limit_is_inclusive() {
    // A Hello padded with a trailing element to exactly MAX_HELLO_BYTES is accepted.
    let base = sample().encode();
    assert_eq!(base[0], 0xf8, "sample() has a short (f8 xx) list header");
    let payload_len = MAX_HELLO_BYTES - 3; // f9 + 2 length bytes
    let pad = payload_len - (base.len() - 2) - 3; // trailing string b9 xx xx + pad bytes
    let mut p = vec![0xf9];
    p.extend_from_slice(&(payload_len as u16).to_be_bytes());
    p.extend_from_slice(&base[2..]);
    p.push(0xb9);
    p.extend_from_slice(&(pad as u16).to_be_bytes());
    p.extend(std::iter::repeat_n(0x61, pad));
    assert_eq!(p.len(), MAX_HELLO_BYTES);
    assert_eq!(Hello::decode(&p).unwrap(), sample());
    p.push(0);
    assert_eq!(
        Hello::decode(&p),
        Err(HelloError::TooLarge(MAX_HELLO_BYTES + 1))
    );
}

/// Builds a Hello list from raw RLP items.
fn list(items: &[&[u8]]) -> Vec<u8> {
    let mut s = rlp::RlpStream::new_list(items.len());
    for i in items {
        s.append_raw(i, 1);
    }
    s.out().to_vec()
}

fn rlp_id(id: &[u8]) -> Vec<u8> {
    rlp::encode(&id).to_vec()
}

#[test]
fn id_must_be_64_nonzero_bytes() {
    let caps = h("c6c58365746844"); // [["eth", 68]]
    for (id, ok) in [
        (vec![1u8; 64], true),
        (vec![0u8; 64], false),
        (vec![1u8; 63], false),
        (vec![1u8; 65], false),
        (vec![], false),
    ] {
        let p = list(&[&[5], &h("80"), &caps, &h("80"), &rlp_id(&id)]);
        let r = Hello::decode(&p);
        if ok {
            assert_eq!(r.unwrap().id, PeerId([1; 64]));
        } else {
            assert_eq!(r, Err(HelloError::InvalidId), "id of {} bytes", id.len());
        }
    }
    // An id that is a list is not the shape of a Hello.
    let p = list(&[&[5], &h("80"), &caps, &h("80"), &h("c0")]);
    assert!(matches!(Hello::decode(&p), Err(HelloError::Malformed(_))));
}

#[test]
fn forward_compatible_shapes() {
    let id = rlp_id(&[7u8; 64]);
    // Extra elements inside a capability entry and after the id are ignored.
    let caps = h("cbca836574684483666f6f01"); // [["eth", 68, "foo", 1]]
    let p = list(&[
        &h("8203e8"),
        &h("836162c3"),
        &caps,
        &h("82765f"),
        &id,
        &h("c3010203"),
        &[9],
    ]);
    let hello = Hello::decode(&p).unwrap();
    assert_eq!(hello.protocol_version, 1000);
    assert_eq!(
        hello.client_id, "ab\u{fffd}",
        "non-UTF-8 client id decoded lossily"
    );
    assert_eq!(hello.capabilities, [Capability::new("eth", 68)]);
    assert_eq!(hello.listen_port, 0x765f);
    // Capability versions beyond 32 bits cannot match anything and are dropped.
    let e1 = list(&[&h("83657468"), &h("85ffffffffff")]); // ["eth", 2^40 - 1]
    let e2 = list(&[&h("83657468"), &h("820201")]); // ["eth", 513]
    let caps = list(&[&e1, &e2]);
    let p = list(&[&[5], &h("80"), &caps, &h("80"), &id]);
    assert_eq!(
        Hello::decode(&p).unwrap().capabilities,
        [Capability::new("eth", 513)]
    );
}

#[test]
fn malformed_shapes() {
    let id = rlp_id(&[7u8; 64]);
    let caps = h("c6c58365746844");
    let bad = |p: Vec<u8>, what: &str| {
        assert!(
            matches!(Hello::decode(&p), Err(HelloError::Malformed(_))),
            "{what}: {:?}",
            Hello::decode(&p)
        );
    };
    bad(vec![], "empty");
    bad(h("c0"), "empty list");
    bad(list(&[&[5], &h("80"), &caps, &h("80")]), "no id");
    bad(
        list(&[&[5], &h("80"), &caps, &h("83010000"), &id]),
        "port > 65535",
    );
    bad(
        list(&[&h("c0"), &h("80"), &caps, &h("80"), &id]),
        "version is a list",
    );
    bad(
        list(&[&h("00"), &h("80"), &caps, &h("80"), &id]),
        "non-canonical zero",
    );
    bad(
        list(&[&h("820001"), &h("80"), &caps, &h("80"), &id]),
        "leading zero",
    );
    bad(
        list(&[&h("89010000000000000000"), &h("80"), &caps, &h("80"), &id]),
        "version > u64",
    );
    bad(
        list(&[&[5], &h("c0"), &caps, &h("80"), &id]),
        "client id is a list",
    );
    bad(
        list(&[&[5], &h("80"), &h("80"), &h("80"), &id]),
        "caps is a string",
    );
    bad(
        list(&[&[5], &h("80"), &h("c180"), &h("80"), &id]),
        "cap entry is a string",
    );
    bad(
        list(&[&[5], &h("80"), &h("c2c180"), &h("80"), &id]),
        "cap entry too short",
    );
    bad(
        list(&[&[5], &h("80"), &h("c4c3c08080"), &h("80"), &id]),
        "cap name is a list",
    );
    let mut p = list(&[&[5], &h("80"), &caps, &h("80"), &id]);
    p.push(0x80);
    bad(p, "trailing bytes");
    let mut p = list(&[&[5], &h("80"), &caps, &h("80"), &id]);
    p.pop();
    bad(p, "truncated");
    // A malformed trailing element: list header says 2 bytes of payload, has 1.
    let good = list(&[&[5], &h("80"), &caps, &h("80"), &id]);
    let mut p = good.clone();
    p.extend_from_slice(&h("c201"));
    let len = p.len() - 2;
    p[0] = 0xf8;
    p[1] = len as u8;
    bad(p, "malformed tail item");
}

fn arb_hello() -> impl Strategy<Value = Hello> {
    (
        any::<u64>(),
        ".{0,40}",
        prop::collection::vec(("[a-z]{0,8}", any::<u32>()), 0..10),
        any::<u16>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
    )
        .prop_filter_map("all-zero id", |(v, client, caps, port, a, b)| {
            let mut id = [0u8; 64];
            id[..32].copy_from_slice(&a);
            id[32..].copy_from_slice(&b);
            if id.iter().all(|&x| x == 0) {
                return None;
            }
            Some(Hello {
                protocol_version: v,
                client_id: client,
                capabilities: caps
                    .into_iter()
                    .map(|(n, v)| Capability::new(n, v))
                    .collect(),
                listen_port: port,
                id: PeerId(id),
            })
        })
}

proptest! {
    #[test]
    fn encode_decode_round_trip(hello in arb_hello()) {
        let enc = hello.encode();
        prop_assume!(enc.len() <= MAX_HELLO_BYTES);
        prop_assert_eq!(Hello::decode(&enc).unwrap(), hello);
    }

    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Hello::decode(&bytes);
    }

    #[test]
    fn decode_never_panics_on_mutated_hellos(
        hello in arb_hello(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut enc = hello.encode();
        for (i, x) in flips {
            let i = i.index(enc.len());
            enc[i] ^= x;
        }
        let _ = Hello::decode(&enc);
        let _ = Hello::decode(&enc[..cut.index(enc.len() + 1)]);
    }
}
