//! Assembling a [`Host`]: configuration, protocols registered before start, and optional
//! discovery.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::discv4::{Discv4, NodeEntry};
use crate::metrics::HostMetrics;
use crate::peers::{PeerManager, PeerManagerConfig};
use crate::protocol::{Protocol, ProtocolId, ProtocolRegistry, RegistryError};
use crate::rng::MachineRng;
use crate::session::SessionConfig;
use crate::types::{Seed, WallClock};

use super::Host;

/// How often the host starts a discovery lookup of its own while it lacks outbound peers
/// (the discovery table refreshes itself too; go-ethereum's dialer keeps a lookup iterator
/// running, this is a gentler equivalent).
pub const LOOKUP_INTERVAL: Duration = Duration::from_secs(10);
/// Cap on unpolled application events; beyond it the oldest protocol events are dropped
/// (and counted) rather than growing memory.
pub const MAX_PENDING_EVENTS: usize = 4096;

/// A verdict on a node found by discovery before it becomes a dial candidate (e.g. the fork id
/// of its ENR `eth` entry).
pub type NodeFilter = Box<dyn Fn(&NodeEntry) -> bool + Send>;

/// Host settings besides the session's and the protocols.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Peer manager limits, dial scheduler, reputation, bans, rate limits.
    pub peers: PeerManagerConfig,
    /// See [`LOOKUP_INTERVAL`].
    pub lookup_interval: Duration,
    /// See [`MAX_PENDING_EVENTS`].
    pub max_pending_events: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            peers: PeerManagerConfig::default(),
            lookup_interval: LOOKUP_INTERVAL,
            max_pending_events: MAX_PENDING_EVENTS,
        }
    }
}

/// Collects protocols (and optionally discovery) before the host starts.
pub struct HostBuilder {
    session: SessionConfig,
    cfg: HostConfig,
    registry: ProtocolRegistry,
    discovery: Option<Discv4>,
    filter: Option<NodeFilter>,
}

impl HostBuilder {
    /// A builder for a node with `session` settings (key, client id, timeouts; its
    /// `protocols` are replaced by the registered ones) and `cfg`.
    pub fn new(session: SessionConfig, cfg: HostConfig) -> Self {
        Self {
            session,
            cfg,
            registry: ProtocolRegistry::new(),
            discovery: None,
            filter: None,
        }
    }

    /// Registers a protocol; the host advertises every registered capability in Hello and
    /// adds the protocol's ENR entries to the local record.
    pub fn protocol(&mut self, protocol: Box<dyn Protocol>) -> Result<ProtocolId, RegistryError> {
        self.registry.register(protocol)
    }

    /// Runs discv4 inside the host: its datagrams go through the host, and the nodes it finds
    /// feed the dial scheduler.
    pub fn discovery(&mut self, discovery: Discv4) -> &mut Self {
        self.discovery = Some(discovery);
        self
    }

    /// Sets the verdict applied to discovered nodes before they may be dialed.
    pub fn node_filter(&mut self, filter: NodeFilter) -> &mut Self {
        self.filter = Some(filter);
        self
    }

    /// Starts the host at `now`; `clock` anchors ban expiries to unix time, `seed` feeds its
    /// random choices (children seeded from it).
    pub fn build(self, now: Instant, clock: WallClock, seed: Seed) -> Host {
        let mut rng = MachineRng::new(seed);
        let mut session = self.session;
        session.protocols = self.registry.specs();
        let local = session.local_id();
        let mut discovery = self.discovery;
        if let Some(d) = discovery.as_mut() {
            for (key, value) in self.registry.enr_entries() {
                d.set_enr_entry(&key, value);
            }
        }
        let peers = PeerManager::new(self.cfg.peers.clone(), local, clock, rng.child_seed());
        let protocol_names = self.registry.names().collect();
        Host {
            session: Arc::new(session),
            local,
            peers,
            registry: self.registry,
            discovery,
            filter: self.filter,
            conns: BTreeMap::new(),
            by_peer: BTreeMap::new(),
            next_conn: 0,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            metrics: HostMetrics {
                protocol_names,
                ..HostMetrics::default()
            },
            rng,
            next_lookup: now,
            lookup: None,
            shutting_down: false,
            cfg: self.cfg,
        }
    }
}
