//! A whole network of [`Host`]s in virtual time: TCP connections are pairs of sessions
//! joined by pipes with latency, discovery datagrams travel with the same latency, and every
//! host is drained by the rules its rustdoc gives. Seeded: the same seed gives the same run.
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

use paxeer_p2p_core::crypto::keys::{generate_secret_key, peer_id_of};
use paxeer_p2p_core::discv4::packet::{Endpoint, NodeRecord};
use paxeer_p2p_core::discv4::{Discv4, Discv4Config};
use paxeer_p2p_core::enr::LocalEnr;
use paxeer_p2p_core::host::{ConnId, Host, HostAction, HostBuilder, HostConfig, HostEvent};
use paxeer_p2p_core::nodedb::MemoryNodeDb;
use paxeer_p2p_core::peers::DialFailure;
use paxeer_p2p_core::protocol::Protocol;
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::session::{Session, SessionConfig, SessionEvent};
use paxeer_p2p_core::types::{PeerId, Seed, WallClock};

pub const PORT: u16 = 30303;
pub const UNIX0: u64 = 1_700_000_000;

#[allow(clippy::disallowed_methods)]
pub fn t0() -> Instant {
    Instant::now()
}

pub fn addr_of(i: usize) -> SocketAddr {
    let i = u32::try_from(i).unwrap();
    let ip = Ipv4Addr::new(10, 1, (i / 250) as u8, (i % 250 + 1) as u8);
    SocketAddr::new(IpAddr::V4(ip), PORT)
}

/// How to build one node.
pub struct NodeSpec {
    pub cfg: HostConfig,
    pub protocols: Vec<Box<dyn Protocol>>,
    pub discovery: bool,
    pub bootnodes: Vec<NodeRecord>,
}

impl NodeSpec {
    pub fn new(cfg: HostConfig, protocols: Vec<Box<dyn Protocol>>) -> Self {
        Self {
            cfg,
            protocols,
            discovery: false,
            bootnodes: Vec::new(),
        }
    }
}

pub struct NetNode {
    pub host: Host,
    pub addr: SocketAddr,
    pub record: NodeRecord,
    pub up: bool,
    /// Every event the host emitted, in order (protocol events included).
    pub events: Vec<HostEvent>,
    /// Every action the host emitted (for invariant checks).
    pub actions: Vec<HostAction>,
}

/// One end of a TCP connection.
struct End {
    node: usize,
    conn: ConnId,
    session: Session,
    /// Stopped at the admission checkpoint until the host answers.
    held: bool,
    closed: bool,
    transport_closed: bool,
}

struct Link {
    ends: [End; 2],
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    /// Bytes for end `side` of link `link`.
    Bytes(u64, usize, Vec<u8>),
    /// The transport under end `side` of link `link` closed.
    Eof(u64, usize),
    Datagram(SocketAddr, SocketAddr, Vec<u8>),
    DialFailed(usize, ConnId),
}

pub struct HostNet {
    pub t0: Instant,
    pub now: Instant,
    pub nodes: Vec<NetNode>,
    links: BTreeMap<u64, Link>,
    /// Which link end a (node, conn) is.
    ends: BTreeMap<(usize, ConnId), (u64, usize)>,
    next_link: u64,
    queue: BinaryHeap<Reverse<(Instant, u64, Item)>>,
    seq: u64,
    pub latency: Duration,
    /// Per-pair latency (node indices, either order); `latency` when unset.
    pub link_latency: Option<Box<dyn Fn(usize, usize) -> Duration>>,
    rng: MachineRng,
    /// Nodes that never accept TCP (a dial to them fails with Connect).
    pub unreachable: Vec<usize>,
}

impl HostNet {
    pub fn new(seed: u8, latency: Duration) -> Self {
        let t0 = t0();
        Self {
            t0,
            now: t0,
            nodes: Vec::new(),
            links: BTreeMap::new(),
            ends: BTreeMap::new(),
            next_link: 0,
            queue: BinaryHeap::new(),
            seq: 0,
            latency,
            link_latency: None,
            rng: MachineRng::new(Seed([seed; 32])),
            unreachable: Vec::new(),
        }
    }

