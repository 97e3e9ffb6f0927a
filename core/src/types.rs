//! Identity and bookkeeping types shared by every machine in the core.

use std::fmt;
use std::time::Instant;

use crate::crypto::keccak::keccak256;

/// A node's public identity on the wire: the 64-byte uncompressed secp256k1 public key
/// (X ‖ Y, without the `0x04` prefix), as carried in Hello, enode URLs and discv4 packets.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub [u8; 64]);

impl PeerId {
    /// The node id derived from this key: keccak256 of the 64 bytes.
    pub fn node_id(&self) -> NodeId {
        NodeId(keccak256(&self.0))
    }

    /// The key as lowercase hex (128 characters), as in enode URLs.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 128 hex characters (an optional `0x` prefix is accepted).
    pub fn from_hex(s: &str) -> Option<Self> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        let bytes = hex::decode(s).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.to_hex();
        write!(f, "PeerId({}…)", h.get(..16).unwrap_or(&h))
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A node id: keccak256 of the node's 64-byte public key. Used for Kademlia distances and
/// as the key of peer tables.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub [u8; 32]);

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", hex::encode(self.0.get(..8).unwrap_or(&[])))
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// 32 bytes of seed material for a machine's own CSPRNG. Production seeds come from the OS;
/// tests fix them so runs are reproducible.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Seed(pub [u8; 32]);

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(..)")
    }
}

/// Which side opened a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The remote dialed us.
    Inbound,
    /// We dialed the remote.
    Outbound,
}

impl Direction {
    /// `"inbound"` or `"outbound"`, for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// An anchor tying the monotonic clock to unix time, given at construction to machines that
/// must put wall-clock timestamps on the wire (discv4 expirations).
#[derive(Clone, Copy, Debug)]
pub struct WallClock {
    /// A monotonic instant.
    pub at: Instant,
    /// Unix time in seconds at that instant.
    pub unix_secs: u64,
}

impl WallClock {
    /// Unix seconds at `now`, derived from the anchor.
    pub fn unix_secs_at(&self, now: Instant) -> u64 {
        let delta = now.saturating_duration_since(self.at).as_secs();
        self.unix_secs.saturating_add(delta)
    }
}
