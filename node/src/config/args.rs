//! The command line of `paxeer-p2p run`, with go-ethereum's flag names.
//!
//! Every value is an `Option` (or a flag that is `false` when absent) so that
//! [`Settings::resolve`](super::Settings::resolve) can tell "not given" from a default and let
//! the config file fill the gap. A boolean flag can only switch a feature on; to keep it off,
//! leave it out of both the command line and the file.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::logging::LogFormat;
use crate::rt::RuntimeKind;

/// Options of `paxeer-p2p run`. Flags override the `--config` file, which overrides defaults.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct RunArgs {
    /// TOML config file (see node/config.example.toml); flags override its values.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory for the node key and node database (none: a fresh key, nothing kept).
    #[arg(long, value_name = "DIR")]
    pub datadir: Option<PathBuf>,
    /// Node key file (64 hex characters); default: DATADIR/nodekey.
    #[arg(long, value_name = "FILE")]
    pub nodekey: Option<PathBuf>,
    /// Node key as 64 hex characters (visible to other local users; prefer --nodekey).
    #[arg(long, value_name = "HEX")]
    pub nodekeyhex: Option<String>,
    /// Custom node name, announced as paxeer-p2p/IDENTITY/vVERSION/OS-ARCH.
    #[arg(long)]
    pub identity: Option<String>,
    /// Network listening port (TCP) [default: 30303].
    #[arg(long)]
    pub port: Option<u16>,
    /// UDP port for discovery [default: the --port value].
    #[arg(long = "discovery.port", value_name = "PORT")]
    pub discovery_port: Option<u16>,
    /// Maximum number of peers [default: 50].
    #[arg(long)]
    pub maxpeers: Option<usize>,
    /// Maximum number of connections in the handshake phase [default: 50].
    #[arg(long)]
    pub maxpendpeers: Option<usize>,
    /// MiB all connections together may hold in buffers; a peer over its part is not read
    /// while the budget is exceeded [default: 48].
    #[arg(long = "memory-budget", value_name = "MIB")]
    pub memory_budget: Option<usize>,
    /// One in this many peer slots is dialed by us, the rest accept inbound [default: 3].
    #[arg(long)]
    pub dialratio: Option<usize>,
    /// Disables peer discovery (peers come from static nodes and admin_addPeer only).
    #[arg(long)]
    pub nodiscover: bool,
    /// Comma-separated enode URLs for discovery bootstrap ("" for none).
    #[arg(long, value_name = "ENODES")]
    pub bootnodes: Option<String>,
    /// JSON file with an array of enode URLs to keep connected (replaces the config file's list).
    #[arg(long = "static-nodes", value_name = "FILE")]
    pub static_nodes: Option<PathBuf>,
    /// JSON file with an array of enode URLs always admitted (replaces the config file's list).
    #[arg(long = "trusted-nodes", value_name = "FILE")]
    pub trusted_nodes: Option<PathBuf>,
    /// Restricts network communication to the given comma-separated CIDR networks.
    #[arg(long, value_name = "CIDRS")]
    pub netrestrict: Option<String>,
    /// NAT port mapping: "none" or "extip:IP" [default: none].
    #[arg(long, value_name = "none|extip:IP")]
    pub nat: Option<String>,
    /// Network identifier announced in the eth Status message.
    #[arg(long)]
    pub networkid: Option<u64>,
    /// Chain to join: devnet (default), mainnet, sepolia, or the path of a go-ethereum
    /// genesis.json (as `geth init` reads it; network id = its chain id unless --networkid).
    #[arg(long, value_name = "devnet|mainnet|sepolia|GENESIS.json")]
    pub chain: Option<String>,
    /// Account state (nonces, balances) the transaction pool checks against: a
    /// go-ethereum state dump (`geth dump`, headstate.json). Without it nonces start at 0
    /// and balances are not checked.
    #[arg(long, value_name = "FILE")]
    pub prestate: Option<PathBuf>,
    /// Enables the Prometheus metrics endpoint (GET /metrics).
    #[arg(long)]
    pub metrics: bool,
    /// Metrics listening address [default: 127.0.0.1].
    #[arg(long = "metrics.addr", value_name = "IP")]
    pub metrics_addr: Option<IpAddr>,
    /// Metrics listening port [default: 6060].
    #[arg(long = "metrics.port", value_name = "PORT")]
    pub metrics_port: Option<u16>,
    /// Enables the admin JSON-RPC server over HTTP (admin_*, net_*).
    #[arg(long)]
    pub http: bool,
    /// Admin HTTP listening address [default: 127.0.0.1].
    #[arg(long = "http.addr", value_name = "IP")]
    pub http_addr: Option<IpAddr>,
    /// Admin HTTP listening port [default: 8545].
    #[arg(long = "http.port", value_name = "PORT")]
    pub http_port: Option<u16>,
    /// Allows --http.addr and --metrics.addr to be non-loopback addresses. The admin API has no
    /// authentication: anyone who can reach it can add and remove peers.
    #[arg(long = "http.allow-nonloopback")]
    pub http_allow_nonloopback: bool,
    /// Log level: 0 silent, 1 error, 2 warn, 3 info, 4 debug, 5 trace [default: 3].
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=5))]
    pub verbosity: Option<u8>,
    /// Log line format [default: text].
    #[arg(long = "log.format", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Async runtime driving the sockets [default: tokio].
    #[arg(long, value_enum)]
    pub runtime: Option<RuntimeKind>,
}
