//! Any chunking and interleaving of honest answers ends at the source's head with every
//! receipt stored: answers are delivered in an arbitrary order, cut short at arbitrary
//! (non-zero) lengths, sometimes left to time out, across several peers.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use proptest::prelude::*;

use super::model::{deliver, drain, peer, Answer, ModelChain};
use super::*;
use crate::eth::app::ChainReader;

/// What happens to one request.
#[derive(Clone, Copy, Debug)]
enum Fate {
    /// Answered, cut to this fraction (in 1/8ths, at least one item).
    Answer(u8),
    /// Left unanswered until it times out.
    Timeout,
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        8 => (1u8..=8).prop_map(Fate::Answer),
        1 => Just(Fate::Timeout),
    ]
}

fn answer_len(a: &Answer) -> usize {
    match a {
        Answer::Headers(v) => v.len(),
        Answer::Bodies(v) => v.len(),
        Answer::Receipts(v) => v.len(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn honest_answers_in_any_order_and_chunking_end_at_the_same_head(
        blocks in 1u64..450,
        peers in 1u8..4,
        fates in proptest::collection::vec(fate(), 64),
        picks in proptest::collection::vec(any::<u16>(), 64),
    ) {
        let source = ModelChain::build(blocks);
        let mut local = ModelChain::genesis();
        let mut sync = ChainSync::new();
        for p in 1..=peers {
            sync.on_peer(peer(p), source.range());
        }
        let mut pending: Vec<SyncRequest> = Vec::new();
        let mut step = 0usize;
        for _ in 0..20_000 {
            drain(&mut sync, &mut local);
            while let Some(r) = sync.poll_request(&local) {
                pending.push(r);
                drain(&mut sync, &mut local);
            }
            if pending.is_empty() {
                break;
            }
            let i = usize::from(picks[step % picks.len()]) % pending.len();
            let r = pending.swap_remove(i);
            let f = fates[step % fates.len()];
            step += 1;
            let mut a = source.answer(&r.query);
            match f {
                // Timeouts for a while; later ones are answered after all (late but whole).
                Fate::Timeout if step < 32 => {
                    sync.on_request_failed(r.id, RequestFailure::Timeout);
                    continue;
                }
                Fate::Timeout => {}
                Fate::Answer(eighths) => {
                    let n = answer_len(&a);
                    let keep = (n * usize::from(eighths)).div_ceil(8).max(1);
                    a.truncate(keep);
                }
            }
            deliver(&mut sync, r.peer, r.id, a);
        }
        drain(&mut sync, &mut local);
        prop_assert_eq!(local.head(), source.head());
        prop_assert!(local.missing_receipts(0, 10_000).is_empty());
        prop_assert_eq!(&local.receipts, &source.receipts);
        let s = sync.status();
        prop_assert_eq!(s.stats.faults, 0);
        prop_assert!(!s.syncing);
        prop_assert_eq!(s.in_flight, 0);
    }
}
