//! discv4 node discovery as a sans-IO machine: endpoint proof (bonding), reply matching,
//! a Kademlia table with revalidation and refresh, iterative lookups, EIP-868 ENR requests,
//! rate limits, and external endpoint prediction.
//!
//! Methods are getters, inputs (`handle_datagram`, `handle_timeout`), commands (`lookup`,
//! `ping`, `request_enr`, `add_bootnode`, `set_enr_entry`) and outputs (`poll_transmit`,
//! `poll_event`, `poll_timeout`). Drain rule: after any input or command, drain
//! `poll_transmit`, then `poll_event`, then read `poll_timeout`.

pub mod packet;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use secp256k1::SecretKey;

use crate::enr::{Enr, LocalEnr};
use crate::netutil::Netlist;
use crate::nodedb::NodeDb;
use crate::types::{NodeId, PeerId, Seed, WallClock};
use packet::{Endpoint, NodeRecord};

/// Nodes per bucket (k).
pub const BUCKET_SIZE: usize = 16;
/// Buckets kept (distances 256-16+1 ..= 256; closer nodes share the first bucket).
pub const NUM_BUCKETS: usize = 17;
/// Replacement list length per bucket.
pub const MAX_REPLACEMENTS: usize = 10;
/// Lookup concurrency.
pub const ALPHA: usize = 3;
/// Time to wait for a reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_millis(500);
/// Lifetime we give our packets (their `expiration` = now + this).
pub const PACKET_EXPIRATION: Duration = Duration::from_secs(20);
/// How long an endpoint proof (a Pong from a node) is valid.
pub const BOND_EXPIRATION: Duration = Duration::from_secs(24 * 3600);
/// Table refresh interval (self lookup + random targets).
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(30 * 60);

/// Configuration of a [`Discv4`] machine.
#[derive(Clone, Debug)]
pub struct Discv4Config {
    /// Local static key.
    pub secret_key: SecretKey,
    /// Our endpoint as we announce it in Ping `from` (UDP port we listen on, TCP port for
    /// RLPx, IP may be unspecified until predicted).
    pub local: Endpoint,
    /// Nodes to bootstrap from.
    pub bootnodes: Vec<NodeRecord>,
    /// Only talk to and accept nodes inside these networks, if set.
    pub netrestrict: Option<Netlist>,
    /// A fixed external IP (`--nat extip:IP`): disables endpoint prediction.
    pub ext_ip: Option<IpAddr>,
    /// Time to wait for a reply.
    pub reply_timeout: Duration,
    /// Table refresh interval.
    pub refresh_interval: Duration,
    /// Packets accepted per source IP per second before dropping.
    pub max_packets_per_ip_per_sec: u32,
    /// Requests in flight (pings, findnodes, enr requests) before new ones are queued.
    pub max_pending_requests: usize,
}

impl Discv4Config {
    /// go-ethereum's defaults for `secret_key` listening on `local`.
    pub fn new(secret_key: SecretKey, local: Endpoint) -> Self {
        Self {
            secret_key,
            local,
            bootnodes: Vec::new(),
            netrestrict: None,
            ext_ip: None,
            reply_timeout: REPLY_TIMEOUT,
            refresh_interval: REFRESH_INTERVAL,
            max_packets_per_ip_per_sec: 50,
            max_pending_requests: 512,
        }
    }
}

/// A node in the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEntry {
    /// Identity and endpoint.
    pub record: NodeRecord,
    /// Its node id (keccak of the key).
    pub id: NodeId,
    /// Its latest ENR, if fetched.
    pub enr: Option<Enr>,
}

/// Identifies a lookup started with [`Discv4::lookup`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LookupId(pub u64);

