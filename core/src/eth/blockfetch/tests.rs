//! Unit tests: one behaviour each, in virtual time.

use std::time::{Duration, Instant};

use super::test_chain::{child_of, extend, genesis, peer};
use super::*;
use crate::eth::app::ImportResult;
use crate::eth::block::{Block, BlockBody};
use crate::test_clock::t0;
use crate::types::PeerId;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn fetcher_at(head: &Block) -> BlockFetcher {
    BlockFetcher::new(head.header.number, head.header.hash())
}

fn requests(f: &mut BlockFetcher) -> Vec<FetchRequest> {
    std::iter::from_fn(|| f.poll_request()).collect()
}

fn events(f: &mut BlockFetcher) -> Vec<FetchEvent> {
    std::iter::from_fn(|| f.poll_event()).collect()
}

fn imported_numbers(evs: &[FetchEvent]) -> Vec<u64> {
    evs.iter()
        .filter_map(|e| match e {
            FetchEvent::Import { block, .. } => Some(block.header.number),
            _ => None,
        })
        .collect()
}

fn penalties(evs: &[FetchEvent]) -> Vec<(PeerId, FetchFault)> {
    evs.iter()
        .filter_map(|e| match e {
            FetchEvent::Penalize { peer, reason } => Some((*peer, *reason)),
            _ => None,
        })
        .collect()
}

/// Announces `block` from `peers` at `now` and runs the arrive timeout; returns the header
/// request.
fn announce_and_wait(
    f: &mut BlockFetcher,
    now: Instant,
    block: &Block,
    peers: &[u8],
) -> (FetchId, PeerId) {
    for p in peers {
        f.on_announce(now, peer(*p), block.header.hash(), block.header.number);
    }
    assert!(
        requests(f).is_empty(),
        "no request before the arrive timeout"
    );
    assert_eq!(f.poll_timeout(), Some(now + ARRIVE_TIMEOUT));
    f.handle_timeout(now + ARRIVE_TIMEOUT);
    match requests(f).as_slice() {
        [FetchRequest::Headers { id, peer, hash }] => {
            assert_eq!(*hash, block.header.hash());
            (*id, *peer)
        }
        other => panic!("expected one header request, got {other:?}"),
    }
}

#[test]
fn announcement_leads_to_header_then_body_then_import() {
    let g = genesis();
    let b1 = &extend(&g, 1, 0)[0];
    let mut f = fetcher_at(&g);
    let t = t0();
    let (id, from) = announce_and_wait(&mut f, t, b1, &[1]);
    assert_eq!(from, peer(1));
    f.on_headers(t + ms(600), peer(1), id, vec![b1.header.clone()]);
    assert!(
        requests(&mut f).is_empty(),
        "bodies are gathered for GATHER_SLACK"
    );
    assert_eq!(f.poll_timeout(), Some(t + ms(600) + GATHER_SLACK));
    f.handle_timeout(t + ms(700));
    let reqs = requests(&mut f);
    let [FetchRequest::Bodies {
        id,
        peer: p,
        hashes,
    }] = reqs.as_slice()
    else {
        panic!("expected one body request, got {reqs:?}");
    };
    assert_eq!((*p, hashes.clone()), (peer(1), vec![b1.header.hash()]));
    f.on_bodies(t + ms(800), peer(1), *id, vec![b1.body.clone()]);
    let evs = events(&mut f);
    assert_eq!(
        evs,
        vec![FetchEvent::Import {
            block: Box::new(b1.clone()),
            from: peer(1)
        }]
    );
    f.on_import_result(
        &b1.header.hash(),
        &ImportResult::Imported { new_head: true },
    );
    assert_eq!(
        events(&mut f),
        vec![FetchEvent::Propagate {
            hash: b1.header.hash(),
            number: 1
        }]
    );
    assert_eq!(f.head(), 1);
    let s = f.stats();
    assert_eq!((s.header_requests, s.body_requests, s.imports), (1, 1, 1));
    assert_eq!(s.mean_header_latency(), Some(ms(600)));
    assert_eq!(s.mean_body_latency(), Some(ms(800)));
    assert_eq!((s.queued, s.tracked), (0, 0));
    assert_eq!(f.poll_timeout(), None, "nothing left to wait for");
}

