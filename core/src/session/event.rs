//! What a session reports to its driver.

use std::time::Duration;

use crate::p2p::{CapId, DisconnectReason, Hello, SharedCapabilities};
use crate::session::error::{FaultClass, SessionError};
use crate::types::PeerId;

/// An event of a [`super::Session`], polled with `poll_event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The RLPx handshake succeeded: `remote` is the authenticated key. The admission
    /// checkpoint: our Hello is released only after this event has been polled, so a host that
    /// refuses the peer (`disconnect`) sends Disconnect without Hello.
    Authenticated {
        /// The remote's static key.
        remote: PeerId,
    },
    /// Hello exchanged and capabilities negotiated; messages may flow.
    Established {
        /// The remote's Hello.
        hello: Hello,
        /// The capabilities both sides share, with their offsets.
        caps: SharedCapabilities,
    },
    /// A sub-protocol message.
    Message {
        /// The capability it belongs to.
        cap: CapId,
        /// The message id relative to the capability.
        msg_id: u64,
        /// The (decompressed) payload.
        payload: Vec<u8>,
    },
    /// The answer to our Ping arrived.
    Pong {
        /// Round-trip time of the Ping.
        rtt: Duration,
    },
    /// The session ended. Always the last event, emitted exactly once.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The remote sent Disconnect with this reason.
    Remote(DisconnectReason),
    /// We disconnected on command with this reason.
    Local(DisconnectReason),
    /// A fault; the Disconnect we sent (if framing was up) carried
    /// [`SessionError::disconnect_reason`].
    Error(SessionError),
    /// The transport closed before any Disconnect.
    TransportClosed,
}

impl CloseReason {
    /// The devp2p reason associated with the close (sent or received), if any.
    pub fn disconnect_reason(&self) -> Option<DisconnectReason> {
        match self {
            CloseReason::Remote(r) | CloseReason::Local(r) => Some(*r),
            CloseReason::Error(e) => Some(e.disconnect_reason()),
            CloseReason::TransportClosed => None,
        }
    }

    /// Whose fault the close was, when it was a fault ([`CloseReason::Error`]); `None` for
    /// a Disconnect either side sent and for a closed transport.
    pub fn fault_class(&self) -> Option<FaultClass> {
        match self {
            CloseReason::Error(e) => Some(e.fault_class()),
            CloseReason::Remote(_) | CloseReason::Local(_) | CloseReason::TransportClosed => None,
        }
    }

    /// True when the remote ended the session (Disconnect or transport close).
    pub fn by_remote(&self) -> bool {
        matches!(self, CloseReason::Remote(_) | CloseReason::TransportClosed)
    }
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseReason::Remote(r) => write!(f, "remote disconnected: {r}"),
            CloseReason::Local(r) => write!(f, "local disconnect: {r}"),
            CloseReason::Error(e) => write!(f, "{e} (sent: {})", e.disconnect_reason()),
            CloseReason::TransportClosed => f.write_str("connection closed"),
        }
    }
}
