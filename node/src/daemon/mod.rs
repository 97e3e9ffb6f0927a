//! A running paxeer-p2p node: data directory, identity, node database, discovery, the host
//! with its protocols, on either runtime. `run` (the daemon) and `devnet` both start nodes
//! through [`start_node`].
//!
//! - `host_ref.rs`: [`HostRef`], blocking calls into the host task of either runtime.
//! - `events.rs`: [`EventSink`], logs and ban persistence for host events.
//! - `views.rs`: JSON views of the node and its peers (admin API, devnet summary).
//! - `admin_backend.rs`: the admin JSON-RPC backend over a running node.
//! - `metrics_sync.rs`: host events and counters into the Prometheus registry.

pub mod admin_backend;
mod events;
mod host_ref;
pub mod metrics_sync;
pub mod views;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use paxeer_p2p_core::crypto::keys::peer_id_of;
use paxeer_p2p_core::enode::Enode;
use paxeer_p2p_core::host::{HostBuilder, HostConfig};
use paxeer_p2p_core::netutil::Netlist;
use paxeer_p2p_core::nodedb::NodeDb;
use paxeer_p2p_core::peers::PeerManagerConfig;
use paxeer_p2p_core::protocol::ProtocolId;
use paxeer_p2p_core::session::SessionConfig;
use paxeer_p2p_core::types::WallClock;
use secp256k1::SecretKey;

pub use events::{EventSink, Observer};
pub use host_ref::HostRef;

use crate::cmd_discv4::{record_of, unix_now, DiscSetup};
use crate::datadir::DataDir;
use crate::eth::chain::ChainStore;
use crate::eth::pool::env::{Forks, PoolEnv};
use crate::eth::pool::{MemoryTxPool, PoolLimits};
use crate::eth::state::MemoryState;
use crate::keyfile;
use crate::nodedb::RedbNodeDb;
use crate::protocols::ping::Ping;
use crate::rt::{timeout, Runtime, RuntimeKind, Smol, Tokio};
use paxeer_p2p_core::eth::app::ChainReader;
use paxeer_p2p_core::eth::chainspec::known_genesis;
use paxeer_p2p_core::eth::service::{node_filter, EthConfig, EthProtocol};
use paxeer_p2p_core::eth::ChainSpec;
use paxeer_p2p_core::host::Host;
use paxeer_p2p_runtime::host::{RunningHost, Sockets};

/// Where the node key comes from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// `<datadir>/nodekey`, created (mode 0600) on first start.
    DataDir,
    /// A key file (`--nodekey`).
    File(PathBuf),
    /// A hex key (`--nodekeyhex`).
    Hex(String),
}

/// Everything a node needs to start, resolved from flags and the config file.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The data directory.
    pub datadir: PathBuf,
    /// The node key.
    pub key: KeySource,
    /// Name in the client id and logs.
    pub identity: Option<String>,
    /// TCP listen address.
    pub listen: SocketAddr,
    /// Discovery UDP port (`None`: no discovery).
    pub discovery_port: Option<u16>,
    /// Discovery bootnodes.
    pub bootnodes: Vec<Enode>,
    /// Peers kept connected.
    pub static_nodes: Vec<Enode>,
    /// Peers admitted over the limits.
    pub trusted_nodes: Vec<Enode>,
    /// Peer limit.
    pub max_peers: usize,
    /// Pending inbound handshakes limit.
    pub max_pending: usize,
    /// One in `dial_ratio` peers is dialed by us.
    pub dial_ratio: usize,
    /// Bytes all connections together may hold in buffers (the node's memory budget).
    pub memory_budget: usize,
    /// Allowed networks.
    pub netrestrict: Option<Netlist>,
    /// Fixed external IP (`--nat extip:IP`).
    pub ext_ip: Option<IpAddr>,
    /// Which runtime runs the node.
    pub runtime: RuntimeKind,
    /// The chain the eth protocol follows.
    pub chain: ChainSpec,
    /// Network id, when it differs from the chain's.
    pub network_id: Option<u64>,
    /// State dump the transaction pool checks nonces and balances against (`None`: nonces
    /// start at 0, balances unchecked; see [`crate::eth::state`]).
    pub prestate: Option<PathBuf>,
}

impl NodeConfig {
    /// go-ethereum's defaults with the node's data in `datadir`.
    pub fn new(datadir: PathBuf) -> Self {
        let d = PeerManagerConfig::default();
        Self {
            datadir,
            key: KeySource::DataDir,
            identity: None,
            listen: SocketAddr::from(([0, 0, 0, 0], 30303)),
            discovery_port: Some(30303),
            bootnodes: Vec::new(),
            static_nodes: Vec::new(),
            trusted_nodes: Vec::new(),
            max_peers: d.max_peers,
            max_pending: d.max_pending_inbound,
            dial_ratio: d.dial_ratio,
            memory_budget: paxeer_p2p_core::driver::budget::DEFAULT_MEMORY_BUDGET,
            netrestrict: None,
            ext_ip: None,
            runtime: RuntimeKind::Tokio,
            chain: ChainSpec::paxeer_devnet(),
            network_id: None,
            prestate: None,
        }
    }
}