#[test]
fn empty_block_is_imported_without_a_body_request() {
    let g = genesis();
    let b1 = child_of(&g.header, 0, false, 0);
    let mut f = fetcher_at(&g);
    let t = t0();
    let (id, _) = announce_and_wait(&mut f, t, &b1, &[1]);
    f.on_headers(t + ms(550), peer(1), id, vec![b1.header.clone()]);
    assert_eq!(imported_numbers(&events(&mut f)), vec![1]);
    f.handle_timeout(t + ms(1000));
    assert!(requests(&mut f).is_empty());
    assert_eq!(f.stats().body_requests, 0);
}

#[test]
fn empty_withdrawals_root_still_counts_as_empty_body() {
    let g = genesis();
    let mut b1 = child_of(&g.header, 0, false, 0);
    b1.header.withdrawals_root = Some(crate::eth::primitives::EMPTY_ROOT_HASH);
    b1.header.base_fee_per_gas = Some(crate::eth::primitives::U256::from_u64(7));
    let mut f = fetcher_at(&g);
    let t = t0();
    let (id, _) = announce_and_wait(&mut f, t, &b1, &[1]);
    f.on_headers(t + ms(550), peer(1), id, vec![b1.header.clone()]);
    let evs = events(&mut f);
    let [FetchEvent::Import { block, .. }] = evs.as_slice() else {
        panic!("expected an import, got {evs:?}");
    };
    assert_eq!(block.body.withdrawals, Some(Vec::new()));
    assert!(crate::eth::block::validate_body(&block.header, &block.body).is_ok());
}

#[test]
fn new_block_during_arrive_timeout_cancels_the_fetch() {
    let g = genesis();
    let b1 = &extend(&g, 1, 0)[0];
    let mut f = fetcher_at(&g);
    let t = t0();
    f.on_announce(t, peer(1), b1.header.hash(), 1);
    f.on_new_block(t + ms(200), peer(2), b1.clone(), None);
    assert_eq!(imported_numbers(&events(&mut f)), vec![1]);
    assert!(!f.is_fetching(&b1.header.hash()));
    assert_eq!(f.poll_timeout(), None);
    f.handle_timeout(t + ms(600));
    assert!(requests(&mut f).is_empty());
    f.on_announce(t + ms(700), peer(3), b1.header.hash(), 1);
    assert_eq!(f.stats().announces_known, 1);
}

#[test]
fn header_with_another_hash_is_penalised_and_asked_elsewhere() {
    let g = genesis();
    let b1 = &extend(&g, 1, 0)[0];
    let other = &extend(&g, 1, 9)[0];
    let mut f = fetcher_at(&g);
    let t = t0();
    let (id, p) = announce_and_wait(&mut f, t, b1, &[1, 2]);
    assert_eq!(p, peer(1));
    f.on_headers(t + ms(600), peer(1), id, vec![other.header.clone()]);
    assert_eq!(
        penalties(&events(&mut f)),
        vec![(peer(1), FetchFault::HeaderMismatch)]
    );
    let reqs = requests(&mut f);
    assert!(
        matches!(reqs.as_slice(), [FetchRequest::Headers { peer: p, .. }] if *p == peer(2)),
        "{reqs:?}"
    );
}

#[test]
fn header_number_unlike_the_announcement_is_penalised_but_used() {
    let g = genesis();
    let b1 = child_of(&g.header, 0, false, 0);
    let mut f = fetcher_at(&g);
    let t = t0();
    f.on_announce(t, peer(1), b1.header.hash(), 5);
    f.handle_timeout(t + ARRIVE_TIMEOUT);
    let id = requests(&mut f)[0].id();
    f.on_headers(t + ms(600), peer(1), id, vec![b1.header.clone()]);
    let evs = events(&mut f);
    assert_eq!(penalties(&evs), vec![(peer(1), FetchFault::WrongNumber)]);
    assert_eq!(imported_numbers(&evs), vec![1]);
}

#[test]
fn body_unlike_its_header_is_penalised_and_asked_elsewhere() {
    let g = genesis();
    let b1 = &extend(&g, 1, 0)[0];
    let wrong = extend(&g, 1, 7)[0].body.clone();
    let mut f = fetcher_at(&g);
    let t = t0();
    let (id, _) = announce_and_wait(&mut f, t, b1, &[1, 2]);
    f.on_headers(t + ms(600), peer(1), id, vec![b1.header.clone()]);
    f.handle_timeout(t + ms(700));
    let id = requests(&mut f)[0].id();
    f.on_bodies(t + ms(800), peer(1), id, vec![wrong]);
    assert_eq!(
        penalties(&events(&mut f)),
        vec![(peer(1), FetchFault::BodyMismatch)]
    );
    let reqs = requests(&mut f);
    let [FetchRequest::Bodies { id, peer: p, .. }] = reqs.as_slice() else {
        panic!("expected a body retry, got {reqs:?}");
    };
    assert_eq!(*p, peer(2));
    f.on_bodies(t + ms(900), peer(2), *id, vec![b1.body.clone()]);
    assert_eq!(imported_numbers(&events(&mut f)), vec![1]);
}

