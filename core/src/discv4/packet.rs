//! discv4 packets (devp2p `discv4.md`, EIP-8): `hash(32) ‖ signature(65) ‖ type(1) ‖ rlp`,
//! where `hash = keccak256(signature ‖ type ‖ rlp)` and the signature signs
//! `keccak256(type ‖ rlp)`. Decoding reads only the first RLP value after the type byte
//! (trailing bytes ignored), ignores extra list elements, checks the hash and recovers the
//! sender. Packets are at most [`MAX_PACKET_BYTES`].

mod body;

use std::net::{IpAddr, SocketAddr};

use secp256k1::SecretKey;

use crate::crypto::keccak::{keccak256, keccak256_concat};
use crate::crypto::keys::{peer_id_of, public_key_bytes, recover, sign_recoverable};
use crate::enr::Enr;
use crate::types::{NodeId, PeerId};

/// Largest discv4 packet (devp2p `discv4.md`: 1280 bytes, the IPv6 minimum MTU).
pub const MAX_PACKET_BYTES: usize = 1280;
/// Most nodes in one Neighbors packet (so it fits in 1280 bytes even with IPv6 endpoints,
/// maximal ports and expiration; checked by a test).
pub const MAX_NEIGHBORS: usize = 12;
/// Size of the packet hash at the start of a datagram.
pub const HASH_BYTES: usize = 32;
/// Size of the `R ‖ S ‖ V` signature after the hash.
pub const SIGNATURE_BYTES: usize = 65;
/// Hash and signature: everything before the type byte.
pub const HEADER_BYTES: usize = HASH_BYTES + SIGNATURE_BYTES;
/// Smallest datagram not rejected as too small: header and type byte (go-ethereum's
/// `headSize + 1`; an empty body is then malformed).
pub const MIN_PACKET_BYTES: usize = HEADER_BYTES + 1;

/// An endpoint as carried in packets: `[ip, udp-port, tcp-port]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// IP address (4 bytes on the wire for IPv4).
    pub ip: IpAddr,
    /// UDP port.
    pub udp: u16,
    /// TCP port (0 if none).
    pub tcp: u16,
}

impl Endpoint {
    /// An endpoint at `ip` with the given ports.
    pub fn new(ip: IpAddr, udp: u16, tcp: u16) -> Self {
        Self { ip, udp, tcp }
    }

    /// The endpoint of a datagram source `addr`, with `tcp` as the TCP port. An IPv4-mapped
    /// IPv6 address (as dual-stack sockets report IPv4 peers) becomes IPv4.
    pub fn from_udp_addr(addr: SocketAddr, tcp: u16) -> Self {
        Self::new(addr.ip().to_canonical(), addr.port(), tcp)
    }

    /// Where to send datagrams.
    pub fn udp_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.udp)
    }

    /// Where to dial RLPx, if a TCP port is set.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        (self.tcp != 0).then(|| SocketAddr::new(self.ip, self.tcp))
    }
}

/// A node as carried in Neighbors: `[ip, udp, tcp, id]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeRecord {
    /// Where it is.
    pub endpoint: Endpoint,
    /// Its public key.
    pub id: PeerId,
}

impl NodeRecord {
    /// A record for the node with key `id` at `endpoint`.
    pub fn new(endpoint: Endpoint, id: PeerId) -> Self {
        Self { endpoint, id }
    }

    /// Its node id (keccak256 of the key), the Kademlia key.
    pub fn node_id(&self) -> NodeId {
        self.id.node_id()
    }

    /// Where to send it datagrams.
    pub fn udp_addr(&self) -> SocketAddr {
        self.endpoint.udp_addr()
    }
}

/// Ping (type 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ping {
    /// Protocol version (4).
    pub version: u64,
    /// Sender's endpoint.
    pub from: Endpoint,
    /// Recipient's endpoint as the sender sees it.
    pub to: Endpoint,
    /// Unix seconds after which the packet is void.
    pub expiration: u64,
    /// Sender's ENR sequence number (EIP-868), if sent.
    pub enr_seq: Option<u64>,
}

