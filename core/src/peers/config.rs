//! Peer manager configuration: connection limits with go-ethereum's defaults, and the
//! parameters of each part (dialing, cool-downs, reputation, bans, rate limits).

use std::net::IpAddr;
use std::time::Duration;

use crate::netutil::Netlist;

use super::backoff::BackoffConfig;
use super::bans::BanConfig;
use super::dial::DialConfig;
use super::ratelimit::RateLimitConfig;
use super::reputation::ReputationConfig;

/// Default peer limit (go-ethereum `MaxPeers`).
pub const MAX_PEERS: usize = 50;
/// Default share of dialed peers: one in three (go-ethereum `defaultDialRatio`).
pub const DIAL_RATIO: usize = 3;
/// Default cap on inbound connections still in their handshake (go-ethereum
/// `defaultMaxPendingPeers`).
pub const MAX_PENDING_INBOUND: usize = 50;
/// Default cap on inbound handshakes pending from one source (an address on the LAN, a /24
/// or /64 elsewhere: [`pending_source`](super::pending_source)), so one source cannot hold
/// every pending slot. go-ethereum has no such cap (its `defaultMaxPendingPeers` slots are
/// one pool); 8 leaves the default 50 slots to at least 7 sources, and is the least that
/// keeps go-ethereum's devp2p conformance suite working from one loopback address
/// (`cmd/devp2p/internal/ethtest`: its handshake tests hold up to 5 connections at once, the
/// large-tx and blob tests 3-4), with some headroom.
pub const MAX_PENDING_INBOUND_PER_SOURCE: usize = 8;
/// Minimum time between two inbound connections from one non-LAN IP (go-ethereum
/// `inboundThrottleTime`).
pub const INBOUND_THROTTLE: Duration = Duration::from_secs(30);
/// Safety-net deadline of an inbound handshake the host never reported: twice the 5 s
/// handshake timeout, after which its pending slot is reclaimed.
pub const PENDING_INBOUND_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on IPs remembered by the inbound throttle.
pub const MAX_INBOUND_HISTORY: usize = 4096;
/// Default cap on static peers.
pub const MAX_STATIC_PEERS: usize = 512;
/// Default cap on trusted peers.
pub const MAX_TRUSTED_PEERS: usize = 512;

/// Everything the [`PeerManager`](super::PeerManager) needs to know about its limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerManagerConfig {
    /// Most connected peers, trusted peers aside.
    pub max_peers: usize,
    /// One in `dial_ratio` peers is dialed by us; 0 means the default (3), as in
    /// go-ethereum.
    pub dial_ratio: usize,
    /// Never dial discovered nodes (go-ethereum with `--nodiscover`): all slots are inbound,
    /// except those static peers take (they are still dialed).
    pub no_dial: bool,
    /// Most inbound connections in their handshake at once.
    pub max_pending_inbound: usize,
    /// Most inbound connections in their handshake at once from one source (see
    /// [`pending_source`](super::pending_source)); loopback and the LAN included.
    pub max_pending_inbound_per_source: usize,
    /// Minimum time between two inbound connections from one non-LAN IP.
    pub inbound_throttle: Duration,
    /// Safety-net deadline of an unreported inbound handshake.
    pub pending_inbound_timeout: Duration,
    /// Most IPs remembered by the inbound throttle (the oldest go first).
    pub max_inbound_history: usize,
    /// When set, only these networks may connect, be dialed or be discovered.
    pub netrestrict: Option<Netlist>,
    /// Most static peers.
    pub max_static: usize,
    /// Most trusted peers.
    pub max_trusted: usize,
    /// Dial scheduler.
    pub dial: DialConfig,
    /// Cool-down after failures.
    pub backoff: BackoffConfig,
    /// Reputation weights, threshold and decay.
    pub reputation: ReputationConfig,
    /// Ban durations and cap.
    pub bans: BanConfig,
    /// Message-rate budgets.
    pub rate_limit: RateLimitConfig,
}

impl Default for PeerManagerConfig {
    fn default() -> Self {
        Self {
            max_peers: MAX_PEERS,
            dial_ratio: DIAL_RATIO,
            no_dial: false,
            max_pending_inbound: MAX_PENDING_INBOUND,
            max_pending_inbound_per_source: MAX_PENDING_INBOUND_PER_SOURCE,
            inbound_throttle: INBOUND_THROTTLE,
            pending_inbound_timeout: PENDING_INBOUND_TIMEOUT,
            max_inbound_history: MAX_INBOUND_HISTORY,
            netrestrict: None,
            max_static: MAX_STATIC_PEERS,
            max_trusted: MAX_TRUSTED_PEERS,
            dial: DialConfig::default(),
            backoff: BackoffConfig::default(),
            reputation: ReputationConfig::default(),
            bans: BanConfig::default(),
            rate_limit: RateLimitConfig::default(),
        }
    }
}

impl PeerManagerConfig {
    /// Most dialed (outbound) peers: `max_peers / dial_ratio`, at least one, or zero with
    /// `no_dial` (go-ethereum `maxDialedConns`).
    pub fn max_outbound(&self) -> usize {
        if self.no_dial {
            return 0;
        }
        let ratio = if self.dial_ratio == 0 {
            DIAL_RATIO
        } else {
            self.dial_ratio
        };
        (self.max_peers / ratio).max(1)
    }

    /// Most inbound peers: what the outbound share leaves (go-ethereum `maxInboundConns`).
    pub fn max_inbound(&self) -> usize {
        self.max_peers.saturating_sub(self.max_outbound())
    }

    /// Whether `ip` passes netrestrict.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        self.netrestrict
            .as_ref()
            .is_none_or(|list| list.contains(ip.to_canonical()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_split_one_third_outbound() {
        let cfg = PeerManagerConfig::default();
        assert_eq!(cfg.max_outbound(), 16);
        assert_eq!(cfg.max_inbound(), 34);
    }

    #[test]
    fn small_limits_keep_one_outbound_slot() {
        let cfg = PeerManagerConfig {
            max_peers: 2,
            ..PeerManagerConfig::default()
        };
        assert_eq!(cfg.max_outbound(), 1);
        assert_eq!(cfg.max_inbound(), 1);
        let cfg = PeerManagerConfig {
            max_peers: 0,
            ..PeerManagerConfig::default()
        };
        assert_eq!(cfg.max_inbound(), 0);
    }

    #[test]
    fn no_dial_gives_every_slot_to_inbound() {
        let cfg = PeerManagerConfig {
            no_dial: true,
            max_peers: 2,
            ..PeerManagerConfig::default()
        };
        assert_eq!(cfg.max_outbound(), 0);
        assert_eq!(cfg.max_inbound(), 2);
    }

    #[test]
    fn zero_dial_ratio_means_the_default() {
        let cfg = PeerManagerConfig {
            dial_ratio: 0,
            ..PeerManagerConfig::default()
        };
        assert_eq!(cfg.max_outbound(), 16);
    }

    #[test]
    fn netrestrict_filters_ips() {
        let cfg = PeerManagerConfig {
            netrestrict: Some(Netlist::parse("10.0.0.0/8").unwrap()),
            ..PeerManagerConfig::default()
        };
        assert!(cfg.allows_ip("10.1.2.3".parse().unwrap()));
        assert!(cfg.allows_ip("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!cfg.allows_ip("11.1.2.3".parse().unwrap()));
        assert!(PeerManagerConfig::default().allows_ip("11.1.2.3".parse().unwrap()));
    }
}