    /// Adds a node and starts it now. Returns its index.
    pub fn add(&mut self, spec: NodeSpec) -> usize {
        let i = self.nodes.len();
        let key = generate_secret_key(&mut self.rng);
        let addr = addr_of(i);
        let record = NodeRecord {
            endpoint: Endpoint {
                ip: addr.ip(),
                udp: PORT,
                tcp: PORT,
            },
            id: peer_id_of(&key),
        };
        let clock = WallClock {
            at: self.t0,
            unix_secs: UNIX0,
        };
        let mut session = SessionConfig::new(key, format!("sim/{i}"), Vec::new());
        session.listen_port = PORT;
        let mut b = HostBuilder::new(session, spec.cfg);
        for p in spec.protocols {
            b.protocol(p).unwrap();
        }
        if spec.discovery {
            let mut dcfg = Discv4Config::new(key, record.endpoint);
            dcfg.bootnodes = spec.bootnodes;
            let disc = Discv4::new(
                dcfg,
                LocalEnr::new(key, 1),
                clock,
                self.now,
                self.rng.child_seed(),
                Box::new(MemoryNodeDb::new()),
            );
            b.discovery(disc);
        }
        let host = b.build(self.now, clock, self.rng.child_seed());
        self.nodes.push(NetNode {
            host,
            addr,
            record,
            up: true,
            events: Vec::new(),
            actions: Vec::new(),
        });
        self.drain(i);
        i
    }

    pub fn id(&self, i: usize) -> PeerId {
        self.nodes[i].record.id
    }

    pub fn host(&mut self, i: usize) -> &mut Host {
        &mut self.nodes[i].host
    }

