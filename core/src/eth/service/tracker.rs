//! [`RequestTracker`]: request ids, per-peer in-flight limits, adaptive timeouts and response
//! matching, shared by every request/response protocol (eth now, snap later).
//!
//! The rate model follows go-ethereum `p2p/msgrate`: each peer has a round-trip estimate and
//! a capacity (items delivered per second), both moved towards each new measurement by a
//! fixed fraction. A request's timeout is the RTT estimate scaled by [`TTL_SCALING`] and
//! clamped to [`MIN_TIMEOUT`, `MAX_TIMEOUT`]; callers with a fixed protocol timeout (the tx
//! fetcher's 5 s) pass it explicitly.
//!
//! A response is [`Fulfil::Matched`] when its id is in flight for that peer, [`Fulfil::Late`]
//! when it answers one of the peer's recently expired requests, and
//! [`Fulfil::Unsolicited`] otherwise; the caller decides the penalty.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use crate::types::PeerId;

/// Shortest timeout given to an adaptive request (go-ethereum `msgrate` keeps its RTT
/// estimate above 2 s for sync; we allow 1 s because the devnet is fast).
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest timeout given to an adaptive request (below go-ethereum's 20 s RTT ceiling so a
/// stalled peer is dropped faster).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout = RTT estimate × this (go-ethereum `msgrate` `ttlScaling`).
pub const TTL_SCALING: u32 = 3;
/// RTT assumed for a peer never measured (timeout 3 s before the first measurement).
pub const INITIAL_RTT: Duration = Duration::from_secs(1);
/// Weight of a new measurement in the moving averages (go-ethereum `msgrate`
/// `measurementImpact`).
pub const MEASUREMENT_IMPACT: f64 = 0.1;
/// Requests allowed in flight per peer by default.
pub const MAX_IN_FLIGHT_PER_PEER: usize = 8;
/// Requests in flight over all peers; beyond it [`RequestTracker::track`] refuses.
pub const MAX_IN_FLIGHT_TOTAL: usize = 4096;
/// Expired request ids remembered per peer to tell late responses from unsolicited ones.
pub const EXPIRED_IDS_PER_PEER: usize = 64;

/// How a response matched the requests in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fulfil<K> {
    /// It answers request `kind`, sent `rtt` ago.
    Matched {
        /// What was asked.
        kind: K,
        /// Time from request to response.
        rtt: Duration,
    },
    /// It answers a request of this peer that already timed out.
    Late,
    /// No such request was made to this peer.
    Unsolicited,
}

/// One request in flight.
#[derive(Clone, Debug)]
struct Pending<K> {
    peer: PeerId,
    kind: K,
    sent: Instant,
    deadline: Instant,
}

/// Per-peer measurements and bookkeeping.
#[derive(Clone, Debug)]
struct PeerRate {
    rtt: Duration,
    /// Items per second.
    capacity: f64,
    in_flight: usize,
    expired: VecDeque<u64>,
}

impl Default for PeerRate {
    fn default() -> Self {
        Self {
            rtt: INITIAL_RTT,
            capacity: 1.0,
            in_flight: 0,
            expired: VecDeque::new(),
        }
    }
}

/// Request ids, deadlines and per-peer rates. Generic over what a request was for (`K`).
///
/// Inputs: [`track`](Self::track) (a request is sent), [`fulfil`](Self::fulfil) (a response
/// arrived), [`expire`](Self::expire) (time passed), [`remove_peer`](Self::remove_peer).
/// Output: [`next_deadline`](Self::next_deadline).
#[derive(Debug)]
pub struct RequestTracker<K> {
    next_id: u64,
    max_in_flight_per_peer: usize,
    pending: BTreeMap<u64, Pending<K>>,
    deadlines: BTreeSet<(Instant, u64)>,
    peers: BTreeMap<PeerId, PeerRate>,
}

impl<K: Clone> RequestTracker<K> {
    /// An empty tracker whose ids start at `first_id` (random, so ids do not reveal how
    /// many requests we made) allowing `max_in_flight_per_peer` requests per peer.
    pub fn new(first_id: u64, max_in_flight_per_peer: usize) -> Self {
        Self {
            next_id: first_id,
            max_in_flight_per_peer: max_in_flight_per_peer.max(1),
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            peers: BTreeMap::new(),
        }
    }

    /// Whether another request to `peer` would be accepted.
    pub fn can_request(&self, peer: &PeerId) -> bool {
        self.pending.len() < MAX_IN_FLIGHT_TOTAL
            && self.in_flight(peer) < self.max_in_flight_per_peer
    }

    /// Requests in flight to `peer`.
    pub fn in_flight(&self, peer: &PeerId) -> usize {
        self.peers.get(peer).map_or(0, |p| p.in_flight)
    }

