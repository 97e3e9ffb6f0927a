//! Known-answer tests. Every packet is transcribed from `shared/vectors/discv4_packets.json`,
//! which collects go-ethereum's `p2p/discover/v4wire/v4wire_test.go` (`testPackets`, at
//! 02b73d4e; the ping-v555 and pong vectors from the older 32c1ed8a) and the "RLPx Discovery
//! Protocol" vectors of EIPS/eip-8.md (at f767a1e8). All are signed by the same key.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rlp::Rlp;

use super::*;
use crate::crypto::keys::secret_key_from_bytes;

/// `private_key` of the vector file (also the EIP-778 example record's key).
const KEY: &str = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
/// `public_key`: the sender every vector must recover.
const SENDER: &str = concat!(
    "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138",
    "7574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f"
);
/// `node_id`: keccak256 of the sender key.
const SENDER_NODE_ID: &str = "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7";
/// `expiration_all_vectors`.
const EXPIRATION: u64 = 1136239445;

/// geth `testPackets[0]`: Ping version 4, no enr-seq, nothing extra.
const PING_V4: &str = concat!(
    "71dbda3a79554728d4f94411e42ee1f8b0d561c10e1e5f5893367948c6a7d70bb87b235fa28a77070271b6c1",
    "64a2dce8c7e13a5739b53b5e96f2e5acb0e458a02902f5965d55ecbeb2ebb6cabb8b2b232896a36b737666c5",
    "5265ad0a68412f250001ea04cb847f000001820cfa8215a8d790000000000000000000000000000000018208",
    "ae820d058443b9a355",
);
/// geth `testPackets[1]`, EIP-8 "ping packet with version 4, additional list elements":
/// enr-seq 1, then an extra `02`.
const PING_ENR_SEQ_EXTRA: &str = concat!(
    "e9614ccfd9fc3e74360018522d30e1419a143407ffcce748de3e22116b7e8dc92ff74788c0b6663aaa3d67d6",
    "41936511c8f8d6ad8698b820a7cf9e1be7155e9a241f556658c55428ec0563514365799a4be2be5a685a8097",
    "1ddcfa80cb422cdd0101ec04cb847f000001820cfa8215a8d790000000000000000000000000000000018208",
    "ae820d058443b9a3550102",
);
/// geth `testPackets[2]`, EIP-8 "findnode packet with additional list elements and additional
/// random data": extras `829999`, `83999999`, then 57 trailing bytes.
const FINDNODE_EXTRA: &str = concat!(
    "c7c44041b9f7c7e41934417ebac9a8e1a4c6298f74553f2fcfdcae6ed6fe53163eb3d2b52e39fe91831b8a92",
    "7bf4fc222c3902202027e5e9eb812195f95d20061ef5cd31d502e47ecb61183f74a504fe04c51e73df81f25c",
    "4d506b26db4517490103f84eb840ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd",
    "31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f8443b9a3558299998399",
    "9999280dc62cc8255c73471e0a61da0c89acdc0e035e260add7fc0c04ad9ebf3919644c91cb247affc82b69b",
    "d2ca235c71eab8e49737c937a2c396",
);
/// geth `testPackets[3]`, EIP-8 "neighbours packet with additional list elements and
/// additional random data": four nodes (two IPv4, two IPv6), extras `01 02 03`, 13 trailing.
const NEIGHBORS_EXTRA: &str = concat!(
    "c679fc8fe0b8b12f06577f2e802d34f6fa257e6137a995f6f4cbfc9ee50ed3710faf6e66f932c4c8d81d6434",
    "3f429651328758b47d3dbc02c4042f0fff6946a50f4a49037a72bb550f3a7872363a83e1b9ee6469856c24eb",
    "4ef80b7535bcf99c0004f9015bf90150f84d846321163782115c82115db8403155e1427f85f10a5c9a775587",
    "7748041af1bcd8d474ec065eb33df57a97babf54bfd2103575fa829115d224c523596b401065a97f74010610",
    "fce76382c0bf32f84984010203040101b840312c55512422cf9b8a4097e9a6ad79402e87a15ae909a4bfefa2",
    "2398f03d20951933beea1e4dfa6f968212385e829f04c2d314fc2d4e255e0d3bc08792b069dbf8599020010d",
    "b83c4d001500000000abcdef12820d05820d05b84038643200b172dcfef857492156971f0e6aa2c538d8b740",
    "10f8e140811d53b98c765dd2d96126051913f44582e8c199ad7c6d6819e9a56483f637feaac9448aacf85990",
    "20010db885a308d313198a2e037073488203e78203e8b8408dcab8618c3253b558d459da53bd8fa68935a719",
    "aff8b811197101a4b2b47dd2d47295286fc00cc081bb542d760717d1bdd6bec2c37cd72eca367d6dd3b9df73",
    "8443b9a355010203b525a138aa34383fec3d2719a0",
);
/// EIP-8 "ping packet with version 555, additional list elements and additional random data".
/// Its fifth element is the list `c50102030405` where EIP-868 later put the enr-seq, so
/// go-ethereum has rejected it since 3e6f46ca (#22842); we treat it as an unknown extra.
const PING_V555: &str = concat!(
    "577be4349c4dd26768081f58de4c6f375a7a22f3f7adda654d1428637412c3d7fe917cadc56d4e5e7ffae1db",
    "e3efffb9849feb71b262de37977e7c7a44e677295680e9e38ab26bee2fcbae207fba3ff3d74069a50b902a82",
    "c9903ed37cc993c50001f83e82022bd79020010db83c4d001500000000abcdef12820cfa8215a8d79020010d",
    "b885a308d313198a2e037073488208ae82823a8443b9a355c5010203040531b9019afde696e582a78fa8d95e",
    "a13ce3297d4afb8ba6433e4154caa5ac6431af1b80ba76023fa4090c408f6b4bc3701562c031041d4702971d",
    "102c9ab7fa5eed4cd6bab8f7af956f7d565ee1917084a95398b6a21eac920fe3dd1345ec0a7ef39367ee69dd",
    "f092cbfe5b93e5e568ebc491983c09c76d922dc3",
);
/// EIP-8 "pong packet with additional list elements and additional random data". Its fourth
/// element is the list `c6010203c20405` (the enr-seq position since EIP-868), then `06`.
const PONG_EXTRA: &str = concat!(
    "09b2428d83348d27cdf7064ad9024f526cebc19e4958f0fdad87c15eb598dd61d08423e0bf66b2069869e172",
    "4125f820d851c136684082774f870e614d95a2855d000f05d1648b2d5945470bc187c2d2216fbe870f43ed09",
    "09009882e176a46b0102f846d79020010db885a308d313198a2e037073488208ae82823aa0fbc914b1681923",
    "7dcd8801d7e53f69e9719adecb3cc0e790c57e91ca4461c9548443b9a355c6010203c2040506a0c969a58f6f",
    "9095004c0177a6b47f451530cab38966a25cca5cb58f055542124e",
);

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn key() -> SecretKey {
    secret_key_from_bytes(&h(KEY)).unwrap()
}

