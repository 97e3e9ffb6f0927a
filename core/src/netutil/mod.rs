//! IP address rules of the discovery layer, as go-ethereum's `p2p/netutil`: LAN and special
//! networks, relay-IP checks for received neighbours, subnet limits, CIDR allow-lists
//! (netrestrict) and external endpoint prediction from peers' statements.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// True for loopback and private (LAN) addresses: 10/8, 172.16/12, 192.168/16, 169.254/16,
/// fc00::/7, fe80::/10, loopback.
pub fn is_lan(ip: IpAddr) -> bool {
    let _ = ip;
    todo!("netutil helper")
}

/// True for addresses that must never be relayed: unspecified, broadcast, multicast,
/// documentation and other reserved ranges (go-ethereum `IsSpecialNetwork`).
pub fn is_special_network(ip: IpAddr) -> bool {
    let _ = ip;
    todo!("netutil helper")
}

/// Why a relayed address is unacceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// 0.0.0.0 or ::.
    #[error("zero address")]
    Unspecified,
    /// A special-purpose network.
    #[error("special network")]
    Special,
    /// Loopback relayed by a non-loopback host.
    #[error("loopback address from non-loopback host")]
    LoopbackFromNonLoopback,
    /// LAN address relayed by an Internet host.
    #[error("LAN address from WAN host")]
    LanFromWan,
}

/// Checks an address `addr` that `sender` told us about (go-ethereum `CheckRelayIP`).
pub fn check_relay_ip(sender: IpAddr, addr: IpAddr) -> Result<(), RelayError> {
    let _ = (sender, addr);
    todo!("netutil helper")
}

/// True when `a` and `b` share the first `bits` bits (IPv4 compared as 4 bytes).
pub fn same_net(bits: u32, a: IpAddr, b: IpAddr) -> bool {
    let _ = (bits, a, b);
    todo!("netutil helper")
}

/// Counts addresses per subnet of `subnet_bits` and refuses more than `limit` in one subnet.
#[derive(Clone, Debug, Default)]
pub struct DistinctNetSet {
    _private: (),
}

impl DistinctNetSet {
    /// A set with the given subnet size and per-subnet limit.
    pub fn new(subnet_bits: u32, limit: usize) -> Self {
        let _ = (subnet_bits, limit);
        todo!("netutil helper")
    }
    /// Adds `ip`; false (and no change) if its subnet is full.
    pub fn add(&mut self, ip: IpAddr) -> bool {
        let _ = ip;
        todo!("netutil helper")
    }
    /// Removes one occurrence of `ip`'s subnet.
    pub fn remove(&mut self, ip: IpAddr) {
        let _ = ip;
        todo!("netutil helper")
    }
    /// Whether `ip`'s subnet has any member.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let _ = ip;
        todo!("netutil helper")
    }
    /// Total members.
    pub fn len(&self) -> usize {
        todo!("netutil helper")
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A list of CIDR networks (the operator's `--netrestrict`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Netlist {
    _private: (),
}

/// Why a netlist did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CIDR {0:?}")]
pub struct NetlistError(pub String);

impl Netlist {
    /// Parses a comma-separated CIDR list (`"10.0.0.0/8, 192.168.0.0/16"`).
    pub fn parse(s: &str) -> Result<Self, NetlistError> {
        let _ = s;
        todo!("netutil helper")
    }
    /// Whether `ip` is inside any listed network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let _ = ip;
        todo!("netutil helper")
    }
}

/// Predicts our external endpoint from what peers say they see (Pong `to`), counting each
/// peer once within `window`, and whether we look like a full-cone NAT.
#[derive(Clone, Debug)]
pub struct IpTracker {
    _private: (),
}

impl IpTracker {
    /// go-ethereum's parameters: statements count for `window`, contacts for `contact_window`,
    /// at least `min_statements` distinct peers must agree.
    pub fn new(window: Duration, contact_window: Duration, min_statements: usize) -> Self {
        let _ = (window, contact_window, min_statements);
        todo!("netutil helper")
    }
    /// `from` says our endpoint is `endpoint`.
    pub fn add_statement(&mut self, from: IpAddr, endpoint: SocketAddr, now: Instant) {
        let _ = (from, endpoint, now);
        todo!("netutil helper")
    }
    /// We sent a packet to `to` (for full-cone detection).
    pub fn add_contact(&mut self, to: IpAddr, now: Instant) {
        let _ = (to, now);
        todo!("netutil helper")
    }
    /// The endpoint most peers agree on, if enough do.
    pub fn predict_endpoint(&mut self, now: Instant) -> Option<SocketAddr> {
        let _ = now;
        todo!("netutil helper")
    }
    /// Whether statements came from peers we never contacted (full-cone NAT).
    pub fn predict_full_cone(&mut self, now: Instant) -> bool {
        let _ = now;
        todo!("netutil helper")
    }
}
