//! A deterministic, sans-IO network emulator for discv4 machines (after str0m's): N machines
//! with in-memory databases on distinct LAN addresses, virtual time, per-datagram latency
//! drawn from a seeded RNG, and random loss. Nothing reads a clock or a global RNG, so the
//! same seed replays the same run; every transmitted datagram is folded into a trace hash.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use paxeer_p2p_core::crypto::keccak::KeccakState;
use paxeer_p2p_core::crypto::keys::{generate_secret_key, peer_id_of};
use paxeer_p2p_core::discv4::packet::{Endpoint, NodeRecord};
use paxeer_p2p_core::discv4::{Discv4, Discv4Config, Discv4Event, LookupId, NodeEntry};
use paxeer_p2p_core::enr::LocalEnr;
use paxeer_p2p_core::nodedb::MemoryNodeDb;
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::types::{NodeId, PeerId, Seed, WallClock};
use secp256k1::SecretKey;

/// Unix time at the start of every simulation.
pub const UNIX0: u64 = 1_700_000_000;
const PORT: u16 = 30303;

/// The origin of virtual time. The simulation never sleeps; it moves `now` forward.
#[allow(clippy::disallowed_methods)]
pub fn t0() -> Instant {
    Instant::now()
}

/// Network and population parameters.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Machines, the first `bootnodes` of which are bootnodes.
    pub nodes: usize,
    /// Bootnodes (started first, knowing each other).
    pub bootnodes: usize,
    /// Latency range of one datagram, in milliseconds (uniform).
    pub latency_ms: (u64, u64),
    /// Datagrams lost, per thousand.
    pub loss_per_mille: u64,
    /// Non-bootnodes start at uniform random times within this.
    pub start_spread: Duration,
    /// Seed of everything: keys, machine RNGs, latency, loss, start times.
    pub seed: [u8; 32],
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            nodes: 200,
            bootnodes: 3,
            latency_ms: (10, 50),
            loss_per_mille: 50,
            start_spread: Duration::from_secs(10),
            seed: [42; 32],
        }
    }
}

/// One simulated machine.
pub struct SimNode {
    pub key: SecretKey,
    pub record: NodeRecord,
    pub id: NodeId,
    pub start_at: Instant,
    machine_seed: Seed,
    pub disc: Option<Discv4>,
    /// Lookups finished, by id.
    pub lookups: BTreeMap<LookupId, Vec<NodeEntry>>,
    pub added: u64,
    pub removed: u64,
    scheduled: Option<Instant>,
}

impl SimNode {
    /// The running machine (panics before its start time).
    pub fn disc(&self) -> &Discv4 {
        self.disc.as_ref().expect("started")
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Start(usize),
    Deliver {
        dst: usize,
        src: SocketAddr,
        bytes: Vec<u8>,
    },
    Timer(usize),
}

/// The simulated network.
pub struct Sim {
    pub cfg: SimConfig,
    pub t0: Instant,
    pub now: Instant,
    pub nodes: Vec<SimNode>,
    by_addr: BTreeMap<SocketAddr, usize>,
    queue: BinaryHeap<Reverse<(Instant, u64, Item)>>,
    seq: u64,
    rng: MachineRng,
    trace: KeccakState,
    /// Datagrams transmitted, lost and delivered.
    pub sent: u64,
    pub lost: u64,
    pub delivered: u64,
    /// Debugging: log every datagram to or from this node to stderr.
    pub watch: Option<usize>,
}

fn addr_of(i: usize) -> SocketAddr {
    let i = u32::try_from(i).unwrap();
    // 10.0.x.y, y in 1..=250: distinct LAN addresses, so the /24 limits do not apply.
    let ip = Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250 + 1) as u8);
    SocketAddr::new(IpAddr::V4(ip), PORT)
}