/// The executor nodes run on; one per process, shared by every node of a devnet.
#[derive(Clone, Debug)]
pub enum Rt {
    /// A multi-threaded tokio runtime.
    Tokio(Arc<tokio::runtime::Runtime>),
    /// smol's global executor.
    Smol,
}

impl Rt {
    /// Creates the executor of `kind`.
    pub fn new(kind: RuntimeKind) -> Result<Self, String> {
        match kind {
            RuntimeKind::Tokio => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map(|rt| Rt::Tokio(Arc::new(rt)))
                .map_err(|e| format!("tokio runtime: {e}")),
            RuntimeKind::Smol => Ok(Rt::Smol),
        }
    }
}

/// The host task and the executor it runs on.
struct Task(Rt, RunningHost);

/// A started node.
pub struct RunningNode {
    /// Calls into its host.
    pub host: HostRef,
    /// Its enode URL.
    pub enode: Enode,
    /// The bound TCP address.
    pub tcp_addr: SocketAddr,
    /// The bound UDP address (with discovery).
    pub udp_addr: Option<SocketAddr>,
    /// The client id it announces.
    pub client_id: String,
    /// The `ping/1` protocol's id.
    pub ping: ProtocolId,
    /// The eth protocol's id.
    pub eth: ProtocolId,
    db: RedbNodeDb,
    task: Task,
}

impl std::fmt::Debug for RunningNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningNode")
            .field("enode", &self.enode.to_string())
            .finish_non_exhaustive()
    }
}

/// The client id: `paxeer-p2p/v<version>/<identity>/<os>-<arch>` (identity omitted when
/// not set), as go-ethereum builds `Geth/v1.x/linux-amd64`.
pub fn client_id_for(identity: Option<&str>) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let platform = format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH);
    match identity.filter(|s| !s.is_empty()) {
        Some(name) => format!("paxeer-p2p/v{version}/{name}/{platform}"),
        None => format!("paxeer-p2p/v{version}/{platform}"),
    }
}

fn load_key(dir: &DataDir, src: &KeySource) -> Result<SecretKey, String> {
    match src {
        KeySource::DataDir => dir.node_key(),
        KeySource::File(p) => keyfile::read(p).map_err(|e| e.to_string()),
        KeySource::Hex(h) => keyfile::parse_hex(h).map_err(|e| e.to_string()),
    }
}

/// Starts a node on `rt`: opens its data directory and database, binds its sockets, builds
/// discovery and the host with its protocols, restores bans and static/trusted peers, and
/// starts the host task. `observers` see every host event.
pub fn start_node(
    cfg: &NodeConfig,
    rt: &Rt,
    observers: Vec<Observer>,
) -> Result<RunningNode, String> {
    let dir = DataDir::open(&cfg.datadir)?;
    let key = load_key(&dir, &cfg.key)?;
    let db = RedbNodeDb::open(&dir.nodes_db()).map_err(|e| e.to_string())?;
    let udp = cfg
        .discovery_port
        .map(|p| SocketAddr::new(cfg.listen.ip(), p));
    let bind_err = |e: std::io::Error| format!("bind {}: {e}", cfg.listen);
    // The host task owns the event sink: no lock needed.
    let sockets = Sockets::bind(cfg.listen, udp)
        .map_err(bind_err)?
        .memory_budget(cfg.memory_budget);
    let (tcp_addr, udp_addr) = (sockets.tcp_addr(), sockets.udp_addr());
    let (host, mut sink, ids) = assemble(cfg, key, &dir, &db, tcp_addr, udp_addr, observers)?;
    let on_event = move |h: &Host, ev| sink.handle(h, ev);
    let running = match rt {
        Rt::Tokio(rt) => {
            let _guard = rt.enter();
            sockets.start::<Tokio, _>(host, on_event)
        }
        Rt::Smol => sockets.start::<Smol, _>(host, on_event),
    }
    .map_err(bind_err)?;
    Ok(RunningNode {
        host: HostRef(running.handle()),
        enode: ids.enode,
        tcp_addr,
        udp_addr,
        client_id: ids.client_id,
        ping: ids.ping,
        eth: ids.eth,
        db,
        task: Task(rt.clone(), running),
    })
}

/// What identifies a started node besides its host.
struct NodeIds {
    enode: Enode,
    client_id: String,
    ping: ProtocolId,
    eth: ProtocolId,
}

