//! Why a session ended, split by whose fault it is, each mapped in one place to the devp2p
//! disconnect reason we send ([`SessionError::disconnect_reason`]) and to its
//! [`FaultClass`] ([`SessionError::fault_class`]), which decides what it costs the peer.

use crate::p2p::{DisconnectReason, HelloError};
use crate::rlpx::frame::FrameError;
use crate::rlpx::handshake::HandshakeError;
use crate::rlpx::snappy::SnappyError;

/// A fault that ended a session. Caused by the remote or the network, never by the local
/// caller (caller mistakes are [`SendError`]); the frame codec's own caller errors, which a
/// correct session never reaches, are the one exception ([`FaultClass::Local`]).
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

/// Whose fault a [`SessionError`] is. The peer manager charges the peer's reputation by
/// class (`ReputationChange::for_fault` in `peers`), never by the disconnect reason on the
/// wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultClass {
    /// The peer broke the protocol: a malformed, oversized or unexpected message, an invalid
    /// Hello, an identity other than the authenticated one. Costs `BadMessage` (−16 units).
    ProtocolBreach,
    /// The peer's cryptography failed: a bad header or frame MAC, a handshake packet that does
    /// not decrypt, an invalid public key or signature. Costs `BadCrypto` (−16 units).
    BadCrypto,
    /// The peer did not answer in time (handshake, idle read, pong). Costs `Timeout`
    /// (−4 units).
    Timeout,
    /// Nobody misbehaved: the peers have no capability in common. Costs nothing.
    Incompatible,
    /// Our own side failed (the frame codec refused our input). Costs the peer nothing.
    Local,
}

impl FaultClass {
    /// `"protocol_breach"`, `"bad_crypto"`, `"timeout"`, `"incompatible"` or `"local"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultClass::ProtocolBreach => "protocol_breach",
            FaultClass::BadCrypto => "bad_crypto",
            FaultClass::Timeout => "timeout",
            FaultClass::Incompatible => "incompatible",
            FaultClass::Local => "local",
        }
    }
}

impl SessionError {
    /// Whose fault this is: the one place each variant is classified.
    pub fn fault_class(&self) -> FaultClass {
        use SessionError::*;
        match self {
            Handshake(HandshakeError::TooLarge(_) | HandshakeError::Malformed) => {
                FaultClass::ProtocolBreach
            }
            Handshake(
                HandshakeError::Decrypt
                | HandshakeError::InvalidPublicKey
                | HandshakeError::InvalidSignature,
            ) => FaultClass::BadCrypto,
            Frame(FrameError::HeaderMac | FrameError::FrameMac) => FaultClass::BadCrypto,
            Frame(FrameError::TooLarge(_) | FrameError::BufferLength) => FaultClass::Local,
            Hello(_)
            | UnexpectedIdentity
            | Snappy(_)
            | MessageTooLarge { .. }
            | BadMessageId(_)
            | MalformedMessageId
            | UnexpectedMessage(_) => FaultClass::ProtocolBreach,
            NoSharedCapability => FaultClass::Incompatible,
            HandshakeTimeout | IdleTimeout | PongTimeout => FaultClass::Timeout,
        }
    }

    /// True for the faults that are timeouts (handshake, idle read, pong).
    pub fn is_timeout(&self) -> bool {
        self.fault_class() == FaultClass::Timeout
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_has_the_class_of_whoever_caused_it() {
        use FaultClass::*;
        let cases = [
            (
                SessionError::Handshake(HandshakeError::TooLarge(9000)),
                ProtocolBreach,
            ),
            (
                SessionError::Handshake(HandshakeError::Malformed),
                ProtocolBreach,
            ),
            (SessionError::Handshake(HandshakeError::Decrypt), BadCrypto),
            (
                SessionError::Handshake(HandshakeError::InvalidPublicKey),
                BadCrypto,
            ),
            (
                SessionError::Handshake(HandshakeError::InvalidSignature),
                BadCrypto,
            ),
            (SessionError::Frame(FrameError::HeaderMac), BadCrypto),
            (SessionError::Frame(FrameError::FrameMac), BadCrypto),
            (SessionError::Frame(FrameError::TooLarge(1 << 24)), Local),
            (SessionError::Frame(FrameError::BufferLength), Local),
            (SessionError::Hello(HelloError::InvalidId), ProtocolBreach),
            (
                SessionError::Hello(HelloError::Malformed("x")),
                ProtocolBreach,
            ),
            (SessionError::UnexpectedIdentity, ProtocolBreach),
            (SessionError::NoSharedCapability, Incompatible),
            (SessionError::Snappy(SnappyError::Corrupt), ProtocolBreach),
            (
                SessionError::MessageTooLarge { size: 10, max: 5 },
                ProtocolBreach,
            ),
            (SessionError::BadMessageId(0x99), ProtocolBreach),
            (SessionError::MalformedMessageId, ProtocolBreach),
            (SessionError::UnexpectedMessage(0x10), ProtocolBreach),
            (SessionError::HandshakeTimeout, Timeout),
            (SessionError::IdleTimeout, Timeout),
            (SessionError::PongTimeout, Timeout),
        ];
        for (error, class) in cases {
            assert_eq!(error.fault_class(), class, "{error}");
            assert_eq!(error.is_timeout(), class == Timeout, "{error}");
        }
    }

    #[test]
    fn a_bad_mac_is_bad_crypto_although_its_wire_reason_is_a_network_error() {
        let e = SessionError::Frame(FrameError::FrameMac);
        assert_eq!(e.disconnect_reason(), DisconnectReason::NetworkError);
        assert_eq!(e.fault_class(), FaultClass::BadCrypto);
        assert_eq!(e.fault_class().as_str(), "bad_crypto");
    }
}
