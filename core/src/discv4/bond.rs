//! Endpoint proof ("bonding", devp2p `discv4.md`): a node must show it receives packets at
//! its claimed address before we send it anything large, so spoofed sources cannot turn us
//! into an amplifier.
//!
//! - We answer FindNode/ENRRequest from (id, IP) only if that node sent us a Pong within
//!   [`BOND_EXPIRATION`] (it answered a Ping we sent to that IP).
//! - When a Ping arrives and our last Pong from its sender is older, we ping back.
//! - Before our own FindNode/ENRRequest we make sure the remote holds such a proof for us:
//!   if it has not pinged us within [`BOND_EXPIRATION`], or our last FindNode to it failed,
//!   we ping it, and after its Pong wait one reply timeout for it to ping us back and receive
//!   our Pong, as go-ethereum does. (go-ethereum re-bonds only after five failures; but if
//!   our Pong to its Ping was lost, it holds no proof while we believe it does, and every
//!   FindNode until then is ignored. One extra Ping after a failure repairs that.)
//!
//! [`Bonds`] holds the requests waiting for that to happen.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::packet::NodeRecord;
use super::requests::EnrPurpose;
use super::{LookupId, BOND_EXPIRATION};
use crate::nodedb::NodeDb;
use crate::types::{NodeId, PeerId};

/// Consecutive FindNode failures after which a node leaves the table (go-ethereum
/// `maxFindnodeFailures`).
pub(crate) const MAX_FINDNODE_FAILURES: u32 = 5;
/// Requests that may wait on one bond.
const MAX_WAITERS_PER_NODE: usize = 8;

fn fresh(unix: Option<u64>, now_unix: u64) -> bool {
    unix.is_some_and(|t| now_unix.saturating_sub(t) < BOND_EXPIRATION.as_secs())
}

/// Whether (id, ip) proved its endpoint to us recently: we may answer its FindNode and
/// ENRRequest, and need not ping it back.
pub(crate) fn has_endpoint_proof(db: &dyn NodeDb, id: &NodeId, ip: IpAddr, now_unix: u64) -> bool {
    fresh(db.last_pong(id, ip), now_unix)
}

/// Whether (id, ip) should already hold a proof of us, so our FindNode will be answered: it
/// pinged us (and got our Pong) recently, and our last FindNode to it did not fail.
pub(crate) fn remote_knows_us(db: &dyn NodeDb, id: &NodeId, ip: IpAddr, now_unix: u64) -> bool {
    fresh(db.last_ping_received(id, ip), now_unix) && db.findnode_failures(id, ip) == 0
}

/// A request that waits for a bond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deferred {
    /// A lookup's FindNode.
    FindNode {
        /// Lookup target.
        target: PeerId,
        /// The lookup.
        lookup: LookupId,
    },
    /// An ENRRequest.
    Enr(EnrPurpose),
}

#[derive(Clone, Debug)]
struct Bonding {
    to: NodeRecord,
    /// Set once the Pong arrived: when the waiters may go.
    settle_at: Option<Instant>,
    waiters: Vec<Deferred>,
}

/// What [`Bonds::wait`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A new bond: send a Ping with [`super::requests::PingPurpose::Bond`].
    StartPing,
    /// Joined a bond already under way.
    Joined,
    /// Too many waiters (or bonds); fail the request.
    Full(Deferred),
}

/// Bonds under way and the requests waiting on them.
#[derive(Clone, Debug)]
pub(crate) struct Bonds {
    map: BTreeMap<NodeId, Bonding>,
    settle: Duration,
    max_bonds: usize,
}

impl Bonds {
    /// Waiters go `settle` after the Pong; at most `max_bonds` bonds at once.
    pub fn new(settle: Duration, max_bonds: usize) -> Self {
        Self {
            map: BTreeMap::new(),
            settle,
            max_bonds: max_bonds.max(1),
        }
    }

    /// Queues `req` for `to` until it is bonded.
    pub fn wait(&mut self, to: NodeRecord, req: Deferred) -> Wait {
        let id = to.id.node_id();
        if let Some(b) = self.map.get_mut(&id) {
            if b.waiters.len() >= MAX_WAITERS_PER_NODE {
                return Wait::Full(req);
            }
            b.waiters.push(req);
            return Wait::Joined;
        }
        if self.map.len() >= self.max_bonds {
            return Wait::Full(req);
        }
        self.map.insert(
            id,
            Bonding {
                to,
                settle_at: None,
                waiters: vec![req],
            },
        );
        Wait::StartPing
    }

    /// The node answered our Ping: its waiters go after the settle delay.
    pub fn on_pong(&mut self, id: &NodeId, now: Instant) {
        if let Some(b) = self.map.get_mut(id) {
            if b.settle_at.is_none() {
                b.settle_at = Some(now + self.settle);
            }
        }
    }

