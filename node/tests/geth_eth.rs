//! go-ethereum's eth conformance suite (`devp2p rlpx eth-test`, pinned v1.17.10) against
//! `paxeer-p2p run` holding go-ethereum's test chain: the genesis from its genesis.json,
//! the 600 blocks of chain.rlp imported with `paxeer-p2p import`, their receipts fetched
//! from a live geth over eth and checked against the headers, and the head state from
//! headstate.json for the pool. geth and we share eth/70 at most; every test that can run on
//! eth/70 must pass; the tests that need a later eth version are listed, not run.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use support::geth::{check_suite, run_devp2p, testdata, EngineStub, Geth, NotRun, JWT_SECRET_HEX};
use support::{wait_until, Daemon, ADMIN};

/// The tests of v1.17.10's `Suite.EthTests` that run on eth/70, in the suite's order.
const ETH70_TESTS: [&str; 20] = [
    "Status",
    "MaliciousHandshake",
    "BlockRangeUpdateExpired",
    "BlockRangeUpdateFuture",
    "BlockRangeUpdateInvalid",
    "GetBlockHeaders",
    "GetNonexistentBlockHeaders",
    "SimultaneousRequests",
    "SameRequestID",
    "ZeroRequestID",
    "GetBlockBodies",
    "GetReceipts",
    "LargeTxRequest",
    "Transaction",
    "InvalidTxs",
    "NewPooledTxs",
    "BlobViolations",
    "TestBlobTxWithoutSidecar",
    "TestBlobTxWithMismatchedSidecar",
    // Listed last: on eth/70 it pages the receipts of block 14 (more than 10 MiB of them)
    // and checks the assembled lists against the receipts roots.
    "GetLargeReceipts",
];

/// The tests that need a later eth version than the one geth and we share.
const NEEDS_LATER_ETH: [NotRun; 4] = [
    NotRun {
        name: "GetBlockAccessLists",
        why: "offers only eth/71 (EIP-8159 block access lists): issue 11",
    },
    NotRun {
        name: "BlobTxAvailabilityFailure",
        why: "eth/72 (EIP-8070 cells); passes vacuously below eth/72: issue 11",
    },
    NotRun {
        name: "GetCells",
        why: "eth/72 (EIP-8070 cells); passes vacuously below eth/72: issue 11",
    },
    NotRun {
        name: "BlobTxWithInvalidCells",
        why: "eth/72 (EIP-8070 cells); passes vacuously below eth/72: issue 11",
    },
];

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_paxeer-p2p"))
}

/// A datadir holding the test chain: blocks imported, then receipts fetched from a geth
/// that executed the chain, checked by our node against each header's receipts root.
fn datadir_with_test_chain(td: &Path, dir: &Path) {
    let genesis = td.join("genesis.json");
    let out = bin()
        .args(["import", "--datadir"])
        .arg(dir)
        .arg("--chain")
        .arg(&genesis)
        .arg(td.join("chain.rlp"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let geth = Geth::start(
        Geth::prepare(&genesis, Some(&td.join("chain.rlp"))),
        &["--nodiscover"],
    );
    let mut args = vec![
        "--datadir",
        dir.to_str().unwrap(),
        "--chain",
        genesis.to_str().unwrap(),
        "--nodiscover",
    ];
    args.extend(ADMIN);
    let node = Daemon::start(&args);
    node.rpc("admin_addPeer", json!([geth.enode]));
    let synced = wait_until(Duration::from_secs(120), || {
        let eth = &node.rpc("admin_nodeInfo", json!([]))["protocols"]["eth"];
        eth["sync"]["receiptsWanted"] == 0
            && eth["sync"]["syncing"] == false
            && eth["sync"]["receipts"].as_u64().unwrap_or(0) > 0
            // Block 14's receipts alone exceed the 10 MiB message limit (the test chain's
            // large-receipt block): geth sends them in eth/70 pages, none is given up.
            && eth["sync"]["receiptsTooLarge"] == 0
    });
    let info = node.rpc("admin_nodeInfo", json!([]));
    assert!(
        synced,
        "receipts not fetched from geth: {info}\n{}",
        geth.log_tail()
    );
    assert!(node.interrupt().success());
}

/// The suite's 2 s deadlines hold on a 2-core machine when one suite runs at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn eth_suite(runtime: &str) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let td = testdata();
    let dir = tempfile::tempdir().unwrap();
    datadir_with_test_chain(&td, dir.path());
    let genesis = td.join("genesis.json");
    let headstate = td.join("headstate.json");
    let node = Daemon::start(&[
        "--runtime",
        runtime,
        "--datadir",
        dir.path().to_str().unwrap(),
        "--chain",
        genesis.to_str().unwrap(),
        "--prestate",
        headstate.to_str().unwrap(),
        "--nodiscover",
    ]);
    let engine = EngineStub::start();
    let run = format!("^({})$", ETH70_TESTS.join("|"));
    let args: Vec<String> = [
        "rlpx",
        "eth-test",
        "--chain",
        td.to_str().unwrap(),
        "--node",
        &node.enode(),
        "--engineapi",
        &engine.url(),
        "--jwtsecret",
        JWT_SECRET_HEX,
        "--run",
        &run,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let results = run_devp2p(&args, Duration::from_secs(300));
    check_suite(
        &format!("eth-{runtime}"),
        &results,
        &ETH70_TESTS,
        &NEEDS_LATER_ETH,
        &[],
    );
    assert!(
        engine.calls.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the suite never reached the engine API"
    );
}

#[test]
fn devp2p_eth_suite_passes_on_eth70_on_tokio() {
    eth_suite("tokio");
}

#[test]
fn devp2p_eth_suite_passes_on_eth70_on_smol() {
    eth_suite("smol");
}
