//! The dial scheduler: dial candidates (from discovery) and static peers, the dials in flight,
//! the recently-dialed history and the forgotten peers, each bounded. Which peers to dial is
//! decided here; how many is decided by the manager from its limits.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::rng::MachineRng;
use crate::types::PeerId;

use super::backoff::{BackoffConfig, BackoffKind};
use super::expiring::{deadline, ExpiringMap};

/// Default cap on dials in flight. go-ethereum allows up to `MaxPendingPeers` (50) but also
/// at most twice the free outbound slots, which is 32 with the default limits; 16 keeps a
/// node from opening a burst of sockets at start-up while still filling its 16 outbound slots
/// in one round.
pub const MAX_CONCURRENT_DIALS: usize = 16;
/// Default safety-net dial deadline. The host reports its own timeouts (go-ethereum: 15 s
/// connect plus 5 s handshake); a dial still unreported after this long is reclaimed as
/// timed out, so a lost report can never leak a dial slot.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(30);
/// A peer is not redialed within this long of the previous attempt (go-ethereum
/// `dialHistoryExpiration`: the 30 s inbound throttle plus 5 s).
pub const DIAL_HISTORY: Duration = Duration::from_secs(35);
/// Default cap on dial candidates remembered from discovery.
pub const MAX_CANDIDATES: usize = 1024;
/// Default cap on the dial history.
pub const MAX_DIAL_HISTORY: usize = 1024;
/// Default cap on forgotten peers remembered (so discovery cannot re-add them at once).
pub const MAX_FORGOTTEN: usize = 1024;

/// Dial scheduler parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialConfig {
    /// Most dials in flight at once.
    pub max_concurrent: usize,
    /// Safety-net deadline of a dial the host never reported.
    pub timeout: Duration,
    /// No redial of a peer within this long of the previous attempt.
    pub history: Duration,
    /// Most dial candidates remembered; when full, the one heard of least recently goes.
    pub max_candidates: usize,
    /// Most entries in the dial history.
    pub max_history: usize,
    /// Most forgotten peers remembered.
    pub max_forgotten: usize,
}

impl Default for DialConfig {
    fn default() -> Self {
        Self {
            max_concurrent: MAX_CONCURRENT_DIALS,
            timeout: DIAL_TIMEOUT,
            history: DIAL_HISTORY,
            max_candidates: MAX_CANDIDATES,
            max_history: MAX_DIAL_HISTORY,
            max_forgotten: MAX_FORGOTTEN,
        }
    }
}

/// A static peer as reported by
/// [`PeerManager::static_peers`](super::PeerManager::static_peers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaticPeer {
    /// Its identity.
    pub id: PeerId,
    /// Where it is dialed.
    pub addr: SocketAddr,
    /// Consecutive failed attempts.
    pub failures: u32,
    /// Not dialed before this instant (its cool-down), if any.
    pub retry_at: Option<Instant>,
    /// Whether a dial is in flight.
    pub dialing: bool,
}

/// A peer we may dial, with its cool-down state.
#[derive(Clone, Copy, Debug)]
struct Target {
    addr: SocketAddr,
    failures: u32,
    retry_at: Option<Instant>,
    /// Sequence number of the last time discovery mentioned it (eviction order).
    seen: u64,
}

impl Target {
    fn new(addr: SocketAddr, seen: u64) -> Self {
        Self {
            addr,
            failures: 0,
            retry_at: None,
            seen,
        }
    }
}

/// A dial in flight.
#[derive(Clone, Copy, Debug)]
struct InFlight {
    addr: SocketAddr,
    deadline: Instant,
}

/// How many dials the manager allows this round.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DialBudget {
    /// Dials that may start in total.
    pub(crate) total: usize,
    /// Of those, dials of peers that are not trusted (they need a free outbound slot).
    pub(crate) untrusted: usize,
    /// Whether discovery candidates may be dialed (false: static peers only).
    pub(crate) candidates: bool,
}

