//! Why the peer manager refuses a connection or a command, each refusal mapped in one place
//! to the devp2p disconnect reason the host sends (or logs, before the RLPx handshake, when
//! there is no session to send it on).

use crate::p2p::DisconnectReason;

/// A refused connection. Caused by the remote's situation or by local policy; only
/// [`AdmissionError::NotConnected`] is a caller mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdmissionError {
    /// Too many inbound connections are still in their handshake.
    #[error("too many pending inbound handshakes")]
    TooManyPending,
    /// Too many inbound connections from this source (IP on the LAN, /24 or /64 elsewhere)
    /// are still in their handshake.
    #[error("too many pending inbound handshakes from this source")]
    TooManyPendingFromSource,
    /// This IP connected less than the throttle time ago (go-ethereum "too many attempts").
    #[error("too many connection attempts from this IP")]
    Throttled,
    /// The address is outside the netrestrict list.
    #[error("address not in the netrestrict list")]
    NotAllowed,
    /// The IP address is banned.
    #[error("IP address is banned")]
    BannedIp,
    /// The node id is banned.
    #[error("peer is banned")]
    BannedPeer,
    /// The remote is ourselves.
    #[error("connected to self")]
    SelfConnection,
    /// A session with this peer already exists.
    #[error("already connected")]
    AlreadyConnected,
    /// A dialed address answered with another identity than the one dialed.
    #[error("dialed peer answered with another identity")]
    UnexpectedIdentity,
    /// All peer slots are taken.
    #[error("too many peers")]
    TooManyPeers,
    /// All inbound slots are taken.
    #[error("too many inbound peers")]
    TooManyInbound,
    /// All outbound slots are taken.
    #[error("too many outbound peers")]
    TooManyOutbound,
    /// No capability in common.
    #[error("no shared capability")]
    UselessPeer,
    /// The peer was never admitted (caller mistake).
    #[error("peer is not connected")]
    NotConnected,
    /// The manager is shutting down.
    #[error("shutting down")]
    ShuttingDown,
}

impl AdmissionError {
    /// The disconnect reason for this refusal.
    pub fn reason(self) -> DisconnectReason {
        use AdmissionError::*;
        match self {
            TooManyPending
            | TooManyPendingFromSource
            | Throttled
            | TooManyPeers
            | TooManyInbound
            | TooManyOutbound => DisconnectReason::TooManyPeers,
            NotAllowed | BannedIp | BannedPeer | NotConnected => DisconnectReason::Requested,
            SelfConnection => DisconnectReason::SelfConnection,
            AlreadyConnected => DisconnectReason::AlreadyConnected,
            UnexpectedIdentity => DisconnectReason::UnexpectedIdentity,
            UselessPeer => DisconnectReason::UselessPeer,
            ShuttingDown => DisconnectReason::ClientQuitting,
        }
    }
}

impl From<AdmissionError> for DisconnectReason {
    fn from(e: AdmissionError) -> Self {
        e.reason()
    }
}

/// A refused command (caller mistakes and full tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The local node cannot be its own peer.
    #[error("the local node cannot be a peer")]
    SelfPeer,
    /// The address is outside the netrestrict list, so it would never be dialed.
    #[error("address not in the netrestrict list")]
    NotAllowed,
    /// The static peer table is full.
    #[error("too many static peers (max {max})")]
    TooManyStatic {
        /// The configured cap.
        max: usize,
    },
    /// The trusted peer table is full.
    #[error("too many trusted peers (max {max})")]
    TooManyTrusted {
        /// The configured cap.
        max: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_wire_reasons() {
        assert_eq!(
            DisconnectReason::from(AdmissionError::TooManyInbound),
            DisconnectReason::TooManyPeers
        );
        assert_eq!(
            AdmissionError::TooManyPendingFromSource.reason(),
            DisconnectReason::TooManyPeers
        );
        assert_eq!(
            AdmissionError::UselessPeer.reason(),
            DisconnectReason::UselessPeer
        );
        assert_eq!(
            AdmissionError::ShuttingDown.reason(),
            DisconnectReason::ClientQuitting
        );
        assert_eq!(
            AdmissionError::SelfConnection.reason(),
            DisconnectReason::SelfConnection
        );
    }
}
