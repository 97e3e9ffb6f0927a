//! Discovery in a simulated network: 200 nodes bootstrapping from 3 bootnodes over a lossy
//! network with latency converge, lookups find the true closest nodes, and a seed replays the
//! same run.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod sim;

use std::time::Duration;

use paxeer_p2p_core::discv4::BUCKET_SIZE;
use paxeer_p2p_core::types::NodeId;
use sim::{Sim, SimConfig};

#[allow(clippy::disallowed_methods)]
fn wall_now() -> std::time::Instant {
    std::time::Instant::now()
}

fn min_table(s: &Sim) -> usize {
    s.nodes
        .iter()
        .map(|n| n.disc.as_ref().map_or(0, |d| d.table_len()))
        .min()
        .unwrap_or(0)
}

#[test]
fn two_hundred_nodes_converge_and_lookups_find_the_closest() {
    let wall = wall_now();
    let mut s = Sim::new(SimConfig::default());
    // Run a minute of virtual time, noting when every table first held 16 nodes.
    let mut converged_at = None;
    for sec in 1..=60 {
        s.run_until(s.t0 + Duration::from_secs(sec));
        if converged_at.is_none() && min_table(&s) >= BUCKET_SIZE {
            converged_at = Some(sec);
        }
    }
    let sizes: Vec<usize> = s.nodes.iter().map(|n| n.disc().table_len()).collect();
    eprintln!(
        "converged (all tables >= 16) at {converged_at:?} s virtual; after 60 s: table sizes \
         min {} mean {} max {}; datagrams sent {} lost {} delivered {}; wall {:?}",
        sizes.iter().min().unwrap(),
        sizes.iter().sum::<usize>() / sizes.len(),
        sizes.iter().max().unwrap(),
        s.sent,
        s.lost,
        s.delivered,
        wall.elapsed()
    );
    assert!(converged_at.is_some(), "some table below 16: {sizes:?}");

    // Every table holds at least 16 live nodes: running machines at the claimed address.
    for (i, n) in s.nodes.iter().enumerate() {
        let entries = n.disc().closest(&NodeId([0; 32]), usize::MAX);
        let live = entries.iter().filter(|e| s.is_live(e)).count();
        assert!(
            live >= BUCKET_SIZE,
            "node {i}: {live} live of {}",
            entries.len()
        );
        assert_eq!(
            live,
            entries.len(),
            "node {i} holds entries that are not nodes"
        );
    }

    // Lookups from a few nodes against the brute-force closest over the whole population.
    // With 5 % loss a true-closest node is missed only if all three queries to it fail (each
    // is up to six datagrams: bond Ping/Pong, the remote's Ping/Pong, FindNode, Neighbors).
    // Across seeds 1-4 during development, 2 of 40 lookups missed one node; with no loss all
    // were exact. So: every lookup must share at least 15 of the 16, and at least 4 of 5
    // must be exact. (The seed is fixed, so the run itself is deterministic; the margin only
    // keeps the test meaningful when unrelated changes reshuffle the random draws.)
    let askers = [3, 57, 101, 150, 199];
    let mut exact = 0;
    let mut overlaps = Vec::new();
    for &i in &askers {
        let target = s.random_target();
        let found = s
            .lookup(i, target, Duration::from_secs(60))
            .expect("lookup finished");
        let want = s.brute_force_closest(&target.node_id(), BUCKET_SIZE, i);
        let got: Vec<NodeId> = found.iter().map(|e| e.id).collect();
        let overlap = got.iter().filter(|id| want.contains(id)).count();
        overlaps.push(overlap);
        if got == want {
            exact += 1;
        }
    }
    eprintln!(
        "lookups: {exact}/{} exact, overlaps {overlaps:?}; wall {:?}",
        askers.len(),
        wall.elapsed()
    );
    assert!(
        overlaps.iter().all(|&o| o >= BUCKET_SIZE - 1),
        "{overlaps:?}"
    );
    assert!(
        exact >= askers.len() - 1,
        "{exact} exact of {}",
        askers.len()
    );
}

#[test]
fn same_seed_gives_the_same_trace() {
    let cfg = SimConfig {
        nodes: 60,
        ..SimConfig::default()
    };
    let run = |cfg: SimConfig| {
        let mut s = Sim::new(cfg);
        s.run_until(s.t0 + Duration::from_secs(20));
        (s.trace_hash(), s.sent)
    };
    let a = run(cfg.clone());
    let b = run(cfg.clone());
    assert_eq!(a, b);
    assert!(a.1 > 1000, "only {} datagrams", a.1);
    let c = run(SimConfig {
        seed: [7; 32],
        ..cfg
    });
    assert_ne!(a.0, c.0);
}
