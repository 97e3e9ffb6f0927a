//! Timers and retries: request timeouts, the arrive timeout before a header request, the
//! gathering of body requests per peer, and moving a failed fetch to the next announcer.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::eth::block::Header;
use crate::eth::primitives::B256;
use crate::types::PeerId;

use super::fetcher::BlockFetcher;
use super::limits::{FETCH_TIMEOUT, GATHER_SLACK, MAX_BODIES_PER_REQUEST, REQUEST_MEMORY};
use super::tracker::{later, Asked, Phase, Request};
use super::types::{DiscardReason, FetchId, FetchRequest};

impl BlockFetcher {
    /// Input: time passed; send what is due and retry what timed out.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = Some(now);
        self.schedule(now);
        self.pump();
    }

    /// Input: request `id` failed (the driver's own timeout, a send error, the peer answered
    /// with an error). Its blocks are retried with other announcers.
    pub fn on_request_failed(&mut self, now: Instant, id: FetchId) {
        self.last_now = Some(now);
        if let Some(req) = self.tracker.requests.remove(&id) {
            if !req.timed_out {
                match req.asked {
                    Asked::Header(_) => self.stats.header_failed += 1,
                    Asked::Bodies(_) => self.stats.body_failed += 1,
                }
                self.retry(now, id, &req);
            }
        }
        self.schedule(now);
        self.pump();
    }

    /// Moves every block still waiting on request `id` back to be asked of someone else.
    pub(super) fn retry(&mut self, now: Instant, id: FetchId, req: &Request) {
        let hashes: Vec<B256> = match &req.asked {
            Asked::Header(h) => vec![*h],
            Asked::Bodies(list) => list.iter().map(|(h, _)| *h).collect(),
        };
        for hash in hashes {
            let Some(t) = self.tracker.hashes.get_mut(&hash) else {
                continue;
            };
            let next = match &t.phase {
                Phase::FetchingHeader { id: x } if *x == id => Phase::Waiting { due: now },
                Phase::FetchingBody { id: x, header } if *x == id => Phase::AwaitBody {
                    header: header.clone(),
                    due: now,
                },
                _ => continue,
            };
            t.mark_tried(req.peer);
            t.phase = next;
        }
    }

    /// Does everything due at `now`. Afterwards no deadline is at or before `now`.
    pub(super) fn schedule(&mut self, now: Instant) {
        self.expire_requests(now);
        self.request_headers(now);
        self.request_bodies(now);
    }

    fn expire_requests(&mut self, now: Instant) {
        let mut expired = Vec::new();
        let mut forgotten = Vec::new();
        for (id, r) in &self.tracker.requests {
            if r.timed_out {
                if later(r.sent, REQUEST_MEMORY) <= now {
                    forgotten.push(*id);
                }
            } else if later(r.sent, FETCH_TIMEOUT) <= now {
                expired.push(*id);
            }
        }
        for id in forgotten {
            self.tracker.requests.remove(&id);
        }
        for id in expired {
            let Some(r) = self.tracker.requests.get_mut(&id) else {
                continue;
            };
            r.timed_out = true;
            let req = r.clone();
            if later(req.sent, REQUEST_MEMORY) <= now {
                self.tracker.requests.remove(&id);
            }
            match req.asked {
                Asked::Header(_) => self.stats.header_timeouts += 1,
                Asked::Bodies(_) => self.stats.body_timeouts += 1,
            }
            self.retry(now, id, &req);
        }
    }

    /// Once one announcement's arrive timeout fired, requests the header of every hash whose
    /// timeout is within [`GATHER_SLACK`] of firing too.
    fn request_headers(&mut self, now: Instant) {
        let due = |t: &Phase| match t {
            Phase::Waiting { due } => Some(*due),
            _ => None,
        };
        let fired = self
            .tracker
            .hashes
            .values()
            .any(|t| due(&t.phase).is_some_and(|d| d <= now));
        if !fired {
            return;
        }
        let horizon = later(now, GATHER_SLACK);
        let ready: Vec<B256> = self
            .tracker
            .hashes
            .iter()
            .filter(|(_, t)| due(&t.phase).is_some_and(|d| d <= horizon))
            .map(|(h, _)| *h)
            .collect();
        for hash in ready {
            let source = self.tracker.hashes.get(&hash).and_then(|t| t.next_source());
            let Some(peer) = source else {
                self.tracker.forget(&hash);
                self.discard(hash, DiscardReason::NoSource);
                continue;
            };
            let id = self.tracker.new_request(now, peer, Asked::Header(hash));
            if let Some(t) = self.tracker.hashes.get_mut(&hash) {
                t.mark_tried(peer);
                t.phase = Phase::FetchingHeader { id };
            }
            self.stats.header_requests += 1;
            self.requests_out
                .push_back(FetchRequest::Headers { id, peer, hash });
        }
    }

    /// Once one header's gathering time is over, requests every pending body, batched per
    /// peer (go-ethereum's completion timer does the same).
    fn request_bodies(&mut self, now: Instant) {
        let fired = self
            .tracker
            .hashes
            .values()
            .any(|t| matches!(&t.phase, Phase::AwaitBody { due, .. } if *due <= now));
        if !fired {
            return;
        }
        let mut batches: BTreeMap<PeerId, Vec<(B256, Header)>> = BTreeMap::new();
        let mut orphans = Vec::new();
        for (hash, t) in &self.tracker.hashes {
            let Phase::AwaitBody { header, .. } = &t.phase else {
                continue;
            };
            match t.next_source() {
                Some(peer) => batches
                    .entry(peer)
                    .or_default()
                    .push((*hash, (**header).clone())),
                None => orphans.push(*hash),
            }
        }
        for hash in orphans {
            self.tracker.forget(&hash);
            self.discard(hash, DiscardReason::NoSource);
        }
        for (peer, list) in batches {
            for chunk in list.chunks(MAX_BODIES_PER_REQUEST) {
                let id = self
                    .tracker
                    .new_request(now, peer, Asked::Bodies(chunk.to_vec()));
                for (hash, header) in chunk {
                    if let Some(t) = self.tracker.hashes.get_mut(hash) {
                        t.mark_tried(peer);
                        t.phase = Phase::FetchingBody {
                            header: Box::new(header.clone()),
                            id,
                        };
                    }
                }
                self.stats.body_requests += 1;
                let hashes = chunk.iter().map(|(h, _)| *h).collect();
                self.requests_out
                    .push_back(FetchRequest::Bodies { id, peer, hashes });
            }
        }
    }
}
