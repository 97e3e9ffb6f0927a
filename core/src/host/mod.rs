//! The [`Host`]: one sans-IO node composed of the peer manager, the protocol registry,
//! optional discv4, and the routing between them and the sessions (DESIGN §3).
//!
//! Sessions stay separate values (one per connection) so a runtime can run each on its own
//! task; the host only sees their events, tagged with a [`ConnId`], and answers with
//! [`HostAction`]s for them.
//!
//! - `builder.rs`: [`HostBuilder`], [`HostConfig`].
//! - `conn.rs`: [`ConnId`], [`HostPeer`], the per-connection record.
//! - `event.rs`: [`HostAction`], [`HostEvent`], [`ConnFailure`].
//! - `sessions.rs`: session events in, admission and routing to protocols.
//! - `drain.rs`: moving the children's outputs (peer manager, protocols, discovery) into the
//!   host's queues.

mod builder;
mod conn;
mod drain;
mod event;
mod sessions;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use builder::{HostBuilder, HostConfig, NodeFilter, LOOKUP_INTERVAL, MAX_PENDING_EVENTS};
pub use conn::{ConnId, HostPeer};
pub use event::{ConnFailure, HostAction, HostEvent};

use crate::discv4::{Discv4, LookupId};
use crate::metrics::HostMetrics;
use crate::p2p::DisconnectReason;
use crate::peers::{AdmissionError, Ban, CommandError, DialFailure, PeerManager, ReputationChange};
use crate::protocol::{Protocol, ProtocolId, ProtocolRegistry};
use crate::rng::MachineRng;
use crate::session::SessionConfig;
use crate::types::{Direction, PeerId};

use conn::{Conn, Phase};

/// A whole node without I/O.
///
/// Methods are of four kinds:
/// - **getters**: [`local_id`](Self::local_id), [`session_config`](Self::session_config)
///   (what every session of this host must be created with), [`peers`](Self::peers),
///   [`peer_count`](Self::peer_count), [`peer_manager`](Self::peer_manager),
///   [`registry`](Self::registry), [`protocol`](Self::protocol),
///   [`discovery`](Self::discovery), [`metrics`](Self::metrics),
///   [`connection_count`](Self::connection_count), [`is_shutting_down`](Self::is_shutting_down),
///   [`is_finished`](Self::is_finished);
/// - **inputs**: [`handle_inbound`](Self::handle_inbound) (TCP accepted),
///   [`handle_dial_failed`](Self::handle_dial_failed) (a `Dial` action could not connect),
///   [`handle_session_event`](Self::handle_session_event) (every event of every session,
///   in order), [`handle_datagram`](Self::handle_datagram) (discovery UDP),
///   [`handle_timeout`](Self::handle_timeout);
/// - **commands**: [`add_static`](Self::add_static), [`remove_static`](Self::remove_static),
///   [`add_trusted`](Self::add_trusted), [`remove_trusted`](Self::remove_trusted),
///   [`disconnect`](Self::disconnect), [`ban`](Self::ban),
///   [`restore_bans`](Self::restore_bans), [`report`](Self::report),
///   [`with_protocol`](Self::with_protocol), [`lookup`](Self::lookup),
///   [`shutdown`](Self::shutdown);
/// - **outputs**: [`poll_action`](Self::poll_action) (connection commands),
///   [`poll_transmit`](Self::poll_transmit) (discovery datagrams),
///   [`poll_event`](Self::poll_event) (for the application, logs and metrics), then
///   [`poll_timeout`](Self::poll_timeout).
///
/// **Drain rule**: after any input or command, drain `poll_action`, `poll_transmit` and
/// `poll_event` until `None`, then sleep until `poll_timeout`. Internally every input is
/// followed by draining the children in a fixed order — protocols' actions, then the peer
/// manager's, then discovery's events — until none has anything left, so everything an
/// input causes is queued before it returns.
///
/// **Connections**: a `Dial` action or an accepted connection gets a [`ConnId`]. The driver
/// feeds every event of that connection's session to `handle_session_event` in order, ending
/// with `Closed`. At `Authenticated` the session waits (the admission checkpoint): the host
/// answers with `Admit` or `Disconnect` for it. A dial that never produced a session is
/// reported with `handle_dial_failed` instead.
pub struct Host {
    cfg: HostConfig,
    session: Arc<SessionConfig>,
    local: PeerId,
    peers: PeerManager,
    registry: ProtocolRegistry,
    discovery: Option<Discv4>,
    filter: Option<NodeFilter>,
    conns: BTreeMap<ConnId, Conn>,
    /// Admitted peers and their connection.
    by_peer: BTreeMap<PeerId, ConnId>,
    next_conn: u64,
    actions: VecDeque<HostAction>,
    events: VecDeque<HostEvent>,
    metrics: HostMetrics,
    rng: MachineRng,
    next_lookup: Instant,
    lookup: Option<LookupId>,
    shutting_down: bool,
}

