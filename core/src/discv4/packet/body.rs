//! The RLP bodies of the six packet types (the bytes after the type byte).
//!
//! Decoding is lenient exactly where EIP-8 asks for it — list elements after the known ones
//! are ignored, in the body and in nested endpoint/node lists — and strict everywhere else:
//! integers must be canonical and fit their type, byte strings must have their exact size.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rlp::{Decodable, Rlp, RlpStream};

use super::{
    Endpoint, EnrRequest, EnrResponse, FindNode, Neighbors, NodeRecord, Packet, PacketError, Ping,
    Pong,
};
use crate::enr::Enr;
use crate::types::PeerId;

/// The RLP body of `packet`.
pub(super) fn encode(packet: &Packet) -> Vec<u8> {
    let mut s = RlpStream::new();
    match packet {
        Packet::Ping(p) => {
            s.begin_list(4 + usize::from(p.enr_seq.is_some()));
            s.append(&p.version);
            append_endpoint(&mut s, &p.from);
            append_endpoint(&mut s, &p.to);
            s.append(&p.expiration);
            if let Some(seq) = p.enr_seq {
                s.append(&seq);
            }
        }
        Packet::Pong(p) => {
            s.begin_list(3 + usize::from(p.enr_seq.is_some()));
            append_endpoint(&mut s, &p.to);
            s.append(&&p.ping_hash[..]);
            s.append(&p.expiration);
            if let Some(seq) = p.enr_seq {
                s.append(&seq);
            }
        }
        Packet::FindNode(p) => {
            s.begin_list(2);
            s.append(&&p.target.0[..]);
            s.append(&p.expiration);
        }
        Packet::Neighbors(p) => {
            s.begin_list(2);
            s.begin_list(p.nodes.len());
            for node in &p.nodes {
                s.begin_list(4);
                append_ip(&mut s, node.endpoint.ip);
                s.append(&node.endpoint.udp);
                s.append(&node.endpoint.tcp);
                s.append(&&node.id.0[..]);
            }
            s.append(&p.expiration);
        }
        Packet::EnrRequest(p) => {
            s.begin_list(1);
            s.append(&p.expiration);
        }
        Packet::EnrResponse(p) => {
            s.begin_list(2);
            s.append(&&p.request_hash[..]);
            s.append_raw(&p.record.encode(), 1);
        }
    }
    s.out().to_vec()
}

/// `[ip, udp, tcp]`.
fn append_endpoint(s: &mut RlpStream, e: &Endpoint) {
    s.begin_list(3);
    append_ip(s, e.ip);
    s.append(&e.udp);
    s.append(&e.tcp);
}

/// IPv4 (including IPv4-mapped IPv6) as 4 bytes, other IPv6 as 16, as go-ethereum writes them.
fn append_ip(s: &mut RlpStream, ip: IpAddr) {
    match ip.to_canonical() {
        IpAddr::V4(v4) => s.append(&&v4.octets()[..]),
        IpAddr::V6(v6) => s.append(&&v6.octets()[..]),
    };
}

/// The name used in [`PacketError::Malformed`] for a known type byte.
pub(super) fn kind_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        1 => "ping",
        2 => "pong",
        3 => "findnode",
        4 => "neighbors",
        5 => "enrrequest",
        6 => "enrresponse",
        _ => return None,
    })
}

/// Decodes the body of a packet of type `kind`: only the first RLP value of `body` is read;
/// whatever follows it is ignored (EIP-8).
pub(super) fn decode(kind: u8, body: &[u8]) -> Result<Packet, PacketError> {
    let name = kind_name(kind).ok_or(PacketError::UnknownType(kind))?;
    decode_known(kind, body).ok_or(PacketError::Malformed(name))
}

fn decode_known(kind: u8, body: &[u8]) -> Option<Packet> {
    let info = Rlp::new(body).payload_info().ok()?;
    let first = body.get(..info.total())?;
    let fields = list_items(&Rlp::new(first))?;
    let f = fields.as_slice();
    Some(match kind {
        1 => Packet::Ping(ping(f)?),
        2 => Packet::Pong(pong(f)?),
        3 => Packet::FindNode(find_node(f)?),
        4 => Packet::Neighbors(neighbors(f)?),
        5 => Packet::EnrRequest(enr_request(f)?),
        6 => Packet::EnrResponse(enr_response(f)?),
        _ => return None,
    })
}

