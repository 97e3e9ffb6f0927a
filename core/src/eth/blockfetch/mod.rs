//! The block fetcher and import queue: turns block announcements (NewBlockHashes) and
//! broadcasts (NewBlock) into complete, body-checked blocks handed to the importer in number
//! order. Sans-IO and independent of the eth protocol machine, which drives it.
//!
//! Behaviour follows go-ethereum's pre-merge `eth/fetcher/block_fetcher.go`: wait
//! [`ARRIVE_TIMEOUT`] after an announcement so a broadcast can arrive first, fetch the header
//! from one announcer, then the body (skipped when the header commits to an empty body),
//! retry with another announcer on failure, cap announcements per peer
//! ([`HASH_LIMIT_PER_PEER`]) and queued blocks per peer ([`BLOCK_LIMIT_PER_PEER`]), and keep
//! only blocks between [`MAX_UNCLE_DIST_BLOCKS`] behind and [`MAX_QUEUE_DIST_BLOCKS`] ahead of
//! our head. Unlike go-ethereum, a block is handed over only once its parent is known to the
//! fetcher (our head, a recent import, or a block already handed over), and a block the
//! importer answered `UnknownParent` is retried when its parent is imported.
//!
//! Files (one job each):
//! - `fetcher`: [`BlockFetcher`], its announcement, broadcast and chain inputs, and outputs.
//! - `responses`: header and body answers, matched and checked against what we asked.
//! - `schedule`: timers, request timeouts, batching and retries.
//! - `tracker`: per-hash fetch state, per-peer counts, outstanding requests.
//! - `queue`: the import queue and the known-parent set.
//! - `events`: the bounded event queue.
//! - [`limits`]: timings and caps with their sources.
//! - `types`: [`FetchId`], [`FetchRequest`], [`FetchEvent`], [`FetchFault`], [`DiscardReason`].
//! - `stats`: [`FetchStats`].

mod events;
mod fetcher;
pub mod limits;
mod queue;
mod responses;
mod schedule;
mod stats;
mod tracker;
mod types;

pub use fetcher::BlockFetcher;
pub use limits::{
    ARRIVE_TIMEOUT, BLOCK_LIMIT_PER_PEER, FETCH_TIMEOUT, GATHER_SLACK, HASH_LIMIT_PER_PEER,
    MAX_ANNOUNCERS_PER_HASH, MAX_BODIES_PER_REQUEST, MAX_KNOWN_HASHES, MAX_PENDING_EVENTS,
    MAX_QUEUED_BLOCKS, MAX_QUEUE_DIST_BLOCKS, MAX_TRACKED_HASHES, MAX_UNCLE_DIST_BLOCKS,
    REQUEST_MEMORY,
};
pub use stats::FetchStats;
pub use types::{DiscardReason, FetchEvent, FetchFault, FetchId, FetchRequest};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_chain;
#[cfg(test)]
mod tests;
