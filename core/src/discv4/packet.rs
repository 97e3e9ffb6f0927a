//! discv4 packets (devp2p `discv4.md`, EIP-8): `hash(32) ‖ signature(65) ‖ type(1) ‖ rlp`,
//! where `hash = keccak256(signature ‖ type ‖ rlp)` and the signature signs
//! `keccak256(type ‖ rlp)`. Decoding reads only the first RLP value after the type byte
//! (trailing bytes ignored), ignores extra list elements, checks the hash and recovers the
//! sender. Packets are at most [`MAX_PACKET_BYTES`].

use std::net::IpAddr;

use secp256k1::SecretKey;

use crate::enr::Enr;
use crate::types::PeerId;

/// Largest discv4 packet.
pub const MAX_PACKET_BYTES: usize = 1280;
/// Most nodes in one Neighbors packet (so it fits in 1280 bytes).
pub const MAX_NEIGHBORS: usize = 12;

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

/// A node as carried in Neighbors: `[ip, udp, tcp, id]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeRecord {
    /// Where it is.
    pub endpoint: Endpoint,
    /// Its public key.
    pub id: PeerId,
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
    /// Shorter than header + type + 1.
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
pub fn encode(packet: &Packet, key: &SecretKey) -> (Vec<u8>, [u8; 32]) {
    let _ = (packet, key);
    todo!("packet helper")
}

/// Decodes and authenticates a datagram. Expiration is NOT checked here (it needs the clock).
pub fn decode(datagram: &[u8]) -> Result<Decoded, PacketError> {
    let _ = datagram;
    todo!("packet helper")
}
