//! Per-peer and per-protocol message-rate budgets (token buckets on messages and bytes), and
//! the escalation applied to a peer that keeps exceeding them: throttle, then penalise its
//! reputation, then drop it. go-ethereum has no such limits; the defaults are generous enough
//! that an honest peer, including one serving snap sync responses, never reaches them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What the host should do with a message, as decided by
/// [`PeerManager::on_message`](super::PeerManager::on_message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateVerdict {
    /// Within budget: process it.
    Ok,
    /// Over budget: discard it (and log the throttling).
    Throttle,
    /// Over budget again and again: discard it; the peer's reputation was lowered.
    Penalize,
    /// Over budget too often: discard it; the peer is being disconnected (the `Disconnect`
    /// action is queued).
    Drop,
}

/// A token-bucket budget on both message count and bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained messages per second.
    pub messages_per_sec: u64,
    /// Messages allowed in a burst.
    pub message_burst: u64,
    /// Sustained bytes per second.
    pub bytes_per_sec: u64,
    /// Bytes allowed in a burst; must exceed the largest message, or that message never
    /// passes.
    pub byte_burst: u64,
}

/// Default budget of one peer over all its protocols.
pub const PEER_RATE_LIMIT: RateLimit = RateLimit {
    messages_per_sec: 1000,
    message_burst: 2000,
    bytes_per_sec: 32 * 1024 * 1024,
    byte_burst: 64 * 1024 * 1024,
};

/// Default budget of one peer on one protocol (half the peer budget, so flooding one protocol
/// is caught before it starves the others; the byte burst exceeds eth's 10 MiB message cap).
pub const PROTOCOL_RATE_LIMIT: RateLimit = RateLimit {
    messages_per_sec: 500,
    message_burst: 1000,
    bytes_per_sec: 16 * 1024 * 1024,
    byte_burst: 32 * 1024 * 1024,
};

/// Message-rate parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Budget of a peer over all protocols (`None`: unlimited).
    pub per_peer: Option<RateLimit>,
    /// Budget of a peer on any protocol without an override (`None`: unlimited).
    pub per_protocol: Option<RateLimit>,
    /// Budgets of particular protocols, by capability name (`"eth"`, `"snap"`).
    pub protocol_overrides: BTreeMap<String, RateLimit>,
    /// Throttled messages after which the peer is penalised.
    pub throttles_before_penalty: u32,
    /// Penalties after which the peer is dropped.
    pub penalties_before_drop: u32,
    /// A peer that has not been throttled for this long has its strikes forgiven.
    pub strike_reset: Duration,
    /// Most protocol budgets tracked per peer; messages of further protocols are charged to
    /// the peer budget only.
    pub max_protocols_per_peer: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_peer: Some(PEER_RATE_LIMIT),
            per_protocol: Some(PROTOCOL_RATE_LIMIT),
            protocol_overrides: BTreeMap::new(),
            throttles_before_penalty: 16,
            penalties_before_drop: 3,
            strike_reset: Duration::from_secs(60),
            max_protocols_per_peer: 16,
        }
    }
}

impl RateLimitConfig {
    fn protocol_limit(&self, protocol: &str) -> Option<&RateLimit> {
        self.protocol_overrides
            .get(protocol)
            .or(self.per_protocol.as_ref())
    }
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// One token bucket, in nano-tokens so refills are exact integers.
#[derive(Clone, Copy, Debug)]
struct TokenBucket {
    nanotokens: u128,
    last: Instant,
}

impl TokenBucket {
    fn full(burst: u64, now: Instant) -> Self {
        Self {
            nanotokens: u128::from(burst) * NANOS_PER_SEC,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant, per_sec: u64, burst: u64) {
        let elapsed = now.saturating_duration_since(self.last).as_nanos();
        let added = elapsed.saturating_mul(u128::from(per_sec));
        self.nanotokens = self
            .nanotokens
            .saturating_add(added)
            .min(u128::from(burst) * NANOS_PER_SEC);
        self.last = self.last.max(now);
    }

    fn has(&self, tokens: u64) -> bool {
        self.nanotokens >= u128::from(tokens) * NANOS_PER_SEC
    }

    fn take(&mut self, tokens: u64) {
        self.nanotokens = self
            .nanotokens
            .saturating_sub(u128::from(tokens) * NANOS_PER_SEC);
    }
}

/// Message and byte buckets under one [`RateLimit`].
#[derive(Clone, Copy, Debug)]
struct Budget {
    messages: TokenBucket,
    bytes: TokenBucket,
}

impl Budget {
    fn new(limit: &RateLimit, now: Instant) -> Self {
        Self {
            messages: TokenBucket::full(limit.message_burst, now),
            bytes: TokenBucket::full(limit.byte_burst, now),
        }
    }

