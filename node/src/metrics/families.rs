//! The metric families and the label-budget guard around them.

use std::collections::HashSet;
use std::sync::Mutex;

use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::{HANDSHAKE_BUCKETS_SECS, MAX_SERIES_PER_FAMILY};

/// The label value counting label sets past the budget.
const OTHER: &str = "other";

/// Labels of the traffic families.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ProtocolLabels {
    protocol: String,
    version: u32,
    code: u64,
}

impl ProtocolLabels {
    pub(super) fn new(protocol: &str, version: u32, code: u64) -> Self {
        Self {
            protocol: protocol.to_string(),
            version,
            code,
        }
    }

    fn other() -> Self {
        Self {
            protocol: OTHER.into(),
            version: 0,
            code: 0,
        }
    }
}

/// Labels given by name, for families with string labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(super) struct Named<const N: usize> {
    names: [&'static str; N],
    values: [String; N],
}

impl<const N: usize> EncodeLabelSet for Named<N> {
    fn encode(
        &self,
        encoder: &mut prometheus_client::encoding::LabelSetEncoder,
    ) -> Result<(), std::fmt::Error> {
        for (name, value) in self.names.iter().zip(self.values.iter()) {
            EncodeLabel::encode(&(*name, value.as_str()), encoder.encode_label())?;
        }
        Ok(())
    }
}

/// Remembers which label sets a family has, up to [`MAX_SERIES_PER_FAMILY`].
#[derive(Debug)]
struct Budget<L> {
    seen: Mutex<HashSet<L>>,
}

impl<L> Default for Budget<L> {
    fn default() -> Self {
        Self {
            seen: Mutex::new(HashSet::new()),
        }
    }
}

impl<L: Clone + Eq + std::hash::Hash> Budget<L> {
    /// `labels` when already known or within budget, else `overflow`.
    fn admit(&self, labels: L, overflow: impl FnOnce() -> L) -> L {
        let mut seen = match self.seen.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if seen.contains(&labels) {
            return labels;
        }
        if seen.len() < MAX_SERIES_PER_FAMILY {
            seen.insert(labels.clone());
            return labels;
        }
        overflow()
    }
}

/// A counter family with string labels named at registration.
#[derive(Debug)]
pub(super) struct Counters<const N: usize> {
    names: [&'static str; N],
    family: Family<Named<N>, Counter>,
    budget: Budget<Named<N>>,
}

impl<const N: usize> Counters<N> {
    fn register(r: &mut Registry, name: &str, help: &str, names: [&'static str; N]) -> Self {
        let family = Family::<Named<N>, Counter>::default();
        r.register(name, help, family.clone());
        Self {
            names,
            family,
            budget: Budget::default(),
        }
    }

    fn labels(&self, values: &[&str; N]) -> Named<N> {
        let names = self.names;
        let l = Named {
            names,
            values: values.map(String::from),
        };
        self.budget.admit(l, || Named {
            names,
            values: std::array::from_fn(|_| OTHER.to_string()),
        })
    }

    pub(super) fn inc(&self, values: &[&str; N]) {
        self.add(values, 1);
    }

    pub(super) fn add(&self, values: &[&str; N], n: u64) {
        self.family.get_or_create(&self.labels(values)).inc_by(n);
    }
}

/// A gauge family with string labels named at registration.
#[derive(Debug)]
pub(super) struct Gauges<const N: usize> {
    names: [&'static str; N],
    family: Family<Named<N>, Gauge>,
    budget: Budget<Named<N>>,
}

impl<const N: usize> Gauges<N> {
    fn register(r: &mut Registry, name: &str, help: &str, names: [&'static str; N]) -> Self {
        let family = Family::<Named<N>, Gauge>::default();
        r.register(name, help, family.clone());
        Self {
            names,
            family,
            budget: Budget::default(),
        }
    }

    pub(super) fn set(&self, values: &[&str; N], v: i64) {
        let names = self.names;
        let l = Named {
            names,
            values: values.map(String::from),
        };
        let l = self.budget.admit(l, || Named {
            names,
            values: std::array::from_fn(|_| OTHER.to_string()),
        });
        self.family.get_or_create(&l).set(v);
    }
}

/// Bytes and messages by protocol, version and code.
#[derive(Debug)]
pub(super) struct Traffic {
    bytes: Family<ProtocolLabels, Counter>,
    messages: Family<ProtocolLabels, Counter>,
    budget: Budget<ProtocolLabels>,
}

impl Traffic {
    fn register(r: &mut Registry, dir: &str) -> Self {
        let bytes = Family::<ProtocolLabels, Counter>::default();
        let messages = Family::<ProtocolLabels, Counter>::default();
        r.register(
            format!("p2p_{dir}_bytes"),
            format!("Bytes of {dir} sub-protocol messages (payload after decompression)"),
            bytes.clone(),
        );
        r.register(
            format!("p2p_{dir}_messages"),
            format!("Number of {dir} sub-protocol messages"),
            messages.clone(),
        );
        Self {
            bytes,
            messages,
            budget: Budget::default(),
        }
    }

