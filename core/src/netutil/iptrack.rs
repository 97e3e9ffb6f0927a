//! External endpoint prediction from peers' statements (go-ethereum `IPTracker`).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Most statements an [`IpTracker`] keeps; beyond it the oldest is forgotten.
///
/// go-ethereum bounds its maps only by the window. We also bound them by count so a flood of
/// statements from many addresses cannot grow memory: 1024 is several times the discovery
/// table (17 buckets of 16), so honest traffic never reaches it.
pub const MAX_TRACKED_STATEMENTS: usize = 1024;

/// Most contacts an [`IpTracker`] keeps; beyond it the oldest is forgotten (see
/// [`MAX_TRACKED_STATEMENTS`] for why there is a cap).
pub const MAX_TRACKED_CONTACTS: usize = 1024;

/// A value stamped with when it was recorded.
#[derive(Clone, Debug)]
struct Stamped<V> {
    value: V,
    at: Instant,
    /// Insertion number, unique, to order entries recorded at the same instant.
    seq: u64,
}

/// The latest value per host, forgetting old ones by age or when over capacity.
///
/// `by_age` indexes `entries` by time so expiry and eviction touch only what they remove.
#[derive(Clone, Debug)]
struct Recent<V> {
    entries: BTreeMap<IpAddr, Stamped<V>>,
    by_age: BTreeMap<(Instant, u64), IpAddr>,
    next_seq: u64,
    capacity: usize,
}

impl<V> Recent<V> {
    fn new(capacity: usize) -> Self {
        Self {
            entries: BTreeMap::new(),
            by_age: BTreeMap::new(),
            next_seq: 0,
            capacity,
        }
    }