    /// Refills to `now` and tells whether one message of `bytes` fits.
    fn allows(&mut self, now: Instant, limit: &RateLimit, bytes: u64) -> bool {
        self.messages
            .refill(now, limit.messages_per_sec, limit.message_burst);
        self.bytes
            .refill(now, limit.bytes_per_sec, limit.byte_burst);
        self.messages.has(1) && self.bytes.has(bytes)
    }

    fn take(&mut self, bytes: u64) {
        self.messages.take(1);
        self.bytes.take(bytes);
    }
}

/// Budgets and strikes of one connected peer.
#[derive(Clone, Debug)]
pub(crate) struct PeerRates {
    peer: Option<Budget>,
    protocols: BTreeMap<String, Budget>,
    throttles: u32,
    penalties: u32,
    last_throttle: Option<Instant>,
}

impl PeerRates {
    /// Fresh budgets, full.
    pub(crate) fn new(now: Instant, cfg: &RateLimitConfig) -> Self {
        Self {
            peer: cfg.per_peer.as_ref().map(|l| Budget::new(l, now)),
            protocols: BTreeMap::new(),
            throttles: 0,
            penalties: 0,
            last_throttle: None,
        }
    }

    /// Charges one message of `bytes` on `protocol` and decides its fate.
    pub(crate) fn check(
        &mut self,
        now: Instant,
        cfg: &RateLimitConfig,
        protocol: &str,
        bytes: usize,
    ) -> RateVerdict {
        if let Some(last) = self.last_throttle {
            if now.saturating_duration_since(last) >= cfg.strike_reset {
                self.throttles = 0;
                self.penalties = 0;
                self.last_throttle = None;
            }
        }
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        let peer_ok = match (self.peer.as_mut(), cfg.per_peer.as_ref()) {
            (Some(budget), Some(limit)) => budget.allows(now, limit, bytes),
            _ => true,
        };
        let proto_limit = cfg.protocol_limit(protocol);
        if let Some(limit) = proto_limit {
            if !self.protocols.contains_key(protocol)
                && self.protocols.len() < cfg.max_protocols_per_peer
            {
                self.protocols
                    .insert(protocol.to_owned(), Budget::new(limit, now));
            }
        }
        let proto_ok = match (self.protocols.get_mut(protocol), proto_limit) {
            (Some(budget), Some(limit)) => budget.allows(now, limit, bytes),
            _ => true,
        };
        if peer_ok && proto_ok {
            if let Some(b) = self.peer.as_mut() {
                b.take(bytes);
            }
            if let Some(b) = self.protocols.get_mut(protocol) {
                b.take(bytes);
            }
            return RateVerdict::Ok;
        }
        self.last_throttle = Some(now);
        self.throttles = self.throttles.saturating_add(1);
        if self.throttles < cfg.throttles_before_penalty {
            return RateVerdict::Throttle;
        }
        self.throttles = 0;
        self.penalties = self.penalties.saturating_add(1);
        if self.penalties >= cfg.penalties_before_drop {
            RateVerdict::Drop
        } else {
            RateVerdict::Penalize
        }
    }