#[test]
fn broadcast_body_unlike_its_header_is_penalised() {
    let g = genesis();
    let mut b1 = extend(&g, 1, 0)[0].clone();
    b1.body = BlockBody::default();
    let mut f = fetcher_at(&g);
    f.on_new_block(t0(), peer(4), b1, None);
    assert_eq!(
        penalties(&events(&mut f)),
        vec![(peer(4), FetchFault::BodyMismatch)]
    );
}

#[test]
fn header_timeout_retries_with_another_announcer_and_late_answer_is_used() {
    let g = genesis();
    let b1 = child_of(&g.header, 0, false, 0);
    let mut f = fetcher_at(&g);
    let t = t0();
    let (id1, _) = announce_and_wait(&mut f, t, &b1, &[1, 2]);
    let deadline = t + ARRIVE_TIMEOUT + FETCH_TIMEOUT;
    assert_eq!(f.poll_timeout(), Some(deadline));
    f.handle_timeout(deadline);
    let reqs = requests(&mut f);
    assert!(
        matches!(reqs.as_slice(), [FetchRequest::Headers { peer: p, .. }] if *p == peer(2)),
        "{reqs:?}"
    );
    assert_eq!(f.stats().header_timeouts, 1);
    // The first peer answers late, within REQUEST_MEMORY: used, not penalised.
    f.on_headers(deadline + ms(10), peer(1), id1, vec![b1.header.clone()]);
    let evs = events(&mut f);
    assert!(penalties(&evs).is_empty(), "{evs:?}");
    assert_eq!(imported_numbers(&evs), vec![1]);
    // The retry's answer is then a duplicate.
    let id2 = reqs[0].id();
    f.on_headers(deadline + ms(20), peer(2), id2, vec![b1.header.clone()]);
    assert!(events(&mut f).is_empty());
    assert_eq!(f.stats().duplicates, 1);
}

#[test]
fn failed_request_without_other_announcers_discards_the_hash() {
    let g = genesis();
    let b1 = &extend(&g, 1, 0)[0];
    let mut f = fetcher_at(&g);
    let t = t0();
    let (id, _) = announce_and_wait(&mut f, t, b1, &[1]);
    f.on_request_failed(t + ms(700), id);
    assert_eq!(
        events(&mut f),
        vec![FetchEvent::Discarded {
            hash: b1.header.hash(),
            why: DiscardReason::NoSource
        }]
    );
    assert!(!f.is_fetching(&b1.header.hash()));
    assert_eq!(f.stats().header_failed, 1);
}

#[test]
fn peer_leaving_moves_its_request_to_another_announcer() {
    let g = genesis();
    let b1 = &extend(&g, 1, 0)[0];
    let mut f = fetcher_at(&g);
    let t = t0();
    let _ = announce_and_wait(&mut f, t, b1, &[1, 2]);
    f.on_peer_gone(peer(1));
    let reqs = requests(&mut f);
    assert!(
        matches!(reqs.as_slice(), [FetchRequest::Headers { peer: p, .. }] if *p == peer(2)),
        "{reqs:?}"
    );
}

#[test]
fn announcements_outside_the_distance_window_are_dropped() {
    let g = genesis();
    let mut f = BlockFetcher::new(100, g.header.hash());
    let t = t0();
    for (n, tag) in [(92u64, 1u8), (93, 2), (132, 3), (133, 4)] {
        f.on_announce(t, peer(1), [tag; 32], n);
    }
    assert!(!f.is_fetching(&[1; 32]), "8 behind is too old");
    assert!(f.is_fetching(&[2; 32]), "7 behind is an uncle candidate");
    assert!(f.is_fetching(&[3; 32]), "32 ahead is queued");
    assert!(!f.is_fetching(&[4; 32]), "33 ahead is the downloader's job");
    assert_eq!(f.stats().announces_dropped, 2);
}

#[test]
fn broadcast_too_far_ahead_is_discarded() {
    let g = genesis();
    let chain = extend(&g, 34, 0);
    let mut f = fetcher_at(&g);
    f.on_new_block(t0(), peer(1), chain[32].clone(), None);
    assert_eq!(
        events(&mut f),
        vec![FetchEvent::Discarded {
            hash: chain[32].header.hash(),
            why: DiscardReason::TooFar
        }]
    );
}