/// Pong (type 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pong {
    /// The Ping sender's endpoint as we see it.
    pub to: Endpoint,
    /// Hash of the Ping being answered.
    pub ping_hash: [u8; 32],
    /// Unix seconds after which the packet is void.
    pub expiration: u64,
    /// Sender's ENR sequence number, if sent.
    pub enr_seq: Option<u64>,
}

/// FindNode (type 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindNode {
    /// The target public key.
    pub target: PeerId,
    /// Unix seconds after which the packet is void.
    pub expiration: u64,
}

/// Neighbors (type 4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbors {
    /// Nodes closest to the target (≤ [`MAX_NEIGHBORS`] when we send).
    pub nodes: Vec<NodeRecord>,
    /// Unix seconds after which the packet is void.
    pub expiration: u64,
}

/// ENRRequest (type 5, EIP-868).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrRequest {
    /// Unix seconds after which the packet is void.
    pub expiration: u64,
}

/// ENRResponse (type 6, EIP-868).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrResponse {
    /// Hash of the ENRRequest being answered.
    pub request_hash: [u8; 32],
    /// The sender's record.
    pub record: Enr,
}

/// Any discv4 packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// Type 1.
    Ping(Ping),
    /// Type 2.
    Pong(Pong),
    /// Type 3.
    FindNode(FindNode),
    /// Type 4.
    Neighbors(Neighbors),
    /// Type 5.
    EnrRequest(EnrRequest),
    /// Type 6.
    EnrResponse(EnrResponse),
}

impl Packet {
    /// The wire type byte.
    pub fn kind(&self) -> u8 {
        match self {
            Packet::Ping(_) => 1,
            Packet::Pong(_) => 2,
            Packet::FindNode(_) => 3,
            Packet::Neighbors(_) => 4,
            Packet::EnrRequest(_) => 5,
            Packet::EnrResponse(_) => 6,
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Packet::Ping(_) => "ping",
            Packet::Pong(_) => "pong",
            Packet::FindNode(_) => "findnode",
            Packet::Neighbors(_) => "neighbors",
            Packet::EnrRequest(_) => "enrrequest",
            Packet::EnrResponse(_) => "enrresponse",
        }
    }

    /// The expiration, for packet types that carry one (all but ENRResponse).
    pub fn expiration(&self) -> Option<u64> {
        match self {
            Packet::Ping(p) => Some(p.expiration),
            Packet::Pong(p) => Some(p.expiration),
            Packet::FindNode(p) => Some(p.expiration),
            Packet::Neighbors(p) => Some(p.expiration),
            Packet::EnrRequest(p) => Some(p.expiration),
            Packet::EnrResponse(_) => None,
        }
    }
}

/// Why a datagram is not a valid packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Shorter than [`MIN_PACKET_BYTES`] (hash, signature and type byte).
    #[error("packet too small")]
    TooSmall,
    /// Larger than [`MAX_PACKET_BYTES`].
    #[error("packet too large")]
    TooLarge,
    /// The hash does not match.
    #[error("bad hash")]
    BadHash,
    /// The signature does not recover.
    #[error("bad signature")]
    BadSignature,
    /// Unknown type byte.
    #[error("unknown packet type {0}")]
    UnknownType(u8),
    /// The RLP body does not fit the type.
    #[error("malformed {0} packet")]
    Malformed(&'static str),
}

/// A decoded, authenticated packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The packet.
    pub packet: Packet,
    /// Its hash (the first 32 bytes), used to match Pong and ENRResponse.
    pub hash: [u8; 32],
    /// The sender's public key, recovered from the signature.
    pub sender: PeerId,
}

