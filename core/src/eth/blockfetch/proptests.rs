//! Property tests: arbitrary interleavings of announcements, broadcasts, answers (right,
//! wrong, partial, unrequested), failures, departures and time never panic, never exceed the
//! caps, never spin, and hand over only blocks whose parent is on our chain or was handed
//! over earlier. A second property checks that honest peers get every block imported.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;

use super::test_chain::{child_of, extend, genesis, peer};
use super::*;
use crate::eth::app::ImportResult;
use crate::eth::block::Block;
use crate::eth::primitives::B256;
use crate::test_clock::t0;

const PEERS: u8 = 4;

#[derive(Clone, Debug)]
enum Op {
    Announce {
        peer: u8,
        block: usize,
        lie: bool,
    },
    Broadcast {
        peer: u8,
        block: usize,
        tamper: bool,
    },
    AnswerHeaders {
        req: usize,
        kind: u8,
    },
    AnswerBodies {
        req: usize,
        kind: u8,
    },
    Fail {
        req: usize,
    },
    Stray {
        peer: u8,
        id: u64,
        headers: bool,
    },
    PeerGone {
        peer: u8,
    },
    Flood {
        peer: u8,
        count: u16,
    },
    Advance {
        ms: u16,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..PEERS, any::<usize>(), any::<bool>())
            .prop_map(|(peer, block, lie)| Op::Announce { peer, block, lie: lie && block % 5 == 0 }),
        2 => (0..PEERS, any::<usize>(), any::<bool>())
            .prop_map(|(peer, block, tamper)| Op::Broadcast { peer, block, tamper: tamper && block % 4 == 0 }),
        3 => (any::<usize>(), 0u8..6).prop_map(|(req, kind)| Op::AnswerHeaders { req, kind }),
        3 => (any::<usize>(), 0u8..6).prop_map(|(req, kind)| Op::AnswerBodies { req, kind }),
        1 => any::<usize>().prop_map(|req| Op::Fail { req }),
        1 => (0..PEERS, 0u64..64, any::<bool>())
            .prop_map(|(peer, id, headers)| Op::Stray { peer, id, headers }),
        1 => (0..PEERS).prop_map(|peer| Op::PeerGone { peer }),
        1 => (0..PEERS, 0u16..400).prop_map(|(peer, count)| Op::Flood { peer, count }),
        3 => (0u16..6000).prop_map(|ms| Op::Advance { ms }),
    ]
}

/// A main chain of 12 (every third block empty), a fork of 4 off block 3, and a block far
/// ahead.
fn universe() -> (Block, Vec<Block>) {
    let g = genesis();
    let mut blocks = Vec::new();
    let mut parent = g.header.clone();
    for i in 0..12u64 {
        let b = child_of(
            &parent,
            0,
            i % 5 == 4,
            if i % 3 == 2 { 0 } else { 1 + i % 2 },
        );
        parent = b.header.clone();
        blocks.push(b);
    }
    let fork = extend(&blocks[2], 4, 9);
    blocks.extend(fork);
    let far = extend(&g, 40, 3).pop().unwrap_or_default();
    blocks.push(far);
    (g, blocks)
}

/// The driver and importer around a fetcher, checking invariants as it drains.
struct World {
    f: BlockFetcher,
    now: Instant,
    blocks: BTreeMap<B256, Block>,
    chain: BTreeSet<B256>,
    head: (u64, B256),
    handed: BTreeSet<B256>,
    pending: Vec<FetchRequest>,
    imported: BTreeSet<B256>,
    flood_counter: u64,
}

impl World {
    fn new(blocks: &[Block], g: &Block) -> Self {
        World {
            f: BlockFetcher::new(0, g.header.hash()),
            now: t0(),
            blocks: blocks
                .iter()
                .map(|b| (b.header.hash(), b.clone()))
                .collect(),
            chain: [g.header.hash()].into_iter().collect(),
            head: (0, g.header.hash()),
            handed: BTreeSet::new(),
            pending: Vec::new(),
            imported: BTreeSet::new(),
            flood_counter: 0,
        }
    }

