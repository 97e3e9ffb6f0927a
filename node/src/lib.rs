//! `paxeer-p2p`: the command-line front of the paxeer-p2p networking stack.
//!
//! The binary's whole program lives in this library so that fuzz targets and tests can reach
//! the parsers it holds; `src/main.rs` only calls [`main`].

pub mod admin;
pub mod config;
pub mod enode_list;
pub mod logging;
pub mod metrics;

mod cmd_devnet;
mod cmd_discv4;
mod cmd_import;
mod cmd_key;
mod cmd_rlpx;
mod cmd_run;
pub mod daemon;
mod datadir;
mod devnet_traffic;
pub mod eth;
mod keyfile;
mod nodedb;
mod output;
pub mod protocols;
pub mod rt;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use output::Output;

pub use rt::RuntimeKind;

/// Peer-to-peer networking for the Paxeer chain (devp2p: RLPx, discv4, eth).
#[derive(Parser, Debug)]
#[command(name = "paxeer-p2p", version, about)]
struct Cli {
    /// One JSON object per line instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Node key management.
    #[command(subcommand)]
    Key(cmd_key::KeyCmd),
    /// RLPx transport tools.
    #[command(subcommand)]
    Rlpx(cmd_rlpx::RlpxCmd),
    /// discv4 node discovery tools.
    #[command(subcommand)]
    Discv4(cmd_discv4::Discv4Cmd),
    /// Node record tools.
    #[command(subcommand)]
    Enr(cmd_discv4::EnrCmd),
    /// Runs a local network on loopback and reports what happened.
    Devnet(cmd_devnet::DevnetArgs),
    /// Runs the node (the daemon): peers, discovery, admin API, metrics.
    Run(Box<config::RunArgs>),
    /// Imports blocks exported by `geth export` into a data directory's chain store,
    /// checking the header chain and every root that needs no execution.
    Import(cmd_import::ImportArgs),
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Commands other than `run` log warnings and errors as text, unless RUST_LOG says otherwise.
    if !matches!(cli.cmd, Cmd::Run(_)) {
        logging::init_logging(2, logging::LogFormat::Text);
    }
    let out = Output { json: cli.json };
    let result = match cli.cmd {
        Cmd::Key(c) => cmd_key::run(c, out),
        Cmd::Rlpx(c) => cmd_rlpx::run(c, out),
        Cmd::Discv4(c) => cmd_discv4::run(c, out),
        Cmd::Enr(c) => cmd_discv4::run_enr(c, out),
        Cmd::Devnet(a) => cmd_devnet::run(a, out),
        Cmd::Run(a) => cmd_run::run(*a, out),
        Cmd::Import(a) => cmd_import::run(a, out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            out.emit("error", serde_json::json!({ "message": msg }));
            ExitCode::FAILURE
        }
    }
}

/// The client id we announce: `paxeer-p2p/v<version>/<os>-<arch>`.
pub fn client_id() -> String {
    format!(
        "paxeer-p2p/v{}/{}-{}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}
