//! The peer manager: who may connect, whom to dial, and who gets dropped or banned, as a
//! sans-IO state machine.
//!
//! See [`PeerManager`] for the driver contract. One job per module:
//! - `config.rs`: [`PeerManagerConfig`] (limits with go-ethereum's defaults).
//! - `admission.rs`: inbound admission, authentication and session lifecycle verdicts.
//! - `dial.rs`: the dial scheduler (candidates, static peers, dials in flight, history).
//! - `backoff.rs`: cool-downs after failures ([`BackoffKind`], [`DialFailure`]).
//! - `reputation.rs`: scores, weights and decay ([`ReputationChange`]).
//! - `bans.rs`: bans by id and IP, persistable as [`Ban`] records.
//! - `source.rs`: which inbound connections count as one source ([`pending_source`]).
//! - `ratelimit.rs`: per-peer and per-protocol message budgets ([`RateVerdict`]).
//! - `commands.rs`: static/trusted peers, reports, bans, shutdown.
//! - `action.rs`: [`PeerAction`] and the getters' types; `error.rs`: refusals.

mod action;
mod admission;
mod backoff;
mod bans;
mod commands;
mod config;
mod dial;
mod error;
mod expiring;
mod ratelimit;
mod reputation;
mod source;
#[cfg(test)]
mod testutil;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub use action::{PeerAction, PeerInfo, PeerStats, TableSizes};
pub use admission::InboundTicket;
pub use backoff::{
    BackoffConfig, BackoffKind, DialFailure, HIGH_BACKOFF, LOW_BACKOFF, MAX_BACKOFF,
    MAX_DIAL_FAILURES, MAX_STATIC_BACKOFF, MEDIUM_BACKOFF,
};
pub use bans::{Ban, BanConfig, BanReason, BanTarget, BAN_DURATION, MAX_BANS, SHORT_BAN_DURATION};
pub use config::{
    PeerManagerConfig, DIAL_RATIO, INBOUND_THROTTLE, MAX_INBOUND_HISTORY, MAX_PEERS,
    MAX_PENDING_INBOUND, MAX_PENDING_INBOUND_PER_SOURCE, MAX_STATIC_PEERS, MAX_TRUSTED_PEERS,
    PENDING_INBOUND_TIMEOUT,
};
pub use dial::{
    DialConfig, StaticPeer, DIAL_HISTORY, DIAL_TIMEOUT, MAX_CANDIDATES, MAX_CONCURRENT_DIALS,
    MAX_DIAL_HISTORY, MAX_FORGOTTEN,
};
pub use error::{AdmissionError, CommandError};
pub use ratelimit::{
    RateLimit, RateLimitConfig, RateVerdict, PEER_RATE_LIMIT, PROTOCOL_RATE_LIMIT,
};
pub use reputation::{
    ReputationChange, ReputationConfig, ReputationWeights, BAN_THRESHOLD, DECAY_INTERVAL,
    DECAY_PERCENT, MAX_REPUTATION_ENTRIES, REPUTATION_UNIT,
};
pub use source::{pending_source, SOURCE_PREFIX_V4_BITS, SOURCE_PREFIX_V6_BITS};

use crate::discv4::packet::NodeRecord;
use crate::p2p::DisconnectReason;
use crate::rng::MachineRng;
use crate::types::{Direction, PeerId, Seed, WallClock};

use bans::BanList;
use dial::{DialBudget, DialScheduler};
use expiring::ExpiringMap;
use ratelimit::PeerRates;
use reputation::ReputationTable;

/// A peer with an admitted session.
#[derive(Clone, Debug)]
struct Connected {
    direction: Direction,
    remote: SocketAddr,
    since: Instant,
    established: bool,
    /// Set once we decided to drop it; it then no longer counts against the limits.
    leaving: Option<DisconnectReason>,
    rates: PeerRates,
}