/// Dial candidates, static peers, dials in flight and their histories.
#[derive(Clone, Debug)]
pub(crate) struct DialScheduler {
    candidates: BTreeMap<PeerId, Target>,
    statics: BTreeMap<PeerId, Target>,
    dialing: BTreeMap<PeerId, InFlight>,
    history: ExpiringMap<PeerId, ()>,
    forgotten: ExpiringMap<PeerId, ()>,
    seq: u64,
}

impl DialScheduler {
    /// An empty scheduler with the caps of `cfg`.
    pub(crate) fn new(cfg: &DialConfig) -> Self {
        Self {
            candidates: BTreeMap::new(),
            statics: BTreeMap::new(),
            dialing: BTreeMap::new(),
            history: ExpiringMap::new(cfg.max_history),
            forgotten: ExpiringMap::new(cfg.max_forgotten),
            seq: 0,
        }
    }

    /// Records a discovered peer at `addr`. Returns whether it is (now) a dial candidate or a
    /// static peer. Forgotten peers, and recently dialed peers not already known, are refused.
    pub(crate) fn offer(
        &mut self,
        now: Instant,
        peer: PeerId,
        addr: SocketAddr,
        cfg: &DialConfig,
    ) -> bool {
        if self.statics.contains_key(&peer) {
            // The operator's address is authoritative.
            return true;
        }
        if self.forgotten.contains(&peer, now) {
            return false;
        }
        self.seq = self.seq.wrapping_add(1);
        let seen = self.seq;
        if let Some(t) = self.candidates.get_mut(&peer) {
            t.addr = addr;
            t.seen = seen;
            return true;
        }
        if self.history.contains(&peer, now) {
            return false;
        }
        if self.candidates.len() >= cfg.max_candidates {
            let stalest = self
                .candidates
                .iter()
                .filter(|(id, _)| !self.dialing.contains_key(id))
                .min_by_key(|(_, t)| t.seen)
                .map(|(id, _)| *id);
            match stalest {
                Some(id) => {
                    self.candidates.remove(&id);
                }
                None => return false,
            }
        }
        self.candidates.insert(peer, Target::new(addr, seen));
        true
    }

    /// Makes `peer` static at `addr`, keeping the cool-down it had as a candidate, but no
    /// longer than the static cap from `now`: a candidate's cool-down may be up to
    /// [`BackoffConfig::max`], and a static peer must not wait longer than
    /// [`BackoffConfig::max_static`].
    pub(crate) fn add_static(
        &mut self,
        now: Instant,
        peer: PeerId,
        addr: SocketAddr,
        backoff: &BackoffConfig,
    ) {
        let mut target = self
            .candidates
            .remove(&peer)
            .or_else(|| self.statics.get(&peer).copied())
            .unwrap_or_else(|| Target::new(addr, self.seq));
        target.addr = addr;
        let cap = deadline(now, backoff.max_static);
        target.retry_at = target.retry_at.map(|at| at.min(cap));
        self.statics.insert(peer, target);
        self.forgotten.remove(&peer);
    }

    /// Stops treating `peer` as static; false if it was not.
    pub(crate) fn remove_static(&mut self, peer: &PeerId) -> bool {
        self.statics.remove(peer).is_some()
    }

    /// Whether `peer` is static.
    pub(crate) fn is_static(&self, peer: &PeerId) -> bool {
        self.statics.contains_key(peer)
    }

    /// Number of static peers.
    pub(crate) fn static_count(&self) -> usize {
        self.statics.len()
    }

    /// The static peers, in id order.
    pub(crate) fn static_peers(&self) -> Vec<StaticPeer> {
        self.statics
            .iter()
            .map(|(id, t)| StaticPeer {
                id: *id,
                addr: t.addr,
                failures: t.failures,
                retry_at: t.retry_at,
                dialing: self.dialing.contains_key(id),
            })
            .collect()
    }

