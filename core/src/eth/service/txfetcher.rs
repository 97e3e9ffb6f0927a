//! [`TxFetcher`]: turns transaction announcements into GetPooledTransactions requests, as
//! go-ethereum `eth/fetcher/tx_fetcher.go` does, in three stages per hash:
//!
//! 1. **waiting**: first announced; we wait [`TX_ARRIVE_TIMEOUT`] for a broadcast of it;
//! 2. **queued**: the wait is over; any peer that announced it may be asked;
//! 3. **fetching**: asked from one peer (one request in flight per peer, ≤
//!    [`MAX_TX_RETRIEVALS`] hashes or [`MAX_TX_RETRIEVAL_BYTES`] announced bytes each).
//!
//! A hash leaves the fetcher when the transaction arrives by any path. A request that times
//! out or comes back without some hashes drops that peer's announcement of them and queues
//! them again for another announcer; a hash nobody else announced is forgotten.
//!
//! Everything is bounded: each peer keeps at most `max_announces_per_peer` announcements and
//! every other map is keyed by hashes some peer announced.
//!
//! [`TX_ARRIVE_TIMEOUT`]: super::config::TX_ARRIVE_TIMEOUT
//! [`MAX_TX_RETRIEVALS`]: super::config::MAX_TX_RETRIEVALS
//! [`MAX_TX_RETRIEVAL_BYTES`]: super::config::MAX_TX_RETRIEVAL_BYTES

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::eth::messages::TxAnnouncement;
use crate::eth::primitives::B256;
use crate::types::PeerId;

/// A delivered transaction may differ from its announced size by this many bytes before
/// the announcer is treated as lying (go-ethereum `tx_fetcher.go` allows 8 bytes of slack).
pub const SIZE_SLACK_BYTES: u64 = 8;

/// The fetcher's limits (see `EthConfig`).
#[derive(Clone, Copy, Debug)]
pub struct FetcherLimits {
    /// Broadcast wait.
    pub arrive_timeout: Duration,
    /// Hashes per request.
    pub max_retrievals: usize,
    /// Announced bytes per request.
    pub max_retrieval_bytes: usize,
    /// Outstanding announcements per peer.
    pub max_announces_per_peer: usize,
}

/// What a peer said about one announced transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnnMeta {
    /// Announced type byte.
    pub tx_type: u8,
    /// Announced network size.
    pub size: u32,
}

/// How an announcement message was taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnnounceOutcome {
    /// New announcements recorded.
    pub accepted: usize,
    /// Hashes we had, or this peer had already announced.
    pub known: usize,
    /// Hashes dropped because the peer is over its allowance.
    pub overflow: usize,
}

/// How a delivery compared with what was asked and announced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryOutcome {
    /// Delivered hashes that were not in the matched request (all of them if none matched).
    pub unrequested: BTreeSet<B256>,
    /// Delivered transactions whose type or size differs from the peer's announcement.
    /// Their hashes stay wanted: they are queued again for the other announcers.
    pub mismatched: BTreeSet<B256>,
    /// Requested hashes the peer did not deliver.
    pub missing: usize,
    /// Latency from first announcement to delivery, per fetched hash.
    pub latencies: Vec<Duration>,
}

/// One request in flight.
#[derive(Clone, Debug)]
struct InFlight {
    id: u64,
    hashes: Vec<B256>,
}

/// The announcement-driven transaction fetcher. Inputs: [`on_announce`](Self::on_announce),
/// [`on_delivery`](Self::on_delivery), [`on_timeout`](Self::on_timeout),
/// [`forget`](Self::forget), [`remove_peer`](Self::remove_peer), [`tick`](Self::tick).
/// Command: [`schedule`](Self::schedule). Output: [`next_deadline`](Self::next_deadline).
#[derive(Debug)]
pub struct TxFetcher {
    limits: FetcherLimits,
    announced: BTreeMap<PeerId, BTreeMap<B256, AnnMeta>>,
    announcers: BTreeMap<B256, BTreeSet<PeerId>>,
    first_seen: BTreeMap<B256, Instant>,
    waiting: BTreeSet<(Instant, B256)>,
    queued: BTreeSet<B256>,
    fetching: BTreeMap<B256, PeerId>,
    requests: BTreeMap<PeerId, InFlight>,
    /// Which peer the next [`schedule`](Self::schedule) starts from (fairness).
    rotate: usize,
}

