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

    /// The idle-most peer serving every block of `lo..=hi` and not in `avoid`.
    pub fn pick(&self, lo: u64, hi: u64, avoid: &Avoid) -> Option<PeerId> {
        self.peers
            .iter()
            .filter(|(id, p)| {
                p.in_flight < MAX_REQUESTS_PER_PEER
                    && !avoid.contains(id)
                    && p.range.earliest <= lo
                    && p.range.latest.is_some_and(|l| l >= hi)
            })
            .min_by_key(|(_, p)| p.in_flight)
            .map(|(id, _)| *id)
    }

    /// Whether `peer` can take one more request.
    pub fn has_room(&self, peer: &PeerId) -> bool {
        self.peers
            .get(peer)
            .is_some_and(|p| p.in_flight < MAX_REQUESTS_PER_PEER)
    }
}

/// The peers a piece of work must not go to again (they failed it), at most
/// [`MAX_AVOIDED_PEERS`]; the oldest is forgotten first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Avoid(Vec<PeerId>);

impl Avoid {
    pub fn add(&mut self, peer: PeerId) {
        if self.0.contains(&peer) {
            return;
        }
        if self.0.len() >= MAX_AVOIDED_PEERS {
            self.0.remove(0);
        }
        self.0.push(peer);
    }

    pub fn forget(&mut self, peer: &PeerId) {
        self.0.retain(|p| p != peer);
    }

    pub fn contains(&self, peer: &PeerId) -> bool {
        self.0.contains(peer)
    }
}
