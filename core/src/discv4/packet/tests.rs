//! Codec tests: hand-built bodies for each rejection rule. Properties are in `props.rs`,
//! ENRResponse-specific cases in `enr_response.rs`, known-answer vectors in
//! `packet/vectors.rs`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rlp::RlpStream;

use super::*;

mod enr_response;
mod props;

fn key(b: u8) -> SecretKey {
    SecretKey::from_slice(&[b; 32]).unwrap()
}

/// A datagram with a valid hash and signature around an arbitrary type byte and body, so the
/// decoder's body checks can be reached with any bytes.
fn seal(kind: u8, body: &[u8], key: &SecretKey) -> Vec<u8> {
    let mut signed = vec![kind];
    signed.extend_from_slice(body);
    let sig = sign_recoverable(&keccak256(&signed), key);
    let mut out = keccak256_concat(&[&sig, &signed]).to_vec();
    out.extend_from_slice(&sig);
    out.extend_from_slice(&signed);
    out
}

/// Recomputes the hash of a datagram, as a forger who changed bytes after it would.
fn rehash(datagram: &mut [u8]) {
    let hash = keccak256(&datagram[HASH_BYTES..]);
    datagram[..HASH_BYTES].copy_from_slice(&hash);
}

fn ep4() -> Endpoint {
    Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 30303, 30304)
}

fn ep6() -> Endpoint {
    Endpoint::new(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        1,
        0,
    )
}

/// One packet of each type.
fn samples() -> Vec<Packet> {
    vec![
        Packet::Ping(Ping {
            version: 4,
            from: ep4(),
            to: ep6(),
            expiration: 1_700_000_000,
            enr_seq: Some(7),
        }),
        Packet::Pong(Pong {
            to: ep4(),
            ping_hash: [3; 32],
            expiration: 1_700_000_000,
            enr_seq: None,
        }),
        Packet::FindNode(FindNode {
            target: PeerId([9; 64]),
            expiration: u64::MAX,
        }),
        Packet::Neighbors(Neighbors {
            nodes: vec![
                NodeRecord::new(ep4(), PeerId([1; 64])),
                NodeRecord::new(ep6(), PeerId([2; 64])),
            ],
            expiration: 0,
        }),
        Packet::EnrRequest(EnrRequest { expiration: 1 }),
        sample_enr_response(),
    ]
}

