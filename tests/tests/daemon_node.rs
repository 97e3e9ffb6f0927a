//! The daemon's node assembly in-process: bans survive a restart (they are written to the
//! node database as they happen and restored at start).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::time::Duration;

use paxeer_p2p_core::peers::BanTarget;
use paxeer_p2p_node::daemon::{start_node, NodeConfig, Rt};
use paxeer_p2p_node::rt::RuntimeKind;
use paxeer_p2p_tests::peer_id;

fn config(dir: &std::path::Path, kind: RuntimeKind) -> NodeConfig {
    let mut cfg = NodeConfig::new(dir.to_path_buf());
    cfg.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    cfg.discovery_port = None;
    cfg.runtime = kind;
    cfg
}

#[test]
fn bans_survive_a_restart_on_either_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let villain = peer_id(0x66);
    let ip: std::net::IpAddr = "203.0.113.9".parse().unwrap();
    {
        let rt = Rt::new(RuntimeKind::Tokio).unwrap();
        let node = start_node(&config(dir.path(), RuntimeKind::Tokio), &rt, Vec::new()).unwrap();
        node.host
            .call(move |d, now| {
                d.host_mut()
                    .ban(now, villain, Some(ip), Duration::from_secs(3600))
            })
            .unwrap();
        node.shutdown();
    }
    let rt = Rt::new(RuntimeKind::Smol).unwrap();
    let node = start_node(&config(dir.path(), RuntimeKind::Smol), &rt, Vec::new()).unwrap();
    let (peer_banned, ip_banned, other) = node
        .host
        .call(move |d, now| {
            let pm = d.host().peer_manager();
            (
                pm.is_banned(&BanTarget::Peer(villain), now),
                pm.is_banned(&BanTarget::Ip(ip), now),
                pm.is_banned(&BanTarget::Peer(peer_id(0x67)), now),
            )
        })
        .unwrap();
    assert!(peer_banned && ip_banned, "bans restored");
    assert!(!other);
    node.shutdown();
}
