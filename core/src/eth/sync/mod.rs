//! Chain sync over eth: a node holding only part of the chain downloads the rest from its
//! peers — headers, bodies and receipts — checks everything against the header roots, and
//! hands blocks to the importer in order and receipts to the store. Sans-IO: the eth
//! protocol machine drives it (`service/sync.rs`), sending its requests through the request
//! tracker and feeding back the answers, failures and import verdicts.
//!
//! Post-merge peers never announce blocks, so the sync starts from what peers advertise:
//! eth/69 Status and BlockRangeUpdate (earliest, latest, latest hash), eth/68 Status (head
//! hash only). The steps:
//! 1. **Anchor**: when a peer's head is unknown to us and (eth/69) above our head, its head
//!    header is asked for by hash; it must hash to the announced hash (and carry the
//!    announced number). It becomes the target.
//! 2. **Headers** (`headers.rs`): ranges of [`MAX_HEADER_FETCH`] by number, ascending from
//!    our head, to any peers serving them; checked inside each answer, linked in order
//!    onto our head, and the last must link to the anchor.
//! 3. **Bodies** (`bodies.rs`): [`MAX_BLOCK_FETCH`] per request for linked headers, checked
//!    with `validate_body`; empty bodies are not fetched.
//! 4. **Import**: one block at a time ([`SyncEvent::Import`]), the verdict back through
//!    [`ChainSync::on_import_result`].
//! 5. **Receipts** (`receipts.rs`): every canonical block with transactions whose receipts
//!    we lack, [`MAX_RECEIPT_FETCH`] per request, from peers whose range covers the block;
//!    stored ([`SyncEvent::StoreReceipts`]) only when their trie root equals the header's.
//!
//! Nothing is asked of a peer we need nothing from: no anchor unless its head is unknown
//! to us (and above ours when its number is known), no receipts outside its range, never a
//! block beyond its advertised latest. Bounded: headers only [`MAX_HEADERS_AHEAD`] beyond
//! the import front, bodies for the first [`MAX_BODIES_AHEAD`] linked headers,
//! [`MAX_RECEIPTS_WANTED`] wanted receipts, [`MAX_REQUESTS_PER_PEER`] and
//! [`MAX_REQUESTS_TOTAL`] requests in flight.
//!
//! Faults ([`SyncFault`], reported as [`SyncEvent::Penalize`]) put the work back with the
//! faulty peer avoided for it until its range changes; so does an empty answer (it lacks
//! the data); a short answer re-queues the tail for anyone; a timeout (penalised by the
//! driver) re-queues the work for other peers first, the slow one again only when no one
//! else serves it.
//!
//! # Driving it
//! Inputs: [`on_peer`](ChainSync::on_peer), [`on_peer_gone`](ChainSync::on_peer_gone),
//! [`on_headers`](ChainSync::on_headers), [`on_bodies`](ChainSync::on_bodies),
//! [`on_receipts`](ChainSync::on_receipts),
//! [`on_request_failed`](ChainSync::on_request_failed),
//! [`on_import_result`](ChainSync::on_import_result). Outputs, drained in this order after
//! every input: [`poll_event`](ChainSync::poll_event) until `None` (handle each, importing
//! and reporting the verdict before the next), then
//! [`poll_request`](ChainSync::poll_request) until `None` or until a request cannot be sent
//! (report it `Unsent` and stop until the next input). No timers of its own: timeouts come
//! from the driver's request tracker. Getter: [`status`](ChainSync::status).

mod bodies;
mod headers;
pub mod limits;
mod peers;
mod receipts;
mod types;

#[cfg(test)]
mod model;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};

use crate::eth::app::{ChainReader, ImportResult};
use crate::eth::block::{Block, BlockBody, Header};
use crate::eth::primitives::B256;
use crate::eth::receipts::Receipt;
use crate::types::PeerId;

pub use limits::{
    MAX_BLOCK_FETCH, MAX_BODIES_AHEAD, MAX_HEADERS_AHEAD, MAX_HEADER_FETCH, MAX_RECEIPTS_WANTED,
    MAX_RECEIPT_FETCH, MAX_REQUESTS_PER_PEER, MAX_REQUESTS_TOTAL,
};
pub use types::{
    PeerRange, RequestFailure, SyncEvent, SyncFault, SyncId, SyncQuery, SyncRequest, SyncStats,
    SyncStatus,
};

