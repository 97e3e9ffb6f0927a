//! The `--config` TOML file. Every key is optional; unknown keys and sections are errors so a
//! typo does not silently fall back to a default. `node/config.example.toml` documents each key.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;
use crate::logging::LogFormat;

/// The largest config file read (64 KiB; a real one is a few hundred bytes).
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    /// `[node]`: identity, key, data directory, runtime, chain.
    pub node: NodeSection,
    /// `[p2p]`: listening, peers, discovery.
    pub p2p: P2pSection,
    /// `[metrics]`: the Prometheus endpoint.
    pub metrics: MetricsSection,
    /// `[http]`: the admin JSON-RPC server.
    pub http: HttpSection,
    /// `[log]`: verbosity and format.
    pub log: LogSection,
}

/// `[node]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeSection {
    /// As `--datadir`.
    pub datadir: Option<PathBuf>,
    /// As `--identity`.
    pub identity: Option<String>,
    /// As `--nodekey` (a file; the key itself is never read from the config file).
    pub nodekey: Option<PathBuf>,
    /// As `--runtime` (`"tokio"` or `"smol"`).
    pub runtime: Option<String>,
    /// As `--networkid`.
    pub network_id: Option<u64>,
    /// As `--chain`.
    pub chain: Option<String>,
    /// As `--prestate`.
    pub prestate: Option<PathBuf>,
}

/// `[p2p]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct P2pSection {
    /// As `--port`.
    pub port: Option<u16>,
    /// As `--discovery.port`.
    pub discovery_port: Option<u16>,
    /// As `--maxpeers`.
    pub max_peers: Option<usize>,
    /// As `--maxpendpeers`.
    pub max_pending_peers: Option<usize>,
    /// As `--memory-budget` (MiB).
    pub memory_budget: Option<usize>,
    /// As `--dialratio`.
    pub dial_ratio: Option<usize>,
    /// As `--nodiscover`.
    pub no_discovery: Option<bool>,
    /// As `--bootnodes`, one enode URL per entry.
    pub bootnodes: Option<Vec<String>>,
    /// Enode URLs to keep connected (`--static-nodes FILE` replaces this list).
    pub static_nodes: Option<Vec<String>>,
    /// Enode URLs always admitted (`--trusted-nodes FILE` replaces this list).
    pub trusted_nodes: Option<Vec<String>>,
    /// As `--netrestrict`, one CIDR per entry.
    pub netrestrict: Option<Vec<String>>,
    /// As `--nat`.
    pub nat: Option<String>,
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    /// As `--metrics`.
    pub enabled: Option<bool>,
    /// As `--metrics.addr`.
    pub addr: Option<IpAddr>,
    /// As `--metrics.port`.
    pub port: Option<u16>,
}

/// `[http]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSection {
    /// As `--http`.
    pub enabled: Option<bool>,
    /// As `--http.addr`.
    pub addr: Option<IpAddr>,
    /// As `--http.port`.
    pub port: Option<u16>,
    /// As `--http.allow-nonloopback`; covers the metrics address too.
    pub allow_nonloopback: Option<bool>,
}

/// `[log]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    /// As `--verbosity` (0–5).
    pub verbosity: Option<u8>,
    /// As `--log.format` (`"text"` or `"json"`).
    pub format: Option<LogFormat>,
}

/// Parses config file text. Pure (no I/O), total on any input; values are checked later by
/// [`Settings::resolve`](super::Settings::resolve).
pub fn parse_config_toml(text: &str) -> Result<FileConfig, ConfigError> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: "<input>".into(),
            max: MAX_CONFIG_BYTES,
        });
    }
    toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))
}