impl Sim {
    /// Creates the population; nothing runs until `run_until`.
    pub fn new(cfg: SimConfig) -> Self {
        let t0 = t0();
        let mut rng = MachineRng::new(Seed(cfg.seed));
        let spread_ms = u64::try_from(cfg.start_spread.as_millis()).unwrap();
        let mut nodes = Vec::with_capacity(cfg.nodes);
        let mut by_addr = BTreeMap::new();
        for i in 0..cfg.nodes {
            let key = generate_secret_key(&mut rng);
            let addr = addr_of(i);
            let record = NodeRecord {
                endpoint: Endpoint {
                    ip: addr.ip(),
                    udp: PORT,
                    tcp: PORT,
                },
                id: peer_id_of(&key),
            };
            let start_at = if i < cfg.bootnodes {
                t0
            } else {
                t0 + Duration::from_millis(rng.range_inclusive(0, spread_ms))
            };
            by_addr.insert(addr, i);
            nodes.push(SimNode {
                key,
                record,
                id: record.id.node_id(),
                start_at,
                machine_seed: rng.child_seed(),
                disc: None,
                lookups: BTreeMap::new(),
                added: 0,
                removed: 0,
                scheduled: None,
            });
        }
        let mut sim = Self {
            cfg,
            t0,
            now: t0,
            nodes,
            by_addr,
            queue: BinaryHeap::new(),
            seq: 0,
            rng,
            trace: KeccakState::new(),
            sent: 0,
            lost: 0,
            delivered: 0,
            watch: None,
        };
        for i in 0..sim.nodes.len() {
            let at = sim.nodes[i].start_at;
            sim.push(at, Item::Start(i));
        }
        sim
    }