fn peer(s: &str) -> PeerId {
    PeerId::from_hex(s).unwrap()
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse::<Ipv6Addr>().unwrap())
}

/// The raw hex of every element of the first RLP list after the type byte, and the number of
/// bytes after that list: lets a test show which elements the decoder had to skip.
fn body_layout(datagram: &[u8]) -> (Vec<String>, usize) {
    let body = &datagram[HEADER_BYTES + 1..];
    let total = Rlp::new(body).payload_info().unwrap().total();
    let list = Rlp::new(&body[..total]);
    let items = list.iter().map(|i| hex::encode(i.as_raw())).collect();
    (items, body.len() - total)
}

/// Decodes `hex`, checks hash, sender and packet, the skipped elements (`extras`, from the
/// vector's `rest` / `element_N_not_uint`) and trailing byte count, then re-encodes the packet
/// with the vector key and checks it decodes to the same thing. Returns our re-encoding.
fn check(hex: &str, want: Packet, known_items: usize, extras: &[&str], trailing: usize) -> Vec<u8> {
    let datagram = h(hex);
    let d = decode(&datagram).unwrap();
    assert_eq!(d.packet, want);
    assert_eq!(d.hash.to_vec(), datagram[..32].to_vec());
    assert_eq!(d.sender, peer(SENDER));
    assert_eq!(d.sender.node_id().to_string(), SENDER_NODE_ID);

    let (items, trailing_bytes) = body_layout(&datagram);
    assert_eq!(&items[known_items..], extras);
    assert_eq!(trailing_bytes, trailing);

    let (again, hash) = encode(&d.packet, &key());
    let d2 = decode(&again).unwrap();
    assert_eq!(d2.packet, want);
    assert_eq!(d2.hash, hash);
    assert_eq!(d2.sender, peer(SENDER));
    fuzz_decode(&datagram);
    again
}

