//! Reply matching: the requests we have in flight, what each was for, and when it times out.
//! Pong is matched by the hash of our Ping, ENRResponse by the hash of our ENRRequest, and
//! Neighbors by the node we sent FindNode to, accumulating up to [`BUCKET_SIZE`] nodes over
//! several packets. A reply matching nothing is unsolicited.
//!
//! In-flight requests are capped; beyond the cap requests wait in a bounded queue, and beyond
//! that they are refused, so memory never grows with what peers send us.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::packet::NodeRecord;
use super::{LookupId, RequestId, BUCKET_SIZE};
use crate::types::{NodeId, PeerId};

/// Purposes one pending Ping may serve at once (pings to the same node are shared).
const MAX_PURPOSES_PER_PING: usize = 8;

/// Why we sent a Ping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PingPurpose {
    /// Bond with a bootnode or a node seeded from the database; add it on success.
    Bootstrap,
    /// The node pinged us without a valid endpoint proof; add it on success.
    PingBack,
    /// Liveness check of a table node.
    Revalidate,
    /// Give the node a reason to ping us back before we send FindNode/ENRRequest.
    Bond,
    /// [`super::Discv4::ping`].
    Tool(RequestId),
}

impl PingPurpose {
    /// Whether the ping is worth keeping when the in-flight cap is reached. Ping-backs are
    /// answers to unauthenticated input, so under load they are dropped, not queued.
    fn queues(self) -> bool {
        !matches!(self, PingPurpose::PingBack)
    }
}

/// Why we sent an ENRRequest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EnrPurpose {
    /// [`super::Discv4::request_enr`].
    Tool(RequestId),
    /// A table node announced a newer record.
    Update,
}

/// A request not sent yet.
#[derive(Clone, Debug)]
pub(crate) enum Request {
    /// Ping.
    Ping {
        /// Recipient.
        to: NodeRecord,
        /// Why.
        purpose: PingPurpose,
    },
    /// FindNode for a lookup.
    FindNode {
        /// Recipient.
        to: NodeRecord,
        /// Lookup target.
        target: PeerId,
        /// The lookup asking.
        lookup: LookupId,
    },
    /// ENRRequest.
    Enr {
        /// Recipient.
        to: NodeRecord,
        /// Why.
        purpose: EnrPurpose,
    },
}

/// A Ping in flight.
#[derive(Clone, Debug)]
pub(crate) struct PendingPing {
    /// Recipient.
    pub to: NodeRecord,
    /// When it was sent (for the round-trip time).
    pub sent_at: Instant,
    /// Everything waiting on the answer.
    pub purposes: Vec<PingPurpose>,
    deadline: Instant,
}

/// A FindNode in flight.
#[derive(Clone, Debug)]
pub(crate) struct PendingFindNode {
    /// Recipient.
    pub to: NodeRecord,
    /// The lookup asking.
    pub lookup: LookupId,
    /// Acceptable nodes received so far (≤ [`BUCKET_SIZE`]).
    pub nodes: Vec<NodeRecord>,
    /// Nodes received so far, acceptable or not (the reply is complete at [`BUCKET_SIZE`]).
    received: usize,
    /// Whether any Neighbors packet arrived (even an empty one).
    answered: bool,
    deadline: Instant,
}

impl PendingFindNode {
    /// Whether the node answered at all (an empty or filtered answer is still an answer).
    pub fn answered(&self) -> bool {
        self.answered
    }
}

/// An ENRRequest in flight.
#[derive(Clone, Debug)]
pub(crate) struct PendingEnr {
    /// Recipient.
    pub to: NodeRecord,
    /// Why.
    pub purpose: EnrPurpose,
    deadline: Instant,
}

/// A request that timed out.
#[derive(Clone, Debug)]
pub(crate) enum Expired {
    /// No Pong.
    Ping(PendingPing),
    /// Neighbors incomplete (maybe with some nodes).
    FindNode(PendingFindNode),
    /// No ENRResponse.
    Enr(PendingEnr),
}

/// What a Neighbors packet did.
#[derive(Clone, Debug)]
pub(crate) enum NeighborsMatch {
    /// No FindNode of ours is waiting for that node.
    Unsolicited,
    /// Counted; more may follow.
    Partial,
    /// The reply is complete.
    Complete(PendingFindNode),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Ping([u8; 32]),
    FindNode(NodeId),
    Enr(NodeId, [u8; 32]),
}

/// All requests in flight and the queue behind them.
#[derive(Debug)]
pub(crate) struct Requests {
    pings: BTreeMap<[u8; 32], PendingPing>,
    ping_by_node: BTreeMap<NodeId, [u8; 32]>,
    findnodes: BTreeMap<NodeId, PendingFindNode>,
    /// By recipient and hash: an ENRRequest names no recipient, so the same request sent to
    /// two nodes within one second has the same hash.
    enrs: BTreeMap<(NodeId, [u8; 32]), PendingEnr>,
    deadlines: BTreeSet<(Instant, Key)>,
    queue: VecDeque<Request>,
    max_in_flight: usize,
    max_queued: usize,
    /// A ping-back joins a Ping to the same node only if that Ping is younger than this.
    ping_back_join: Duration,
}

