//! The admin JSON-RPC backend over a running node: every method is one call into the host
//! task.

use std::net::SocketAddr;

use paxeer_p2p_core::enode::Enode;
use paxeer_p2p_core::protocol::ProtocolId;
use paxeer_p2p_core::types::NodeId;
use serde_json::{json, Value};

use crate::admin::rpc::AdminBackend;
use paxeer_p2p_core::eth::app::TxVerdict;
use paxeer_p2p_core::eth::service::EthProtocol;
use paxeer_p2p_core::eth::tx::PooledTransaction;

use super::{views, HostRef};

/// `admin_*` and `net_*` over a node's host.
#[derive(Debug, Clone)]
pub struct NodeAdmin {
    /// The host.
    pub host: HostRef,
    /// The `ping/1` protocol's id.
    pub ping: ProtocolId,
    /// The eth protocol's id.
    pub eth: ProtocolId,
    /// The node's enode URL.
    pub enode: String,
    /// The node's client id.
    pub name: String,
}

fn parse(enode: &str) -> Result<Enode, String> {
    enode
        .parse::<Enode>()
        .map_err(|e| format!("invalid enode: {e}"))
}

impl AdminBackend for NodeAdmin {
    fn node_info(&self) -> Value {
        let (ping, eth, enode, name) = (self.ping, self.eth, self.enode.clone(), self.name.clone());
        self.host
            .call(move |d, _| views::node_info_json(d, ping, eth, &enode, &name))
            .unwrap_or_else(|e| json!({ "error": e }))
    }

    fn peers(&self) -> Value {
        let (ping, eth) = (self.ping, self.eth);
        self.host
            .call(move |d, _| views::peers_json(d, ping, eth))
            .unwrap_or_else(|_| json!([]))
    }

    fn add_peer(&self, enode: &str) -> Result<bool, String> {
        let e = parse(enode)?;
        self.host.call(move |d, now| {
            d.host_mut()
                .add_static(now, e.id, SocketAddr::new(e.ip, e.tcp_port))
                .map(|()| true)
                .map_err(|err| err.to_string())
        })?
    }

    fn remove_peer(&self, enode: &str) -> Result<bool, String> {
        let e = parse(enode)?;
        self.host.call(move |d, now| {
            let was_static = d.host_mut().remove_static(now, e.id);
            let connected = d.host_mut().disconnect(
                now,
                e.id,
                paxeer_p2p_core::p2p::DisconnectReason::Requested,
            );
            was_static || connected
        })
    }

    fn add_trusted_peer(&self, enode: &str) -> Result<bool, String> {
        let e = parse(enode)?;
        self.host.call(move |d, now| {
            d.host_mut()
                .add_trusted(now, e.id)
                .map(|()| true)
                .map_err(|err| err.to_string())
        })?
    }

    fn remove_trusted_peer(&self, enode: &str) -> Result<bool, String> {
        let e = parse(enode)?;
        self.host
            .call(move |d, now| d.host_mut().remove_trusted(now, e.id))
    }

    fn peer_count(&self) -> usize {
        self.host
            .call(|d, _| d.host().peer_count(None))
            .unwrap_or(0)
    }

    fn listening(&self) -> bool {
        self.host
            .call(|d, _| !d.host().is_shutting_down())
            .unwrap_or(false)
    }

    fn discovery_nodes(&self) -> Value {
        self.host
            .call(|d, _| {
                let Some(disc) = d.host().discovery() else {
                    return json!([]);
                };
                let all = disc.closest(&NodeId([0; 32]), disc.table_len());
                Value::Array(
                    all.iter()
                        .map(|n| {
                            let e = &n.record.endpoint;
                            let enode = Enode {
                                id: n.record.id,
                                ip: e.ip,
                                tcp_port: e.tcp,
                                udp_port: e.udp,
                            };
                            json!({
                                "enode": enode.to_string(),
                                "enr": n.enr.as_ref().map(|r| r.to_text()),
                            })
                        })
                        .collect(),
                )
            })
            .unwrap_or_else(|_| json!([]))
    }

    fn send_raw_transaction(&self, raw: Vec<u8>) -> Result<[u8; 32], String> {
        let tx =
            PooledTransaction::decode(&raw).map_err(|e| format!("invalid transaction: {e}"))?;
        let hash = tx.hash();
        let eth = self.eth;
        let verdicts = self.host.call(move |d, now| {
            d.host_mut()
                .with_protocol::<EthProtocol, _>(now, eth, |e, ctx| {
                    e.submit_transactions(ctx, vec![tx])
                })
        })?;
        match verdicts.and_then(|v| v.into_iter().next()) {
            Some(TxVerdict::Added | TxVerdict::Queued | TxVerdict::AlreadyKnown) => Ok(hash),
            Some(TxVerdict::Dropped(why) | TxVerdict::Invalid(why)) => Err(why.to_string()),
            None => Err("the eth protocol is not running".into()),
        }
    }

    fn pooled_transaction(&self, hash: [u8; 32]) -> Value {
        let eth = self.eth;
        self.host
            .call(move |d, _| {
                let e = d.host().protocol::<EthProtocol>(eth)?;
                let tx = e.pool().get(&hash)?;
                let inner = tx.transaction();
                Some(json!({
                    "hash": format!("0x{}", hex::encode(hash)),
                    "type": format!("{:#x}", inner.tx_type().as_u8()),
                    "from": inner.recover_sender().ok().map(|a| format!("0x{}", hex::encode(a))),
                }))
            })
            .ok()
            .flatten()
            .unwrap_or(Value::Null)
    }
}
