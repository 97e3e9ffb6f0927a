//! The Kademlia node table: [`NUM_BUCKETS`] buckets of [`BUCKET_SIZE`] nodes ordered by
//! log-distance from the local id (closer nodes share bucket 0, as go-ethereum does), each
//! with a replacement list of [`MAX_REPLACEMENTS`], and the IP limits that keep one network
//! from filling the table (≤ 2 per /24 per bucket, ≤ 10 per /24 in the table, LAN exempt).
//!
//! The table is plain data: it never sends anything. Nodes enter it only after the machine
//! verified their endpoint (a Pong), so every entry starts with one liveness check.

use std::cmp::Ordering;
use std::net::IpAddr;

use super::{NodeEntry, BUCKET_SIZE, MAX_REPLACEMENTS, NUM_BUCKETS};
use crate::netutil::{is_lan, DistinctNetSet};
use crate::rng::MachineRng;
use crate::types::NodeId;

/// Prefix length of the subnet the IP limits count (go-ethereum `tableSubnet`).
const SUBNET_BITS: u32 = 24;
/// Nodes per subnet in one bucket, replacements included (go-ethereum `bucketIPLimit`).
const BUCKET_IP_LIMIT: usize = 2;
/// Nodes per subnet in the whole table, replacements included (go-ethereum `tableIPLimit`).
const TABLE_IP_LIMIT: usize = 10;
/// Log-distances at or below this all fall into bucket 0 (256 − 17).
const BUCKET_MIN_DISTANCE: usize = 256 - NUM_BUCKETS;

/// The log2 distance between two ids: 0 for equal ids, else 256 minus the common prefix
/// length of their XOR.
pub(crate) fn log_distance(a: &NodeId, b: &NodeId) -> usize {
    let mut lz = 0usize;
    for (x, y) in a.0.iter().zip(b.0.iter()) {
        let d = x ^ y;
        if d != 0 {
            return 256 - lz - d.leading_zeros() as usize;
        }
        lz += 8;
    }
    0
}

/// Orders `a` and `b` by their XOR distance to `target` (closer first).
pub(crate) fn distance_cmp(target: &NodeId, a: &NodeId, b: &NodeId) -> Ordering {
    for ((t, x), y) in target.0.iter().zip(a.0.iter()).zip(b.0.iter()) {
        let (dx, dy) = (t ^ x, t ^ y);
        if dx != dy {
            return dx.cmp(&dy);
        }
    }
    Ordering::Equal
}

/// The bucket `id` belongs in, seen from `local`.
pub(crate) fn bucket_index(local: &NodeId, id: &NodeId) -> usize {
    let d = log_distance(local, id);
    if d <= BUCKET_MIN_DISTANCE {
        0
    } else {
        d - BUCKET_MIN_DISTANCE - 1
    }
}

/// Which revalidation list a table node is on (go-ethereum `table_reval.go`): new or
/// doubtful nodes are checked often, proven ones rarely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevalList {
    /// Checked every few seconds.
    Fast,
    /// Checked three times less often.
    Slow,
}

/// A node in a bucket.
#[derive(Clone, Debug)]
pub struct TableNode {
    /// What the table hands out.
    pub entry: NodeEntry,
    /// Successful liveness checks, divided by 3 on each failure (removed at 0).
    pub liveness: u32,
    /// Its revalidation list.
    pub list: RevalList,
}

/// One bucket with its replacement list (newest replacement first).
#[derive(Clone, Debug)]
struct Bucket {
    entries: Vec<TableNode>,
    replacements: Vec<NodeEntry>,
    ips: DistinctNetSet,
}

impl Bucket {
    fn new() -> Self {
        Self {
            entries: Vec::new(),
            replacements: Vec::new(),
            ips: DistinctNetSet::new(SUBNET_BITS, BUCKET_IP_LIMIT),
        }
    }
}

