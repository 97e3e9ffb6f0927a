//! Why a session ended, split by whose fault it is, each mapped in one place to the devp2p
//! disconnect reason we send.

use crate::p2p::{DisconnectReason, HelloError};
use crate::rlpx::frame::FrameError;
use crate::rlpx::handshake::HandshakeError;
use crate::rlpx::snappy::SnappyError;

/// A fault that ended a session. All are caused by the remote or the network, never by the
/// local caller (caller mistakes are [`SendError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The RLPx auth/ack exchange failed.
    #[error("rlpx handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// A frame failed its MAC check.
    #[error("frame: {0}")]
    Frame(#[from] FrameError),
    /// The peer's Hello is invalid.
    #[error("hello: {0}")]
    Hello(#[from] HelloError),
    /// The Hello's id differs from the key authenticated by the handshake.
    #[error("hello id differs from the authenticated key")]
    UnexpectedIdentity,
    /// No capability in common.
    #[error("no shared capability")]
    NoSharedCapability,
    /// A compressed payload is invalid or too large once decoded.
    #[error("snappy: {0}")]
    Snappy(#[from] SnappyError),
    /// A frame larger than the configured limit.
    #[error("message of {size} bytes exceeds the limit {max}")]
    MessageTooLarge {
        /// Announced size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The message id is not RLP or falls outside every negotiated capability.
    #[error("message id {0:#x} outside the negotiated range")]
    BadMessageId(u64),
    /// A frame's message-id prefix is not a valid RLP integer.
    #[error("malformed message id")]
    MalformedMessageId,
    /// A message that is not allowed at this point (e.g. data before Hello, Hello twice).
    #[error("unexpected message {0:#x} in this phase")]
    UnexpectedMessage(u64),
    /// Handshake plus Hello took longer than the limit.
    #[error("handshake timeout")]
    HandshakeTimeout,
    /// Nothing received for longer than the idle timeout.
    #[error("read timeout")]
    IdleTimeout,
    /// Our Ping went unanswered.
    #[error("pong timeout")]
    PongTimeout,
}

impl SessionError {
    /// True for the faults that are timeouts (handshake, idle read, pong).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            SessionError::HandshakeTimeout | SessionError::IdleTimeout | SessionError::PongTimeout
        )
    }

    /// The disconnect reason we send the peer for this fault (when framing is up).
    pub fn disconnect_reason(&self) -> DisconnectReason {
        use SessionError::*;
        match self {
            Handshake(_) | Frame(_) => DisconnectReason::NetworkError,
            Hello(HelloError::InvalidId) => DisconnectReason::InvalidIdentity,
            Hello(_) => DisconnectReason::ProtocolError,
            UnexpectedIdentity => DisconnectReason::UnexpectedIdentity,
            NoSharedCapability => DisconnectReason::UselessPeer,
            Snappy(_)
            | MessageTooLarge { .. }
            | BadMessageId(_)
            | MalformedMessageId
            | UnexpectedMessage(_) => DisconnectReason::ProtocolError,
            HandshakeTimeout | IdleTimeout | PongTimeout => DisconnectReason::ReadTimeout,
        }
    }
}

/// A local command the session refused. Caused by the caller, never by the peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session is not established, or is closing or closed.
    #[error("session is not established")]
    NotEstablished,
    /// The capability handle does not belong to this session.
    #[error("unknown capability")]
    UnknownCapability,
    /// The message id is beyond the capability's message count.
    #[error("message id {0} out of range for the capability")]
    MessageIdOutOfRange(u64),
    /// The payload exceeds the frame limit.
    #[error("message of {0} bytes is too large")]
    TooLarge(usize),
    /// The send queue is full; try again after the driver has written.
    #[error("send queue full")]
    QueueFull,
}
