//! The chain sync's request sizes and memory caps, with where each value comes from.

/// Most headers asked for in one GetBlockHeaders (go-ethereum `eth/downloader`
/// `MaxHeaderFetch`).
pub const MAX_HEADER_FETCH: u64 = 192;
/// Most bodies asked for in one GetBlockBodies (go-ethereum `eth/downloader`
/// `MaxBlockFetch`).
pub const MAX_BLOCK_FETCH: usize = 128;
/// Most blocks' receipts asked for in one GetReceipts (go-ethereum `eth/downloader`
/// `MaxReceiptFetch`).
pub const MAX_RECEIPT_FETCH: usize = 256;
/// Headers are requested at most this many blocks ahead of the import front, which bounds
/// the headers buffered (linked or not) to this count (go-ethereum's downloader keeps up to
/// `blockCacheMaxItems` = 8192 results; a quarter suffices for a single-pass sync).
pub const MAX_HEADERS_AHEAD: u64 = 16 * MAX_HEADER_FETCH;
/// Bodies are requested only for the first this-many linked headers, so at most this many
/// bodies wait for import (each request's bytes are capped by the 10 MiB message limit).
pub const MAX_BODIES_AHEAD: usize = 4 * MAX_BLOCK_FETCH;
/// Blocks whose receipts we lack, held at once; the chain is scanned for more when fewer
/// remain.
pub const MAX_RECEIPTS_WANTED: usize = 4 * MAX_RECEIPT_FETCH;
/// Canonical blocks looked at per scan for missing receipts.
pub const RECEIPT_SCAN_BLOCKS: u64 = 1024;
/// Sync requests in flight to one peer (below the request tracker's 8 per peer, which the
/// transaction fetcher shares).
pub const MAX_REQUESTS_PER_PEER: usize = 4;
/// Sync requests in flight over all peers.
pub const MAX_REQUESTS_TOTAL: usize = 64;
/// Peers a piece of work remembers as having failed it (they are not asked again until
/// their range changes).
pub const MAX_AVOIDED_PEERS: usize = 8;
