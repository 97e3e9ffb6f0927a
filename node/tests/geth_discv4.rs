//! go-ethereum's discv4 conformance suite (`devp2p discv4 test`, pinned v1.17.10) against
//! `paxeer-p2p run`, on tokio and on smol. Every one of its tests must pass.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::time::Duration;

use support::geth::{check_suite, run_devp2p};
use support::Daemon;

/// Every test of v1.17.10's `internal/v4test` suite.
const DISCV4_TESTS: [&str; 15] = [
    "Ping/Basic",
    "Ping/WrongTo",
    "Ping/WrongFrom",
    "Ping/ExtraData",
    "Ping/ExtraDataWrongFrom",
    "Ping/PastExpiration",
    "Ping/WrongPacketType",
    "Ping/BondThenPingWithWrongFrom",
    "ENRRequest",
    "Findnode/WithoutEndpointProof",
    "Findnode/BasicFindnode",
    "Findnode/UnsolicitedNeighbors",
    "Findnode/PastExpiration",
    "Amplification/InvalidPongHash",
    "Amplification/WrongIP",
];

fn discv4_suite(runtime: &str) {
    let node = Daemon::start(&["--runtime", runtime, "--bootnodes", ""]);
    let args: Vec<String> = [
        "discv4",
        "test",
        "--remote",
        &node.enode(),
        "--listen1",
        "127.0.0.1",
        "--listen2",
        "127.0.0.2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let results = run_devp2p(&args, Duration::from_secs(120));
    check_suite(
        &format!("discv4-{runtime}"),
        &results,
        &DISCV4_TESTS,
        &[],
        &[],
    );
}

#[test]
fn devp2p_discv4_suite_passes_on_tokio() {
    discv4_suite("tokio");
}

#[test]
fn devp2p_discv4_suite_passes_on_smol() {
    discv4_suite("smol");
}