use headers::HeaderChain;
use peers::{Blame, SyncPeers};
use receipts::ReceiptQueue;

/// What a request in flight asked for.
#[derive(Clone, Debug)]
enum Asked {
    Anchor {
        hash: B256,
    },
    Headers {
        start: u64,
        amount: u64,
        epoch: u64,
    },
    Bodies {
        hashes: Vec<B256>,
        epoch: u64,
    },
    Receipts {
        blocks: Vec<(u64, B256)>,
        first_index: u64,
    },
}

#[derive(Clone, Debug)]
struct InFlight {
    peer: PeerId,
    asked: Asked,
}

/// The chain sync machine. See the module documentation for how it is driven.
#[derive(Debug, Default)]
pub struct ChainSync {
    peers: SyncPeers,
    in_flight: BTreeMap<SyncId, InFlight>,
    next_id: u64,
    /// Bumped when the header pipeline is dropped, so its late answers are ignored.
    epoch: u64,
    target: Option<HeaderChain>,
    /// A verified head header waiting to become the target, with who sent it.
    anchor: Option<(Header, PeerId)>,
    /// The target must be rebuilt from our head (same anchor) at the next poll.
    restart: Option<(Header, PeerId)>,
    receipts: ReceiptQueue,
    /// The block handed to the importer, and who delivered its header.
    importing: Option<(B256, PeerId)>,
    events: VecDeque<SyncEvent>,
    stats: SyncStats,
}

impl ChainSync {
    /// An idle sync with no peers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state at a glance.
    pub fn status(&self) -> SyncStatus {
        SyncStatus {
            syncing: self.target.is_some() || self.restart.is_some(),
            target: self.target.as_ref().map(HeaderChain::target),
            highest_header: self.target.as_ref().map_or(0, HeaderChain::tip_number),
            receipts_wanted: u64::try_from(self.receipts.len()).unwrap_or(u64::MAX),
            in_flight: u64::try_from(self.in_flight.len()).unwrap_or(u64::MAX),
            stats: self.stats.clone(),
        }
    }

    /// Headers and bodies held in memory (linked or waiting to link).
    pub fn buffered_headers(&self) -> usize {
        self.target.as_ref().map_or(0, HeaderChain::buffered)
    }

    /// `peer` advertised `range` (Status, BlockRangeUpdate).
    pub fn on_peer(&mut self, peer: PeerId, range: PeerRange) {
        if self.peers.update(peer, range) {
            if let Some(t) = &mut self.target {
                t.forget_avoid(&peer);
            }
            self.receipts.forget_avoid(&peer);
        }
    }

