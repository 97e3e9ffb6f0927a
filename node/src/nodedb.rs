//! The node database: discovery's [`NodeDb`] persisted in `<datadir>/nodes` with redb, an
//! embedded, crash-safe (copy-on-write, checksummed) database, so `kill -9` at any moment
//! leaves a database that opens.
//!
//! Tables: `nodes` (node id → record, ENR, last pong), `per_ip` (node id ‖ 16-byte IP → last
//! pong, last ping, FindNode failures), `meta` (schema version, local ENR sequence). A
//! different schema version wipes the database. Routine writes commit with eventual
//! durability (still crash-consistent); [`NodeDb::flush`] makes everything durable.

// redb's error type is large; it only travels on the cold failure path of a write.
#![allow(clippy::result_large_err)]

use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

use paxeer_p2p_core::discv4::packet::{Endpoint, NodeRecord};
use paxeer_p2p_core::nodedb::{NodeDb, StoredNode};
use paxeer_p2p_core::peers::{Ban, BanReason, BanTarget};
use paxeer_p2p_core::types::{NodeId, PeerId};
use redb::{Database, Durability, ReadableTable, TableDefinition};

/// Bump when the stored layout changes; an older database is wiped.
const SCHEMA_VERSION: u64 = 1;

const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("nodes");
const PER_IP: TableDefinition<&[u8], &[u8]> = TableDefinition::new("per_ip");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Bans in force: key `p` ‖ 64-byte id or `i` ‖ 4/16-byte IP; value expiry (unix seconds,
/// big-endian u64) ‖ reason code.
const BANS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("bans");

/// A [`NodeDb`] over redb, also holding the peer manager's bans. Clones share the database
/// (discovery owns one, the daemon's ban bookkeeping another).
#[derive(Clone)]
pub struct RedbNodeDb {
    db: std::sync::Arc<Database>,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("node database {path}: {source}")]
pub struct OpenError {
    path: String,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl RedbNodeDb {
    /// Opens or creates the database at `path`, wiping it if its schema version differs.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let err = |e: Box<dyn std::error::Error + Send + Sync>| OpenError {
            path: path.display().to_string(),
            source: e,
        };
        let db = Database::create(path).map_err(|e| err(e.into()))?;
        let this = Self {
            db: std::sync::Arc::new(db),
        };
        this.check_version().map_err(err)?;
        Ok(this)
    }

    fn check_version(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let stored = {
            let r = self.db.begin_read()?;
            match r.open_table(META) {
                Ok(t) => t.get("version")?.map(|v| v.value()),
                Err(redb::TableError::TableDoesNotExist(_)) => None,
                Err(e) => return Err(e.into()),
            }
        };
        if stored == Some(SCHEMA_VERSION) {
            return Ok(());
        }
        if stored.is_some() {
            tracing::warn!(
                ?stored,
                want = SCHEMA_VERSION,
                "node database has another schema version; wiping it"
            );
        }
        let w = self.db.begin_write()?;
        for t in [NODES, PER_IP, BANS] {
            w.delete_table(t)?;
        }
        w.delete_table(META)?;
        {
            let mut meta = w.open_table(META)?;
            meta.insert("version", SCHEMA_VERSION)?;
            w.open_table(NODES)?;
            w.open_table(PER_IP)?;
        }
        w.commit()?;
        Ok(())
    }

    /// Runs a write transaction with eventual durability, logging (not propagating) errors:
    /// discovery keeps working without persistence.
    fn write(
        &self,
        what: &str,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) {
        let res = (|| -> Result<(), redb::Error> {
            let mut w = self.db.begin_write()?;
            w.set_durability(Durability::Eventual);
            f(&w)?;
            w.commit()?;
            Ok(())
        })();
        if let Err(e) = res {
            tracing::warn!(error = %e, what, "node database write failed");
        }
    }

    /// Records a ban (replacing an earlier one of the same target).
    pub fn put_ban(&self, ban: &Ban) {
        let key = ban_key(&ban.target);
        let mut value = ban.expires_unix.to_be_bytes().to_vec();
        value.push(ban.reason.code());
        self.write("put_ban", |w| {
            w.open_table(BANS)?
                .insert(key.as_slice(), value.as_slice())?;
            Ok(())
        });
    }

    /// Forgets the ban of `target`.
    pub fn remove_ban(&self, target: &BanTarget) {
        let key = ban_key(target);
        self.write("remove_ban", |w| {
            w.open_table(BANS)?.remove(key.as_slice())?;
            Ok(())
        });
    }

    /// Every stored ban (expired ones included; the peer manager skips those).
    pub fn bans(&self) -> Vec<Ban> {
        let read = || -> Option<Vec<Ban>> {
            let r = self.db.begin_read().ok()?;
            let t = r.open_table(BANS).ok()?;
            let rows = t.iter().ok()?;
            Some(
                rows.filter_map(|row| {
                    let (k, v) = row.ok()?;
                    decode_ban(k.value(), v.value())
                })
                .collect(),
            )
        };
        read().unwrap_or_default()
    }

    fn read_node(&self, key: &[u8]) -> Option<StoredNode> {
        let r = self.db.begin_read().ok()?;
        let t = r.open_table(NODES).ok()?;
        let v = t.get(key).ok()??;
        decode_node(v.value())
    }

    fn read_ip(&self, id: &NodeId, ip: IpAddr) -> IpEntry {
        let get = || -> Option<IpEntry> {
            let r = self.db.begin_read().ok()?;
            let t = r.open_table(PER_IP).ok()?;
            let v = t.get(ip_key(id, ip).as_slice()).ok()??;
            IpEntry::decode(v.value())
        };
        get().unwrap_or_default()
    }

    fn update_ip(&self, id: &NodeId, ip: IpAddr, f: impl FnOnce(&mut IpEntry)) {
        let mut e = self.read_ip(id, ip);
        f(&mut e);
        let key = ip_key(id, ip);
        self.write("per_ip", |w| {
            w.open_table(PER_IP)?
                .insert(key.as_slice(), e.encode().as_slice())?;
            Ok(())
        });
    }

    fn all_nodes(&self) -> Vec<StoredNode> {
        let collect = || -> Option<Vec<StoredNode>> {
            let r = self.db.begin_read().ok()?;
            let t = r.open_table(NODES).ok()?;
            let mut out = Vec::new();
            for item in t.iter().ok()? {
                let (_, v) = item.ok()?;
                if let Some(n) = decode_node(v.value()) {
                    out.push(n);
                }
            }
            Some(out)
        };
        collect().unwrap_or_default()
    }
}