/// What [`Table::add`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddOutcome {
    /// The node entered its bucket.
    Added,
    /// Its bucket is full; it went to (or stayed in) the replacement list.
    Replacement,
    /// Already in the bucket (its endpoint was updated if allowed).
    Present,
    /// The local node.
    IsSelf,
    /// Its subnet is at the bucket or table limit.
    IpLimit,
}

/// A node taken out of the table, and the replacement promoted in its place.
#[derive(Clone, Debug)]
pub struct Removed {
    /// The removed node.
    pub node: TableNode,
    /// A replacement that entered the bucket instead, if any.
    pub promoted: Option<NodeEntry>,
}

/// The node table.
#[derive(Clone, Debug)]
pub struct Table {
    local: NodeId,
    buckets: Vec<Bucket>,
    ips: DistinctNetSet,
}

impl Table {
    /// An empty table around `local`.
    pub fn new(local: NodeId) -> Self {
        Self {
            local,
            buckets: (0..NUM_BUCKETS).map(|_| Bucket::new()).collect(),
            ips: DistinctNetSet::new(SUBNET_BITS, TABLE_IP_LIMIT),
        }
    }

    fn bucket(&self, id: &NodeId) -> Option<&Bucket> {
        self.buckets.get(bucket_index(&self.local, id))
    }

    fn bucket_mut(&mut self, id: &NodeId) -> Option<&mut Bucket> {
        let i = bucket_index(&self.local, id);
        self.buckets.get_mut(i)
    }

    /// Counts `ip` against the table and bucket `b` limits; false (and no change) when over.
    fn add_ip(&mut self, b: usize, ip: IpAddr) -> bool {
        if is_lan(ip) {
            return true;
        }
        let Some(bucket) = self.buckets.get_mut(b) else {
            return false;
        };
        if !self.ips.add(ip) {
            return false;
        }
        if !bucket.ips.add(ip) {
            self.ips.remove(ip);
            return false;
        }
        true
    }

    fn remove_ip(&mut self, b: usize, ip: IpAddr) {
        if is_lan(ip) {
            return;
        }
        self.ips.remove(ip);
        if let Some(bucket) = self.buckets.get_mut(b) {
            bucket.ips.remove(ip);
        }
    }

    /// Adds a node whose endpoint was just verified. A full bucket sends it to the
    /// replacement list; a node already present gets its endpoint updated if the IP limits
    /// allow.
    pub fn add(&mut self, entry: NodeEntry) -> AddOutcome {
        if entry.id == self.local {
            return AddOutcome::IsSelf;
        }
        let b = bucket_index(&self.local, &entry.id);
        let Some(bucket) = self.buckets.get(b) else {
            return AddOutcome::IpLimit;
        };
        if let Some(pos) = bucket.entries.iter().position(|n| n.entry.id == entry.id) {
            self.update_endpoint(b, pos, entry);
            return AddOutcome::Present;
        }
        if bucket.entries.len() >= BUCKET_SIZE {
            return self.add_replacement(b, entry);
        }
        // A replacement that proved itself again moves up; release its IP first so it is
        // counted once.
        if let Some(pos) = bucket.replacements.iter().position(|n| n.id == entry.id) {
            if let Some(bucket) = self.buckets.get_mut(b) {
                let old = bucket.replacements.remove(pos);
                self.remove_ip(b, old.record.endpoint.ip);
            }
        }
        if !self.add_ip(b, entry.record.endpoint.ip) {
            return AddOutcome::IpLimit;
        }
        let Some(bucket) = self.buckets.get_mut(b) else {
            return AddOutcome::IpLimit;
        };
        bucket.entries.push(TableNode {
            entry,
            liveness: 1,
            list: RevalList::Fast,
        });
        AddOutcome::Added
    }