impl Host {
    // ---- getters ----

    /// The local node's identity.
    pub fn local_id(&self) -> PeerId {
        self.local
    }

    /// The session configuration every connection of this host uses (its protocols are the
    /// registered ones).
    pub fn session_config(&self) -> Arc<SessionConfig> {
        self.session.clone()
    }

    /// Admitted peers (established or exchanging Hello), in id order.
    pub fn peers(&self) -> Vec<HostPeer> {
        self.by_peer
            .iter()
            .filter_map(|(id, conn)| self.host_peer(*id, *conn))
            .collect()
    }

    /// One admitted peer.
    pub fn peer(&self, id: &PeerId) -> Option<HostPeer> {
        self.by_peer
            .get(id)
            .and_then(|conn| self.host_peer(*id, *conn))
    }

    /// Established peers in `direction` (all directions with `None`).
    pub fn peer_count(&self, direction: Option<Direction>) -> usize {
        self.by_peer
            .values()
            .filter_map(|c| self.conns.get(c))
            .filter(|c| matches!(c.phase, Phase::Established { .. }))
            .filter(|c| direction.is_none_or(|d| d == c.direction))
            .count()
    }

    /// Connections the host is tracking (dialing, handshaking, admitted).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// The peer manager, for its getters (limits, bans, static and trusted peers, stats).
    pub fn peer_manager(&self) -> &PeerManager {
        &self.peers
    }

    /// The protocol registry, for its getters.
    pub fn registry(&self) -> &ProtocolRegistry {
        &self.registry
    }

    /// The concrete protocol registered under `id`, if it is a `P`.
    pub fn protocol<P: Protocol>(&self, id: ProtocolId) -> Option<&P> {
        let p: &dyn std::any::Any = self.registry.get(id)?;
        p.downcast_ref::<P>()
    }

    /// The discovery machine, when the host runs one.
    pub fn discovery(&self) -> Option<&Discv4> {
        self.discovery.as_ref()
    }