/// Identifies a single request started with [`Discv4::ping`] or [`Discv4::request_enr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// What the machine reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discv4Event {
    /// A node entered the table.
    NodeAdded(NodeEntry),
    /// A node left the table (failed revalidation or was replaced).
    NodeRemoved(NodeId),
    /// A lookup finished with the closest nodes found (≤ 16, closest first).
    LookupDone {
        /// Which lookup.
        id: LookupId,
        /// Its target.
        target: PeerId,
        /// Closest nodes found.
        nodes: Vec<NodeEntry>,
    },
    /// A Pong answered our [`Discv4::ping`].
    PongReceived {
        /// Which request.
        id: RequestId,
        /// Round-trip time.
        rtt: Duration,
        /// The ENR sequence the node announced, if any.
        enr_seq: Option<u64>,
    },
    /// An ENRResponse answered our [`Discv4::request_enr`].
    EnrReceived {
        /// Which request.
        id: RequestId,
        /// The verified record.
        record: Enr,
    },
    /// A request of ours got no (valid) answer in time.
    RequestFailed {
        /// Which request.
        id: RequestId,
    },
    /// Our predicted external endpoint changed; the local ENR was re-signed.
    ExternalEndpoint(SocketAddr),
}

/// Counters for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Discv4Stats {
    /// Datagrams received.
    pub packets_in: u64,
    /// Datagrams sent.
    pub packets_out: u64,
    /// Datagrams dropped as invalid (bad hash, signature, shape, expired).
    pub invalid: u64,
    /// Replies that matched no request.
    pub unsolicited: u64,
    /// Datagrams dropped by the per-IP rate limit.
    pub rate_limited: u64,
}

/// The discovery machine.
pub struct Discv4 {
    _private: (),
}

impl Discv4 {
    /// A machine with `cfg`, the local record `enr`, a wall-clock anchor for expirations, its
    /// own RNG seed and a node database (seeds the table from it and the bootnodes).
    pub fn new(
        cfg: Discv4Config,
        enr: LocalEnr,
        clock: WallClock,
        now: Instant,
        seed: Seed,
        db: Box<dyn NodeDb>,
    ) -> Self {
        let _ = (cfg, enr, clock, now, seed, db);
        todo!("discv4 helper")
    }

    /// A datagram arrived from `from`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        let _ = (now, from, datagram);
        todo!("discv4 helper")
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
        todo!("discv4 helper")
    }

    /// Adds a bootnode and bonds with it.
    pub fn add_bootnode(&mut self, now: Instant, node: NodeRecord) {
        let _ = (now, node);
        todo!("discv4 helper")
    }

    /// Starts an iterative lookup for `target`.
    pub fn lookup(&mut self, now: Instant, target: PeerId) -> LookupId {
        let _ = (now, target);
        todo!("discv4 helper")
    }

    /// Pings a node (tooling: `discv4 ping`).
    pub fn ping(&mut self, now: Instant, node: NodeRecord) -> RequestId {
        let _ = (now, node);
        todo!("discv4 helper")
    }

    /// Asks a node for its ENR, bonding first if needed (tooling: `discv4 resolve`).
    pub fn request_enr(&mut self, now: Instant, node: NodeRecord) -> RequestId {
        let _ = (now, node);
        todo!("discv4 helper")
    }

    /// Sets an entry of the local ENR (e.g. `eth` by the eth protocol).
    pub fn set_enr_entry(&mut self, key: &[u8], rlp_value: Vec<u8>) {
        let _ = (key, rlp_value);
        todo!("discv4 helper")
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        todo!("discv4 helper")
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Discv4Event> {
        todo!("discv4 helper")
    }

    /// When to call `handle_timeout` next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        todo!("discv4 helper")
    }

    /// The `n` table nodes closest to `target`, closest first.
    pub fn closest(&self, target: &NodeId, n: usize) -> Vec<NodeEntry> {
        let _ = (target, n);
        todo!("discv4 helper")
    }

    /// Up to `n` random table nodes.
    pub fn random_nodes(&mut self, n: usize) -> Vec<NodeEntry> {
        let _ = n;
        todo!("discv4 helper")
    }

    /// Number of nodes in the table.
    pub fn table_len(&self) -> usize {
        todo!("discv4 helper")
    }

    /// Nodes per bucket, closest bucket first.
    pub fn bucket_sizes(&self) -> Vec<usize> {
        todo!("discv4 helper")
    }

    /// The local record.
    pub fn local_enr(&self) -> &Enr {
        todo!("discv4 helper")
    }

    /// Counters.
    pub fn stats(&self) -> Discv4Stats {
        todo!("discv4 helper")
    }

    /// Flushes the node database (call on shutdown).
    pub fn flush(&mut self) {
        todo!("discv4 helper")
    }
}
