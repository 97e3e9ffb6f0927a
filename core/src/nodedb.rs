//! What discovery (and later the peer manager) persists about nodes, as a trait implemented
//! by the node crate over an embedded database, plus an in-memory implementation for tests
//! and the simulator. Times are unix seconds (the database outlives monotonic clocks).

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::discv4::packet::NodeRecord;
use crate::types::NodeId;

/// A node as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredNode {
    /// Identity and endpoint.
    pub record: NodeRecord,
    /// The node's latest ENR, RLP-encoded, if we fetched one.
    pub enr: Option<Vec<u8>>,
    /// Unix seconds of the last Pong we received from it.
    pub last_pong: u64,
}

/// Persistence used by discovery. Implementations must never panic on their own I/O errors
/// (log and carry on: discovery works without persistence).
pub trait NodeDb: Send {
    /// A stored node.
    fn node(&self, id: &NodeId) -> Option<StoredNode>;
    /// Stores or replaces a node.
    fn put_node(&mut self, node: &StoredNode);
    /// Removes a node and its per-IP data.
    fn delete_node(&mut self, id: &NodeId);
    /// Unix seconds of the last Pong from (id, ip).
    fn last_pong(&self, id: &NodeId, ip: IpAddr) -> Option<u64>;
    /// Records a Pong from (id, ip).
    fn set_last_pong(&mut self, id: &NodeId, ip: IpAddr, unix: u64);
    /// Unix seconds of the last Ping received from (id, ip).
    fn last_ping_received(&self, id: &NodeId, ip: IpAddr) -> Option<u64>;
    /// Records a Ping from (id, ip).
    fn set_last_ping_received(&mut self, id: &NodeId, ip: IpAddr, unix: u64);
    /// FindNode failures of (id, ip) since its last success.
    fn findnode_failures(&self, id: &NodeId, ip: IpAddr) -> u32;
    /// Sets the FindNode failure count of (id, ip).
    fn set_findnode_failures(&mut self, id: &NodeId, ip: IpAddr, fails: u32);
    /// The local record's last sequence number.
    fn local_seq(&self) -> Option<u64>;
    /// Stores the local record's sequence number.
    fn set_local_seq(&mut self, seq: u64);
    /// Up to `n` nodes whose last Pong is within `max_age_secs` of `now_unix`, for seeding.
    fn seed_nodes(&self, n: usize, max_age_secs: u64, now_unix: u64) -> Vec<StoredNode>;
    /// Removes nodes whose last Pong is older than `max_age_secs`.
    fn expire(&mut self, max_age_secs: u64, now_unix: u64);
    /// Makes everything durable (called on shutdown).
    fn flush(&mut self) {}
}

/// Per-(node, IP) bookkeeping of the in-memory database.
#[derive(Clone, Copy, Debug, Default)]
struct IpEntry {
    last_pong: Option<u64>,
    last_ping: Option<u64>,
    fails: u32,
}

/// A [`NodeDb`] in memory: for tests, the simulator, and nodes started without a data dir.
#[derive(Clone, Debug, Default)]
pub struct MemoryNodeDb {
    nodes: BTreeMap<NodeId, StoredNode>,
    per_ip: BTreeMap<(NodeId, IpAddr), IpEntry>,
    seq: Option<u64>,
}

impl MemoryNodeDb {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no node is stored.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

impl NodeDb for MemoryNodeDb {
    fn node(&self, id: &NodeId) -> Option<StoredNode> {
        self.nodes.get(id).cloned()
    }
    fn put_node(&mut self, node: &StoredNode) {
        self.nodes.insert(node.record.id.node_id(), node.clone());
    }
    fn delete_node(&mut self, id: &NodeId) {
        self.nodes.remove(id);
        self.per_ip.retain(|(n, _), _| n != id);
    }
    fn last_pong(&self, id: &NodeId, ip: IpAddr) -> Option<u64> {
        self.per_ip.get(&(*id, ip)).and_then(|e| e.last_pong)
    }
    fn set_last_pong(&mut self, id: &NodeId, ip: IpAddr, unix: u64) {
        self.per_ip.entry((*id, ip)).or_default().last_pong = Some(unix);
    }
    fn last_ping_received(&self, id: &NodeId, ip: IpAddr) -> Option<u64> {
        self.per_ip.get(&(*id, ip)).and_then(|e| e.last_ping)
    }
    fn set_last_ping_received(&mut self, id: &NodeId, ip: IpAddr, unix: u64) {
        self.per_ip.entry((*id, ip)).or_default().last_ping = Some(unix);
    }
    fn findnode_failures(&self, id: &NodeId, ip: IpAddr) -> u32 {
        self.per_ip.get(&(*id, ip)).map_or(0, |e| e.fails)
    }
    fn set_findnode_failures(&mut self, id: &NodeId, ip: IpAddr, fails: u32) {
        self.per_ip.entry((*id, ip)).or_default().fails = fails;
    }
    fn local_seq(&self) -> Option<u64> {
        self.seq
    }
    fn set_local_seq(&mut self, seq: u64) {
        self.seq = Some(seq);
    }
    fn seed_nodes(&self, n: usize, max_age_secs: u64, now_unix: u64) -> Vec<StoredNode> {
        self.nodes
            .values()
            .filter(|s| now_unix.saturating_sub(s.last_pong) <= max_age_secs)
            .take(n)
            .cloned()
            .collect()
    }
    fn expire(&mut self, max_age_secs: u64, now_unix: u64) {
        let old: Vec<NodeId> = self
            .nodes
            .iter()
            .filter(|(_, s)| now_unix.saturating_sub(s.last_pong) > max_age_secs)
            .map(|(id, _)| *id)
            .collect();
        for id in old {
            self.delete_node(&id);
        }
    }
}
