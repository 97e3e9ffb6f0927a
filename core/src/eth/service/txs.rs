//! The transaction side of [`EthProtocol`]: Transactions, NewPooledTransactionHashes and
//! PooledTransactions from peers, the pool, propagation and the fetch scheduling
//! (go-ethereum `eth/handler_eth.go`, `eth/handler.go` `BroadcastTransactions`).

use std::collections::BTreeSet;

use crate::eth::app::{TxRejectReason, TxVerdict};
use crate::eth::messages::{EthMessage, TxAnnouncement};
use crate::eth::tx::{PooledTransaction, Transaction, TxType};
use crate::p2p::DisconnectReason;
use crate::peers::ReputationChange;
use crate::protocol::ProtocolContext;
use crate::types::PeerId;

use super::broadcast::{direct_peers, is_broadcastable};
use super::tracker::Fulfil;
use super::{EthEvent, EthProtocol, RequestKind, RESERVED_ACTIONS, UNREQUESTED_TXS_PENALTY};

/// A transaction the pool accepted, ready to propagate.
struct Accepted {
    ann: TxAnnouncement,
    broadcastable: bool,
    /// Keys the full-broadcast choice: the sender, or the hash if it cannot be recovered.
    sender: Vec<u8>,
}

impl Accepted {
    /// The propagation facts of `tx`.
    fn of(tx: &PooledTransaction, max_broadcast_bytes: usize) -> Self {
        let ann = TxAnnouncement::of(tx);
        let sender = match tx.transaction().recover_sender() {
            Ok(a) => a.to_vec(),
            Err(_) => ann.hash.to_vec(),
        };
        Accepted {
            ann,
            broadcastable: is_broadcastable(tx, max_broadcast_bytes),
            sender,
        }
    }
}

impl EthProtocol {
    /// Offers `txs` (from `from`, or local) to the pool; propagates the accepted pending
    /// ones and whatever they promoted from the queue, penalises invalid ones (once per
    /// call), counts refusals by reason, emits `TxsAdded`.
    pub(super) fn import_txs(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        from: Option<PeerId>,
        txs: Vec<PooledTransaction>,
    ) -> Vec<TxVerdict> {
        let mut verdicts = Vec::with_capacity(txs.len());
        let mut accepted = Vec::new();
        let mut added = Vec::new();
        let mut invalid = 0u64;
        let max_broadcast = self.cfg.tx_max_broadcast_bytes;
        for tx in txs {
            let facts = Accepted::of(&tx, max_broadcast);
            self.fetcher.forget(&facts.ann.hash);
            let verdict = self.pool.add(tx, from);
            match &verdict {
                TxVerdict::Added => {
                    self.metrics.txs_added += 1;
                    added.push(facts.ann.hash);
                    accepted.push(facts);
                }
                TxVerdict::Queued => {
                    self.metrics.txs_added += 1;
                    self.metrics.txs_queued += 1;
                    added.push(facts.ann.hash);
                }
                TxVerdict::AlreadyKnown => self.metrics.txs_duplicate += 1,
                TxVerdict::Dropped(r) => self.metrics.tx_rejected.count(r.reason),
                TxVerdict::Invalid(r) => {
                    self.metrics.tx_rejected.count(r.reason);
                    invalid += 1;
                }
            }
            // Promotions follow the transaction that filled the gap, in nonce order.
            for hash in self.pool.take_promoted() {
                if let Some(tx) = self.pool.get(&hash) {
                    self.metrics.txs_promoted += 1;
                    accepted.push(Accepted::of(&tx, max_broadcast));
                }
            }
            verdicts.push(verdict);
        }
        if from.is_some() {
            self.metrics.txs_invalid += invalid;
        }
        if let (Some(peer), true) = (from, invalid > 0) {
            let _ = ctx.report(peer, ReputationChange::BadTransactions);
        }
        if !added.is_empty() {
            let _ = ctx.emit(Box::new(EthEvent::TxsAdded {
                hashes: added,
                from,
            }));
        }
        if !accepted.is_empty() {
            self.propagate_txs(from, &accepted);
        }
        verdicts
    }

    /// Propagates transactions the pool promoted outside [`Self::import_txs`] (after a
    /// block import advanced nonces).
    pub(super) fn propagate_promoted(&mut self) {
        let max_broadcast = self.cfg.tx_max_broadcast_bytes;
        let accepted: Vec<Accepted> = self
            .pool
            .take_promoted()
            .iter()
            .filter_map(|h| self.pool.get(h))
            .map(|tx| Accepted::of(&tx, max_broadcast))
            .collect();
        self.metrics.txs_promoted += u64::try_from(accepted.len()).unwrap_or(u64::MAX);
        if !accepted.is_empty() {
            self.propagate_txs(None, &accepted);
        }
    }

