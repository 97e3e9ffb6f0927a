//! A live go-ethereum (pinned v1.17.10) as a peer of `paxeer-p2p run` on loopback, on tokio
//! and on smol, with go-ethereum's devp2p test chain: peering both ways, chain sync both
//! ways, transactions both ways, and discovery with our node as geth's only bootnode.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use paxeer_p2p_core::eth::tx::{Eip1559Tx, PooledTransaction, Transaction};
use paxeer_p2p_core::eth::U256;
use paxeer_p2p_node::eth::txgen::sign;
use serde_json::{json, Value};
use support::geth::{testdata, Geth};
use support::{wait_until, Daemon, ADMIN};

/// Chain id (and network id) of go-ethereum's test chain (its genesis.json).
const TEST_CHAIN_ID: u64 = 3_503_995_874_084_926;
/// Blocks in the test chain's chain.rlp.
const TEST_CHAIN_HEAD: u64 = 600;

/// Two live geths and four syncs at a time are too much for a 2-core machine's deadlines.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn genesis() -> PathBuf {
    testdata().join("genesis.json")
}

/// A geth that imported (executed) the whole test chain.
fn geth_with_chain(extra: &[&str]) -> Geth {
    let td = testdata();
    Geth::start(
        Geth::prepare(&td.join("genesis.json"), Some(&td.join("chain.rlp"))),
        extra,
    )
}

/// Our node on the test chain's genesis, with the admin API, on `runtime`.
fn our_node(runtime: &str, datadir: &Path, extra: &[&str]) -> Daemon {
    let g = genesis();
    let mut args = vec![
        "--runtime",
        runtime,
        "--datadir",
        datadir.to_str().unwrap(),
        "--chain",
        g.to_str().unwrap(),
    ];
    args.extend(ADMIN);
    args.extend(extra);
    Daemon::start(&args)
}

/// The entry of `peers` (admin_peers of either client) for the node with id `id_hex`.
fn peer_entry(peers: &Value, id_hex: &str) -> Option<Value> {
    peers.as_array()?.iter().find_map(|p| {
        let enode = p["enode"].as_str()?;
        enode
            .strip_prefix("enode://")?
            .starts_with(id_hex)
            .then(|| p.clone())
    })
}

fn id_of(enode: &str) -> String {
    enode[8..136].to_string()
}

/// Waits until each side lists the other on eth/70 with the other's client name; returns
/// (our entry for geth, geth's entry for us).
fn wait_peered(node: &Daemon, geth: &Geth) -> (Value, Value) {
    let (ours, theirs) = (id_of(&node.enode()), id_of(&geth.enode));
    let mut seen = (Value::Null, Value::Null);
    let ok = wait_until(Duration::from_secs(30), || {
        let a = peer_entry(&node.rpc("admin_peers", json!([])), &theirs);
        let b = peer_entry(&geth.rpc("admin_peers", json!([])), &ours);
        let ready = matches!((&a, &b), (Some(a), Some(b))
            if a["protocols"]["eth"]["ready"] == true && b["protocols"]["eth"]["version"] == 70);
        if let (Some(a), Some(b)) = (a, b) {
            seen = (a, b);
        }
        ready
    });
    assert!(
        ok,
        "not peered on eth/70: ours {} / geth's {}\n{}",
        seen.0,
        seen.1,
        geth.log_tail()
    );
    seen
}

fn peering_both_ways(runtime: &str) {
    let _one = serial();
    let geth = geth_with_chain(&["--nodiscover"]);
    let dir = tempfile::tempdir().unwrap();
    let node = our_node(runtime, dir.path(), &["--nodiscover"]);
    // We dial geth.
    assert_eq!(node.rpc("admin_addPeer", json!([geth.enode])), true);
    let (ours, theirs) = wait_peered(&node, &geth);
    assert!(
        ours["name"].as_str().unwrap().starts_with("Geth/"),
        "{ours}"
    );
    assert_eq!(ours["protocols"]["eth"]["version"], 70, "{ours}");
    assert_eq!(ours["network"]["inbound"], false, "{ours}");
    assert!(
        theirs["name"].as_str().unwrap().starts_with("paxeer-p2p/"),
        "{theirs}"
    );
    assert_eq!(theirs["network"]["inbound"], true, "{theirs}");
    // Apart, then geth dials us.
    assert_eq!(node.rpc("admin_removePeer", json!([geth.enode])), true);
    let gone = wait_until(Duration::from_secs(15), || {
        peer_entry(&geth.rpc("admin_peers", json!([])), &id_of(&node.enode())).is_none()
    });
    assert!(gone, "geth still lists us after admin_removePeer");
    assert_eq!(geth.rpc("admin_addPeer", json!([node.enode()])), true);
    let (ours, theirs) = wait_peered(&node, &geth);
    assert_eq!(ours["network"]["inbound"], true, "{ours}");
    assert_eq!(ours["protocols"]["eth"]["version"], 70, "{ours}");
    assert_eq!(theirs["network"]["inbound"], false, "{theirs}");
}

