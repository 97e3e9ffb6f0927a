//! `key generate` and `key inspect`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use std::net::Ipv4Addr;

use paxeer_p2p_core::crypto::keys::peer_id_of;
use paxeer_p2p_core::enr::Enr;
use serde_json::json;

use crate::keyfile;
use crate::output::Output;

/// The devp2p default port (TCP and UDP), used in the records `inspect` prints.
const DEFAULT_PORT: u16 = 30303;

/// Key subcommands.
#[derive(Subcommand, Debug)]
pub enum KeyCmd {
    /// Generates a node key; writes it to FILE (mode 0600) or prints it.
    Generate {
        /// Where to write the key (refuses to overwrite).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Prints the node id and enode of a key.
    Inspect(KeySource),
}

/// Where a node key comes from.
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct KeySource {
    /// A key file (64 hex characters).
    #[arg(long)]
    pub nodekey: Option<PathBuf>,
    /// The key as hex.
    #[arg(long)]
    pub nodekeyhex: Option<String>,
}

/// Where a node key comes from, when a fresh key is acceptable.
#[derive(Args, Debug, Clone, Default)]
pub struct OptionalKeySource {
    /// A key file (64 hex characters).
    #[arg(long, conflicts_with = "nodekeyhex")]
    pub nodekey: Option<PathBuf>,
    /// The key as hex.
    #[arg(long)]
    pub nodekeyhex: Option<String>,
}

impl OptionalKeySource {
    /// The key given, or a fresh one.
    pub fn load(&self) -> Result<secp256k1::SecretKey, String> {
        Ok(self.explicit()?.unwrap_or_else(keyfile::generate))
    }

    /// The key given by `--nodekey` or `--nodekeyhex`, if any: an explicit key wins over a
    /// data directory's key everywhere, as it does in `run`.
    pub fn explicit(&self) -> Result<Option<secp256k1::SecretKey>, String> {
        match (&self.nodekey, &self.nodekeyhex) {
            (Some(p), _) => keyfile::read(p).map(Some).map_err(|e| e.to_string()),
            (None, Some(h)) => keyfile::parse_hex(h).map(Some).map_err(|e| e.to_string()),
            (None, None) => Ok(None),
        }
    }
}

/// Runs a key subcommand.
pub fn run(cmd: KeyCmd, out: Output) -> Result<(), String> {
    match cmd {
        KeyCmd::Generate { out: path } => {
            let key = keyfile::generate();
            let id = peer_id_of(&key);
            match path {
                Some(p) => {
                    keyfile::write(&p, &key).map_err(|e| e.to_string())?;
                    out.emit(
                        "key",
                        json!({ "file": p.display().to_string(), "id": id.to_hex() }),
                    );
                }
                None => out.emit(
                    "key",
                    json!({ "nodekeyhex": hex::encode(key.secret_bytes()), "id": id.to_hex() }),
                ),
            }
            Ok(())
        }
        KeyCmd::Inspect(src) => {
            let key = OptionalKeySource {
                nodekey: src.nodekey,
                nodekeyhex: src.nodekeyhex,
            }
            .load()?;
            let id = peer_id_of(&key);
            // The record this key would announce on the default port of a loopback node.
            let enr = Enr::builder()
                .ip(Ipv4Addr::LOCALHOST.into())
                .tcp(DEFAULT_PORT)
                .udp(DEFAULT_PORT)
                .sign(&key)
                .map_err(|e| e.to_string())?;
            out.emit(
                "key",
                json!({
                    "id": id.to_hex(),
                    "node_id": id.node_id().to_string(),
                    "enode": format!("enode://{}@127.0.0.1:{DEFAULT_PORT}", id.to_hex()),
                    "enr": enr.to_text(),
                }),
            );
            Ok(())
        }
    }
}