#[test]
fn moving_the_head_drops_blocks_left_behind() {
    let g = genesis();
    let chain = extend(&g, 3, 0);
    let fork = extend(&chain[0], 2, 5);
    let mut f = fetcher_at(&g);
    // Fork block 3 waits for its unknown parent (fork block 2).
    f.on_new_block(t0(), peer(1), fork[1].clone(), None);
    assert!(events(&mut f).is_empty());
    assert_eq!(f.stats().queued, 1);
    f.set_head(20, [0xee; 32]);
    assert_eq!(
        events(&mut f),
        vec![FetchEvent::Discarded {
            hash: fork[1].header.hash(),
            why: DiscardReason::TooOld
        }]
    );
    assert_eq!(f.stats().queued, 0);
}

#[test]
fn announcement_flood_is_penalised_once_while_pending() {
    let g = genesis();
    let mut f = fetcher_at(&g);
    let t = t0();
    for i in 0..HASH_LIMIT_PER_PEER + 10 {
        let mut hash = [0u8; 32];
        hash[..8].copy_from_slice(&(i as u64).to_be_bytes());
        f.on_announce(t, peer(1), hash, 1);
    }
    let s = f.stats();
    assert_eq!(s.tracked, HASH_LIMIT_PER_PEER as u64);
    assert_eq!(s.announces_abuse, 10);
    assert_eq!(
        penalties(&events(&mut f)),
        vec![(peer(1), FetchFault::AnnounceFlood)]
    );
    // Another peer is unaffected.
    f.on_announce(t, peer(2), [0xab; 32], 1);
    assert!(f.is_fetching(&[0xab; 32]));
}

#[test]
fn queue_releases_in_number_order_once_the_parent_arrives() {
    let g = genesis();
    let chain = extend(&g, 3, 0);
    let mut f = fetcher_at(&g);
    let t = t0();
    f.on_new_block(t, peer(1), chain[2].clone(), None);
    f.on_new_block(t, peer(2), chain[1].clone(), None);
    assert!(events(&mut f).is_empty(), "held until block 1 arrives");
    f.on_new_block(t, peer(3), chain[0].clone(), None);
    assert_eq!(imported_numbers(&events(&mut f)), vec![1, 2, 3]);
}

#[test]
fn unknown_parent_is_retried_after_the_parent_is_imported() {
    let g = genesis();
    let chain = extend(&g, 2, 0);
    let (b1, b2) = (&chain[0], &chain[1]);
    let mut f = fetcher_at(&g);
    let t = t0();
    f.on_new_block(t, peer(1), b1.clone(), None);
    f.on_new_block(t, peer(1), b2.clone(), None);
    assert_eq!(imported_numbers(&events(&mut f)), vec![1, 2]);
    // The importer processed block 2 first and did not know its parent yet.
    f.on_import_result(&b2.header.hash(), &ImportResult::UnknownParent);
    assert!(events(&mut f).is_empty());
    f.on_import_result(
        &b1.header.hash(),
        &ImportResult::Imported { new_head: true },
    );
    let evs = events(&mut f);
    assert_eq!(imported_numbers(&evs), vec![2], "{evs:?}");
    f.on_import_result(
        &b2.header.hash(),
        &ImportResult::Imported { new_head: true },
    );
    assert_eq!(f.head(), 2);
    assert_eq!(f.stats().queued, 0);
}

#[test]
fn invalid_block_penalises_its_sender_and_drops_its_descendants() {
    let g = genesis();
    let chain = extend(&g, 3, 0);
    let mut f = fetcher_at(&g);
    let t = t0();
    f.on_new_block(t, peer(1), chain[0].clone(), None);
    f.on_new_block(t, peer(2), chain[1].clone(), None);
    f.on_new_block(t, peer(2), chain[2].clone(), None);
    assert_eq!(imported_numbers(&events(&mut f)), vec![1, 2, 3]);
    f.on_import_result(
        &chain[0].header.hash(),
        &ImportResult::Invalid("bad".into()),
    );
    let evs = events(&mut f);
    assert_eq!(penalties(&evs), vec![(peer(1), FetchFault::InvalidBlock)]);
    let dropped: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            FetchEvent::Discarded { why, .. } => Some(*why),
            _ => None,
        })
        .collect();
    assert_eq!(
        dropped,
        vec![
            DiscardReason::Invalid,
            DiscardReason::InvalidAncestor,
            DiscardReason::InvalidAncestor
        ]
    );
    assert_eq!(f.stats().queued, 0);
}

