//! discv4 node discovery as a sans-IO machine: endpoint proof (bonding), reply matching,
//! a Kademlia table with revalidation and refresh, iterative lookups, EIP-868 ENR requests,
//! rate limits, and external endpoint prediction.
//!
//! Methods are getters, inputs (`handle_datagram`, `handle_timeout`), commands (`lookup`,
//! `ping`, `request_enr`, `add_bootnode`, `set_enr_entry`) and outputs (`poll_transmit`,
//! `poll_event`, `poll_timeout`). Drain rule: after any input or command, drain
//! `poll_transmit`, then `poll_event`, then read `poll_timeout`.
//!
//! Submodules, one job each: [`packet`] (wire codec), `table` (Kademlia buckets and IP
//! limits), `bond` (endpoint proof), `requests` (reply matching and the in-flight bound),
//! `lookup` (iterative lookup state), `revalidate` (liveness checks), `refresh` (periodic
//! lookups), `ratelimit` (per-IP token buckets), `endpoint` (external address prediction);
//! `inbound`, `outbound` and `tasks` hold the machine's own handlers for received packets,
//! sent requests and timers.
//!
//! Defaults and rules follow go-ethereum (`p2p/discover`). Where this machine differs, on
//! purpose:
//! - a node enters the table only after it answered our Ping (go-ethereum also inserts
//!   unverified nodes learnt from lookups and lets revalidation sort them out);
//! - a lookup asks a silent node up to three times, re-bonding first, and a failed FindNode
//!   always triggers a re-bond (go-ethereum: after five failures), because one lost Pong of
//!   ours otherwise leaves the remote ignoring us while we believe we are bonded;
//! - an empty or unusable Neighbors answer is an answer, not a FindNode failure;
//! - a repeated Ping from an unbonded node gets a fresh ping-back once the earlier one has
//!   waited half a reply timeout;
//! - loopback sources are exempt from the per-IP rate limit (local testnets share one IP);
//! - while the table is empty, bootstrapping is retried from 1 s, doubling up to 30 s.

mod bond;
mod endpoint;
mod inbound;
mod lookup;
mod outbound;
pub mod packet;
#[cfg(test)]
mod props;
mod ratelimit;
mod refresh;
mod requests;
mod revalidate;
/// Public only for `benches/discv4.rs` (table insert and lookup cost); not a stable API.
#[doc(hidden)]
pub mod table;
mod tasks;
#[cfg(test)]
pub(crate) mod test_util;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use secp256k1::SecretKey;

use crate::crypto::keys::peer_id_of;
use crate::enr::{Enr, LocalEnr};
use crate::netutil::Netlist;
use crate::nodedb::NodeDb;
use crate::rng::MachineRng;
use crate::types::{NodeId, PeerId, Seed, WallClock};
use bond::Bonds;
use endpoint::EndpointPredictor;
use lookup::Lookup;
use packet::{Endpoint, NodeRecord};
use ratelimit::{RateLimiter, MAX_TRACKED_IPS};
use refresh::Refresh;
use requests::{Request, Requests};
use revalidate::Revalidation;
use table::Table;

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
    NodeRemoved(NodeEntry),
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
    /// Datagrams dropped because their source is outside `netrestrict`.
    pub restricted: u64,
    /// FindNode/ENRRequest left unanswered for lack of an endpoint proof.
    pub unbonded: u64,
    /// Requests refused, or datagrams and events dropped, because a bounded queue was full.
    pub overloaded: u64,
    /// Valid packets received, by type (index = wire type − 1: ping, pong, findnode,
    /// neighbors, enrrequest, enrresponse).
    pub received_by_kind: [u64; 6],
    /// Packets sent, by type (same indexing).
    pub sent_by_kind: [u64; 6],
}

/// The metric names of the packet types, indexed as [`Discv4Stats::received_by_kind`].
pub const PACKET_KIND_NAMES: [&str; 6] = [
    "ping",
    "pong",
    "findnode",
    "neighbors",
    "enrrequest",
    "enrresponse",
];