    /// Our Ping failed (or was refused): the waiters fail.
    pub fn on_ping_failed(&mut self, id: &NodeId) -> Option<(NodeRecord, Vec<Deferred>)> {
        let b = self.map.remove(id)?;
        Some((b.to, b.waiters))
    }

    /// Bonds whose settle delay has passed, with their waiters.
    pub fn take_ready(&mut self, now: Instant) -> Vec<(NodeRecord, Vec<Deferred>)> {
        let ready: Vec<NodeId> = self
            .map
            .iter()
            .filter(|(_, b)| b.settle_at.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        ready
            .into_iter()
            .filter_map(|id| self.map.remove(&id))
            .map(|b| (b.to, b.waiters))
            .collect()
    }

    /// When the next bond settles.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.map.values().filter_map(|b| b.settle_at).min()
    }

    /// Bonds under way.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discv4::packet::Endpoint;
    use crate::discv4::test_util::t0;
    use crate::nodedb::MemoryNodeDb;
    use std::net::Ipv4Addr;

    fn rec(n: u8) -> NodeRecord {
        NodeRecord {
            endpoint: Endpoint {
                ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
                udp: 30303,
                tcp: 30303,
            },
            id: PeerId([n; 64]),
        }
    }

    const DAY: u64 = 24 * 3600;

    #[test]
    fn proof_is_valid_for_24_hours_per_ip() {
        let mut db = MemoryNodeDb::new();
        let r = rec(1);
        let id = r.id.node_id();
        let ip = r.endpoint.ip;
        assert!(!has_endpoint_proof(&db, &id, ip, 1000));
        db.set_last_pong(&id, ip, 1000);
        assert!(has_endpoint_proof(&db, &id, ip, 1000 + DAY - 1));
        assert!(!has_endpoint_proof(&db, &id, ip, 1000 + DAY));
        let other_ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 99));
        assert!(!has_endpoint_proof(&db, &id, other_ip, 1000));
    }

    #[test]
    fn remote_proof_needs_a_recent_ping_and_no_failed_findnode() {
        let mut db = MemoryNodeDb::new();
        let r = rec(2);
        let id = r.id.node_id();
        let ip = r.endpoint.ip;
        assert!(!remote_knows_us(&db, &id, ip, 50));
        db.set_last_ping_received(&id, ip, 50);
        assert!(remote_knows_us(&db, &id, ip, 60));
        db.set_findnode_failures(&id, ip, 1);
        assert!(!remote_knows_us(&db, &id, ip, 60));
        db.set_findnode_failures(&id, ip, 0);
        assert!(!remote_knows_us(&db, &id, ip, 50 + DAY));
    }

    #[test]
    fn waiters_go_after_the_settle_delay_following_the_pong() {
        let t = t0();
        let mut bonds = Bonds::new(Duration::from_millis(500), 16);
        let r = rec(3);
        let q = Deferred::FindNode {
            target: PeerId([9; 64]),
            lookup: LookupId(1),
        };
        assert_eq!(bonds.wait(r, q), Wait::StartPing);
        assert_eq!(bonds.wait(r, q), Wait::Joined);
        assert_eq!(bonds.next_deadline(), None);
        bonds.on_pong(&r.id.node_id(), t);
        assert_eq!(bonds.next_deadline(), Some(t + Duration::from_millis(500)));
        assert!(bonds.take_ready(t + Duration::from_millis(499)).is_empty());
        let ready = bonds.take_ready(t + Duration::from_millis(500));
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].1.len(), 2);
        assert_eq!(bonds.len(), 0);
    }

    #[test]
    fn failed_ping_fails_every_waiter_and_bonds_are_bounded() {
        let mut bonds = Bonds::new(Duration::from_millis(500), 2);
        let q = Deferred::Enr(EnrPurpose::Update);
        assert_eq!(bonds.wait(rec(1), q), Wait::StartPing);
        assert_eq!(bonds.wait(rec(2), q), Wait::StartPing);
        assert_eq!(bonds.wait(rec(3), q), Wait::Full(q));
        for _ in 0..MAX_WAITERS_PER_NODE - 1 {
            assert_eq!(bonds.wait(rec(1), q), Wait::Joined);
        }
        assert_eq!(bonds.wait(rec(1), q), Wait::Full(q));
        let (_, waiters) = bonds.on_ping_failed(&rec(1).id.node_id()).unwrap();
        assert_eq!(waiters.len(), MAX_WAITERS_PER_NODE);
        assert!(bonds.on_ping_failed(&rec(1).id.node_id()).is_none());
    }
}