    /// `peer` disconnected: its requests fail and it is asked nothing more.
    pub fn on_peer_gone(&mut self, peer: PeerId) {
        let ids: Vec<SyncId> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.peer == peer)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.on_request_failed(id, RequestFailure::PeerGone);
        }
        self.peers.remove(&peer);
    }

    /// Removes request `id` if it was made to `peer`, freeing the peer's slot.
    fn take(&mut self, peer: &PeerId, id: SyncId) -> Option<Asked> {
        if self.in_flight.get(&id).is_none_or(|f| f.peer != *peer) {
            return None;
        }
        let f = self.in_flight.remove(&id)?;
        if let Some(p) = self.peers.get_mut(peer) {
            p.in_flight = p.in_flight.saturating_sub(1);
        }
        Some(f.asked)
    }

    fn penalize(&mut self, peer: PeerId, fault: SyncFault) {
        self.stats.faults += 1;
        self.events.push_back(SyncEvent::Penalize { peer, fault });
    }

    /// Request `id` will not be answered.
    pub fn on_request_failed(&mut self, id: SyncId, why: RequestFailure) {
        let Some(peer) = self.in_flight.get(&id).map(|f| f.peer) else {
            return;
        };
        let Some(asked) = self.take(&peer, id) else {
            return;
        };
        let blame = match why {
            RequestFailure::Timeout => {
                self.stats.timeouts += 1;
                Blame::Slow(peer)
            }
            RequestFailure::PeerGone | RequestFailure::Unsent => Blame::Nobody,
            RequestFailure::TooLarge => {
                if let Asked::Receipts { blocks, .. } = &asked {
                    for hash in self.receipts.on_too_large(blocks) {
                        self.stats.receipts_too_large += 1;
                        self.events.push_back(SyncEvent::ReceiptsTooLarge { hash });
                    }
                    return;
                }
                Blame::Nobody
            }
        };
        self.requeue(peer, asked, blame, why == RequestFailure::Unsent);
    }

    /// Puts the work of a failed request back.
    fn requeue(&mut self, peer: PeerId, asked: Asked, blame: Blame, unsent: bool) {
        match asked {
            // Unsent or timed out: it may be asked again (a timeout costs it reputation).
            Asked::Anchor { .. } => {
                if unsent || matches!(blame, Blame::Slow(_)) {
                    if let Some(p) = self.peers.get_mut(&peer) {
                        p.probed = false;
                    }
                }
            }
            Asked::Headers {
                start,
                amount,
                epoch,
            } => {
                if let Some(t) = self.target.as_mut().filter(|_| epoch == self.epoch) {
                    t.on_failed(start, amount, blame);
                }
            }
            Asked::Bodies { hashes, epoch } => {
                if let Some(t) = self.target.as_mut().filter(|_| epoch == self.epoch) {
                    bodies::on_failed(&mut t.linked, &hashes, blame);
                }
            }
            Asked::Receipts { blocks, .. } => self.receipts.on_failed(&blocks, blame),
        }
    }

    /// A BlockHeaders answer to request `id` from `peer`.
    pub fn on_headers(&mut self, peer: PeerId, id: SyncId, headers: Vec<Header>) {
        let Some(asked) = self.take(&peer, id) else {
            return;
        };
        match asked {
            Asked::Anchor { hash } => self.on_anchor(peer, hash, headers),
            Asked::Headers {
                start,
                amount,
                epoch,
            } => {
                let Some(t) = self.target.as_mut().filter(|_| epoch == self.epoch) else {
                    return;
                };
                let got = u64::try_from(headers.len()).unwrap_or(0);
                let (faults, missing) = t.on_headers(peer, start, amount, headers);
                if faults.iter().all(|(p, _)| *p != peer) {
                    self.stats.headers += got;
                }
                self.stats.undelivered += missing;
                if t.is_failed() {
                    self.drop_target();
                }
                for (p, f) in faults {
                    self.penalize(p, f);
                }
            }
            other => {
                self.requeue(peer, other, Blame::Failed(peer), false);
                self.penalize(peer, SyncFault::Unrequested);
            }
        }
    }

    fn on_anchor(&mut self, peer: PeerId, hash: B256, headers: Vec<Header>) {
        let mut headers = headers.into_iter();
        let (first, extra) = (headers.next(), headers.next());
        let Some(h) = first else {
            // It no longer has its head (it moved meanwhile): wait for its next update.
            self.stats.undelivered += 1;
            return;
        };
        let announced = self.peers.get(&peer).and_then(|p| p.range.latest);
        if extra.is_some() || h.hash() != hash || announced.is_some_and(|n| n != h.number) {
            let fault = if extra.is_some() {
                SyncFault::Unrequested
            } else {
                SyncFault::WrongAnchor
            };
            self.penalize(peer, fault);
            return;
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.range.latest = Some(h.number);
        }
        self.stats.headers += 1;
        if self.target.is_none() {
            self.anchor = Some((h, peer));
        }
    }

    /// A BlockBodies answer to request `id` from `peer`.
    pub fn on_bodies(&mut self, peer: PeerId, id: SyncId, bodies: Vec<BlockBody>) {
        let Some(asked) = self.take(&peer, id) else {
            return;
        };
        let Asked::Bodies { hashes, epoch } = asked else {
            self.requeue(peer, asked, Blame::Failed(peer), false);
            self.penalize(peer, SyncFault::Unrequested);
            return;
        };
        let Some(t) = self.target.as_mut().filter(|_| epoch == self.epoch) else {
            return;
        };
        let (fault, accepted, missing) = bodies::on_bodies(&mut t.linked, peer, &hashes, bodies);
        self.stats.bodies += accepted;
        self.stats.undelivered += missing;
        if let Some(f) = fault {
            self.penalize(peer, f);
        }
    }

    /// A Receipts answer to request `id` from `peer`: one whole list per block, in order.
    pub fn on_receipts(&mut self, peer: PeerId, id: SyncId, lists: Vec<Vec<Receipt>>) {
        self.on_receipt_page(peer, id, lists, false);
    }

    /// A Receipts answer to request `id` from `peer` that may end with a page of a block's
    /// receipts (eth/70, `last_block_incomplete`): the page is checked against the block's
    /// limits and kept, and the rest is asked of the same peer from the next index. The
    /// first list of an answer to [`SyncQuery::ReceiptsRest`] continues the kept page.
    pub fn on_receipt_page(
        &mut self,
        peer: PeerId,
        id: SyncId,
        lists: Vec<Vec<Receipt>>,
        last_block_incomplete: bool,
    ) {
        let Some(asked) = self.take(&peer, id) else {
            return;
        };
        let Asked::Receipts {
            blocks,
            first_index,
        } = asked
        else {
            self.requeue(peer, asked, Blame::Failed(peer), false);
            self.penalize(peer, SyncFault::Unrequested);
            return;
        };
        let answer = receipts::Answer {
            from: peer,
            blocks: &blocks,
            first_index,
            lists,
            last_block_incomplete,
        };
        let (verified, fault, missing) = self.receipts.on_receipts(answer);
        self.stats.undelivered += missing;
        for v in verified {
            self.stats.receipts += 1;
            self.events.push_back(SyncEvent::StoreReceipts {
                hash: v.hash,
                number: v.number,
                receipts: v.receipts,
                from: peer,
            });
        }
        if let Some(f) = fault {
            self.penalize(peer, f);
        }
    }

    /// The importer's verdict on the block of the last [`SyncEvent::Import`].
    pub fn on_import_result(&mut self, hash: &B256, result: &ImportResult) {
        let Some((h, from)) = self.importing.take() else {
            return;
        };
        if h != *hash {
            self.importing = Some((h, from));
            return;
        }
        match result {
            ImportResult::Imported { .. } | ImportResult::AlreadyKnown => {
                self.stats.imported += 1;
            }
            ImportResult::Invalid(_) => {
                self.penalize(from, SyncFault::InvalidBlock);
                self.restart_target();
            }
            // Our chain changed under us: start again from wherever our head now is.
            ImportResult::UnknownParent => self.restart_target(),
        }
    }

    /// Drops the header pipeline but keeps its anchor, to rebuild it from our head.
    fn restart_target(&mut self) {
        if let Some(t) = self.target.take() {
            self.restart = t.anchor();
        }
        self.epoch += 1;
    }

    /// Drops the target altogether; peers may be asked for their heads again.
    fn drop_target(&mut self) {
        self.target = None;
        self.restart = None;
        self.epoch += 1;
        let ids: Vec<PeerId> = self.peers.iter().map(|(id, _)| *id).collect();
        for id in ids {
            if let Some(p) = self.peers.get_mut(&id) {
                p.probed = false;
            }
        }
    }

    /// The next thing for the driver to do, if any.
    pub fn poll_event(&mut self) -> Option<SyncEvent> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        if self.importing.is_some() {
            return None;
        }
        let t = self.target.as_mut()?;
        if t.linked.front().is_some_and(|l| l.body.is_some()) {
            let l = t.pop_front()?;
            let body = l.body?;
            self.importing = Some((l.hash, l.from));
            return Some(SyncEvent::Import {
                block: Box::new(Block {
                    header: l.header,
                    body,
                }),
                from: l.from,
            });
        }
        if t.is_complete() && t.linked.is_empty() {
            let (number, hash) = t.target();
            self.target = None;
            self.stats.finished += 1;
            self.drop_target();
            return Some(SyncEvent::Finished { number, hash });
        }
        None
    }

    /// The next request to send, given the chain as it is now.
    pub fn poll_request(&mut self, chain: &dyn ChainReader) -> Option<SyncRequest> {
        if self.in_flight.len() >= MAX_REQUESTS_TOTAL || self.importing.is_some() {
            return None;
        }
        self.start_target(chain);
        if let Some(req) = self.anchor_request(chain) {
            return Some(req);
        }
        let head = chain.head();
        let epoch = self.epoch;
        if let Some(t) = self.target.as_mut() {
            if let Some((peer, hashes)) = bodies::next_request(&mut t.linked, &self.peers) {
                self.stats.body_requests += 1;
                let query = SyncQuery::Bodies {
                    hashes: hashes.clone(),
                };
                return Some(self.issue(peer, Asked::Bodies { hashes, epoch }, query));
            }
            let front = head.number.saturating_add(1);
            if let Some((peer, start, amount)) = t.next_request(front, &self.peers) {
                self.stats.header_requests += 1;
                let asked = Asked::Headers {
                    start,
                    amount,
                    epoch,
                };
                return Some(self.issue(peer, asked, SyncQuery::Headers { start, amount }));
            }
        }
        self.receipts.refill(chain);
        if let Some((peer, number, hash, first_index)) = self.receipts.next_rest(&self.peers) {
            self.stats.receipt_requests += 1;
            let asked = Asked::Receipts {
                blocks: vec![(number, hash)],
                first_index,
            };
            return Some(self.issue(peer, asked, SyncQuery::ReceiptsRest { hash, first_index }));
        }
        // While blocks are still being imported, wait for full receipt requests.
        if self.target.is_some() && self.receipts.idle_len() < MAX_RECEIPT_FETCH {
            return None;
        }
        let (peer, blocks) = self.receipts.next_request(&self.peers)?;
        self.stats.receipt_requests += 1;
        let hashes = blocks.iter().map(|(_, h)| *h).collect();
        Some(self.issue(
            peer,
            Asked::Receipts {
                blocks,
                first_index: 0,
            },
            SyncQuery::Receipts { hashes },
        ))
    }

    fn issue(&mut self, peer: PeerId, asked: Asked, query: SyncQuery) -> SyncRequest {
        let id = SyncId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        if let Some(p) = self.peers.get_mut(&peer) {
            p.in_flight += 1;
        }
        self.in_flight.insert(id, InFlight { peer, asked });
        SyncRequest { id, peer, query }
    }

    /// Turns a verified anchor (or a restart) into the target when it is above our head.
    fn start_target(&mut self, chain: &dyn ChainReader) {
        if self.target.is_some() {
            return;
        }
        let Some((anchor, from)) = self.restart.take().or_else(|| self.anchor.take()) else {
            return;
        };
        let head = chain.head();
        let Some(tip) = chain.header_by_hash(&head.hash) else {
            return;
        };
        if anchor.number <= head.number || chain.header_by_hash(&anchor.hash()).is_some() {
            return;
        }
        let mut t = HeaderChain::new(tip, anchor, from);
        let (number, hash) = t.target();
        // An anchor right above our head has nothing below it to fetch: link it now.
        let faults = t.link();
        let failed = t.is_failed();
        self.target = Some(t);
        self.events.push_back(SyncEvent::Started {
            number,
            hash,
            peer: from,
        });
        for (p, f) in faults {
            self.penalize(p, f);
        }
        if failed {
            self.drop_target();
        }
    }

    /// Asks the most advanced peer whose head we do not know for its head header.
    fn anchor_request(&mut self, chain: &dyn ChainReader) -> Option<SyncRequest> {
        if self.target.is_some()
            || self.anchor.is_some()
            || self
                .in_flight
                .values()
                .any(|f| matches!(f.asked, Asked::Anchor { .. }))
        {
            return None;
        }
        let head = chain.head().number;
        let (peer, hash) = self
            .peers
            .iter()
            .filter(|(id, p)| {
                !p.probed
                    && self.peers.has_room(id)
                    && p.range.earliest <= head.saturating_add(1)
                    && p.range.latest.is_none_or(|l| l > head)
            })
            .filter(|(_, p)| chain.header_by_hash(&p.range.head_hash).is_none())
            .max_by_key(|(_, p)| p.range.latest.map_or(0, |l| l.saturating_add(1)))
            .map(|(id, p)| (*id, p.range.head_hash))?;
        if let Some(p) = self.peers.get_mut(&peer) {
            p.probed = true;
        }
        self.stats.header_requests += 1;
        Some(self.issue(peer, Asked::Anchor { hash }, SyncQuery::Anchor { hash }))
    }
}