#[test]
fn we_dial_geth_and_geth_dials_us_on_tokio() {
    peering_both_ways("tokio");
}

#[test]
fn we_dial_geth_and_geth_dials_us_on_smol() {
    peering_both_ways("smol");
}

/// Our node's eth view: head number and hash, and the sync state.
fn our_eth(node: &Daemon) -> Value {
    node.rpc("admin_nodeInfo", json!([]))["protocols"]["eth"].clone()
}

/// The newPayload request of block `n` from the test chain's newpayload.json (hivechain's
/// engine-API calls for every block).
fn new_payload_request(n: u64) -> Value {
    let all: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata().join("newpayload.json")).unwrap())
            .unwrap();
    all[n as usize].clone()
}

/// The forkchoice update to the test chain's head (headfcu.json).
fn head_fcu_request() -> Value {
    serde_json::from_str(&std::fs::read_to_string(testdata().join("headfcu.json")).unwrap())
        .unwrap()
}

fn sync_both_ways(runtime: &str) {
    let _one = serial();
    let source = geth_with_chain(&["--nodiscover"]);
    let head_hash = source.block_hash(TEST_CHAIN_HEAD).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let node = our_node(runtime, dir.path(), &["--nodiscover"]);
    node.rpc("admin_addPeer", json!([source.enode]));
    let synced = wait_until(Duration::from_secs(180), || {
        let eth = our_eth(&node);
        eth["headNumber"] == TEST_CHAIN_HEAD
            && eth["head"] == head_hash.as_str()
            && eth["sync"]["receiptsWanted"] == 0
            && eth["sync"]["syncing"] == false
            && eth["sync"]["receipts"].as_u64().unwrap_or(0) > 0
            // Block 14's receipts alone exceed the 10 MiB message limit (the test chain's
            // large-receipt block): geth sends them in eth/70 pages, none is given up.
            && eth["sync"]["receiptsTooLarge"] == 0
    });
    assert!(
        synced,
        "our node did not sync headers, bodies and receipts to {head_hash}: {}\n{}",
        our_eth(&node),
        source.log_tail()
    );
    node.rpc("admin_removePeer", json!([source.enode]));
    drop(source);

    // An empty geth whose only peer is our node syncs the chain from us once the engine API
    // gives it the head.
    let sink = Geth::start(Geth::prepare(&genesis(), None), &["--nodiscover"]);
    sink.rpc("admin_addPeer", json!([node.enode()]));
    wait_peered(&node, &sink);
    let np = new_payload_request(TEST_CHAIN_HEAD);
    let answer = sink.engine(np["method"].as_str().unwrap(), np["params"].clone());
    assert!(answer["error"].is_null(), "newPayload: {answer}");
    let fcu = head_fcu_request();
    let answer = sink.engine(fcu["method"].as_str().unwrap(), fcu["params"].clone());
    assert!(answer["error"].is_null(), "forkchoiceUpdated: {answer}");
    let followed = wait_until(Duration::from_secs(180), || {
        sink.head_number() == TEST_CHAIN_HEAD
    });
    assert!(
        followed,
        "geth did not sync from us (head {}):\n{}",
        sink.head_number(),
        sink.log_tail()
    );
    assert_eq!(sink.block_hash(TEST_CHAIN_HEAD).unwrap(), head_hash);
}

#[test]
fn we_sync_the_chain_from_geth_and_geth_syncs_it_from_us_on_tokio() {
    sync_both_ways("tokio");
}

#[test]
fn we_sync_the_chain_from_geth_and_geth_syncs_it_from_us_on_smol() {
    sync_both_ways("smol");
}

/// The secret key of the `index`-th account of the test chain's accounts.json (sorted by
/// address, as devp2p's suite sorts them).
fn test_account(index: usize) -> secp256k1::SecretKey {
    let accounts: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata().join("accounts.json")).unwrap())
            .unwrap();
    let mut keys: Vec<(String, String)> = accounts
        .as_object()
        .unwrap()
        .iter()
        .map(|(addr, v)| (addr.clone(), v["key"].as_str().unwrap().to_string()))
        .collect();
    keys.sort();
    let hex = keys[index].1.trim_start_matches("0x").to_string();
    secp256k1::SecretKey::from_slice(&hex::decode(hex).unwrap()).unwrap()
}

