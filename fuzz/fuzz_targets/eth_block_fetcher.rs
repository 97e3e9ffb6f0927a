//! `BlockFetcher` driven by arbitrary operation sequences: announcements (true, lying or of
//! unknown hashes), broadcasts (intact or with a tampered body), answers to its requests
//! (right, wrong, partial, reordered, oversized, unrequested), failures, departures, head
//! moves and time. A model importer answers each `Import`.
//!
//! Invariants: never panics; the caps hold (queued blocks, tracked hashes, body batch size);
//! every `Import` has a body matching its header and a parent on the importer's chain or
//! handed over earlier; after `handle_timeout(now)` the next deadline is later than `now`.
#![no_main]

use std::collections::BTreeSet;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::eth::app::ImportResult;
use paxeer_p2p_core::eth::block::{transactions_root, validate_body};
use paxeer_p2p_core::eth::blockfetch::{
    BlockFetcher, FetchEvent, FetchId, FetchRequest, MAX_BODIES_PER_REQUEST, MAX_QUEUED_BLOCKS,
    MAX_TRACKED_HASHES,
};
use paxeer_p2p_core::eth::primitives::{B256, EMPTY_ROOT_HASH, EMPTY_UNCLES_HASH, U256};
use paxeer_p2p_core::eth::tx::{LegacyTx, Transaction};
use paxeer_p2p_core::eth::{Block, BlockBody, Header};
use paxeer_p2p_core::types::PeerId;
use paxeer_p2p_fuzz::t0;

/// A tree of 24 blocks: block `i` hangs off block `parent_of(i)`; some bodies are empty.
fn universe() -> (Block, Vec<Block>) {
    let genesis = Block {
        header: Header {
            ommers_hash: EMPTY_UNCLES_HASH,
            transactions_root: EMPTY_ROOT_HASH,
            ..Header::default()
        },
        body: BlockBody::default(),
    };
    let mut blocks: Vec<Block> = Vec::new();
    for i in 0..24usize {
        let parent = if i < 16 {
            i.checked_sub(1)
        } else {
            Some(i - 13)
        };
        let ph = parent
            .map_or(&genesis.header, |p| &blocks[p].header)
            .clone();
        let txs: Vec<Transaction> = (0..(i as u64 % 3))
            .map(|nonce| {
                Transaction::Legacy(LegacyTx {
                    nonce,
                    gas_price: U256::from_u64(1),
                    gas_limit: 21_000,
                    to: Some([i as u8; 20]),
                    v: U256::from_u64(27),
                    r: U256::from_u64(1),
                    s: U256::from_u64(1),
                    ..LegacyTx::default()
                })
            })
            .collect();
        let header = Header {
            parent_hash: ph.hash(),
            number: ph.number + 1,
            ommers_hash: EMPTY_UNCLES_HASH,
            transactions_root: if txs.is_empty() {
                EMPTY_ROOT_HASH
            } else {
                transactions_root(&txs)
            },
            extra_data: vec![i as u8],
            ..Header::default()
        };
        blocks.push(Block {
            header,
            body: BlockBody {
                transactions: txs,
                ..BlockBody::default()
            },
        });
    }
    (genesis, blocks)
}

fn peer(n: u8) -> PeerId {
    PeerId([n % 5; 64])
}

struct Model {
    chain: BTreeSet<B256>,
    handed: BTreeSet<B256>,
    head: u64,
    pending: Vec<FetchRequest>,
}

fn drain(f: &mut BlockFetcher, m: &mut Model) {
    loop {
        while let Some(r) = f.poll_request() {
            if let FetchRequest::Bodies { hashes, .. } = &r {
                assert!(!hashes.is_empty() && hashes.len() <= MAX_BODIES_PER_REQUEST);
            }
            if m.pending.len() < 256 {
                m.pending.push(r);
            }
        }
        let Some(ev) = f.poll_event() else { break };
        if let FetchEvent::Import { block, .. } = ev {
            let hash = block.header.hash();
            let parent = block.header.parent_hash;
            assert!(
                m.chain.contains(&parent) || m.handed.contains(&parent),
                "parent unknown"
            );
            assert!(validate_body(&block.header, &block.body).is_ok());
            m.handed.insert(hash);
            let result = if !m.chain.contains(&parent) {
                ImportResult::UnknownParent
            } else if !m.chain.insert(hash) {
                ImportResult::AlreadyKnown
            } else {
                ImportResult::Imported {
                    new_head: block.header.number > m.head,
                }
            };
            f.on_import_result(&hash, &result);
            if result == (ImportResult::Imported { new_head: true }) {
                m.head = block.header.number;
                f.set_head(m.head, hash);
            }
        }
    }
    let s = f.stats();
    assert!(s.queued <= MAX_QUEUED_BLOCKS as u64);
    assert!(s.tracked <= MAX_TRACKED_HASHES as u64);
}

