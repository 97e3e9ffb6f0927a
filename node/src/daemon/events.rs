//! What the daemon does with host events: structured logs (negotiation, disconnects with
//! reason and direction, throttling, bans), ban persistence in the node database, and the
//! observers (metrics, devnet statistics).

use paxeer_p2p_core::host::{Host, HostEvent};
use paxeer_p2p_core::peers::BanTarget;

use crate::nodedb::RedbNodeDb;

/// Something else that wants to see every event (metrics, statistics).
pub type Observer = Box<dyn FnMut(&Host, &HostEvent) + Send>;

/// The daemon's event handler, run inside the host task.
pub struct EventSink {
    /// The node's name in logs.
    pub name: String,
    /// Where bans are persisted.
    pub db: Option<RedbNodeDb>,
    /// Further observers.
    pub observers: Vec<Observer>,
}

impl EventSink {
    /// Handles one event.
    pub fn handle(&mut self, host: &Host, ev: HostEvent) {
        for o in &mut self.observers {
            o(host, &ev);
        }
        let node = self.name.as_str();
        match &ev {
            HostEvent::PeerConnected {
                peer,
                direction,
                remote,
                client_id,
                caps,
                handshake,
                ..
            } => {
                let caps: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
                tracing::info!(
                    node,
                    peer = %short(peer),
                    %remote,
                    direction = direction.as_str(),
                    client = %client_id,
                    caps = %caps.join(","),
                    handshake_ms = handshake.as_millis() as u64,
                    "peer connected"
                );
            }
            HostEvent::PeerDisconnected {
                peer,
                direction,
                reason,
                established,
                connected_for,
                ..
            } => {
                tracing::info!(
                    node,
                    peer = %short(peer),
                    direction = direction.as_str(),
                    reason = %reason,
                    by_remote = reason.by_remote(),
                    established,
                    connected_secs = connected_for.as_secs(),
                    "peer disconnected"
                );
            }
            HostEvent::ConnectionFailed {
                direction,
                remote,
                peer,
                failure,
                ..
            } => {
                tracing::debug!(
                    node,
                    peer = peer.as_ref().map(short).unwrap_or_default(),
                    %remote,
                    direction = direction.as_str(),
                    class = failure.class(),
                    error = %failure,
                    "connection failed"
                );
            }
            HostEvent::Throttled {
                peer,
                protocol,
                verdict,
            } => {
                tracing::warn!(node, peer = %short(peer), protocol, ?verdict, "peer throttled");
            }
            HostEvent::Banned(ban) => {
                tracing::warn!(
                    node,
                    target = %target_str(&ban.target),
                    reason = ban.reason.as_str(),
                    expires_unix = ban.expires_unix,
                    "banned"
                );
                if let Some(db) = &self.db {
                    db.put_ban(ban);
                }
            }
            HostEvent::Unbanned(target) => {
                tracing::info!(node, target = %target_str(target), "ban lifted");
                if let Some(db) = &self.db {
                    db.remove_ban(target);
                }
            }
            _ => {}
        }
    }
}

/// The first 8 bytes of a key in hex, for logs.
pub fn short(peer: &paxeer_p2p_core::types::PeerId) -> String {
    peer.to_hex().chars().take(16).collect()
}

fn target_str(t: &BanTarget) -> String {
    match t {
        BanTarget::Peer(p) => format!("peer {}", short(p)),
        BanTarget::Ip(ip) => format!("ip {ip}"),
    }
}
