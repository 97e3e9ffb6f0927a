//! The node's Prometheus metrics, exported in the OpenMetrics text format at `GET /metrics`.
//!
//! [`Metrics`] owns a `prometheus_client` registry and one family per measurement, named
//! Prometheus-style with the `p2p_` prefix (counters get `_total` on export). The daemon calls
//! the plain update methods from wherever it sees the event; every method takes `&self` and
//! is cheap (an atomic add after a label lookup).
//!
//! Label sets are bounded: directions, sides and ban targets are enums; disconnect reasons
//! come from [`DisconnectReason`] (unknown codes share one label); protocol names, versions
//! and message codes come from the registered protocols (message codes are relative to a
//! capability and checked against its message count before delivery); error and drop classes
//! and discovery packet kinds are fixed strings in our code. As a backstop against a caller
//! passing peer-controlled text, each family keeps at most [`MAX_SERIES_PER_FAMILY`] label
//! sets and counts the rest under the label value `other`.

mod families;

use std::sync::{Arc, Mutex};

use paxeer_p2p_core::p2p::DisconnectReason;
use paxeer_p2p_core::types::Direction;
use prometheus_client::registry::Registry;

use crate::admin::http::{Handler, HttpRequest, HttpResponse};
use families::{Families, ProtocolLabels};

/// Most label sets kept per family; later ones are counted as `other`.
pub const MAX_SERIES_PER_FAMILY: usize = 1024;

/// Most discovery table buckets reported (discv4 has 17).
pub const MAX_BUCKETS: usize = 256;

