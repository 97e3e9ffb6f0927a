//! The eth simulator scenario: a network of hosts with per-link latency (`hostnet/`, 20–80 ms
//! one way, fixed per pair), each node dialing a few random static peers. Transactions and
//! blocks injected at random nodes must reach every node, transactions without flooding;
//! a node serving invalid data (invalid transactions, blocks whose body does not match the
//! header) must be banned by every node it touches while honest peers keep their slots.
//!
//! Run with `--nocapture` to see the measured figures.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod eth_support;
mod hostnet;

use std::collections::BTreeSet;
use std::time::Duration;

use eth_support::{child, invalid_tx, key, signed_tx, MemChain, MemPool};
use hostnet::{HostNet, NodeSpec};
use paxeer_p2p_core::eth::app::{ImportResult, TxVerdict};
use paxeer_p2p_core::eth::service::{EthConfig, EthMetrics, EthProtocol};
use paxeer_p2p_core::eth::{Block, ChainSpec, PooledTransaction, B256};
use paxeer_p2p_core::host::HostConfig;
use paxeer_p2p_core::p2p::Capability;
use paxeer_p2p_core::peers::BanTarget;
use paxeer_p2p_core::protocol::ProtocolId;
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::types::{PeerId, Seed};

/// Honest nodes.
const NODES: usize = 100;
/// Static peers each honest node dials (so ~2 × 5 = 10 peers a node on average).
const DIALS: usize = 5;
/// Each node's peer limit.
const MAX_PEERS: usize = 16;
/// Transactions injected, each at a random node.
const TXS: usize = 20;
/// Blocks produced, each at a random node, one after the other.
const BLOCKS: usize = 3;
/// Honest nodes the misbehaving node dials.
const EVIL_DIALS: usize = 8;
/// Rounds of misbehaviour (one invalid tx and one forged block each).
const EVIL_ROUNDS: u64 = 4;
/// Polling step while waiting for propagation.
const STEP: Duration = Duration::from_millis(10);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One-way latency of the link between nodes `a < b`: 20–80 ms, fixed per pair.
fn latency(a: usize, b: usize) -> Duration {
    let h = (a as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (b as u64 + 1).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    ms(20 + (h >> 11) % 61)
}

fn node(i: usize, pool: MemPool) -> NodeSpec {
    let mut hc = HostConfig::default();
    hc.peers.max_peers = MAX_PEERS;
    let mut seed = [7u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
    let eth = EthProtocol::new(
        EthConfig::new(ChainSpec::paxeer_devnet()),
        Box::new(MemChain::new()),
        Box::new(pool),
        Seed(seed),
    );
    NodeSpec::new(hc, vec![Box::new(eth)])
}

fn eth_id(net: &HostNet, i: usize) -> ProtocolId {
    let r = net.nodes[i].host.registry();
    r.find(&Capability::new("eth", 69)).unwrap()
}

fn eth(net: &HostNet, i: usize) -> &EthProtocol {
    net.nodes[i]
        .host
        .protocol::<EthProtocol>(eth_id(net, i))
        .unwrap()
}

fn metrics(net: &HostNet, i: usize) -> EthMetrics {
    eth(net, i).metrics().clone()
}

fn connect(net: &mut HostNet, a: usize, b: usize) {
    let (now, bid, baddr) = (net.now, net.id(b), net.nodes[b].addr);
    net.host(a).add_static(now, bid, baddr).unwrap();
    net.drain(a);
}

fn submit_txs(net: &mut HostNet, i: usize, txs: Vec<PooledTransaction>) -> Vec<TxVerdict> {
    let (now, id) = (net.now, eth_id(net, i));
    let v = net
        .host(i)
        .with_protocol::<EthProtocol, _>(now, id, |p, ctx| p.submit_transactions(ctx, txs))
        .unwrap();
    net.drain(i);
    v
}

fn submit_block(net: &mut HostNet, i: usize, block: Block) -> ImportResult {
    let (now, id) = (net.now, eth_id(net, i));
    let r = net
        .host(i)
        .with_protocol::<EthProtocol, _>(now, id, |p, ctx| p.submit_block(ctx, block))
        .unwrap();
    net.drain(i);
    r
}

/// A child of node `i`'s head carrying one transaction signed by `signer`.
fn next_block(net: &HostNet, i: usize, signer: u8) -> Block {
    let chain = eth(net, i).chain();
    let header = chain.header_by_hash(&chain.head().hash).unwrap();
    let tx = signed_tx(&key(signer), 0, 10).transaction().clone();
    child(&header, vec![tx])
}

/// A child of node `i`'s head whose body is not the one its header commits to.
fn forged_block(net: &HostNet, i: usize, n: u64) -> Block {
    let chain = eth(net, i).chain();
    let header = chain.header_by_hash(&chain.head().hash).unwrap();
    let committed = signed_tx(&key(150), n, 10).transaction().clone();
    let served = signed_tx(&key(151), n, 10).transaction().clone();
    let mut block = child(&header, vec![committed]);
    block.body.transactions = vec![served];
    block
}

/// Runs in small steps until `done` holds (or `limit` passes); returns the time taken.
fn run_until_all(net: &mut HostNet, limit: Duration, done: impl Fn(&HostNet) -> bool) -> Duration {
    let start = net.now;
    while !done(net) {
        assert!(net.now - start < limit, "not everywhere after {limit:?}");
        net.run_for(STEP);
    }
    net.now - start
}

fn honest_peers(net: &HostNet, i: usize, honest: &BTreeSet<PeerId>) -> BTreeSet<PeerId> {
    eth(net, i)
        .ready_peers()
        .into_iter()
        .filter(|p| honest.contains(p))
        .collect()
}

fn mean(v: &[Duration]) -> Duration {
    v.iter().sum::<Duration>() / u32::try_from(v.len()).unwrap()
}

#[test]
fn txs_and_blocks_reach_every_node_and_a_liar_is_banned_everywhere() {
    let mut net = HostNet::new(11, ms(50));
    net.link_latency = Some(Box::new(latency));
    let mut rng = MachineRng::new(Seed([42; 32]));
    let mut pick = |n: usize| usize::try_from(rng.range_inclusive(0, n as u64 - 1)).unwrap();
    for i in 0..NODES {
        net.add(node(i, MemPool::new()));
    }
    for i in 0..NODES {
        let mut chosen = BTreeSet::new();
        while chosen.len() < DIALS {
            let t = pick(NODES);
            if t != i {
                chosen.insert(t);
            }
        }
        for t in chosen {
            connect(&mut net, i, t);
        }
    }
    net.run_for(Duration::from_secs(3));
    let honest: BTreeSet<PeerId> = (0..NODES).map(|i| net.id(i)).collect();
    let degrees: Vec<usize> = (0..NODES)
        .map(|i| eth(&net, i).ready_peers().len())
        .collect();
    let links: usize = degrees.iter().sum::<usize>() / 2;
    assert!(
        degrees.iter().all(|d| (1..=MAX_PEERS).contains(d)),
        "{degrees:?}"
    );
    println!(
        "{NODES} nodes, {links} links, degree min {} mean {:.1} max {}",
        degrees.iter().min().unwrap(),
        degrees.iter().sum::<usize>() as f64 / NODES as f64,
        degrees.iter().max().unwrap()
    );

    // Transactions, all injected at once at random nodes.
    let txs: Vec<(usize, PooledTransaction)> = (0..TXS)
        .map(|k| (pick(NODES), signed_tx(&key(10 + k as u8), 0, 100)))
        .collect();
    let hashes: Vec<B256> = txs.iter().map(|(_, t)| t.hash()).collect();
    for (at, tx) in txs {
        assert_eq!(submit_txs(&mut net, at, vec![tx]), vec![TxVerdict::Added]);
    }
    let mut tx_times = vec![None; TXS];
    let start = net.now;
    while tx_times.iter().any(Option::is_none) {
        assert!(
            net.now - start < Duration::from_secs(10),
            "txs not everywhere"
        );
        for (k, h) in hashes.iter().enumerate() {
            if tx_times[k].is_none() && (0..NODES).all(|i| eth(&net, i).pool().contains(h)) {
                tx_times[k] = Some(net.now - start);
            }
        }
        net.run_for(STEP);
    }
    let tx_times: Vec<Duration> = tx_times.into_iter().flatten().collect();
    net.run_for(Duration::from_secs(2));
    let (mut received, mut fetched, mut duplicates) = (0u64, 0u64, 0u64);
    for i in 0..NODES {
        let m = metrics(&net, i);
        received += m.txs_broadcast_in + m.txs_fetched_in;
        duplicates += m.txs_duplicate;
        fetched += m.txs_fetched_in;
        assert_eq!(m.txs_invalid + m.txs_unrequested, 0, "node {i}");
    }
    // Needed: every node but the origin gets each tx once. Flooding: every node sends each
    // tx to every peer but the one it came from, so Σdeg − (n−1) deliveries per tx.
    let needed = ((NODES - 1) * TXS) as u64;
    let flooding = ((2 * links - (NODES - 1)) * TXS) as u64;
    let per_tx = received as f64 / TXS as f64;
    println!(
        "txs: {received} deliveries ({per_tx:.0}/tx, {:.2}/node/tx, {fetched} fetched, \
         {duplicates} duplicates), needed {needed}, flooding {flooding} ({:.0}/tx); \
         everywhere after mean {:?} max {:?}",
        received as f64 / needed as f64,
        flooding as f64 / TXS as f64,
        mean(&tx_times),
        tx_times.iter().max().unwrap()
    );
    assert!(received >= needed);
    // ceil(√d) pushes out of each node's d−1 other peers reach a node ~√d times, hashes are
    // fetched once: at most half of what flooding costs (d ≈ 10 gives ~3.5 against ~9).
    assert!(
        received * 2 <= flooding,
        "received {received} flooding {flooding}"
    );

    // Blocks, one after the other, each at a random node.
    let mut block_times = Vec::new();
    for b in 0..BLOCKS {
        let at = pick(NODES);
        let block = next_block(&net, at, 100 + b as u8);
        let hash = block.header.hash();
        assert_eq!(
            submit_block(&mut net, at, block),
            ImportResult::Imported { new_head: true }
        );
        let t = run_until_all(&mut net, Duration::from_secs(10), |net| {
            (0..NODES).all(|i| eth(net, i).chain().head().hash == hash)
        });
        block_times.push(t);
        net.run_for(Duration::from_secs(1));
    }
    let (mut header_reqs, mut body_reqs, mut block_in) = (0, 0, 0);
    for i in 0..NODES {
        let m = metrics(&net, i);
        assert_eq!(eth(&net, i).chain().head().number, BLOCKS as u64);
        header_reqs += m.block_fetcher.header_requests;
        body_reqs += m.block_fetcher.body_requests;
        block_in += m.blocks_in;
        assert_eq!(m.blocks_invalid, 0, "node {i}");
    }
    println!(
        "blocks: everywhere after {block_times:?}; {block_in} NewBlock received, \
         {header_reqs} header and {body_reqs} body requests"
    );

    // A liar joins, dialing a few honest nodes, and serves invalid txs and forged blocks.
    let before: Vec<BTreeSet<PeerId>> =
        (0..NODES).map(|i| honest_peers(&net, i, &honest)).collect();
    let mut lax = MemPool::new();
    lax.accept_all = true;
    let evil = net.add(node(NODES, lax));
    let evil_id = net.id(evil);
    let mut victims = BTreeSet::new();
    while victims.len() < EVIL_DIALS {
        victims.insert(pick(NODES));
    }
    for &v in &victims {
        connect(&mut net, evil, v);
    }
    net.run_for(Duration::from_secs(2));
    let touched: Vec<usize> = (0..NODES)
        .filter(|&i| eth(&net, i).ready_peers().contains(&evil_id))
        .collect();
    assert!(touched.len() >= EVIL_DIALS / 2, "touched {touched:?}");
    for n in 0..EVIL_ROUNDS {
        submit_txs(&mut net, evil, vec![invalid_tx(n)]);
        let forged = forged_block(&net, evil, n);
        submit_block(&mut net, evil, forged);
        net.run_for(ms(1500));
    }
    net.run_for(Duration::from_secs(2));
    for &i in &touched {
        let bans = net.nodes[i].host.peer_manager().bans();
        assert!(
            bans.iter().any(|b| b.target == BanTarget::Peer(evil_id)),
            "node {i} did not ban the liar"
        );
        assert!(!net.peer_ids(i).contains(&evil_id), "node {i}");
        let m = metrics(&net, i);
        assert!(m.txs_invalid >= 1, "node {i}: no invalid tx seen");
        assert!(m.blocks_invalid >= 1, "node {i}: no forged block seen");
    }
    let mut penalties = 0;
    for (i, before) in before.iter().enumerate() {
        let bans = net.nodes[i].host.peer_manager().bans();
        assert!(
            bans.iter().all(|b| b.target == BanTarget::Peer(evil_id)),
            "node {i} banned an honest peer: {bans:?}"
        );
        assert_eq!(
            &honest_peers(&net, i, &honest),
            before,
            "node {i} lost honest peers"
        );
        let m = metrics(&net, i);
        penalties += m.block_fetcher.penalties;
        assert_eq!(
            eth(&net, i).chain().head().number,
            BLOCKS as u64,
            "node {i}"
        );
    }
    println!(
        "liar: touched {} nodes, banned by all of them; {penalties} block fetcher penalties",
        touched.len()
    );
}