/// Whether a new request can go out now.
#[derive(Clone, Debug)]
pub(crate) enum Admit {
    /// Send it.
    Send(Request),
    /// A Ping to the node is in flight; the purpose was attached to it.
    Joined,
    /// Queued behind the in-flight cap or a conflicting request.
    Queued,
    /// Refused: the queue is full (or it is a ping-back under load).
    Refused(Request),
}

impl Requests {
    /// Bookkeeping with `max_in_flight` requests in flight and as many queued; replies are
    /// awaited for `reply_timeout`.
    pub fn new(max_in_flight: usize, reply_timeout: Duration) -> Self {
        Self {
            pings: BTreeMap::new(),
            ping_by_node: BTreeMap::new(),
            findnodes: BTreeMap::new(),
            enrs: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            queue: VecDeque::new(),
            max_in_flight: max_in_flight.max(1),
            max_queued: max_in_flight.max(1),
            ping_back_join: reply_timeout / 2,
        }
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.pings.len() + self.findnodes.len() + self.enrs.len()
    }

    /// Requests waiting to be sent.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether `req` cannot go out while another request is in flight: one FindNode per node
    /// (Neighbors carry no request id) and one ENRRequest per node (identical requests have
    /// identical hashes).
    fn conflicts(&self, req: &Request) -> bool {
        match req {
            Request::FindNode { to, .. } => self.findnodes.contains_key(&to.id.node_id()),
            Request::Enr { to, .. } => {
                let id = to.id.node_id();
                self.enrs
                    .range((id, [0; 32])..=(id, [0xff; 32]))
                    .next()
                    .is_some()
            }
            Request::Ping { .. } => false,
        }
    }

    /// Decides what to do with a new request at `now`.
    ///
    /// A Ping to a node already being pinged at the same endpoint joins that Ping, except a
    /// ping-back when the pending Ping has waited a while: the remote pinging us again means
    /// it is retrying, and our earlier Ping or its Pong was probably lost. Without a fresh
    /// Ping it would get no proof of us until the old one times out.
    pub fn admit(&mut self, req: Request, now: Instant) -> Admit {
        let mut fresh_ping = false;
        if let Request::Ping { to, purpose } = &req {
            let id = to.id.node_id();
            if let Some(p) = self
                .ping_by_node
                .get(&id)
                .and_then(|h| self.pings.get_mut(h))
            {
                let stale = *purpose == PingPurpose::PingBack
                    && now.saturating_duration_since(p.sent_at) >= self.ping_back_join;
                if p.to.endpoint == to.endpoint {
                    if stale {
                        fresh_ping = true;
                    } else if p.purposes.len() < MAX_PURPOSES_PER_PING {
                        p.purposes.push(*purpose);
                        return Admit::Joined;
                    }
                }
            }
        }
        let full = self.in_flight() >= self.max_in_flight;
        if !full && !self.conflicts(&req) && (fresh_ping || !self.ping_conflict(&req)) {
            return Admit::Send(req);
        }
        let queues = match &req {
            Request::Ping { purpose, .. } => purpose.queues(),
            _ => true,
        };
        if !queues || self.queue.len() >= self.max_queued {
            return Admit::Refused(req);
        }
        self.queue.push_back(req);
        Admit::Queued
    }

    /// A Ping to a node already being pinged at another endpoint waits.
    fn ping_conflict(&self, req: &Request) -> bool {
        match req {
            Request::Ping { to, .. } => self.ping_by_node.contains_key(&to.id.node_id()),
            _ => false,
        }
    }

    /// The next queued request that may go out now, if any.
    pub fn next_queued(&mut self) -> Option<Request> {
        if self.in_flight() >= self.max_in_flight {
            return None;
        }
        let pos = self
            .queue
            .iter()
            .position(|r| !self.conflicts(r) && !self.ping_conflict(r))?;
        self.queue.remove(pos)
    }

    /// Drops the per-node index of Ping `hash` if it is the latest to `id`.
    fn forget_ping(&mut self, id: &NodeId, hash: &[u8; 32]) {
        if self.ping_by_node.get(id) == Some(hash) {
            self.ping_by_node.remove(id);
        }
    }

