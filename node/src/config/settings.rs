//! [`Settings`]: every daemon value resolved (flag, else file, else default) and checked.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use clap::ValueEnum;
use paxeer_p2p_core::enode::Enode;
use paxeer_p2p_core::netutil::Netlist;
use secp256k1::SecretKey;

use super::{ConfigError, FileConfig, RunArgs};
use crate::enode_list;
use crate::logging::{LogFormat, DEFAULT_VERBOSITY, MAX_VERBOSITY};
use crate::rt::RuntimeKind;

/// Default RLPx listening port (go-ethereum's).
pub const DEFAULT_PORT: u16 = 30303;
/// Default peer limit (go-ethereum's `--maxpeers`).
pub const DEFAULT_MAX_PEERS: usize = 50;
/// Default limit of connections still in the handshake (go-ethereum's `--maxpendpeers`).
pub const DEFAULT_MAX_PENDING_PEERS: usize = 50;
/// Default memory budget of all connections, in MiB (see `--memory-budget`).
pub const DEFAULT_MEMORY_BUDGET_MIB: usize =
    paxeer_p2p_core::driver::budget::DEFAULT_MEMORY_BUDGET >> 20;
/// Bounds of `--memory-budget`, in MiB.
pub const MEMORY_BUDGET_MIB_RANGE: (usize, usize) = (1, 64 * 1024);
/// Default dial ratio: one slot in three is outbound (go-ethereum's `defaultDialRatio`).
pub const DEFAULT_DIAL_RATIO: usize = 3;
/// Default metrics port (go-ethereum's `--metrics.port`).
pub const DEFAULT_METRICS_PORT: u16 = 6060;
/// Default admin HTTP port (go-ethereum's `--http.port`).
pub const DEFAULT_HTTP_PORT: u16 = 8545;
/// Default address of the metrics and admin servers.
pub const DEFAULT_LOCAL_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Upper bound of `--maxpeers` and `--maxpendpeers`: per-peer state is bounded, but the
/// product must stay within a machine's memory and file descriptors.
pub const MAX_PEERS_LIMIT: usize = 10_000;
/// Upper bound of `--dialratio`.
pub const MAX_DIAL_RATIO: usize = 1_000;
/// Longest `--identity`, in bytes (it travels in every Hello).
pub const MAX_IDENTITY_BYTES: usize = 64;
/// Most enode URLs in one list (bootnodes, static, trusted) or CIDRs in `--netrestrict`.
pub const MAX_LIST_ENTRIES: usize = 10_000;

/// Where the node key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum NodeKeySource {
    /// `<datadir>/nodekey`, created on first start; a fresh key each start without a datadir.
    DataDir,
    /// A key file (`--nodekey`), read when the node starts.
    File(PathBuf),
    /// The key given inline (`--nodekeyhex`), already checked.
    Hex(SecretKey),
}

impl fmt::Debug for NodeKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DataDir => f.write_str("DataDir"),
            Self::File(p) => f.debug_tuple("File").field(p).finish(),
            // Never print the secret.
            Self::Hex(_) => f.write_str("Hex(<secret>)"),
        }
    }
}

/// NAT traversal: how the node learns the address it announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nat {
    /// Announce the listening address (and what discovery learns).
    None,
    /// Announce this external IP (`extip:<IP>`).
    ExtIp(IpAddr),
}

impl FromStr for Nat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("none") {
            return Ok(Nat::None);
        }
        match s.split_once(':') {
            Some((kind, ip)) if kind.eq_ignore_ascii_case("extip") => ip
                .parse()
                .map(Nat::ExtIp)
                .map_err(|_| "extip needs an IP address, as extip:203.0.113.7".to_string()),
            _ => Err("want \"none\" or \"extip:<IP>\"".into()),
        }
    }
}

impl fmt::Display for Nat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nat::None => f.write_str("none"),
            Nat::ExtIp(ip) => write!(f, "extip:{ip}"),
        }
    }
}

