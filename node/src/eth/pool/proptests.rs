//! Property tests of the pool's invariants under random sequences of offers and blocks:
//! pending is the contiguous run from the account nonce, the caps hold, verdicts match
//! where transactions end up, and every accepted transaction is either held or accounted
//! for by a removal reason.

use proptest::prelude::*;

use paxeer_p2p_core::eth::app::{TxPool, TxVerdict};
use paxeer_p2p_core::eth::block::{Block, BlockBody};
use secp256k1::SecretKey;

use super::env::PoolEnv;
use super::tests::{key, priced, CHAIN, GAS_LIMIT};
use super::{MemoryTxPool, PoolLimits};
use crate::eth::state::MemoryState;

/// One step of a scenario.
#[derive(Clone, Debug)]
enum Op {
    /// Sender index, nonce, tip (fee cap = tip × 3).
    Offer(usize, u64, u64),
    /// A block including the pending head of the sender's account, if any.
    Include(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0usize..4, 0u64..10, 1u64..6).prop_map(|(s, n, t)| Op::Offer(s, n, t)),
        1 => (0usize..4).prop_map(Op::Include),
    ]
}

fn limits() -> PoolLimits {
    PoolLimits {
        account_slots: 2,
        global_slots: 6,
        account_queue: 3,
        global_queue: 4,
        ..PoolLimits::default()
    }
}

fn check_invariants(p: &MemoryTxPool) -> Result<(), TestCaseError> {
    let l = *p.limits();
    let mut held = 0usize;
    let mut senders = 0usize;
    for (_, acc) in p.senders() {
        senders += 1;
        held += acc.len();
        prop_assert!(!acc.is_empty(), "empty accounts are dropped");
        // Pending: exactly base, base+1, ...; queued: above a gap.
        for (i, e) in acc.pending().enumerate() {
            prop_assert_eq!(e.info.nonce, acc.base() + i as u64);
        }
        if let Some(first_queued) = acc.queued().next() {
            prop_assert!(first_queued.info.nonce > acc.next_nonce());
        }
        prop_assert!(acc.queued_len() <= l.account_queue);
        prop_assert!(acc.entries().all(|e| e.info.nonce >= acc.base()));
    }
    prop_assert_eq!(held, p.len());
    let (pending_slots, queued_slots) = p.slots();
    prop_assert!(queued_slots <= l.global_queue);
    prop_assert!(pending_slots + queued_slots <= l.global_slots + l.global_queue);
    prop_assert!(pending_slots <= l.global_slots.max(senders * l.account_slots));
    // Only pending transactions are announced.
    let anns = p.pending(1000);
    prop_assert_eq!(anns.len(), p.pending_count());
    prop_assert!(anns.iter().all(|a| p.is_pending(&a.hash)));
    // Nothing disappears without a reason.
    let s = p.stats();
    prop_assert_eq!(
        s.added,
        p.len() as u64 + s.replaced + s.evicted + s.included + s.stale
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pool_invariants_hold_under_random_offers_and_blocks(ops in proptest::collection::vec(op(), 1..40)) {
        let keys: Vec<SecretKey> = (0..4).map(|i| key(40 + i)).collect();
        let mut p = MemoryTxPool::with_env(
            paxeer_p2p_core::eth::ChainSpec::paxeer_devnet(),
            PoolEnv::latest(CHAIN, GAS_LIMIT),
            0,
            Box::new(MemoryState::unknown()),
            limits(),
        );
        let mut number = 1;
        for op in ops {
            match op {
                Op::Offer(s, n, tip) => {
                    let tx = priced(&keys[s], n, tip, tip * 3);
                    let hash = tx.hash();
                    match p.add(tx, None) {
                        TxVerdict::Added => prop_assert!(p.is_pending(&hash)),
                        TxVerdict::Queued => {
                            prop_assert!(p.get(&hash).is_some());
                            prop_assert!(!p.is_pending(&hash));
                        }
                        TxVerdict::AlreadyKnown => prop_assert!(p.contains(&hash)),
                        TxVerdict::Dropped(_) | TxVerdict::Invalid(_) => {
                            prop_assert!(p.get(&hash).is_none());
                        }
                    }
                }
                Op::Include(s) => {
                    let sender = crate::eth::pool::tests::addr(&keys[s]);
                    let head = p
                        .account(&sender)
                        .and_then(|a| a.pending().next())
                        .map(|e| e.tx.transaction());
                    let block = Block {
                        header: paxeer_p2p_core::eth::block::Header {
                            number,
                            gas_limit: GAS_LIMIT,
                            ..paxeer_p2p_core::eth::chainspec::paxeer_devnet_genesis()
                        },
                        body: BlockBody {
                            transactions: head.into_iter().collect(),
                            ..BlockBody::default()
                        },
                    };
                    number += 1;
                    p.on_block(&block);
                }
            }
            for h in p.take_promoted() {
                // A promoted transaction is pending unless trimmed in the same step.
                prop_assert!(p.is_pending(&h) || p.get(&h).is_none());
            }
            check_invariants(&p)?;
        }
    }
}
