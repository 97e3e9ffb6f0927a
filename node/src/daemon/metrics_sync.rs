//! Feeding the Prometheus registry from the host: events as they happen (handshakes,
//! disconnects, failures, bans, throttling) and the host's cumulative counters at scrape time
//! (traffic, dials, accept errors, protocol errors, drops, discovery), as deltas since the
//! last scrape.

use std::sync::{Arc, Mutex};

use paxeer_p2p_core::discv4::{Discv4Stats, PACKET_KIND_NAMES};
use paxeer_p2p_core::eth::service::metrics::{EthMetrics, LATENCY_BUCKETS_MS};
use paxeer_p2p_core::eth::service::EthProtocol;
use paxeer_p2p_core::host::{ConnFailure, Host, HostEvent};
use paxeer_p2p_core::metrics::HostMetrics;
use paxeer_p2p_core::peers::BanTarget;
use paxeer_p2p_core::protocol::ProtocolId;
use paxeer_p2p_core::types::Direction;

use crate::metrics::{self, Metrics};

use super::{HostRef, Observer};

/// The host's state a scrape needs.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Cumulative counters.
    pub host: HostMetrics,
    /// Established peers (inbound, outbound).
    pub peers: (usize, usize),
    /// Discovery table sizes per bucket.
    pub buckets: Vec<usize>,
    /// Discovery counters.
    pub disc: Discv4Stats,
    /// The eth protocol's counters.
    pub eth: EthMetrics,
}

impl Snapshot {
    /// Reads the snapshot off a host whose eth protocol is `eth`.
    pub fn of(host: &Host, eth: ProtocolId) -> Self {
        Self {
            host: host.metrics().clone(),
            peers: (
                host.peer_count(Some(Direction::Inbound)),
                host.peer_count(Some(Direction::Outbound)),
            ),
            buckets: host
                .discovery()
                .map(|d| d.bucket_sizes())
                .unwrap_or_default(),
            disc: host.discovery().map(|d| d.stats()).unwrap_or_default(),
            eth: host
                .protocol::<EthProtocol>(eth)
                .map(|e| e.metrics().clone())
                .unwrap_or_default(),
        }
    }
}

/// The observer that counts events into `m`.
pub fn event_observer(m: Arc<Metrics>) -> Observer {
    Box::new(move |_host, ev| match ev {
        HostEvent::PeerConnected { handshake, .. } => {
            m.observe_handshake(handshake.as_secs_f64());
        }
        HostEvent::PeerDisconnected { reason, .. } => {
            if let Some(r) = reason.disconnect_reason() {
                m.disconnect(r, !reason.by_remote());
            }
        }
        HostEvent::ConnectionFailed {
            direction, failure, ..
        } => {
            let class = failure.class().replace(' ', "_");
            match direction {
                Direction::Outbound => m.dial_error(&class),
                Direction::Inbound => m.serve_error(&class),
            }
            if let ConnFailure::Refused(e) = failure {
                m.disconnect(e.reason(), true);
            }
        }
        HostEvent::Throttled { protocol, .. } => m.throttled(protocol),
        HostEvent::Banned(ban) => m.ban(match ban.target {
            BanTarget::Peer(_) => metrics::BanTarget::Peer,
            BanTarget::Ip(_) => metrics::BanTarget::Ip,
        }),
        _ => {}
    })
}

/// Folds host snapshots into the registry as deltas.
#[derive(Debug)]
pub struct MetricsSync {
    metrics: Arc<Metrics>,
    eth: ProtocolId,
    last: Mutex<Snapshot>,
}

impl MetricsSync {
    /// A sync into `metrics` of a host whose eth protocol is `eth`, starting from zero.
    pub fn new(metrics: Arc<Metrics>, eth: ProtocolId) -> Self {
        Self {
            metrics,
            eth,
            last: Mutex::new(Snapshot::default()),
        }
    }

    /// Reads the host through `host` and folds what changed since the last call.
    pub fn refresh(&self, host: &HostRef) {
        let eth = self.eth;
        if let Ok(now) = host.call(move |d, _| Snapshot::of(d.host(), eth)) {
            self.apply(&now);
        }
    }