    /// Records `value` for `host` at `at`, replacing what `host` had.
    fn insert(&mut self, host: IpAddr, value: V, at: Instant) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        if let Some(old) = self.entries.insert(host, Stamped { value, at, seq }) {
            self.by_age.remove(&(old.at, old.seq));
        }
        self.by_age.insert((at, seq), host);
        while self.entries.len() > self.capacity {
            match self.by_age.pop_first() {
                Some((_, oldest)) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
    }

    /// Forgets entries recorded more than `max_age` before `now` (exactly `max_age` stays, as
    /// go-ethereum's `time < now - window` cutoff).
    fn expire(&mut self, now: Instant, max_age: Duration) {
        while let Some((&(at, seq), &host)) = self.by_age.first_key_value() {
            if now.saturating_duration_since(at) <= max_age {
                break;
            }
            self.by_age.remove(&(at, seq));
            self.entries.remove(&host);
        }
    }

    fn get(&self, host: &IpAddr) -> Option<&Stamped<V>> {
        self.entries.get(host)
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Predicts our external endpoint from what peers say they see (Pong `to`), counting each
/// peer once within `window`, and whether we look like a full-cone NAT.
///
/// Inputs are [`add_statement`](Self::add_statement) (a peer told us our endpoint) and
/// [`add_contact`](Self::add_contact) (we sent a peer our endpoint); getters are
/// [`predict_endpoint`](Self::predict_endpoint) and
/// [`predict_full_cone`](Self::predict_full_cone). Every call takes `now` and forgets what
/// fell out of its window, so memory is bounded by the windows and by
/// [`MAX_TRACKED_STATEMENTS`] / [`MAX_TRACKED_CONTACTS`]. IPv4-mapped addresses count as IPv4.
#[derive(Clone, Debug)]
pub struct IpTracker {
    window: Duration,
    contact_window: Duration,
    min_statements: usize,
    /// Latest statement per peer: the endpoint it saw.
    statements: Recent<SocketAddr>,
    /// Latest contact per peer.
    contacts: Recent<()>,
}

/// `addr` with an IPv4-mapped IP turned into IPv4, so both spellings agree.
fn canonical_endpoint(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

impl IpTracker {
    /// go-ethereum's parameters: statements count for `window`, contacts for `contact_window`,
    /// at least `min_statements` distinct peers must agree.
    pub fn new(window: Duration, contact_window: Duration, min_statements: usize) -> Self {
        Self::with_capacity(
            window,
            contact_window,
            min_statements,
            MAX_TRACKED_STATEMENTS,
            MAX_TRACKED_CONTACTS,
        )
    }

    fn with_capacity(
        window: Duration,
        contact_window: Duration,
        min_statements: usize,
        max_statements: usize,
        max_contacts: usize,
    ) -> Self {
        Self {
            window,
            contact_window,
            min_statements,
            statements: Recent::new(max_statements),
            contacts: Recent::new(max_contacts),
        }
    }

    /// `from` says our endpoint is `endpoint`.
    ///
    /// A later statement from the same peer replaces its earlier one, so each peer counts once.
    pub fn add_statement(&mut self, from: IpAddr, endpoint: SocketAddr, now: Instant) {
        self.statements
            .insert(from.to_canonical(), canonical_endpoint(endpoint), now);
        self.statements.expire(now, self.window);
    }

    /// We sent a packet to `to` (for full-cone detection).
    pub fn add_contact(&mut self, to: IpAddr, now: Instant) {
        self.contacts.insert(to.to_canonical(), (), now);
        self.contacts.expire(now, self.contact_window);
    }

    /// The endpoint most peers agree on, if enough do.
    ///
    /// Only statements within `window` of `now` count, and at least `min_statements` peers
    /// must name the endpoint. On a tie the endpoint stated most recently wins (go-ethereum
    /// leaves ties to map order).
    pub fn predict_endpoint(&mut self, now: Instant) -> Option<SocketAddr> {
        self.statements.expire(now, self.window);
        // Endpoint → (peers naming it, latest statement).
        let mut tally: BTreeMap<SocketAddr, (usize, Instant)> = BTreeMap::new();
        for st in self.statements.entries.values() {
            let entry = tally.entry(st.value).or_insert((0, st.at));
            entry.0 += 1;
            entry.1 = entry.1.max(st.at);
        }
        tally
            .into_iter()
            .filter(|(_, (count, _))| *count >= self.min_statements)
            .max_by_key(|&(_, key)| key)
            .map(|(endpoint, _)| endpoint)
    }

    /// Whether statements came from peers we never contacted (full-cone NAT).
    ///
    /// True when some statement within `window` comes from a peer with no contact within
    /// `contact_window`, or whose last contact is later than its statement: a restricted NAT
    /// would have dropped that peer's packet, since we had not sent to it first.
    pub fn predict_full_cone(&mut self, now: Instant) -> bool {
        self.contacts.expire(now, self.contact_window);
        self.statements.expire(now, self.window);
        self.statements
            .entries
            .iter()
            .any(|(host, st)| match self.contacts.get(host) {
                None => true,
                Some(contact) => contact.at > st.at,
            })
    }

    /// Statements currently remembered (at most [`MAX_TRACKED_STATEMENTS`]).
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Contacts currently remembered (at most [`MAX_TRACKED_CONTACTS`]).
    pub fn contact_count(&self) -> usize {
        self.contacts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::test_clock::t0;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn sock(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    // Transcribed from /work/shared/vectors/netutil.json (`ip_tracker`), which comes from
    // go-ethereum p2p/netutil/iptrack_test.go at 02b73d4ea7181464175e0a6cbecc0a3a2655a562.
    const WINDOW: Duration = Duration::from_millis(10_000);
    const CONTACT_WINDOW: Duration = Duration::from_millis(10_000);
    const MIN_STATEMENTS: usize = 3;

    /// One step; the first field is `time_ms` after the base instant.
    enum Op {
        Predict(u64, Option<&'static str>),
        /// (time, endpoint, from)
        Statement(u64, &'static str, &'static str),
        Contact(u64, &'static str),
        CheckFullCone(u64, bool),
    }
    use Op::*;

    const MIN_STATEMENTS_SEQ: &[Op] = &[
        Predict(0, None),
        Statement(0, "127.0.0.1:8000", "127.0.0.2"),
        Predict(1000, None),
        Statement(1000, "127.0.0.1:8000", "127.0.0.3"),
        Predict(1000, None),
        Statement(1000, "127.0.0.1:8000", "127.0.0.4"),
        Predict(1000, Some("127.0.0.1:8000")),
    ];

    const WINDOW_SEQ: &[Op] = &[
        Statement(0, "127.0.0.1:8000", "127.0.0.2"),
        Statement(2000, "127.0.0.1:8000", "127.0.0.3"),
        Statement(3000, "127.0.0.1:8000", "127.0.0.4"),
        Predict(10000, Some("127.0.0.1:8000")),
        Predict(10001, None),
        Statement(10100, "127.0.0.1:8000", "127.0.0.2"),
        Predict(10200, Some("127.0.0.1:8000")),
    ];

    const FULLCONE_SEQ: &[Op] = &[
        Contact(0, "127.0.0.2"),
        Statement(10, "127.0.0.1:8000", "127.0.0.2"),
        Contact(2000, "127.0.0.3"),
        Statement(2010, "127.0.0.1:8000", "127.0.0.3"),
        Contact(3000, "127.0.0.4"),
        Statement(3010, "127.0.0.1:8000", "127.0.0.4"),
        CheckFullCone(3500, false),
    ];

    const FULLCONE_2_SEQ: &[Op] = &[
        Contact(0, "127.0.0.2"),
        Statement(10, "127.0.0.1:8000", "127.0.0.2"),
        Contact(2000, "127.0.0.3"),
        Statement(2010, "127.0.0.1:8000", "127.0.0.3"),
        Statement(3000, "127.0.0.1:8000", "127.0.0.4"),
        Contact(3010, "127.0.0.4"),
        CheckFullCone(3500, true),
    ];

    fn run(name: &str, ops: &[Op]) {
        let base = t0();
        let at = |ms: u64| base + Duration::from_millis(ms);
        let mut it = IpTracker::new(WINDOW, CONTACT_WINDOW, MIN_STATEMENTS);
        for (i, op) in ops.iter().enumerate() {
            match *op {
                Predict(t, want) => {
                    assert_eq!(it.predict_endpoint(at(t)), want.map(sock), "{name} op {i}");
                }
                Statement(t, endpoint, from) => it.add_statement(ip(from), sock(endpoint), at(t)),
                Contact(t, to) => it.add_contact(ip(to), at(t)),
                CheckFullCone(t, want) => {
                    assert_eq!(it.predict_full_cone(at(t)), want, "{name} op {i}");
                }
            }
        }
    }

    #[test]
    fn prediction_needs_min_statements() {
        run("minStatements", MIN_STATEMENTS_SEQ);
    }

    #[test]
    fn statements_expire_after_the_window() {
        run("window", WINDOW_SEQ);
    }

    #[test]
    fn contacted_peers_do_not_indicate_full_cone() {
        run("fullcone", FULLCONE_SEQ);
    }

    #[test]
    fn statement_before_contact_indicates_full_cone() {
        run("fullcone_2", FULLCONE_2_SEQ);
    }

    #[test]
    fn expired_contact_indicates_full_cone() {
        let base = t0();
        let mut it = IpTracker::new(Duration::from_secs(20), Duration::from_secs(10), 1);
        it.add_contact(ip("1.1.1.1"), base);
        it.add_statement(ip("1.1.1.1"), sock("9.9.9.9:30303"), base);
        assert!(!it.predict_full_cone(base + Duration::from_secs(10)));
        assert!(it.predict_full_cone(base + Duration::from_millis(10_001)));
        assert_eq!(it.contact_count(), 0);
    }

    #[test]
    fn each_peer_counts_once_with_its_latest_statement() {
        let base = t0();
        let mut it = IpTracker::new(WINDOW, CONTACT_WINDOW, 2);
        it.add_statement(ip("1.1.1.1"), sock("9.9.9.9:1"), base);
        it.add_statement(ip("1.1.1.1"), sock("9.9.9.9:1"), base);
        assert_eq!(it.predict_endpoint(base), None);
        it.add_statement(ip("2.2.2.2"), sock("9.9.9.9:1"), base);
        assert_eq!(it.predict_endpoint(base), Some(sock("9.9.9.9:1")));
        // Peer 1 changes its mind: only one peer left for :1.
        it.add_statement(ip("1.1.1.1"), sock("9.9.9.9:2"), base);
        assert_eq!(it.predict_endpoint(base), None);
        assert_eq!(it.statement_count(), 2);
    }

    #[test]
    fn majority_wins_and_ties_go_to_the_latest_statement() {
        let base = t0();
        let at = |ms: u64| base + Duration::from_millis(ms);
        let mut it = IpTracker::new(WINDOW, CONTACT_WINDOW, 1);
        it.add_statement(ip("1.0.0.1"), sock("9.9.9.9:1"), at(0));
        it.add_statement(ip("1.0.0.2"), sock("9.9.9.9:2"), at(1));
        assert_eq!(it.predict_endpoint(at(2)), Some(sock("9.9.9.9:2")));
        it.add_statement(ip("1.0.0.3"), sock("9.9.9.9:1"), at(3));
        it.add_statement(ip("1.0.0.4"), sock("9.9.9.9:2"), at(4));
        assert_eq!(it.predict_endpoint(at(5)), Some(sock("9.9.9.9:2")));
        it.add_statement(ip("1.0.0.5"), sock("9.9.9.9:1"), at(6));
        assert_eq!(it.predict_endpoint(at(7)), Some(sock("9.9.9.9:1")));
    }

    #[test]
    fn ipv4_mapped_peers_and_endpoints_count_as_ipv4() {
        let base = t0();
        let mut it = IpTracker::new(WINDOW, CONTACT_WINDOW, 2);
        it.add_contact(ip("::ffff:1.1.1.1"), base);
        it.add_statement(ip("1.1.1.1"), sock("[::ffff:9.9.9.9]:7"), base);
        it.add_statement(ip("::ffff:1.1.1.1"), sock("9.9.9.9:7"), base);
        it.add_statement(ip("2.2.2.2"), sock("9.9.9.9:7"), base);
        assert_eq!(it.statement_count(), 2);
        assert_eq!(it.predict_endpoint(base), Some(sock("9.9.9.9:7")));
        it.add_contact(ip("2.2.2.2"), base);
        assert!(!it.predict_full_cone(base));
    }

    #[test]
    fn over_capacity_the_oldest_entries_are_dropped() {
        let base = t0();
        let at = |ms: u64| base + Duration::from_millis(ms);
        let mut it = IpTracker::with_capacity(WINDOW, CONTACT_WINDOW, 1, 2, 2);
        it.add_statement(ip("1.0.0.1"), sock("9.9.9.9:1"), at(0));
        it.add_statement(ip("1.0.0.2"), sock("9.9.9.9:2"), at(1));
        // Refreshing 1.0.0.1 makes 1.0.0.2 the oldest.
        it.add_statement(ip("1.0.0.1"), sock("9.9.9.9:1"), at(2));
        it.add_statement(ip("1.0.0.3"), sock("9.9.9.9:3"), at(3));
        assert_eq!(it.statement_count(), 2);
        assert!(it.statements.get(&ip("1.0.0.2")).is_none());
        assert!(it.statements.get(&ip("1.0.0.1")).is_some());
        for i in 0..5u8 {
            it.add_contact(IpAddr::from([2, 0, 0, i]), at(10));
        }
        assert_eq!(it.contact_count(), 2);
        assert!(it.contacts.get(&IpAddr::from([2, 0, 0, 4])).is_some());
    }

    fn assert_consistent<V>(r: &Recent<V>) {
        assert_eq!(r.entries.len(), r.by_age.len());
        for (&(at, seq), host) in &r.by_age {
            let e = &r.entries[host];
            assert_eq!((e.at, e.seq), (at, seq));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn memory_stays_bounded_under_many_statements(
            steps in prop::collection::vec(
                (any::<u32>(), 0u16..4, 0u64..3, any::<bool>()), 1..3000),
        ) {
            let base = t0();
            let mut now = base;
            let mut it = IpTracker::new(WINDOW, CONTACT_WINDOW, 3);
            for (from, port, advance_ms, contact) in steps {
                now += Duration::from_millis(advance_ms);
                let from = IpAddr::from(from.to_be_bytes());
                it.add_statement(from, SocketAddr::new(ip("9.9.9.9"), port), now);
                if contact {
                    it.add_contact(from, now);
                }
                prop_assert!(it.statement_count() <= MAX_TRACKED_STATEMENTS);
                prop_assert!(it.contact_count() <= MAX_TRACKED_CONTACTS);
            }
            assert_consistent(&it.statements);
            assert_consistent(&it.contacts);
            // Every remembered statement is within the window and the prediction is one of
            // the stated endpoints.
            if let Some(ep) = it.predict_endpoint(now) {
                prop_assert!(ep.port() < 4);
            }
            prop_assert!(it
                .statements
                .entries
                .values()
                .all(|s| now.duration_since(s.at) <= WINDOW));
        }
    }
}
