//! Bans by node id and by IP address, with expiry. Bans are reported to the host as
//! [`Ban`] records carrying unix-second expiries so it can persist them in the node database
//! and hand them back through
//! [`PeerManager::restore_bans`](super::PeerManager::restore_bans) after a restart.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::types::{PeerId, WallClock};

use super::expiring::{deadline, ExpiringMap};

/// Default ban for a peer whose reputation fell below the threshold (DESIGN §6).
pub const BAN_DURATION: Duration = Duration::from_secs(12 * 3600);
/// Default ban for a static or trusted peer: the operator wants it back soon.
pub const SHORT_BAN_DURATION: Duration = Duration::from_secs(5 * 60);
/// Default cap on stored bans (ids and IPs together).
pub const MAX_BANS: usize = 4096;

/// What a ban applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BanTarget {
    /// A node identity.
    Peer(PeerId),
    /// An IP address (IPv4-mapped IPv6 addresses are stored as IPv4).
    Ip(IpAddr),
}

impl BanTarget {
    /// The target with its IP in canonical form.
    fn canonical(self) -> Self {
        match self {
            BanTarget::Ip(ip) => BanTarget::Ip(ip.to_canonical()),
            peer => peer,
        }
    }
}

/// Why a ban was imposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BanReason {
    /// The peer's reputation fell below the threshold.
    Reputation,
    /// The operator (or the host on its behalf) asked for it.
    Manual,
}

impl BanReason {
    /// A stable code for persistence.
    pub fn code(self) -> u8 {
        match self {
            BanReason::Reputation => 1,
            BanReason::Manual => 2,
        }
    }

    /// The reason for a persisted code; unknown codes read as [`BanReason::Manual`].
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => BanReason::Reputation,
            _ => BanReason::Manual,
        }
    }

    /// A short label for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            BanReason::Reputation => "reputation",
            BanReason::Manual => "manual",
        }
    }
}

/// A ban as the host persists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ban {
    /// Who is banned.
    pub target: BanTarget,
    /// Unix seconds at which the ban ends.
    pub expires_unix: u64,
    /// Why.
    pub reason: BanReason,
}

/// Ban parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BanConfig {
    /// Ban for a reputation below the threshold.
    pub duration: Duration,
    /// The same for static and trusted peers.
    pub short_duration: Duration,
    /// Most bans stored; when full, the ban ending first is dropped.
    pub max_entries: usize,
}

impl Default for BanConfig {
    fn default() -> Self {
        Self {
            duration: BAN_DURATION,
            short_duration: SHORT_BAN_DURATION,
            max_entries: MAX_BANS,
        }
    }
}

/// The bans in force.
#[derive(Clone, Debug)]
pub(crate) struct BanList {
    entries: ExpiringMap<BanTarget, BanReason>,
}