    fn update_endpoint(&mut self, b: usize, pos: usize, entry: NodeEntry) {
        let Some(old) = self
            .buckets
            .get(b)
            .and_then(|bk| bk.entries.get(pos))
            .map(|n| n.entry.record.endpoint)
        else {
            return;
        };
        let new = entry.record.endpoint;
        if old == new {
            return;
        }
        if old.ip != new.ip {
            self.remove_ip(b, old.ip);
            if !self.add_ip(b, new.ip) {
                // Over the limit at the new address: keep the old endpoint.
                self.add_ip(b, old.ip);
                return;
            }
        }
        if let Some(n) = self
            .buckets
            .get_mut(b)
            .and_then(|bk| bk.entries.get_mut(pos))
        {
            n.entry.record.endpoint = new;
        }
    }

    fn add_replacement(&mut self, b: usize, entry: NodeEntry) -> AddOutcome {
        let Some(bucket) = self.buckets.get(b) else {
            return AddOutcome::IpLimit;
        };
        if bucket.replacements.iter().any(|n| n.id == entry.id) {
            return AddOutcome::Replacement;
        }
        if !self.add_ip(b, entry.record.endpoint.ip) {
            return AddOutcome::IpLimit;
        }
        let mut evicted = None;
        if let Some(bucket) = self.buckets.get_mut(b) {
            bucket.replacements.insert(0, entry);
            if bucket.replacements.len() > MAX_REPLACEMENTS {
                evicted = bucket.replacements.pop();
            }
        }
        if let Some(old) = evicted {
            self.remove_ip(b, old.record.endpoint.ip);
        }
        AddOutcome::Replacement
    }

    /// Removes a node (from its bucket or its replacement list). A bucket entry is replaced
    /// by a random replacement, which starts unverified (liveness 0) on the fast list.
    pub fn remove(&mut self, id: &NodeId, rng: &mut MachineRng) -> Option<Removed> {
        let b = bucket_index(&self.local, id);
        let bucket = self.buckets.get_mut(b)?;
        if let Some(pos) = bucket.replacements.iter().position(|n| &n.id == id) {
            let old = bucket.replacements.remove(pos);
            self.remove_ip(b, old.record.endpoint.ip);
            return None;
        }
        let pos = bucket.entries.iter().position(|n| &n.entry.id == id)?;
        let node = bucket.entries.remove(pos);
        let mut promoted = None;
        if !bucket.replacements.is_empty() {
            let last = bucket.replacements.len() as u64 - 1;
            let i = rng.range_inclusive(0, last) as usize;
            if i < bucket.replacements.len() {
                let rep = bucket.replacements.remove(i);
                promoted = Some(rep.clone());
                // Its IP is already counted: it moves within the bucket.
                bucket.entries.push(TableNode {
                    entry: rep,
                    liveness: 0,
                    list: RevalList::Fast,
                });
            }
        }
        self.remove_ip(b, node.entry.record.endpoint.ip);
        Some(Removed { node, promoted })
    }

    /// The bucket entry for `id`.
    pub fn get(&self, id: &NodeId) -> Option<&TableNode> {
        self.bucket(id)?.entries.iter().find(|n| &n.entry.id == id)
    }

    /// The bucket entry for `id`, mutable.
    pub fn get_mut(&mut self, id: &NodeId) -> Option<&mut TableNode> {
        self.bucket_mut(id)?
            .entries
            .iter_mut()
            .find(|n| &n.entry.id == id)
    }

    /// Whether `id` is a bucket entry.
    #[cfg(test)]
    pub fn contains(&self, id: &NodeId) -> bool {
        self.get(id).is_some()
    }

    /// Entries in the bucket `id` would go to.
    pub fn bucket_len_of(&self, id: &NodeId) -> usize {
        self.bucket(id).map_or(0, |b| b.entries.len())
    }

    /// All bucket entries, closest bucket first.
    pub fn iter(&self) -> impl Iterator<Item = &TableNode> {
        self.buckets.iter().flat_map(|b| b.entries.iter())
    }

