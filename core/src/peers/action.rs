//! What the peer manager asks of the host, and what it reports about itself.

use std::net::SocketAddr;
use std::time::Instant;

use crate::p2p::DisconnectReason;
use crate::types::{Direction, PeerId};

use super::bans::{Ban, BanTarget};

/// Something the host must do or record, from
/// [`PeerManager::poll_action`](super::PeerManager::poll_action).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerAction {
    /// Open a connection to `peer` at `addr`. A dial slot is held until the host reports
    /// `on_dial_failed` or `on_authenticated` for this peer.
    Dial {
        /// Who to dial (the RLPx remote key).
        peer: PeerId,
        /// Its TCP endpoint.
        addr: SocketAddr,
    },
    /// Close the session with `peer`, sending `reason`. The peer no longer counts against the
    /// limits; the host still reports `on_closed` when the session ends.
    Disconnect {
        /// Who to disconnect.
        peer: PeerId,
        /// The reason to send.
        reason: DisconnectReason,
    },
    /// A ban was imposed: log it and persist it in the node database.
    Banned(Ban),
    /// A ban ended (expired, lifted, or dropped because the ban list was full): remove it from
    /// the node database.
    Unbanned(BanTarget),
}

/// A connected peer, from [`PeerManager::peer`](super::PeerManager::peer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its identity.
    pub id: PeerId,
    /// Its TCP endpoint.
    pub remote: SocketAddr,
    /// Who opened the connection.
    pub direction: Direction,
    /// When it was admitted.
    pub since: Instant,
    /// Whether Hello negotiation completed with a shared capability.
    pub established: bool,
    /// Its reputation score.
    pub reputation: i32,
    /// Whether it is a static peer.
    pub is_static: bool,
    /// Whether it is a trusted peer.
    pub is_trusted: bool,
    /// Whether we asked the host to disconnect it (it no longer counts against the limits).
    pub disconnecting: bool,
}

/// Counters of the peer manager's decisions, for metrics and logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerStats {
    /// Dials started.
    pub dials: u64,
    /// Dials reported failed.
    pub dial_failures: u64,
    /// Dials never reported and reclaimed at their deadline.
    pub dials_reclaimed: u64,
    /// Inbound handshakes admitted to start.
    pub inbound_admitted: u64,
    /// Inbound connections refused before their handshake.
    pub inbound_refused: u64,
    /// Of those, refused because their source held its share of pending handshakes.
    pub inbound_refused_source_share: u64,
    /// Inbound handshakes never reported and reclaimed at their deadline.
    pub inbound_reclaimed: u64,
    /// Authenticated sessions refused.
    pub sessions_refused: u64,
    /// Messages over budget (every throttling, including those that penalised or dropped).
    pub throttled: u64,
    /// Reputation penalties for exceeding the message budget.
    pub rate_penalties: u64,
    /// Peers dropped for exceeding the message budget.
    pub rate_drops: u64,
    /// Bans imposed (by id and by IP counted separately).
    pub bans: u64,
    /// Peers banned because their reputation fell below the threshold.
    pub reputation_bans: u64,
    /// Disconnects we asked for.
    pub disconnects: u64,
}

/// Sizes of the manager's bounded tables, from
/// [`PeerManager::table_sizes`](super::PeerManager::table_sizes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableSizes {
    /// Connected peers (including those being disconnected).
    pub peers: usize,
    /// Inbound handshakes pending.
    pub pending_inbound: usize,
    /// IPs remembered by the inbound throttle.
    pub inbound_history: usize,
    /// Dials in flight.
    pub dialing: usize,
    /// Dial candidates.
    pub candidates: usize,
    /// Static peers.
    pub static_peers: usize,
    /// Trusted peers.
    pub trusted_peers: usize,
    /// Dial history entries.
    pub dial_history: usize,
    /// Forgotten peers remembered.
    pub forgotten: usize,
    /// Peers with a non-zero reputation.
    pub reputations: usize,
    /// Bans stored.
    pub bans: usize,
    /// Most protocol budgets held by one peer.
    pub max_protocol_budgets: usize,
}
