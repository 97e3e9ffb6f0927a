//! The host's record of one connection, from dial or accept to `Closed`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::p2p::{Capability, SharedCapabilities};
use crate::peers::InboundTicket;
use crate::types::{Direction, PeerId};

/// A connection's handle, unique for the host's lifetime; the driver tags every session
/// event with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Where a connection stands.
#[derive(Debug)]
pub(crate) enum Phase {
    /// Outbound: TCP connect or RLPx handshake in progress (the dial slot is held).
    Dialing,
    /// Inbound: RLPx handshake in progress (the pending slot is held by the ticket).
    Accepted(InboundTicket),
    /// Authenticated but refused at the checkpoint; waiting for `Closed`.
    Refused,
    /// Admitted by the peer manager; Hello not yet exchanged.
    Admitted,
    /// Hello exchanged and protocols running.
    Established {
        client_id: String,
        caps: SharedCapabilities,
    },
}

/// One connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub direction: Direction,
    pub remote: SocketAddr,
    /// The dialed identity, or the authenticated one.
    pub peer: Option<PeerId>,
    pub started: Instant,
    pub admitted_at: Option<Instant>,
    pub phase: Phase,
    pub last_rtt: Option<Duration>,
}

impl Conn {
    /// True while the peer manager counts the peer (admitted or established).
    pub fn is_admitted(&self) -> bool {
        matches!(self.phase, Phase::Admitted | Phase::Established { .. })
    }
}

/// A connected peer as the host sees it (for `admin_peers`-style views).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPeer {
    /// The peer.
    pub id: PeerId,
    /// Its connection.
    pub conn: ConnId,
    /// Who dialed.
    pub direction: Direction,
    /// Its address.
    pub remote: SocketAddr,
    /// Client id from its Hello (empty before Hello).
    pub client_id: String,
    /// Negotiated capabilities (empty before Hello).
    pub caps: Vec<Capability>,
    /// Whether the Hello exchange has completed.
    pub established: bool,
    /// Whether it is a static peer.
    pub is_static: bool,
    /// Whether it is trusted.
    pub is_trusted: bool,
    /// Its reputation score.
    pub reputation: i32,
    /// When it was admitted.
    pub since: Instant,
    /// The last measured Ping round trip.
    pub rtt: Option<Duration>,
}
