//! What the host asks of its driver ([`HostAction`]) and reports to the application
//! ([`HostEvent`]).

use std::any::Any;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::p2p::{CapId, Capability, DisconnectReason};
use crate::peers::{AdmissionError, Ban, BanTarget, DialFailure, RateVerdict};
use crate::protocol::ProtocolId;
use crate::session::CloseReason;
use crate::types::{Direction, PeerId};

use super::ConnId;

/// A connection-level command for the driver, polled with
/// [`Host::poll_action`](super::Host::poll_action).
#[derive(Clone, PartialEq, Eq)]
pub enum HostAction {
    /// Open a TCP connection to `addr` and start `Session::connect` with `peer`'s key; feed
    /// its events back under `conn`. A connect error or timeout is reported with
    /// [`Host::handle_dial_failed`](super::Host::handle_dial_failed).
    Dial {
        /// The connection's handle.
        conn: ConnId,
        /// Who to dial.
        peer: PeerId,
        /// Where.
        addr: SocketAddr,
    },
    /// The session stopped at the admission checkpoint (`Authenticated`) may go on: release
    /// our Hello.
    Admit {
        /// The connection.
        conn: ConnId,
    },
    /// `Session::send(now, cap, msg_id, payload)` on the connection; once the session has it,
    /// the driver reports it with [`Host::record_sent`](super::Host::record_sent) (egress).
    /// A driver never discards one silently: it waits for room or disconnects the peer.
    Send {
        /// The connection.
        conn: ConnId,
        /// The capability handle negotiated on that session.
        cap: CapId,
        /// Message id relative to the capability.
        msg_id: u64,
        /// Uncompressed payload.
        payload: Vec<u8>,
    },
    /// `Session::disconnect(now, reason)` (or abort the dial if TCP is not connected yet).
    /// The session's `Closed` event must still be fed back.
    Disconnect {
        /// The connection.
        conn: ConnId,
        /// The reason to send.
        reason: DisconnectReason,
    },
}

impl HostAction {
    /// The connection the action is for.
    pub fn conn(&self) -> ConnId {
        match self {
            HostAction::Dial { conn, .. }
            | HostAction::Admit { conn }
            | HostAction::Send { conn, .. }
            | HostAction::Disconnect { conn, .. } => *conn,
        }
    }
}

impl fmt::Debug for HostAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostAction::Dial { conn, peer, addr } => f
                .debug_struct("Dial")
                .field("conn", conn)
                .field("peer", peer)
                .field("addr", addr)
                .finish(),
            HostAction::Admit { conn } => f.debug_struct("Admit").field("conn", conn).finish(),
            HostAction::Send {
                conn,
                cap,
                msg_id,
                payload,
            } => f
                .debug_struct("Send")
                .field("conn", conn)
                .field("cap", cap)
                .field("msg_id", msg_id)
                .field("len", &payload.len())
                .finish(),
            HostAction::Disconnect { conn, reason } => f
                .debug_struct("Disconnect")
                .field("conn", conn)
                .field("reason", reason)
                .finish(),
        }
    }
}

/// Why a connection ended before its peer was admitted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnFailure {
    /// The dial failed before a session started (reported by the driver).
    Dial(DialFailure),
    /// The session closed during the RLPx handshake.
    Handshake(CloseReason),
    /// The peer manager refused the authenticated peer; the session sent this reason.
    Refused(AdmissionError),
}

impl ConnFailure {
    /// A short, bounded label for logs and metrics.
    pub fn class(&self) -> &'static str {
        match self {
            ConnFailure::Dial(DialFailure::Connect) => "connect",
            ConnFailure::Dial(DialFailure::Timeout) => "timeout",
            ConnFailure::Dial(DialFailure::Handshake) => "handshake",
            ConnFailure::Dial(DialFailure::Disconnected(_)) => "disconnected",
            ConnFailure::Handshake(CloseReason::TransportClosed) => "eof",
            ConnFailure::Handshake(CloseReason::Remote(_)) => "disconnected",
            ConnFailure::Handshake(CloseReason::Error(e)) if e.is_timeout() => "timeout",
            ConnFailure::Handshake(_) => "handshake",
            ConnFailure::Refused(e) => e.reason().as_str(),
        }
    }
}

