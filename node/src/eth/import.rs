//! Importing a block file into the chain store (`paxeer-p2p import`): every block is
//! decoded and checked against its parent and its header with the rules that need no
//! execution ([`paxeer_p2p_core::eth::header_rules`]), then stored in batches of one redb
//! transaction each. The first invalid block stops the import with an error naming its
//! number and the rule; the valid blocks before it are stored, nothing of it is.

use std::time::{Duration, Instant};

use paxeer_p2p_core::eth::app::ChainReader;
use paxeer_p2p_core::eth::block::{Block, Header};
use paxeer_p2p_core::eth::header_rules::{check_block_size, check_body, check_header};
use paxeer_p2p_core::eth::B256;

use crate::eth::chain::ChainStore;
use crate::eth::import_file::BlockFileReader;

/// Blocks stored per write transaction (go-ethereum `cmd/utils/cmd.go` `importBatchSize`).
pub const IMPORT_BATCH_BLOCKS: usize = 2500;

/// Interval between progress reports.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What an import did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportSummary {
    /// Blocks stored by this import.
    pub imported: u64,
    /// Blocks of the file the store already had.
    pub known: u64,
    /// Number of the store's head afterwards.
    pub head_number: u64,
    /// Hash of the store's head afterwards.
    pub head_hash: B256,
}

/// A progress report: blocks read so far and the time since the start.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Blocks read (imported or known).
    pub blocks: u64,
    /// Number of the last block read.
    pub number: u64,
    /// Time since the import started.
    pub elapsed: Duration,
}

/// Imports every block of `reader` into `store`, calling `progress` every few seconds.
pub fn import_blocks(
    store: &mut ChainStore,
    reader: &mut BlockFileReader,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ImportSummary, String> {
    let config = store.spec().config.clone().ok_or_else(|| {
        format!(
            "chain {} has no fork rules to check blocks with; pass its genesis.json with --chain",
            store.spec().name
        )
    })?;
    let start = Instant::now();
    let mut last_report = start;
    let mut pending: Vec<Block> = Vec::with_capacity(IMPORT_BATCH_BLOCKS);
    let (mut imported, mut known, mut read) = (0u64, 0u64, 0u64);
    let mut last_number = store.head().number;
    loop {
        let raw = match reader.next_block() {
            Ok(Some(raw)) => raw,
            Ok(None) => break,
            Err(e) => {
                let err = format!("after block {last_number}: {e}");
                return Err(flush_then(store, &mut pending, &mut imported, err));
            }
        };
        let block = match Block::decode(&raw) {
            Ok(b) => b,
            Err(e) => {
                let err = format!(
                    "block {} of the file (after block {last_number}): undecodable: {e}",
                    read + 1
                );
                return Err(flush_then(store, &mut pending, &mut imported, err));
            }
        };
        read += 1;
        let number = block.header.number;
        last_number = number;
        let hash = block.header.hash();
        let in_store = pending.is_empty() && store.header_by_hash(&hash).is_some();
        if in_store {
            known += 1;
        } else {
            let parent = parent_of(store, &pending, &block.header);
            let checked = match parent {
                None => Err(format!(
                    "unknown parent 0x{}",
                    hex::encode(block.header.parent_hash)
                )),
                Some(parent) => check_header(&config, &parent, &block.header)
                    .map_err(|e| format!("header: {e}"))
                    .and_then(|()| {
                        check_body(&block.header, &block.body).map_err(|e| format!("body: {e}"))
                    })
                    .and_then(|()| {
                        check_block_size(&config, &block.header, raw.len())
                            .map_err(|e| format!("size: {e}"))
                    }),
            };
            if let Err(rule) = checked {
                let err = format!("invalid block {number} (0x{}): {rule}", hex::encode(hash));
                return Err(flush_then(store, &mut pending, &mut imported, err));
            }
            pending.push(block);
            if pending.len() >= IMPORT_BATCH_BLOCKS {
                flush(store, &mut pending, &mut imported)?;
            }
        }
        if last_report.elapsed() >= PROGRESS_EVERY {
            last_report = Instant::now();
            progress(&Progress {
                blocks: read,
                number,
                elapsed: start.elapsed(),
            });
        }
    }
    flush(store, &mut pending, &mut imported)?;
    let head = store.head();
    Ok(ImportSummary {
        imported,
        known,
        head_number: head.number,
        head_hash: head.hash,
    })
}

/// The parent of `header`: the last pending block, or a stored header.
fn parent_of(store: &ChainStore, pending: &[Block], header: &Header) -> Option<Header> {
    match pending.last() {
        Some(p) if p.header.hash() == header.parent_hash => Some(p.header.clone()),
        Some(_) => None,
        None => store.header_by_hash(&header.parent_hash),
    }
}

/// Stores the pending blocks.
fn flush(
    store: &mut ChainStore,
    pending: &mut Vec<Block>,
    imported: &mut u64,
) -> Result<(), String> {
    store.import_checked_batch(pending)?;
    *imported += pending.len() as u64;
    pending.clear();
    Ok(())
}

/// Stores the valid blocks read before an error, then returns the error (with a storage
/// failure added if that failed too).
fn flush_then(
    store: &mut ChainStore,
    pending: &mut Vec<Block>,
    imported: &mut u64,
    err: String,
) -> String {
    match flush(store, pending, imported) {
        Ok(()) => format!("{err} ({imported} blocks before it imported)"),
        Err(e) => format!("{err}; and storing the blocks before it failed: {e}"),
    }
}
