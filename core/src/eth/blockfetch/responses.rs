//! Answers to our requests: a header checked against the requested hash and the announced
//! number, bodies matched to their headers with `validate_body`, and the empty-body shortcut.

use std::time::Instant;

use crate::eth::block::{validate_body, Block, BlockBody, Header};
use crate::eth::primitives::{B256, EMPTY_ROOT_HASH, EMPTY_UNCLES_HASH};
use crate::types::PeerId;

use super::fetcher::BlockFetcher;
use super::limits::GATHER_SLACK;
use super::queue::check_distance;
use super::tracker::{later, Asked, Phase, Request};
use super::types::{FetchFault, FetchId};

/// The body of `header` when the header commits to an empty one (no transactions, no
/// uncles, no or empty withdrawals), so no body request is needed.
pub(super) fn empty_body(header: &Header) -> Option<BlockBody> {
    if header.transactions_root != EMPTY_ROOT_HASH || header.ommers_hash != EMPTY_UNCLES_HASH {
        return None;
    }
    match header.withdrawals_root {
        None => Some(BlockBody::default()),
        Some(root) if root == EMPTY_ROOT_HASH => Some(BlockBody {
            withdrawals: Some(Vec::new()),
            ..BlockBody::default()
        }),
        Some(_) => None,
    }
}

impl BlockFetcher {
    /// Input: `peer` answered header request `id` (BlockHeaders).
    pub fn on_headers(&mut self, now: Instant, peer: PeerId, id: FetchId, headers: Vec<Header>) {
        self.last_now = Some(now);
        let Some(req) = self.take_request(peer, id, true) else {
            self.penalize(peer, FetchFault::Unrequested);
            return;
        };
        let Asked::Header(hash) = req.asked else {
            return;
        };
        let mut it = headers.into_iter();
        match it.next() {
            None => {
                // The peer does not have it: not a fault, ask someone else.
                if !req.timed_out {
                    self.stats.header_failed += 1;
                    self.retry(now, id, &req);
                }
            }
            Some(header) => {
                if it.next().is_some() {
                    self.penalize(peer, FetchFault::Unrequested);
                }
                if header.hash() == hash {
                    self.accept_header(now, peer, hash, header);
                } else {
                    self.penalize(peer, FetchFault::HeaderMismatch);
                    if !req.timed_out {
                        self.retry(now, id, &req);
                    }
                }
            }
        }
        self.schedule(now);
        self.pump();
    }

    /// Input: `peer` answered body request `id` (BlockBodies). Bodies must come in request
    /// order; missing ones are allowed and retried elsewhere.
    pub fn on_bodies(&mut self, now: Instant, peer: PeerId, id: FetchId, bodies: Vec<BlockBody>) {
        self.last_now = Some(now);
        let Some(req) = self.take_request(peer, id, false) else {
            self.penalize(peer, FetchFault::Unrequested);
            return;
        };
        let Asked::Bodies(asked) = &req.asked else {
            return;
        };
        if bodies.len() > asked.len() {
            self.penalize(peer, FetchFault::Unrequested);
        }
        let mut cursor = 0;
        let mut matched = Vec::new();
        for body in bodies.into_iter().take(asked.len()) {
            let found = asked
                .iter()
                .enumerate()
                .skip(cursor)
                .find(|(_, (_, header))| validate_body(header, &body).is_ok());
            let Some((i, (hash, header))) = found else {
                self.penalize(peer, FetchFault::BodyMismatch);
                break;
            };
            cursor = i.saturating_add(1);
            matched.push(*hash);
            self.accept_body(now, *hash, header.clone(), body, peer);
        }
        if !req.timed_out && matched.len() < asked.len() {
            self.stats.body_failed += 1;
            // Delivered blocks are no longer tracked; the rest go to the next announcer.
            self.retry(now, id, &req);
        }
        self.schedule(now);
        self.pump();
    }

    /// Removes and returns request `id` if `peer` is the one we asked and its kind matches.
    fn take_request(&mut self, peer: PeerId, id: FetchId, headers: bool) -> Option<Request> {
        let req = self.tracker.requests.get(&id)?;
        let kind_ok = matches!(req.asked, Asked::Header(_)) == headers;
        if req.peer != peer || !kind_ok {
            return None;
        }
        self.tracker.requests.remove(&id)
    }

    /// A header that hashes to the requested `hash`: queue the block if its body is empty,
    /// otherwise schedule the body request.
    fn accept_header(&mut self, now: Instant, peer: PeerId, hash: B256, header: Header) {
        let head = self.queue.head();
        let Some(t) = self.tracker.hashes.get_mut(&hash) else {
            self.stats.duplicates += 1;
            return;
        };
        if !matches!(
            t.phase,
            Phase::Waiting { .. } | Phase::FetchingHeader { .. }
        ) {
            self.stats.duplicates += 1;
            return;
        }
        let wrong_number = t.claimed_by(&peer).is_some_and(|n| n != header.number);
        let latency = now.saturating_duration_since(t.first_seen);
        self.stats.header_latency_sum = self.stats.header_latency_sum.saturating_add(latency);
        self.stats.header_latency_count += 1;
        if let Err(why) = check_distance(header.number, head) {
            self.tracker.forget(&hash);
            self.discard(hash, why);
        } else if let Some(body) = empty_body(&header) {
            self.deliver(hash, Block { header, body }, peer);
        } else {
            t.header_from = Some(peer);
            t.tried.clear();
            t.phase = Phase::AwaitBody {
                header: Box::new(header),
                due: later(now, GATHER_SLACK),
            };
        }
        if wrong_number {
            // The header is authentic (its hash is the one asked for) and is used; the
            // announcement lied about the number.
            self.penalize(peer, FetchFault::WrongNumber);
        }
    }

    /// A body that matches the header of `hash`: the block is complete.
    fn accept_body(
        &mut self,
        now: Instant,
        hash: B256,
        header: Header,
        body: BlockBody,
        peer: PeerId,
    ) {
        if let Some(t) = self.tracker.hashes.get(&hash) {
            if matches!(
                t.phase,
                Phase::AwaitBody { .. } | Phase::FetchingBody { .. }
            ) {
                let latency = now.saturating_duration_since(t.first_seen);
                self.stats.body_latency_sum = self.stats.body_latency_sum.saturating_add(latency);
                self.stats.body_latency_count += 1;
            }
        }
        self.deliver(hash, Block { header, body }, peer);
    }
}
