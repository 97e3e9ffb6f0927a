//! The fetcher's timings and caps, with where each value comes from. go-ethereum's values are
//! those of `eth/fetcher/block_fetcher.go` (v1.13, the last release with the pre-merge fetcher).

use std::time::Duration;

/// How long after the first announcement of a hash we wait before fetching its header, so
/// that a `NewBlock` broadcast of the same block can arrive first (go-ethereum `arriveTimeout`).
pub const ARRIVE_TIMEOUT: Duration = Duration::from_millis(500);

/// Slack used to batch work: announcements this close to their arrive timeout are fetched
/// together with the one that fired, and body requests are gathered for this long after the
/// first header arrives (go-ethereum `gatherSlack`).
pub const GATHER_SLACK: Duration = Duration::from_millis(100);

/// How long a header or body request may stay unanswered before we retry it with another
/// announcer (go-ethereum `fetchTimeout`).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// How long after sending we still remember a request, so that a late answer is used (or
/// ignored) instead of being mistaken for an unrequested one (go-ethereum waits twice
/// `fetchTimeout` before giving up on the peer).
pub const REQUEST_MEMORY: Duration = Duration::from_secs(10);

/// Farthest a block may be behind our head and still be fetched or queued: uncles are only
/// valid this deep (go-ethereum `maxUncleDist`).
pub const MAX_UNCLE_DIST_BLOCKS: u64 = 7;

/// Farthest a block may be ahead of our head and still be fetched or queued; beyond it the
/// downloader, not the fetcher, should catch up (go-ethereum `maxQueueDist`).
pub const MAX_QUEUE_DIST_BLOCKS: u64 = 32;

/// Most hashes one peer may have outstanding in the fetcher; more is an announcement flood
/// (go-ethereum `hashLimit`).
pub const HASH_LIMIT_PER_PEER: usize = 256;

/// Most blocks one peer may have in the import queue (go-ethereum `blockLimit`).
pub const BLOCK_LIMIT_PER_PEER: usize = 64;

/// Most blocks in the import queue from all peers together, including those handed to the
/// importer and not yet answered. Ours (go-ethereum bounds only per peer): four peers' worth,
/// well above the 40 heights the distance window admits plus a few siblings each.
pub const MAX_QUEUED_BLOCKS: usize = 4 * BLOCK_LIMIT_PER_PEER;

/// Most distinct hashes being announced or fetched at once, from all peers together. Ours:
/// go-ethereum bounds only per peer; this keeps memory bounded whatever the peer count.
pub const MAX_TRACKED_HASHES: usize = 1024;

/// Most announcers remembered per hash (candidates for retries). Ours; the rest are ignored.
pub const MAX_ANNOUNCERS_PER_HASH: usize = 16;

/// Most block hashes in one body request. Ours: responses are checked body against header,
/// so a small batch keeps the worst case of a shuffled response cheap.
pub const MAX_BODIES_PER_REQUEST: usize = 16;

/// Most recently imported or head hashes remembered as known parents. Ours: enough for the
/// distance window several times over.
pub const MAX_KNOWN_HASHES: usize = 512;

/// Most events waiting to be polled. Imports are never dropped (the queue bounds them);
/// beyond this, `Discarded` and `Propagate` events are dropped and counted, and a
/// `Penalize` already pending for the same peer and fault is not repeated.
pub const MAX_PENDING_EVENTS: usize = 1024;
