//! The [`BlockFetcher`] value: its state, the announcement and broadcast inputs, the chain
//! inputs (head, import results) and the outputs. Responses live in `responses.rs`, timers
//! and retries in `schedule.rs`.

use std::collections::VecDeque;
use std::time::Instant;

use crate::eth::app::ImportResult;
use crate::eth::block::{validate_body, Block};
use crate::eth::primitives::{B256, U256};
use crate::types::PeerId;

use super::events::EventQueue;
use super::limits::{ARRIVE_TIMEOUT, HASH_LIMIT_PER_PEER, MAX_TRACKED_HASHES};
use super::queue::{check_distance, ImportQueue, Offer};
use super::stats::FetchStats;
use super::tracker::{later, Refusal, Tracker};
use super::types::{DiscardReason, FetchEvent, FetchFault, FetchRequest};

/// Fetches announced blocks and queues complete blocks for import, in number order.
///
/// A sans-IO state machine: it never reads a clock, sends or imports anything itself.
///
/// - **Inputs**: [`on_announce`](Self::on_announce) (each NewBlockHashes entry),
///   [`on_new_block`](Self::on_new_block) (NewBlock), [`on_headers`](Self::on_headers) and
///   [`on_bodies`](Self::on_bodies) (answers to our requests),
///   [`on_request_failed`](Self::on_request_failed), [`on_peer_gone`](Self::on_peer_gone),
///   [`on_import_result`](Self::on_import_result), [`set_head`](Self::set_head),
///   [`handle_timeout`](Self::handle_timeout).
/// - **Outputs**: [`poll_request`](Self::poll_request) (send these),
///   [`poll_event`](Self::poll_event) (import, penalise, propagate, log),
///   [`poll_timeout`](Self::poll_timeout) (call `handle_timeout` then).
/// - **Getters**: [`stats`](Self::stats), [`head`](Self::head),
///   [`is_fetching`](Self::is_fetching).
///
/// **Drain order** after every input: all requests, then all events (importing each
/// `Import` and reporting it with `on_import_result` before polling the next event, since
/// the result can release the next block), then read `poll_timeout`. After
/// `handle_timeout(now)` the next deadline is later than `now`.
#[derive(Debug)]
pub struct BlockFetcher {
    pub(super) tracker: Tracker,
    pub(super) queue: ImportQueue,
    pub(super) requests_out: VecDeque<FetchRequest>,
    pub(super) events: EventQueue,
    pub(super) stats: FetchStats,
    /// The latest `now` seen, for inputs that carry no time (a peer leaving).
    pub(super) last_now: Option<Instant>,
}

impl BlockFetcher {
    /// A fetcher over a chain whose head is block `head_number` with hash `head_hash`.
    pub fn new(head_number: u64, head_hash: B256) -> Self {
        BlockFetcher {
            tracker: Tracker::default(),
            queue: ImportQueue::new(head_number, head_hash),
            requests_out: VecDeque::new(),
            events: EventQueue::default(),
            stats: FetchStats::default(),
            last_now: None,
        }
    }

    /// The counters, with the gauges filled in.
    pub fn stats(&self) -> FetchStats {
        let mut s = self.stats.clone();
        s.queued = u64::try_from(self.queue.len()).unwrap_or(u64::MAX);
        s.tracked = u64::try_from(self.tracker.hashes.len()).unwrap_or(u64::MAX);
        s.events_dropped = self.events.dropped;
        s
    }

    /// Our head's number as the fetcher last heard it.
    pub fn head(&self) -> u64 {
        self.queue.head()
    }

    /// Whether `hash` is being announced or fetched.
    pub fn is_fetching(&self, hash: &B256) -> bool {
        self.tracker.hashes.contains_key(hash)
    }

    /// Input: `peer` announced block `hash` at `number` (one NewBlockHashes entry). The
    /// header is requested after [`ARRIVE_TIMEOUT`] unless the block arrives first.
    pub fn on_announce(&mut self, now: Instant, peer: PeerId, hash: B256, number: u64) {
        self.last_now = Some(now);
        self.stats.announces_in += 1;
        if self.queue.has(&hash) {
            self.stats.announces_known += 1;
            return;
        }
        if check_distance(number, self.queue.head()).is_err() {
            self.stats.announces_dropped += 1;
            return;
        }
        let refused = if self.tracker.hashes.contains_key(&hash) {
            self.tracker
                .add_announcer(&hash, peer, number, HASH_LIMIT_PER_PEER)
                .err()
        } else if self.tracker.outstanding(&peer) >= HASH_LIMIT_PER_PEER {
            Some(Refusal::Flood)
        } else if self.tracker.hashes.len() >= MAX_TRACKED_HASHES {
            Some(Refusal::Full)
        } else {
            let due = later(now, ARRIVE_TIMEOUT);
            self.tracker.insert(now, hash, peer, number, due);
            None
        };
        match refused {
            None | Some(Refusal::Repeat) => {}
            Some(Refusal::Flood) => {
                self.stats.announces_abuse += 1;
                self.penalize(peer, FetchFault::AnnounceFlood);
            }
            Some(Refusal::Full) => self.stats.announces_dropped += 1,
        }
    }

