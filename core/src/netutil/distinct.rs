//! Per-subnet admission limits (go-ethereum `DistinctNetSet`), used by the discovery table so
//! one operator cannot fill a bucket or the whole table from a single network.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::ip::truncate;

/// Counts addresses per subnet of `subnet_bits` and refuses more than `limit` in one subnet.
///
/// The subnet of an address is its first `subnet_bits` bits (the whole address if it is
/// shorter); IPv4-mapped addresses count as IPv4, and IPv4 and IPv6 subnets never coincide.
/// The set stores one counter per occupied subnet, not the addresses themselves.
#[derive(Clone, Debug, Default)]
pub struct DistinctNetSet {
    subnet_bits: u32,
    limit: usize,
    /// Occupied subnet (address with host bits cleared) → members, never 0.
    members: BTreeMap<IpAddr, usize>,
    /// Sum of `members`' counts.
    total: usize,
}

impl DistinctNetSet {
    /// A set with the given subnet size and per-subnet limit.
    pub fn new(subnet_bits: u32, limit: usize) -> Self {
        Self {
            subnet_bits,
            limit,
            members: BTreeMap::new(),
            total: 0,
        }
    }

    fn key(&self, ip: IpAddr) -> IpAddr {
        truncate(ip, self.subnet_bits)
    }

    /// Adds `ip`; false (and no change) if its subnet is full.
    pub fn add(&mut self, ip: IpAddr) -> bool {
        let key = self.key(ip);
        let count = self.members.entry(key).or_insert(0);
        if *count < self.limit {
            *count += 1;
            self.total += 1;
            true
        } else {
            if *count == 0 {
                // Only reachable with limit 0: do not keep an empty subnet around.
                self.members.remove(&key);
            }
            false
        }
    }

    /// Removes one occurrence of `ip`'s subnet.
    ///
    /// Any address of the subnet will do, as the set only counts; removing from an empty
    /// subnet does nothing.
    pub fn remove(&mut self, ip: IpAddr) {
        let key = self.key(ip);
        if let Some(count) = self.members.get_mut(&key) {
            *count -= 1;
            self.total -= 1;
            if *count == 0 {
                self.members.remove(&key);
            }
        }
    }

