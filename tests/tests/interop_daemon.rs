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
    // go-ethereum ends a failed eth handshake with DiscSubprotocolError (0x10); ethereumjs
    // may refuse our Status first (its own network check), also with 0x10.
    assert_eq!(disc["reason_code"], 16, "{disc}");
    assert_eq!(admin.peer_count(), 0);
    node.shutdown();
}
