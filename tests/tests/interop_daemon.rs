//! The daemon's node (`paxeer_p2p_node::daemon`, the same assembly `paxeer-p2p run` starts)
//! against `@ethereumjs/devp2p` peers: they dial it, the eth Status handshake completes on
//! a shared chain and `admin_peers` lists them; a network id mismatch ends the session with
//! the reason go-ethereum sends.
//!
//! These tests fail (they do not skip) when `node` or `tests/interop/node_modules` is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use paxeer_p2p_core::eth::ChainSpec;
use paxeer_p2p_node::admin::rpc::AdminBackend;
use paxeer_p2p_node::daemon::admin_backend::NodeAdmin;
use paxeer_p2p_node::daemon::{start_node, KeySource, NodeConfig, Rt, RunningNode};
use paxeer_p2p_node::rt::RuntimeKind;
use paxeer_p2p_tests::{key_hex, peer_id, NodePeer, STEP_TIMEOUT};
use serde_json::Value;

const OURS: u8 = 0x31;
const NODE: u8 = 0x32;

fn daemon(
    kind: RuntimeKind,
    network_id: Option<u64>,
) -> (tempfile::TempDir, RunningNode, NodeAdmin) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = NodeConfig::new(dir.path().join("node"));
    cfg.key = KeySource::Hex(key_hex(OURS));
    cfg.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    cfg.discovery_port = None;
    cfg.runtime = kind;
    // peer.mjs --send-status speaks mainnet (network 1, mainnet genesis).
    cfg.chain = ChainSpec::mainnet();
    cfg.network_id = network_id;
    let rt = Rt::new(kind).unwrap();
    let node = start_node(&cfg, &rt, Vec::new()).unwrap();
    let admin = NodeAdmin {
        host: node.host.clone(),
        ping: node.ping,
        eth: node.eth,
        enode: node.enode.to_string(),
        name: node.client_id.clone(),
    };
    (dir, node, admin)
}