#[test]
fn same_block_from_several_peers_is_counted_as_duplicate() {
    let g = genesis();
    let b1 = &extend(&g, 1, 0)[0];
    let mut f = fetcher_at(&g);
    let t = t0();
    for p in 1..=3 {
        f.on_new_block(t, peer(p), b1.clone(), None);
    }
    assert_eq!(imported_numbers(&events(&mut f)), vec![1]);
    f.on_import_result(
        &b1.header.hash(),
        &ImportResult::Imported { new_head: true },
    );
    f.on_new_block(t, peer(4), b1.clone(), None);
    assert_eq!(f.stats().duplicates, 3);
}

#[test]
fn one_peer_cannot_queue_more_than_its_block_limit() {
    let g = genesis();
    let mut f = fetcher_at(&g);
    let t = t0();
    for fork in 0..=BLOCK_LIMIT_PER_PEER {
        let b = child_of(&g.header, fork as u8, false, 0);
        f.on_new_block(t, peer(1), b, None);
    }
    let evs = events(&mut f);
    assert_eq!(imported_numbers(&evs).len(), BLOCK_LIMIT_PER_PEER);
    assert_eq!(penalties(&evs), vec![(peer(1), FetchFault::BlockFlood)]);
}

#[test]
fn bodies_of_one_peer_are_requested_in_one_batch() {
    let g = genesis();
    let a = &extend(&g, 1, 1)[0];
    let b = &extend(&g, 1, 2)[0];
    let mut f = fetcher_at(&g);
    let t = t0();
    f.on_announce(t, peer(1), a.header.hash(), 1);
    f.on_announce(t + ms(50), peer(1), b.header.hash(), 1);
    f.handle_timeout(t + ARRIVE_TIMEOUT);
    let reqs = requests(&mut f);
    assert_eq!(reqs.len(), 2, "the second is within GATHER_SLACK: {reqs:?}");
    for (r, blk) in reqs.iter().zip([a, b]) {
        f.on_headers(t + ms(600), peer(1), r.id(), vec![blk.header.clone()]);
    }
    f.handle_timeout(t + ms(700));
    let reqs = requests(&mut f);
    let [FetchRequest::Bodies { id, hashes, .. }] = reqs.as_slice() else {
        panic!("expected one batch, got {reqs:?}");
    };
    assert_eq!(hashes.len(), 2);
    // Bodies come in request order; the first one is missing and is retried (no one else
    // announced it, so it is discarded).
    let second = if hashes[1] == b.header.hash() { b } else { a };
    f.on_bodies(t + ms(800), peer(1), *id, vec![second.body.clone()]);
    let evs = events(&mut f);
    assert_eq!(imported_numbers(&evs), vec![1]);
    assert!(penalties(&evs).is_empty());
    assert_eq!(f.stats().body_failed, 1);
}

#[test]
fn unrequested_answers_are_penalised() {
    let g = genesis();
    let b1 = &extend(&g, 1, 0)[0];
    let mut f = fetcher_at(&g);
    let t = t0();
    f.on_headers(t, peer(1), FetchId(99), vec![b1.header.clone()]);
    let (id, _) = announce_and_wait(&mut f, t, b1, &[1]);
    f.on_bodies(t + ms(600), peer(1), id, vec![b1.body.clone()]);
    f.on_headers(t + ms(600), peer(2), id, vec![b1.header.clone()]);
    let evs = events(&mut f);
    assert_eq!(
        penalties(&evs),
        vec![
            (peer(1), FetchFault::Unrequested),
            (peer(2), FetchFault::Unrequested)
        ]
    );
    // The real answer is still accepted.
    f.on_headers(t + ms(650), peer(1), id, vec![b1.header.clone()]);
    assert!(f.is_fetching(&b1.header.hash()));
}

#[test]
fn deadline_after_handle_timeout_is_later_than_now() {
    let g = genesis();
    let chain = extend(&g, 4, 0);
    let mut f = fetcher_at(&g);
    let t = t0();
    for (i, b) in chain.iter().enumerate() {
        f.on_announce(
            t + ms(i as u64 * 150),
            peer(1),
            b.header.hash(),
            b.header.number,
        );
    }
    let mut now = t;
    for _ in 0..20 {
        let Some(next) = f.poll_timeout() else { break };
        now = now.max(next);
        f.handle_timeout(now);
        let _ = requests(&mut f);
        if let Some(after) = f.poll_timeout() {
            assert!(after > now);
        }
    }
    assert_eq!(
        f.poll_timeout(),
        None,
        "every fetch timed out and was given up"
    );
}
