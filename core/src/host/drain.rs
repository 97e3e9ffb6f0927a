//! Moving the children's outputs into the host's queues, in a fixed order: protocol actions,
//! then peer-manager actions, then discovery events, until none has anything left.

use std::time::Instant;

use crate::discv4::{Discv4Event, NodeEntry};
use crate::metrics::{HostMetrics, TrafficKey};
use crate::p2p::CapId;
use crate::peers::{BanTarget, PeerAction, ReputationChange};
use crate::protocol::ProtocolAction;
use crate::types::Direction;

use super::conn::{Conn, Phase};
use super::{ConnId, Host, HostAction, HostEvent};

/// Bound on drain rounds per input: each round moves everything queued, so more than a few
/// rounds means children keep feeding each other; stop and let the next input continue.
const MAX_DRAIN_ROUNDS: usize = 64;

impl Host {
    /// Drains the children until quiet.
    pub(super) fn process(&mut self, now: Instant) {
        for _ in 0..MAX_DRAIN_ROUNDS {
            let mut moved = false;
            while let Some(a) = self.registry.poll_action() {
                moved = true;
                self.on_protocol_action(now, a);
            }
            while let Some(a) = self.peers.poll_action() {
                moved = true;
                self.on_peer_action(now, a);
            }
            while let Some(ev) = self.discovery.as_mut().and_then(|d| d.poll_event()) {
                moved = true;
                self.on_discovery_event(now, ev);
            }
            if !moved {
                return;
            }
        }
    }

    /// A driver handed a `Send` action to its connection's session (or to the connection task
    /// that hands every command it receives to the session): counts it as egress under the
    /// negotiated capability. Sends still waiting or discarded are not egress.
    pub fn record_sent(&mut self, conn: ConnId, cap: CapId, msg_id: u64, bytes: usize) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let Phase::Established { caps, .. } = &c.phase else {
            return;
        };
        let (Some(shared), Some(peer)) = (caps.get(cap), c.peer) else {
            return;
        };
        let version = shared.cap.version;
        let Some(protocol) = self.registry.route(peer, cap) else {
            return;
        };
        let key = TrafficKey {
            protocol,
            version,
            code: msg_id,
        };
        self.metrics.egress(key, bytes);
    }

    /// A driver discarded `n` messages for `cause` (counted under `drops`).
    pub fn record_dropped(&mut self, cause: &'static str, n: u64) {
        *self.metrics.drops.entry(cause).or_default() += n;
    }

    fn on_protocol_action(&mut self, now: Instant, action: ProtocolAction) {
        let name = |host: &Host, id| {
            host.registry
                .spec(id)
                .map(|s| (s.cap.name.clone(), s.cap.version))
                .unwrap_or_default()
        };
        match action {
            ProtocolAction::Send {
                protocol: _,
                peer,
                cap,
                msg_id,
                payload,
            } => {
                let Some(conn) = self.established_conn(&peer) else {
                    HostMetrics::bump(&mut self.metrics.drops, "peer gone");
                    return;
                };
                // Egress is counted by the driver once the session has the message
                // (`record_sent`), not here where it is only requested.
                self.actions.push_back(HostAction::Send {
                    conn,
                    cap,
                    msg_id,
                    payload,
                });
            }
            ProtocolAction::Disconnect {
                protocol,
                peer,
                reason,
            } => {
                let (protocol, _) = name(self, protocol);
                HostMetrics::bump(&mut self.metrics.protocol_errors, protocol);
                if let Some(conn) = self.by_peer.get(&peer).copied() {
                    self.actions
                        .push_back(HostAction::Disconnect { conn, reason });
                }
            }
            ProtocolAction::Report {
                protocol,
                peer,
                change,
            } => {
                if is_fault(change) {
                    let (protocol, _) = name(self, protocol);
                    HostMetrics::bump(&mut self.metrics.protocol_errors, protocol);
                }
                self.peers.report(now, peer, change);
            }
            ProtocolAction::Event { protocol, event } => {
                self.push_event(HostEvent::Protocol { protocol, event });
            }
        }
    }

    fn on_peer_action(&mut self, now: Instant, action: PeerAction) {
        match action {
            PeerAction::Dial { peer, addr } => {
                self.metrics.dial_attempts += 1;
                let conn = self.new_conn(Conn {
                    direction: Direction::Outbound,
                    remote: addr,
                    peer: Some(peer),
                    started: now,
                    admitted_at: None,
                    phase: Phase::Dialing,
                    last_rtt: None,
                });
                self.actions
                    .push_back(HostAction::Dial { conn, peer, addr });
            }
            PeerAction::Disconnect { peer, reason } => {
                if let Some(conn) = self.by_peer.get(&peer).copied() {
                    self.actions
                        .push_back(HostAction::Disconnect { conn, reason });
                }
            }
            PeerAction::Banned(ban) => {
                match ban.target {
                    BanTarget::Peer(_) => self.metrics.peer_bans += 1,
                    BanTarget::Ip(_) => self.metrics.ip_bans += 1,
                }
                self.push_event(HostEvent::Banned(ban));
            }
            PeerAction::Unbanned(target) => self.push_event(HostEvent::Unbanned(target)),
        }
    }

    fn on_discovery_event(&mut self, now: Instant, ev: Discv4Event) {
        match ev {
            Discv4Event::NodeAdded(entry) => self.offer(now, &entry),
            Discv4Event::LookupDone { id, nodes, .. } => {
                if self.lookup == Some(id) {
                    self.lookup = None;
                }
                for entry in &nodes {
                    self.offer(now, entry);
                }
            }
            Discv4Event::NodeRemoved(_)
            | Discv4Event::PongReceived { .. }
            | Discv4Event::EnrReceived { .. }
            | Discv4Event::RequestFailed { .. }
            | Discv4Event::ExternalEndpoint(_) => {}
        }
    }

    /// Offers a discovered node to the dial scheduler, through the host's filter.
    fn offer(&mut self, now: Instant, entry: &NodeEntry) {
        let accept = self.filter.as_ref().is_none_or(|f| f(entry));
        self.peers.on_discovered(now, entry.record, accept);
    }

    fn established_conn(&self, peer: &crate::types::PeerId) -> Option<super::ConnId> {
        let conn = self.by_peer.get(peer)?;
        let c = self.conns.get(conn)?;
        matches!(c.phase, Phase::Established { .. }).then_some(*conn)
    }
}

/// Whether a protocol's report is about a fault (as opposed to good behaviour or a reset).
fn is_fault(change: ReputationChange) -> bool {
    !matches!(
        change,
        ReputationChange::Reset | ReputationChange::AlreadySeenTransaction
    ) && !matches!(change, ReputationChange::Other(n) if n >= 0)
}
