//! A bounded map whose entries expire, indexed by expiry so that sweeps and evictions cost
//! O(log n). Backs the inbound throttle, the dial history, forgotten peers and bans.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Far enough in the future to mean "never" when a configured duration overflows `Instant`.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + d`, saturating at a far-future instant instead of panicking on overflow (durations
/// come from configuration and from the node database).
pub(crate) fn deadline(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}

/// Entries keyed by `K`, each live until its expiry instant (exclusive), at most `cap` of them.
/// When full, inserting evicts the entry that expires first.
#[derive(Clone, Debug)]
pub(crate) struct ExpiringMap<K, V> {
    entries: BTreeMap<K, (Instant, V)>,
    by_expiry: BTreeSet<(Instant, K)>,
    cap: usize,
}

impl<K: Ord + Copy, V> ExpiringMap<K, V> {
    /// An empty map holding at most `cap` entries.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            entries: BTreeMap::new(),
            by_expiry: BTreeSet::new(),
            cap,
        }
    }

    /// Inserts or replaces `key`, live until `until`. Returns the entry evicted to make room,
    /// if any. With a capacity of zero nothing is stored.
    pub(crate) fn insert(&mut self, key: K, until: Instant, value: V) -> Option<(K, V)> {
        self.remove(&key);
        if self.cap == 0 {
            return None;
        }
        let mut evicted = None;
        if self.entries.len() >= self.cap {
            if let Some((_, oldest)) = self.by_expiry.pop_first() {
                evicted = self.entries.remove(&oldest).map(|(_, v)| (oldest, v));
            }
        }
        self.entries.insert(key, (until, value));
        self.by_expiry.insert((until, key));
        evicted
    }

    /// The value of `key` if it is still live at `now`.
    pub(crate) fn get(&self, key: &K, now: Instant) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(until, _)| *until > now)
            .map(|(_, v)| v)
    }

    /// Whether `key` is live at `now`.
    pub(crate) fn contains(&self, key: &K, now: Instant) -> bool {
        self.get(key, now).is_some()
    }

    /// Removes `key`, returning its value.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let (until, value) = self.entries.remove(key)?;
        self.by_expiry.remove(&(until, *key));
        Some(value)
    }

    /// Removes and returns one entry whose expiry is at or before `now`, earliest first.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<(K, V)> {
        let &(until, key) = self.by_expiry.first()?;
        if until > now {
            return None;
        }
        self.by_expiry.pop_first();
        self.entries.remove(&key).map(|(_, v)| (key, v))
    }

    /// Drops every entry expired at `now`.
    pub(crate) fn sweep(&mut self, now: Instant) {
        while self.pop_expired(now).is_some() {}
    }

    /// The earliest expiry of any stored entry.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.by_expiry.first().map(|(until, _)| *until)
    }

    /// Number of stored entries (live or not yet swept).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Stored entries in key order, with their expiry.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, Instant, &V)> {
        self.entries.iter().map(|(k, (until, v))| (k, *until, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn entries_expire_at_their_deadline() {
        let now = t0();
        let mut m = ExpiringMap::new(4);
        m.insert(1u8, now + secs(10), ());
        assert!(m.contains(&1, now + secs(9)));
        assert!(!m.contains(&1, now + secs(10)));
        assert_eq!(m.pop_expired(now + secs(9)), None);
        assert_eq!(m.pop_expired(now + secs(10)), Some((1, ())));
        assert_eq!(m.len(), 0);
    }

    #[test]
    fn full_map_evicts_the_entry_expiring_first() {
        let now = t0();
        let mut m = ExpiringMap::new(2);
        m.insert(1u8, now + secs(30), 'a');
        m.insert(2u8, now + secs(10), 'b');
        assert_eq!(m.insert(3u8, now + secs(20), 'c'), Some((2, 'b')));
        assert_eq!(m.len(), 2);
        assert_eq!(m.next_expiry(), Some(now + secs(20)));
    }

    #[test]
    fn reinserting_a_key_moves_its_expiry_without_growing() {
        let now = t0();
        let mut m = ExpiringMap::new(2);
        m.insert(1u8, now + secs(5), ());
        m.insert(1u8, now + secs(50), ());
        assert_eq!(m.len(), 1);
        assert_eq!(m.next_expiry(), Some(now + secs(50)));
        m.sweep(now + secs(10));
        assert!(m.contains(&1, now + secs(10)));
    }

    #[test]
    fn zero_capacity_stores_nothing() {
        let mut m = ExpiringMap::new(0);
        assert_eq!(m.insert(1u8, t0(), ()), None);
        assert_eq!(m.len(), 0);
    }

    #[test]
    fn deadline_saturates_instead_of_panicking() {
        let now = t0();
        assert!(deadline(now, Duration::MAX) > now);
        assert_eq!(deadline(now, secs(3)), now + secs(3));
    }
}