impl fmt::Display for ConnFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnFailure::Dial(d) => write!(f, "dial failed: {d:?}"),
            ConnFailure::Handshake(r) => write!(f, "handshake failed: {r}"),
            ConnFailure::Refused(e) => write!(f, "refused: {e}"),
        }
    }
}

/// What happened, for the application, logs and metrics; polled with
/// [`Host::poll_event`](super::Host::poll_event).
#[non_exhaustive]
pub enum HostEvent {
    /// A peer is established: Hello exchanged and at least one protocol runs with it.
    PeerConnected {
        /// The peer.
        peer: PeerId,
        /// Its connection.
        conn: ConnId,
        /// Who dialed.
        direction: Direction,
        /// Its address.
        remote: SocketAddr,
        /// The client id from its Hello.
        client_id: String,
        /// The negotiated capabilities.
        caps: Vec<Capability>,
        /// From the dial (or accept) to the end of the Hello exchange.
        handshake: Duration,
    },
    /// An established or admitted peer's session ended.
    PeerDisconnected {
        /// The peer.
        peer: PeerId,
        /// Its connection.
        conn: ConnId,
        /// Who dialed.
        direction: Direction,
        /// Why, and who ended it.
        reason: CloseReason,
        /// Whether the Hello exchange had completed.
        established: bool,
        /// How long the peer was admitted.
        connected_for: Duration,
    },
    /// A connection ended before its peer was admitted (dial error, failed handshake, or a
    /// refusal at the admission checkpoint).
    ConnectionFailed {
        /// The connection.
        conn: ConnId,
        /// Who dialed.
        direction: Direction,
        /// The remote address.
        remote: SocketAddr,
        /// The peer, when known (dialed, or authenticated then refused).
        peer: Option<PeerId>,
        /// What went wrong.
        failure: ConnFailure,
    },
    /// A peer's message was over its rate budget and was discarded.
    Throttled {
        /// The peer.
        peer: PeerId,
        /// The capability name the message was for.
        protocol: String,
        /// What the peer manager decided (throttle, penalise, drop).
        verdict: RateVerdict,
    },
    /// A ban was imposed: persist it (it survives restarts).
    Banned(Ban),
    /// A ban ended.
    Unbanned(BanTarget),
    /// A protocol-specific event, downcast by the application to the type the protocol
    /// documents.
    Protocol {
        /// The protocol that emitted it.
        protocol: ProtocolId,
        /// The event.
        event: Box<dyn Any + Send>,
    },
}

impl fmt::Debug for HostEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostEvent::PeerConnected {
                peer,
                conn,
                direction,
                client_id,
                ..
            } => f
                .debug_struct("PeerConnected")
                .field("peer", peer)
                .field("conn", conn)
                .field("direction", direction)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            HostEvent::PeerDisconnected {
                peer, conn, reason, ..
            } => f
                .debug_struct("PeerDisconnected")
                .field("peer", peer)
                .field("conn", conn)
                .field("reason", reason)
                .finish_non_exhaustive(),
            HostEvent::ConnectionFailed {
                conn,
                direction,
                failure,
                ..
            } => f
                .debug_struct("ConnectionFailed")
                .field("conn", conn)
                .field("direction", direction)
                .field("failure", failure)
                .finish_non_exhaustive(),
            HostEvent::Throttled {
                peer,
                protocol,
                verdict,
            } => f
                .debug_struct("Throttled")
                .field("peer", peer)
                .field("protocol", protocol)
                .field("verdict", verdict)
                .finish(),
            HostEvent::Banned(b) => f.debug_tuple("Banned").field(b).finish(),
            HostEvent::Unbanned(t) => f.debug_tuple("Unbanned").field(t).finish(),
            HostEvent::Protocol { protocol, .. } => f
                .debug_struct("Protocol")
                .field("protocol", protocol)
                .finish_non_exhaustive(),
        }
    }
}