fn dial_args(port: &str) -> Vec<String> {
    [
        "dial",
        "--key",
        &key_hex(NODE),
        "--remote-id",
        &peer_id(OURS).to_hex(),
        "--remote-port",
        port,
        "--caps",
        "eth/68",
        "--send-status",
        "--timeout-ms",
        "60000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Status messages our node refused (any cause), waiting briefly for the count to settle.
fn status_rejections(node: &RunningNode) -> u64 {
    use paxeer_p2p_core::eth::service::EthProtocol;
    let eth = node.eth;
    let read = || {
        node.host
            .call(move |d, _| {
                d.host().protocol::<EthProtocol>(eth).map_or(0, |e| {
                    let r = &e.metrics().status_rejected;
                    r.network_id
                        + r.genesis
                        + r.version
                        + r.fork_id_incompatible
                        + r.fork_id_remote_stale
                })
            })
            .unwrap_or(0)
    };
    let mut n = read();
    if n == 0 && wait_until(STEP_TIMEOUT, || read() > 0) {
        n = read();
    }
    n
}

fn ethereumjs_dials_the_daemon_and_is_listed(kind: RuntimeKind) {
    let (_dir, node, admin) = daemon(kind, None);
    let port = node.tcp_addr.port().to_string();
    let args = dial_args(&port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut peer = NodePeer::spawn(&format!("{kind:?}-daemon-dialer"), &args);
    let hello = peer.wait_event("hello", STEP_TIMEOUT);
    assert!(
        hello["client_id"]
            .as_str()
            .unwrap()
            .starts_with("paxeer-p2p/v"),
        "{hello}"
    );
    // ethereumjs accepted our Status (mainnet, fork id at genesis).
    let status = peer.wait_event("eth_status", STEP_TIMEOUT);
    assert!(status.is_object());
    let listed = wait_until(STEP_TIMEOUT, || {
        let peers = admin.peers();
        peers.as_array().is_some_and(|a| {
            a.iter().any(|p: &Value| {
                p["name"].as_str().unwrap_or("").starts_with("ethereumjs")
                    && p["protocols"]["eth"]["ready"] == true
            })
        })
    });
    assert!(listed, "admin_peers: {}", admin.peers());
    let p = admin.peers()[0].clone();
    assert_eq!(p["caps"], serde_json::json!(["eth/68"]), "{p}");
    assert_eq!(p["network"]["inbound"], true);
    assert_eq!(p["protocols"]["eth"]["version"], 68);
    assert_eq!(admin.peer_count(), 1);
    node.shutdown();
    let disc = peer.wait_event("disconnect", STEP_TIMEOUT);
    assert_eq!(disc["reason_code"], 8, "client quitting: {disc}");
}

#[test]
fn ethereumjs_dials_the_tokio_daemon_and_is_listed_by_admin_peers() {
    ethereumjs_dials_the_daemon_and_is_listed(RuntimeKind::Tokio);
}

#[test]
fn ethereumjs_dials_the_smol_daemon_and_is_listed_by_admin_peers() {
    ethereumjs_dials_the_daemon_and_is_listed(RuntimeKind::Smol);
}

#[test]
fn a_wrong_network_id_ends_the_session_with_a_subprotocol_error() {
    let (_dir, node, admin) = daemon(RuntimeKind::Tokio, Some(5));
    let port = node.tcp_addr.port().to_string();
    let args = dial_args(&port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut peer = NodePeer::spawn("network-mismatch", &args);
    let disc = peer.wait_event("disconnect", STEP_TIMEOUT);
    // A failed eth handshake ends with DiscSubprotocolError (0x10), as go-ethereum sends;
    // ethereumjs checks the network id too, so either side may be first, but our node must
    // have refused the Status itself.
    assert_eq!(disc["reason_code"], 16, "{disc}");
    assert!(
        status_rejections(&node) >= 1,
        "our node refused the network id"
    );
    assert_eq!(admin.peer_count(), 0);
    node.shutdown();
}

/// Chain 4242 as a go-ethereum genesis.json: every block fork through London at block 0 and
/// a 30M gas limit, so EIP-1559 transfers are valid at its genesis (at mainnet's genesis, with
/// its 5000 gas limit and no fork active, no transaction is).
const CUSTOM_4242_GENESIS: &str = r#"{
  "config": { "chainId": 4242, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0,
    "eip158Block": 0, "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0,
    "istanbulBlock": 0, "berlinBlock": 0, "londonBlock": 0 },
  "nonce": "0x0", "timestamp": "0x0", "extraData": "0x", "gasLimit": "0x1c9c380",
  "difficulty": "0x1", "alloc": {}
}"#;

fn custom_4242_chain(dir: &std::path::Path) -> ChainSpec {
    let path = dir.join("genesis-4242.json");
    std::fs::write(&path, CUSTOM_4242_GENESIS).unwrap();
    paxeer_p2p_node::eth::spec::load_chain(Some(path.to_str().unwrap())).unwrap()
}

#[test]
fn transactions_and_headers_flow_both_ways_with_ethereumjs_on_a_custom_chain() {
    use paxeer_p2p_core::eth::service::EthProtocol;
    use paxeer_p2p_node::eth::txgen::signed_transfer;

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = NodeConfig::new(dir.path().join("node"));
    cfg.key = KeySource::Hex(key_hex(OURS));
    cfg.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    cfg.discovery_port = None;
    cfg.chain = custom_4242_chain(dir.path());
    assert_eq!(cfg.chain.network_id, 4242);
    let rt = Rt::new(RuntimeKind::Tokio).unwrap();
    let node = start_node(&cfg, &rt, Vec::new()).unwrap();
    let eth = node.eth;
    // ethereumjs's Common knows no such chain: it is given the genesis hash and fork hash.
    let fork_hash = node
        .host
        .call(move |d, _| {
            d.host()
                .protocol::<EthProtocol>(eth)
                .map(|e| e.node_info().fork_id.hash)
        })
        .unwrap()
        .unwrap();
    let genesis_hex = hex::encode(cfg.chain.genesis_hash);
    let fork_hex = hex::encode(fork_hash);

    // Ours: in the pool before ethereumjs connects, so it is announced on connect.
    let signer = paxeer_p2p_node::daemon::test_key();
    let ours = signed_transfer(&signer, 4242, 0, 32);
    let our_hash = hex::encode(ours.hash());
    node.host
        .call(move |d, now| {
            d.host_mut()
                .with_protocol::<EthProtocol, _>(now, eth, |e, ctx| {
                    e.submit_transactions(ctx, vec![ours])
                })
        })
        .unwrap();
    // Theirs: a transaction ethereumjs announces (signed here, relayed by it as raw bytes).
    let theirs = signed_transfer(&signer, 4242, 1, 48);
    let their_hash = theirs.hash();
    let raw = hex::encode(theirs.encode());

    let port = node.tcp_addr.port().to_string();
    let remote = peer_id(OURS).to_hex();
    let key = key_hex(NODE);
    let mut peer = NodePeer::spawn(
        "custom-chain",
        &[
            "dial",
            "--key",
            &key,
            "--remote-id",
            &remote,
            "--remote-port",
            &port,
            "--caps",
            "eth/68",
            "--send-status",
            "--network-id",
            "4242",
            "--genesis-hash",
            &genesis_hex,
            "--fork-hash",
            &fork_hex,
            "--announce-tx",
            &raw,
            "--fetch-announced",
            "--get-headers",
            "--timeout-ms",
            "60000",
        ],
    );
    let status = peer.wait_event("eth_status", STEP_TIMEOUT);
    assert!(status.is_object());
    // We served its GetBlockHeaders with block 0, which hashes to the genesis hash.
    let headers = peer.wait_event("block_headers", STEP_TIMEOUT);
    assert_eq!(headers["count"], 1, "{headers}");
    assert_eq!(
        headers["hashes"][0],
        hex::encode(cfg.chain.genesis_hash),
        "{headers}"
    );
    // Ours reached it: announced, requested, delivered, hash checked by ethereumjs.
    let got = peer.wait_for("our tx", STEP_TIMEOUT, |v| {
        v["event"] == "pooled_txs"
            && v["hashes"]
                .as_array()
                .is_some_and(|a| a.iter().any(|h| h == &our_hash))
    });
    assert!(got.is_object());
    // Theirs reached us: after the announce wait we fetched it and the pool verified it.
    peer.wait_event("tx_served", STEP_TIMEOUT);
    let in_pool = wait_until(STEP_TIMEOUT, || {
        node.host
            .call(move |d, _| {
                d.host()
                    .protocol::<EthProtocol>(eth)
                    .is_some_and(|e| e.pool().get(&their_hash).is_some())
            })
            .unwrap_or(false)
    });
    assert!(in_pool, "their tx is in our pool");
    node.shutdown();
}

#[test]
fn an_incompatible_fork_id_ends_the_session_with_a_subprotocol_error() {
    // Mainnet's id and genesis, but a fork schedule of our own: ethereumjs's fork id (all of
    // mainnet's forks) is neither in our past nor in our future.
    let dir = tempfile::tempdir().unwrap();
    // Mainnet's genesis with Homestead at block 1 and nothing later: a fork id ethereumjs's
    // mainnet rejects.
    let mut forked = ChainSpec::mainnet();
    forked.name = "forked-mainnet".into();
    forked.fork_blocks = vec![paxeer_p2p_core::eth::chainspec::ScheduledFork {
        name: "Homestead".into(),
        at: 1,
    }];
    forked.fork_times = Vec::new();
    let mut cfg = NodeConfig::new(dir.path().join("node"));
    cfg.key = KeySource::Hex(key_hex(OURS));
    cfg.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    cfg.discovery_port = None;
    cfg.chain = forked;
    let rt = Rt::new(RuntimeKind::Smol).unwrap();
    let node = start_node(&cfg, &rt, Vec::new()).unwrap();
    let port = node.tcp_addr.port().to_string();
    let args = dial_args(&port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut peer = NodePeer::spawn("fork-mismatch", &args);
    let disc = peer.wait_event("disconnect", STEP_TIMEOUT);
    // Both sides check the fork id, so either may disconnect first (0x10 either way); our
    // node must have refused the Status itself (their Status arrives before their
    // Disconnect on the same stream).
    assert_eq!(disc["reason_code"], 16, "{disc}");
    assert!(
        status_rejections(&node) >= 1,
        "our node refused the fork id"
    );
    node.shutdown();
}
