//! The machine's side of its own requests: encoding and queueing datagrams, sending requests
//! within the in-flight bound (bonding first where the endpoint proof requires it), and what
//! happens when a request is answered, times out or is refused.

use std::net::SocketAddr;
use std::time::Instant;

use super::bond::{self, Deferred, Wait};
use super::packet::{self, EnrRequest, FindNode, NodeRecord, Packet, Ping, Pong};
use super::requests::{Admit, EnrPurpose, PendingPing, PingPurpose, Request};
use super::revalidate::Verdict;
use super::table::{AddOutcome, RevalList};
use super::{Discv4, Discv4Event, NodeEntry, BUCKET_SIZE, MAX_TRANSMIT_QUEUE, PING_VERSION};
use crate::enr::Enr;
use crate::nodedb::StoredNode;
use crate::types::NodeId;

/// The UDP address of a record.
pub(super) fn udp_addr(r: &NodeRecord) -> SocketAddr {
    SocketAddr::new(r.endpoint.ip, r.endpoint.udp)
}

impl Discv4 {
    /// Signs `packet`, queues it for `to` and returns its hash.
    pub(super) fn send_packet(
        &mut self,
        now: Instant,
        to: SocketAddr,
        packet: &Packet,
    ) -> [u8; 32] {
        let (bytes, hash) = packet::encode(packet, &self.cfg.secret_key);
        self.endpoint.on_contact(to.ip(), now);
        if self.transmit.len() >= MAX_TRANSMIT_QUEUE {
            self.stats.overloaded += 1;
        } else {
            self.stats.packets_out += 1;
            super::count_kind(&mut self.stats.sent_by_kind, packet.kind());
            self.transmit.push_back((to, bytes));
        }
        hash
    }

    /// Sends `req` now, queues it behind the in-flight bound, or fails it.
    pub(super) fn request(&mut self, now: Instant, req: Request) {
        match self.requests.admit(req, now) {
            Admit::Send(req) => self.send_request(now, req),
            Admit::Joined | Admit::Queued => {}
            Admit::Refused(req) => {
                self.stats.overloaded += 1;
                self.failed.push_back(req);
            }
        }
    }

    /// Encodes and sends an admitted request and starts its reply timer.
    pub(super) fn send_request(&mut self, now: Instant, req: Request) {
        let deadline = now + self.cfg.reply_timeout;
        let expiration = self.expiration(now);
        match req {
            Request::Ping { to, purpose } => {
                let ping = Packet::Ping(Ping {
                    version: PING_VERSION,
                    from: self.local_endpoint,
                    to: to.endpoint,
                    expiration,
                    enr_seq: Some(self.enr.seq()),
                });
                let hash = self.send_packet(now, udp_addr(&to), &ping);
                self.requests.sent_ping(hash, to, purpose, now, deadline);
            }
            Request::FindNode { to, target, lookup } => {
                let fnode = Packet::FindNode(FindNode { target, expiration });
                self.send_packet(now, udp_addr(&to), &fnode);
                self.requests.sent_findnode(to, lookup, deadline);
            }
            Request::Enr { to, purpose } => {
                let req = Packet::EnrRequest(EnrRequest { expiration });
                let hash = self.send_packet(now, udp_addr(&to), &req);
                self.requests.sent_enr(hash, to, purpose, deadline);
            }
        }
    }

    /// A request refused before it was sent: the same consequences as no answer, except
    /// that a revalidation does not count against the node (the fault is ours).
    pub(super) fn fail_request(&mut self, now: Instant, req: Request) {
        match req {
            Request::Ping { to, purpose } => self.on_ping_failed(now, &to, &[purpose], false),
            Request::FindNode { to, lookup, .. } => {
                self.on_findnode_done(now, &to, lookup, false, Vec::new())
            }
            Request::Enr { to, purpose } => self.on_enr_failed(&to, purpose),
        }
    }

    /// Sends a FindNode or ENRRequest to `to`, first making sure it holds an endpoint proof
    /// for us (see [`bond`]).
    pub(super) fn after_bond(&mut self, now: Instant, to: NodeRecord, req: Deferred) {
        let id = to.id.node_id();
        let now_unix = self.unix(now);
        if bond::remote_knows_us(self.db.as_ref(), &id, to.endpoint.ip, now_unix) {
            self.request(now, deferred_request(to, req));
            return;
        }
        match self.bonds.wait(to, req) {
            Wait::StartPing => self.request(
                now,
                Request::Ping {
                    to,
                    purpose: PingPurpose::Bond,
                },
            ),
            Wait::Joined => {}
            Wait::Full(req) => {
                self.stats.overloaded += 1;
                self.failed.push_back(deferred_request(to, req));
            }
        }
    }

