//! Per-source-IP token buckets, checked before a datagram is decoded (signature recovery is
//! the expensive part), so a flood from one address costs little. The map of addresses is
//! bounded: when full, the address tracked longest is forgotten.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::time::Instant;

/// Source addresses tracked at once; beyond this the oldest is evicted. Forgetting an address
/// only refills its bucket, so the bound trades a little precision for fixed memory.
pub(crate) const MAX_TRACKED_IPS: usize = 4096;

#[derive(Clone, Copy, Debug)]
struct TokenBucket {
    /// Tokens in thousandths, so refills need no floating point.
    milli_tokens: u64,
    last: Instant,
}

/// Token buckets per source IP: `rate` packets per second with a burst of `rate`.
#[derive(Clone, Debug)]
pub(crate) struct RateLimiter {
    rate: u64,
    buckets: BTreeMap<IpAddr, TokenBucket>,
    order: VecDeque<IpAddr>,
    cap: usize,
}

impl RateLimiter {
    /// A limiter allowing `rate` packets per second per IP (0 disables it), tracking at most
    /// `cap` addresses.
    pub fn new(rate: u32, cap: usize) -> Self {
        Self {
            rate: u64::from(rate),
            buckets: BTreeMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Whether a packet from `ip` may be processed now (and takes a token if so). Loopback
    /// sources are not limited: they are processes on this host (local testnets run many
    /// nodes behind 127.0.0.1), not remote flooders.
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.rate == 0 || ip.is_loopback() {
            return true;
        }
        let full = self.rate.saturating_mul(1000);
        if !self.buckets.contains_key(&ip) {
            while self.buckets.len() >= self.cap {
                match self.order.pop_front() {
                    Some(old) => {
                        self.buckets.remove(&old);
                    }
                    None => break,
                }
            }
            self.buckets.insert(
                ip,
                TokenBucket {
                    milli_tokens: full,
                    last: now,
                },
            );
            self.order.push_back(ip);
        }
        let Some(b) = self.buckets.get_mut(&ip) else {
            return false;
        };
        let elapsed_ms = now.saturating_duration_since(b.last).as_millis();
        let refill = u64::try_from(elapsed_ms)
            .unwrap_or(u64::MAX)
            .saturating_mul(self.rate);
        if refill > 0 {
            b.milli_tokens = b.milli_tokens.saturating_add(refill).min(full);
            b.last = now;
        }
        if b.milli_tokens >= 1000 {
            b.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }

    /// Addresses tracked.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discv4::test_util::t0;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn burst_above_rate_is_refused_then_refills() {
        let t = t0();
        let mut rl = RateLimiter::new(5, 16);
        let ok = (0..10).filter(|_| rl.allow(ip(1), t)).count();
        assert_eq!(ok, 5);
        assert!(!rl.allow(ip(1), t + Duration::from_millis(100)));
        assert!(rl.allow(ip(1), t + Duration::from_millis(200)));
        // Another address has its own bucket.
        assert!(rl.allow(ip(2), t));
    }

    #[test]
    fn refill_never_exceeds_the_burst() {
        let t = t0();
        let mut rl = RateLimiter::new(3, 16);
        assert!(rl.allow(ip(1), t));
        let later = t + Duration::from_secs(3600);
        let ok = (0..10).filter(|_| rl.allow(ip(1), later)).count();
        assert_eq!(ok, 3);
    }

    #[test]
    fn tracked_addresses_are_bounded_and_oldest_is_evicted() {
        let t = t0();
        let mut rl = RateLimiter::new(1, 4);
        for n in 0..100 {
            rl.allow(ip(n), t);
            assert!(rl.len() <= 4);
        }
        // ip(0) was forgotten, so it has a fresh token again; ip(99) has none left.
        assert!(rl.allow(ip(0), t));
        assert!(!rl.allow(ip(99), t));
    }

    #[test]
    fn loopback_is_not_limited() {
        let t = t0();
        let mut rl = RateLimiter::new(1, 4);
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!((0..100).all(|_| rl.allow(lo, t)));
        assert!(rl.allow(ip(1), t));
        assert!(!rl.allow(ip(1), t));
    }

    #[test]
    fn zero_rate_disables_the_limit() {
        let t = t0();
        let mut rl = RateLimiter::new(0, 4);
        assert!((0..1000).all(|_| rl.allow(ip(1), t)));
        assert_eq!(rl.len(), 0);
    }
}