/// Decides which connections to accept, whom to dial and whom to drop or ban, without any
/// I/O: admission limits, a dial scheduler with cool-downs, static and trusted peers,
/// reputation with decay, bans and message-rate budgets.
///
/// Methods are of four kinds:
/// - **getters**: [`local_id`](Self::local_id), [`config`](Self::config),
///   [`peer_count`](Self::peer_count), [`count`](Self::count), [`peer`](Self::peer),
///   [`peers`](Self::peers), [`reputation`](Self::reputation),
///   [`is_static`](Self::is_static), [`is_trusted`](Self::is_trusted),
///   [`static_peers`](Self::static_peers), [`trusted_peers`](Self::trusted_peers),
///   [`is_banned`](Self::is_banned), [`bans`](Self::bans),
///   [`dialing_count`](Self::dialing_count), [`is_dialing`](Self::is_dialing),
///   [`is_candidate`](Self::is_candidate),
///   [`pending_inbound_count`](Self::pending_inbound_count), [`stats`](Self::stats),
///   [`is_shutting_down`](Self::is_shutting_down), [`table_sizes`](Self::table_sizes);
/// - **inputs** (verdicts and outcomes reported by the host):
///   [`admit_inbound`](Self::admit_inbound) (a TCP connection was accepted; the returned
///   [`InboundTicket`] holds a pending-handshake slot),
///   [`on_inbound_failed`](Self::on_inbound_failed) (its handshake failed),
///   [`on_authenticated`](Self::on_authenticated) (RLPx handshake done, either direction),
///   [`on_established`](Self::on_established) (Hello negotiated),
///   [`on_dial_failed`](Self::on_dial_failed), [`on_closed`](Self::on_closed) (an admitted
///   session ended), [`on_discovered`](Self::on_discovered), [`on_message`](Self::on_message)
///   (charges a message to the peer's rate budget), [`handle_timeout`](Self::handle_timeout);
/// - **commands**: [`add_static`](Self::add_static), [`remove_static`](Self::remove_static),
///   [`add_trusted`](Self::add_trusted), [`remove_trusted`](Self::remove_trusted),
///   [`report`](Self::report), [`ban`](Self::ban), [`ban_ip`](Self::ban_ip),
///   [`unban`](Self::unban), [`restore_bans`](Self::restore_bans),
///   [`shutdown`](Self::shutdown);
/// - **outputs**: [`poll_action`](Self::poll_action) ([`PeerAction`]: dial, disconnect, ban
///   records to persist) and [`poll_timeout`](Self::poll_timeout).
///
/// **Drain rule**: after any input or command, drain `poll_action` until `None`, then sleep
/// until `poll_timeout` and call `handle_timeout` then. Everything an input causes is queued
/// at once; after `handle_timeout(now)` the next deadline is later than `now`.
///
/// **Slots and their release**: a `Dial` action holds a dial slot until the host reports
/// `on_dial_failed` or `on_authenticated` for that peer (the host reports its own dial and
/// handshake timeouts as [`DialFailure::Timeout`]; a dial left unreported for
/// [`DialConfig::timeout`] is reclaimed). An `InboundTicket` holds a pending slot until
/// `on_inbound_failed` or `on_authenticated` (inbound, same remote address), or its
/// safety-net deadline. Every peer admitted by `on_authenticated` must be reported to
/// `on_closed` exactly once when its session ends, whatever the cause, including refusals
/// by `on_established` and `Disconnect` actions.
///
/// Verdicts are synchronous: refusals come back as an [`AdmissionError`] whose
/// [`reason`](AdmissionError::reason) is the disconnect reason to send. Peer behaviour never
/// panics the manager. Iteration is ordered and randomness comes from the seeded
/// generator, so the same seed and inputs give the same actions.
#[derive(Debug)]
pub struct PeerManager {
    cfg: PeerManagerConfig,
    local: PeerId,
    clock: WallClock,
    rng: MachineRng,
    peers: BTreeMap<PeerId, Connected>,
    /// Inbound handshakes in progress, by remote address, with their safety-net deadline.
    pending_inbound: BTreeMap<SocketAddr, Instant>,
    inbound_history: ExpiringMap<IpAddr, ()>,
    dials: DialScheduler,
    trusted: BTreeSet<PeerId>,
    reputation: ReputationTable,
    bans: BanList,
    actions: VecDeque<PeerAction>,
    stats: PeerStats,
    shutting_down: bool,
}