    /// Folds `now` in (counters only grow, so deltas are never negative).
    pub fn apply(&self, now: &Snapshot) {
        let m = &self.metrics;
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        m.set_peers(Direction::Inbound, now.peers.0);
        m.set_peers(Direction::Outbound, now.peers.1);
        m.dial_attempts(
            now.host
                .dial_attempts
                .saturating_sub(last.host.dial_attempts),
        );
        m.serve_attempts(
            now.host
                .serve_attempts
                .saturating_sub(last.host.serve_attempts),
        );
        for (ingress, cur, prev) in [
            (true, &now.host.ingress, &last.host.ingress),
            (false, &now.host.egress, &last.host.egress),
        ] {
            for (k, t) in cur {
                let p = prev.get(k).copied().unwrap_or_default();
                let (msgs, bytes) = (
                    t.messages.saturating_sub(p.messages),
                    t.bytes.saturating_sub(p.bytes),
                );
                if msgs > 0 {
                    let name = now.host.protocol_name(k.protocol);
                    m.traffic(ingress, name, k.version, k.code, msgs, bytes);
                }
            }
        }
        for (proto, n) in &now.host.protocol_errors {
            let d = n.saturating_sub(last.host.protocol_errors.get(proto).copied().unwrap_or(0));
            if d > 0 {
                m.protocol_errors(proto, d);
            }
        }
        for (kind, n) in &now.host.accept_errors {
            let d = n.saturating_sub(last.host.accept_errors.get(kind).copied().unwrap_or(0));
            if d > 0 {
                m.accept_errors(kind, d);
            }
        }
        for (reason, n) in &now.host.drops {
            let d = n.saturating_sub(last.host.drops.get(reason).copied().unwrap_or(0));
            if d > 0 {
                m.drop_messages(&reason.replace(' ', "_"), d);
            }
        }
        m.set_bucket_sizes(&now.buckets);
        let (cur, prev) = (&now.disc, &last.disc);
        for (i, kind) in PACKET_KIND_NAMES.iter().enumerate() {
            for (dir_in, c, p) in [
                (true, &cur.received_by_kind, &prev.received_by_kind),
                (false, &cur.sent_by_kind, &prev.sent_by_kind),
            ] {
                let d = c
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(p.get(i).copied().unwrap_or(0));
                if d > 0 {
                    m.discovery_packet(dir_in, kind, d);
                }
            }
        }
        for (dir_in, kind, c, p) in [
            (true, "invalid", cur.invalid, prev.invalid),
            (true, "unsolicited", cur.unsolicited, prev.unsolicited),
            (true, "rate_limited", cur.rate_limited, prev.rate_limited),
        ] {
            let d = c.saturating_sub(p);
            if d > 0 {
                m.discovery_packet(dir_in, kind, d);
            }
        }
        apply_eth(m, &now.eth, &last.eth);
        *last = now.clone();
    }
}

