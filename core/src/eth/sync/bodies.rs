//! Body download for linked headers: headers committing to an empty body get it at once;
//! the others are asked for in runs of up to [`MAX_BLOCK_FETCH`] consecutive blocks, only
//! within the first [`MAX_BODIES_AHEAD`] linked headers, and every body is checked against
//! its header (`validate_body`: transactions root, uncles hash, withdrawals) before it is
//! kept.

use std::collections::{BTreeMap, VecDeque};

use crate::eth::block::{validate_body, BlockBody, Header};
use crate::eth::primitives::{B256, EMPTY_ROOT_HASH, EMPTY_UNCLES_HASH};
use crate::types::PeerId;

use super::headers::Linked;
use super::limits::{MAX_BLOCK_FETCH, MAX_BODIES_AHEAD};
use super::peers::{Blame, SyncPeers};
use super::types::SyncFault;

/// The body of `header` when the header commits to an empty one (no transactions, no
/// uncles, no withdrawals): nothing to fetch (go-ethereum's downloader skips these too).
pub(super) fn empty_body(header: &Header) -> Option<BlockBody> {
    let empty = header.transactions_root == EMPTY_ROOT_HASH
        && header.ommers_hash == EMPTY_UNCLES_HASH
        && header.withdrawals_root.is_none_or(|r| r == EMPTY_ROOT_HASH);
    empty.then(|| BlockBody {
        transactions: Vec::new(),
        uncles: Vec::new(),
        withdrawals: header.withdrawals_root.map(|_| Vec::new()),
    })
}

/// The next body request: the first linked header lacking a body and not asked for, the
/// idle-most peer serving it, and the consecutive headers after it that the same peer
/// serves; they are marked as asked.
pub(super) fn next_request(
    linked: &mut VecDeque<Linked>,
    peers: &SyncPeers,
) -> Option<(PeerId, Vec<B256>)> {
    let window = linked.len().min(MAX_BODIES_AHEAD);
    let (first, peer) = linked.iter().take(window).enumerate().find_map(|(i, l)| {
        if l.body.is_some() || l.requested {
            return None;
        }
        peers
            .pick(l.header.number, l.header.number, &l.avoid)
            .map(|p| (i, p))
    })?;
    let latest = peers.get(&peer).and_then(|p| p.range.latest)?;
    let mut hashes = Vec::new();
    for l in linked.iter_mut().take(window).skip(first) {
        if hashes.len() >= MAX_BLOCK_FETCH || l.header.number > latest {
            break;
        }
        if l.body.is_some() || l.requested || l.avoid.contains(&peer) {
            continue;
        }
        l.requested = true;
        hashes.push(l.hash);
    }
    Some((peer, hashes))
}

/// The linked headers' positions by hash, for the `hashes` of one request.
fn positions(linked: &VecDeque<Linked>, hashes: &[B256]) -> BTreeMap<B256, usize> {
    let wanted: std::collections::BTreeSet<&B256> = hashes.iter().collect();
    linked
        .iter()
        .enumerate()
        .filter(|(_, l)| wanted.contains(&l.hash))
        .map(|(i, l)| (l.hash, i))
        .collect()
}

/// A body request for `hashes` failed; `blame` says whom to avoid for them.
pub(super) fn on_failed(linked: &mut VecDeque<Linked>, hashes: &[B256], blame: Blame) {
    let pos = positions(linked, hashes);
    for i in pos.values() {
        if let Some(l) = linked.get_mut(*i) {
            l.requested = false;
            l.avoid.blame(blame);
        }
    }
}

/// `from` answered the request for `hashes` with `bodies`, positionally. Keeps the bodies
/// that match their headers up to the first that does not; the rest is asked again from
/// someone else; a short answer's tail is asked again from anyone. Returns the fault, if any, and how many were accepted and undelivered.
pub(super) fn on_bodies(
    linked: &mut VecDeque<Linked>,
    from: PeerId,
    hashes: &[B256],
    bodies: Vec<BlockBody>,
) -> (Option<SyncFault>, u64, u64) {
    if bodies.len() > hashes.len() {
        on_failed(linked, hashes, Blame::Failed(from));
        return (Some(SyncFault::Unrequested), 0, 0);
    }
    if bodies.is_empty() {
        // It has none of them: ask someone else.
        on_failed(linked, hashes, Blame::Failed(from));
        return (None, 0, u64::try_from(hashes.len()).unwrap_or(u64::MAX));
    }
    let pos = positions(linked, hashes);
    let mut bodies = bodies.into_iter();
    let (mut fault, mut accepted, mut missing) = (None, 0u64, 0u64);
    for hash in hashes {
        let Some(l) = pos.get(hash).and_then(|i| linked.get_mut(*i)) else {
            // Imported or dropped meanwhile.
            let _ = bodies.next();
            continue;
        };
        l.requested = false;
        if fault.is_some() {
            l.avoid.add(from);
            continue;
        }
        match bodies.next() {
            Some(body) if validate_body(&l.header, &body).is_ok() => {
                if l.body.is_none() {
                    l.body = Some(body);
                    accepted += 1;
                }
            }
            Some(_) => {
                fault = Some(SyncFault::BodyMismatch);
                l.avoid.add(from);
            }
            // A short answer (go-ethereum stops at its 2 MiB soft limit): the rest is asked
            // again, from anyone.
            None => missing += 1,
        }
    }
    (fault, accepted, missing)
}