    pub(super) fn add_many(&self, labels: &ProtocolLabels, messages: u64, bytes: u64) {
        let l = self.budget.admit(labels.clone(), ProtocolLabels::other);
        self.bytes.get_or_create(&l).inc_by(bytes);
        self.messages.get_or_create(&l).inc_by(messages);
    }

    pub(super) fn add(&self, labels: &ProtocolLabels, bytes: usize) {
        let l = self.budget.admit(labels.clone(), ProtocolLabels::other);
        self.bytes
            .get_or_create(&l)
            .inc_by(u64::try_from(bytes).unwrap_or(u64::MAX));
        self.messages.get_or_create(&l).inc();
    }
}

/// Every family of the node.
#[derive(Debug)]
pub(super) struct Families {
    pub(super) peers: Gauges<1>,
    pub(super) dials: Counter,
    pub(super) dial_errors: Counters<1>,
    pub(super) serves: Counter,
    pub(super) serve_errors: Counters<1>,
    pub(super) accept_errors: Counters<1>,
    pub(super) handshake: Histogram,
    pub(super) ingress: Traffic,
    pub(super) egress: Traffic,
    pub(super) protocol_errors: Counters<1>,
    pub(super) drops: Counters<1>,
    pub(super) disconnects: Counters<2>,
    pub(super) throttled: Counters<1>,
    pub(super) bans: Counters<1>,
    pub(super) table: Gauges<1>,
    pub(super) discovery_packets: Counters<2>,
    pub(super) eth_events: Counters<1>,
    pub(super) eth_queues: Gauges<1>,
    pub(super) eth_fetch_latency: Counters<1>,
}

impl Families {
    pub(super) fn register(r: &mut Registry) -> Self {
        let dials = Counter::default();
        r.register("p2p_dials", "Outbound connection attempts", dials.clone());
        let serves = Counter::default();
        r.register("p2p_serves", "Inbound connections accepted", serves.clone());
        let handshake = Histogram::new(HANDSHAKE_BUCKETS_SECS);
        r.register(
            "p2p_handshake_duration_seconds",
            "Time from TCP connect to an established session (RLPx handshake and Hello)",
            handshake.clone(),
        );
        Self {
            peers: Gauges::register(r, "p2p_peers", "Connected peers", ["direction"]),
            dials,
            dial_errors: Counters::register(
                r,
                "p2p_dial_errors",
                "Failed outbound connections by error class",
                ["class"],
            ),
            serves,
            serve_errors: Counters::register(
                r,
                "p2p_serve_errors",
                "Failed inbound connections by error class",
                ["class"],
            ),
            accept_errors: Counters::register(
                r,
                "p2p_accept_errors",
                "Failed accepts on the TCP listener by error kind (accepting pauses after each)",
                ["kind"],
            ),
            handshake,
            ingress: Traffic::register(r, "ingress"),
            egress: Traffic::register(r, "egress"),
            protocol_errors: Counters::register(
                r,
                "p2p_protocol_errors",
                "Protocol violations by peers",
                ["protocol"],
            ),
            drops: Counters::register(
                r,
                "p2p_dropped_messages",
                "Messages dropped by us",
                ["reason"],
            ),
            disconnects: Counters::register(
                r,
                "p2p_disconnects",
                "Disconnects by reason and by who sent the reason",
                ["reason", "side"],
            ),
            throttled: Counters::register(
                r,
                "p2p_throttled",
                "Requests delayed or refused by a rate limit",
                ["protocol"],
            ),
            bans: Counters::register(r, "p2p_bans", "Bans of peers or IP addresses", ["target"]),
            table: Gauges::register(
                r,
                "p2p_discovery_table_nodes",
                "Nodes in each discovery table bucket",
                ["bucket"],
            ),
            discovery_packets: Counters::register(
                r,
                "p2p_discovery_packets",
                "Discovery packets by direction and type",
                ["direction", "kind"],
            ),
            eth_events: Counters::register(
                r,
                "p2p_eth_events",
                "eth protocol events: announcements, fetches, deliveries, imports, served requests",
                ["event"],
            ),
            eth_queues: Gauges::register(
                r,
                "p2p_eth_queue",
                "Sizes of the eth protocol's queues",
                ["queue"],
            ),
            eth_fetch_latency: Counters::register(
                r,
                "p2p_eth_tx_fetch_latency",
                "Announcement to delivery of fetched transactions, cumulative by upper bound (ms)",
                ["le"],
            ),
        }
    }
}