/// The per-IP key: node id ‖ IP as 16 bytes (IPv4 mapped).
fn ip_key(id: &NodeId, ip: IpAddr) -> [u8; 48] {
    let mut k = [0u8; 48];
    k[..32].copy_from_slice(&id.0);
    let v6: Ipv6Addr = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    k[32..].copy_from_slice(&v6.octets());
    k
}

/// Per-(node, IP) values; 0 means "never".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct IpEntry {
    last_pong: u64,
    last_ping: u64,
    fails: u32,
}

impl IpEntry {
    fn encode(&self) -> [u8; 20] {
        let mut b = [0u8; 20];
        b[..8].copy_from_slice(&self.last_pong.to_be_bytes());
        b[8..16].copy_from_slice(&self.last_ping.to_be_bytes());
        b[16..].copy_from_slice(&self.fails.to_be_bytes());
        b
    }
    fn decode(b: &[u8]) -> Option<Self> {
        let b: &[u8; 20] = b.try_into().ok()?;
        let (p, rest) = b.split_at(8);
        let (q, f) = rest.split_at(8);
        Some(Self {
            last_pong: u64::from_be_bytes(p.try_into().ok()?),
            last_ping: u64::from_be_bytes(q.try_into().ok()?),
            fails: u32::from_be_bytes(f.try_into().ok()?),
        })
    }
}

