//! Convergence of simulated discv4 networks, in virtual and wall time.
//!
//! Reuses the deterministic simulator of the integration tests (`tests/sim/mod.rs`): N
//! machines on distinct LAN addresses, 3 bootnodes started first, the others at uniform
//! random times within the first 10 s, 10–50 ms latency per datagram, 5 % loss. The network
//! runs in steps of 100 ms of virtual time until every node's table holds at least
//! [`BUCKET_SIZE`] live nodes (running machines at the address the entry claims), or until
//! [`LIMIT`].
//!
//! Not a criterion loop: each size runs once and prints the virtual time to convergence
//! (counted from the first bootnode's start, so it includes the 10 s start spread), the wall
//! time the simulation took to get there (the convergence checks excluded), and the
//! datagrams it moved. Sizes come from the command line (`cargo bench --bench discv4_sim --
//! 200 2000`); default 200 and 2000. Options criterion passes (`--bench`) are ignored.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

#[path = "../tests/sim/mod.rs"]
mod sim;

use std::time::{Duration, Instant};

use paxeer_p2p_core::discv4::BUCKET_SIZE;
use paxeer_p2p_core::types::NodeId;
use sim::{Sim, SimConfig};

/// Virtual time step between convergence checks.
const STEP: Duration = Duration::from_millis(100);
/// Give up after this much virtual time.
const LIMIT: Duration = Duration::from_secs(600);

#[allow(clippy::disallowed_methods)] // benchmarks measure wall time
fn wall_now() -> Instant {
    Instant::now()
}

/// Live entries in the emptiest table, or `None` while some node has fewer than
/// `BUCKET_SIZE` entries at all (the cheap check first).
fn min_live(s: &Sim) -> Option<usize> {
    let all_big = s.nodes.iter().all(|n| {
        n.disc
            .as_ref()
            .is_some_and(|d| d.table_len() >= BUCKET_SIZE)
    });
    if !all_big {
        return None;
    }
    s.nodes
        .iter()
        .map(|n| {
            let entries = n.disc().closest(&NodeId([0; 32]), usize::MAX);
            entries.iter().filter(|e| s.is_live(e)).count()
        })
        .min()
}

fn run(nodes: usize) {
    let mut s = Sim::new(SimConfig {
        nodes,
        ..SimConfig::default()
    });
    let mut wall = Duration::ZERO;
    let mut converged = None;
    while s.now - s.t0 < LIMIT {
        let until = s.now + STEP;
        let start = wall_now();
        s.run_until(until);
        wall += start.elapsed();
        if min_live(&s).is_some_and(|l| l >= BUCKET_SIZE) {
            converged = Some(s.now - s.t0);
            break;
        }
    }
    let virt = s.now - s.t0;
    let sizes: Vec<usize> = s
        .nodes
        .iter()
        .map(|n| n.disc.as_ref().map_or(0, |d| d.table_len()))
        .collect();
    let status = match converged {
        Some(v) => format!("converged at {:.1} s virtual", v.as_secs_f64()),
        None => format!("NOT converged after {:.1} s virtual", virt.as_secs_f64()),
    };
    println!(
        "sim/{nodes}: {status}; wall {:.2} s (virtual/wall {:.1}x); datagrams sent {} lost {} \
         delivered {} ({:.0} delivered per wall second); tables min {} mean {} max {}",
        wall.as_secs_f64(),
        virt.as_secs_f64() / wall.as_secs_f64(),
        s.sent,
        s.lost,
        s.delivered,
        s.delivered as f64 / wall.as_secs_f64(),
        sizes.iter().min().unwrap(),
        sizes.iter().sum::<usize>() / sizes.len(),
        sizes.iter().max().unwrap(),
    );
}

fn main() {
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = vec![200, 2000];
    }
    for n in sizes {
        run(n);
    }
}
