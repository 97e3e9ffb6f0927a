//! Table tests: distances, bucket placement, replacements, IP limits, and the invariants
//! under random operation sequences (proptest).

use super::*;
use crate::discv4::packet::{Endpoint, NodeRecord};
use crate::types::{PeerId, Seed};
use proptest::prelude::*;
use std::net::Ipv4Addr;

const LOCAL: NodeId = NodeId([0x55; 32]);

/// An id at log-distance `d` (1..=256) from `local`, the bits below the top one from `fill`.
fn id_at(local: &NodeId, d: usize, fill: [u8; 32]) -> NodeId {
    assert!((1..=256).contains(&d));
    let top = 256 - d; // bit index from the most significant bit
    let mut x = [0u8; 32];
    for (i, b) in x.iter_mut().enumerate() {
        for bit in 0..8 {
            let pos = i * 8 + bit;
            let mask = 0x80u8 >> bit;
            if pos == top || (pos > top && fill[i] & mask != 0) {
                *b |= mask;
            }
        }
    }
    let mut out = [0u8; 32];
    for (o, (l, v)) in out.iter_mut().zip(local.0.iter().zip(x.iter())) {
        *o = l ^ v;
    }
    NodeId(out)
}

fn entry(id: NodeId, ip: IpAddr) -> NodeEntry {
    NodeEntry {
        record: NodeRecord {
            endpoint: Endpoint {
                ip,
                udp: 30303,
                tcp: 30303,
            },
            id: PeerId([id.0[0]; 64]),
        },
        id,
        enr: None,
    }
}

fn wan(a: u8, b: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(20, 0, a, b))
}

fn lan(a: u8, b: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, a, b))
}

fn seq_fill(n: u32) -> [u8; 32] {
    let mut f = [0u8; 32];
    f[28..].copy_from_slice(&n.to_be_bytes());
    f
}

#[test]
fn log_distance_counts_differing_prefix_bits() {
    let a = NodeId([0; 32]);
    assert_eq!(log_distance(&a, &a), 0);
    let mut b = [0u8; 32];
    b[31] = 1;
    assert_eq!(log_distance(&a, &NodeId(b)), 1);
    b[31] = 0x80;
    assert_eq!(log_distance(&a, &NodeId(b)), 8);
    let mut c = [0u8; 32];
    c[0] = 0x80;
    assert_eq!(log_distance(&a, &NodeId(c)), 256);
    for d in 1..=256 {
        assert_eq!(log_distance(&LOCAL, &id_at(&LOCAL, d, [0xff; 32])), d);
    }
}

#[test]
fn close_nodes_share_the_first_bucket() {
    for d in 1..=240 {
        assert_eq!(bucket_index(&LOCAL, &id_at(&LOCAL, d, [0; 32])), 0, "d={d}");
    }
    for d in 241..=256 {
        assert_eq!(bucket_index(&LOCAL, &id_at(&LOCAL, d, [0; 32])), d - 240);
    }
    assert_eq!(
        bucket_index(&LOCAL, &id_at(&LOCAL, 256, [0; 32])),
        NUM_BUCKETS - 1
    );
}

#[test]
fn distance_order_is_xor_order() {
    let t = NodeId([0; 32]);
    let mut a = [0u8; 32];
    a[31] = 3;
    let mut b = [0u8; 32];
    b[30] = 1;
    assert_eq!(distance_cmp(&t, &NodeId(a), &NodeId(b)), Ordering::Less);
    assert_eq!(distance_cmp(&t, &NodeId(b), &NodeId(a)), Ordering::Greater);
    assert_eq!(distance_cmp(&t, &NodeId(a), &NodeId(a)), Ordering::Equal);
}

