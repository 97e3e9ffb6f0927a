//! Hashes being announced and fetched: who announced what, which phase each hash is in, the
//! per-peer outstanding counts behind the flood check, and our outstanding requests.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::eth::block::Header;
use crate::eth::primitives::B256;
use crate::types::PeerId;

use super::limits::{FETCH_TIMEOUT, MAX_ANNOUNCERS_PER_HASH, REQUEST_MEMORY};
use super::types::FetchId;

/// Where one announced hash stands.
#[derive(Clone, Debug)]
pub(super) enum Phase {
    /// Waiting until `due` (the arrive timeout, or now for a retry) to request the header.
    Waiting {
        /// When to request.
        due: Instant,
    },
    /// The header was requested with `id`.
    FetchingHeader {
        /// The request.
        id: FetchId,
    },
    /// The header is here; request the body at `due` (gathered with others).
    AwaitBody {
        /// The header.
        header: Box<Header>,
        /// When to request.
        due: Instant,
    },
    /// The body was requested with `id`.
    FetchingBody {
        /// The header.
        header: Box<Header>,
        /// The request.
        id: FetchId,
    },
}

/// One hash being fetched.
#[derive(Clone, Debug)]
pub(super) struct Tracked {
    /// When the first announcement arrived (for the latency statistics).
    pub(super) first_seen: Instant,
    /// Announcers, in arrival order, with the number each claimed.
    pub(super) announcers: Vec<(PeerId, u64)>,
    /// Peers already asked (or gone) in the current phase.
    pub(super) tried: Vec<PeerId>,
    /// Who delivered the header (asked first for the body).
    pub(super) header_from: Option<PeerId>,
    /// The phase.
    pub(super) phase: Phase,
}

impl Tracked {
    /// The number an announcer claimed, if it announced this hash.
    pub(super) fn claimed_by(&self, peer: &PeerId) -> Option<u64> {
        self.announcers
            .iter()
            .find(|(p, _)| p == peer)
            .map(|(_, n)| *n)
    }

    /// The lowest number any announcer claimed (for the distance window).
    pub(super) fn number(&self) -> u64 {
        match &self.phase {
            Phase::AwaitBody { header, .. } | Phase::FetchingBody { header, .. } => header.number,
            _ => self.announcers.iter().map(|(_, n)| *n).min().unwrap_or(0),
        }
    }

    /// The next peer to ask: the header's deliverer first (in the body phase), then the
    /// announcers in arrival order, skipping those already tried.
    pub(super) fn next_source(&self) -> Option<PeerId> {
        let body_phase = matches!(
            self.phase,
            Phase::AwaitBody { .. } | Phase::FetchingBody { .. }
        );
        let first = self.header_from.filter(|_| body_phase);
        first
            .into_iter()
            .chain(self.announcers.iter().map(|(p, _)| *p))
            .find(|p| !self.tried.contains(p))
    }

    /// Marks `peer` as tried in this phase.
    pub(super) fn mark_tried(&mut self, peer: PeerId) {
        if !self.tried.contains(&peer) {
            self.tried.push(peer);
        }
    }
}

/// What a request asked for.
#[derive(Clone, Debug)]
pub(super) enum Asked {
    /// One header by hash.
    Header(B256),
    /// Bodies of these blocks, with their headers to check the answer against.
    Bodies(Vec<(B256, Header)>),
}

/// One request we sent.
#[derive(Clone, Debug)]
pub(super) struct Request {
    /// Whom we asked.
    pub(super) peer: PeerId,
    /// When we created it.
    pub(super) sent: Instant,
    /// Whether [`FETCH_TIMEOUT`] passed (its hashes were already retried elsewhere).
    pub(super) timed_out: bool,
    /// What for.
    pub(super) asked: Asked,
}

/// Why an announcement was not tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The peer already announced it (nothing to do).
    Repeat,
    /// The peer is over its outstanding-hash cap.
    Flood,
    /// The per-hash announcer list or the tracked set is full.
    Full,
}