/// Encodes and signs a packet; returns the datagram and its hash.
///
/// The body is written canonically with no extra elements; IPv4 (and IPv4-mapped IPv6)
/// addresses take 4 bytes. The signature is deterministic (RFC 6979), so equal inputs give
/// equal datagrams. Neighbors with more than [`MAX_NEIGHBORS`] nodes may exceed
/// [`MAX_PACKET_BYTES`]: split them before encoding.
pub fn encode(packet: &Packet, key: &SecretKey) -> (Vec<u8>, [u8; 32]) {
    let body = body::encode(packet);
    let mut signed = Vec::with_capacity(1 + body.len());
    signed.push(packet.kind());
    signed.extend_from_slice(&body);
    let signature = sign_recoverable(&keccak256(&signed), key);
    let hash = keccak256_concat(&[&signature, &signed]);
    let mut datagram = Vec::with_capacity(HEADER_BYTES + signed.len());
    datagram.extend_from_slice(&hash);
    datagram.extend_from_slice(&signature);
    datagram.extend_from_slice(&signed);
    (datagram, hash)
}

/// Decodes and authenticates a datagram. Expiration is NOT checked here (it needs the clock).
///
/// Checks run cheapest first — size, hash, type, body shape — so that the signature recovery,
/// the one expensive step, is only spent on packets that parse. Only the first RLP value after
/// the type byte is read and list elements beyond the known ones are ignored (EIP-8). A
/// `V` other than 0 or 1 is a bad signature. Decoded IPv4-mapped IPv6 addresses become IPv4.
/// An ENRResponse's record is verified on its own but not compared with the sender.
///
/// Total: any input gives a result, never a panic.
pub fn decode(datagram: &[u8]) -> Result<Decoded, PacketError> {
    if datagram.len() < MIN_PACKET_BYTES {
        return Err(PacketError::TooSmall);
    }
    if datagram.len() > MAX_PACKET_BYTES {
        return Err(PacketError::TooLarge);
    }
    let (hash, rest) = datagram
        .split_first_chunk::<HASH_BYTES>()
        .ok_or(PacketError::TooSmall)?;
    if keccak256(rest) != *hash {
        return Err(PacketError::BadHash);
    }
    let (signature, signed) = rest
        .split_first_chunk::<SIGNATURE_BYTES>()
        .ok_or(PacketError::TooSmall)?;
    let (&kind, body) = signed.split_first().ok_or(PacketError::TooSmall)?;
    let packet = body::decode(kind, body)?;
    if signature[SIGNATURE_BYTES - 1] > 1 {
        return Err(PacketError::BadSignature);
    }
    let key = recover(&keccak256(signed), signature).map_err(|_| PacketError::BadSignature)?;
    Ok(Decoded {
        packet,
        hash: *hash,
        sender: PeerId(public_key_bytes(&key)),
    })
}

/// Fuzzing entry point: decodes arbitrary bytes and, when they decode, checks the codec's
/// invariants — the hash is the datagram's first 32 bytes, and re-encoding the packet (with a
/// fixed key) gives a datagram no larger than the input that decodes to the same packet.
///
/// Panics only if an invariant is broken, which is the bug a fuzzer should report.
pub fn fuzz_decode(datagram: &[u8]) {
    let Ok(decoded) = decode(datagram) else {
        return;
    };
    assert_eq!(datagram.get(..HASH_BYTES), Some(&decoded.hash[..]));
    let Ok(key) = SecretKey::from_slice(&[0x42; 32]) else {
        return;
    };
    let (again, hash) = encode(&decoded.packet, &key);
    assert!(again.len() <= datagram.len(), "re-encoding grew the packet");
    match decode(&again) {
        Ok(d) => {
            assert_eq!(d.packet, decoded.packet, "re-encoded packet differs");
            assert_eq!(d.hash, hash);
            assert_eq!(d.sender, peer_id_of(&key));
        }
        Err(e) => panic!("re-encoded packet does not decode: {e}"),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;
