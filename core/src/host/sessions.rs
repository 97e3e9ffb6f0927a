//! Session events in: the admission checkpoint, Hello negotiation, message routing to the
//! protocols (through the rate budgets), and the end of sessions.

use std::time::Instant;

use crate::metrics::{HostMetrics, Side, TrafficKey};
use crate::p2p::{CapId, DisconnectReason, Hello, SharedCapabilities};
use crate::peers::{DialFailure, RateVerdict};
use crate::session::{CloseReason, SessionEvent};

use super::conn::Phase;
use super::{ConnFailure, ConnId, Host, HostAction, HostEvent};

impl Host {
    /// An event of the session of `conn`, in the order the session produced them. Events of
    /// unknown connections are ignored (the driver may race a `Disconnect`).
    pub fn handle_session_event(&mut self, now: Instant, conn: ConnId, ev: SessionEvent) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        match ev {
            SessionEvent::Authenticated { remote } => self.on_authenticated(now, conn, remote),
            SessionEvent::Established { hello, caps } => {
                self.on_established(now, conn, hello, caps)
            }
            SessionEvent::Message {
                cap,
                msg_id,
                payload,
            } => self.on_message(now, conn, cap, msg_id, &payload),
            SessionEvent::Pong { rtt } => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.last_rtt = Some(rtt);
                }
            }
            SessionEvent::Closed { reason } => self.on_closed(now, conn, reason),
        }
        self.process(now);
    }

    fn on_authenticated(&mut self, now: Instant, conn: ConnId, remote: crate::types::PeerId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !matches!(c.phase, Phase::Dialing | Phase::Accepted(_)) {
            return;
        }
        // The inbound ticket is spent by `on_authenticated`, which releases its slot.
        c.phase = Phase::Refused;
        let (addr, direction) = (c.remote, c.direction);
        c.peer = Some(remote);
        self.resolve_crossed_dials(now, conn, remote, direction);
        let verdict = self.peers.on_authenticated(now, remote, addr, direction);
        match verdict {
            Ok(()) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.phase = Phase::Admitted;
                    c.admitted_at = Some(now);
                }
                self.by_peer.insert(remote, conn);
                self.actions.push_back(HostAction::Admit { conn });
            }
            Err(e) => {
                // A dial answered by someone else (`dialed` ≠ `remote`) was ended as a
                // failure by the manager itself; nothing else to report.
                self.actions.push_back(HostAction::Disconnect {
                    conn,
                    reason: e.reason(),
                });
                self.connection_failed(
                    conn,
                    direction,
                    addr,
                    Some(remote),
                    ConnFailure::Refused(e),
                );
            }
        }
    }

    /// Two nodes that dial each other at the same time end up with two connections; each
    /// side, seeing the second one, would refuse it as "already connected", and both
    /// connections would die. Both sides instead keep the connection dialed by the node with
    /// the smaller id: when the new connection is that one, the older one is retired here
    /// (its peer released as closed, Disconnect sent) before the new one is admitted.
    fn resolve_crossed_dials(
        &mut self,
        now: Instant,
        conn: ConnId,
        peer: crate::types::PeerId,
        direction: crate::types::Direction,
    ) {
        let Some(&old) = self.by_peer.get(&peer) else {
            return;
        };
        let Some(o) = self.conns.get(&old) else {
            return;
        };
        if old == conn || o.direction == direction {
            return;
        }
        let new_dialed_by_us = direction == crate::types::Direction::Outbound;
        let keep_new = new_dialed_by_us == (self.local < peer);
        if !keep_new {
            return;
        }
        let Some(mut o) = self.conns.remove(&old) else {
            return;
        };
        let established = matches!(o.phase, Phase::Established { .. });
        let since = o.admitted_at.unwrap_or(o.started);
        o.phase = Phase::Refused;
        let old_direction = o.direction;
        self.conns.insert(old, o);
        self.by_peer.remove(&peer);
        if established {
            self.registry.on_disconnected(now, peer);
        }
        let reason = DisconnectReason::AlreadyConnected;
        self.peers.on_closed(now, peer, reason, None);
        self.actions
            .push_back(HostAction::Disconnect { conn: old, reason });
        HostMetrics::bump(&mut self.metrics.disconnects, (reason.as_str(), Side::Sent));
        self.push_event(HostEvent::PeerDisconnected {
            peer,
            conn: old,
            direction: old_direction,
            reason: CloseReason::Local(reason),
            established,
            connected_for: now.saturating_duration_since(since),
        });
    }

    fn on_established(
        &mut self,
        now: Instant,
        conn: ConnId,
        hello: Hello,
        caps: SharedCapabilities,
    ) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (Phase::Admitted, Some(peer)) = (&c.phase, c.peer) else {
            return;
        };
        let (direction, remote, started) = (c.direction, c.remote, c.started);
        let shared = caps
            .iter()
            .filter(|(_, s)| self.registry.find(&s.cap).is_some())
            .count();
        if let Err(e) = self.peers.on_established(now, peer, shared) {
            self.actions.push_back(HostAction::Disconnect {
                conn,
                reason: e.reason(),
            });
            return;
        }
        if self.peers.peer(&peer).is_some_and(|p| p.disconnecting) {
            // The manager is already dropping it; do not start protocols.
            return;
        }
        let cap_list = caps.iter().map(|(_, s)| s.cap.clone()).collect();
        if let Some(c) = self.conns.get_mut(&conn) {
            c.phase = Phase::Established {
                client_id: hello.client_id.clone(),
                caps: caps.clone(),
            };
        }
        self.metrics.handshakes += 1;
        self.push_event(HostEvent::PeerConnected {
            peer,
            conn,
            direction,
            remote,
            client_id: hello.client_id,
            caps: cap_list,
            handshake: now.saturating_duration_since(started),
        });
        // The registry refuses only a second establishment of the same peer, which the
        // peer manager's duplicate check already excludes.
        let _ = self.registry.on_established(now, peer, direction, &caps);
    }

    fn on_message(&mut self, now: Instant, conn: ConnId, cap: CapId, msg_id: u64, payload: &[u8]) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (Phase::Established { caps, .. }, Some(peer)) = (&c.phase, c.peer) else {
            HostMetrics::bump(&mut self.metrics.drops, "not established");
            return;
        };
        let Some(shared) = caps.get(cap) else {
            HostMetrics::bump(&mut self.metrics.drops, "unknown capability");
            return;
        };
        let version = shared.cap.version;
        let Some(protocol) = self.registry.route(peer, cap) else {
            HostMetrics::bump(&mut self.metrics.drops, "unrouted");
            return;
        };
        let key = TrafficKey {
            protocol,
            version,
            code: msg_id,
        };
        self.metrics.ingress(key, payload.len());
        let name = self.metrics.protocol_name(protocol);
        let verdict = self.peers.on_message(now, peer, name, payload.len());
        if verdict != RateVerdict::Ok {
            let name = name.to_string();
            HostMetrics::bump(&mut self.metrics.drops, "rate limit");
            HostMetrics::bump(&mut self.metrics.throttled, name.clone());
            self.push_event(HostEvent::Throttled {
                peer,
                protocol: name,
                verdict,
            });
            return;
        }
        if self
            .registry
            .on_message(now, peer, cap, msg_id, payload)
            .is_err()
        {
            HostMetrics::bump(&mut self.metrics.drops, "unrouted");
        }
    }

    fn on_closed(&mut self, now: Instant, conn: ConnId, reason: CloseReason) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        let (direction, remote) = (c.direction, c.remote);
        match c.phase {
            Phase::Dialing => {
                if let Some(peer) = c.peer {
                    self.peers
                        .on_dial_failed(now, peer, dial_failure_of(&reason));
                }
                let failure = ConnFailure::Handshake(reason);
                self.connection_failed(conn, direction, remote, c.peer, failure);
            }
            Phase::Accepted(ticket) => {
                self.peers.on_inbound_failed(now, ticket);
                let failure = ConnFailure::Handshake(reason);
                self.connection_failed(conn, direction, remote, None, failure);
            }
            // Already reported as a failure at the checkpoint.
            Phase::Refused => {}
            Phase::Admitted | Phase::Established { .. } => {
                let Some(peer) = c.peer else {
                    return;
                };
                let established = matches!(c.phase, Phase::Established { .. });
                if self.by_peer.get(&peer) == Some(&conn) {
                    self.by_peer.remove(&peer);
                }
                if established {
                    self.registry.on_disconnected(now, peer);
                }
                let side = if reason.by_remote() {
                    Side::Received
                } else {
                    Side::Sent
                };
                let code = reason
                    .disconnect_reason()
                    .unwrap_or(DisconnectReason::NetworkError);
                HostMetrics::bump(&mut self.metrics.disconnects, (code.as_str(), side));
                self.peers.on_closed(now, peer, code, reason.fault_class());
                let since = c.admitted_at.unwrap_or(c.started);
                self.push_event(HostEvent::PeerDisconnected {
                    peer,
                    conn,
                    direction: c.direction,
                    reason,
                    established,
                    connected_for: now.saturating_duration_since(since),
                });
            }
        }
    }
}

/// How a dial's session that closed before authentication failed, for its cool-down.
fn dial_failure_of(reason: &CloseReason) -> DialFailure {
    match reason {
        CloseReason::Remote(r) => DialFailure::Disconnected(*r),
        CloseReason::TransportClosed => DialFailure::Connect,
        CloseReason::Error(e) if e.is_timeout() => DialFailure::Timeout,
        CloseReason::Error(_) | CloseReason::Local(_) => DialFailure::Handshake,
    }
}