/// Node value: id(64) ‖ ip(16) ‖ udp(2) ‖ tcp(2) ‖ last_pong(8) ‖ enr (rest, may be empty).
fn encode_node(n: &StoredNode) -> Vec<u8> {
    let mut v = Vec::with_capacity(92 + n.enr.as_ref().map_or(0, Vec::len));
    v.extend_from_slice(&n.record.id.0);
    let ip6 = match n.record.endpoint.ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    v.extend_from_slice(&ip6.octets());
    v.extend_from_slice(&n.record.endpoint.udp.to_be_bytes());
    v.extend_from_slice(&n.record.endpoint.tcp.to_be_bytes());
    v.extend_from_slice(&n.last_pong.to_be_bytes());
    if let Some(enr) = &n.enr {
        v.extend_from_slice(enr);
    }
    v
}

fn decode_node(v: &[u8]) -> Option<StoredNode> {
    let id: [u8; 64] = v.get(..64)?.try_into().ok()?;
    let ip6: [u8; 16] = v.get(64..80)?.try_into().ok()?;
    let udp = u16::from_be_bytes(v.get(80..82)?.try_into().ok()?);
    let tcp = u16::from_be_bytes(v.get(82..84)?.try_into().ok()?);
    let last_pong = u64::from_be_bytes(v.get(84..92)?.try_into().ok()?);
    let enr = v.get(92..).filter(|r| !r.is_empty()).map(<[u8]>::to_vec);
    let ip6 = Ipv6Addr::from(ip6);
    let ip = ip6.to_ipv4_mapped().map_or(IpAddr::V6(ip6), IpAddr::V4);
    Some(StoredNode {
        record: NodeRecord {
            endpoint: Endpoint { ip, udp, tcp },
            id: PeerId(id),
        },
        enr,
        last_pong,
    })
}

fn ban_key(target: &BanTarget) -> Vec<u8> {
    match target {
        BanTarget::Peer(id) => {
            let mut k = vec![b'p'];
            k.extend_from_slice(&id.0);
            k
        }
        BanTarget::Ip(IpAddr::V4(v4)) => {
            let mut k = vec![b'i'];
            k.extend_from_slice(&v4.octets());
            k
        }
        BanTarget::Ip(IpAddr::V6(v6)) => {
            let mut k = vec![b'i'];
            k.extend_from_slice(&v6.octets());
            k
        }
    }
}

fn decode_ban(key: &[u8], value: &[u8]) -> Option<Ban> {
    let (kind, rest) = key.split_first()?;
    let target = match (kind, rest.len()) {
        (b'p', 64) => BanTarget::Peer(PeerId(rest.try_into().ok()?)),
        (b'i', 4) => BanTarget::Ip(IpAddr::from(<[u8; 4]>::try_from(rest).ok()?)),
        (b'i', 16) => BanTarget::Ip(IpAddr::from(<[u8; 16]>::try_from(rest).ok()?)),
        _ => return None,
    };
    let expires: [u8; 8] = value.get(..8)?.try_into().ok()?;
    let reason = BanReason::from_code(*value.get(8)?);
    Some(Ban {
        target,
        expires_unix: u64::from_be_bytes(expires),
        reason,
    })
}

impl NodeDb for RedbNodeDb {
    fn node(&self, id: &NodeId) -> Option<StoredNode> {
        self.read_node(&id.0)
    }

    fn put_node(&mut self, node: &StoredNode) {
        let key = node.record.id.node_id();
        let value = encode_node(node);
        self.write("put_node", |w| {
            w.open_table(NODES)?
                .insert(key.0.as_slice(), value.as_slice())?;
            Ok(())
        });
    }

    fn delete_node(&mut self, id: &NodeId) {
        self.write("delete_node", |w| {
            w.open_table(NODES)?.remove(id.0.as_slice())?;
            let mut t = w.open_table(PER_IP)?;
            let mut lo = [0u8; 48];
            lo[..32].copy_from_slice(&id.0);
            let mut hi = [0xffu8; 48];
            hi[..32].copy_from_slice(&id.0);
            let keys: Vec<Vec<u8>> = t
                .range(lo.as_slice()..=hi.as_slice())?
                .filter_map(|r| r.ok().map(|(k, _)| k.value().to_vec()))
                .collect();
            for k in keys {
                t.remove(k.as_slice())?;
            }
            Ok(())
        });
    }