/// All tracked hashes and requests.
#[derive(Debug, Default)]
pub(super) struct Tracker {
    pub(super) hashes: BTreeMap<B256, Tracked>,
    pub(super) requests: BTreeMap<FetchId, Request>,
    per_peer: BTreeMap<PeerId, usize>,
    next_id: u64,
}

impl Tracker {
    /// Hashes `peer` has outstanding.
    pub(super) fn outstanding(&self, peer: &PeerId) -> usize {
        self.per_peer.get(peer).copied().unwrap_or(0)
    }

    /// Adds `peer` as an announcer of the already-tracked `hash`.
    pub(super) fn add_announcer(
        &mut self,
        hash: &B256,
        peer: PeerId,
        number: u64,
        cap: usize,
    ) -> Result<(), Refusal> {
        let outstanding = self.outstanding(&peer);
        let Some(t) = self.hashes.get_mut(hash) else {
            return Err(Refusal::Full);
        };
        if t.claimed_by(&peer).is_some() {
            return Err(Refusal::Repeat);
        }
        if outstanding >= cap {
            return Err(Refusal::Flood);
        }
        if t.announcers.len() >= MAX_ANNOUNCERS_PER_HASH {
            return Err(Refusal::Full);
        }
        t.announcers.push((peer, number));
        *self.per_peer.entry(peer).or_insert(0) += 1;
        Ok(())
    }

    /// Starts tracking `hash`, first announced by `peer` at `now`.
    pub(super) fn insert(
        &mut self,
        now: Instant,
        hash: B256,
        peer: PeerId,
        number: u64,
        due: Instant,
    ) {
        self.hashes.insert(
            hash,
            Tracked {
                first_seen: now,
                announcers: vec![(peer, number)],
                tried: Vec::new(),
                header_from: None,
                phase: Phase::Waiting { due },
            },
        );
        *self.per_peer.entry(peer).or_insert(0) += 1;
    }

    /// Stops tracking `hash`, releasing its announcers' counts. Its requests stay remembered
    /// so that their answers are not taken for unrequested ones.
    pub(super) fn forget(&mut self, hash: &B256) -> Option<Tracked> {
        let t = self.hashes.remove(hash)?;
        for (p, _) in &t.announcers {
            self.release_count(p);
        }
        Some(t)
    }

    /// Removes `peer` from every announcer list and marks it tried everywhere.
    pub(super) fn remove_peer(&mut self, peer: &PeerId) {
        for t in self.hashes.values_mut() {
            t.announcers.retain(|(p, _)| p != peer);
            t.mark_tried(*peer);
        }
        self.per_peer.remove(peer);
    }

    fn release_count(&mut self, peer: &PeerId) {
        if let Some(c) = self.per_peer.get_mut(peer) {
            *c = c.saturating_sub(1);
            if *c == 0 {
                self.per_peer.remove(peer);
            }
        }
    }

    /// Records a new request and returns its id.
    pub(super) fn new_request(&mut self, now: Instant, peer: PeerId, asked: Asked) -> FetchId {
        let id = FetchId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        self.requests.insert(
            id,
            Request {
                peer,
                sent: now,
                timed_out: false,
                asked,
            },
        );
        id
    }

    /// The earliest deadline: an announcement or body gathering due, a request timing out,
    /// or a timed-out request to forget.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let phases = self.hashes.values().filter_map(|t| match &t.phase {
            Phase::Waiting { due } | Phase::AwaitBody { due, .. } => Some(*due),
            _ => None,
        });
        let requests = self.requests.values().map(|r| {
            if r.timed_out {
                later(r.sent, REQUEST_MEMORY)
            } else {
                later(r.sent, FETCH_TIMEOUT)
            }
        });
        phases.chain(requests).min()
    }
}

/// `t + d`, or `t` in the (unreachable in practice) case the sum overflows `Instant`.
pub(super) fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d).unwrap_or(t)
}