    /// Queues accepted transactions: in full to ceil(√n) of the n ready peers lacking each
    /// (keyed by sender), announced to the others; blob and large ones only announced.
    fn propagate_txs(&mut self, from: Option<PeerId>, accepted: &[Accepted]) {
        let ready: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(id, p)| p.is_ready() && Some(**id) != from)
            .map(|(id, _)| *id)
            .collect();
        for a in accepted {
            let hash = a.ann.hash;
            let lacking: Vec<PeerId> = ready
                .iter()
                .filter(|id| {
                    self.peers
                        .get(id)
                        .is_some_and(|p| !p.known_txs.contains(&hash))
                })
                .copied()
                .collect();
            let direct = if a.broadcastable {
                direct_peers(&self.broadcast_key, &lacking, &a.sender)
            } else {
                BTreeSet::new()
            };
            for id in &lacking {
                let Some(p) = self.peers.get_mut(id) else {
                    continue;
                };
                p.known_txs.insert(hash);
                let dropped = if direct.contains(id) {
                    p.queues.push_full(hash)
                } else {
                    p.queues.push_ann(a.ann)
                };
                self.metrics.tx_queue_dropped += u64::try_from(dropped).unwrap_or(0);
            }
        }
    }

    /// Sends queued transactions and announcements while the call's budget lasts. Returns
    /// true when every queue is empty.
    pub(super) fn flush_queues(&mut self, ctx: &mut ProtocolContext<'_>) -> bool {
        let ids: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.is_ready() && !p.queues.is_empty())
            .map(|(id, _)| *id)
            .collect();
        let mut pending = ids;
        while !pending.is_empty() {
            let mut next = Vec::new();
            for id in pending {
                if ctx.remaining() <= RESERVED_ACTIONS {
                    return false;
                }
                let Some(p) = self.peers.get_mut(&id) else {
                    continue;
                };
                let txs = p
                    .queues
                    .take_full(self.pool.as_ref(), self.cfg.max_tx_packet_bytes);
                if !txs.is_empty() {
                    self.metrics.txs_sent += u64::try_from(txs.len()).unwrap_or(0);
                    Self::send(ctx, id, &EthMessage::Transactions(txs));
                }
                if ctx.remaining() <= RESERVED_ACTIONS {
                    return false;
                }
                let anns = p.queues.take_anns(self.cfg.max_tx_packet_bytes);
                if !anns.is_empty() {
                    self.metrics.tx_announcements_sent += u64::try_from(anns.len()).unwrap_or(0);
                    Self::send(ctx, id, &EthMessage::NewPooledTransactionHashes(anns));
                }
                if !p.queues.is_empty() {
                    next.push(id);
                }
            }
            pending = next;
        }
        true
    }

    /// Starts GetPooledTransactions for queued announcements (one in flight per peer).
    pub(super) fn schedule_fetches(&mut self, ctx: &mut ProtocolContext<'_>) {
        let now = ctx.now();
        let timeout = self.cfg.tx_fetch_timeout;
        let (tracker, peers, metrics) = (&mut self.tracker, &self.peers, &mut self.metrics);
        self.fetcher.schedule(|peer, hashes| {
            if !peers.get(peer).is_some_and(|p| p.is_ready()) || ctx.remaining() <= RESERVED_ACTIONS
            {
                return None;
            }
            let id = tracker.track(now, *peer, RequestKind::PooledTxs, Some(timeout))?;
            let msg = EthMessage::GetPooledTransactions {
                request_id: id,
                hashes: hashes.to_vec(),
            };
            if !Self::send(ctx, *peer, &msg) {
                let _ = tracker.fulfil(now, peer, id, 0);
                return None;
            }
            metrics.tx_fetch_requests += 1;
            Some(id)
        });
    }

    /// Transactions pushed by a peer.
    pub(super) fn on_transactions(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        txs: Vec<Transaction>,
    ) {
        // go-ethereum refuses blob transactions outside PooledTransactions, and duplicate
        // hashes within one message, by dropping the peer.
        if txs.iter().any(|t| t.tx_type() == TxType::Eip4844) {
            self.breach(ctx, peer);
            return;
        }
        let hashes: Vec<_> = txs.iter().map(Transaction::hash).collect();
        if has_duplicates(&hashes) {
            self.breach(ctx, peer);
            return;
        }
        self.metrics.txs_broadcast_in += u64::try_from(txs.len()).unwrap_or(0);
        if let Some(p) = self.peers.get_mut(&peer) {
            for h in &hashes {
                p.known_txs.insert(*h);
            }
        }
        let pooled = txs.into_iter().map(PooledTransaction::Plain).collect();
        self.import_txs(ctx, Some(peer), pooled);
    }

    /// Hashes announced by a peer.
    pub(super) fn on_tx_announcements(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        anns: &[TxAnnouncement],
    ) {
        let n = u64::try_from(anns.len()).unwrap_or(u64::MAX);
        self.metrics.tx_announcements_in += n;
        if let Some(p) = self.peers.get_mut(&peer) {
            for a in anns {
                p.known_txs.insert(a.hash);
            }
        }
        let pool = self.pool.as_ref();
        let out = self
            .fetcher
            .on_announce(ctx.now(), peer, anns, |h| pool.contains(h));
        self.metrics.tx_announcements_known += u64::try_from(out.known).unwrap_or(0);
        if out.overflow > 0 {
            // go-ethereum drops (and counts) announcements beyond `maxTxAnnounces`.
            self.metrics.tx_announcements_abuse += u64::try_from(out.overflow).unwrap_or(0);
            let _ = ctx.report(peer, ReputationChange::BadAnnouncement);
        }
    }

    /// A PooledTransactions response.
    pub(super) fn on_pooled_transactions(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        request_id: u64,
        txs: Vec<PooledTransaction>,
    ) {
        let delivered: Vec<_> = txs
            .iter()
            .map(|t| (t.hash(), t.tx_type().as_u8(), t.encoded_len()))
            .collect();
        let hashes: Vec<_> = delivered.iter().map(|d| d.0).collect();
        if has_duplicates(&hashes) {
            self.breach(ctx, peer);
            return;
        }
        // go-ethereum (`eth/handler_eth.go` `handleTransactions`) drops a peer that delivers a
        // blob transaction without its sidecar, or with one whose commitments do not hash
        // to the versioned hashes, before anything reaches the fetcher: the hash stays
        // announced by others, and dropping the peer re-queues it for them.
        if txs.iter().any(|t| t.check_sidecar().is_err()) {
            self.metrics.tx_rejected.count(TxRejectReason::BlobSidecar);
            self.breach(ctx, peer);
            return;
        }
        let matched = match self.match_response(ctx, peer, request_id, txs.len()) {
            Ok(RequestKind::PooledTxs) => Some(request_id),
            Ok(kind) => {
                self.wrong_response(ctx, peer, request_id, kind);
                return;
            }
            Err(Fulfil::Late) => None,
            Err(_) => return,
        };
        self.metrics.txs_fetched_in += u64::try_from(txs.len()).unwrap_or(0);
        if let Some(p) = self.peers.get_mut(&peer) {
            for h in &hashes {
                p.known_txs.insert(*h);
            }
        }
        let out = self
            .fetcher
            .on_delivery(ctx.now(), peer, matched, &delivered);
        for l in &out.latencies {
            self.metrics.tx_fetch_latency.observe(*l);
        }
        self.metrics.tx_fetch_failed += u64::try_from(out.missing).unwrap_or(0);
        if !out.unrequested.is_empty() {
            self.metrics.txs_unrequested += u64::try_from(out.unrequested.len()).unwrap_or(0);
            if out.mismatched.is_empty() {
                let _ = ctx.report(peer, UNREQUESTED_TXS_PENALTY);
            }
        }
        let wanted: Vec<PooledTransaction> = txs
            .into_iter()
            .zip(hashes)
            .filter(|(_, h)| !out.unrequested.contains(h) && !out.mismatched.contains(h))
            .map(|(t, _)| t)
            .collect();
        self.import_txs(ctx, Some(peer), wanted);
        if !out.mismatched.is_empty() {
            // go-ethereum drops a peer whose delivery contradicts its own announcement
            // (type, or size beyond the slack); the fetcher asks the other announcers.
            self.metrics.txs_unrequested += u64::try_from(out.mismatched.len()).unwrap_or(0);
            self.drop_peer(
                ctx,
                peer,
                DisconnectReason::SubprotocolError,
                ReputationChange::BadMessage,
            );
        }
    }
}

/// Whether `hashes` holds the same hash twice.
fn has_duplicates(hashes: &[crate::eth::primitives::B256]) -> bool {
    let mut seen = BTreeSet::new();
    hashes.iter().any(|h| !seen.insert(*h))
}