    fn push(&mut self, at: Instant, item: Item) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, item)));
    }

    /// One-way latency between nodes `a` and `b`.
    pub fn latency_between(&self, a: usize, b: usize) -> Duration {
        match &self.link_latency {
            Some(f) => f(a.min(b), a.max(b)),
            None => self.latency,
        }
    }

    /// One-way latency from node `a` to whatever listens at `addr`.
    fn latency_to(&self, a: usize, addr: SocketAddr) -> Duration {
        match self.node_by_addr(addr) {
            Some(b) if self.link_latency.is_some() => self.latency_between(a, b),
            _ => self.latency,
        }
    }

    fn node_by_addr(&self, addr: SocketAddr) -> Option<usize> {
        self.nodes.iter().position(|n| n.addr == addr && n.up)
    }

    /// Applies node `i`'s output: actions on links, datagrams on the wire; repeats until the
    /// host and its sessions are quiet.
    pub fn drain(&mut self, i: usize) {
        loop {
            let mut moved = false;
            while let Some(a) = self.nodes[i].host.poll_action() {
                moved = true;
                self.nodes[i].actions.push(a.clone());
                self.apply(i, a);
            }
            while let Some((to, bytes)) = self.nodes[i].host.poll_transmit() {
                moved = true;
                let from = self.nodes[i].addr;
                let latency = self.latency_to(i, to);
                self.push(self.now + latency, Item::Datagram(from, to, bytes));
            }
            while let Some(ev) = self.nodes[i].host.poll_event() {
                moved = true;
                self.nodes[i].events.push(ev);
            }
            let ends: Vec<(u64, usize)> = self
                .ends
                .iter()
                .filter(|((n, _), _)| *n == i)
                .map(|(_, v)| *v)
                .collect();
            for (link, side) in ends {
                moved |= self.pump(link, side);
            }
            if !moved {
                return;
            }
        }
    }

    fn apply(&mut self, i: usize, a: HostAction) {
        match a {
            HostAction::Dial { conn, peer, addr } => self.dial(i, conn, peer, addr),
            HostAction::Admit { conn } => {
                if let Some(end) = self.end_mut(i, conn) {
                    end.held = false;
                }
            }
            HostAction::Send {
                conn,
                cap,
                msg_id,
                payload,
            } => {
                let now = self.now;
                let len = payload.len();
                let taken = self
                    .end_mut(i, conn)
                    .is_some_and(|end| end.session.send(now, cap, msg_id, payload).is_ok());
                if taken {
                    self.nodes[i].host.record_sent(conn, cap, msg_id, len);
                }
            }
            HostAction::Disconnect { conn, reason } => {
                let now = self.now;
                if let Some(end) = self.end_mut(i, conn) {
                    end.held = false;
                    end.session.disconnect(now, reason);
                }
            }
        }
    }

    fn end_mut(&mut self, i: usize, conn: ConnId) -> Option<&mut End> {
        let (link, side) = *self.ends.get(&(i, conn))?;
        self.links.get_mut(&link).map(|l| &mut l.ends[side])
    }

    fn dial(&mut self, i: usize, conn: ConnId, peer: PeerId, addr: SocketAddr) {
        let target = self
            .node_by_addr(addr)
            .filter(|t| !self.unreachable.contains(t));
        let Some(t) = target else {
            let latency = self.latency_to(i, addr);
            self.push(self.now + latency, Item::DialFailed(i, conn));
            return;
        };
        let dialer_cfg = self.nodes[i].host.session_config();
        let seed = self.rng.child_seed();
        let Ok(out) = Session::connect(dialer_cfg, peer, self.now, seed) else {
            self.push(self.now, Item::DialFailed(i, conn));
            return;
        };
        // The listener sees the dialer's address (an ephemeral port on its IP).
        let from = SocketAddr::new(self.nodes[i].addr.ip(), 40000 + (self.seq % 20000) as u16);
        let now = self.now;
        let accepted = self.nodes[t].host.handle_inbound(now, from);
        let link = self.next_link;
        self.next_link += 1;
        let out_end = End {
            node: i,
            conn,
            session: out,
            held: false,
            closed: false,
            transport_closed: false,
        };
        match accepted {
            Ok(tconn) => {
                let seed = self.rng.child_seed();
                let cfg = self.nodes[t].host.session_config();
                let inb = Session::accept(cfg, now, seed);
                let in_end = End {
                    node: t,
                    conn: tconn,
                    session: inb,
                    held: false,
                    closed: false,
                    transport_closed: false,
                };
                self.links.insert(
                    link,
                    Link {
                        ends: [out_end, in_end],
                    },
                );
                self.ends.insert((i, conn), (link, 0));
                self.ends.insert((t, tconn), (link, 1));
                self.drain(t);
            }
            Err(_) => {
                // The listener closes the socket at once.
                let in_end = End {
                    node: t,
                    conn: ConnId(u64::MAX),
                    session: Session::accept(self.nodes[t].host.session_config(), now, seed),
                    held: false,
                    closed: true,
                    transport_closed: true,
                };
                self.links.insert(
                    link,
                    Link {
                        ends: [out_end, in_end],
                    },
                );
                self.ends.insert((i, conn), (link, 0));
                let latency = self.latency_between(i, t);
                self.push(self.now + latency, Item::Eof(link, 0));
            }
        }
    }

    /// Moves one end's output onto the wire and its events into its host. Returns whether
    /// anything moved.
    fn pump(&mut self, link: u64, side: usize) -> bool {
        let now = self.now;
        let latency = match self.links.get(&link) {
            Some(l) => self.latency_between(l.ends[0].node, l.ends[1].node),
            None => return false,
        };
        let Some(l) = self.links.get_mut(&link) else {
            return false;
        };
        let end = &mut l.ends[side];
        if end.closed {
            return false;
        }
        let mut moved = false;
        let mut out = Vec::new();
        let mut events = Vec::new();
        if !end.held {
            end.session.poll_transmit(&mut out, usize::MAX);
            while let Some(ev) = end.session.poll_event() {
                let checkpoint = matches!(ev, SessionEvent::Authenticated { .. });
                events.push(ev);
                if checkpoint {
                    end.held = true;
                    break;
                }
            }
        }
        let (node, conn) = (end.node, end.conn);
        let closed_now = end.session.is_closed()
            && !end.held
            && events
                .iter()
                .any(|e| matches!(e, SessionEvent::Closed { .. }));
        if closed_now {
            end.closed = true;
        }
        let other = 1 - side;
        if !out.is_empty() {
            moved = true;
            self.push(now + latency, Item::Bytes(link, other, out));
        }
        if closed_now {
            self.push(now + latency, Item::Eof(link, other));
            self.ends.remove(&(node, conn));
        }
        for ev in events {
            moved = true;
            if self.nodes[node].up {
                self.nodes[node].host.handle_session_event(now, conn, ev);
            }
        }
        moved
    }

    fn deliver(&mut self, item: Item) {
        let now = self.now;
        match item {
            Item::Bytes(link, side, mut bytes) => {
                let Some(l) = self.links.get_mut(&link) else {
                    return;
                };
                let end = &mut l.ends[side];
                if end.closed || end.transport_closed {
                    return;
                }
                let mut off = 0;
                while off < bytes.len() {
                    let n = end.session.handle_input(now, &mut bytes[off..]);
                    if n == 0 {
                        break;
                    }
                    off += n;
                }
                let node = end.node;
                self.drain(node);
            }
            Item::Eof(link, side) => {
                let Some(l) = self.links.get_mut(&link) else {
                    return;
                };
                let end = &mut l.ends[side];
                if end.transport_closed {
                    return;
                }
                end.transport_closed = true;
                if !end.closed {
                    end.held = false;
                    end.session.handle_transport_closed(now);
                    let node = end.node;
                    self.drain(node);
                }
                let l = &self.links[&link];
                if l.ends.iter().all(|e| e.closed) {
                    self.links.remove(&link);
                }
            }
            Item::Datagram(from, to, bytes) => {
                if let Some(t) = self.node_by_addr(to) {
                    self.nodes[t].host.handle_datagram(now, from, &bytes);
                    self.drain(t);
                }
            }
            Item::DialFailed(i, conn) => {
                if self.nodes[i].up {
                    self.nodes[i]
                        .host
                        .handle_dial_failed(now, conn, DialFailure::Connect);
                    self.drain(i);
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let hosts = self
            .nodes
            .iter()
            .filter(|n| n.up)
            .filter_map(|n| n.host.poll_timeout());
        let sessions = self
            .links
            .values()
            .flat_map(|l| l.ends.iter())
            .filter(|e| !e.closed && !e.held)
            .filter_map(|e| e.session.poll_timeout());
        let queued = self.queue.peek().map(|Reverse((t, _, _))| *t);
        hosts.chain(sessions).chain(queued).min()
    }

    /// Runs until virtual time `until`.
    pub fn run_until(&mut self, until: Instant) {
        loop {
            let next = match self.next_deadline() {
                Some(t) if t <= until => t,
                _ => {
                    self.now = until.max(self.now);
                    return;
                }
            };
            self.now = next.max(self.now);
            let now = self.now;
            while let Some(Reverse((t, _, _))) = self.queue.peek() {
                if *t > now {
                    break;
                }
                let Reverse((_, _, item)) = self.queue.pop().unwrap();
                self.deliver(item);
            }
            for i in 0..self.nodes.len() {
                if !self.nodes[i].up {
                    continue;
                }
                if self.nodes[i].host.poll_timeout().is_some_and(|t| t <= now) {
                    self.nodes[i].host.handle_timeout(now);
                }
                self.drain(i);
            }
            let due: Vec<(u64, usize)> = self
                .links
                .iter()
                .flat_map(|(id, l)| {
                    l.ends.iter().enumerate().filter_map(move |(s, e)| {
                        (!e.closed && !e.held && e.session.poll_timeout().is_some_and(|t| t <= now))
                            .then_some((*id, s))
                    })
                })
                .collect();
            for (link, side) in due {
                if let Some(l) = self.links.get_mut(&link) {
                    l.ends[side].session.handle_timeout(now);
                    let node = l.ends[side].node;
                    self.drain(node);
                }
            }
        }
    }

    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Stops node `i` abruptly: its connections see EOF, its datagrams are lost.
    pub fn crash(&mut self, i: usize) {
        self.nodes[i].up = false;
        let mine: Vec<(ConnId, (u64, usize))> = self
            .ends
            .iter()
            .filter(|((n, _), _)| *n == i)
            .map(|((_, c), v)| (*c, *v))
            .collect();
        for (conn, (link, side)) in mine {
            self.ends.remove(&(i, conn));
            let mut pair = None;
            if let Some(l) = self.links.get_mut(&link) {
                l.ends[side].closed = true;
                l.ends[side].transport_closed = true;
                pair = Some((l.ends[0].node, l.ends[1].node));
            }
            let latency = pair.map_or(self.latency, |(a, b)| self.latency_between(a, b));
            self.push(self.now + latency, Item::Eof(link, 1 - side));
        }
    }

    /// Established peers of node `i` by direction: (inbound, outbound).
    pub fn peer_split(&self, i: usize) -> (usize, usize) {
        use paxeer_p2p_core::types::Direction;
        let h = &self.nodes[i].host;
        (
            h.peer_count(Some(Direction::Inbound)),
            h.peer_count(Some(Direction::Outbound)),
        )
    }

    /// Connected peer ids of node `i`.
    pub fn peer_ids(&self, i: usize) -> Vec<PeerId> {
        self.nodes[i]
            .host
            .peers()
            .into_iter()
            .filter(|p| p.established)
            .map(|p| p.id)
            .collect()
    }
}