impl TxFetcher {
    /// An empty fetcher.
    pub fn new(limits: FetcherLimits) -> Self {
        Self {
            limits,
            announced: BTreeMap::new(),
            announcers: BTreeMap::new(),
            first_seen: BTreeMap::new(),
            waiting: BTreeSet::new(),
            queued: BTreeSet::new(),
            fetching: BTreeMap::new(),
            requests: BTreeMap::new(),
            rotate: 0,
        }
    }

    /// Hashes tracked (waiting, queued or being fetched).
    pub fn len(&self) -> usize {
        self.first_seen.len()
    }

    /// True when no hash is tracked.
    pub fn is_empty(&self) -> bool {
        self.first_seen.is_empty()
    }

    /// Outstanding announcements of `peer`.
    pub fn announced_by(&self, peer: &PeerId) -> usize {
        self.announced.get(peer).map_or(0, BTreeMap::len)
    }

    /// Whether a request to `peer` is in flight.
    pub fn is_fetching_from(&self, peer: &PeerId) -> bool {
        self.requests.contains_key(peer)
    }

    /// Records `peer`'s announcements; `known` says which hashes we already have.
    pub fn on_announce(
        &mut self,
        now: Instant,
        peer: PeerId,
        anns: &[TxAnnouncement],
        known: impl Fn(&B256) -> bool,
    ) -> AnnounceOutcome {
        let mut out = AnnounceOutcome::default();
        let max = self.limits.max_announces_per_peer;
        for a in anns {
            if known(&a.hash) {
                out.known += 1;
                continue;
            }
            let mine = self.announced.entry(peer).or_default();
            if mine.contains_key(&a.hash) {
                out.known += 1;
                continue;
            }
            if mine.len() >= max {
                out.overflow += 1;
                continue;
            }
            mine.insert(
                a.hash,
                AnnMeta {
                    tx_type: a.tx_type,
                    size: a.size,
                },
            );
            self.announcers.entry(a.hash).or_default().insert(peer);
            if let std::collections::btree_map::Entry::Vacant(e) = self.first_seen.entry(a.hash) {
                e.insert(now);
                self.waiting
                    .insert((now + self.limits.arrive_timeout, a.hash));
            }
            out.accepted += 1;
        }
        if self.announced.get(&peer).is_some_and(BTreeMap::is_empty) {
            self.announced.remove(&peer);
        }
        out
    }

    /// Moves hashes whose broadcast wait is over into the fetch queue.
    pub fn tick(&mut self, now: Instant) {
        while let Some(&(at, hash)) = self.waiting.first() {
            if at > now {
                break;
            }
            self.waiting.remove(&(at, hash));
            if self.first_seen.contains_key(&hash) {
                self.queued.insert(hash);
            }
        }
    }

    /// Starts requests to idle announcers of queued hashes. `start(peer, hashes)` sends one
    /// request and returns its id, or `None` if it could not (the hashes stay queued).
    pub fn schedule(&mut self, mut start: impl FnMut(&PeerId, &[B256]) -> Option<u64>) {
        if self.queued.is_empty() {
            return;
        }
        let peers: Vec<PeerId> = self
            .announced
            .keys()
            .filter(|p| !self.requests.contains_key(p))
            .copied()
            .collect();
        if peers.is_empty() {
            return;
        }
        let offset = self.rotate % peers.len();
        self.rotate = self.rotate.wrapping_add(1);
        for peer in peers.iter().skip(offset).chain(peers.iter().take(offset)) {
            if self.queued.is_empty() {
                break;
            }
            let batch = self.batch_for(peer);
            if batch.is_empty() {
                continue;
            }
            let Some(id) = start(peer, &batch) else {
                continue;
            };
            for h in &batch {
                self.queued.remove(h);
                self.fetching.insert(*h, *peer);
            }
            self.requests.insert(*peer, InFlight { id, hashes: batch });
        }
    }