/// The `Content-Type` of the OpenMetrics text format, which Prometheus scrapes.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Handshake duration histogram buckets, in seconds: 1 ms to 10 s.
pub const HANDSHAKE_BUCKETS_SECS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Whose ban a [`Metrics::ban`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BanTarget {
    /// A node id.
    Peer,
    /// An IP address.
    Ip,
}

/// The node's metrics registry and its families.
pub struct Metrics {
    registry: Registry,
    f: Families,
    buckets_reported: Mutex<usize>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A snake_case label for a disconnect reason; every unknown code shares `unknown`.
pub fn disconnect_label(reason: DisconnectReason) -> &'static str {
    use DisconnectReason::*;
    match reason {
        Requested => "requested",
        NetworkError => "network_error",
        ProtocolError => "protocol_error",
        UselessPeer => "useless_peer",
        TooManyPeers => "too_many_peers",
        AlreadyConnected => "already_connected",
        IncompatibleVersion => "incompatible_version",
        InvalidIdentity => "invalid_identity",
        ClientQuitting => "client_quitting",
        UnexpectedIdentity => "unexpected_identity",
        SelfConnection => "self_connection",
        ReadTimeout => "read_timeout",
        SubprotocolError => "subprotocol_error",
        // Unknown codes, and any reason core adds later, share one label.
        _ => "unknown",
    }
}

impl Metrics {
    /// A registry with every family registered and no samples.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let f = Families::register(&mut registry);
        let m = Self {
            registry,
            f,
            buckets_reported: Mutex::new(0),
        };
        // Families are exported once they hold a series; start the small fixed ones at zero
        // so dashboards see them from the first scrape.
        m.set_peers(Direction::Inbound, 0);
        m.set_peers(Direction::Outbound, 0);
        m.f.bans.add(&["peer"], 0);
        m.f.bans.add(&["ip"], 0);
        m
    }

    /// Sets the number of connected peers in one direction.
    pub fn set_peers(&self, direction: Direction, n: usize) {
        self.f.peers.set(&[direction.as_str()], clamp_i64(n));
    }

    /// Counts an outbound connection attempt.
    pub fn dial_attempt(&self) {
        self.f.dials.inc();
    }

    /// Counts a failed dial by error class (a fixed string such as `"timeout"`, `"refused"`).
    pub fn dial_error(&self, class: &str) {
        self.f.dial_errors.inc(&[class]);
    }

    /// Counts an accepted inbound connection.
    pub fn serve_attempt(&self) {
        self.f.serves.inc();
    }

    /// Counts a failed inbound connection by error class.
    pub fn serve_error(&self, class: &str) {
        self.f.serve_errors.inc(&[class]);
    }

    /// Counts `n` failed accepts on the TCP listener of one kind (a fixed label such as
    /// `"fd_limit"`).
    pub fn accept_errors(&self, kind: &str, n: u64) {
        self.f.accept_errors.add(&[kind], n);
    }

    /// Records how long an RLPx handshake plus Hello took, in seconds.
    pub fn observe_handshake(&self, secs: f64) {
        if secs.is_finite() && secs >= 0.0 {
            self.f.handshake.observe(secs);
        }
    }

    /// Counts one received message of `bytes` bytes.
    pub fn ingress(&self, protocol: &str, version: u32, code: u64, bytes: usize) {
        let l = ProtocolLabels::new(protocol, version, code);
        self.f.ingress.add(&l, bytes);
    }

    /// Counts one sent message of `bytes` bytes.
    pub fn egress(&self, protocol: &str, version: u32, code: u64, bytes: usize) {
        let l = ProtocolLabels::new(protocol, version, code);
        self.f.egress.add(&l, bytes);
    }

    /// Counts `messages` messages of `bytes` bytes in total, received (`ingress`) or sent:
    /// how counters kept elsewhere (the host's) are folded in.
    pub fn traffic(
        &self,
        ingress: bool,
        protocol: &str,
        version: u32,
        code: u64,
        messages: u64,
        bytes: u64,
    ) {
        let l = ProtocolLabels::new(protocol, version, code);
        let family = if ingress {
            &self.f.ingress
        } else {
            &self.f.egress
        };
        family.add_many(&l, messages, bytes);
    }

    /// Counts `n` protocol violations of `protocol` at once.
    pub fn protocol_errors(&self, protocol: &str, n: u64) {
        self.f.protocol_errors.add(&[protocol], n);
    }

    /// Counts `n` dropped messages of one reason at once.
    pub fn drop_messages(&self, reason: &str, n: u64) {
        self.f.drops.add(&[reason], n);
    }

    /// Counts `n` outbound connection attempts at once.
    pub fn dial_attempts(&self, n: u64) {
        self.f.dials.inc_by(n);
    }

    /// Counts `n` accepted inbound connections at once.
    pub fn serve_attempts(&self, n: u64) {
        self.f.serves.inc_by(n);
    }

    /// Counts `n` eth protocol events of kind `event` (a fixed name).
    pub fn eth_event(&self, event: &str, n: u64) {
        self.f.eth_events.add(&[event], n);
    }

    /// Sets the size of an eth protocol queue.
    pub fn eth_queue(&self, queue: &str, size: u64) {
        self.f
            .eth_queues
            .set(&[queue], i64::try_from(size).unwrap_or(i64::MAX));
    }

    /// Counts `n` transaction fetches whose latency was at most `le` (a bucket bound).
    pub fn eth_fetch_latency(&self, le: &str, n: u64) {
        self.f.eth_fetch_latency.add(&[le], n);
    }

    /// Counts a protocol violation by a peer.
    pub fn protocol_error(&self, protocol: &str) {
        self.f.protocol_errors.inc(&[protocol]);
    }

    /// Counts a message dropped by us, by reason (a fixed string such as `"queue_full"`).
    pub fn drop_message(&self, reason: &str) {
        self.f.drops.inc(&[reason]);
    }

    /// Counts a disconnect; `sent` when we sent the reason, else the peer did.
    pub fn disconnect(&self, reason: DisconnectReason, sent: bool) {
        let side = if sent { "sent" } else { "received" };
        self.f.disconnects.inc(&[disconnect_label(reason), side]);
    }

    /// Counts a throttling event of a protocol (a request delayed or refused by a limit).
    pub fn throttled(&self, protocol: &str) {
        self.f.throttled.inc(&[protocol]);
    }

    /// Counts a ban.
    pub fn ban(&self, target: BanTarget) {
        let t = match target {
            BanTarget::Peer => "peer",
            BanTarget::Ip => "ip",
        };
        self.f.bans.inc(&[t]);
    }

    /// Sets the discovery table's node count per bucket (index = bucket); buckets reported
    /// before but missing now drop to zero. At most [`MAX_BUCKETS`] are reported.
    pub fn set_bucket_sizes(&self, sizes: &[usize]) {
        let sizes = sizes
            .get(..sizes.len().min(MAX_BUCKETS))
            .unwrap_or_default();
        let mut reported = match self.buckets_reported.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        for i in 0..(*reported).max(sizes.len()) {
            let n = sizes.get(i).copied().unwrap_or(0);
            self.f.table.set(&[&i.to_string()], clamp_i64(n));
        }
        *reported = sizes.len();
    }

    /// Counts `n` discovery packets of a kind (`"ping"`, `"pong"`, `"findnode"`,
    /// `"neighbors"`, `"enrrequest"`, `"enrresponse"`), received when `direction_in`.
    pub fn discovery_packet(&self, direction_in: bool, kind: &str, n: u64) {
        let dir = if direction_in { "in" } else { "out" };
        self.f.discovery_packets.add(&[dir, kind], n);
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn clamp_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The HTTP handler serving `GET /metrics` (and `HEAD`) from `metrics`.
pub fn metrics_handler(metrics: Arc<Metrics>) -> Handler {
    Arc::new(move |req: &HttpRequest| {
        if req.path != "/metrics" {
            return HttpResponse::text(404, "not found: metrics are served at /metrics");
        }
        if req.method != "GET" && req.method != "HEAD" {
            return HttpResponse::text(405, "method not allowed").with_header("Allow", "GET, HEAD");
        }
        HttpResponse::new(200, OPENMETRICS_CONTENT_TYPE, metrics.encode().into_bytes())
    })
}

#[cfg(test)]
mod tests;
