//! `paxeer-p2p import`: imports block files in the format `geth export` writes into the
//! chain store of a data directory (see [`crate::eth::import`]).

use std::path::PathBuf;

use paxeer_p2p_core::eth::app::ChainReader;
use serde_json::json;

use crate::datadir::DataDir;
use crate::eth::chain::ChainStore;
use crate::eth::import::{import_blocks, Progress};
use crate::eth::import_file::BlockFileReader;
use crate::eth::spec::load_chain;
use crate::output::Output;

/// Arguments of `import`.
#[derive(clap::Args, Debug, Clone)]
pub struct ImportArgs {
    /// Data directory whose chain store receives the blocks.
    #[arg(long, value_name = "DIR")]
    pub datadir: PathBuf,
    /// Chain of the blocks: devnet (default), mainnet, sepolia, or a go-ethereum genesis.json.
    #[arg(long, value_name = "devnet|mainnet|sepolia|GENESIS.json")]
    pub chain: Option<String>,
    /// Block files (RLP blocks one after another, as `geth export` writes; `.gz` is
    /// decompressed), imported in order.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Runs `import`.
pub fn run(args: ImportArgs, out: Output) -> Result<(), String> {
    let spec = load_chain(args.chain.as_deref())?;
    let dir = DataDir::open(&args.datadir)?;
    let genesis = spec.genesis.clone();
    let mut store = ChainStore::open(&dir.chain_db(), spec, genesis)?;
    for file in &args.files {
        let mut reader = BlockFileReader::open(file)?;
        let mut report = |p: &Progress| {
            let secs = p.elapsed.as_secs_f64().max(1e-3);
            eprintln!(
                "importing {}: {} blocks, at block {}, {:.0} blocks/s",
                file.display(),
                p.blocks,
                p.number,
                p.blocks as f64 / secs
            );
        };
        let summary = import_blocks(&mut store, &mut reader, &mut report)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        if summary.imported == 0 && summary.known > 0 {
            eprintln!(
                "{}: already have {} blocks, nothing imported",
                file.display(),
                summary.known
            );
        }
        out.emit(
            "import",
            json!({
                "file": file.display().to_string(),
                "imported": summary.imported,
                "known": summary.known,
                "head_number": summary.head_number,
                "head_hash": format!("0x{}", hex::encode(summary.head_hash)),
            }),
        );
    }
    let head = store.head();
    out.emit(
        "head",
        json!({
            "number": head.number,
            "hash": format!("0x{}", hex::encode(head.hash)),
        }),
    );
    Ok(())
}