/// `addr` with its IP in canonical form, so both spellings of an IPv4 address match.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

impl PeerManager {
    /// A manager for the local node `local`, with `clock` anchoring ban expiries to unix time
    /// and `seed` for its random choices.
    pub fn new(cfg: PeerManagerConfig, local: PeerId, clock: WallClock, seed: Seed) -> Self {
        Self {
            inbound_history: ExpiringMap::new(cfg.max_inbound_history),
            dials: DialScheduler::new(&cfg.dial),
            bans: BanList::new(cfg.bans.max_entries),
            cfg,
            local,
            clock,
            rng: MachineRng::new(seed),
            peers: BTreeMap::new(),
            pending_inbound: BTreeMap::new(),
            trusted: BTreeSet::new(),
            reputation: ReputationTable::default(),
            actions: VecDeque::new(),
            stats: PeerStats::default(),
            shutting_down: false,
        }
    }

    // ---- getters ----

    /// The local node's identity.
    pub fn local_id(&self) -> PeerId {
        self.local
    }

    /// The configuration.
    pub fn config(&self) -> &PeerManagerConfig {
        &self.cfg
    }

    /// Connected peers counted against the limits (those being disconnected excluded).
    pub fn peer_count(&self) -> usize {
        self.active().count()
    }

    /// Connected peers in `direction` counted against the limits.
    pub fn count(&self, direction: Direction) -> usize {
        self.active()
            .filter(|(_, c)| c.direction == direction)
            .count()
    }

    /// A connected peer.
    pub fn peer(&self, id: &PeerId) -> Option<PeerInfo> {
        self.peers.get(id).map(|c| self.info(id, c))
    }