    fn drain(&mut self) {
        loop {
            while let Some(r) = self.f.poll_request() {
                if let FetchRequest::Bodies { hashes, .. } = &r {
                    assert!(!hashes.is_empty() && hashes.len() <= MAX_BODIES_PER_REQUEST);
                }
                self.pending.push(r);
            }
            let Some(ev) = self.f.poll_event() else { break };
            if let FetchEvent::Import { block, .. } = ev {
                let hash = block.header.hash();
                let parent = block.header.parent_hash;
                assert!(
                    self.chain.contains(&parent) || self.handed.contains(&parent),
                    "block {} handed over before its parent",
                    block.header.number
                );
                assert!(crate::eth::block::validate_body(&block.header, &block.body).is_ok());
                self.handed.insert(hash);
                let result = if !self.chain.contains(&parent) {
                    ImportResult::UnknownParent
                } else if !self.chain.insert(hash) {
                    ImportResult::AlreadyKnown
                } else {
                    self.imported.insert(hash);
                    ImportResult::Imported {
                        new_head: block.header.number > self.head.0,
                    }
                };
                self.f.on_import_result(&hash, &result);
                if result == (ImportResult::Imported { new_head: true }) {
                    self.head = (block.header.number, hash);
                    self.f.set_head(block.header.number, hash);
                }
            }
        }
        self.check_caps();
    }

    fn check_caps(&self) {
        let s = self.f.stats();
        assert!(s.queued <= MAX_QUEUED_BLOCKS as u64);
        assert!(s.tracked <= MAX_TRACKED_HASHES as u64);
        for p in 0..PEERS {
            assert!(self.f.tracker.outstanding(&peer(p)) <= HASH_LIMIT_PER_PEER);
        }
        for t in self.f.tracker.hashes.values() {
            assert!(t.announcers.len() <= MAX_ANNOUNCERS_PER_HASH);
        }
    }

    fn take(&mut self, i: usize, headers: bool) -> Option<FetchRequest> {
        let idx: Vec<usize> = (0..self.pending.len())
            .filter(|&k| matches!(self.pending[k], FetchRequest::Headers { .. }) == headers)
            .collect();
        let k = *idx.get(i % idx.len().max(1))?;
        Some(self.pending.remove(k))
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        if self.f.poll_timeout().is_some_and(|t| t <= self.now) {
            self.f.handle_timeout(self.now);
            self.drain();
            if let Some(next) = self.f.poll_timeout() {
                assert!(next > self.now, "deadline not moved past now");
            }
        }
    }

    /// Answers every pending request correctly, as an honest peer would.
    fn answer_all(&mut self, list: &[Block]) {
        while let Some(r) = self.pending.first() {
            let op = match r {
                FetchRequest::Headers { .. } => Op::AnswerHeaders { req: 0, kind: 0 },
                FetchRequest::Bodies { .. } => Op::AnswerBodies { req: 0, kind: 0 },
            };
            self.apply(&op, list);
        }
    }