    /// The queued hashes `peer` announced, within the per-request limits.
    fn batch_for(&self, peer: &PeerId) -> Vec<B256> {
        let Some(mine) = self.announced.get(peer) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut take = |hash: &B256, meta: &AnnMeta| -> bool {
            let size = usize::try_from(meta.size).unwrap_or(usize::MAX);
            if !out.is_empty() && bytes.saturating_add(size) > self.limits.max_retrieval_bytes {
                return false;
            }
            bytes = bytes.saturating_add(size);
            out.push(*hash);
            out.len() < self.limits.max_retrievals && bytes < self.limits.max_retrieval_bytes
        };
        if self.queued.len() < mine.len() {
            for h in &self.queued {
                if let Some(meta) = mine.get(h) {
                    if !take(h, meta) {
                        break;
                    }
                }
            }
        } else {
            for (h, meta) in mine {
                if self.queued.contains(h) && !take(h, meta) {
                    break;
                }
            }
        }
        out
    }

    /// Transactions arrived from `peer`: in answer to request `request_id` if it is the one
    /// in flight to that peer, otherwise as a broadcast or an unmatched response.
    /// `delivered` holds each transaction's hash, type and network size.
    pub fn on_delivery(
        &mut self,
        now: Instant,
        peer: PeerId,
        request_id: Option<u64>,
        delivered: &[(B256, u8, usize)],
    ) -> DeliveryOutcome {
        let mut out = DeliveryOutcome::default();
        let request = match (request_id, self.requests.get(&peer)) {
            (Some(id), Some(r)) if r.id == id => self.requests.remove(&peer),
            _ => None,
        };
        let requested: BTreeSet<B256> = request
            .as_ref()
            .map(|r| r.hashes.iter().copied().collect())
            .unwrap_or_default();
        for (hash, tx_type, size) in delivered {
            if let Some(meta) = self.announced.get(&peer).and_then(|m| m.get(hash)) {
                let size = u64::try_from(*size).unwrap_or(u64::MAX);
                if meta.tx_type != *tx_type
                    || size.abs_diff(u64::from(meta.size)) > SIZE_SLACK_BYTES
                {
                    // The peer lied about it: ask someone else who announced it.
                    out.mismatched.insert(*hash);
                    self.withdraw(&peer, hash);
                    continue;
                }
            }
            if request_id.is_some() && !requested.contains(hash) {
                out.unrequested.insert(*hash);
                continue;
            }
            if requested.contains(hash) {
                if let Some(seen) = self.first_seen.get(hash) {
                    out.latencies.push(now.saturating_duration_since(*seen));
                }
            }
            self.forget(hash);
        }
        if let Some(r) = request {
            for hash in &r.hashes {
                if delivered.iter().any(|(h, _, _)| h == hash) || out.mismatched.contains(hash) {
                    continue;
                }
                out.missing += 1;
                self.withdraw(&peer, hash);
            }
        }
        out
    }

    /// Request `id` to `peer` timed out: its hashes go to other announcers. Returns how many
    /// hashes it carried (0 if it was not the request in flight).
    pub fn on_timeout(&mut self, peer: &PeerId, id: u64) -> usize {
        let Some(r) = self.requests.get(peer) else {
            return 0;
        };
        if r.id != id {
            return 0;
        }
        let Some(r) = self.requests.remove(peer) else {
            return 0;
        };
        for hash in &r.hashes {
            self.withdraw(peer, hash);
        }
        r.hashes.len()
    }

    /// `peer` did not provide `hash`: drop its announcement and re-queue the hash for
    /// another announcer, or forget it.
    fn withdraw(&mut self, peer: &PeerId, hash: &B256) {
        if let Some(mine) = self.announced.get_mut(peer) {
            mine.remove(hash);
            if mine.is_empty() {
                self.announced.remove(peer);
            }
        }
        let others = match self.announcers.get_mut(hash) {
            Some(set) => {
                set.remove(peer);
                !set.is_empty()
            }
            None => false,
        };
        if self.fetching.get(hash) == Some(peer) {
            self.fetching.remove(hash);
            if others {
                self.queued.insert(*hash);
            }
        }
        if !others {
            self.forget(hash);
        }
    }

    /// The transaction `hash` is no longer needed (it arrived, or we have it).
    pub fn forget(&mut self, hash: &B256) {
        if let Some(peers) = self.announcers.remove(hash) {
            for p in peers {
                if let Some(mine) = self.announced.get_mut(&p) {
                    mine.remove(hash);
                    if mine.is_empty() {
                        self.announced.remove(&p);
                    }
                }
            }
        }
        if let Some(seen) = self.first_seen.remove(hash) {
            self.waiting
                .remove(&(seen + self.limits.arrive_timeout, *hash));
        }
        self.queued.remove(hash);
        self.fetching.remove(hash);
    }