/// The daemon's settings, every value resolved and validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Data directory; `None` keeps nothing on disk.
    pub datadir: Option<PathBuf>,
    /// Where the node key comes from.
    pub node_key: NodeKeySource,
    /// Custom node name for the client id.
    pub identity: Option<String>,
    /// The async runtime.
    pub runtime: RuntimeKind,
    /// Network id; `None` leaves it to the chain.
    pub network_id: Option<u64>,
    /// Chain name, uninterpreted for now.
    pub chain: Option<String>,
    /// State dump for the transaction pool (`--prestate`).
    pub prestate: Option<PathBuf>,
    /// RLPx TCP listening port (0: any free port).
    pub port: u16,
    /// Discovery UDP port (0: any free port).
    pub discovery_port: u16,
    /// Whether discovery runs.
    pub discovery: bool,
    /// Peer limit.
    pub max_peers: usize,
    /// Limit of connections in the handshake phase.
    pub max_pending_peers: usize,
    /// One in `dial_ratio` peer slots is outbound.
    pub dial_ratio: usize,
    /// Bytes all connections together may hold in buffers.
    pub memory_budget: usize,
    /// Discovery bootstrap nodes.
    pub bootnodes: Vec<Enode>,
    /// Nodes kept connected.
    pub static_nodes: Vec<Enode>,
    /// Nodes always admitted.
    pub trusted_nodes: Vec<Enode>,
    /// Only these networks are contacted; `None`: no restriction.
    pub netrestrict: Option<Netlist>,
    /// NAT traversal.
    pub nat: Nat,
    /// Metrics endpoint address when enabled.
    pub metrics: Option<SocketAddr>,
    /// Admin JSON-RPC address when enabled.
    pub http: Option<SocketAddr>,
    /// Whether the operator allowed non-loopback metrics/admin addresses.
    pub allow_nonloopback: bool,
    /// go-ethereum log verbosity, 0–5.
    pub verbosity: u8,
    /// Log line format.
    pub log_format: LogFormat,
}

fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
}

fn in_range(key: &'static str, value: usize, min: usize, max: usize) -> Result<usize, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::OutOfRange {
            key,
            value: value as u64,
            min: min as u64,
            max: max as u64,
        })
    }
}

fn enodes(key: &'static str, entries: &[String]) -> Result<Vec<Enode>, ConfigError> {
    if entries.len() > MAX_LIST_ENTRIES {
        return Err(ConfigError::Invalid {
            key,
            reason: format!("more than {MAX_LIST_ENTRIES} entries"),
        });
    }
    enode_list::parse_enode_strings(entries).map_err(|source| ConfigError::Enodes { key, source })
}

fn enode_file(key: &'static str, path: &std::path::Path) -> Result<Vec<Enode>, ConfigError> {
    enode_list::read_enode_list(path).map_err(|source| ConfigError::Enodes { key, source })
}

fn netrestrict(
    flag: Option<&str>,
    file: Option<&[String]>,
) -> Result<Option<Netlist>, ConfigError> {
    let invalid = |e: paxeer_p2p_core::netutil::NetlistError| ConfigError::Invalid {
        key: "--netrestrict ([p2p] netrestrict)",
        reason: e.to_string(),
    };
    let list = match (flag, file) {
        (Some(s), _) => Netlist::parse(s).map_err(invalid)?,
        (None, Some(entries)) => {
            let mut list = Netlist::default();
            for entry in entries {
                for net in Netlist::parse(entry).map_err(invalid)?.networks() {
                    list.push(*net);
                }
            }
            list
        }
        (None, None) => return Ok(None),
    };
    if list.len() > MAX_LIST_ENTRIES {
        return Err(ConfigError::Invalid {
            key: "--netrestrict ([p2p] netrestrict)",
            reason: format!("more than {MAX_LIST_ENTRIES} networks"),
        });
    }
    Ok(Some(list))
}