/// Adds one to the counter of `kind` (a wire type byte) in `by_kind`.
fn count_kind(by_kind: &mut [u64; 6], kind: u8) {
    if let Some(c) = by_kind.get_mut(usize::from(kind).wrapping_sub(1)) {
        *c += 1;
    }
}

/// Nodes taken from the database at start (go-ethereum `seedCount`).
const MAX_SEED_NODES: usize = 30;
/// Only database nodes that answered within this are used as seeds (go-ethereum
/// `seedMaxAge`).
const SEED_MAX_AGE: Duration = Duration::from_secs(5 * 24 * 3600);
/// Database entries whose last Pong is older than this are deleted (go-ethereum
/// `dbNodeExpiration`).
const DB_NODE_EXPIRATION: Duration = Duration::from_secs(24 * 3600);
/// How often the database is swept for expired entries (go-ethereum `dbCleanupCycle`).
const DB_EXPIRE_INTERVAL: Duration = Duration::from_secs(3600);
/// Datagrams waiting for `poll_transmit`; beyond this new ones are dropped.
const MAX_TRANSMIT_QUEUE: usize = 4096;
/// Events waiting for `poll_event`; beyond this new ones are dropped.
const MAX_EVENT_QUEUE: usize = 4096;
/// User lookups running at once; one started beyond this answers at once from the table
/// alone. (The refresh runs one lookup at a time besides these.)
const MAX_ACTIVE_LOOKUPS: usize = 64;
/// Bootnodes remembered for re-bootstrapping.
const MAX_BOOTNODES: usize = 256;
/// Protocol version carried in Ping.
const PING_VERSION: u64 = 4;

/// Who started a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// [`Discv4::lookup`]: report `LookupDone`.
    User,
    /// The table refresh: chain the next refresh lookup.
    Refresh,
}

/// A lookup and who asked for it.
#[derive(Clone, Debug)]
struct LookupRun {
    lookup: Lookup,
    origin: Origin,
}