/// `[version, from, to, expiration, enr-seq?, ...]`.
fn ping(f: &[Rlp<'_>]) -> Option<Ping> {
    let [version, from, to, expiration, rest @ ..] = f else {
        return None;
    };
    Some(Ping {
        version: uint(version)?,
        from: endpoint(from)?,
        to: endpoint(to)?,
        expiration: uint(expiration)?,
        enr_seq: optional_seq(rest),
    })
}

/// `[to, ping-hash, expiration, enr-seq?, ...]`.
fn pong(f: &[Rlp<'_>]) -> Option<Pong> {
    let [to, ping_hash, expiration, rest @ ..] = f else {
        return None;
    };
    Some(Pong {
        to: endpoint(to)?,
        ping_hash: fixed(ping_hash)?,
        expiration: uint(expiration)?,
        enr_seq: optional_seq(rest),
    })
}

/// `[target, expiration, ...]`.
fn find_node(f: &[Rlp<'_>]) -> Option<FindNode> {
    let [target, expiration, ..] = f else {
        return None;
    };
    Some(FindNode {
        target: PeerId(fixed(target)?),
        expiration: uint(expiration)?,
    })
}

/// `[[node, ...], expiration, ...]`. The packet size bounds the node count (at most ~17), so
/// no separate limit is needed here.
fn neighbors(f: &[Rlp<'_>]) -> Option<Neighbors> {
    let [nodes, expiration, ..] = f else {
        return None;
    };
    let nodes = list_items(nodes)?
        .iter()
        .map(node_record)
        .collect::<Option<Vec<_>>>()?;
    Some(Neighbors {
        nodes,
        expiration: uint(expiration)?,
    })
}

/// `[expiration, ...]`.
fn enr_request(f: &[Rlp<'_>]) -> Option<EnrRequest> {
    let [expiration, ..] = f else {
        return None;
    };
    Some(EnrRequest {
        expiration: uint(expiration)?,
    })
}

/// `[request-hash, record, ...]`; the record is verified by [`Enr::decode`] (but not compared
/// with the packet's sender: that is the machine's job).
fn enr_response(f: &[Rlp<'_>]) -> Option<EnrResponse> {
    let [request_hash, record, ..] = f else {
        return None;
    };
    Some(EnrResponse {
        request_hash: fixed(request_hash)?,
        record: Enr::decode(record.as_raw()).ok()?,
    })
}

/// The EIP-868 `enr-seq` element: read when it is a canonical uint64. Anything else in that
/// position is treated as an unknown extra element, because EIP-8's own vectors (ping version
/// 555, pong "with additional") put lists there and must still be accepted.
fn optional_seq(rest: &[Rlp<'_>]) -> Option<u64> {
    rest.first().and_then(uint)
}

/// `[ip, udp, tcp, ...]`.
fn endpoint(r: &Rlp<'_>) -> Option<Endpoint> {
    let items = list_items(r)?;
    let [ip_item, udp, tcp, ..] = items.as_slice() else {
        return None;
    };
    Some(Endpoint {
        ip: ip(ip_item)?,
        udp: uint(udp)?,
        tcp: uint(tcp)?,
    })
}

/// `[ip, udp, tcp, id, ...]`. The id is only checked for length: whether it is a curve point
/// is the machine's business (it may never contact the node).
fn node_record(r: &Rlp<'_>) -> Option<NodeRecord> {
    let items = list_items(r)?;
    let [ip_item, udp, tcp, id, ..] = items.as_slice() else {
        return None;
    };
    Some(NodeRecord {
        endpoint: Endpoint {
            ip: ip(ip_item)?,
            udp: uint(udp)?,
            tcp: uint(tcp)?,
        },
        id: PeerId(fixed(id)?),
    })
}

/// A 4- or 16-byte address. IPv4-mapped IPv6 addresses become IPv4, so an address compares
/// equal however the sender wrote it.
fn ip(r: &Rlp<'_>) -> Option<IpAddr> {
    let b = bytes(r)?;
    if let Ok(v4) = <[u8; 4]>::try_from(b) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    let v6 = <[u8; 16]>::try_from(b).ok()?;
    Some(IpAddr::V6(Ipv6Addr::from(v6)).to_canonical())
}

/// The items of an RLP list, which must cover the list payload exactly (the `rlp` crate's
/// iterator silently stops at the first malformed item).
fn list_items<'a>(r: &Rlp<'a>) -> Option<Vec<Rlp<'a>>> {
    if !r.is_list() {
        return None;
    }
    let info = r.payload_info().ok()?;
    let items: Vec<Rlp<'a>> = r.iter().collect();
    let covered = items
        .iter()
        .try_fold(0usize, |acc, i| acc.checked_add(i.as_raw().len()))?;
    (covered == info.value_len).then_some(items)
}

/// The bytes of an RLP string (not a list), with a canonical header.
fn bytes<'a>(r: &Rlp<'a>) -> Option<&'a [u8]> {
    if !r.is_data() {
        return None;
    }
    r.data().ok()
}

/// A byte string of exactly `N` bytes.
fn fixed<const N: usize>(r: &Rlp<'_>) -> Option<[u8; N]> {
    bytes(r)?.try_into().ok()
}

/// A canonical unsigned integer that fits `T`.
fn uint<T: Decodable>(r: &Rlp<'_>) -> Option<T> {
    // `payload_info` rejects a long-form header for a short string, which `as_val` alone
    // would accept; `as_val` rejects leading zeros and values too big for `T`.
    if !r.is_data() || r.payload_info().is_err() {
        return None;
    }
    r.as_val().ok()
}