impl BanList {
    /// An empty list holding at most `cap` bans.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            entries: ExpiringMap::new(cap),
        }
    }

    /// Bans `target` until `until`, replacing an existing ban of it. Returns a ban dropped to
    /// make room, if any.
    pub(crate) fn insert(
        &mut self,
        target: BanTarget,
        until: Instant,
        reason: BanReason,
    ) -> Option<BanTarget> {
        self.entries
            .insert(target.canonical(), until, reason)
            .map(|(t, _)| t)
    }

    /// Lifts the ban of `target`; false if there was none.
    pub(crate) fn remove(&mut self, target: &BanTarget) -> bool {
        self.entries.remove(&target.canonical()).is_some()
    }

    /// Whether `target` is banned at `now`.
    pub(crate) fn is_banned(&self, target: &BanTarget, now: Instant) -> bool {
        self.entries.contains(&target.canonical(), now)
    }

    /// Whether `peer` is banned at `now`.
    pub(crate) fn peer_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.is_banned(&BanTarget::Peer(*peer), now)
    }

    /// Whether `ip` is banned at `now`.
    pub(crate) fn ip_banned(&self, ip: IpAddr, now: Instant) -> bool {
        self.is_banned(&BanTarget::Ip(ip), now)
    }

    /// Removes and returns one ban ended at `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<BanTarget> {
        self.entries.pop_expired(now).map(|(t, _)| t)
    }

    /// When the next ban ends.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.entries.next_expiry()
    }

    /// Number of stored bans.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The bans as persistable records, in target order.
    pub(crate) fn records(&self, clock: &WallClock) -> Vec<Ban> {
        self.entries
            .iter()
            .map(|(target, until, reason)| Ban {
                target: *target,
                expires_unix: clock.unix_secs_at(until),
                reason: *reason,
            })
            .collect()
    }

    /// The instant a persisted ban ends, or `None` if it has already ended at `now`.
    pub(crate) fn restore_until(ban: &Ban, clock: &WallClock, now: Instant) -> Option<Instant> {
        let left = ban.expires_unix.checked_sub(clock.unix_secs_at(now))?;
        (left > 0).then(|| deadline(now, Duration::from_secs(left)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn mapped_ipv6_and_ipv4_are_one_target() {
        let now = t0();
        let mut bans = BanList::new(8);
        let mapped = IpAddr::V6(
            "1.2.3.4"
                .parse::<std::net::Ipv4Addr>()
                .unwrap()
                .to_ipv6_mapped(),
        );
        bans.insert(BanTarget::Ip(mapped), now + BAN_DURATION, BanReason::Manual);
        assert!(bans.ip_banned(ip("1.2.3.4"), now));
        assert!(!bans.ip_banned(IpAddr::V6(Ipv6Addr::LOCALHOST), now));
        assert!(bans.remove(&BanTarget::Ip(ip("1.2.3.4"))));
        assert_eq!(bans.len(), 0);
    }

    #[test]
    fn bans_end_at_their_expiry() {
        let now = t0();
        let mut bans = BanList::new(8);
        let p = PeerId([7; 64]);
        bans.insert(
            BanTarget::Peer(p),
            now + SHORT_BAN_DURATION,
            BanReason::Reputation,
        );
        assert!(bans.peer_banned(&p, now + SHORT_BAN_DURATION - Duration::from_secs(1)));
        assert!(!bans.peer_banned(&p, now + SHORT_BAN_DURATION));
        assert_eq!(bans.pop_expired(now), None);
        assert_eq!(
            bans.pop_expired(now + SHORT_BAN_DURATION),
            Some(BanTarget::Peer(p))
        );
    }

    #[test]
    fn records_round_trip_through_unix_seconds() {
        let now = t0();
        let clock = WallClock {
            at: now,
            unix_secs: 1_700_000_000,
        };
        let mut bans = BanList::new(8);
        bans.insert(
            BanTarget::Ip(ip("9.9.9.9")),
            now + BAN_DURATION,
            BanReason::Reputation,
        );
        let recs = bans.records(&clock);
        assert_eq!(
            recs,
            vec![Ban {
                target: BanTarget::Ip(ip("9.9.9.9")),
                expires_unix: 1_700_000_000 + 12 * 3600,
                reason: BanReason::Reputation,
            }]
        );
        // One hour later, after a restart with a new anchor, 11 h remain.
        let later = now + Duration::from_secs(3600);
        let clock2 = WallClock {
            at: later,
            unix_secs: 1_700_003_600,
        };
        let until = BanList::restore_until(&recs[0], &clock2, later).unwrap();
        assert_eq!(until, later + Duration::from_secs(11 * 3600));
        let expired = Ban {
            expires_unix: 1_700_003_600,
            ..recs[0]
        };
        assert_eq!(BanList::restore_until(&expired, &clock2, later), None);
    }

    #[test]
    fn ban_reason_codes_round_trip() {
        for r in [BanReason::Reputation, BanReason::Manual] {
            assert_eq!(BanReason::from_code(r.code()), r);
        }
        assert_eq!(BanReason::from_code(99), BanReason::Manual);
    }

    #[test]
    fn full_list_drops_the_ban_ending_first() {
        let now = t0();
        let mut bans = BanList::new(1);
        bans.insert(
            BanTarget::Ip(ip("1.1.1.1")),
            now + Duration::from_secs(5),
            BanReason::Manual,
        );
        let dropped = bans.insert(
            BanTarget::Ip(ip("2.2.2.2")),
            now + BAN_DURATION,
            BanReason::Manual,
        );
        assert_eq!(dropped, Some(BanTarget::Ip(ip("1.1.1.1"))));
        assert_eq!(bans.len(), 1);
    }
}