/// The discovery machine.
///
/// Methods are of four kinds:
/// - **getters**: [`closest`](Self::closest), [`table_len`](Self::table_len),
///   [`bucket_sizes`](Self::bucket_sizes), [`local_enr`](Self::local_enr),
///   [`stats`](Self::stats) (and [`random_nodes`](Self::random_nodes), which draws from the
///   machine's RNG);
/// - **inputs**: [`handle_datagram`](Self::handle_datagram) (a UDP datagram and its source),
///   [`handle_timeout`](Self::handle_timeout);
/// - **commands**: [`lookup`](Self::lookup), [`ping`](Self::ping),
///   [`request_enr`](Self::request_enr), [`add_bootnode`](Self::add_bootnode),
///   [`set_enr_entry`](Self::set_enr_entry), [`flush`](Self::flush);
/// - **outputs**: [`poll_transmit`](Self::poll_transmit) (datagrams ≤ 1280 bytes to send),
///   [`poll_event`](Self::poll_event), [`poll_timeout`](Self::poll_timeout).
///
/// **Drain rule**: after any input or command (and after construction, which bonds with the
/// bootnodes and database seeds), drain `poll_transmit` until `None`, then `poll_event` until
/// `None`, then sleep until `poll_timeout` (or the next datagram) and call `handle_timeout`.
/// Polling never creates new output, so one pass suffices. After `handle_timeout(now)` the
/// next deadline is later than `now`. Transmit and event queues are bounded
/// ([`Discv4Stats::overloaded`] counts what is dropped), so a driver must drain them.
///
/// Peer input never panics and never fails: malformed, expired, unsolicited, unbonded and
/// rate-limited packets are dropped and counted in [`Discv4Stats`].
///
/// Time comes in as `now`; unix time for packet expirations from the [`WallClock`] anchor;
/// randomness from the machine's own RNG. The same seed and inputs give the same outputs.
pub struct Discv4 {
    cfg: Discv4Config,
    local_peer: PeerId,
    local_id: NodeId,
    enr: LocalEnr,
    clock: WallClock,
    rng: MachineRng,
    db: Box<dyn NodeDb>,
    table: Table,
    requests: Requests,
    bonds: Bonds,
    lookups: BTreeMap<LookupId, LookupRun>,
    /// Lookups to advance before returning (replies arrived, slots freed).
    dirty: BTreeSet<LookupId>,
    /// Requests refused or abandoned before sending, to fail before returning (a queue
    /// rather than recursion, so failure chains cannot grow the stack).
    failed: VecDeque<Request>,
    next_lookup: u64,
    next_request: u64,
    reval: Revalidation,
    refresh: Refresh,
    ratelimit: RateLimiter,
    endpoint: EndpointPredictor,
    /// What we announce in Ping `from`.
    local_endpoint: Endpoint,
    bootnodes: Vec<NodeRecord>,
    /// Bootstrap pings not resolved yet.
    bootstrap_pending: usize,
    next_db_expire: Instant,
    transmit: VecDeque<(SocketAddr, Vec<u8>)>,
    events: VecDeque<Discv4Event>,
    stats: Discv4Stats,
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
        let local_peer = peer_id_of(&cfg.secret_key);
        let local_id = local_peer.node_id();
        let advertised_ip = cfg
            .ext_ip
            .or((!cfg.local.ip.is_unspecified()).then_some(cfg.local.ip));
        let local_endpoint = Endpoint {
            ip: advertised_ip.unwrap_or(cfg.local.ip),
            ..cfg.local
        };
        let bootnodes: Vec<NodeRecord> =
            cfg.bootnodes.iter().take(MAX_BOOTNODES).copied().collect();
        let mut me = Self {
            local_peer,
            local_id,
            enr,
            clock,
            rng: MachineRng::new(seed),
            db,
            table: Table::new(local_id),
            requests: Requests::new(cfg.max_pending_requests, cfg.reply_timeout),
            bonds: Bonds::new(cfg.reply_timeout, cfg.max_pending_requests),
            lookups: BTreeMap::new(),
            dirty: BTreeSet::new(),
            failed: VecDeque::new(),
            next_lookup: 0,
            next_request: 0,
            reval: Revalidation::new(),
            refresh: Refresh::new(cfg.refresh_interval),
            ratelimit: RateLimiter::new(cfg.max_packets_per_ip_per_sec, MAX_TRACKED_IPS),
            endpoint: EndpointPredictor::new(cfg.ext_ip),
            local_endpoint,
            bootnodes,
            bootstrap_pending: 0,
            next_db_expire: now + DB_EXPIRE_INTERVAL,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            stats: Discv4Stats::default(),
            cfg,
        };
        me.enr
            .set_endpoint(advertised_ip, me.cfg.local.tcp, me.cfg.local.udp);
        me.db.set_local_seq(me.enr.seq());
        me.bootstrap(now);
        me.process(now);
        me
    }

    /// A datagram arrived from `from`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        self.on_datagram(now, from, datagram);
        self.process(now);
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.on_timeout(now);
        self.process(now);
    }

    /// Adds a bootnode and bonds with it.
    pub fn add_bootnode(&mut self, now: Instant, node: NodeRecord) {
        if !self.bootnodes.iter().any(|b| b.id == node.id) && self.bootnodes.len() < MAX_BOOTNODES {
            self.bootnodes.push(node);
        }
        if self.table.is_empty() && !self.refresh.awaiting_bootstrap() {
            self.refresh.bootstrap_started(now);
        }
        self.ping_bootstrap(now, node);
        self.process(now);
    }

    /// Starts an iterative lookup for `target`.
    pub fn lookup(&mut self, now: Instant, target: PeerId) -> LookupId {
        let id = self.start_lookup(target, Origin::User);
        self.process(now);
        id
    }

    /// Pings a node (tooling: `discv4 ping`).
    pub fn ping(&mut self, now: Instant, node: NodeRecord) -> RequestId {
        let id = self.new_request_id();
        self.request(
            now,
            Request::Ping {
                to: node,
                purpose: requests::PingPurpose::Tool(id),
            },
        );
        self.process(now);
        id
    }

    /// Asks a node for its ENR, bonding first if needed (tooling: `discv4 resolve`).
    pub fn request_enr(&mut self, now: Instant, node: NodeRecord) -> RequestId {
        let id = self.new_request_id();
        self.after_bond(
            now,
            node,
            bond::Deferred::Enr(requests::EnrPurpose::Tool(id)),
        );
        self.process(now);
        id
    }

    /// Sets an entry of the local ENR (e.g. `eth` by the eth protocol).
    pub fn set_enr_entry(&mut self, key: &[u8], rlp_value: Vec<u8>) {
        if self.enr.set_entry(key, rlp_value) {
            self.db.set_local_seq(self.enr.seq());
        }
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Discv4Event> {
        self.events.pop_front()
    }

    /// When to call `handle_timeout` next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.requests.next_deadline(),
            self.bonds.next_deadline(),
            self.reval.next_deadline(),
            self.refresh.next_deadline(),
            Some(self.next_db_expire),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The `n` table nodes closest to `target`, closest first.
    pub fn closest(&self, target: &NodeId, n: usize) -> Vec<NodeEntry> {
        self.table
            .closest(target, n)
            .into_iter()
            .map(|n| n.entry.clone())
            .collect()
    }

    /// Up to `n` random table nodes.
    pub fn random_nodes(&mut self, n: usize) -> Vec<NodeEntry> {
        self.table
            .random(n, &mut self.rng)
            .into_iter()
            .map(|n| n.entry.clone())
            .collect()
    }

    /// Number of nodes in the table.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Nodes per bucket, closest bucket first.
    pub fn bucket_sizes(&self) -> Vec<usize> {
        self.table.bucket_sizes()
    }

    /// The local record.
    pub fn local_enr(&self) -> &Enr {
        self.enr.record()
    }

    /// Counters.
    pub fn stats(&self) -> Discv4Stats {
        self.stats
    }

    /// Requests in flight and queued behind the in-flight bound (for metrics and tests).
    pub fn pending_requests(&self) -> (usize, usize) {
        (self.requests.in_flight(), self.requests.queued())
    }

    /// Flushes the node database (call on shutdown).
    pub fn flush(&mut self) {
        self.db.flush();
    }

    // ----- helpers shared by the submodules -----

    fn new_request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    fn unix(&self, now: Instant) -> u64 {
        self.clock.unix_secs_at(now)
    }

    /// The `expiration` of a packet sent at `now`.
    fn expiration(&self, now: Instant) -> u64 {
        self.unix(now).saturating_add(PACKET_EXPIRATION.as_secs())
    }

    /// Whether `ip` is inside `netrestrict` (or there is none).
    fn allowed(&self, ip: IpAddr) -> bool {
        self.cfg.netrestrict.as_ref().is_none_or(|n| n.contains(ip))
    }

    fn emit(&mut self, ev: Discv4Event) {
        if self.events.len() >= MAX_EVENT_QUEUE {
            self.stats.overloaded += 1;
        } else {
            self.events.push_back(ev);
        }
    }

    /// Settles everything an input or command set in motion: fails refused requests,
    /// advances lookups that got answers, and sends queued requests that now fit.
    fn process(&mut self, now: Instant) {
        loop {
            let mut progress = false;
            while let Some(req) = self.failed.pop_front() {
                self.fail_request(now, req);
                progress = true;
            }
            while let Some(id) = self.dirty.pop_first() {
                self.advance_lookup(now, id);
                progress = true;
            }
            while let Some(req) = self.requests.next_queued() {
                self.send_request(now, req);
                progress = true;
            }
            if !progress {
                break;
            }
        }
    }
}