    fn eligible(&self, id: &PeerId, t: &Target, now: Instant) -> bool {
        !self.dialing.contains_key(id)
            && !self.history.contains(id, now)
            && t.retry_at.is_none_or(|at| at <= now)
    }

    /// Picks the peers to dial now within `budget` and marks them in flight: static peers
    /// first (in id order; a trusted static peer needs no free outbound slot), then
    /// candidates drawn at random. `blocked` excludes connected, banned and restricted peers.
    pub(crate) fn plan(
        &mut self,
        now: Instant,
        budget: DialBudget,
        cfg: &DialConfig,
        is_trusted: impl Fn(&PeerId) -> bool,
        blocked: impl Fn(&PeerId, &SocketAddr) -> bool,
        rng: &mut MachineRng,
    ) -> Vec<(PeerId, SocketAddr)> {
        let DialBudget {
            mut total,
            mut untrusted,
            candidates,
        } = budget;
        let mut picks = Vec::new();
        for (id, t) in &self.statics {
            if total == 0 {
                break;
            }
            if !self.eligible(id, t, now) || blocked(id, &t.addr) {
                continue;
            }
            let trusted = is_trusted(id);
            if !trusted && untrusted == 0 {
                continue;
            }
            picks.push((*id, t.addr));
            total -= 1;
            if !trusted {
                untrusted -= 1;
            }
        }
        let wanted = if candidates { total.min(untrusted) } else { 0 };
        if wanted > 0 {
            let mut pool: Vec<(PeerId, SocketAddr)> = self
                .candidates
                .iter()
                .filter(|(id, t)| self.eligible(id, t, now) && !blocked(id, &t.addr))
                .map(|(id, t)| (*id, t.addr))
                .collect();
            for _ in 0..wanted {
                let Some(last) = pool.len().checked_sub(1) else {
                    break;
                };
                let i = rng.range_inclusive(0, last as u64);
                let i = usize::try_from(i).unwrap_or(0).min(last);
                picks.push(pool.swap_remove(i));
            }
        }
        for &(peer, addr) in &picks {
            self.dialing.insert(
                peer,
                InFlight {
                    addr,
                    deadline: deadline(now, cfg.timeout),
                },
            );
            self.history.insert(peer, deadline(now, cfg.history), ());
        }
        picks
    }

    /// Whether a dial of `peer` is in flight.
    pub(crate) fn is_dialing(&self, peer: &PeerId) -> bool {
        self.dialing.contains_key(peer)
    }

    /// Number of dials in flight.
    pub(crate) fn dialing_len(&self) -> usize {
        self.dialing.len()
    }

    /// Whether a dial in flight goes to `addr`, and the peer it expects if only one does.
    /// With several dials to one address (peers behind one NAT IP and port) an answer from
    /// there cannot be matched to its dial: each ends with its own report (or timeout).
    pub(crate) fn dial_to(&self, addr: &SocketAddr) -> Option<Option<PeerId>> {
        let mut to = self.dialing.iter().filter(|(_, d)| d.addr == *addr);
        let (first, _) = to.next()?;
        Some(to.next().is_none().then_some(*first))
    }

    /// The dial of `peer` to `addr` reached authentication: its slot is free. False (and
    /// nothing freed) if no dial of `peer` to `addr` was in flight: a connection to another
    /// address that authenticated as `peer` is not the dial of `peer`, which goes on and
    /// keeps its slot until the host reports it.
    pub(crate) fn finish(&mut self, peer: &PeerId, addr: &SocketAddr) -> bool {
        if self.dialing.get(peer).is_none_or(|d| d.addr != *addr) {
            return false;
        }
        self.dialing.remove(peer).is_some()
    }