fn identity(s: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(s) = s else { return Ok(None) };
    let key = "--identity ([node] identity)";
    if s.len() > MAX_IDENTITY_BYTES {
        return Err(ConfigError::Invalid {
            key,
            reason: format!("longer than {MAX_IDENTITY_BYTES} bytes"),
        });
    }
    if s.chars().any(|c| c.is_control() || c == '/') {
        return Err(ConfigError::Invalid {
            key,
            reason: "control characters and '/' are not allowed".into(),
        });
    }
    Ok(if s.is_empty() { None } else { Some(s) })
}

/// The loopback rule: an unauthenticated admin or metrics server binds to loopback unless
/// the operator opted in.
fn local_service(
    service: &'static str,
    enabled: bool,
    addr: IpAddr,
    port: u16,
    allow_nonloopback: bool,
) -> Result<Option<SocketAddr>, ConfigError> {
    if !enabled {
        return Ok(None);
    }
    if !addr.to_canonical().is_loopback() && !allow_nonloopback {
        return Err(ConfigError::NonLoopback { service, addr });
    }
    Ok(Some(SocketAddr::new(addr, port)))
}

/// Two TCP listeners on one port collide when either binds every address or both bind the
/// same one (port 0 picks a free port, so it never collides).
fn collides(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() != 0
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

impl Settings {
    /// Resolves settings from the command line over a parsed config file over defaults, and
    /// validates them. Reads only the files the arguments name (`--static-nodes`,
    /// `--trusted-nodes`); with neither it does no I/O, so fuzzing can drive it.
    pub fn resolve(args: &RunArgs, file: &FileConfig) -> Result<Settings, ConfigError> {
        let (node, p2p) = (&file.node, &file.p2p);

        if args.nodekey.is_some() && args.nodekeyhex.is_some() {
            return Err(ConfigError::NodeKeyConflict);
        }
        let node_key = match (&args.nodekeyhex, &args.nodekey, &node.nodekey) {
            (Some(hex), _, _) => crate::keyfile::parse_hex(hex)
                .map(NodeKeySource::Hex)
                .map_err(|_| ConfigError::Invalid {
                    key: "--nodekeyhex",
                    reason: "want 64 hex characters of a valid secp256k1 key".into(),
                })?,
            (None, Some(path), _) | (None, None, Some(path)) => NodeKeySource::File(path.clone()),
            (None, None, None) => NodeKeySource::DataDir,
        };

        let runtime = match (args.runtime, &node.runtime) {
            (Some(r), _) => r,
            (None, Some(s)) => {
                RuntimeKind::from_str(s, false).map_err(|_| ConfigError::Invalid {
                    key: "[node] runtime",
                    reason: "want \"tokio\" or \"smol\"".into(),
                })?
            }
            (None, None) => RuntimeKind::Tokio,
        };

        let port = pick(args.port, p2p.port, DEFAULT_PORT);
        let discovery_port = pick(args.discovery_port, p2p.discovery_port, port);
        let max_peers = in_range(
            "--maxpeers ([p2p] max_peers)",
            pick(args.maxpeers, p2p.max_peers, DEFAULT_MAX_PEERS),
            0,
            MAX_PEERS_LIMIT,
        )?;
        let memory_budget = in_range(
            "--memory-budget ([p2p] memory_budget)",
            pick(
                args.memory_budget,
                p2p.memory_budget,
                DEFAULT_MEMORY_BUDGET_MIB,
            ),
            MEMORY_BUDGET_MIB_RANGE.0,
            MEMORY_BUDGET_MIB_RANGE.1,
        )? << 20;
        let max_pending_peers = in_range(
            "--maxpendpeers ([p2p] max_pending_peers)",
            pick(
                args.maxpendpeers,
                p2p.max_pending_peers,
                DEFAULT_MAX_PENDING_PEERS,
            ),
            1,
            MAX_PEERS_LIMIT,
        )?;
        let dial_ratio = in_range(
            "--dialratio ([p2p] dial_ratio)",
            pick(args.dialratio, p2p.dial_ratio, DEFAULT_DIAL_RATIO),
            1,
            MAX_DIAL_RATIO,
        )?;
        let verbosity = pick(args.verbosity, file.log.verbosity, DEFAULT_VERBOSITY);
        in_range(
            "--verbosity ([log] verbosity)",
            usize::from(verbosity),
            0,
            usize::from(MAX_VERBOSITY),
        )?;

        let bootnodes = match (&args.bootnodes, &p2p.bootnodes) {
            (Some(s), _) => {
                let entries: Vec<String> = s
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(String::from)
                    .collect();
                enodes("--bootnodes", &entries)?
            }
            (None, Some(list)) => enodes("[p2p] bootnodes", list)?,
            (None, None) => Vec::new(),
        };
        let static_nodes = match (&args.static_nodes, &p2p.static_nodes) {
            (Some(path), _) => enode_file("--static-nodes", path)?,
            (None, Some(list)) => enodes("[p2p] static_nodes", list)?,
            (None, None) => Vec::new(),
        };
        let trusted_nodes = match (&args.trusted_nodes, &p2p.trusted_nodes) {
            (Some(path), _) => enode_file("--trusted-nodes", path)?,
            (None, Some(list)) => enodes("[p2p] trusted_nodes", list)?,
            (None, None) => Vec::new(),
        };
        let netrestrict = netrestrict(args.netrestrict.as_deref(), p2p.netrestrict.as_deref())?;
        let nat = match args.nat.as_deref().or(p2p.nat.as_deref()) {
            Some(s) => s.parse().map_err(|reason| ConfigError::Invalid {
                key: "--nat ([p2p] nat)",
                reason,
            })?,
            None => Nat::None,
        };

        let allow_nonloopback =
            args.http_allow_nonloopback || file.http.allow_nonloopback.unwrap_or(false);
        let http = local_service(
            "http",
            args.http || file.http.enabled.unwrap_or(false),
            pick(args.http_addr, file.http.addr, DEFAULT_LOCAL_ADDR),
            pick(args.http_port, file.http.port, DEFAULT_HTTP_PORT),
            allow_nonloopback,
        )?;
        let metrics = local_service(
            "metrics",
            args.metrics || file.metrics.enabled.unwrap_or(false),
            pick(args.metrics_addr, file.metrics.addr, DEFAULT_LOCAL_ADDR),
            pick(args.metrics_port, file.metrics.port, DEFAULT_METRICS_PORT),
            allow_nonloopback,
        )?;
        let p2p_listen = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
        let listeners = [
            ("--port", Some(p2p_listen)),
            ("--http.port", http),
            ("--metrics.port", metrics),
        ];
        for (i, (a_name, a)) in listeners.iter().enumerate() {
            for (b_name, b) in listeners.iter().skip(i + 1) {
                if let (Some(a), Some(b)) = (a, b) {
                    if collides(*a, *b) {
                        return Err(ConfigError::PortConflict {
                            a: a_name,
                            b: b_name,
                            port: a.port(),
                        });
                    }
                }
            }
        }

        Ok(Settings {
            datadir: args.datadir.clone().or_else(|| node.datadir.clone()),
            node_key,
            identity: identity(args.identity.clone().or_else(|| node.identity.clone()))?,
            runtime,
            network_id: args.networkid.or(node.network_id),
            chain: args.chain.clone().or_else(|| node.chain.clone()),
            prestate: args.prestate.clone().or_else(|| node.prestate.clone()),
            port,
            discovery_port,
            discovery: !(args.nodiscover || p2p.no_discovery.unwrap_or(false)),
            max_peers,
            max_pending_peers,
            dial_ratio,
            memory_budget,
            bootnodes,
            static_nodes,
            trusted_nodes,
            netrestrict,
            nat,
            metrics,
            http,
            allow_nonloopback,
            verbosity,
            log_format: args.log_format.or(file.log.format).unwrap_or_default(),
        })
    }

    /// The client id announced in Hello: `paxeer-p2p/v<version>[/<identity>]/<os>-<arch>`.
    pub fn client_id(&self) -> String {
        crate::daemon::client_id_for(self.identity.as_deref())
    }
}
