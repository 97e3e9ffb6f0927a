//! The machine's scheduled work: request timeouts, bonds settling, revalidation, refresh,
//! bootstrapping, database expiry, and driving lookups.

use std::time::Instant;

use super::bond::Deferred;
use super::lookup::Lookup;
use super::packet::NodeRecord;
use super::refresh::{Tick, RANDOM_TARGETS};
use super::requests::{Expired, PingPurpose, Request};
use super::{
    Discv4, Discv4Event, LookupId, LookupRun, NodeEntry, Origin, BUCKET_SIZE, DB_EXPIRE_INTERVAL,
    DB_NODE_EXPIRATION, MAX_ACTIVE_LOOKUPS, MAX_SEED_NODES, SEED_MAX_AGE,
};
use crate::types::PeerId;

impl Discv4 {
    /// Everything due at `now`.
    pub(super) fn on_timeout(&mut self, now: Instant) {
        for expired in self.requests.expire(now) {
            match expired {
                Expired::Ping(p) => self.on_ping_failed(now, &p.to, &p.purposes, true),
                Expired::FindNode(p) => {
                    self.on_findnode_done(now, &p.to, p.lookup, p.answered(), p.nodes)
                }
                Expired::Enr(p) => self.on_enr_failed(&p.to, p.purpose),
            }
        }
        for (to, waiters) in self.bonds.take_ready(now) {
            for w in waiters {
                let req = match w {
                    Deferred::FindNode { target, lookup } => {
                        Request::FindNode { to, target, lookup }
                    }
                    Deferred::Enr(purpose) => Request::Enr { to, purpose },
                };
                self.request(now, req);
            }
        }
        for id in self.reval.due(now, &self.table, &mut self.rng) {
            if let Some(n) = self.table.get(&id) {
                let to = n.entry.record;
                self.request(
                    now,
                    Request::Ping {
                        to,
                        purpose: PingPurpose::Revalidate,
                    },
                );
            }
        }
        self.refresh_tick(now);
        if self.next_db_expire <= now {
            let now_unix = self.unix(now);
            self.db.expire(DB_NODE_EXPIRATION.as_secs(), now_unix);
            self.next_db_expire = now + DB_EXPIRE_INTERVAL;
        }
    }

    /// Bonds with the bootnodes and up to [`MAX_SEED_NODES`] recently seen database nodes;
    /// they enter the table when they answer.
    pub(super) fn bootstrap(&mut self, now: Instant) {
        let now_unix = self.unix(now);
        let mut nodes: Vec<NodeRecord> = self
            .db
            .seed_nodes(MAX_SEED_NODES, SEED_MAX_AGE.as_secs(), now_unix)
            .into_iter()
            .map(|s| s.record)
            .collect();
        nodes.extend(self.bootnodes.iter().copied());
        let mut seen = std::collections::BTreeSet::new();
        nodes.retain(|n| seen.insert(n.id));
        if nodes.is_empty() {
            return;
        }
        self.refresh.bootstrap_started(now);
        for n in nodes {
            self.ping_bootstrap(now, n);
        }
    }

    /// Runs the refresh if due: bootstrap again when the table is empty, else start a round
    /// of lookups.
    pub(super) fn refresh_tick(&mut self, now: Instant) {
        match self.refresh.tick(now, self.table.is_empty()) {
            Tick::Idle => {}
            Tick::Bootstrap => self.bootstrap(now),
            Tick::Lookups => {
                let mut targets = vec![self.local_peer];
                for _ in 0..RANDOM_TARGETS {
                    let mut t = [0u8; 64];
                    self.rng.fill(&mut t);
                    targets.push(PeerId(t));
                }
                self.refresh.begin_round(targets);
                self.next_refresh_lookup();
            }
        }
    }

    fn next_refresh_lookup(&mut self) {
        if let Some(target) = self.refresh.next_target() {
            let id = self.start_lookup(target, Origin::Refresh);
            self.refresh.started(id);
        }
    }

    /// Creates a lookup seeded from the table; it starts querying in `process`.
    pub(super) fn start_lookup(&mut self, target: PeerId, origin: Origin) -> LookupId {
        self.next_lookup += 1;
        let id = LookupId(self.next_lookup);
        let seeds: Vec<NodeRecord> = self
            .table
            .closest(&target.node_id(), BUCKET_SIZE)
            .into_iter()
            .map(|n| n.entry.record)
            .collect();
        let user_lookups = self
            .lookups
            .values()
            .filter(|r| r.origin == Origin::User)
            .count();
        if origin == Origin::User && user_lookups >= MAX_ACTIVE_LOOKUPS {
            // Too many at once: answer from the table alone rather than queue without bound.
            self.stats.overloaded += 1;
            let nodes = self
                .table
                .closest(&target.node_id(), BUCKET_SIZE)
                .into_iter()
                .map(|n| n.entry.clone())
                .collect();
            self.emit(Discv4Event::LookupDone { id, target, nodes });
            return id;
        }
        let lookup = Lookup::new(target, self.local_id, seeds);
        self.lookups.insert(id, LookupRun { lookup, origin });
        self.dirty.insert(id);
        id
    }

    /// Lookups started while the table was empty and the bootstrap under way get seeds now.
    pub(super) fn reseed_parked_lookups(&mut self) {
        let ids: Vec<LookupId> = self
            .lookups
            .iter()
            .filter(|(_, r)| !r.lookup.has_candidates())
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some(target) = self.lookups.get(&id).map(|r| r.lookup.target()) else {
                continue;
            };
            let seeds: Vec<NodeRecord> = self
                .table
                .closest(&target.node_id(), BUCKET_SIZE)
                .into_iter()
                .map(|n| n.entry.record)
                .collect();
            if let Some(run) = self.lookups.get_mut(&id) {
                run.lookup.add_nodes(seeds);
            }
            self.dirty.insert(id);
        }
    }

    /// Sends the queries lookup `id` wants and finishes it when it is done.
    pub(super) fn advance_lookup(&mut self, now: Instant, id: LookupId) {
        let Some(run) = self.lookups.get_mut(&id) else {
            return;
        };
        let target = run.lookup.target();
        let queries: Vec<NodeRecord> = std::iter::from_fn(|| run.lookup.next_query()).collect();
        let done = queries.is_empty() && run.lookup.is_done();
        let parked = !run.lookup.has_candidates() && self.bootstrap_pending > 0;
        for q in queries {
            self.after_bond(now, q, Deferred::FindNode { target, lookup: id });
        }
        if done && !parked {
            self.finish_lookup(id);
        }
    }

    fn finish_lookup(&mut self, id: LookupId) {
        let Some(run) = self.lookups.remove(&id) else {
            return;
        };
        match run.origin {
            Origin::User => {
                let nodes = run
                    .lookup
                    .result()
                    .into_iter()
                    .map(|record| {
                        let nid = record.id.node_id();
                        let enr = self.table.get(&nid).and_then(|n| n.entry.enr.clone());
                        NodeEntry {
                            record,
                            id: nid,
                            enr,
                        }
                    })
                    .collect();
                self.emit(Discv4Event::LookupDone {
                    id,
                    target: run.lookup.target(),
                    nodes,
                });
            }
            Origin::Refresh => {
                if self.refresh.finished(id) {
                    self.next_refresh_lookup();
                }
            }
        }
    }
}