    /// The dial of `peer` failed: frees its slot and starts a cool-down. False (and nothing
    /// recorded) if no dial of it was in flight, e.g. a late report of a reclaimed dial.
    pub(crate) fn failed(
        &mut self,
        now: Instant,
        peer: PeerId,
        kind: BackoffKind,
        backoff: &BackoffConfig,
    ) -> bool {
        if self.dialing.remove(&peer).is_none() {
            return false;
        }
        self.record_failure(now, peer, kind, backoff);
        true
    }

    fn record_failure(
        &mut self,
        now: Instant,
        peer: PeerId,
        kind: BackoffKind,
        backoff: &BackoffConfig,
    ) {
        if let Some(t) = self.statics.get_mut(&peer) {
            t.failures = t.failures.saturating_add(1);
            t.retry_at = Some(deadline(now, backoff.delay(kind, t.failures, true)));
            return;
        }
        let Some(t) = self.candidates.get_mut(&peer) else {
            return;
        };
        t.failures = t.failures.saturating_add(1);
        if t.failures >= backoff.max_failures {
            self.candidates.remove(&peer);
            self.forgotten.insert(peer, deadline(now, backoff.max), ());
        } else {
            t.retry_at = Some(deadline(now, backoff.delay(kind, t.failures, false)));
        }
    }

    /// A session with `peer` came up: its failure count starts over.
    pub(crate) fn succeeded(&mut self, peer: &PeerId) {
        if let Some(t) = self
            .statics
            .get_mut(peer)
            .or_else(|| self.candidates.get_mut(peer))
        {
            t.failures = 0;
            t.retry_at = None;
        }
    }

    /// A session with `peer` ended. After an established session the cool-down is the base
    /// of `kind`; a session that never got established counts as one more failure.
    pub(crate) fn closed(
        &mut self,
        now: Instant,
        peer: PeerId,
        kind: BackoffKind,
        established: bool,
        backoff: &BackoffConfig,
    ) {
        if !established {
            self.record_failure(now, peer, kind, backoff);
            return;
        }
        let is_static = self.statics.contains_key(&peer);
        if let Some(t) = self
            .statics
            .get_mut(&peer)
            .or_else(|| self.candidates.get_mut(&peer))
        {
            t.failures = 0;
            t.retry_at = Some(deadline(now, backoff.delay(kind, 1, is_static)));
        }
    }

    /// Reclaims the dials whose deadline passed (recording a timeout failure for each and
    /// returning their peers), clears cool-downs that ended and sweeps the histories.
    pub(crate) fn expire(&mut self, now: Instant, backoff: &BackoffConfig) -> Vec<PeerId> {
        let late: Vec<PeerId> = self
            .dialing
            .iter()
            .filter(|(_, d)| d.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for &peer in &late {
            self.failed(now, peer, BackoffKind::Medium, backoff);
        }
        for t in self
            .statics
            .values_mut()
            .chain(self.candidates.values_mut())
        {
            if t.retry_at.is_some_and(|at| at <= now) {
                t.retry_at = None;
            }
        }
        self.history.sweep(now);
        self.forgotten.sweep(now);
        late
    }

    /// The earliest instant at which something here changes on its own: a dial deadline, the
    /// end of a cool-down, or a history entry expiring.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let dials = self.dialing.values().map(|d| d.deadline);
        let retries = self
            .statics
            .values()
            .chain(self.candidates.values())
            .filter_map(|t| t.retry_at);
        dials.chain(retries).chain(self.history.next_expiry()).min()
    }

    /// Number of dial candidates.
    pub(crate) fn candidate_len(&self) -> usize {
        self.candidates.len()
    }

    /// Whether `peer` is a dial candidate (static peers are not counted).
    pub(crate) fn is_candidate(&self, peer: &PeerId) -> bool {
        self.candidates.contains_key(peer)
    }

    /// Number of dial history entries.
    pub(crate) fn history_len(&self) -> usize {
        self.history.len()
    }