    /// Input: `peer` broadcast a whole block (NewBlock). A pending fetch of the same block is
    /// cancelled. `_td` (eth/68's total difficulty) is not used: it matters to the
    /// downloader's sync decision, not to the fetcher.
    pub fn on_new_block(&mut self, now: Instant, peer: PeerId, block: Block, _td: Option<U256>) {
        self.last_now = Some(now);
        self.stats.broadcasts_in += 1;
        let hash = block.header.hash();
        if self.queue.has(&hash) {
            self.stats.duplicates += 1;
            return;
        }
        if validate_body(&block.header, &block.body).is_err() {
            self.penalize(peer, FetchFault::BodyMismatch);
            return;
        }
        self.deliver(hash, block, peer);
        self.pump();
    }

    /// Input: the session with `peer` ended. Its requests are retried with other announcers.
    pub fn on_peer_gone(&mut self, peer: PeerId) {
        self.tracker.remove_peer(&peer);
        self.requests_out.retain(|r| *r.peer() != peer);
        let ids: Vec<_> = self
            .tracker
            .requests
            .iter()
            .filter(|(_, r)| r.peer == peer)
            .map(|(id, _)| *id)
            .collect();
        let Some(now) = self.last_now else {
            for id in ids {
                self.tracker.requests.remove(&id);
            }
            return;
        };
        for id in ids {
            if let Some(req) = self.tracker.requests.remove(&id) {
                if !req.timed_out {
                    self.retry(now, id, &req);
                }
            }
        }
        self.schedule(now);
        self.pump();
    }

    /// Input: the importer's verdict on a block from an `Import` event.
    pub fn on_import_result(&mut self, hash: &B256, result: &ImportResult) {
        let out = self.queue.on_result(hash, result);
        if let Some(peer) = out.penalize {
            self.penalize(peer, FetchFault::InvalidBlock);
        }
        self.discard_all(out.discarded);
        if let Some((hash, number)) = out.propagate {
            self.events.push(FetchEvent::Propagate { hash, number });
        }
        self.prune_tracked();
        self.pump();
    }

    /// Input: our chain's head is now block `number` with hash `hash` (call it whenever the
    /// head moves, including after imports by the downloader). Blocks and fetches outside
    /// the distance window are dropped; the hash becomes a known parent.
    pub fn set_head(&mut self, number: u64, hash: B256) {
        let dropped = self.queue.set_head(number, hash);
        self.discard_all(dropped);
        self.tracker.forget(&hash);
        self.prune_tracked();
        self.pump();
    }

    /// Output: the next request to send.
    pub fn poll_request(&mut self) -> Option<FetchRequest> {
        self.requests_out.pop_front()
    }

    /// Output: the next event.
    pub fn poll_event(&mut self) -> Option<FetchEvent> {
        self.events.pop()
    }

    /// Output: when to call [`handle_timeout`](Self::handle_timeout) next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.tracker.next_deadline()
    }

    /// Hands a complete, checked block to the import queue and stops fetching it.
    pub(super) fn deliver(&mut self, hash: B256, block: Block, from: PeerId) {
        self.tracker.forget(&hash);
        match self.queue.offer(hash, block, from) {
            Offer::Queued => {}
            Offer::QueuedEvicting(evicted) => self.discard(evicted, DiscardReason::QueueFull),
            Offer::Duplicate => self.stats.duplicates += 1,
            Offer::PeerFull => {
                self.penalize(from, FetchFault::BlockFlood);
                self.discard(hash, DiscardReason::QueueFull);
            }
            Offer::Refused(why) => self.discard(hash, why),
        }
    }

    /// Emits an `Import` for every block the queue can release.
    pub(super) fn pump(&mut self) {
        for (block, from) in self.queue.release() {
            self.stats.imports += 1;
            self.events.push(FetchEvent::Import {
                block: Box::new(block),
                from,
            });
        }
    }

    /// Drops tracked hashes that left the distance window or were imported meanwhile.
    fn prune_tracked(&mut self) {
        let head = self.queue.head();
        let gone: Vec<(B256, Option<DiscardReason>)> = self
            .tracker
            .hashes
            .iter()
            .filter_map(|(h, t)| {
                if self.queue.has(h) {
                    Some((*h, None))
                } else {
                    check_distance(t.number(), head)
                        .err()
                        .map(|why| (*h, Some(why)))
                }
            })
            .collect();
        for (hash, why) in gone {
            self.tracker.forget(&hash);
            if let Some(why) = why {
                self.discard(hash, why);
            }
        }
    }

    pub(super) fn penalize(&mut self, peer: PeerId, reason: FetchFault) {
        if self.events.push(FetchEvent::Penalize { peer, reason }) {
            self.stats.penalties += 1;
        }
    }

    pub(super) fn discard(&mut self, hash: B256, why: DiscardReason) {
        self.stats.discarded += 1;
        self.events.push(FetchEvent::Discarded { hash, why });
    }

    fn discard_all(&mut self, list: Vec<(B256, DiscardReason)>) {
        for (hash, why) in list {
            self.discard(hash, why);
        }
    }
}
