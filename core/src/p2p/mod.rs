//! The devp2p base protocol ("p2p" capability, `rlpx.md` §"p2p Capability"): Hello,
//! Disconnect, Ping and Pong, and the negotiation of sub-protocol capabilities with their
//! message-ID offsets.

pub mod caps;
pub mod disconnect;
pub mod hello;

pub use caps::{CapId, Capability, ProtocolSpec, SharedCapabilities, SharedCapability};
pub use disconnect::DisconnectReason;
pub use hello::{Hello, HelloError};

/// The base protocol version we speak (v5: snappy after Hello).
pub const P2P_VERSION: u64 = 5;
/// Message ids 0x00..0x10 belong to the base protocol; sub-protocols start at this offset.
pub const BASE_PROTOCOL_LENGTH: u64 = 16;
/// Hello message id.
pub const HELLO_ID: u64 = 0x00;
/// Disconnect message id.
pub const DISCONNECT_ID: u64 = 0x01;
/// Ping message id.
pub const PING_ID: u64 = 0x02;
/// Pong message id.
pub const PONG_ID: u64 = 0x03;
/// Payload of Ping and Pong: the empty list.
pub const EMPTY_LIST: [u8; 1] = [0xc0];