#[test]
fn full_bucket_sends_new_nodes_to_a_bounded_replacement_list() {
    let mut t = Table::new(LOCAL);
    for n in 0..BUCKET_SIZE as u32 {
        let e = entry(id_at(&LOCAL, 256, seq_fill(n)), lan(0, n as u8));
        assert_eq!(t.add(e), AddOutcome::Added);
    }
    for n in 0..(MAX_REPLACEMENTS as u32 + 5) {
        let e = entry(id_at(&LOCAL, 256, seq_fill(100 + n)), lan(1, n as u8));
        assert_eq!(t.add(e), AddOutcome::Replacement);
    }
    assert_eq!(t.bucket_sizes()[NUM_BUCKETS - 1], BUCKET_SIZE);
    let reps = t.replacement_ids();
    assert_eq!(reps.len(), MAX_REPLACEMENTS);
    // Newest first; the oldest were pushed out.
    assert_eq!(
        reps[0],
        id_at(&LOCAL, 256, seq_fill(100 + MAX_REPLACEMENTS as u32 + 4))
    );
    assert!(!reps.contains(&id_at(&LOCAL, 256, seq_fill(100))));
    t.check_invariants().unwrap();
}

#[test]
fn removal_promotes_a_replacement_unverified() {
    let mut rng = MachineRng::new(Seed([3; 32]));
    let mut t = Table::new(LOCAL);
    for n in 0..=BUCKET_SIZE as u32 {
        t.add(entry(id_at(&LOCAL, 255, seq_fill(n)), lan(0, n as u8)));
    }
    let gone = id_at(&LOCAL, 255, seq_fill(3));
    let spare = id_at(&LOCAL, 255, seq_fill(BUCKET_SIZE as u32));
    let removed = t.remove(&gone, &mut rng).unwrap();
    assert_eq!(removed.node.entry.id, gone);
    assert_eq!(removed.promoted.unwrap().id, spare);
    let n = t.get(&spare).unwrap();
    assert_eq!((n.liveness, n.list), (0, RevalList::Fast));
    assert!(t.replacement_ids().is_empty());
    assert!(t.remove(&gone, &mut rng).is_none());
    t.check_invariants().unwrap();
}

#[test]
fn at_most_two_nodes_of_a_wan_slash24_per_bucket() {
    let mut t = Table::new(LOCAL);
    let add = |t: &mut Table, n: u32, ip| t.add(entry(id_at(&LOCAL, 256, seq_fill(n)), ip));
    assert_eq!(add(&mut t, 1, wan(1, 1)), AddOutcome::Added);
    assert_eq!(add(&mut t, 2, wan(1, 2)), AddOutcome::Added);
    assert_eq!(add(&mut t, 3, wan(1, 3)), AddOutcome::IpLimit);
    assert_eq!(add(&mut t, 4, wan(2, 3)), AddOutcome::Added);
    // LAN addresses are exempt.
    for n in 0..5 {
        assert_eq!(add(&mut t, 10 + n, lan(0, n as u8)), AddOutcome::Added);
    }
    // Another bucket has its own two slots.
    let e = entry(id_at(&LOCAL, 250, seq_fill(1)), wan(1, 9));
    assert_eq!(t.add(e), AddOutcome::Added);
    t.check_invariants().unwrap();
}

#[test]
fn at_most_ten_nodes_of_a_wan_slash24_in_the_table() {
    let mut t = Table::new(LOCAL);
    let mut added = 0;
    for d in 241..=256 {
        for n in 0..2u32 {
            let e = entry(id_at(&LOCAL, d, seq_fill(n)), wan(7, (d as u8) ^ (n as u8)));
            if t.add(e) == AddOutcome::Added {
                added += 1;
            }
        }
    }
    assert_eq!(added, 10);
    t.check_invariants().unwrap();
}

#[test]
fn self_and_duplicates_are_never_added() {
    let mut t = Table::new(LOCAL);
    assert_eq!(t.add(entry(LOCAL, lan(0, 1))), AddOutcome::IsSelf);
    let e = entry(id_at(&LOCAL, 200, seq_fill(1)), lan(0, 2));
    assert_eq!(t.add(e.clone()), AddOutcome::Added);
    assert_eq!(t.add(e.clone()), AddOutcome::Present);
    assert_eq!(t.len(), 1);
    assert!(t.contains(&e.id));
}