/// Folds the eth counters (deltas) and queue sizes.
fn apply_eth(m: &Metrics, cur: &EthMetrics, prev: &EthMetrics) {
    let counters = |e: &EthMetrics| {
        [
            ("handshake_ok", e.handshakes_ok),
            ("status_rejected_network", e.status_rejected.network_id),
            ("status_rejected_genesis", e.status_rejected.genesis),
            ("status_rejected_version", e.status_rejected.version),
            (
                "status_rejected_fork_id",
                e.status_rejected.fork_id_incompatible,
            ),
            (
                "status_rejected_stale",
                e.status_rejected.fork_id_remote_stale,
            ),
            ("status_timeout", e.status_rejected.timeout),
            ("decode_error", e.decode_errors),
            ("protocol_breach", e.protocol_breaches),
            ("tx_announcement_in", e.tx_announcements_in),
            ("tx_announcement_known", e.tx_announcements_known),
            ("tx_announcement_abuse", e.tx_announcements_abuse),
            ("tx_fetch_request", e.tx_fetch_requests),
            ("tx_fetch_failed", e.tx_fetch_failed),
            ("tx_fetch_timeout", e.tx_fetch_timeouts),
            ("tx_broadcast_in", e.txs_broadcast_in),
            ("tx_fetched_in", e.txs_fetched_in),
            ("tx_duplicate", e.txs_duplicate),
            ("tx_invalid", e.txs_invalid),
            ("tx_added", e.txs_added),
            ("tx_queued", e.txs_queued),
            ("tx_promoted", e.txs_promoted),
            ("tx_unrequested", e.txs_unrequested),
            ("tx_sent", e.txs_sent),
            ("tx_announcement_sent", e.tx_announcements_sent),
            ("block_in", e.blocks_in),
            ("block_duplicate", e.blocks_duplicate),
            ("block_imported", e.blocks_imported),
            ("block_invalid", e.blocks_invalid),
            ("block_unknown_parent", e.blocks_unknown_parent),
            ("block_announcement_in", e.block_announcements_in),
            ("block_fetch_request", e.block_fetch_requests),
            ("block_fetch_failed", e.block_fetch_failed),
            ("served_headers", e.served.headers),
            ("served_bodies", e.served.bodies),
            ("served_receipts", e.served.receipts),
            ("served_pooled_transactions", e.served.pooled_transactions),
            ("unsolicited_response", e.unsolicited_responses),
            ("late_response", e.late_responses),
            ("request_timeout", e.request_timeouts),
            ("block_fetch_announce_in", e.block_fetcher.announces_in),
            (
                "block_fetch_announce_known",
                e.block_fetcher.announces_known,
            ),
            (
                "block_fetch_announce_abuse",
                e.block_fetcher.announces_abuse,
            ),
            (
                "block_fetch_header_request",
                e.block_fetcher.header_requests,
            ),
            ("block_fetch_header_failed", e.block_fetcher.header_failed),
            (
                "block_fetch_header_timeout",
                e.block_fetcher.header_timeouts,
            ),
            ("block_fetch_body_request", e.block_fetcher.body_requests),
            ("block_fetch_body_failed", e.block_fetcher.body_failed),
            ("block_fetch_body_timeout", e.block_fetcher.body_timeouts),
            ("block_fetch_duplicate", e.block_fetcher.duplicates),
            ("block_fetch_import", e.block_fetcher.imports),
            ("block_fetch_discarded", e.block_fetcher.discarded),
            // Announcement to first byte of the header / body: sum (ms) and count.
            (
                "block_header_latency_ms_sum",
                e.block_fetcher.header_latency_sum.as_millis() as u64,
            ),
            (
                "block_header_latency_count",
                e.block_fetcher.header_latency_count,
            ),
            (
                "block_body_latency_ms_sum",
                e.block_fetcher.body_latency_sum.as_millis() as u64,
            ),
            (
                "block_body_latency_count",
                e.block_fetcher.body_latency_count,
            ),
            ("sync_headers", e.sync.headers),
            ("sync_bodies", e.sync.bodies),
            ("sync_receipts", e.sync.receipts),
            ("sync_imported", e.sync.imported),
            ("sync_header_request", e.sync.header_requests),
            ("sync_body_request", e.sync.body_requests),
            ("sync_receipt_request", e.sync.receipt_requests),
            ("sync_timeout", e.sync.timeouts),
            ("sync_fault", e.sync.faults),
            ("sync_undelivered", e.sync.undelivered),
            ("sync_finished", e.sync.finished),
            ("sync_receipts_store_failed", e.sync_receipts_store_failed),
            ("sync_receipts_too_large", e.sync_receipts_too_large),
        ]
    };
    for ((name, c), (_, p)) in counters(cur).into_iter().zip(counters(prev)) {
        let d = c.saturating_sub(p);
        if d > 0 {
            m.eth_event(name, d);
        }
    }
    for ((reason, c), (_, p)) in cur.tx_rejected.iter().zip(prev.tx_rejected.iter()) {
        if c > p {
            m.eth_event(&format!("tx_rejected_{}", reason.label()), c - p);
        }
    }
    m.eth_queue("txs", cur.queued_txs);
    m.eth_queue("tx_announcements", cur.queued_tx_announcements);
    m.eth_queue("fetcher_hashes", cur.fetcher_hashes);
    m.eth_queue("blocks", cur.block_fetcher.queued);
    m.eth_queue("block_hashes_tracked", cur.block_fetcher.tracked);
    let bounds = LATENCY_BUCKETS_MS
        .iter()
        .map(|b| b.to_string())
        .chain(std::iter::once("+Inf".to_string()));
    for (i, le) in bounds.enumerate() {
        let c = cur.tx_fetch_latency.buckets.get(i).copied().unwrap_or(0);
        let p = prev.tx_fetch_latency.buckets.get(i).copied().unwrap_or(0);
        if c > p {
            m.eth_fetch_latency(&le, c - p);
        }
    }
}