fn ping_from_to() -> (Endpoint, Endpoint) {
    (
        Endpoint::new(v4([127, 0, 0, 1]), 3322, 5544),
        Endpoint::new(v6("::1"), 2222, 3333),
    )
}

#[test]
fn vector_ping_v4_decodes_and_reencodes_to_the_same_signed_bytes() {
    let (from, to) = ping_from_to();
    let want = Packet::Ping(Ping {
        version: 4,
        from,
        to,
        expiration: EXPIRATION,
        enr_seq: None,
    });
    let again = check(PING_V4, want, 4, &[], 0);
    // Type and body are byte-identical. The signature is not: ours is RFC 6979 and the
    // vector's (low-S, V = 0) was made with some other nonce, so the hash differs too.
    assert_eq!(
        hex::encode(&again[HEADER_BYTES..]),
        &PING_V4[2 * HEADER_BYTES..]
    );
    assert_ne!(
        hex::encode(&again[..HEADER_BYTES]),
        &PING_V4[..2 * HEADER_BYTES]
    );
}

#[test]
fn vector_ping_with_enr_seq_and_extra_element_is_accepted() {
    let (from, to) = ping_from_to();
    let want = Packet::Ping(Ping {
        version: 4,
        from,
        to,
        expiration: EXPIRATION,
        enr_seq: Some(1),
    });
    let again = check(PING_ENR_SEQ_EXTRA, want, 5, &["02"], 0);
    // Without the extra `02` the signed bytes differ, so only the body can be compared.
    assert_ne!(hex::encode(&again), PING_ENR_SEQ_EXTRA);
    assert_eq!(
        hex::encode(&again[HEADER_BYTES..]),
        "01eb04cb847f000001820cfa8215a8d790000000000000000000000000000000018208ae820d058443b9a35501"
    );
}

#[test]
fn vector_findnode_with_extra_elements_and_trailing_data_is_accepted() {
    let want = Packet::FindNode(FindNode {
        target: peer(SENDER),
        expiration: EXPIRATION,
    });
    check(FINDNODE_EXTRA, want, 2, &["829999", "83999999"], 57);
}

#[test]
fn vector_neighbors_with_extra_elements_and_trailing_data_is_accepted() {
    let node = |ip, udp, tcp, id: &str| NodeRecord::new(Endpoint::new(ip, udp, tcp), peer(id));
    let want = Packet::Neighbors(Neighbors {
        nodes: vec![
            node(
                v4([99, 33, 22, 55]),
                4444,
                4445,
                "3155e1427f85f10a5c9a7755877748041af1bcd8d474ec065eb33df57a97babf54bfd2103575fa829115d224c523596b401065a97f74010610fce76382c0bf32",
            ),
            node(
                v4([1, 2, 3, 4]),
                1,
                1,
                "312c55512422cf9b8a4097e9a6ad79402e87a15ae909a4bfefa22398f03d20951933beea1e4dfa6f968212385e829f04c2d314fc2d4e255e0d3bc08792b069db",
            ),
            node(
                v6("2001:db8:3c4d:15::abcd:ef12"),
                3333,
                3333,
                "38643200b172dcfef857492156971f0e6aa2c538d8b74010f8e140811d53b98c765dd2d96126051913f44582e8c199ad7c6d6819e9a56483f637feaac9448aac",
            ),
            node(
                v6("2001:db8:85a3:8d3:1319:8a2e:370:7348"),
                999,
                1000,
                "8dcab8618c3253b558d459da53bd8fa68935a719aff8b811197101a4b2b47dd2d47295286fc00cc081bb542d760717d1bdd6bec2c37cd72eca367d6dd3b9df73",
            ),
        ],
        expiration: EXPIRATION,
    });
    check(NEIGHBORS_EXTRA, want, 2, &["01", "02", "03"], 13);
}

