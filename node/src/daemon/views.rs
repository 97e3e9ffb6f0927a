//! JSON views of a node and its peers, in the shape of go-ethereum's `admin_nodeInfo` and
//! `admin_peers`.

use paxeer_p2p_core::driver::host::HostAccess;
use paxeer_p2p_core::protocol::ProtocolId;
use serde_json::{json, Value};

use crate::protocols::ping::Ping;
use paxeer_p2p_core::eth::service::EthProtocol;

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// `protocols.eth` of `admin_nodeInfo`: what a peer must agree on in Status.
pub fn eth_node_json(eth: &EthProtocol) -> Value {
    let i = eth.node_info();
    json!({
        "network": i.network_id,
        "genesis": hex0x(&i.genesis_hash),
        "head": hex0x(&i.head_hash),
        "headNumber": i.head_number,
        "forkId": { "hash": hex0x(&i.fork_id.hash), "next": i.fork_id.next },
        "versions": i.versions.iter().map(|v| v.as_u32()).collect::<Vec<_>>(),
        "sync": {
            "syncing": i.sync.syncing,
            "target": i.sync.target.map(|(n, h)| json!({ "number": n, "hash": hex0x(&h) })),
            "highestHeader": i.sync.highest_header,
            "receiptsWanted": i.sync.receipts_wanted,
            "receiptsTooLarge": i.sync.stats.receipts_too_large,
            "inFlight": i.sync.in_flight,
            "headers": i.sync.stats.headers,
            "bodies": i.sync.stats.bodies,
            "receipts": i.sync.stats.receipts,
            "imported": i.sync.stats.imported,
            "timeouts": i.sync.stats.timeouts,
            "faults": i.sync.stats.faults,
        },
    })
}

/// `admin_peers`: one object per admitted peer.
pub fn peers_json(d: &dyn HostAccess, ping: ProtocolId, eth: ProtocolId) -> Value {
    let host = d.host();
    let proto = host.protocol::<Ping>(ping);
    let eth = host.protocol::<EthProtocol>(eth);
    let peers: Vec<Value> = host
        .peers()
        .into_iter()
        .map(|p| {
            let mut protocols = serde_json::Map::new();
            if let Some(info) = eth.and_then(|e| e.peer_info(&p.id)) {
                protocols.insert(
                    "eth".into(),
                    json!({
                        "version": info.version.as_u32(),
                        "ready": info.ready,
                        "head": info.head_hash.map(|h| hex0x(&h)),
                        "headNumber": info.head_number,
                        "blockRange": info.block_range,
                    }),
                );
            }
            if let Some(info) = proto.and_then(|pr| pr.peer(&p.id)) {
                protocols.insert(
                    "ping".into(),
                    json!({
                        "version": 1,
                        "rttMs": info.rtt.map(|r| r.as_secs_f64() * 1000.0),
                        "pongs": info.pongs,
                    }),
                );
            }
            json!({
                "id": hex::encode(p.id.node_id().0),
                "enode": format!("enode://{}@{}", p.id.to_hex(), p.remote),
                "name": p.client_id,
                "caps": p.caps.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                "network": {
                    "localAddress": d.local_addr(p.conn).map(|a| a.to_string()),
                    "remoteAddress": p.remote.to_string(),
                    "inbound": p.direction == paxeer_p2p_core::types::Direction::Inbound,
                    "trusted": p.is_trusted,
                    "static": p.is_static,
                },
                "established": p.established,
                "reputation": p.reputation,
                "protocols": protocols,
            })
        })
        .collect();
    Value::Array(peers)
}

/// `admin_nodeInfo`: identity, addresses, ports, and what each protocol reports.
pub fn node_info_json(
    d: &dyn HostAccess,
    ping: ProtocolId,
    eth: ProtocolId,
    enode: &str,
    name: &str,
) -> Value {
    let host = d.host();
    let id = host.local_id();
    let enr = host.discovery().map(|disc| disc.local_enr().to_text());
    let (ip, tcp, udp) = match enode.parse::<paxeer_p2p_core::enode::Enode>() {
        Ok(e) => (e.ip.to_string(), e.tcp_port, e.udp_port),
        Err(_) => (String::new(), 0, 0),
    };
    let mut protocols = serde_json::Map::new();
    if let Some(e) = host.protocol::<EthProtocol>(eth) {
        protocols.insert("eth".into(), eth_node_json(e));
    }
    if let Some(p) = host.protocol::<Ping>(ping) {
        let rtts: Vec<f64> = host
            .peers()
            .iter()
            .filter_map(|peer| p.peer(&peer.id).and_then(|i| i.rtt))
            .map(|r| r.as_secs_f64() * 1000.0)
            .collect();
        protocols.insert(
            "ping".into(),
            json!({ "version": 1, "peersMeasured": rtts.len() }),
        );
    }
    json!({
        "id": hex::encode(id.node_id().0),
        "name": name,
        "enode": enode,
        "enr": enr,
        "ip": ip,
        "ports": { "discovery": udp, "listener": tcp },
        "listenAddr": format!("{ip}:{tcp}"),
        "protocols": protocols,
    })
}