/// An ENRResponse carrying a fresh record signed by `key(1)`.
fn sample_enr_response() -> Packet {
    let record = Enr::builder()
        .seq(3)
        .ip(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        .udp(30303)
        .tcp(30303)
        .sign(&key(1))
        .unwrap();
    Packet::EnrResponse(EnrResponse {
        request_hash: [0x5a; 32],
        record,
    })
}

/// `[ip, udp, tcp]` with raw byte strings for each field.
fn raw_endpoint(s: &mut RlpStream, ip: &[u8], udp: &[u8], tcp: &[u8]) {
    s.begin_list(3);
    s.append(&ip);
    s.append(&udp);
    s.append(&tcp);
}

/// A Pong body with the given endpoint fields, to probe endpoint rules.
fn pong_with_endpoint(ip: &[u8], udp: &[u8], tcp: &[u8]) -> Vec<u8> {
    let mut s = RlpStream::new_list(3);
    raw_endpoint(&mut s, ip, udp, tcp);
    s.append(&&[0u8; 32][..]);
    s.append(&1u64);
    s.out().to_vec()
}

fn decode_sealed(kind: u8, body: &[u8]) -> Result<Decoded, PacketError> {
    decode(&seal(kind, body, &key(1)))
}

#[test]
fn samples_round_trip_with_the_signer_as_sender() {
    for p in samples() {
        let (datagram, hash) = encode(&p, &key(5));
        let d = decode(&datagram).unwrap();
        assert_eq!(d.packet, p);
        assert_eq!(d.hash, hash);
        assert_eq!(d.sender, peer_id_of(&key(5)));
        assert_eq!(datagram[HEADER_BYTES], p.kind());
    }
}

#[test]
fn encoding_is_deterministic() {
    for p in samples() {
        assert_eq!(encode(&p, &key(5)), encode(&p, &key(5)));
    }
}

#[test]
fn size_limits_are_checked_first() {
    assert_eq!(decode(&[]), Err(PacketError::TooSmall));
    assert_eq!(
        decode(&[0; MIN_PACKET_BYTES - 1]),
        Err(PacketError::TooSmall)
    );
    assert_eq!(decode(&[0; MIN_PACKET_BYTES]), Err(PacketError::BadHash));
    assert_eq!(
        decode(&[0; MAX_PACKET_BYTES + 1]),
        Err(PacketError::TooLarge)
    );
    // A sealed datagram of exactly the maximum size gets past the size check.
    let big = seal(5, &vec![0xc0; MAX_PACKET_BYTES - HEADER_BYTES - 1], &key(1));
    assert_eq!(big.len(), MAX_PACKET_BYTES);
    assert_eq!(decode(&big), Err(PacketError::Malformed("enrrequest")));
}

#[test]
fn smallest_datagrams_get_past_the_size_check() {
    // 98 bytes: header and type, empty body.
    let empty = seal(5, &[], &key(1));
    assert_eq!(empty.len(), MIN_PACKET_BYTES);
    assert_eq!(decode(&empty), Err(PacketError::Malformed("enrrequest")));
    assert_eq!(
        decode(&seal(9, &[], &key(1))),
        Err(PacketError::UnknownType(9))
    );
    assert_eq!(
        decode_sealed(5, &[0x80]).map(|d| d.packet),
        Err(PacketError::Malformed("enrrequest"))
    );
    assert_eq!(
        decode_sealed(5, &[0xc1, 0x80]).map(|d| d.packet),
        Ok(Packet::EnrRequest(EnrRequest { expiration: 0 }))
    );
}

#[test]
fn unknown_types_are_rejected() {
    for kind in [0u8, 7, 0x80, 0xff] {
        assert_eq!(
            decode_sealed(kind, &[0xc0]),
            Err(PacketError::UnknownType(kind))
        );
    }
}

#[test]
fn bad_signatures_are_rejected() {
    let (mut datagram, _) = encode(&samples()[0], &key(1));
    // V must be 0 or 1.
    datagram[HEADER_BYTES - 1] = 2;
    rehash(&mut datagram);
    assert_eq!(decode(&datagram), Err(PacketError::BadSignature));
    // R = 0 recovers nothing.
    datagram[HASH_BYTES..HASH_BYTES + 32].fill(0);
    datagram[HEADER_BYTES - 1] = 0;
    rehash(&mut datagram);
    assert_eq!(decode(&datagram), Err(PacketError::BadSignature));
}

#[test]
fn trailing_bytes_after_the_body_are_ignored() {
    let mut s = RlpStream::new_list(1);
    s.append(&99u64);
    let mut body = s.out().to_vec();
    body.extend_from_slice(&[0xff, 0x00, 0xc5]);
    let d = decode_sealed(5, &body).unwrap();
    assert_eq!(d.packet, Packet::EnrRequest(EnrRequest { expiration: 99 }));
}

#[test]
fn body_that_is_not_a_list_or_truncated_is_malformed() {
    assert_eq!(
        decode_sealed(5, &[0x05]),
        Err(PacketError::Malformed("enrrequest"))
    );
    assert_eq!(
        decode_sealed(5, &[0xc3, 0x01]),
        Err(PacketError::Malformed("enrrequest"))
    );
    assert_eq!(
        decode_sealed(3, &[0xc0]),
        Err(PacketError::Malformed("findnode"))
    );
    // A list whose last item overruns the list payload.
    assert_eq!(
        decode_sealed(5, &[0xc2, 0x82, 0x01, 0x02]),
        Err(PacketError::Malformed("enrrequest"))
    );
}

#[test]
fn non_canonical_integers_are_malformed() {
    for expiration in [
        &[0xc2, 0x81, 0x05][..],
        &[0xc3, 0x82, 0x00, 0x05],
        &[0xc1, 0x00],
        &[0xc3, 0xb8, 0x01, 0x85],
    ] {
        assert_eq!(
            decode_sealed(5, expiration),
            Err(PacketError::Malformed("enrrequest"))
        );
    }
    // Nine bytes do not fit a u64.
    let mut s = RlpStream::new_list(1);
    s.append(&&[1u8; 9][..]);
    assert_eq!(
        decode_sealed(5, &s.out()),
        Err(PacketError::Malformed("enrrequest"))
    );
    // A list is not an integer.
    assert_eq!(
        decode_sealed(5, &[0xc1, 0xc0]),
        Err(PacketError::Malformed("enrrequest"))
    );
}

#[test]
fn endpoint_ip_must_be_4_or_16_bytes() {
    for len in [0usize, 1, 3, 5, 15, 17, 32] {
        let body = pong_with_endpoint(&vec![1; len], &[1], &[1]);
        assert_eq!(
            decode_sealed(2, &body),
            Err(PacketError::Malformed("pong")),
            "ip of {len} bytes"
        );
    }
    for len in [4usize, 16] {
        assert!(decode_sealed(2, &pong_with_endpoint(&vec![1; len], &[1], &[1])).is_ok());
    }
}

#[test]
fn ports_above_65535_are_malformed() {
    let ip = [127, 0, 0, 1];
    assert!(decode_sealed(2, &pong_with_endpoint(&ip, &[0xff, 0xff], &[])).is_ok());
    assert_eq!(
        decode_sealed(2, &pong_with_endpoint(&ip, &[1, 0, 0], &[])),
        Err(PacketError::Malformed("pong"))
    );
    assert_eq!(
        decode_sealed(2, &pong_with_endpoint(&ip, &[1], &[1, 0, 0])),
        Err(PacketError::Malformed("pong"))
    );
}

#[test]
fn ipv4_mapped_ipv6_decodes_as_ipv4_and_is_written_as_4_bytes() {
    let mapped = Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped().octets();
    let d = decode_sealed(2, &pong_with_endpoint(&mapped, &[1], &[2])).unwrap();
    let Packet::Pong(p) = &d.packet else { panic!() };
    assert_eq!(p.to.ip, IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)));
    let as_v6 = Packet::Pong(Pong {
        to: Endpoint::new(IpAddr::V6(Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped()), 1, 2),
        ..p.clone()
    });
    assert_eq!(encode(&as_v6, &key(1)).0, encode(&d.packet, &key(1)).0);
}

