//! Counters the fetcher keeps for metrics (`eth/fetcher/block/...` in go-ethereum's naming).

use std::time::Duration;

/// The fetcher's counters. Monotonic except `queued` and `tracked`, which are gauges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchStats {
    /// Announcements received.
    pub announces_in: u64,
    /// Announcements of blocks already queued, imported or known.
    pub announces_known: u64,
    /// Announcements over a peer's outstanding-hash cap.
    pub announces_abuse: u64,
    /// Announcements outside the distance window, or over the global caps.
    pub announces_dropped: u64,
    /// `NewBlock` broadcasts received.
    pub broadcasts_in: u64,
    /// Header requests sent.
    pub header_requests: u64,
    /// Header requests failed (reported by the driver or answered empty).
    pub header_failed: u64,
    /// Header requests unanswered after [`super::FETCH_TIMEOUT`].
    pub header_timeouts: u64,
    /// Body requests sent.
    pub body_requests: u64,
    /// Body requests failed (reported by the driver, or some bodies missing).
    pub body_failed: u64,
    /// Body requests unanswered after [`super::FETCH_TIMEOUT`].
    pub body_timeouts: u64,
    /// Deliveries (broadcast, header or body) of a block already queued or known.
    pub duplicates: u64,
    /// Blocks handed to the importer.
    pub imports: u64,
    /// Blocks or fetches discarded.
    pub discarded: u64,
    /// Penalties issued.
    pub penalties: u64,
    /// Events dropped because the event queue was full.
    pub events_dropped: u64,
    /// Blocks in the import queue (gauge, including those being imported).
    pub queued: u64,
    /// Hashes being announced or fetched (gauge).
    pub tracked: u64,
    /// Sum of first-announcement → header-arrival times.
    pub header_latency_sum: Duration,
    /// Number of samples in `header_latency_sum`.
    pub header_latency_count: u64,
    /// Sum of first-announcement → body-arrival times.
    pub body_latency_sum: Duration,
    /// Number of samples in `body_latency_sum`.
    pub body_latency_count: u64,
}

impl FetchStats {
    /// Mean first-announcement → header time, if any header was fetched.
    pub fn mean_header_latency(&self) -> Option<Duration> {
        mean(self.header_latency_sum, self.header_latency_count)
    }

    /// Mean first-announcement → body time, if any body was fetched.
    pub fn mean_body_latency(&self) -> Option<Duration> {
        mean(self.body_latency_sum, self.body_latency_count)
    }
}

fn mean(sum: Duration, count: u64) -> Option<Duration> {
    let n = u32::try_from(count).unwrap_or(u32::MAX);
    sum.checked_div(n)
}