/// A signed transfer of 1 wei from test account `index` at `nonce`, priced for the test
/// chain's head (base fee 7 wei): fee cap 100 wei, tip 1 wei.
fn transfer(index: usize, nonce: u64) -> PooledTransaction {
    let tx = Transaction::Eip1559(Eip1559Tx {
        chain_id: TEST_CHAIN_ID,
        nonce,
        max_priority_fee_per_gas: U256::from_u64(1),
        max_fee_per_gas: U256::from_u64(100),
        gas_limit: 21_000,
        to: Some([0x11; 20]),
        value: U256::from_u64(1),
        ..Eip1559Tx::default()
    });
    PooledTransaction::Plain(sign(&test_account(index), tx))
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

fn txs_both_ways(runtime: &str) {
    let _one = serial();
    let td = testdata();
    let geth = geth_with_chain(&["--nodiscover"]);
    // geth takes transactions from peers only once it believes it is synced: one forkchoice
    // update at its head (GETH.md §6).
    let fcu = head_fcu_request();
    let answer = geth.engine(fcu["method"].as_str().unwrap(), fcu["params"].clone());
    assert!(answer["error"].is_null(), "forkchoiceUpdated: {answer}");
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_paxeer-p2p"))
        .args(["import", "--datadir"])
        .arg(dir.path())
        .arg("--chain")
        .arg(genesis())
        .arg(td.join("chain.rlp"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let headstate = td.join("headstate.json");
    let node = our_node(
        runtime,
        dir.path(),
        &["--nodiscover", "--prestate", headstate.to_str().unwrap()],
    );
    node.rpc("admin_addPeer", json!([geth.enode]));
    wait_peered(&node, &geth);

    // geth → us: announced (or broadcast) by geth, fetched and verified by our pool.
    let to_us = transfer(0, 0);
    let hash = hex0x(&to_us.hash());
    let sent = geth.rpc_response("eth_sendRawTransaction", json!([hex0x(&to_us.encode())]));
    assert_eq!(sent["result"], hash.as_str(), "{sent}");
    let arrived = wait_until(Duration::from_secs(20), || {
        !node
            .rpc("eth_getTransactionByHash", json!([hash]))
            .is_null()
    });
    assert!(arrived, "geth's tx {hash} did not reach our pool");

    // us → geth.
    let to_geth = transfer(1, 0);
    let hash = hex0x(&to_geth.hash());
    let sent = node.rpc("eth_sendRawTransaction", json!([hex0x(&to_geth.encode())]));
    assert_eq!(sent, hash.as_str());
    let arrived = wait_until(Duration::from_secs(20), || {
        !geth
            .rpc("eth_getTransactionByHash", json!([hash]))
            .is_null()
    });
    assert!(
        arrived,
        "our tx {hash} did not reach geth's pool\n{}",
        geth.log_tail()
    );
}

#[test]
fn transactions_cross_both_ways_on_tokio() {
    txs_both_ways("tokio");
}

#[test]
fn transactions_cross_both_ways_on_smol() {
    txs_both_ways("smol");
}

fn discovery(runtime: &str) {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let node = our_node(runtime, dir.path(), &["--bootnodes", ""]);
    let geth = geth_with_chain(&[
        "--bootnodes",
        &node.enode(),
        "--netrestrict",
        "127.0.0.0/8",
        "--discovery.v5=false",
    ]);
    // geth finds us through discovery alone and dials us (or we dial it: its ENR's eth
    // entry passes our fork-id filter); either way the two end up peered on eth/70.
    wait_peered(&node, &geth);
    // Our discovery resolved geth's record (EIP-868): it is in our table with its ENR.
    let found = wait_until(Duration::from_secs(30), || {
        let nodes = node.rpc("admin_discoveryNodes", json!([]));
        nodes.as_array().is_some_and(|list| {
            list.iter().any(|n| {
                n["enode"]
                    .as_str()
                    .is_some_and(|e| e.starts_with(&format!("enode://{}", id_of(&geth.enode))))
                    && n["enr"].as_str().is_some_and(|e| e.starts_with("enr:"))
            })
        })
    });
    assert!(
        found,
        "geth is not in our discovery table with its ENR: {}",
        node.rpc("admin_discoveryNodes", json!([]))
    );
}

#[test]
fn geth_finds_us_through_discovery_and_we_resolve_its_enr_on_tokio() {
    discovery("tokio");
}

#[test]
fn geth_finds_us_through_discovery_and_we_resolve_its_enr_on_smol() {
    discovery("smol");
}