    fn push(&mut self, at: Instant, item: Item) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, item)));
    }

    /// The bootnode records.
    pub fn bootnode_records(&self) -> Vec<NodeRecord> {
        self.nodes[..self.cfg.bootnodes]
            .iter()
            .map(|n| n.record)
            .collect()
    }

    fn start(&mut self, i: usize) {
        let boot = self.bootnode_records();
        let node = &mut self.nodes[i];
        let mut cfg = Discv4Config::new(node.key, node.record.endpoint);
        cfg.bootnodes = boot
            .into_iter()
            .filter(|b| b.id != node.record.id)
            .collect();
        let enr = LocalEnr::new(node.key, 1);
        let clock = WallClock {
            at: self.t0,
            unix_secs: UNIX0,
        };
        let db = Box::new(MemoryNodeDb::new());
        node.disc = Some(Discv4::new(
            cfg,
            enr,
            clock,
            self.now,
            node.machine_seed,
            db,
        ));
        self.drain(i);
    }

    /// Collects node `i`'s output: datagrams go on the wire, events are recorded, and its
    /// next deadline is scheduled.
    fn drain(&mut self, i: usize) {
        let src = addr_of(i);
        let Some(disc) = self.nodes[i].disc.as_mut() else {
            return;
        };
        let mut out = Vec::new();
        while let Some(d) = disc.poll_transmit() {
            out.push(d);
        }
        let mut events = Vec::new();
        while let Some(e) = disc.poll_event() {
            events.push(e);
        }
        let next = disc.poll_timeout();
        for (to, bytes) in out {
            assert!(bytes.len() <= 1280, "datagram of {} bytes", bytes.len());
            self.sent += 1;
            self.trace.update(&(i as u64).to_be_bytes());
            self.trace.update(to.to_string().as_bytes());
            self.trace.update(&bytes);
            let lost = self.rng.range_inclusive(0, 999) < self.cfg.loss_per_mille;
            let dst_idx = self.by_addr.get(&to).copied();
            if self.watch == Some(i) || (self.watch.is_some() && dst_idx == self.watch) {
                self.log(i, dst_idx, &bytes, lost);
            }
            if lost {
                self.lost += 1;
                continue;
            }
            let Some(&dst) = self.by_addr.get(&to) else {
                self.lost += 1;
                continue;
            };
            let (lo, hi) = self.cfg.latency_ms;
            let at = self.now + Duration::from_millis(self.rng.range_inclusive(lo, hi));
            self.push(at, Item::Deliver { dst, src, bytes });
        }
        let node = &mut self.nodes[i];
        for e in events {
            match e {
                Discv4Event::NodeAdded(_) => node.added += 1,
                Discv4Event::NodeRemoved(_) => node.removed += 1,
                Discv4Event::LookupDone { id, nodes, .. } => {
                    node.lookups.insert(id, nodes);
                }
                _ => {}
            }
        }
        if let Some(at) = next {
            if node.scheduled != Some(at) {
                node.scheduled = Some(at);
                assert!(at >= self.now, "deadline in the past");
                self.push(at, Item::Timer(i));
            }
        }
    }

    /// Runs every event up to and including `until`; `now` ends at `until`.
    pub fn run_until(&mut self, until: Instant) {
        while let Some(Reverse((at, _, _))) = self.queue.peek() {
            if *at > until {
                break;
            }
            let Some(Reverse((at, _, item))) = self.queue.pop() else {
                break;
            };
            self.now = at;
            match item {
                Item::Start(i) => self.start(i),
                Item::Deliver { dst, src, bytes } => {
                    if let Some(disc) = self.nodes[dst].disc.as_mut() {
                        self.delivered += 1;
                        disc.handle_datagram(at, src, &bytes);
                        self.drain(dst);
                    } else {
                        self.lost += 1;
                    }
                }
                Item::Timer(i) => {
                    let node = &mut self.nodes[i];
                    if node.scheduled != Some(at) {
                        continue; // superseded
                    }
                    node.scheduled = None;
                    let Some(disc) = node.disc.as_mut() else {
                        continue;
                    };
                    disc.handle_timeout(at);
                    let next = disc.poll_timeout();
                    assert!(
                        next.is_none_or(|n| n > at),
                        "handle_timeout left a due deadline"
                    );
                    self.drain(i);
                }
            }
        }
        self.now = self.now.max(until);
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Starts a lookup at node `i` and runs until it finishes (or `limit` passes).
    pub fn lookup(&mut self, i: usize, target: PeerId, limit: Duration) -> Option<Vec<NodeEntry>> {
        let now = self.now;
        let id = self.nodes[i].disc.as_mut()?.lookup(now, target);
        self.drain(i);
        let end = now + limit;
        while self.now < end {
            if let Some(r) = self.nodes[i].lookups.get(&id) {
                return Some(r.clone());
            }
            self.run_for(Duration::from_millis(100));
        }
        self.nodes[i].lookups.get(&id).cloned()
    }

    fn log(&self, from: usize, to: Option<usize>, bytes: &[u8], lost: bool) {
        use paxeer_p2p_core::discv4::packet::{decode, Packet};
        let Ok(d) = decode(bytes) else { return };
        let what = match &d.packet {
            Packet::Neighbors(n) => {
                let idx: Vec<usize> = n
                    .nodes
                    .iter()
                    .filter_map(|r| self.nodes.iter().position(|x| x.record.id == r.id))
                    .collect();
                format!("neighbors {idx:?}")
            }
            Packet::FindNode(f) => {
                let t = self.nodes.iter().position(|x| x.record.id == f.target);
                format!("findnode target {t:?}")
            }
            p => p.name().to_string(),
        };
        eprintln!(
            "{:>8.3} {from:>3} -> {to:?} {what}{}",
            (self.now - self.t0).as_secs_f64(),
            if lost { " (lost)" } else { "" }
        );
    }

    /// A hash of every datagram transmitted so far (sender, recipient, bytes), in order.
    pub fn trace_hash(&self) -> [u8; 32] {
        self.trace.digest()
    }

    /// A random 64-byte target from the simulation's RNG.
    pub fn random_target(&mut self) -> PeerId {
        let mut t = [0u8; 64];
        self.rng.fill(&mut t);
        PeerId(t)
    }

    /// The `n` nodes closest to `target` over the whole population, except `exclude`.
    pub fn brute_force_closest(&self, target: &NodeId, n: usize, exclude: usize) -> Vec<NodeId> {
        let mut all: Vec<NodeId> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != exclude)
            .map(|(_, n)| n.id)
            .collect();
        all.sort_by_key(|id| xor(target, id));
        all.truncate(n);
        all
    }

    /// Whether `e` is a running node at the address the entry claims.
    pub fn is_live(&self, e: &NodeEntry) -> bool {
        let addr = SocketAddr::new(e.record.endpoint.ip, e.record.endpoint.udp);
        self.by_addr
            .get(&addr)
            .is_some_and(|&i| self.nodes[i].id == e.id && self.nodes[i].disc.is_some())
    }
}

/// The XOR distance of two ids, as a sortable key.
pub fn xor(a: &NodeId, b: &NodeId) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, (x, y)) in out.iter_mut().zip(a.0.iter().zip(b.0.iter())) {
        *o = x ^ y;
    }
    out
}