    /// Requests in flight over all peers.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The adaptive timeout for the next request to `peer`.
    pub fn timeout_for(&self, peer: &PeerId) -> Duration {
        let rtt = self.peers.get(peer).map_or(INITIAL_RTT, |p| p.rtt);
        rtt.saturating_mul(TTL_SCALING)
            .clamp(MIN_TIMEOUT, MAX_TIMEOUT)
    }

    /// The RTT estimate of `peer`.
    pub fn rtt(&self, peer: &PeerId) -> Duration {
        self.peers.get(peer).map_or(INITIAL_RTT, |p| p.rtt)
    }

    /// How many items `peer` should be asked for so it answers within `target_rtt`
    /// (go-ethereum `msgrate` `Capacity`: at least one).
    pub fn capacity(&self, peer: &PeerId, target_rtt: Duration) -> usize {
        let cap = self.peers.get(peer).map_or(1.0, |p| p.capacity);
        let items = 1.0 + cap * target_rtt.as_secs_f64();
        if items.is_finite() && items < usize::MAX as f64 {
            items as usize
        } else {
            usize::MAX
        }
    }

    /// Records a request to `peer` sent at `now` and returns its id, or `None` when the
    /// peer (or the tracker) is at its in-flight limit. `timeout` overrides the adaptive one.
    pub fn track(
        &mut self,
        now: Instant,
        peer: PeerId,
        kind: K,
        timeout: Option<Duration>,
    ) -> Option<u64> {
        if !self.can_request(&peer) {
            return None;
        }
        let timeout = timeout.unwrap_or_else(|| self.timeout_for(&peer));
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        // A wrapped counter could meet an id still in flight after 2^64 requests; refuse
        // rather than overwrite.
        if self.pending.contains_key(&id) {
            return None;
        }
        let deadline = now + timeout;
        self.pending.insert(
            id,
            Pending {
                peer,
                kind,
                sent: now,
                deadline,
            },
        );
        self.deadlines.insert((deadline, id));
        self.peers.entry(peer).or_default().in_flight += 1;
        Some(id)
    }

    /// Matches a response from `peer` carrying request id `id` and `items` objects, updating
    /// the peer's RTT and capacity when it matches.
    /// What request `id` to `peer` is for, if it is in flight (nothing changes).
    pub fn kind_of(&self, peer: &PeerId, id: u64) -> Option<&K> {
        self.pending
            .get(&id)
            .filter(|p| &p.peer == peer)
            .map(|p| &p.kind)
    }

    /// A response to request `id` arrived from `peer` with `items` items.
    pub fn fulfil(&mut self, now: Instant, peer: &PeerId, id: u64, items: usize) -> Fulfil<K> {
        let matches = self.pending.get(&id).is_some_and(|p| &p.peer == peer);
        if !matches {
            let late = self
                .peers
                .get(peer)
                .is_some_and(|p| p.expired.contains(&id));
            return if late {
                Fulfil::Late
            } else {
                Fulfil::Unsolicited
            };
        }
        let Some(p) = self.pending.remove(&id) else {
            return Fulfil::Unsolicited;
        };
        self.deadlines.remove(&(p.deadline, id));
        let rtt = now.saturating_duration_since(p.sent);
        if let Some(rate) = self.peers.get_mut(peer) {
            rate.in_flight = rate.in_flight.saturating_sub(1);
            rate.rtt = blend(rate.rtt.as_secs_f64(), rtt.as_secs_f64())
                .map_or(rate.rtt, Duration::from_secs_f64);
            // Empty answers say nothing about throughput (the peer may lack the data).
            if items > 0 {
                let measured = items as f64 / rtt.as_secs_f64().max(0.001);
                rate.capacity = blend(rate.capacity, measured).unwrap_or(rate.capacity);
            }
        }
        Fulfil::Matched { kind: p.kind, rtt }
    }

    /// Removes and returns the requests whose deadline is at or before `now` (oldest
    /// first), remembering their ids so a late answer is recognised.
    pub fn expire(&mut self, now: Instant) -> Vec<(u64, PeerId, K)> {
        let mut out = Vec::new();
        while let Some(&(deadline, id)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.deadlines.remove(&(deadline, id));
            let Some(p) = self.pending.remove(&id) else {
                continue;
            };
            if let Some(rate) = self.peers.get_mut(&p.peer) {
                rate.in_flight = rate.in_flight.saturating_sub(1);
                rate.expired.push_back(id);
                while rate.expired.len() > EXPIRED_IDS_PER_PEER {
                    rate.expired.pop_front();
                }
                // A timeout is a measurement too: the peer was at least this slow.
                let waited = now.saturating_duration_since(p.sent).as_secs_f64();
                rate.rtt =
                    blend(rate.rtt.as_secs_f64(), waited).map_or(rate.rtt, Duration::from_secs_f64);
            }
            out.push((id, p.peer, p.kind));
        }
        out
    }