/// The eth protocol over the embedded chain store and pool in `dir`.
fn eth_protocol(cfg: &NodeConfig, dir: &DataDir) -> Result<EthProtocol, String> {
    let spec = cfg.chain.clone();
    let genesis = spec
        .genesis
        .clone()
        .or_else(|| known_genesis(&spec.genesis_hash));
    let chain = ChainStore::open(&dir.chain_db(), spec.clone(), genesis)?;
    let state = match &cfg.prestate {
        Some(path) => MemoryState::load(path)?,
        None => MemoryState::unknown(),
    };
    let head = chain.head();
    let pool = match chain.header_by_hash(&head.hash) {
        Some(header) => MemoryTxPool::new(spec.clone(), &header, Box::new(state)),
        // No stored head header (an empty store): fork rules from the head's number and
        // time, and no block gas limit to check against until the first block.
        None => MemoryTxPool::with_env(
            spec.clone(),
            PoolEnv {
                chain_id: spec.chain_id,
                forks: Forks::at(&spec, head.number, head.timestamp),
                gas_limit: u64::MAX,
                base_fee: None,
            },
            head.number,
            Box::new(state),
            PoolLimits::default(),
        ),
    };
    let mut eth_cfg = EthConfig::new(spec);
    if let Some(id) = cfg.network_id {
        eth_cfg.network_id = id;
    }
    Ok(EthProtocol::new(
        eth_cfg,
        Box::new(chain),
        Box::new(pool),
        paxeer_p2p_core::driver::os_seed(),
    ))
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    cfg: &NodeConfig,
    key: SecretKey,
    dir: &DataDir,
    db: &RedbNodeDb,
    tcp_addr: SocketAddr,
    udp_addr: Option<SocketAddr>,
    observers: Vec<Observer>,
) -> Result<(paxeer_p2p_core::host::Host, EventSink, NodeIds), String> {
    let now = Instant::now();
    let unix = unix_now();
    let clock = WallClock {
        at: now,
        unix_secs: unix.as_secs(),
    };
    let client_id = client_id_for(cfg.identity.as_deref());
    let mut session = SessionConfig::new(key, client_id.clone(), Vec::new());
    session.listen_port = tcp_addr.port();
    let peers = PeerManagerConfig {
        max_peers: cfg.max_peers,
        max_pending_inbound: cfg.max_pending,
        dial_ratio: cfg.dial_ratio,
        netrestrict: cfg.netrestrict.clone(),
        // Without discovery only static peers are dialed; every other slot goes to inbound
        // peers, as go-ethereum's `maxDialedConns` is 0 with --nodiscover.
        no_dial: udp_addr.is_none(),
        ..PeerManagerConfig::default()
    };
    let host_cfg = HostConfig {
        peers,
        ..HostConfig::default()
    };
    let mut builder = HostBuilder::new(session, host_cfg);
    let eth = builder
        .protocol(Box::new(eth_protocol(cfg, dir)?))
        .map_err(|e| e.to_string())?;
    let ping = builder
        .protocol(Box::new(Ping::new()))
        .map_err(|e| e.to_string())?;
    // Discovered nodes whose ENR announces an incompatible eth fork id are not dialed.
    builder.node_filter(Box::new(node_filter(&cfg.chain)));
    if let Some(udp) = udp_addr {
        let setup = DiscSetup {
            key,
            tcp_port: tcp_addr.port(),
            ext_ip: cfg.ext_ip,
            bootnodes: cfg.bootnodes.iter().map(record_of).collect(),
            netrestrict: cfg.netrestrict.clone(),
            db: Box::new(db.clone()) as Box<dyn NodeDb>,
        };
        builder.discovery(setup.build(udp));
    }
    let seed = paxeer_p2p_core::driver::os_seed();
    let mut host = builder.build(now, clock, seed);
    let restored = host.restore_bans(now, db.bans());
    if restored > 0 {
        tracing::info!(restored, "bans restored from the node database");
    }
    for e in &cfg.static_nodes {
        host.add_static(now, e.id, SocketAddr::new(e.ip, e.tcp_port))
            .map_err(|err| format!("static node {e}: {err}"))?;
    }
    for e in &cfg.trusted_nodes {
        host.add_trusted(now, e.id)
            .map_err(|err| format!("trusted node {e}: {err}"))?;
    }
    let ip = cfg.ext_ip.unwrap_or(match tcp_addr.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    });
    let enode = Enode {
        id: peer_id_of(&key),
        ip,
        tcp_port: tcp_addr.port(),
        udp_port: udp_addr.map_or(tcp_addr.port(), |u| u.port()),
    };
    let name = cfg.identity.clone().unwrap_or_else(|| "node".into());
    let sink = EventSink {
        name,
        db: Some(db.clone()),
        observers,
    };
    let ids = NodeIds {
        enode,
        client_id,
        ping,
        eth,
    };
    Ok((host, sink, ids))
}

/// How long a graceful shutdown may take before the node is abandoned.
pub const SHUTDOWN_LIMIT: Duration = Duration::from_secs(10);

impl RunningNode {
    /// Graceful shutdown: Disconnect(client quitting) to every peer, then waits for the host
    /// task and flushes the node database.
    pub fn shutdown(self) {
        let _ = self.host.call(|d, now| d.host_mut().shutdown(now));
        let Task(rt, running) = self.task;
        let _ = match rt {
            Rt::Tokio(rt) => rt.block_on(timeout::<Tokio, _>(SHUTDOWN_LIMIT, running.join())),
            Rt::Smol => Smol::block_on(timeout::<Smol, _>(SHUTDOWN_LIMIT, running.join())),
        };
        let mut db = self.db;
        db.flush();
    }
}

/// A fresh random secp256k1 key (for signing test and traffic transactions).
pub fn test_key() -> SecretKey {
    keyfile::generate()
}
