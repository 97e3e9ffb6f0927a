//! Helpers for the discv4 unit tests: machines on 10.0.0.n with an inspectable database, a
//! raw peer that crafts packets by hand, and instant delivery between machines.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use secp256k1::SecretKey;

use super::packet::{self, Decoded, Endpoint, NodeRecord, Packet};
use super::{Discv4, Discv4Config, Discv4Event};
use crate::crypto::keys::{generate_secret_key, peer_id_of};
use crate::enr::LocalEnr;
use crate::nodedb::{MemoryNodeDb, NodeDb, StoredNode};
use crate::rng::MachineRng;
use crate::types::{NodeId, PeerId, Seed, WallClock};

/// Unix time at `t0` in every test.
pub(crate) const UNIX0: u64 = 1_700_000_000;
/// The UDP port everyone listens on.
pub(crate) const PORT: u16 = 30303;

pub(crate) use crate::test_clock::t0;

/// A [`MemoryNodeDb`] the test can still read after handing it to a machine.
#[derive(Clone, Default)]
pub(crate) struct SharedDb(pub Arc<Mutex<MemoryNodeDb>>);

impl SharedDb {
    pub fn lock(&self) -> MutexGuard<'_, MemoryNodeDb> {
        self.0.lock().unwrap()
    }
}

impl NodeDb for SharedDb {
    fn node(&self, id: &NodeId) -> Option<StoredNode> {
        self.lock().node(id)
    }
    fn put_node(&mut self, node: &StoredNode) {
        self.lock().put_node(node)
    }
    fn delete_node(&mut self, id: &NodeId) {
        self.lock().delete_node(id)
    }
    fn last_pong(&self, id: &NodeId, ip: IpAddr) -> Option<u64> {
        self.lock().last_pong(id, ip)
    }
    fn set_last_pong(&mut self, id: &NodeId, ip: IpAddr, unix: u64) {
        self.lock().set_last_pong(id, ip, unix)
    }
    fn last_ping_received(&self, id: &NodeId, ip: IpAddr) -> Option<u64> {
        self.lock().last_ping_received(id, ip)
    }
    fn set_last_ping_received(&mut self, id: &NodeId, ip: IpAddr, unix: u64) {
        self.lock().set_last_ping_received(id, ip, unix)
    }
    fn findnode_failures(&self, id: &NodeId, ip: IpAddr) -> u32 {
        self.lock().findnode_failures(id, ip)
    }
    fn set_findnode_failures(&mut self, id: &NodeId, ip: IpAddr, fails: u32) {
        self.lock().set_findnode_failures(id, ip, fails)
    }
    fn local_seq(&self) -> Option<u64> {
        self.lock().local_seq()
    }
    fn set_local_seq(&mut self, seq: u64) {
        self.lock().set_local_seq(seq)
    }
    fn seed_nodes(&self, n: usize, max_age_secs: u64, now_unix: u64) -> Vec<StoredNode> {
        self.lock().seed_nodes(n, max_age_secs, now_unix)
    }
    fn expire(&mut self, max_age_secs: u64, now_unix: u64) {
        self.lock().expire(max_age_secs, now_unix)
    }
}

/// The key of test identity `n`.
pub(crate) fn key(n: u8) -> SecretKey {
    generate_secret_key(&mut MachineRng::new(Seed([n; 32])))
}

/// The address of test identity `n`: 10.0.0.n:30303.
pub(crate) fn addr(n: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)), PORT)
}

/// The record of test identity `n`.
pub(crate) fn record(n: u8) -> NodeRecord {
    NodeRecord {
        endpoint: Endpoint {
            ip: addr(n).ip(),
            udp: PORT,
            tcp: PORT,
        },
        id: peer_id_of(&key(n)),
    }
}

/// A machine under test.
pub(crate) struct Node {
    pub disc: Discv4,
    pub n: u8,
    pub db: SharedDb,
    pub events: Vec<Discv4Event>,
}

impl Node {
    /// Machine `n` at 10.0.0.n, with `tweak` applied to the default config.
    pub fn new(n: u8, t: Instant, tweak: impl FnOnce(&mut Discv4Config)) -> Self {
        Self::with_db(n, t, SharedDb::default(), tweak)
    }

    /// Machine `n` over an existing database.
    pub fn with_db(n: u8, t: Instant, db: SharedDb, tweak: impl FnOnce(&mut Discv4Config)) -> Self {
        let mut cfg = Discv4Config::new(key(n), record(n).endpoint);
        tweak(&mut cfg);
        let enr = LocalEnr::new(key(n), 1);
        let clock = WallClock {
            at: t,
            unix_secs: UNIX0,
        };
        let disc = Discv4::new(cfg, enr, clock, t, Seed([n; 32]), Box::new(db.clone()));
        Self {
            disc,
            n,
            db,
            events: Vec::new(),
        }
    }

    pub fn record(&self) -> NodeRecord {
        record(self.n)
    }

    pub fn addr(&self) -> SocketAddr {
        addr(self.n)
    }

    /// Takes every queued datagram.
    pub fn drain(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let out: Vec<_> = std::iter::from_fn(|| self.disc.poll_transmit()).collect();
        self.events
            .extend(std::iter::from_fn(|| self.disc.poll_event()));
        out
    }

    /// Takes every queued datagram, decoded.
    pub fn drain_decoded(&mut self) -> Vec<(SocketAddr, Decoded)> {
        self.drain()
            .into_iter()
            .map(|(to, d)| (to, packet::decode(&d).unwrap()))
            .collect()
    }
}

/// Delivers datagrams between `nodes` instantly, in order, until none is left; datagrams to
/// unknown addresses are lost. Returns how many were delivered.
pub(crate) fn exchange(nodes: &mut [&mut Node], now: Instant) -> usize {
    let mut delivered = 0;
    loop {
        let mut queue = Vec::new();
        for (i, node) in nodes.iter_mut().enumerate() {
            for (to, bytes) in node.drain() {
                queue.push((i, to, bytes));
            }
        }
        if queue.is_empty() {
            return delivered;
        }
        for (from, to, bytes) in queue {
            let src = nodes[from].addr();
            if let Some(dst) = nodes.iter_mut().find(|n| n.addr() == to) {
                dst.disc.handle_datagram(now, src, &bytes);
                delivered += 1;
            }
        }
    }
}

/// A hand-driven peer: signs whatever packet the test wants.
pub(crate) struct Raw {
    pub n: u8,
    pub key: SecretKey,
}

impl Raw {
    pub fn new(n: u8) -> Self {
        Self { n, key: key(n) }
    }

    pub fn id(&self) -> PeerId {
        peer_id_of(&self.key)
    }

    pub fn addr(&self) -> SocketAddr {
        addr(self.n)
    }

    pub fn record(&self) -> NodeRecord {
        record(self.n)
    }

    /// The signed datagram and its hash.
    pub fn encode(&self, p: &Packet) -> (Vec<u8>, [u8; 32]) {
        packet::encode(p, &self.key)
    }
}