    fn last_pong(&self, id: &NodeId, ip: IpAddr) -> Option<u64> {
        Some(self.read_ip(id, ip).last_pong).filter(|t| *t != 0)
    }

    fn set_last_pong(&mut self, id: &NodeId, ip: IpAddr, unix: u64) {
        self.update_ip(id, ip, |e| e.last_pong = unix);
    }

    fn last_ping_received(&self, id: &NodeId, ip: IpAddr) -> Option<u64> {
        Some(self.read_ip(id, ip).last_ping).filter(|t| *t != 0)
    }

    fn set_last_ping_received(&mut self, id: &NodeId, ip: IpAddr, unix: u64) {
        self.update_ip(id, ip, |e| e.last_ping = unix);
    }

    fn findnode_failures(&self, id: &NodeId, ip: IpAddr) -> u32 {
        self.read_ip(id, ip).fails
    }

    fn set_findnode_failures(&mut self, id: &NodeId, ip: IpAddr, fails: u32) {
        self.update_ip(id, ip, |e| e.fails = fails);
    }

    fn local_seq(&self) -> Option<u64> {
        let r = self.db.begin_read().ok()?;
        let t = r.open_table(META).ok()?;
        let v = t.get("local_seq").ok()??;
        Some(v.value())
    }

    fn set_local_seq(&mut self, seq: u64) {
        self.write("local_seq", |w| {
            w.open_table(META)?.insert("local_seq", seq)?;
            Ok(())
        });
    }

    fn seed_nodes(&self, n: usize, max_age_secs: u64, now_unix: u64) -> Vec<StoredNode> {
        let mut fresh: Vec<StoredNode> = self
            .all_nodes()
            .into_iter()
            .filter(|s| now_unix.saturating_sub(s.last_pong) <= max_age_secs)
            .collect();
        // Most recently seen first.
        fresh.sort_by_key(|s| std::cmp::Reverse(s.last_pong));
        fresh.truncate(n);
        fresh
    }

    fn expire(&mut self, max_age_secs: u64, now_unix: u64) {
        let old: Vec<NodeId> = self
            .all_nodes()
            .into_iter()
            .filter(|s| now_unix.saturating_sub(s.last_pong) > max_age_secs)
            .map(|s| s.record.id.node_id())
            .collect();
        for id in old {
            self.delete_node(&id);
        }
    }