    /// Forgets `peer` and returns its requests still in flight.
    pub fn remove_peer(&mut self, peer: &PeerId) -> Vec<(u64, K)> {
        self.peers.remove(peer);
        let ids: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| &p.peer == peer)
            .map(|(id, _)| *id)
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(p) = self.pending.remove(&id) {
                self.deadlines.remove(&(p.deadline, id));
                out.push((id, p.kind));
            }
        }
        out
    }

    /// The earliest deadline of a request in flight.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(t, _)| *t)
    }
}

/// Moves `old` towards `new` by [`MEASUREMENT_IMPACT`]; `None` if the result is not a sane
/// non-negative finite number.
fn blend(old: f64, new: f64) -> Option<f64> {
    let v = old * (1.0 - MEASUREMENT_IMPACT) + new * MEASUREMENT_IMPACT;
    (0.0..1e9).contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_clock::t0;

    fn peer(n: u8) -> PeerId {
        PeerId([n; 64])
    }

    #[test]
    fn responses_match_by_id_and_peer() {
        let now = t0();
        let mut t = RequestTracker::new(100, 2);
        let id = t.track(now, peer(1), "headers", None).unwrap();
        assert_eq!(t.fulfil(now, &peer(2), id, 1), Fulfil::Unsolicited);
        assert_eq!(t.fulfil(now, &peer(1), id + 1, 1), Fulfil::Unsolicited);
        let got = t.fulfil(now + Duration::from_millis(40), &peer(1), id, 1);
        assert_eq!(
            got,
            Fulfil::Matched {
                kind: "headers",
                rtt: Duration::from_millis(40)
            }
        );
        assert_eq!(t.fulfil(now, &peer(1), id, 1), Fulfil::Unsolicited);
        assert!(t.is_empty());
    }

    #[test]
    fn per_peer_in_flight_limit_is_enforced() {
        let now = t0();
        let mut t = RequestTracker::new(0, 2);
        assert!(t.track(now, peer(1), (), None).is_some());
        assert!(t.track(now, peer(1), (), None).is_some());
        assert!(t.track(now, peer(1), (), None).is_none());
        assert!(t.track(now, peer(2), (), None).is_some());
        assert_eq!(t.in_flight(&peer(1)), 2);
    }

    #[test]
    fn expired_requests_make_later_answers_late() {
        let now = t0();
        let mut t = RequestTracker::new(7, 4);
        let id = t
            .track(now, peer(1), 'x', Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(t.next_deadline(), Some(now + Duration::from_secs(5)));
        assert!(t.expire(now + Duration::from_secs(4)).is_empty());
        let gone = t.expire(now + Duration::from_secs(5));
        assert_eq!(gone, vec![(id, peer(1), 'x')]);
        assert_eq!(t.in_flight(&peer(1)), 0);
        assert_eq!(t.fulfil(now, &peer(1), id, 1), Fulfil::Late);
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn timeout_adapts_to_measured_rtt_within_bounds() {
        let mut now = t0();
        let mut t = RequestTracker::new(0, 1);
        assert_eq!(t.timeout_for(&peer(1)), INITIAL_RTT * TTL_SCALING);
        for _ in 0..100 {
            let id = t.track(now, peer(1), (), None).unwrap();
            now += Duration::from_millis(10);
            assert!(matches!(
                t.fulfil(now, &peer(1), id, 100),
                Fulfil::Matched { .. }
            ));
        }
        assert_eq!(t.timeout_for(&peer(1)), MIN_TIMEOUT);
        // 100 items in 10 ms: ~10 000 items/s, so about 1000 items fit in 100 ms.
        let cap = t.capacity(&peer(1), Duration::from_millis(100));
        assert!((500..=1001).contains(&cap), "{cap}");
        for _ in 0..100 {
            let id = t.track(now, peer(1), (), None).unwrap();
            now += Duration::from_secs(30);
            assert!(matches!(
                t.fulfil(now, &peer(1), id, 1),
                Fulfil::Matched { .. }
            ));
        }
        assert_eq!(t.timeout_for(&peer(1)), MAX_TIMEOUT);
    }

    #[test]
    fn removing_a_peer_returns_its_requests() {
        let now = t0();
        let mut t = RequestTracker::new(0, 4);
        let a = t.track(now, peer(1), 1, None).unwrap();
        let _b = t.track(now, peer(2), 2, None).unwrap();
        assert_eq!(t.remove_peer(&peer(1)), vec![(a, 1)]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.fulfil(now, &peer(1), a, 0), Fulfil::Unsolicited);
    }
}
