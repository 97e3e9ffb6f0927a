//! The peers the sync may ask: their advertised ranges and how busy they are.

use std::collections::BTreeMap;

use crate::types::PeerId;

use super::limits::{MAX_AVOIDED_PEERS, MAX_REQUESTS_PER_PEER};
use super::types::PeerRange;

/// One peer as the sync sees it.
#[derive(Clone, Debug)]
pub(super) struct SyncPeer {
    /// What it advertised.
    pub range: PeerRange,
    /// Sync requests in flight to it.
    pub in_flight: usize,
    /// Its head header was asked for already (eth/68 peers whose number is unknown).
    pub probed: bool,
}

/// The known peers, in id order (deterministic choices).
#[derive(Debug, Default)]
pub(super) struct SyncPeers {
    peers: BTreeMap<PeerId, SyncPeer>,
}

impl SyncPeers {
    /// Records `peer`'s range; true when it changed (a changed range clears avoidances).
    pub fn update(&mut self, peer: PeerId, range: PeerRange) -> bool {
        match self.peers.get_mut(&peer) {
            Some(p) if p.range == range => false,
            Some(p) => {
                if p.range.head_hash != range.head_hash {
                    p.probed = false;
                }
                p.range = range;
                true
            }
            None => {
                self.peers.insert(
                    peer,
                    SyncPeer {
                        range,
                        in_flight: 0,
                        probed: false,
                    },
                );
                true
            }
        }
    }

    pub fn remove(&mut self, peer: &PeerId) {
        self.peers.remove(peer);
    }

    pub fn get(&self, peer: &PeerId) -> Option<&SyncPeer> {
        self.peers.get(peer)
    }

    pub fn get_mut(&mut self, peer: &PeerId) -> Option<&mut SyncPeer> {
        self.peers.get_mut(peer)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&PeerId, &SyncPeer)> {
        self.peers.iter()
    }

    /// The idle-most peer serving every block of `lo..=hi` that `avoid` does not rule
    /// out, preferring peers that did not time out on it.
    pub fn pick(&self, lo: u64, hi: u64, avoid: &Avoid) -> Option<PeerId> {
        let able = |id: &PeerId, p: &SyncPeer| {
            p.in_flight < MAX_REQUESTS_PER_PEER
                && !avoid.contains(id)
                && p.range.earliest <= lo
                && p.range.latest.is_some_and(|l| l >= hi)
        };
        let best = |soft_ok: bool| {
            self.peers
                .iter()
                .filter(|(id, p)| able(id, p) && (soft_ok || !avoid.slow.contains(id)))
                .min_by_key(|(_, p)| p.in_flight)
                .map(|(id, _)| *id)
        };
        best(false).or_else(|| best(true))
    }

    /// Whether `peer` can take one more request.
    pub fn has_room(&self, peer: &PeerId) -> bool {
        self.peers
            .get(peer)
            .is_some_and(|p| p.in_flight < MAX_REQUESTS_PER_PEER)
    }
}

/// Who is to blame for a request that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Blame {
    /// Nobody (the peer left, or the request was never sent).
    Nobody,
    /// The peer timed out: ask others first, it again only if nobody else can.
    Slow(PeerId),
    /// The peer answered wrongly or had nothing: do not ask it again until its range
    /// changes.
    Failed(PeerId),
}

/// The peers a piece of work should not go to again, at most [`MAX_AVOIDED_PEERS`] of each
/// kind; the oldest is forgotten first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Avoid {
    failed: Vec<PeerId>,
    slow: Vec<PeerId>,
}

fn push_capped(v: &mut Vec<PeerId>, peer: PeerId) {
    if v.contains(&peer) {
        return;
    }
    if v.len() >= MAX_AVOIDED_PEERS {
        v.remove(0);
    }
    v.push(peer);
}

impl Avoid {
    /// Records `blame`.
    pub fn blame(&mut self, blame: Blame) {
        match blame {
            Blame::Nobody => {}
            Blame::Slow(p) => push_capped(&mut self.slow, p),
            Blame::Failed(p) => push_capped(&mut self.failed, p),
        }
    }

    /// A peer that failed this work: never asked for it again (until forgotten).
    pub fn add(&mut self, peer: PeerId) {
        push_capped(&mut self.failed, peer);
    }

    pub fn forget(&mut self, peer: &PeerId) {
        self.failed.retain(|p| p != peer);
        self.slow.retain(|p| p != peer);
    }

    /// Whether `peer` failed this work.
    pub fn contains(&self, peer: &PeerId) -> bool {
        self.failed.contains(peer)
    }
}