    /// Number of protocol budgets tracked.
    pub(crate) fn protocol_count(&self) -> usize {
        self.protocols.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn small() -> RateLimitConfig {
        RateLimitConfig {
            per_peer: Some(RateLimit {
                messages_per_sec: 10,
                message_burst: 10,
                bytes_per_sec: 1000,
                byte_burst: 1000,
            }),
            per_protocol: Some(RateLimit {
                messages_per_sec: 5,
                message_burst: 5,
                bytes_per_sec: 1000,
                byte_burst: 1000,
            }),
            throttles_before_penalty: 2,
            penalties_before_drop: 2,
            ..RateLimitConfig::default()
        }
    }

    #[test]
    fn burst_passes_then_the_excess_is_throttled() {
        let cfg = small();
        let now = t0();
        let mut r = PeerRates::new(now, &cfg);
        for _ in 0..5 {
            assert_eq!(r.check(now, &cfg, "eth", 10), RateVerdict::Ok);
        }
        assert_eq!(r.check(now, &cfg, "eth", 10), RateVerdict::Throttle);
        // Another protocol still has budget under the peer budget.
        assert_eq!(r.check(now, &cfg, "snap", 10), RateVerdict::Ok);
    }

    #[test]
    fn noisy_peer_is_throttled_then_penalised_then_dropped() {
        let cfg = small();
        let now = t0();
        let mut r = PeerRates::new(now, &cfg);
        let verdicts: Vec<_> = (0..9).map(|_| r.check(now, &cfg, "eth", 1)).collect();
        assert_eq!(
            verdicts[5..],
            [
                RateVerdict::Throttle,
                RateVerdict::Penalize,
                RateVerdict::Throttle,
                RateVerdict::Drop
            ]
        );
    }

    #[test]
    fn buckets_refill_over_time() {
        let cfg = RateLimitConfig {
            throttles_before_penalty: 100,
            ..small()
        };
        let now = t0();
        let mut r = PeerRates::new(now, &cfg);
        for _ in 0..5 {
            r.check(now, &cfg, "eth", 1);
        }
        assert_eq!(r.check(now, &cfg, "eth", 1), RateVerdict::Throttle);
        let later = now + Duration::from_millis(200);
        assert_eq!(r.check(later, &cfg, "eth", 1), RateVerdict::Ok);
        assert_eq!(r.check(later, &cfg, "eth", 1), RateVerdict::Throttle);
    }

    #[test]
    fn strikes_are_forgiven_after_a_quiet_period() {
        let cfg = small();
        let now = t0();
        let mut r = PeerRates::new(now, &cfg);
        for _ in 0..7 {
            r.check(now, &cfg, "eth", 1);
        }
        let later = now + cfg.strike_reset;
        for _ in 0..5 {
            assert_eq!(r.check(later, &cfg, "eth", 1), RateVerdict::Ok);
        }
        assert_eq!(r.check(later, &cfg, "eth", 1), RateVerdict::Throttle);
    }

    #[test]
    fn message_larger_than_the_byte_burst_never_passes() {
        let cfg = small();
        let now = t0();
        let mut r = PeerRates::new(now, &cfg);
        assert_eq!(r.check(now, &cfg, "eth", 1001), RateVerdict::Throttle);
        assert_eq!(r.check(now, &cfg, "eth", 1000), RateVerdict::Ok);
    }

    #[test]
    fn protocol_budgets_per_peer_are_bounded() {
        let cfg = RateLimitConfig {
            max_protocols_per_peer: 2,
            ..small()
        };
        let now = t0();
        let mut r = PeerRates::new(now, &cfg);
        for name in ["a", "b", "c", "d"] {
            assert_eq!(r.check(now, &cfg, name, 1), RateVerdict::Ok);
        }
        assert_eq!(r.protocol_count(), 2);
    }

    #[test]
    fn unlimited_config_never_throttles() {
        let cfg = RateLimitConfig {
            per_peer: None,
            per_protocol: None,
            ..RateLimitConfig::default()
        };
        let now = t0();
        let mut r = PeerRates::new(now, &cfg);
        for _ in 0..10_000 {
            assert_eq!(r.check(now, &cfg, "eth", usize::MAX), RateVerdict::Ok);
        }
    }
}