    fn flush(&mut self) {
        // An empty transaction with immediate durability makes all earlier commits durable.
        let res = (|| -> Result<(), redb::Error> {
            let mut w = self.db.begin_write()?;
            w.set_durability(Durability::Immediate);
            w.commit()?;
            Ok(())
        })();
        if let Err(e) = res {
            tracing::warn!(error = %e, "node database flush failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paxeer_p2p_core::crypto::keys::{generate_secret_key, peer_id_of};
    use paxeer_p2p_core::rng::MachineRng;
    use paxeer_p2p_core::types::Seed;

    fn node(seed: u8, ip: IpAddr, last_pong: u64) -> StoredNode {
        let id = peer_id_of(&generate_secret_key(&mut MachineRng::new(Seed([seed; 32]))));
        StoredNode {
            record: NodeRecord {
                endpoint: Endpoint {
                    ip,
                    udp: 30303,
                    tcp: 30304,
                },
                id,
            },
            enr: seed.is_multiple_of(2).then(|| vec![0xc0 + seed % 16; 5]),
            last_pong,
        }
    }

    #[test]
    fn bans_survive_reopening_and_can_be_lifted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nodes");
        let peer = node(7, "10.0.0.7".parse().unwrap(), 1).record.id;
        let bans = [
            Ban {
                target: BanTarget::Peer(peer),
                expires_unix: 1_800_000_000,
                reason: BanReason::from_code(1),
            },
            Ban {
                target: BanTarget::Ip("10.0.0.9".parse().unwrap()),
                expires_unix: 1_800_000_001,
                reason: BanReason::from_code(2),
            },
            Ban {
                target: BanTarget::Ip("2001:db8::9".parse().unwrap()),
                expires_unix: 1_800_000_002,
                reason: BanReason::from_code(0),
            },
        ];
        {
            let db = RedbNodeDb::open(&path).unwrap();
            for b in &bans {
                db.put_ban(b);
            }
            db.remove_ban(&bans[2].target);
        }
        let db = RedbNodeDb::open(&path).unwrap();
        let mut got = db.bans();
        got.sort_by_key(|b| b.expires_unix);
        assert_eq!(got, bans[..2].to_vec());
    }

    #[test]
    fn nodes_and_per_ip_data_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nodes");
        let a = node(1, "10.0.0.1".parse().unwrap(), 1000);
        let b = node(2, "2001:db8::1".parse().unwrap(), 2000);
        {
            let mut db = RedbNodeDb::open(&path).unwrap();
            db.put_node(&a);
            db.put_node(&b);
            let id = a.record.id.node_id();
            db.set_last_pong(&id, a.record.endpoint.ip, 1234);
            db.set_last_ping_received(&id, a.record.endpoint.ip, 1200);
            db.set_findnode_failures(&id, a.record.endpoint.ip, 3);
            db.set_local_seq(77);
            db.flush();
        }
        let db = RedbNodeDb::open(&path).unwrap();
        let id = a.record.id.node_id();
        assert_eq!(db.node(&id), Some(a.clone()));
        assert_eq!(db.node(&b.record.id.node_id()), Some(b));
        assert_eq!(db.last_pong(&id, a.record.endpoint.ip), Some(1234));
        assert_eq!(db.last_ping_received(&id, a.record.endpoint.ip), Some(1200));
        assert_eq!(db.findnode_failures(&id, a.record.endpoint.ip), 3);
        assert_eq!(db.last_pong(&id, "10.0.0.2".parse().unwrap()), None);
        assert_eq!(db.local_seq(), Some(77));
    }

    #[test]
    fn seeds_are_recent_nodes_newest_first_and_expiry_removes_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = RedbNodeDb::open(&dir.path().join("nodes")).unwrap();
        let now = 10 * 86_400;
        for (i, age) in [100u64, 3 * 86_400, 6 * 86_400, 10].iter().enumerate() {
            db.put_node(&node(
                i as u8 + 1,
                format!("10.0.0.{i}").parse().unwrap(),
                now - age,
            ));
        }
        let seeds = db.seed_nodes(30, 5 * 86_400, now);
        let ages: Vec<u64> = seeds.iter().map(|s| now - s.last_pong).collect();
        assert_eq!(ages, [10, 100, 3 * 86_400]);
        let old = node(3, "10.0.0.2".parse().unwrap(), 0).record.id.node_id();
        db.set_last_pong(&old, "10.0.0.2".parse().unwrap(), 5);
        db.expire(86_400, now);
        assert_eq!(db.seed_nodes(30, u64::MAX, now).len(), 2);
        assert_eq!(
            db.last_pong(&old, "10.0.0.2".parse().unwrap()),
            None,
            "per-IP data goes with the node"
        );
    }

    #[test]
    fn another_schema_version_is_wiped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nodes");
        {
            let mut db = RedbNodeDb::open(&path).unwrap();
            db.put_node(&node(1, "10.0.0.1".parse().unwrap(), 5));
            let w = db.db.begin_write().unwrap();
            w.open_table(META)
                .unwrap()
                .insert("version", SCHEMA_VERSION + 1)
                .unwrap();
            w.commit().unwrap();
        }
        let db = RedbNodeDb::open(&path).unwrap();
        assert!(db.seed_nodes(10, u64::MAX, 10).is_empty());
    }

    #[test]
    fn corrupt_values_are_skipped_not_fatal() {
        assert!(decode_node(&[1, 2, 3]).is_none());
        assert!(IpEntry::decode(&[0; 3]).is_none());
    }
}