    /// Number of forgotten peers remembered.
    pub(crate) fn forgotten_len(&self) -> usize {
        self.forgotten.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Seed;

    use crate::test_clock::t0;

    fn peer(b: u8) -> PeerId {
        PeerId([b; 64])
    }

    fn addr(b: u8) -> SocketAddr {
        SocketAddr::from(([1, 2, 3, b], 30303))
    }

    fn budget(n: usize) -> DialBudget {
        DialBudget {
            total: n,
            untrusted: n,
            candidates: true,
        }
    }

    fn plan(s: &mut DialScheduler, now: Instant, b: DialBudget) -> Vec<PeerId> {
        let mut rng = MachineRng::new(Seed([1; 32]));
        s.plan(
            now,
            b,
            &DialConfig::default(),
            |_| false,
            |_, _| false,
            &mut rng,
        )
        .into_iter()
        .map(|(p, _)| p)
        .collect()
    }

    #[test]
    fn dials_respect_the_budget_and_mark_peers_in_flight() {
        let cfg = DialConfig::default();
        let now = t0();
        let mut s = DialScheduler::new(&cfg);
        for b in 0..10 {
            assert!(s.offer(now, peer(b), addr(b), &cfg));
        }
        let picked = plan(&mut s, now, budget(4));
        assert_eq!(picked.len(), 4);
        assert_eq!(s.dialing_len(), 4);
        // Nothing is dialed twice.
        let again = plan(&mut s, now, budget(10));
        assert_eq!(again.len(), 6);
        assert!(again.iter().all(|p| !picked.contains(p)));
    }

    #[test]
    fn static_peers_go_first_and_trusted_ones_need_no_outbound_slot() {
        let cfg = DialConfig::default();
        let now = t0();
        let mut s = DialScheduler::new(&cfg);
        s.offer(now, peer(1), addr(1), &cfg);
        s.add_static(now, peer(9), addr(9), &BackoffConfig::default());
        s.add_static(now, peer(8), addr(8), &BackoffConfig::default());
        let mut rng = MachineRng::new(Seed([1; 32]));
        let picks = s.plan(
            now,
            DialBudget {
                total: 5,
                untrusted: 0,
                candidates: true,
            },
            &cfg,
            |p| *p == peer(9),
            |_, _| false,
            &mut rng,
        );
        assert_eq!(picks, vec![(peer(9), addr(9))]);
        let picks = plan(&mut s, now, budget(1));
        assert_eq!(picks, vec![peer(8)]);
    }

    #[test]
    fn failures_back_off_and_recently_dialed_peers_wait() {
        let cfg = DialConfig::default();
        let backoff = BackoffConfig::default();
        let now = t0();
        let mut s = DialScheduler::new(&cfg);
        s.offer(now, peer(1), addr(1), &cfg);
        assert_eq!(plan(&mut s, now, budget(1)), vec![peer(1)]);
        assert!(s.failed(now, peer(1), BackoffKind::Low, &backoff));
        assert!(!s.failed(now, peer(1), BackoffKind::Low, &backoff));
        assert_eq!(s.dialing_len(), 0);
        // Low backoff (30 s) ends before the 35 s history.
        let t = now + Duration::from_secs(34);
        s.expire(t, &backoff);
        assert!(plan(&mut s, t, budget(1)).is_empty());
        let t = now + DIAL_HISTORY;
        s.expire(t, &backoff);
        assert_eq!(plan(&mut s, t, budget(1)), vec![peer(1)]);
        // Second failure: 2 × 3 min.
        s.failed(t, peer(1), BackoffKind::Medium, &backoff);
        assert_eq!(s.next_deadline(), Some(t + Duration::from_secs(35)));
        s.expire(t + Duration::from_secs(35), &backoff);
        assert_eq!(s.next_deadline(), Some(t + Duration::from_secs(360)));
    }

    #[test]
    fn a_peer_failing_too_often_is_forgotten_unless_static() {
        let cfg = DialConfig::default();
        let backoff = BackoffConfig::default();
        let mut now = t0();
        let mut s = DialScheduler::new(&cfg);
        s.offer(now, peer(1), addr(1), &cfg);
        s.add_static(now, peer(2), addr(2), &backoff);
        for _ in 0..backoff.max_failures {
            now += Duration::from_secs(7200);
            s.expire(now, &backoff);
            let mut picked = plan(&mut s, now, budget(2));
            picked.sort();
            assert_eq!(picked, vec![peer(1), peer(2)]);
            s.failed(now, peer(1), BackoffKind::Low, &backoff);
            s.failed(now, peer(2), BackoffKind::Low, &backoff);
        }
        assert!(!s.is_candidate(&peer(1)));
        assert_eq!(s.forgotten_len(), 1);
        // Discovery cannot bring it back while forgotten.
        assert!(!s.offer(now, peer(1), addr(1), &cfg));
        assert!(s.offer(now + backoff.max, peer(1), addr(1), &cfg));
        assert_eq!(s.static_peers()[0].failures, backoff.max_failures);
    }

    #[test]
    fn expired_dials_are_reclaimed_as_timeouts() {
        let cfg = DialConfig::default();
        let backoff = BackoffConfig::default();
        let now = t0();
        let mut s = DialScheduler::new(&cfg);
        s.offer(now, peer(1), addr(1), &cfg);
        plan(&mut s, now, budget(1));
        assert_eq!(s.next_deadline(), Some(now + DIAL_TIMEOUT));
        assert!(s
            .expire(now + DIAL_TIMEOUT - Duration::from_secs(1), &backoff)
            .is_empty());
        assert_eq!(s.expire(now + DIAL_TIMEOUT, &backoff), vec![peer(1)]);
        assert_eq!(s.dialing_len(), 0);
    }

    #[test]
    fn candidate_list_is_bounded_and_keeps_the_freshest() {
        let cfg = DialConfig {
            max_candidates: 3,
            ..DialConfig::default()
        };
        let now = t0();
        let mut s = DialScheduler::new(&cfg);
        for b in 0..3 {
            s.offer(now, peer(b), addr(b), &cfg);
        }
        s.offer(now, peer(0), addr(0), &cfg); // refreshed
        s.offer(now, peer(7), addr(7), &cfg); // evicts peer 1, the stalest
        assert_eq!(s.candidate_len(), 3);
        assert!(s.is_candidate(&peer(0)));
        assert!(!s.is_candidate(&peer(1)));
    }

    #[test]
    fn recently_dialed_unknown_peers_are_not_added() {
        let cfg = DialConfig::default();
        let backoff = BackoffConfig {
            max_failures: 1,
            ..BackoffConfig::default()
        };
        let now = t0();
        let mut s = DialScheduler::new(&cfg);
        s.offer(now, peer(1), addr(1), &cfg);
        plan(&mut s, now, budget(1));
        s.failed(now, peer(1), BackoffKind::Low, &backoff);
        // Forgotten and in history: refused either way.
        assert!(!s.offer(now, peer(1), addr(1), &cfg));
        assert_eq!(s.history_len(), 1);
    }

    #[test]
    fn established_session_resets_failures_and_sets_a_base_cool_down() {
        let cfg = DialConfig::default();
        let backoff = BackoffConfig::default();
        let now = t0();
        let mut s = DialScheduler::new(&cfg);
        s.add_static(now, peer(1), addr(1), &backoff);
        plan(&mut s, now, budget(1));
        s.failed(now, peer(1), BackoffKind::High, &backoff);
        s.succeeded(&peer(1));
        s.closed(now, peer(1), BackoffKind::Low, true, &backoff);
        let st = s.static_peers()[0];
        assert_eq!(st.failures, 0);
        assert_eq!(st.retry_at, Some(now + backoff.low));
        s.closed(now, peer(1), BackoffKind::Low, false, &backoff);
        assert_eq!(s.static_peers()[0].failures, 1);
    }
}
