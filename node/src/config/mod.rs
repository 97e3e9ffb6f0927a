//! Daemon settings for `paxeer-p2p run`: the command line ([`RunArgs`]), the optional TOML
//! file ([`FileConfig`], see `node/config.example.toml`) and the merge of the two over
//! defaults into a checked [`Settings`]. Precedence: flag, then file, then default.

mod args;
mod file;
mod settings;

use std::net::IpAddr;
use std::path::Path;

pub use args::RunArgs;
pub use file::{
    parse_config_toml, FileConfig, HttpSection, LogSection, MetricsSection, NodeSection,
    P2pSection, MAX_CONFIG_BYTES,
};
pub use settings::{
    Nat, NodeKeySource, Settings, DEFAULT_DIAL_RATIO, DEFAULT_HTTP_PORT, DEFAULT_LOCAL_ADDR,
    DEFAULT_MAX_PEERS, DEFAULT_MAX_PENDING_PEERS, DEFAULT_METRICS_PORT, DEFAULT_PORT,
    MAX_DIAL_RATIO, MAX_IDENTITY_BYTES, MAX_LIST_ENTRIES, MAX_PEERS_LIMIT,
};

use crate::enode_list::EnodeListError;

/// Why the settings could not be built. Every message names the flag (and file key) to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The config file is larger than [`MAX_CONFIG_BYTES`].
    #[error("{path}: config file larger than {max} bytes")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        max: usize,
    },
    /// The config file is not valid TOML or has unknown or mistyped keys.
    #[error("config file: {0}")]
    Toml(String),
    /// A number outside its allowed range.
    #[error("{key}: {value} is out of range {min}..={max}")]
    OutOfRange {
        /// Flag and file key.
        key: &'static str,
        /// The value given.
        value: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// A value that does not parse or is not allowed.
    #[error("{key}: {reason}")]
    Invalid {
        /// Flag and file key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A list of enode URLs with bad entries.
    #[error("{key}: {source}")]
    Enodes {
        /// Flag or file key.
        key: &'static str,
        /// The entries at fault.
        source: EnodeListError,
    },
    /// Both `--nodekey` and `--nodekeyhex` were given.
    #[error("--nodekey and --nodekeyhex are mutually exclusive")]
    NodeKeyConflict,
    /// Two listeners on one TCP port.
    #[error("{a} and {b} both use TCP port {port}")]
    PortConflict {
        /// First flag.
        a: &'static str,
        /// Second flag.
        b: &'static str,
        /// The port.
        port: u16,
    },
    /// The admin or metrics server would listen beyond loopback without the opt-in.
    #[error(
        "--{service}.addr {addr} is not a loopback address and the {service} server has no \
         authentication; pass --http.allow-nonloopback (or set allow_nonloopback = true in \
         [http]) to serve it there anyway"
    )]
    NonLoopback {
        /// `"http"` or `"metrics"`.
        service: &'static str,
        /// The address given.
        addr: IpAddr,
    },
}

/// Reads the `--config` file (when given) and resolves [`Settings`] from it and `args`.
pub fn load(args: &RunArgs) -> Result<Settings, ConfigError> {
    let file = match &args.config {
        Some(path) => read_config_file(path)?,
        None => FileConfig::default(),
    };
    Settings::resolve(args, &file)
}

/// Reads and parses a config file of at most [`MAX_CONFIG_BYTES`].
pub fn read_config_file(path: &Path) -> Result<FileConfig, ConfigError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let read_err = |source| ConfigError::Read {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: shown,
            max: MAX_CONFIG_BYTES,
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| ConfigError::Read {
        path: shown.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"),
    })?;
    parse_config_toml(&text).map_err(|e| match e {
        ConfigError::Toml(msg) => ConfigError::Toml(format!("{shown}: {msg}")),
        other => other,
    })
}

#[cfg(test)]
mod tests;