    /// Counters since start.
    pub fn metrics(&self) -> &HostMetrics {
        &self.metrics
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// True once shutting down and every connection has closed: the driver may stop.
    pub fn is_finished(&self) -> bool {
        self.shutting_down && self.conns.is_empty()
    }

    fn host_peer(&self, id: PeerId, conn_id: ConnId) -> Option<HostPeer> {
        let conn = self.conns.get(&conn_id)?;
        let (client_id, caps, established) = match &conn.phase {
            Phase::Established { client_id, caps } => (
                client_id.clone(),
                caps.iter().map(|(_, s)| s.cap.clone()).collect(),
                true,
            ),
            _ => (String::new(), Vec::new(), false),
        };
        Some(HostPeer {
            id,
            conn: conn_id,
            direction: conn.direction,
            remote: conn.remote,
            client_id,
            caps,
            established,
            is_static: self.peers.is_static(&id),
            is_trusted: self.peers.is_trusted(&id),
            reputation: self.peers.reputation(&id),
            since: conn.admitted_at.unwrap_or(conn.started),
            rtt: conn.last_rtt,
        })
    }

    // ---- inputs ----

    /// A TCP connection from `remote` was accepted. `Ok` gives the connection's handle: start
    /// `Session::accept` with [`session_config`](Self::session_config) and feed its events.
    /// `Err`: close the socket at once (no handshake; nothing more to report).
    pub fn handle_inbound(
        &mut self,
        now: Instant,
        remote: SocketAddr,
    ) -> Result<ConnId, AdmissionError> {
        self.metrics.serve_attempts += 1;
        let verdict = self.peers.admit_inbound(now, remote);
        let result = match verdict {
            Ok(ticket) => {
                let conn = self.new_conn(Conn {
                    direction: Direction::Inbound,
                    remote,
                    peer: None,
                    started: now,
                    admitted_at: None,
                    phase: Phase::Accepted(ticket),
                    last_rtt: None,
                });
                Ok(conn)
            }
            Err(e) => {
                HostMetrics::bump(&mut self.metrics.serve_errors, e.reason().as_str());
                Err(e)
            }
        };
        self.process(now);
        result
    }

    /// The TCP listener's `accept` failed (the runtime pauses accepting; see
    /// [`AcceptBackoff`](crate::driver::accept::AcceptBackoff)): counted in
    /// [`HostMetrics::accept_errors`].
    pub fn handle_accept_error(&mut self, kind: crate::driver::accept::AcceptErrorKind) {
        HostMetrics::bump(&mut self.metrics.accept_errors, kind.as_str());
    }

    /// The `Dial` action for `conn` failed before a session started (connect error or
    /// timeout). Ignored for a connection that is not dialing.
    pub fn handle_dial_failed(&mut self, now: Instant, conn: ConnId, failure: DialFailure) {
        let dialing = self
            .conns
            .get(&conn)
            .is_some_and(|c| matches!(c.phase, Phase::Dialing));
        if !dialing {
            return;
        }
        if let Some(c) = self.conns.remove(&conn) {
            if let Some(peer) = c.peer {
                self.peers.on_dial_failed(now, peer, failure);
            }
            self.connection_failed(
                conn,
                c.direction,
                c.remote,
                c.peer,
                ConnFailure::Dial(failure),
            );
        }
        self.process(now);
    }

    /// A discovery datagram arrived (ignored when the host runs no discovery).
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        if let Some(d) = self.discovery.as_mut() {
            d.handle_datagram(now, from, datagram);
        }
        self.process(now);
    }