    fn apply(&mut self, op: &Op, list: &[Block]) {
        let now = self.now;
        match op {
            Op::Announce {
                peer: p,
                block,
                lie,
            } => {
                let b = &list[block % list.len()];
                let n = b.header.number + u64::from(*lie);
                self.f.on_announce(now, peer(*p), b.header.hash(), n);
            }
            Op::Broadcast {
                peer: p,
                block,
                tamper,
            } => {
                let mut b = list[block % list.len()].clone();
                if *tamper {
                    b.body.transactions.clear();
                }
                self.f.on_new_block(now, peer(*p), b, None);
            }
            Op::AnswerHeaders { req, kind } => {
                let Some(FetchRequest::Headers { id, peer: p, hash }) = self.take(*req, true)
                else {
                    return;
                };
                let own = self.blocks.get(&hash).map(|b| b.header.clone());
                let other = list[usize::from(*kind) % list.len()].header.clone();
                let headers = match (kind, own) {
                    (0 | 4 | 5, Some(h)) => vec![h],
                    (1, _) => vec![other],
                    (3, Some(h)) => vec![h, other],
                    _ => Vec::new(),
                };
                self.f.on_headers(now, p, id, headers);
            }
            Op::AnswerBodies { req, kind } => {
                let Some(FetchRequest::Bodies {
                    id,
                    peer: p,
                    hashes,
                }) = self.take(*req, false)
                else {
                    return;
                };
                let mut bodies: Vec<_> = hashes
                    .iter()
                    .filter_map(|h| self.blocks.get(h).map(|b| b.body.clone()))
                    .collect();
                match kind {
                    1 if !bodies.is_empty() => {
                        bodies.remove(0);
                    }
                    2 => {
                        if let Some(b) = bodies.first_mut() {
                            *b = list[0].body.clone();
                        }
                    }
                    3 => bodies.reverse(),
                    4 => bodies.push(list[1].body.clone()),
                    _ => {}
                }
                self.f.on_bodies(now, p, id, bodies);
            }
            Op::Fail { req } => {
                if self.pending.is_empty() {
                    return;
                }
                let r = self.pending.remove(req % self.pending.len());
                self.f.on_request_failed(now, r.id());
            }
            Op::Stray {
                peer: p,
                id,
                headers,
            } => {
                if *headers {
                    self.f
                        .on_headers(now, peer(*p), FetchId(*id), vec![list[0].header.clone()]);
                } else {
                    self.f
                        .on_bodies(now, peer(*p), FetchId(*id), vec![list[0].body.clone()]);
                }
            }
            Op::PeerGone { peer: p } => {
                self.pending.retain(|r| *r.peer() != peer(*p));
                self.f.on_peer_gone(peer(*p));
            }
            Op::Flood { peer: p, count } => {
                for _ in 0..*count {
                    self.flood_counter += 1;
                    let mut h = [0xf1u8; 32];
                    h[..8].copy_from_slice(&self.flood_counter.to_be_bytes());
                    self.f
                        .on_announce(now, peer(*p), h, 1 + self.flood_counter % 8);
                }
            }
            Op::Advance { ms } => {
                self.advance(Duration::from_millis(u64::from(*ms)));
                return;
            }
        }
        self.drain();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_interleavings_keep_the_invariants(ops in vec(op(), 0..120)) {
        let (g, list) = universe();
        let mut w = World::new(&list, &g);
        for op in &ops {
            w.apply(op, &list);
        }
        // Let every timer run out: the fetcher goes quiet without spinning.
        for _ in 0..64 {
            if w.f.poll_timeout().is_none() {
                break;
            }
            w.advance(Duration::from_secs(6));
        }
        prop_assert_eq!(w.f.poll_timeout(), None);
        prop_assert_eq!(w.f.stats().tracked, 0);
    }

    #[test]
    fn honest_peers_get_every_announced_block_imported(
        order in Just((0..12usize).collect::<Vec<_>>()).prop_shuffle(),
        announcers in vec(0..PEERS, 12),
        broadcast in vec(any::<bool>(), 12),
        gaps in vec(0u16..800, 12),
    ) {
        let (g, list) = universe();
        let main = &list[..12];
        let mut w = World::new(&list, &g);
        for (k, &i) in order.iter().enumerate() {
            let b = &main[i];
            if broadcast[k] {
                w.f.on_new_block(w.now, peer(announcers[k]), b.clone(), None);
            } else {
                w.f.on_announce(w.now, peer(announcers[k]), b.header.hash(), b.header.number);
            }
            w.drain();
            w.advance(Duration::from_millis(u64::from(gaps[k])));
            w.answer_all(&list);
        }
        for _ in 0..200 {
            w.answer_all(&list);
            if w.f.poll_timeout().is_none() {
                break;
            }
            w.advance(Duration::from_millis(100));
        }
        for b in main {
            prop_assert!(w.chain.contains(&b.header.hash()), "block {} not imported", b.header.number);
        }
        prop_assert_eq!(w.head.0, 12);
    }
}