    /// `peer` is gone: its announcements and its request in flight are dropped.
    pub fn remove_peer(&mut self, peer: &PeerId) {
        if let Some(r) = self.requests.remove(peer) {
            for hash in &r.hashes {
                self.withdraw(peer, hash);
            }
        }
        let mine: Vec<B256> = self
            .announced
            .get(peer)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        for hash in &mine {
            self.withdraw(peer, hash);
        }
        self.announced.remove(peer);
    }

    /// When the next broadcast wait ends.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.waiting.first().map(|(t, _)| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_clock::t0;

    fn peer(n: u8) -> PeerId {
        PeerId([n; 64])
    }

    fn ann(n: u8, size: u32) -> TxAnnouncement {
        TxAnnouncement {
            tx_type: 2,
            size,
            hash: [n; 32],
        }
    }

    fn limits() -> FetcherLimits {
        FetcherLimits {
            arrive_timeout: Duration::from_millis(500),
            max_retrievals: 256,
            max_retrieval_bytes: 128 * 1024,
            max_announces_per_peer: 4,
        }
    }

    /// Runs `schedule` and returns what it asked for, with ids 1, 2, ...
    fn schedule(f: &mut TxFetcher) -> Vec<(PeerId, Vec<B256>, u64)> {
        let mut out = Vec::new();
        let mut next = 0;
        f.schedule(|p, h| {
            next += 1;
            out.push((*p, h.to_vec(), next));
            Some(next)
        });
        out
    }

    #[test]
    fn announcements_wait_for_a_broadcast_before_fetching() {
        let now = t0();
        let mut f = TxFetcher::new(limits());
        let o = f.on_announce(now, peer(1), &[ann(1, 100)], |_| false);
        assert_eq!(o.accepted, 1);
        f.tick(now + Duration::from_millis(499));
        assert!(schedule(&mut f).is_empty());
        assert_eq!(f.next_deadline(), Some(now + Duration::from_millis(500)));
        f.tick(now + Duration::from_millis(500));
        let reqs = schedule(&mut f);
        assert_eq!(reqs, vec![(peer(1), vec![[1; 32]], 1)]);
        // One request in flight per peer.
        f.on_announce(now, peer(1), &[ann(2, 100)], |_| false);
        f.tick(now + Duration::from_secs(1));
        assert!(schedule(&mut f).is_empty());
    }

    #[test]
    fn a_broadcast_during_the_wait_cancels_the_fetch() {
        let now = t0();
        let mut f = TxFetcher::new(limits());
        f.on_announce(now, peer(1), &[ann(1, 100)], |_| false);
        f.on_delivery(now, peer(2), None, &[([1; 32], 2, 100)]);
        f.tick(now + Duration::from_secs(1));
        assert!(schedule(&mut f).is_empty());
        assert!(f.is_empty());
    }

    #[test]
    fn known_hashes_and_excess_announcements_are_not_tracked() {
        let now = t0();
        let mut f = TxFetcher::new(limits());
        let anns: Vec<_> = (1..=6).map(|n| ann(n, 10)).collect();
        let o = f.on_announce(now, peer(1), &anns, |h| h == &[1; 32]);
        assert_eq!((o.accepted, o.known, o.overflow), (4, 1, 1));
        let o = f.on_announce(now, peer(1), &anns[1..2], |_| false);
        assert_eq!(o.known, 1);
        assert_eq!(f.announced_by(&peer(1)), 4);
    }

