//! Table refresh schedule: every refresh interval (30 min), a lookup for our own id and for
//! [`RANDOM_TARGETS`] random targets, one after the other (go-ethereum `doRefresh`). The
//! first refresh runs as soon as the bootstrap bonds (bootnodes and database seeds) have
//! resolved. While the table stays empty, bootstrapping is retried with a backoff from
//! [`BOOTSTRAP_RETRY_MIN`] doubling up to [`EMPTY_TABLE_RETRY`]: a lost first Ping (or a
//! bootnode not up yet) should not leave a node alone for long, and an offline node costs a
//! few datagrams per half minute.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::LookupId;
use crate::types::PeerId;

/// Random-target lookups per refresh, after the self lookup.
pub(crate) const RANDOM_TARGETS: usize = 3;
/// First retry of a bootstrap that left the table empty.
pub(crate) const BOOTSTRAP_RETRY_MIN: Duration = Duration::from_secs(1);
/// Longest wait between bootstrap retries while the table is empty.
pub(crate) const EMPTY_TABLE_RETRY: Duration = Duration::from_secs(30);

/// The refresh schedule and the refresh lookups still to run.
#[derive(Clone, Debug)]
pub(crate) struct Refresh {
    interval: Duration,
    next_at: Option<Instant>,
    /// Bootstrap pings are out; refresh as soon as they resolve.
    awaiting_bootstrap: bool,
    /// Targets still to look up in this round.
    targets: VecDeque<PeerId>,
    /// The refresh lookup running now.
    current: Option<LookupId>,
    /// Bootstraps since the table was last non-empty (for the backoff).
    bootstrap_attempts: u32,
}

/// What the machine should do at a refresh tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tick {
    /// Nothing is due.
    Idle,
    /// The table is empty: bond with the bootnodes and seeds again (and report it with
    /// `bootstrap_started`).
    Bootstrap,
    /// Start a round of lookups: give the targets to `begin_round`.
    Lookups,
}

impl Refresh {
    /// A schedule refreshing every `interval`, waiting for the bootstrap to start.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            next_at: None,
            awaiting_bootstrap: false,
            targets: VecDeque::new(),
            current: None,
            bootstrap_attempts: 0,
        }
    }

    /// Bootstrap pings went out at `now`: refresh when they resolve, or retry later.
    pub fn bootstrap_started(&mut self, now: Instant) {
        self.awaiting_bootstrap = true;
        let backoff = BOOTSTRAP_RETRY_MIN
            .saturating_mul(1 << self.bootstrap_attempts.min(16))
            .min(EMPTY_TABLE_RETRY);
        self.bootstrap_attempts = self.bootstrap_attempts.saturating_add(1);
        self.next_at = Some(now + backoff);
    }

    /// Whether a bootstrap is under way.
    pub fn awaiting_bootstrap(&self) -> bool {
        self.awaiting_bootstrap
    }

    /// All bootstrap pings resolved; `table_empty` says whether any bonded.
    pub fn bootstrap_resolved(&mut self, now: Instant, table_empty: bool) {
        if self.awaiting_bootstrap && !table_empty {
            self.awaiting_bootstrap = false;
            self.bootstrap_attempts = 0;
            self.next_at = Some(now);
        }
    }

    /// Whether the machine should act now, and how.
    pub fn tick(&mut self, now: Instant, table_empty: bool) -> Tick {
        if self.next_at.is_none_or(|t| t > now) {
            return Tick::Idle;
        }
        if self.current.is_some() || !self.targets.is_empty() {
            // The previous round is still running: skip this one.
            self.next_at = Some(now + self.interval);
            return Tick::Idle;
        }
        if table_empty {
            // The machine bonds again and calls `bootstrap_started` (if it has anyone to
            // bond with; if not, nothing is scheduled until a bootnode is added).
            self.next_at = None;
            return Tick::Bootstrap;
        }
        self.awaiting_bootstrap = false;
        self.next_at = Some(now + self.interval);
        Tick::Lookups
    }

    /// The targets of the round a [`Tick::Lookups`] started (self first).
    pub fn begin_round(&mut self, targets: Vec<PeerId>) {
        self.targets = targets.into();
    }

    /// The next target to look up in this round, if the previous lookup is done.
    pub fn next_target(&mut self) -> Option<PeerId> {
        if self.current.is_some() {
            return None;
        }
        self.targets.pop_front()
    }

    /// The refresh lookup `id` started.
    pub fn started(&mut self, id: LookupId) {
        self.current = Some(id);
    }

    /// Lookup `id` finished; true if it was ours.
    pub fn finished(&mut self, id: LookupId) -> bool {
        if self.current == Some(id) {
            self.current = None;
            true
        } else {
            false
        }
    }

    /// When the next refresh is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.next_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discv4::test_util::t0;

    fn targets() -> Vec<PeerId> {
        (0..=RANDOM_TARGETS as u8)
            .map(|i| PeerId([i; 64]))
            .collect()
    }

    #[test]
    fn first_refresh_runs_when_bootstrap_resolves_then_every_interval() {
        let t = t0();
        let iv = Duration::from_secs(1800);
        let mut r = Refresh::new(iv);
        r.bootstrap_started(t);
        assert_eq!(r.tick(t, true), Tick::Idle);
        r.bootstrap_resolved(t + Duration::from_millis(40), false);
        let t1 = t + Duration::from_millis(40);
        assert_eq!(r.next_deadline(), Some(t1));
        assert_eq!(r.tick(t1, false), Tick::Lookups);
        r.begin_round(targets());
        assert_eq!(r.next_deadline(), Some(t1 + iv));
        // Lookups run one at a time, in order.
        let mut seen = Vec::new();
        for n in 0..4 {
            let target = r.next_target().unwrap();
            seen.push(target);
            r.started(LookupId(n));
            assert_eq!(r.next_target(), None);
            assert!(!r.finished(LookupId(99)));
            assert!(r.finished(LookupId(n)));
        }
        assert_eq!(seen, targets());
        assert_eq!(r.next_target(), None);
    }

    #[test]
    fn empty_table_bootstraps_again_with_a_growing_backoff() {
        let t = t0();
        let mut r = Refresh::new(Duration::from_secs(1800));
        r.bootstrap_started(t);
        r.bootstrap_resolved(t + Duration::from_millis(500), true);
        let mut at = t + BOOTSTRAP_RETRY_MIN;
        let mut waits = Vec::new();
        for _ in 0..8 {
            assert_eq!(r.next_deadline(), Some(at));
            assert_eq!(r.tick(at, true), Tick::Bootstrap);
            r.bootstrap_started(at);
            let next = r.next_deadline().unwrap();
            waits.push((next - at).as_secs());
            at = next;
        }
        assert_eq!(waits, [2, 4, 8, 16, 30, 30, 30, 30]);
        // Success resets the backoff.
        r.bootstrap_resolved(at, false);
        assert_eq!(r.tick(at, false), Tick::Lookups);
        r.bootstrap_started(at);
        assert_eq!(r.next_deadline(), Some(at + BOOTSTRAP_RETRY_MIN));
    }

    #[test]
    fn round_still_running_skips_the_next() {
        let t = t0();
        let iv = Duration::from_secs(10);
        let mut r = Refresh::new(iv);
        r.bootstrap_started(t);
        r.bootstrap_resolved(t, false);
        assert_eq!(r.tick(t, false), Tick::Lookups);
        r.begin_round(targets());
        r.next_target();
        r.started(LookupId(1));
        assert_eq!(r.tick(t + iv, false), Tick::Idle);
        assert_eq!(r.next_deadline(), Some(t + iv + iv));
    }
}