#[test]
fn present_node_moves_to_a_new_endpoint_within_the_ip_limits() {
    let mut t = Table::new(LOCAL);
    let a = entry(id_at(&LOCAL, 256, seq_fill(1)), wan(1, 1));
    let b = entry(id_at(&LOCAL, 256, seq_fill(2)), wan(1, 2));
    let c = entry(id_at(&LOCAL, 256, seq_fill(3)), wan(2, 1));
    for e in [&a, &b, &c] {
        t.add(e.clone());
    }
    // c cannot move into the full 20.0.1/24 ...
    let mut c2 = c.clone();
    c2.record.endpoint.ip = wan(1, 3);
    assert_eq!(t.add(c2), AddOutcome::Present);
    assert_eq!(t.get(&c.id).unwrap().entry.record.endpoint.ip, wan(2, 1));
    // ... but may move elsewhere.
    let mut c3 = c.clone();
    c3.record.endpoint.ip = wan(3, 1);
    t.add(c3);
    assert_eq!(t.get(&c.id).unwrap().entry.record.endpoint.ip, wan(3, 1));
    t.check_invariants().unwrap();
}

#[test]
fn closest_is_sorted_and_bounded() {
    let mut t = Table::new(LOCAL);
    for n in 0..60u32 {
        let mut f = [0u8; 32];
        f[..4].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_be_bytes());
        let d = 241 + (n as usize % 16);
        t.add(entry(id_at(&LOCAL, d, f), lan((n / 200) as u8, n as u8)));
    }
    let target = NodeId([0xaa; 32]);
    let c = t.closest(&target, 16);
    assert_eq!(c.len(), 16);
    for w in c.windows(2) {
        assert_ne!(
            distance_cmp(&target, &w[0].entry.id, &w[1].entry.id),
            Ordering::Greater
        );
    }
    // Nothing left out is closer than the farthest returned.
    let far = &c[15].entry.id;
    let closer = t
        .iter()
        .filter(|n| distance_cmp(&target, &n.entry.id, far) == Ordering::Less)
        .count();
    assert_eq!(closer, 15);
}

#[test]
fn random_nodes_are_distinct_and_bounded() {
    let mut rng = MachineRng::new(Seed([9; 32]));
    let mut t = Table::new(LOCAL);
    for n in 0..20u32 {
        t.add(entry(
            id_at(&LOCAL, 241 + (n as usize % 16), seq_fill(n)),
            lan(0, n as u8),
        ));
    }
    let r = t.random(8, &mut rng);
    let mut ids: Vec<NodeId> = r.iter().map(|n| n.entry.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);
    assert_eq!(t.random(100, &mut rng).len(), t.len());
}

#[derive(Clone, Debug)]
enum Op {
    Add {
        d: usize,
        fill: [u8; 32],
        ip: IpAddr,
    },
    Remove(usize),
}

fn ip_strategy() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        // A few WAN /24s, so the limits are hit often.
        (0u8..4, 0u8..255).prop_map(|(a, b)| wan(a, b)),
        (0u8..2, 0u8..255).prop_map(|(a, b)| lan(a, b)),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => ((230usize..=256), any::<[u8; 32]>(), ip_strategy())
            .prop_map(|(d, fill, ip)| Op::Add { d, fill, ip }),
        // Small fills give repeated ids: exercises duplicates and endpoint moves.
        2 => ((250usize..=256), (0u8..4), ip_strategy())
            .prop_map(|(d, f, ip)| Op::Add { d, fill: [f; 32], ip }),
        1 => any::<usize>().prop_map(Op::Remove),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn table_invariants_hold_under_random_operations(ops in prop::collection::vec(op_strategy(), 1..400)) {
        let mut rng = MachineRng::new(Seed([5; 32]));
        let mut t = Table::new(LOCAL);
        let mut known: Vec<NodeId> = Vec::new();
        for op in ops {
            match op {
                Op::Add { d, fill, ip } => {
                    let id = id_at(&LOCAL, d, fill);
                    let outcome = t.add(entry(id, ip));
                    if outcome == AddOutcome::Added {
                        prop_assert!(t.contains(&id));
                    }
                    known.push(id);
                }
                Op::Remove(i) => {
                    if !known.is_empty() {
                        let id = known[i % known.len()];
                        let before = t.len();
                        match t.remove(&id, &mut rng) {
                            Some(r) => {
                                prop_assert!(!t.contains(&id));
                                let expect = before - usize::from(r.promoted.is_none());
                                prop_assert_eq!(t.len(), expect);
                            }
                            None => prop_assert_eq!(t.len(), before),
                        }
                    }
                }
            }
            if let Err(e) = t.check_invariants() {
                return Err(TestCaseError::fail(e));
            }
        }
    }
}