    #[test]
    fn batches_respect_count_and_byte_limits() {
        let now = t0();
        let mut f = TxFetcher::new(FetcherLimits {
            max_retrievals: 2,
            max_retrieval_bytes: 1000,
            max_announces_per_peer: 100,
            ..limits()
        });
        f.on_announce(now, peer(1), &[ann(1, 10), ann(2, 10), ann(3, 10)], |_| {
            false
        });
        f.on_announce(now, peer(2), &[ann(4, 600), ann(5, 600)], |_| false);
        f.tick(now + Duration::from_secs(1));
        let reqs = schedule(&mut f);
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].1.len(), 2);
        assert_eq!(
            reqs[1].1.len(),
            1,
            "second 600-byte tx would pass 1000 bytes"
        );
    }

    #[test]
    fn timeout_moves_hashes_to_another_announcer() {
        let now = t0();
        let mut f = TxFetcher::new(limits());
        f.on_announce(now, peer(1), &[ann(1, 100)], |_| false);
        f.tick(now + Duration::from_secs(1));
        let reqs = schedule(&mut f);
        assert_eq!(reqs[0].0, peer(1));
        f.on_announce(now, peer(2), &[ann(1, 100)], |_| false);
        assert_eq!(f.on_timeout(&peer(1), 99), 0, "wrong id");
        assert_eq!(f.on_timeout(&peer(1), 1), 1);
        let reqs = schedule(&mut f);
        assert_eq!(reqs, vec![(peer(2), vec![[1; 32]], 1)]);
        assert_eq!(f.announced_by(&peer(1)), 0);
    }

    #[test]
    fn deliveries_are_checked_against_request_and_announcement() {
        let now = t0();
        let mut f = TxFetcher::new(limits());
        f.on_announce(
            now,
            peer(1),
            &[ann(1, 100), ann(2, 100), ann(3, 100)],
            |_| false,
        );
        f.tick(now + Duration::from_millis(600));
        let reqs = schedule(&mut f);
        let id = reqs[0].2;
        let got = f.on_delivery(
            now + Duration::from_millis(700),
            peer(1),
            Some(id),
            &[([1; 32], 2, 104), ([2; 32], 1, 100), ([9; 32], 2, 100)],
        );
        assert_eq!(
            got.mismatched,
            BTreeSet::from([[2; 32]]),
            "type differs for hash 2; size within slack for 1"
        );
        assert_eq!(got.unrequested.len(), 1);
        assert_eq!(got.missing, 1);
        assert_eq!(got.latencies, vec![Duration::from_millis(700)]);
        assert!(f.is_empty(), "hash 3 had no other announcer");
        assert!(!f.is_fetching_from(&peer(1)));
    }

    #[test]
    fn a_delivery_contradicting_its_announcement_is_asked_of_another_announcer() {
        let now = t0();
        let mut f = TxFetcher::new(limits());
        f.on_announce(now, peer(1), &[ann(1, 1000)], |_| false);
        f.tick(now + Duration::from_secs(1));
        let reqs = schedule(&mut f);
        assert_eq!(reqs[0].0, peer(1));
        f.on_announce(now, peer(2), &[ann(1, 1000)], |_| false);
        // Peer 1 serves it 200 bytes short of its announcement (a blob without sidecar).
        let got = f.on_delivery(now, peer(1), Some(reqs[0].2), &[([1; 32], 2, 800)]);
        assert_eq!(got.mismatched, BTreeSet::from([[1; 32]]));
        assert_eq!(got.missing, 0, "a mismatch is not also counted missing");
        assert!(got.latencies.is_empty());
        let again = schedule(&mut f);
        assert_eq!(again, vec![(peer(2), vec![[1; 32]], 1)]);
        assert_eq!(f.announced_by(&peer(1)), 0);
    }

    #[test]
    fn fifty_announced_hashes_go_out_in_one_request() {
        // go-ethereum's NewPooledTxs: 50 hashes announced at once, one request with all.
        let now = t0();
        let mut f = TxFetcher::new(FetcherLimits {
            max_announces_per_peer: 4096,
            ..limits()
        });
        let anns: Vec<_> = (0..50).map(|n| ann(n, 120)).collect();
        f.on_announce(now, peer(1), &anns, |_| false);
        f.tick(now + Duration::from_millis(500));
        let reqs = schedule(&mut f);
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].1.len(), 50);
    }

    #[test]
    fn removing_a_peer_requeues_its_fetches_elsewhere() {
        let now = t0();
        let mut f = TxFetcher::new(limits());
        f.on_announce(now, peer(1), &[ann(1, 100)], |_| false);
        f.on_announce(now, peer(2), &[ann(1, 100), ann(2, 100)], |_| false);
        f.tick(now + Duration::from_secs(1));
        let reqs = schedule(&mut f);
        let first = reqs[0].0;
        f.remove_peer(&first);
        let again = schedule(&mut f);
        assert!(again.iter().all(|(p, _, _)| *p != first));
        f.remove_peer(&peer(1));
        f.remove_peer(&peer(2));
        assert!(f.is_empty());
    }
}