#[test]
fn endpoint_with_extra_elements_is_accepted() {
    let mut s = RlpStream::new_list(3);
    s.begin_list(4);
    s.append(&&[10u8, 0, 0, 1][..])
        .append(&30303u16)
        .append(&30304u16)
        .append(&"x");
    s.append(&&[0u8; 32][..]);
    s.append(&1u64);
    let d = decode_sealed(2, &s.out()).unwrap();
    let Packet::Pong(p) = d.packet else { panic!() };
    assert_eq!(p.to, ep4());
}

#[test]
fn endpoint_with_two_elements_is_malformed() {
    let mut s = RlpStream::new_list(3);
    s.begin_list(2).append(&&[10u8, 0, 0, 1][..]).append(&1u16);
    s.append(&&[0u8; 32][..]);
    s.append(&1u64);
    assert_eq!(
        decode_sealed(2, &s.out()),
        Err(PacketError::Malformed("pong"))
    );
}

#[test]
fn hashes_and_keys_must_have_their_exact_size() {
    for len in [31usize, 33] {
        let mut s = RlpStream::new_list(3);
        raw_endpoint(&mut s, &[1, 2, 3, 4], &[1], &[1]);
        s.append(&vec![0u8; len]);
        s.append(&1u64);
        assert_eq!(
            decode_sealed(2, &s.out()),
            Err(PacketError::Malformed("pong")),
            "ping hash {len}"
        );
    }
    for len in [63usize, 65] {
        let mut s = RlpStream::new_list(2);
        s.append(&vec![0u8; len]);
        s.append(&1u64);
        assert_eq!(
            decode_sealed(3, &s.out()),
            Err(PacketError::Malformed("findnode")),
            "target {len}"
        );
        let mut s = RlpStream::new_list(2);
        s.begin_list(1).begin_list(4);
        s.append(&&[1u8, 2, 3, 4][..])
            .append(&1u16)
            .append(&1u16)
            .append(&vec![0u8; len]);
        s.append(&1u64);
        assert_eq!(
            decode_sealed(4, &s.out()),
            Err(PacketError::Malformed("neighbors")),
            "id {len}"
        );
    }
}

#[test]
fn neighbors_ids_that_are_not_curve_points_are_accepted() {
    let p = Packet::Neighbors(Neighbors {
        nodes: vec![
            NodeRecord::new(ep4(), PeerId([0; 64])),
            NodeRecord::new(ep4(), PeerId([0xff; 64])),
        ],
        expiration: 5,
    });
    assert!(PeerId([0xff; 64]).public_key().is_err());
    assert_eq!(decode(&encode(&p, &key(1)).0).unwrap().packet, p);
}