    /// The `n` entries closest to `target`, closest first.
    pub fn closest(&self, target: &NodeId, n: usize) -> Vec<&TableNode> {
        let mut all: Vec<&TableNode> = self.iter().collect();
        all.sort_by(|a, b| distance_cmp(target, &a.entry.id, &b.entry.id));
        all.truncate(n);
        all
    }

    /// Up to `n` distinct entries in random order.
    pub fn random(&self, n: usize, rng: &mut MachineRng) -> Vec<&TableNode> {
        let mut all: Vec<&TableNode> = self.iter().collect();
        let take = n.min(all.len());
        // Partial Fisher-Yates: the first `take` slots end up a uniform sample.
        let last = all.len().saturating_sub(1);
        for i in 0..take {
            let j = rng.range_inclusive(i as u64, last as u64) as usize;
            all.swap(i, j.min(last));
        }
        all.truncate(take);
        all
    }

    /// Ids of the entries on `list`, in table order.
    pub fn ids_on(&self, list: RevalList) -> Vec<NodeId> {
        self.iter()
            .filter(|n| n.list == list)
            .map(|n| n.entry.id)
            .collect()
    }

    /// Number of bucket entries.
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.entries.len()).sum()
    }

    /// True when no bucket holds a node.
    pub fn is_empty(&self) -> bool {
        self.buckets.iter().all(|b| b.entries.is_empty())
    }

    /// Entries per bucket, closest bucket first.
    pub fn bucket_sizes(&self) -> Vec<usize> {
        self.buckets.iter().map(|b| b.entries.len()).collect()
    }

    /// Checks every invariant; the error names the first one broken.
    #[cfg(test)]
    pub fn check_invariants(&self) -> Result<(), String> {
        use crate::netutil::same_net;
        use std::collections::BTreeSet;

        let mut seen = BTreeSet::new();
        let mut all_ips = Vec::new();
        for (i, b) in self.buckets.iter().enumerate() {
            if b.entries.len() > BUCKET_SIZE {
                return Err(format!("bucket {i} holds {}", b.entries.len()));
            }
            if b.replacements.len() > MAX_REPLACEMENTS {
                return Err(format!(
                    "bucket {i} has {} replacements",
                    b.replacements.len()
                ));
            }
            let ids = b
                .entries
                .iter()
                .map(|n| &n.entry)
                .chain(b.replacements.iter());
            let mut ips = Vec::new();
            for e in ids {
                if e.id == self.local {
                    return Err("local node in table".into());
                }
                if !seen.insert(e.id) {
                    return Err(format!("duplicate {:?}", e.id));
                }
                if bucket_index(&self.local, &e.id) != i {
                    return Err(format!("{:?} in bucket {i}", e.id));
                }
                if !is_lan(e.record.endpoint.ip) {
                    ips.push(e.record.endpoint.ip);
                }
            }
            for ip in &ips {
                let same = ips
                    .iter()
                    .filter(|o| same_net(SUBNET_BITS, *ip, **o))
                    .count();
                if same > BUCKET_IP_LIMIT {
                    return Err(format!("bucket {i}: {same} nodes in the /24 of {ip}"));
                }
            }
            all_ips.extend(ips);
        }
        for ip in &all_ips {
            let same = all_ips
                .iter()
                .filter(|o| same_net(SUBNET_BITS, *ip, **o))
                .count();
            if same > TABLE_IP_LIMIT {
                return Err(format!("table: {same} nodes in the /24 of {ip}"));
            }
        }
        if self.ips.len() != all_ips.len() {
            return Err(format!(
                "table ip set counts {} but {} WAN nodes are held",
                self.ips.len(),
                all_ips.len()
            ));
        }
        Ok(())
    }

    /// Ids held as replacements (tests).
    #[cfg(test)]
    pub fn replacement_ids(&self) -> Vec<NodeId> {
        self.buckets
            .iter()
            .flat_map(|b| b.replacements.iter().map(|e| e.id))
            .collect()
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
