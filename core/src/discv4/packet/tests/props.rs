//! Properties: round trips for every type, the Neighbors size bound, totality of `decode` on
//! arbitrary, sealed, random-RLP and mutated inputs, and tamper detection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use rlp::RlpStream;

use super::*;

fn arb_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        // Canonical addresses only: IPv4-mapped ones decode as IPv4 by design.
        any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b)).to_canonical()),
    ]
}

fn arb_ipv6() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 16]>()
        .prop_filter("not IPv4-mapped", |b| {
            Ipv6Addr::from(*b).to_ipv4_mapped().is_none()
        })
        .prop_map(|b| IpAddr::V6(Ipv6Addr::from(b)))
}

fn arb_endpoint() -> impl Strategy<Value = Endpoint> {
    (arb_ip(), any::<u16>(), any::<u16>()).prop_map(|(ip, udp, tcp)| Endpoint::new(ip, udp, tcp))
}

fn arb_peer() -> impl Strategy<Value = PeerId> {
    any::<[[u8; 32]; 2]>().prop_map(|[a, b]| {
        let mut id = [0u8; 64];
        id[..32].copy_from_slice(&a);
        id[32..].copy_from_slice(&b);
        PeerId(id)
    })
}

fn arb_node(ip: BoxedStrategy<IpAddr>) -> impl Strategy<Value = NodeRecord> {
    (ip, any::<u16>(), any::<u16>(), arb_peer())
        .prop_map(|(ip, udp, tcp, id)| NodeRecord::new(Endpoint::new(ip, udp, tcp), id))
}

/// Any packet.
fn arb_packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        (
            any::<u64>(),
            arb_endpoint(),
            arb_endpoint(),
            any::<u64>(),
            any::<Option<u64>>()
        )
            .prop_map(
                |(version, from, to, expiration, enr_seq)| Packet::Ping(Ping {
                    version,
                    from,
                    to,
                    expiration,
                    enr_seq
                })
            ),
        (
            arb_endpoint(),
            any::<[u8; 32]>(),
            any::<u64>(),
            any::<Option<u64>>()
        )
            .prop_map(|(to, ping_hash, expiration, enr_seq)| Packet::Pong(Pong {
                to,
                ping_hash,
                expiration,
                enr_seq
            })),
        (arb_peer(), any::<u64>())
            .prop_map(|(target, expiration)| Packet::FindNode(FindNode { target, expiration })),
        (
            prop::collection::vec(arb_node(arb_ip().boxed()), 0..=MAX_NEIGHBORS),
            any::<u64>()
        )
            .prop_map(|(nodes, expiration)| Packet::Neighbors(Neighbors { nodes, expiration })),
        any::<u64>().prop_map(|expiration| Packet::EnrRequest(EnrRequest { expiration })),
        arb_enr_response(),
    ]
}

/// A random RLP item of bounded depth, to reach deep into the body parsers.
fn arb_rlp() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..70).prop_map(|b| rlp::encode(&b).to_vec()),
        any::<u64>().prop_map(|v| rlp::encode(&v).to_vec()),
        prop::collection::vec(any::<u8>(), 0..4),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop::collection::vec(inner, 0..8).prop_map(|items| {
            let mut s = RlpStream::new_list(items.len());
            for i in &items {
                s.append_raw(i, 1);
            }
            s.out().to_vec()
        })
    })
}

fn secret_key() -> impl Strategy<Value = SecretKey> {
    // [0xff; 32] is above the curve order.
    (1u8..=254).prop_map(key)
}

proptest! {
    #[test]
    fn every_packet_round_trips(p in arb_packet(), k in secret_key()) {
        let (datagram, hash) = encode(&p, &k);
        prop_assert!(datagram.len() <= MAX_PACKET_BYTES);
        let d = decode(&datagram).unwrap();
        prop_assert_eq!(&d.packet, &p);
        prop_assert_eq!(d.hash, hash);
        prop_assert_eq!(d.sender, peer_id_of(&k));
    }

    #[test]
    fn twelve_ipv6_neighbors_fit_and_round_trip(
        nodes in prop::collection::vec(arb_node(arb_ipv6().boxed()), MAX_NEIGHBORS),
        expiration in any::<u64>(),
    ) {
        let p = Packet::Neighbors(Neighbors { nodes, expiration });
        let (datagram, _) = encode(&p, &key(1));
        prop_assert!(datagram.len() <= MAX_PACKET_BYTES, "{} bytes", datagram.len());
        prop_assert_eq!(decode(&datagram).unwrap().packet, p);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1400)) {
        fuzz_decode(&bytes);
    }

    #[test]
    fn arbitrary_sealed_bodies_never_panic(
        kind in 0u8..=8,
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        fuzz_decode(&seal(kind, &body, &key(1)));
    }

    #[test]
    fn random_rlp_bodies_never_panic(
        kind in 1u8..=7,
        body in arb_rlp(),
        trailing in prop::collection::vec(any::<u8>(), 0..4),
    ) {
        let mut body = body;
        body.extend_from_slice(&trailing);
        if HEADER_BYTES + 1 + body.len() <= MAX_PACKET_BYTES {
            fuzz_decode(&seal(kind, &body, &key(1)));
        }
    }

    #[test]
    fn mutated_valid_bodies_never_panic(
        p in arb_packet(),
        kind in 1u8..=6,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let (datagram, _) = encode(&p, &key(1));
        let mut body = datagram[HEADER_BYTES + 1..].to_vec();
        for (at, byte, op) in edits {
            let i = at.index(body.len() + 1);
            match op {
                0 if i < body.len() => body[i] = byte,
                1 => body.insert(i, byte),
                _ => body.truncate(i),
            }
        }
        fuzz_decode(&seal(kind, &body, &key(1)));
    }

    #[test]
    fn tampering_never_yields_another_packet_from_the_same_sender(
        p in arb_packet(),
        at in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let k = key(1);
        let (datagram, _) = encode(&p, &k);
        let i = at.index(datagram.len());
        let mut bad = datagram.clone();
        bad[i] ^= mask;
        prop_assert_eq!(decode(&bad), Err(PacketError::BadHash));
        if i >= HASH_BYTES {
            rehash(&mut bad);
            if let Ok(d) = decode(&bad) {
                prop_assert_ne!(d.sender, peer_id_of(&k));
            }
        }
    }
}

fn arb_enr_response() -> impl Strategy<Value = Packet> {
    (
        any::<[u8; 32]>(),
        any::<u64>(),
        arb_ip(),
        any::<u16>(),
        any::<u16>(),
        secret_key(),
    )
        .prop_map(|(request_hash, seq, ip, udp, tcp, k)| {
            let record = Enr::builder()
                .seq(seq)
                .ip(ip)
                .udp(udp)
                .tcp(tcp)
                .sign(&k)
                .unwrap();
            Packet::EnrResponse(EnrResponse {
                request_hash,
                record,
            })
        })
}
