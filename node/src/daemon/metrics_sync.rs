//! Feeding the Prometheus registry from the host: events as they happen (handshakes,
//! disconnects, failures, bans, throttling) and the host's cumulative counters at scrape time
//! (traffic, dials, protocol errors, drops, discovery), as deltas since the last scrape.

use std::sync::{Arc, Mutex};

use paxeer_p2p_core::discv4::{Discv4Stats, PACKET_KIND_NAMES};
use paxeer_p2p_core::host::{ConnFailure, Host, HostEvent};
use paxeer_p2p_core::metrics::HostMetrics;
use paxeer_p2p_core::peers::BanTarget;
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
}

impl Snapshot {
    /// Reads the snapshot off a host.
    pub fn of(host: &Host) -> Self {
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
    last: Mutex<Snapshot>,
}

impl MetricsSync {
    /// A sync into `metrics`, starting from zero.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            metrics,
            last: Mutex::new(Snapshot::default()),
        }
    }

    /// Reads the host through `host` and folds what changed since the last call.
    pub fn refresh(&self, host: &HostRef) {
        if let Ok(now) = host.call(|d, _| Snapshot::of(d.host())) {
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
                    m.traffic(ingress, &k.protocol, k.version, k.code, msgs, bytes);
                }
            }
        }
        for (proto, n) in &now.host.protocol_errors {
            let d = n.saturating_sub(last.host.protocol_errors.get(proto).copied().unwrap_or(0));
            if d > 0 {
                m.protocol_errors(proto, d);
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
        *last = now.clone();
    }
}