    /// Pings a bootnode or seed; counted until it resolves.
    pub(super) fn ping_bootstrap(&mut self, now: Instant, to: NodeRecord) {
        if to.id == self.local_peer || !self.allowed(to.endpoint.ip) {
            return;
        }
        self.bootstrap_pending += 1;
        self.request(
            now,
            Request::Ping {
                to,
                purpose: PingPurpose::Bootstrap,
            },
        );
    }

    fn bootstrap_resolved(&mut self, now: Instant) {
        self.bootstrap_pending = self.bootstrap_pending.saturating_sub(1);
        if self.bootstrap_pending == 0 {
            self.refresh.bootstrap_resolved(now, self.table.is_empty());
            self.reseed_parked_lookups();
            self.refresh_tick(now);
        }
    }

    /// Our Ping was answered.
    pub(super) fn on_pong_matched(
        &mut self,
        now: Instant,
        from: SocketAddr,
        pending: PendingPing,
        pong: &Pong,
    ) {
        let to = pending.to;
        let id = to.id.node_id();
        let now_unix = self.unix(now);
        self.db.set_last_pong(&id, to.endpoint.ip, now_unix);
        let enr = match self.table.get(&id).and_then(|n| n.entry.enr.as_ref()) {
            Some(e) => Some(e.encode()),
            None => self.db.node(&id).and_then(|s| s.enr),
        };
        self.db.put_node(&StoredNode {
            record: to,
            enr,
            last_pong: now_unix,
        });
        self.add_to_table(now, to);
        self.on_endpoint_statement(now, from, pong);
        for purpose in pending.purposes {
            match purpose {
                PingPurpose::Bootstrap => self.bootstrap_resolved(now),
                PingPurpose::PingBack => {}
                PingPurpose::Revalidate => self.revalidated(now, &id, true, pong.enr_seq),
                PingPurpose::Bond => self.bonds.on_pong(&id, now),
                PingPurpose::Tool(rid) => self.emit(Discv4Event::PongReceived {
                    id: rid,
                    rtt: now.saturating_duration_since(pending.sent_at),
                    enr_seq: pong.enr_seq,
                }),
            }
        }
    }

    /// Our Ping got no answer (`timed_out`) or was never sent.
    pub(super) fn on_ping_failed(
        &mut self,
        now: Instant,
        to: &NodeRecord,
        purposes: &[PingPurpose],
        timed_out: bool,
    ) {
        let id = to.id.node_id();
        for purpose in purposes {
            match *purpose {
                PingPurpose::Bootstrap => self.bootstrap_resolved(now),
                PingPurpose::PingBack => {}
                PingPurpose::Revalidate if timed_out => self.revalidated(now, &id, false, None),
                PingPurpose::Revalidate => self.reval.cancel(&id),
                PingPurpose::Bond => {
                    if let Some((to, waiters)) = self.bonds.on_ping_failed(&id) {
                        self.failed
                            .extend(waiters.into_iter().map(|w| deferred_request(to, w)));
                    }
                }
                PingPurpose::Tool(rid) => self.emit(Discv4Event::RequestFailed { id: rid }),
            }
        }
    }

    /// A FindNode finished: `answered` if any Neighbors packet came back, with the acceptable
    /// `nodes` it carried. A node failing [`bond::MAX_FINDNODE_FAILURES`] times in a row
    /// leaves the table, unless its bucket is nearly empty (small networks must still
    /// bootstrap), as in go-ethereum. Unlike go-ethereum, an answer without usable nodes is
    /// not a failure: the node is alive and bonded (its table may just be small), and
    /// counting it would make small networks re-bond and retry for nothing.
    pub(super) fn on_findnode_done(
        &mut self,
        now: Instant,
        to: &NodeRecord,
        lookup: super::LookupId,
        answered: bool,
        nodes: Vec<NodeRecord>,
    ) {
        let id = to.id.node_id();
        let ip = to.endpoint.ip;
        if !answered {
            let fails = self.db.findnode_failures(&id, ip).saturating_add(1);
            self.db.set_findnode_failures(&id, ip, fails);
            if fails >= bond::MAX_FINDNODE_FAILURES
                && self.table.bucket_len_of(&id) >= BUCKET_SIZE / 4
            {
                self.remove_from_table(now, &id);
            }
        } else if self.db.findnode_failures(&id, ip) > 0 {
            self.db.set_findnode_failures(&id, ip, 0);
        }
        if let Some(run) = self.lookups.get_mut(&lookup) {
            if !answered {
                run.lookup.on_failure(&id);
            } else {
                run.lookup.on_reply(&id, nodes);
            }
            self.dirty.insert(lookup);
        }
    }