    /// Records a Ping just sent (the latest Ping to its node). A Ping identical to one in
    /// flight (same node, same expiration second) has the same hash: the two are merged and
    /// the timer restarts.
    pub fn sent_ping(
        &mut self,
        hash: [u8; 32],
        to: NodeRecord,
        purpose: PingPurpose,
        now: Instant,
        deadline: Instant,
    ) {
        self.ping_by_node.insert(to.id.node_id(), hash);
        if let Some(p) = self.pings.get_mut(&hash) {
            self.deadlines.remove(&(p.deadline, Key::Ping(hash)));
            self.deadlines.insert((deadline, Key::Ping(hash)));
            p.deadline = deadline;
            p.sent_at = now;
            if p.purposes.len() < MAX_PURPOSES_PER_PING {
                p.purposes.push(purpose);
            }
            return;
        }
        self.deadlines.insert((deadline, Key::Ping(hash)));
        self.pings.insert(
            hash,
            PendingPing {
                to,
                sent_at: now,
                purposes: vec![purpose],
                deadline,
            },
        );
    }

    /// Records a FindNode just sent.
    pub fn sent_findnode(&mut self, to: NodeRecord, lookup: LookupId, deadline: Instant) {
        let id = to.id.node_id();
        self.deadlines.insert((deadline, Key::FindNode(id)));
        self.findnodes.insert(
            id,
            PendingFindNode {
                to,
                lookup,
                nodes: Vec::new(),
                received: 0,
                answered: false,
                deadline,
            },
        );
    }

    /// Records an ENRRequest just sent.
    pub fn sent_enr(
        &mut self,
        hash: [u8; 32],
        to: NodeRecord,
        purpose: EnrPurpose,
        deadline: Instant,
    ) {
        let id = to.id.node_id();
        self.deadlines.insert((deadline, Key::Enr(id, hash)));
        self.enrs.insert(
            (id, hash),
            PendingEnr {
                to,
                purpose,
                deadline,
            },
        );
    }

    /// Matches a Pong from `sender` at `ip` answering the Ping with `hash`.
    pub fn take_pong(
        &mut self,
        hash: &[u8; 32],
        sender: &PeerId,
        ip: IpAddr,
    ) -> Option<PendingPing> {
        let p = self.pings.get(hash)?;
        if &p.to.id != sender || p.to.endpoint.ip != ip {
            return None;
        }
        let p = self.pings.remove(hash)?;
        self.forget_ping(&sender.node_id(), hash);
        self.deadlines.remove(&(p.deadline, Key::Ping(*hash)));
        Some(p)
    }

    /// Adds a Neighbors packet from `sender` at `ip`: `count` nodes were in it, of which
    /// `accepted` passed the filters.
    pub fn add_neighbors(
        &mut self,
        sender: &PeerId,
        ip: IpAddr,
        count: usize,
        accepted: Vec<NodeRecord>,
    ) -> NeighborsMatch {
        let id = sender.node_id();
        let Some(p) = self.findnodes.get_mut(&id) else {
            return NeighborsMatch::Unsolicited;
        };
        if &p.to.id != sender || p.to.endpoint.ip != ip {
            return NeighborsMatch::Unsolicited;
        }
        p.received = p.received.saturating_add(count);
        p.answered = true;
        for n in accepted {
            if p.nodes.len() >= BUCKET_SIZE {
                break;
            }
            if !p.nodes.iter().any(|m| m.id == n.id) {
                p.nodes.push(n);
            }
        }
        if p.received < BUCKET_SIZE {
            return NeighborsMatch::Partial;
        }
        match self.findnodes.remove(&id) {
            Some(p) => {
                self.deadlines.remove(&(p.deadline, Key::FindNode(id)));
                NeighborsMatch::Complete(p)
            }
            None => NeighborsMatch::Unsolicited,
        }
    }

    /// Whether a FindNode to `id` is waiting for Neighbors.
    pub fn awaiting_neighbors(&self, id: &NodeId) -> bool {
        self.findnodes.contains_key(id)
    }

    /// Matches an ENRResponse from `sender` at `ip` answering the request with `hash`.
    pub fn take_enr(&mut self, hash: &[u8; 32], sender: &PeerId, ip: IpAddr) -> Option<PendingEnr> {
        let key = (sender.node_id(), *hash);
        let p = self.enrs.get(&key)?;
        if &p.to.id != sender || p.to.endpoint.ip != ip {
            return None;
        }
        let p = self.enrs.remove(&key)?;
        self.deadlines.remove(&(p.deadline, Key::Enr(key.0, key.1)));
        Some(p)
    }

    /// Removes and returns every request whose deadline is at or before `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<Expired> {
        let mut out = Vec::new();
        while let Some(&(deadline, key)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            match key {
                Key::Ping(h) => {
                    if let Some(p) = self.pings.remove(&h) {
                        self.forget_ping(&p.to.id.node_id(), &h);
                        out.push(Expired::Ping(p));
                    }
                }
                Key::FindNode(id) => {
                    if let Some(p) = self.findnodes.remove(&id) {
                        out.push(Expired::FindNode(p));
                    }
                }
                Key::Enr(id, h) => {
                    if let Some(p) = self.enrs.remove(&(id, h)) {
                        out.push(Expired::Enr(p));
                    }
                }
            }
        }
        out
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(t, _)| *t)
    }
}

#[cfg(test)]
#[path = "requests_tests.rs"]
mod tests;