    /// Advances every timer to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.peers.handle_timeout(now);
        self.registry.handle_timeout(now);
        if let Some(d) = self.discovery.as_mut() {
            d.handle_timeout(now);
        }
        self.maybe_lookup(now);
        self.process(now);
    }

    // ---- commands ----

    /// Makes `peer` at `addr` a static peer (kept connected, redialed with backoff).
    pub fn add_static(
        &mut self,
        now: Instant,
        peer: PeerId,
        addr: SocketAddr,
    ) -> Result<(), CommandError> {
        let r = self.peers.add_static(now, peer, addr);
        self.process(now);
        r
    }

    /// Stops keeping `peer` connected and disconnects it. Returns whether it was static.
    pub fn remove_static(&mut self, now: Instant, peer: PeerId) -> bool {
        let r = self.peers.remove_static(now, peer);
        self.process(now);
        r
    }

    /// Makes `peer` trusted (admitted over the limits).
    pub fn add_trusted(&mut self, now: Instant, peer: PeerId) -> Result<(), CommandError> {
        let r = self.peers.add_trusted(peer);
        self.process(now);
        r
    }

    /// Makes `peer` an ordinary peer again. Returns whether it was trusted.
    pub fn remove_trusted(&mut self, now: Instant, peer: PeerId) -> bool {
        let r = self.peers.remove_trusted(now, peer);
        self.process(now);
        r
    }

    /// Disconnects `peer` with `reason`. Returns whether it was connected.
    pub fn disconnect(&mut self, now: Instant, peer: PeerId, reason: DisconnectReason) -> bool {
        let Some(conn) = self.by_peer.get(&peer).copied() else {
            return false;
        };
        self.actions
            .push_back(HostAction::Disconnect { conn, reason });
        self.process(now);
        true
    }

    /// Bans `peer` (and `ip` if given) for `duration`, disconnecting matches.
    pub fn ban(&mut self, now: Instant, peer: PeerId, ip: Option<IpAddr>, duration: Duration) {
        self.peers.ban(now, peer, ip, duration);
        self.process(now);
    }

    /// Restores persisted bans (from the node database at start). Returns how many apply.
    pub fn restore_bans(&mut self, now: Instant, bans: impl IntoIterator<Item = Ban>) -> usize {
        let n = self.peers.restore_bans(now, bans);
        self.process(now);
        n
    }

    /// Reports `peer`'s behaviour to its reputation.
    pub fn report(&mut self, now: Instant, peer: PeerId, change: ReputationChange) {
        self.peers.report(now, peer, change);
        self.process(now);
    }

    /// Runs `f` on the concrete protocol `id` (if it is a `P`) with a context to act
    /// through: how the application commands a protocol. Returns `None` if `id` is not a `P`.
    pub fn with_protocol<P: Protocol, R>(
        &mut self,
        now: Instant,
        id: ProtocolId,
        f: impl FnOnce(&mut P, &mut crate::protocol::ProtocolContext<'_>) -> R,
    ) -> Option<R> {
        let mut out = None;
        self.registry.with_protocol(now, id, |proto, ctx| {
            let any: &mut dyn std::any::Any = proto;
            if let Some(p) = any.downcast_mut::<P>() {
                out = Some(f(p, ctx));
            }
        });
        self.process(now);
        out
    }

    /// Starts a discovery lookup for `target` (None without discovery).
    pub fn lookup(&mut self, now: Instant, target: PeerId) -> Option<LookupId> {
        let id = self.discovery.as_mut().map(|d| d.lookup(now, target));
        self.process(now);
        id
    }

    /// Graceful shutdown: every peer gets `Disconnect(ClientQuitting)`, handshakes and dials
    /// are aborted, nothing new is admitted or dialed, and discovery flushes its database.
    pub fn shutdown(&mut self, now: Instant) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        self.peers.shutdown(now);
        let pending: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| !c.is_admitted())
            .map(|(id, _)| *id)
            .collect();
        for conn in pending {
            self.actions.push_back(HostAction::Disconnect {
                conn,
                reason: DisconnectReason::ClientQuitting,
            });
        }
        if let Some(d) = self.discovery.as_mut() {
            d.flush();
        }
        self.process(now);
    }

    // ---- outputs ----

    /// The next connection command.
    pub fn poll_action(&mut self) -> Option<HostAction> {
        self.actions.pop_front()
    }

    /// The next discovery datagram to send (≤ 1280 bytes).
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.discovery.as_mut().and_then(|d| d.poll_transmit())
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<HostEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let lookup = (self.wants_lookup()).then_some(self.next_lookup);
        [
            self.peers.poll_timeout(),
            self.registry.poll_timeout(),
            self.discovery.as_ref().and_then(|d| d.poll_timeout()),
            lookup,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- helpers ----

    fn new_conn(&mut self, conn: Conn) -> ConnId {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        self.conns.insert(id, conn);
        id
    }

    /// Whether the host should start lookups of its own: discovery runs, no lookup is in
    /// flight, and outbound slots are free.
    fn wants_lookup(&self) -> bool {
        self.discovery.is_some()
            && self.lookup.is_none()
            && !self.shutting_down
            && !self.peers.config().no_dial
            && self.peers.count(Direction::Outbound) < self.peers.config().max_outbound()
    }

    fn maybe_lookup(&mut self, now: Instant) {
        if !self.wants_lookup() || now < self.next_lookup {
            return;
        }
        let mut target = [0u8; 64];
        self.rng.fill(&mut target);
        if let Some(d) = self.discovery.as_mut() {
            self.lookup = Some(d.lookup(now, PeerId(target)));
        }
        self.next_lookup = now + self.cfg.lookup_interval;
    }

    fn push_event(&mut self, ev: HostEvent) {
        if self.events.len() >= self.cfg.max_pending_events {
            self.metrics.events_dropped += 1;
            // Keep the connection-level events (they drive logs and metrics); shed the oldest
            // protocol event instead if there is one.
            if let Some(pos) = self
                .events
                .iter()
                .position(|e| matches!(e, HostEvent::Protocol { .. }))
            {
                self.events.remove(pos);
            } else {
                self.events.pop_front();
            }
        }
        self.events.push_back(ev);
    }

    fn connection_failed(
        &mut self,
        conn: ConnId,
        direction: Direction,
        remote: SocketAddr,
        peer: Option<PeerId>,
        failure: ConnFailure,
    ) {
        let class = failure.class();
        match direction {
            Direction::Outbound => HostMetrics::bump(&mut self.metrics.dial_errors, class),
            Direction::Inbound => HostMetrics::bump(&mut self.metrics.serve_errors, class),
        }
        self.push_event(HostEvent::ConnectionFailed {
            conn,
            direction,
            remote,
            peer,
            failure,
        });
    }
}