    /// Whether `ip`'s subnet has any member.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.members.contains_key(&self.key(ip))
    }

    /// Total members.
    pub fn len(&self) -> usize {
        self.total
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Members in `ip`'s subnet.
    pub fn count(&self, ip: IpAddr) -> usize {
        self.members.get(&self.key(ip)).copied().unwrap_or(0)
    }

    /// Number of leading bits that define a subnet.
    pub fn subnet_bits(&self) -> u32 {
        self.subnet_bits
    }

    /// Most members allowed per subnet.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netutil::same_net;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // Transcribed from /work/shared/vectors/netutil.json (`distinct_net_set`), which comes from
    // go-ethereum p2p/netutil/net_test.go at 02b73d4ea7181464175e0a6cbecc0a3a2655a562.
    const VECTOR_SUBNET_BITS: u32 = 15;
    const VECTOR_LIMIT: usize = 2;
    enum Op {
        /// Add; the bool is whether the add is refused.
        Add(&'static str, bool),
        Remove(&'static str),
    }
    const VECTOR_OPS: &[Op] = &[
        Op::Add("127.0.0.1", false),
        Op::Add("127.0.0.2", false),
        Op::Add("127.0.0.3", true),
        Op::Add("127.32.0.1", false),
        Op::Add("127.32.0.2", false),
        Op::Add("127.32.0.3", true),
        Op::Add("127.33.0.1", true),
        Op::Add("127.34.0.1", false),
        Op::Add("127.34.0.2", false),
        Op::Add("127.34.0.3", true),
        Op::Remove("127.0.0.1"),
        Op::Add("127.0.0.3", false),
        Op::Add("127.0.0.3", true),
    ];

    #[test]
    fn op_sequence_matches_geth_vector() {
        let mut set = DistinctNetSet::new(VECTOR_SUBNET_BITS, VECTOR_LIMIT);
        let mut expected_len = 0;
        for (i, op) in VECTOR_OPS.iter().enumerate() {
            match *op {
                Op::Add(addr, fails) => {
                    assert_eq!(set.add(ip(addr)), !fails, "op {i}: add {addr}");
                    if !fails {
                        expected_len += 1;
                    }
                    assert!(set.contains(ip(addr)));
                }
                Op::Remove(addr) => {
                    set.remove(ip(addr));
                    expected_len -= 1;
                }
            }
            assert_eq!(set.len(), expected_len, "op {i}");
        }
        assert_eq!(set.count(ip("127.1.255.255")), 2);
        assert!(!set.contains(ip("127.2.0.0")));
    }

    #[test]
    fn remove_of_unknown_subnet_is_a_no_op_and_empty_subnets_vanish() {
        let mut set = DistinctNetSet::new(24, 1);
        set.remove(ip("10.0.0.1"));
        assert!(set.is_empty());
        assert!(set.add(ip("10.0.0.1")));
        assert!(!set.add(ip("10.0.0.200")));
        assert!(set.add(ip("10.0.1.1")));
        set.remove(ip("10.0.0.7"));
        assert!(!set.contains(ip("10.0.0.1")));
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn zero_limit_refuses_everything_and_stores_nothing() {
        let mut set = DistinctNetSet::new(24, 0);
        assert!(!set.add(ip("10.0.0.1")));
        assert!(!set.contains(ip("10.0.0.1")));
        assert!(set.members.is_empty());
    }

    #[test]
    fn mapped_addresses_share_the_ipv4_subnet_and_families_are_apart() {
        let mut set = DistinctNetSet::new(24, 1);
        assert!(set.add(ip("::ffff:10.0.0.1")));
        assert!(!set.add(ip("10.0.0.2")));
        // `::a00:3` has the same low 32 bits but is an IPv6 address in ::/24.
        assert!(set.add(ip("::10.0.0.3")));
        assert!(!set.add(ip("::1")));
        assert!(set.add(ip("2001:db8::1")));
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn subnet_bits_beyond_ipv4_width_mean_whole_ipv4_addresses() {
        let mut set = DistinctNetSet::new(64, 1);
        assert!(set.add(ip("10.0.0.1")));
        assert!(set.add(ip("10.0.0.2")));
        assert!(!set.add(ip("10.0.0.1")));
        // For IPv6 the same 64 bits are a /64.
        assert!(set.add(ip("2001:db8::1")));
        assert!(!set.add(ip("2001:db8::2")));
        assert!(set.add(ip("2001:db8:0:1::1")));
    }

    #[derive(Clone, Debug)]
    enum RandomOp {
        Add(u32),
        Remove(u32),
    }

    fn random_op() -> impl Strategy<Value = RandomOp> {
        // Addresses from a small space (10.0-3.x.0-7) so subnets collide often.
        let addr = (0u32..4, any::<u8>(), 0u32..8)
            .prop_map(|(b, c, d)| Ipv4Addr::new(10, b as u8, c, d as u8).to_bits());
        prop_oneof![
            3 => addr.clone().prop_map(RandomOp::Add),
            1 => addr.prop_map(RandomOp::Remove),
        ]
    }

    proptest! {
        #[test]
        fn limit_holds_and_len_counts_adds_minus_removes(
            bits in 0u32..=32,
            limit in 0usize..4,
            ops in prop::collection::vec(random_op(), 0..200),
        ) {
            let mut set = DistinctNetSet::new(bits, limit);
            // Reference: the accepted addresses, one entry each.
            let mut model: Vec<IpAddr> = Vec::new();
            for op in ops {
                match op {
                    RandomOp::Add(a) => {
                        let a = IpAddr::V4(Ipv4Addr::from_bits(a));
                        let in_subnet = model.iter().filter(|m| same_net(bits, **m, a)).count();
                        let accepted = set.add(a);
                        prop_assert_eq!(accepted, in_subnet < limit);
                        if accepted {
                            model.push(a);
                        }
                        prop_assert!(set.count(a) <= limit);
                    }
                    RandomOp::Remove(a) => {
                        let a = IpAddr::V4(Ipv4Addr::from_bits(a));
                        set.remove(a);
                        if let Some(pos) = model.iter().position(|m| same_net(bits, *m, a)) {
                            model.swap_remove(pos);
                        }
                    }
                }
                prop_assert_eq!(set.len(), model.len());
                prop_assert_eq!(set.members.values().sum::<usize>(), set.len());
                prop_assert!(set.members.values().all(|&n| n > 0 && n <= limit));
                for m in &model {
                    prop_assert!(set.contains(*m));
                }
            }
        }
    }
}
