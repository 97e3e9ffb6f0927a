//! Plain counters the host updates as traffic and decisions happen; the node exports them
//! (Prometheus). Every map is keyed by a bounded label set: registered protocols and their
//! message ids, devp2p disconnect reasons, and fixed failure classes.

use std::collections::BTreeMap;

use crate::protocol::ProtocolId;

/// Messages and bytes of one kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Messages.
    pub messages: u64,
    /// Uncompressed payload bytes.
    pub bytes: u64,
}

impl Traffic {
    fn add(&mut self, bytes: usize) {
        self.messages += 1;
        self.bytes += bytes as u64;
    }
}

/// What a traffic counter is for: a registered protocol, the negotiated version and a message
/// id relative to the capability. Ids only (no string on the per-message path); the
/// protocol's name is in [`HostMetrics::protocol_names`]. Bounded: only negotiated (hence
/// registered) capabilities and ids below their message count reach the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrafficKey {
    /// The protocol in the host's registry.
    pub protocol: ProtocolId,
    /// Capability version.
    pub version: u32,
    /// Message id relative to the capability.
    pub code: u64,
}

/// Which side sent a Disconnect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// We sent it (on command or after a fault of the peer).
    Sent,
    /// The peer sent it, or closed the connection.
    Received,
}

impl Side {
    /// `"sent"` or `"received"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Sent => "sent",
            Side::Received => "received",
        }
    }
}

/// The host's counters, cumulative since start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostMetrics {
    /// The capability name of every registered protocol, for the labels of the traffic
    /// counters.
    pub protocol_names: BTreeMap<ProtocolId, String>,
    /// Messages received from peers, by capability and message id.
    pub ingress: BTreeMap<TrafficKey, Traffic>,
    /// Messages handed to sessions, by capability and message id.
    pub egress: BTreeMap<TrafficKey, Traffic>,
    /// Dials started.
    pub dial_attempts: u64,
    /// Dials that ended before admission, by failure class.
    pub dial_errors: BTreeMap<&'static str, u64>,
    /// Inbound connections accepted by TCP.
    pub serve_attempts: u64,
    /// Inbound connections that ended before admission, by failure class.
    pub serve_errors: BTreeMap<&'static str, u64>,
    /// Failed `accept` calls on the TCP listener, by
    /// [`AcceptErrorKind`](crate::driver::accept::AcceptErrorKind) label.
    pub accept_errors: BTreeMap<&'static str, u64>,
    /// Sessions that reached `Established` with a shared protocol.
    pub handshakes: u64,
    /// Sessions of admitted peers that ended, by devp2p reason name and side.
    pub disconnects: BTreeMap<(&'static str, Side), u64>,
    /// Protocol faults: bad-behaviour reports and protocol-requested disconnects, by
    /// capability name.
    pub protocol_errors: BTreeMap<String, u64>,
    /// Messages discarded, by cause.
    pub drops: BTreeMap<&'static str, u64>,
    /// Rate-limit verdicts other than "ok", by capability name.
    pub throttled: BTreeMap<String, u64>,
    /// Bans of peer ids imposed.
    pub peer_bans: u64,
    /// Bans of IP addresses imposed.
    pub ip_bans: u64,
    /// Application events dropped because the event queue was full.
    pub events_dropped: u64,
}

impl HostMetrics {
    /// The capability name of protocol `id` (`""` if it is not registered).
    pub fn protocol_name(&self, id: ProtocolId) -> &str {
        self.protocol_names.get(&id).map_or("", String::as_str)
    }

    pub(crate) fn ingress(&mut self, key: TrafficKey, bytes: usize) {
        self.ingress.entry(key).or_default().add(bytes);
    }

    pub(crate) fn egress(&mut self, key: TrafficKey, bytes: usize) {
        self.egress.entry(key).or_default().add(bytes);
    }

    pub(crate) fn bump<K: Ord>(map: &mut BTreeMap<K, u64>, key: K) {
        *map.entry(key).or_default() += 1;
    }
}