fuzz_target!(|data: &[u8]| {
    let (genesis, blocks) = universe();
    let mut f = BlockFetcher::new(0, genesis.header.hash());
    let mut m = Model {
        chain: [genesis.header.hash()].into_iter().collect(),
        handed: BTreeSet::new(),
        head: 0,
        pending: Vec::new(),
    };
    let mut now = t0();
    // Each record: [op, a, b].
    for rec in data.chunks_exact(3) {
        let (op, a, b) = (rec[0], rec[1], rec[2]);
        let blk = &blocks[usize::from(a) % blocks.len()];
        match op % 11 {
            0 | 1 => {
                let lie = u64::from(b & 1 == 1 && b & 2 == 2);
                f.on_announce(
                    now,
                    peer(b >> 2),
                    blk.header.hash(),
                    blk.header.number + lie,
                );
            }
            2 => {
                let mut block = blk.clone();
                if b & 1 == 1 {
                    block.body.transactions.clear();
                }
                f.on_new_block(now, peer(b >> 1), block, None);
            }
            3 | 4 if !m.pending.is_empty() => {
                let r = m.pending.remove(usize::from(a) % m.pending.len());
                let by = if b & 0x80 != 0 { peer(b) } else { *r.peer() };
                match r {
                    FetchRequest::Headers { id, hash, .. } => {
                        let own = blocks
                            .iter()
                            .find(|x| x.header.hash() == hash)
                            .map(|x| x.header.clone());
                        let headers = match (b % 4, own) {
                            (0 | 1, Some(h)) => vec![h],
                            (2, _) => vec![blk.header.clone()],
                            (3, Some(h)) => vec![h, blk.header.clone()],
                            _ => Vec::new(),
                        };
                        f.on_headers(now, by, id, headers);
                    }
                    FetchRequest::Bodies { id, hashes, .. } => {
                        let mut bodies: Vec<BlockBody> = hashes
                            .iter()
                            .filter_map(|h| blocks.iter().find(|x| x.header.hash() == *h))
                            .map(|x| x.body.clone())
                            .collect();
                        match b % 5 {
                            1 => bodies.reverse(),
                            2 if !bodies.is_empty() => {
                                bodies.remove(0);
                            }
                            3 => bodies.push(blk.body.clone()),
                            4 => bodies.insert(0, blk.body.clone()),
                            _ => {}
                        }
                        f.on_bodies(now, by, id, bodies);
                    }
                }
            }
            5 if !m.pending.is_empty() => {
                let r = m.pending.remove(usize::from(a) % m.pending.len());
                f.on_request_failed(now, r.id());
            }
            6 => {
                if b & 1 == 1 {
                    f.on_headers(
                        now,
                        peer(a),
                        FetchId(u64::from(b)),
                        vec![blk.header.clone()],
                    );
                } else {
                    f.on_bodies(now, peer(a), FetchId(u64::from(b)), vec![blk.body.clone()]);
                }
            }
            7 => {
                let p = peer(a);
                m.pending.retain(|r| *r.peer() != p);
                f.on_peer_gone(p);
            }
            8 => {
                for i in 0..u16::from(b) * 4 {
                    let mut h = [a; 32];
                    h[..2].copy_from_slice(&i.to_be_bytes());
                    f.on_announce(now, peer(a), h, u64::from(i % 40));
                }
            }
            9 => {
                // An external head move (the downloader imported up to here).
                if let Some(x) = blocks.get(usize::from(a) % blocks.len()) {
                    if m.chain.contains(&x.header.parent_hash) {
                        m.chain.insert(x.header.hash());
                        m.head = m.head.max(x.header.number);
                        f.set_head(x.header.number, x.header.hash());
                    }
                }
            }
            _ => {
                now += Duration::from_millis(u64::from(b) * 50);
                if f.poll_timeout().is_some_and(|t| t <= now) {
                    f.handle_timeout(now);
                    drain(&mut f, &mut m);
                    if let Some(next) = f.poll_timeout() {
                        assert!(next > now, "deadline not moved past now");
                    }
                }
            }
        }
        drain(&mut f, &mut m);
    }
});
