//! End-to-end tests of `paxeer-p2p run`: identity across restarts, the admin JSON-RPC and
//! metrics endpoints, peer limits, graceful shutdown, and a tokio node peering with a smol
//! node. Each test runs real processes on loopback.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::json;
use support::{metric, wait_until, Daemon, ADMIN};

#[test]
fn identity_persists_across_restarts_and_runtimes_and_endpoints_answer() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().to_str().unwrap();
    let mut args = vec![
        "--datadir",
        datadir,
        "--nodiscover",
        "--identity",
        "persist",
    ];
    args.extend(ADMIN);
    let a = Daemon::start(&args);
    let enode = a.enode();
    let info = a.rpc("admin_nodeInfo", json!([]));
    assert_eq!(info["enode"], enode);
    assert!(
        info["name"].as_str().unwrap().contains("/persist/"),
        "{info}"
    );
    assert_eq!(a.rpc("net_listening", json!([])), true);
    assert_eq!(a.rpc("net_peerCount", json!([])), "0x0");
    let m = a.metrics();
    assert!(m.contains("p2p_peers{direction=\"inbound\"} 0"), "{m}");
    assert!(a.interrupt().success());
    // The key file is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("nodekey"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    args.extend(["--runtime", "smol"]);
    let b = Daemon::start(&args);
    let id = |e: &str| e.split('@').next().unwrap().to_string();
    assert_eq!(id(&b.enode()), id(&enode), "same datadir, same identity");
    assert!(b.interrupt().success());
}

#[test]
fn tokio_and_smol_daemons_find_and_list_each_other_then_part_gracefully() {
    let mut a_args = vec!["--runtime", "tokio", "--identity", "tok"];
    a_args.extend(ADMIN);
    let a = Daemon::start(&a_args);
    let enode = a.enode();
    let mut b_args = vec![
        "--runtime",
        "smol",
        "--identity",
        "smo",
        "--bootnodes",
        &enode,
    ];
    b_args.extend(ADMIN);
    let b = Daemon::start(&b_args);
    assert!(wait_until(Duration::from_secs(20), || a.peers().len() == 1
        && b.peers().len() == 1));
    let pa = &a.peers()[0];
    assert!(pa["name"].as_str().unwrap().contains("/smo/"), "{pa}");
    assert_eq!(pa["caps"], json!(["eth/70", "ping/1"]));
    // The eth Status handshake completed: both ends agree on the devnet.
    assert!(wait_until(Duration::from_secs(10), || a.peers()[0]
        ["protocols"]["eth"]["ready"]
        == true));
    let info = a.rpc("admin_nodeInfo", json!([]));
    let eth = &info["protocols"]["eth"];
    assert_eq!(eth["network"], 22922, "{info}");
    assert_eq!(eth["headNumber"], 0);
    assert_eq!(eth["forkId"]["hash"].as_str().unwrap().len(), 10);
    assert_eq!(b.rpc("net_peerCount", json!([])), "0x1");
    assert!(wait_until(Duration::from_secs(10), || {
        metric(&a.metrics(), "p2p_ingress_messages_total{protocol=\"ping\"") >= 1.0
    }));
    // Discovery traffic is counted by packet type.
    let m = a.metrics();
    assert!(
        metric(
            &m,
            "p2p_discovery_packets_total{direction=\"in\",kind=\"ping\"}"
        ) >= 1.0,
        "{m}"
    );
    assert!(metric(&m, "p2p_discovery_table_nodes{bucket=") >= 0.0);
    assert!(
        metric(&m, "p2p_eth_events_total{event=\"handshake_ok\"}") >= 1.0,
        "{m}"
    );
    // a leaves: b hears "client quitting".
    assert!(a.interrupt().success());
    assert!(wait_until(Duration::from_secs(10), || b.peers().is_empty()));
    assert!(b
        .metrics()
        .contains("p2p_disconnects_total{reason=\"client_quitting\",side=\"received\"} 1"));
}

#[test]
fn maxpeers_two_keeps_two_of_five_dialers_and_refuses_the_rest_with_too_many_peers() {
    let mut args = vec!["--nodiscover", "--maxpeers", "2"];
    args.extend(ADMIN);
    let hub = Daemon::start(&args);
    let list = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(list.path(), json!([hub.enode()]).to_string()).unwrap();
    let path = list.path().to_str().unwrap().to_string();
    let dialers: Vec<Daemon> = (0..5)
        .map(|i| {
            let rt = if i % 2 == 0 { "tokio" } else { "smol" };
            Daemon::start(&["--nodiscover", "--static-nodes", &path, "--runtime", rt])
        })
        .collect();
    assert!(wait_until(Duration::from_secs(20), || {
        metric(
            &hub.metrics(),
            "p2p_disconnects_total{reason=\"too_many_peers\",side=\"sent\"}",
        ) >= 3.0
    }));
    assert_eq!(hub.peers().len(), 2);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(hub.peers().len(), 2, "the limit holds while dialers retry");
    drop(dialers);
}

#[test]
fn admin_api_on_a_public_address_is_refused_without_the_opt_in() {
    let out = Command::new(env!("CARGO_BIN_EXE_paxeer-p2p"))
        .args(["run", "--port", "0", "--http", "--http.addr", "0.0.0.0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--http.allow-nonloopback"), "{err}");
}