#[test]
fn vector_ping_v555_with_a_list_where_enr_seq_goes_is_accepted_without_enr_seq() {
    let want = Packet::Ping(Ping {
        version: 555,
        from: Endpoint::new(v6("2001:db8:3c4d:15::abcd:ef12"), 3322, 5544),
        to: Endpoint::new(v6("2001:db8:85a3:8d3:1319:8a2e:370:7348"), 2222, 33338),
        expiration: EXPIRATION,
        enr_seq: None,
    });
    check(PING_V555, want, 4, &["c50102030405"], 122);
}

#[test]
fn vector_pong_with_a_list_where_enr_seq_goes_is_accepted_without_enr_seq() {
    let mut ping_hash = [0u8; 32];
    ping_hash.copy_from_slice(&h(
        "fbc914b16819237dcd8801d7e53f69e9719adecb3cc0e790c57e91ca4461c954",
    ));
    let want = Packet::Pong(Pong {
        to: Endpoint::new(v6("2001:db8:85a3:8d3:1319:8a2e:370:7348"), 2222, 33338),
        ping_hash,
        expiration: EXPIRATION,
        enr_seq: None,
    });
    check(PONG_EXTRA, want, 3, &["c6010203c20405", "06"], 33);
}

#[test]
fn vector_hashes_are_the_documented_ones() {
    // `expected.hash` of each vector, which is also its first 32 bytes.
    for (hex, hash) in [
        (
            PING_V4,
            "71dbda3a79554728d4f94411e42ee1f8b0d561c10e1e5f5893367948c6a7d70b",
        ),
        (
            PING_ENR_SEQ_EXTRA,
            "e9614ccfd9fc3e74360018522d30e1419a143407ffcce748de3e22116b7e8dc9",
        ),
        (
            FINDNODE_EXTRA,
            "c7c44041b9f7c7e41934417ebac9a8e1a4c6298f74553f2fcfdcae6ed6fe5316",
        ),
        (
            NEIGHBORS_EXTRA,
            "c679fc8fe0b8b12f06577f2e802d34f6fa257e6137a995f6f4cbfc9ee50ed371",
        ),
        (
            PING_V555,
            "577be4349c4dd26768081f58de4c6f375a7a22f3f7adda654d1428637412c3d7",
        ),
        (
            PONG_EXTRA,
            "09b2428d83348d27cdf7064ad9024f526cebc19e4958f0fdad87c15eb598dd61",
        ),
    ] {
        assert_eq!(hex::encode(decode(&h(hex)).unwrap().hash), hash);
    }
}

/// The EIP-778 example record (`enr.json` `eip778_example.rlp_hex`), signed by the same key
/// as the packet vectors, so an ENRResponse carrying it is self-consistent.
pub(super) const EIP778_RECORD: &str = concat!(
    "f884b8407098ad865b00a582051940cb9cf36836572411a47278783077011599ed5cd16b76f2635f4e234738",
    "f30813a89eb9137e3e3df5266e3a1f11df72ecf1145ccb9c01826964827634826970847f00000189736563",
    "703235366b31a103ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138837564",
    "7082765f",
);

#[test]
fn enr_response_with_the_eip778_record_round_trips_byte_for_byte() {
    let record = Enr::decode(&h(EIP778_RECORD)).unwrap();
    let want = Packet::EnrResponse(EnrResponse {
        request_hash: [0xab; 32],
        record,
    });
    let (datagram, hash) = encode(&want, &key());
    let d = decode(&datagram).unwrap();
    assert_eq!(d.packet, want);
    assert_eq!(d.hash, hash);
    assert_eq!(d.sender, peer(SENDER));
    // The record is carried verbatim: body = [request-hash, record].
    let (items, trailing) = body_layout(&datagram);
    assert_eq!(
        items,
        vec![format!("a0{}", "ab".repeat(32)), EIP778_RECORD.to_string()]
    );
    assert_eq!(trailing, 0);
    let Packet::EnrResponse(r) = d.packet else {
        unreachable!()
    };
    assert_eq!(r.record.public_key(), peer(SENDER));
}