#[test]
fn one_bad_node_makes_neighbors_malformed() {
    let mut s = RlpStream::new_list(2);
    s.begin_list(2);
    s.begin_list(4)
        .append(&&[1u8, 2, 3, 4][..])
        .append(&1u16)
        .append(&1u16)
        .append(&&[7u8; 64][..]);
    s.begin_list(4)
        .append(&&[1u8, 2, 3][..])
        .append(&1u16)
        .append(&1u16)
        .append(&&[7u8; 64][..]);
    s.append(&1u64);
    assert_eq!(
        decode_sealed(4, &s.out()),
        Err(PacketError::Malformed("neighbors"))
    );
}

#[test]
fn ping_with_a_non_integer_fifth_element_has_no_enr_seq() {
    // EIP-8 forward compatibility wins over EIP-868 here: an element that is not a uint64
    // where enr-seq goes is an unknown extra, not an error (see the EIP-8 ping v555 vector).
    for fifth in [
        &[0xc0][..],
        &[0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        &[0x82, 0, 1],
    ] {
        let mut s = RlpStream::new_list(5);
        s.append(&4u64);
        raw_endpoint(&mut s, &[1, 2, 3, 4], &[1], &[1]);
        raw_endpoint(&mut s, &[1, 2, 3, 4], &[1], &[1]);
        s.append(&9u64);
        s.append_raw(fifth, 1);
        let d = decode_sealed(1, &s.out()).unwrap();
        let Packet::Ping(p) = d.packet else { panic!() };
        assert_eq!(p.enr_seq, None);
        assert_eq!(p.expiration, 9);
    }
}

#[test]
fn pong_enr_seq_is_read_when_present() {
    let mut s = RlpStream::new_list(5);
    raw_endpoint(&mut s, &[1, 2, 3, 4], &[1], &[1]);
    s.append(&&[0u8; 32][..]);
    s.append(&9u64);
    s.append(&u64::MAX);
    s.append(&"extra");
    let Packet::Pong(p) = decode_sealed(2, &s.out()).unwrap().packet else {
        panic!()
    };
    assert_eq!(p.enr_seq, Some(u64::MAX));
}

#[test]
fn neighbors_of_twelve_worst_case_ipv6_nodes_fit_in_a_packet() {
    let node = NodeRecord::new(
        Endpoint::new(IpAddr::V6(Ipv6Addr::from([0xff; 16])), u16::MAX, u16::MAX),
        PeerId([0xff; 64]),
    );
    let p = Packet::Neighbors(Neighbors {
        nodes: vec![node; MAX_NEIGHBORS],
        expiration: u64::MAX,
    });
    let (datagram, _) = encode(&p, &key(1));
    assert!(
        datagram.len() <= MAX_PACKET_BYTES,
        "{} bytes",
        datagram.len()
    );
    assert_eq!(decode(&datagram).unwrap().packet, p);
}

#[test]
fn any_single_byte_change_is_detected() {
    for p in samples() {
        let (datagram, _) = encode(&p, &key(1));
        let sender = peer_id_of(&key(1));
        for i in 0..datagram.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = datagram.clone();
                bad[i] ^= mask;
                assert_eq!(
                    decode(&bad),
                    Err(PacketError::BadHash),
                    "byte {i} of {}",
                    p.name()
                );
                if i >= HASH_BYTES {
                    rehash(&mut bad);
                    if let Ok(d) = decode(&bad) {
                        assert_ne!(d.sender, sender, "byte {i} of {} forged", p.name());
                    }
                }
            }
        }
    }
}

#[test]
fn endpoint_helpers_give_socket_addresses() {
    let e = ep4();
    assert_eq!(e.udp_addr(), "10.0.0.1:30303".parse().unwrap());
    assert_eq!(e.tcp_addr(), Some("10.0.0.1:30304".parse().unwrap()));
    assert_eq!(ep6().tcp_addr(), None);
    let mapped = Endpoint::from_udp_addr("[::ffff:10.0.0.1]:30303".parse().unwrap(), 30304);
    assert_eq!(mapped, e);
    let n = NodeRecord::new(e, PeerId([4; 64]));
    assert_eq!(n.node_id(), PeerId([4; 64]).node_id());
    assert_eq!(n.udp_addr(), e.udp_addr());
}