    /// All connected peers, in id order.
    pub fn peers(&self) -> impl Iterator<Item = PeerInfo> + '_ {
        self.peers.iter().map(|(id, c)| self.info(id, c))
    }

    /// The reputation score of `peer` (zero when unknown).
    pub fn reputation(&self, peer: &PeerId) -> i32 {
        self.reputation.score(peer)
    }

    /// Whether `peer` is static.
    pub fn is_static(&self, peer: &PeerId) -> bool {
        self.dials.is_static(peer)
    }

    /// Whether `peer` is trusted.
    pub fn is_trusted(&self, peer: &PeerId) -> bool {
        self.trusted.contains(peer)
    }

    /// The static peers with their dial state, in id order.
    pub fn static_peers(&self) -> Vec<StaticPeer> {
        self.dials.static_peers()
    }

    /// The trusted peers, in id order.
    pub fn trusted_peers(&self) -> impl Iterator<Item = &PeerId> {
        self.trusted.iter()
    }

    /// Whether `target` is banned at `now`.
    pub fn is_banned(&self, target: &BanTarget, now: Instant) -> bool {
        self.bans.is_banned(target, now)
    }

    /// The bans in force, as records to persist (expiry in unix seconds).
    pub fn bans(&self) -> Vec<Ban> {
        self.bans.records(&self.clock)
    }

    /// Dials in flight.
    pub fn dialing_count(&self) -> usize {
        self.dials.dialing_len()
    }

    /// Whether a dial of `peer` is in flight.
    pub fn is_dialing(&self, peer: &PeerId) -> bool {
        self.dials.is_dialing(peer)
    }

    /// Whether `peer` is a dial candidate from discovery (static peers are not candidates).
    pub fn is_candidate(&self, peer: &PeerId) -> bool {
        self.dials.is_candidate(peer)
    }

    /// Inbound handshakes pending.
    pub fn pending_inbound_count(&self) -> usize {
        self.pending_inbound.len()
    }

    /// Counters of decisions so far.
    pub fn stats(&self) -> PeerStats {
        self.stats
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Sizes of the bounded tables (each stays within its configured cap).
    pub fn table_sizes(&self) -> TableSizes {
        TableSizes {
            peers: self.peers.len(),
            pending_inbound: self.pending_inbound.len(),
            inbound_history: self.inbound_history.len(),
            dialing: self.dials.dialing_len(),
            candidates: self.dials.candidate_len(),
            static_peers: self.dials.static_count(),
            trusted_peers: self.trusted.len(),
            dial_history: self.dials.history_len(),
            forgotten: self.dials.forgotten_len(),
            reputations: self.reputation.len(),
            bans: self.bans.len(),
            max_protocol_budgets: self
                .peers
                .values()
                .map(|c| c.rates.protocol_count())
                .max()
                .unwrap_or(0),
        }
    }

    // ---- inputs: discovery, dial outcomes, messages, time ----

    /// A node found by discovery. `accept` is the host's own verdict (e.g. the fork id of
    /// the ENR `eth` entry); the manager also drops nodes without a TCP port, itself, banned
    /// ids and IPs, addresses outside netrestrict, forgotten peers and recently dialed
    /// unknown peers. Returns whether the node is (now) a dial candidate.
    pub fn on_discovered(&mut self, now: Instant, record: NodeRecord, accept: bool) -> bool {
        let ip = record.endpoint.ip.to_canonical();
        let port = record.endpoint.tcp;
        if !accept
            || self.shutting_down
            || port == 0
            || ip.is_unspecified()
            || ip.is_multicast()
            || record.id == self.local
            || !self.cfg.allows_ip(ip)
            || self.bans.peer_banned(&record.id, now)
            || self.bans.ip_banned(ip, now)
        {
            return false;
        }
        let added = self
            .dials
            .offer(now, record.id, SocketAddr::new(ip, port), &self.cfg.dial);
        if added {
            self.fill_dial_slots(now);
        }
        added
    }

    /// A dial of ours failed before authentication (connect error, dial or handshake
    /// timeout, handshake failure, or Disconnect from the remote). Frees the dial slot and
    /// starts a cool-down graded by the failure. A report for a dial not in flight (already
    /// reclaimed) is ignored.
    pub fn on_dial_failed(&mut self, now: Instant, peer: PeerId, failure: DialFailure) {
        if self
            .dials
            .failed(now, peer, failure.backoff_kind(), &self.cfg.backoff)
        {
            self.stats.dial_failures += 1;
        }
        self.fill_dial_slots(now);
    }

    /// Charges one received message of `bytes` on `protocol` (capability name) to the
    /// budgets of `peer`. A noisy peer is first throttled, then penalised (its reputation
    /// lowered), then dropped (a `Disconnect` action is queued). Messages of peers that are
    /// not connected are not tracked and pass.
    pub fn on_message(
        &mut self,
        now: Instant,
        peer: PeerId,
        protocol: &str,
        bytes: usize,
    ) -> RateVerdict {
        let Some(conn) = self.peers.get_mut(&peer) else {
            return RateVerdict::Ok;
        };
        if conn.leaving.is_some() {
            return RateVerdict::Drop;
        }
        let verdict = conn.rates.check(now, &self.cfg.rate_limit, protocol, bytes);
        match verdict {
            RateVerdict::Ok => RateVerdict::Ok,
            RateVerdict::Throttle => {
                self.stats.throttled += 1;
                RateVerdict::Throttle
            }
            RateVerdict::Penalize => {
                self.stats.throttled += 1;
                self.stats.rate_penalties += 1;
                self.report(now, peer, ReputationChange::RateLimited);
                if self.is_leaving(&peer) {
                    RateVerdict::Drop
                } else {
                    RateVerdict::Penalize
                }
            }
            RateVerdict::Drop => {
                self.stats.throttled += 1;
                self.stats.rate_penalties += 1;
                self.stats.rate_drops += 1;
                self.report(now, peer, ReputationChange::RateLimited);
                self.disconnect(peer, DisconnectReason::SubprotocolError);
                RateVerdict::Drop
            }
        }
    }

    /// Advances timers to `now`: reclaims unreported dials and inbound handshakes, ends
    /// cool-downs and bans, decays reputations, and starts dials.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.reclaim_pending_inbound(now);
        let late = self.dials.expire(now, &self.cfg.backoff);
        self.stats.dials_reclaimed += late.len() as u64;
        self.inbound_history.sweep(now);
        while let Some(target) = self.bans.pop_expired(now) {
            self.actions.push_back(PeerAction::Unbanned(target));
        }
        self.reputation.decay(now, &self.cfg.reputation);
        self.fill_dial_slots(now);
    }

    // ---- outputs ----

    /// The next thing the host must do, in the order decided.
    pub fn poll_action(&mut self) -> Option<PeerAction> {
        self.actions.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called: the earliest dial
    /// or handshake deadline, end of a cool-down, dial-history expiry, ban expiry or
    /// reputation decay.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.dials.next_deadline(),
            self.pending_inbound.values().min().copied(),
            self.bans.next_expiry(),
            self.reputation.next_decay(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- internals ----

    fn info(&self, id: &PeerId, c: &Connected) -> PeerInfo {
        PeerInfo {
            id: *id,
            remote: c.remote,
            direction: c.direction,
            since: c.since,
            established: c.established,
            reputation: self.reputation.score(id),
            is_static: self.dials.is_static(id),
            is_trusted: self.trusted.contains(id),
            disconnecting: c.leaving.is_some(),
        }
    }

    /// Peers counted against the limits.
    fn active(&self) -> impl Iterator<Item = (&PeerId, &Connected)> {
        self.peers.iter().filter(|(_, c)| c.leaving.is_none())
    }

    fn is_leaving(&self, peer: &PeerId) -> bool {
        self.peers.get(peer).is_some_and(|c| c.leaving.is_some())
    }

    /// Queues a Disconnect for a connected peer, once.
    fn disconnect(&mut self, peer: PeerId, reason: DisconnectReason) {
        if let Some(c) = self.peers.get_mut(&peer) {
            if c.leaving.is_none() {
                c.leaving = Some(reason);
                self.stats.disconnects += 1;
                self.actions
                    .push_back(PeerAction::Disconnect { peer, reason });
            }
        }
    }

    fn reclaim_pending_inbound(&mut self, now: Instant) {
        let before = self.pending_inbound.len();
        self.pending_inbound.retain(|_, deadline| *deadline > now);
        self.stats.inbound_reclaimed += (before - self.pending_inbound.len()) as u64;
    }

    /// Starts as many dials as the limits allow. Outbound capacity follows go-ethereum: at
    /// most twice the free outbound slots may be dialing (some dials fail), within
    /// [`DialConfig::max_concurrent`]; trusted static peers need no free slot.
    ///
    /// With `no_dial`, discovery candidates are never dialed but static peers still are
    /// (go-ethereum dials static nodes with `--nodiscover` too); they need a free peer slot
    /// rather than an outbound one.
    fn fill_dial_slots(&mut self, now: Instant) {
        if self.shutting_down {
            return;
        }
        let dialing = self.dials.dialing_len();
        let total = self.cfg.dial.max_concurrent.saturating_sub(dialing);
        if total == 0 {
            return;
        }
        let free_peers = self.cfg.max_peers.saturating_sub(self.peer_count());
        let free_outbound = if self.cfg.no_dial {
            free_peers
        } else {
            self.cfg
                .max_outbound()
                .saturating_sub(self.count(Direction::Outbound))
                .min(free_peers)
        };
        let untrusted = free_outbound
            .saturating_mul(2)
            .saturating_sub(dialing)
            .min(total);
        let (peers, bans, trusted, cfg, local) = (
            &self.peers,
            &self.bans,
            &self.trusted,
            &self.cfg,
            self.local,
        );
        let blocked = |id: &PeerId, addr: &SocketAddr| {
            *id == local
                || peers.contains_key(id)
                || bans.peer_banned(id, now)
                || bans.ip_banned(addr.ip(), now)
                || !cfg.allows_ip(addr.ip())
        };
        let picks = self.dials.plan(
            now,
            DialBudget {
                total,
                untrusted,
                candidates: !self.cfg.no_dial,
            },
            &cfg.dial,
            |id| trusted.contains(id),
            blocked,
            &mut self.rng,
        );
        for (peer, addr) in picks {
            self.stats.dials += 1;
            self.actions.push_back(PeerAction::Dial { peer, addr });
        }
    }
}

#[cfg(test)]
mod tests;
