//! Traffic for the devnet (`--txs N --blocks N`): signed transactions and empty blocks
//! injected at nodes in turn, and per item the time until every node has it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use paxeer_p2p_core::eth::app::ImportResult;
use paxeer_p2p_core::eth::block::{Block, BlockBody};
use paxeer_p2p_core::eth::primitives::{EMPTY_ROOT_HASH, EMPTY_UNCLES_HASH};
use paxeer_p2p_core::eth::service::{EthEvent, EthProtocol};
use paxeer_p2p_core::eth::B256;
use paxeer_p2p_core::host::HostEvent;
use secp256k1::SecretKey;
use serde_json::{json, Value};

use crate::daemon::{Observer, RunningNode};
use crate::eth::txgen::signed_transfer;

/// When each node first had each item (tx or block hash).
pub type Sightings = Arc<Mutex<BTreeMap<B256, BTreeMap<usize, Instant>>>>;

/// The observer of node `index` recording when it gets transactions and blocks.
pub fn sightings_observer(index: usize, seen: Sightings) -> Observer {
    Box::new(move |_host, ev| {
        let HostEvent::Protocol { event, .. } = ev else {
            return;
        };
        let Some(ev) = event.downcast_ref::<EthEvent>() else {
            return;
        };
        let now = Instant::now();
        let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
        match ev {
            EthEvent::TxsAdded { hashes, .. } => {
                for h in hashes {
                    s.entry(*h).or_default().entry(index).or_insert(now);
                }
            }
            EthEvent::BlockImported { hash, .. } => {
                s.entry(*hash).or_default().entry(index).or_insert(now);
            }
            _ => {}
        }
    })
}

/// One injected item.
struct Item {
    hash: B256,
    at: Instant,
}

/// Injects `txs` transactions, then `blocks` blocks (each waits until it reached every node
/// or `limit` passed), and reports propagation times and duplicate deliveries.
pub fn run(
    nodes: &[RunningNode],
    seen: &Sightings,
    txs: usize,
    blocks: usize,
    chain_id: u64,
    limit: Duration,
) -> Value {
    // One sender per node, its nonces in order: a pool propagates only what is executable,
    // so one sender spread over the nodes would leave every node a nonce gap to wait out.
    let keys: Vec<SecretKey> = nodes.iter().map(|_| crate::keyfile::generate()).collect();
    let mut tx_items = Vec::new();
    for i in 0..txs {
        let (Some(node), Some(key)) = (nodes.get(i % nodes.len()), keys.get(i % nodes.len()))
        else {
            break;
        };
        // Every fourth transaction carries 5 KiB, so it is announced rather than broadcast.
        let payload = if i % 4 == 3 { 5 * 1024 } else { 64 };
        let nonce = (i / nodes.len()) as u64;
        let tx = signed_transfer(key, chain_id, nonce, payload);
        let hash = tx.hash();
        let eth = node.eth;
        let at = Instant::now();
        let _ = node.host.call(move |d, now| {
            d.host_mut()
                .with_protocol::<EthProtocol, _>(now, eth, |e, ctx| {
                    e.submit_transactions(ctx, vec![tx])
                })
        });
        tx_items.push(Item { hash, at });
    }
    wait_all(seen, &tx_items, nodes.len(), limit);
    let mut block_items = Vec::new();
    for i in 0..blocks {
        let Some(node) = nodes.get((i * 3 + 1) % nodes.len()) else {
            break;
        };
        let eth = node.eth;
        let at = Instant::now();
        let made = node.host.call(move |d, now| {
            d.host_mut()
                .with_protocol::<EthProtocol, _>(now, eth, |e, ctx| {
                    let head = e.chain().head();
                    let parent = e.chain().header_by_hash(&head.hash)?;
                    let mut h = parent.clone();
                    h.parent_hash = head.hash;
                    h.number = parent.number + 1;
                    h.timestamp = parent.timestamp + 1;
                    h.transactions_root = EMPTY_ROOT_HASH;
                    h.ommers_hash = EMPTY_UNCLES_HASH;
                    h.withdrawals_root = Some(EMPTY_ROOT_HASH);
                    h.extra_data = format!("devnet block {i}").into_bytes();
                    let hash = h.hash();
                    let block = Block {
                        header: h,
                        body: BlockBody {
                            transactions: Vec::new(),
                            uncles: Vec::new(),
                            withdrawals: Some(Vec::new()),
                        },
                    };
                    match e.submit_block(ctx, block) {
                        ImportResult::Imported { .. } => Some(hash),
                        _ => None,
                    }
                })
                .flatten()
        });
        if let Ok(Some(hash)) = made {
            let item = Item { hash, at };
            wait_all(seen, std::slice::from_ref(&item), nodes.len(), limit);
            block_items.push(item);
        }
    }
    let dups = duplicates(nodes);
    json!({
        "txs": report(seen, &tx_items, nodes.len(), dups.0),
        "blocks": report(seen, &block_items, nodes.len(), dups.1),
    })
}

fn wait_all(seen: &Sightings, items: &[Item], n: usize, limit: Duration) {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        let done = {
            let s = seen.lock().unwrap_or_else(|p| p.into_inner());
            items
                .iter()
                .all(|it| s.get(&it.hash).is_some_and(|m| m.len() >= n))
        };
        if done {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Duplicate deliveries (txs, blocks) summed over the nodes.
fn duplicates(nodes: &[RunningNode]) -> (u64, u64) {
    nodes.iter().fold((0, 0), |acc, n| {
        let eth = n.eth;
        let d = n
            .host
            .call(move |d, _| {
                d.host()
                    .protocol::<EthProtocol>(eth)
                    .map(|e| (e.metrics().txs_duplicate, e.metrics().blocks_duplicate))
                    .unwrap_or((0, 0))
            })
            .unwrap_or((0, 0));
        (acc.0 + d.0, acc.1 + d.1)
    })
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).map(|v| (v * 10.0).round() / 10.0)
}

fn report(seen: &Sightings, items: &[Item], n: usize, duplicates: u64) -> Value {
    let s = seen.lock().unwrap_or_else(|p| p.into_inner());
    let mut times = Vec::new();
    let mut complete = 0;
    for it in items {
        if let Some(m) = s.get(&it.hash) {
            if m.len() >= n {
                complete += 1;
                if let Some(last) = m.values().max() {
                    times.push(last.saturating_duration_since(it.at).as_secs_f64() * 1000.0);
                }
            }
        }
    }
    times.sort_by(f64::total_cmp);
    json!({
        "injected": items.len(),
        "reached_all": complete,
        "p50_ms": percentile(&times, 0.5),
        "p99_ms": percentile(&times, 0.99),
        "duplicates_per_item": if items.is_empty() { 0.0 } else {
            (duplicates as f64 / items.len() as f64 * 100.0).round() / 100.0
        },
    })
}
