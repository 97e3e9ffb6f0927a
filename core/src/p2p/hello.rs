//! The Hello message: `[version, client_id, [[cap_name, cap_version], …], listen_port,
//! node_id, …]`. Decoding is forward-compatible (extra elements ignored, any version) and
//! bounded ([`MAX_HELLO_BYTES`]).

use crate::p2p::caps::Capability;
use crate::types::PeerId;

/// Largest Hello payload we accept (go-ethereum: 2 KiB).
pub const MAX_HELLO_BYTES: usize = 2048;

/// A decoded Hello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Base protocol version the sender speaks.
    pub protocol_version: u64,
    /// Free-form client identifier, e.g. `Geth/v1.14.0/linux-amd64/go1.22`.
    pub client_id: String,
    /// Capabilities the sender offers.
    pub capabilities: Vec<Capability>,
    /// The sender's listening port (0 if none; ignored by most clients).
    pub listen_port: u16,
    /// The sender's node id (64-byte public key).
    pub id: PeerId,
}

/// Why a Hello was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HelloError {
    /// Larger than [`MAX_HELLO_BYTES`].
    #[error("hello of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// Not the RLP shape of a Hello.
    #[error("malformed hello: {0}")]
    Malformed(&'static str),
    /// The id is not 64 bytes or is all zero.
    #[error("invalid node id in hello")]
    InvalidId,
}

impl Hello {
    /// Encodes the Hello payload (RLP list, no message id).
    pub fn encode(&self) -> Vec<u8> {
        todo!("helper B")
    }

    /// Decodes a Hello payload.
    pub fn decode(payload: &[u8]) -> Result<Self, HelloError> {
        let _ = payload;
        todo!("helper B")
    }
}