    /// A verified record answered our ENRRequest.
    pub(super) fn on_enr_received(
        &mut self,
        now: Instant,
        to: &NodeRecord,
        purpose: EnrPurpose,
        record: Enr,
    ) {
        let id = to.id.node_id();
        let newer = self
            .table
            .get(&id)
            .map(|n| n.entry.enr.as_ref().is_none_or(|e| record.seq() > e.seq()));
        if newer == Some(true) {
            if let Some(n) = self.table.get_mut(&id) {
                n.entry.enr = Some(record.clone());
            }
            let last_pong = self
                .db
                .last_pong(&id, to.endpoint.ip)
                .unwrap_or(self.unix(now));
            self.db.put_node(&StoredNode {
                record: *to,
                enr: Some(record.encode()),
                last_pong,
            });
        }
        if let EnrPurpose::Tool(rid) = purpose {
            self.emit(Discv4Event::EnrReceived { id: rid, record });
        }
    }

    /// Our ENRRequest got no valid answer.
    pub(super) fn on_enr_failed(&mut self, _to: &NodeRecord, purpose: EnrPurpose) {
        if let EnrPurpose::Tool(rid) = purpose {
            self.emit(Discv4Event::RequestFailed { id: rid });
        }
    }

    /// Puts a node whose endpoint was just verified into the table.
    pub(super) fn add_to_table(&mut self, now: Instant, record: NodeRecord) {
        if !self.allowed(record.endpoint.ip) {
            return;
        }
        let id = record.id.node_id();
        let entry = NodeEntry {
            record,
            id,
            enr: None,
        };
        if self.table.add(entry) == AddOutcome::Added {
            self.reval.on_list(RevalList::Fast, now, &mut self.rng);
            if let Some(n) = self.table.get(&id) {
                let entry = n.entry.clone();
                self.emit(Discv4Event::NodeAdded(entry));
            }
        }
    }

    /// Takes a node out of the table, promoting a replacement.
    pub(super) fn remove_from_table(&mut self, now: Instant, id: &NodeId) {
        let Some(removed) = self.table.remove(id, &mut self.rng) else {
            return;
        };
        self.emit(Discv4Event::NodeRemoved(removed.node.entry.clone()));
        if let Some(promoted) = removed.promoted {
            self.reval.on_list(RevalList::Fast, now, &mut self.rng);
            self.emit(Discv4Event::NodeAdded(promoted));
        }
    }

    /// The outcome of a revalidation ping of `id`.
    pub(super) fn revalidated(
        &mut self,
        now: Instant,
        id: &NodeId,
        alive: bool,
        enr_seq: Option<u64>,
    ) {
        match self
            .reval
            .on_result(id, alive, &mut self.table, now, &mut self.rng)
        {
            Verdict::Remove => self.remove_from_table(now, id),
            Verdict::Alive => {
                let Some(node) = self.table.get(id) else {
                    return;
                };
                let known = node.entry.enr.as_ref().map_or(0, Enr::seq);
                let record = node.entry.record;
                if enr_seq.is_some_and(|s| s > known) {
                    self.after_bond(now, record, Deferred::Enr(EnrPurpose::Update));
                }
            }
            Verdict::Demoted | Verdict::Gone => {}
        }
    }

    /// A Pong said where its sender sees us: feed the predictor and re-sign the local record
    /// if the prediction changed.
    fn on_endpoint_statement(&mut self, now: Instant, from: SocketAddr, pong: &Pong) {
        let stated = SocketAddr::new(pong.to.ip, pong.to.udp);
        let Some(ep) = self.endpoint.on_statement(from.ip(), stated, now) else {
            return;
        };
        self.local_endpoint.ip = ep.ip();
        self.local_endpoint.udp = ep.port();
        if self
            .enr
            .set_endpoint(Some(ep.ip()), self.cfg.local.tcp, ep.port())
        {
            self.db.set_local_seq(self.enr.seq());
            self.emit(Discv4Event::ExternalEndpoint(ep));
        }
    }
}

/// The request a deferred one becomes once bonded.
fn deferred_request(to: NodeRecord, d: Deferred) -> Request {
    match d {
        Deferred::FindNode { target, lookup } => Request::FindNode { to, target, lookup },
        Deferred::Enr(purpose) => Request::Enr { to, purpose },
    }
}
