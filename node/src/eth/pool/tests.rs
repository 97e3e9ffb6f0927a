//! Unit tests of the pool rules, one table or scenario per rule, with transactions signed
//! like `txgen.rs` does.

use std::path::PathBuf;

use paxeer_p2p_core::eth::app::{TxPool, TxRejectReason as R, TxVerdict};
use paxeer_p2p_core::eth::block::{Block, BlockBody, Header};
use paxeer_p2p_core::eth::tx::{
    kzg_versioned_hash, sidecar::BLOB_BYTES, sidecar::CELL_PROOFS_PER_BLOB, AccessListItem,
    Authorization, BlobSidecar, Eip1559Tx, Eip4844Tx, Eip7702Tx, LegacyTx, PooledTransaction,
    SidecarVersion, Transaction,
};
use paxeer_p2p_core::eth::{Address, U256};
use ruint::aliases::U256 as Wei;
use secp256k1::SecretKey;

use super::env::{Forks, PoolEnv};
use super::{MemoryTxPool, PoolLimits};
use crate::eth::state::{AccountInfo, MemoryState};
use crate::eth::txgen::sign;

/// Chain id of the tests.
pub(crate) const CHAIN: u64 = 7;
/// Block gas limit of the tests.
pub(crate) const GAS_LIMIT: u64 = 30_000_000;

/// A file of go-ethereum's devp2p test chain, if the module is in the Go module cache.
pub(crate) fn geth_testdata(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("GOMODCACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("go/pkg/mod")))?;
    let p = home
        .join("github.com/ethereum/go-ethereum@v1.17.10/cmd/devp2p/internal/ethtest/testdata")
        .join(name);
    p.exists().then_some(p)
}

/// A deterministic key.
pub(crate) fn key(n: u8) -> SecretKey {
    SecretKey::from_byte_array(&[n.max(1); 32]).unwrap()
}

/// The address of `key`.
pub(crate) fn addr(k: &SecretKey) -> Address {
    let tx = sign(k, Transaction::Eip1559(Eip1559Tx::default()));
    tx.recover_sender().unwrap()
}

/// An unsigned EIP-1559 call: to 0xaa.., 30000 gas, tip 1 wei, fee cap 1 gwei.
pub(crate) fn call(nonce: u64) -> Eip1559Tx {
    Eip1559Tx {
        chain_id: CHAIN,
        nonce,
        max_priority_fee_per_gas: U256::from_u64(1),
        max_fee_per_gas: U256::from_u64(1_000_000_000),
        gas_limit: 30_000,
        to: Some([0xaa; 20]),
        ..Eip1559Tx::default()
    }
}

/// `t` signed by `k`, in pooled form.
pub(crate) fn signed(k: &SecretKey, t: Eip1559Tx) -> PooledTransaction {
    PooledTransaction::Plain(sign(k, Transaction::Eip1559(t)))
}

/// A signed call from `k` with `nonce` paying `tip` and `fee_cap`.
pub(crate) fn priced(k: &SecretKey, nonce: u64, tip: u64, fee_cap: u64) -> PooledTransaction {
    signed(
        k,
        Eip1559Tx {
            max_priority_fee_per_gas: U256::from_u64(tip),
            max_fee_per_gas: U256::from_u64(fee_cap),
            ..call(nonce)
        },
    )
}

fn pool() -> MemoryTxPool {
    MemoryTxPool::latest(CHAIN)
}

fn pool_with(state: MemoryState, limits: PoolLimits) -> MemoryTxPool {
    MemoryTxPool::with_env(
        paxeer_p2p_core::eth::ChainSpec::paxeer_devnet(),
        PoolEnv::latest(CHAIN, GAS_LIMIT),
        0,
        Box::new(state),
        limits,
    )
}

fn reason(v: &TxVerdict) -> Option<R> {
    v.rejection().map(|r| r.reason)
}

/// A blob transaction from `k` with `blobs` blobs and a consistent sidecar of `version`.
fn blob_tx(
    k: &SecretKey,
    nonce: u64,
    blobs: usize,
    version: SidecarVersion,
    fee: u64,
) -> PooledTransaction {
    let commitments: Vec<[u8; 48]> = (0..blobs).map(|i| [i as u8 + 1; 48]).collect();
    let tx = Eip4844Tx {
        chain_id: CHAIN,
        nonce,
        max_priority_fee_per_gas: U256::from_u64(fee),
        max_fee_per_gas: U256::from_u64(fee * 1000),
        gas_limit: 21_000,
        to: [0xbb; 20],
        max_fee_per_blob_gas: U256::from_u64(fee),
        blob_versioned_hashes: commitments.iter().map(kzg_versioned_hash).collect(),
        ..Eip4844Tx::default()
    };
    let Transaction::Eip4844(tx) = sign(k, Transaction::Eip4844(tx)) else {
        unreachable!()
    };
    let per = match version {
        SidecarVersion::BlobProofs => 1,
        SidecarVersion::CellProofs => CELL_PROOFS_PER_BLOB,
    };
    PooledTransaction::BlobWithSidecar {
        tx,
        sidecar: BlobSidecar {
            version,
            blobs: vec![vec![0; BLOB_BYTES]; blobs],
            commitments,
            proofs: vec![[0xc0; 48]; blobs * per],
        },
    }
}

#[test]
fn stateless_rules_refuse_each_violation_with_its_reason() {
    let k = key(1);
    let big = |n: usize| vec![0x5a; n];
    let cases: Vec<(&str, PooledTransaction, Option<R>)> = vec![
        ("valid", signed(&k, call(0)), None),
        (
            "wrong chain",
            signed(
                &k,
                Eip1559Tx {
                    chain_id: 8,
                    ..call(0)
                },
            ),
            Some(R::ChainId),
        ),
        (
            "gas 1337 (geth InvalidTxs)",
            signed(
                &k,
                Eip1559Tx {
                    gas_limit: 1337,
                    ..call(0)
                },
            ),
            Some(R::IntrinsicGas),
        ),
        (
            "50 KiB init code (geth InvalidTxs)",
            signed(
                &k,
                Eip1559Tx {
                    to: None,
                    input: big(50 * 1024),
                    gas_limit: 1_000_000,
                    ..call(0)
                },
            ),
            Some(R::InitCodeSize),
        ),
        (
            "49152 bytes of init code is the limit",
            signed(
                &k,
                Eip1559Tx {
                    to: None,
                    input: big(49_152),
                    gas_limit: 3_000_000,
                    ..call(0)
                },
            ),
            None,
        ),
        (
            "128 KiB of data (geth InvalidTxs)",
            signed(
                &k,
                Eip1559Tx {
                    input: big(128 * 1024),
                    gas_limit: 5_000_000,
                    ..call(0)
                },
            ),
            Some(R::Oversized),
        ),
        (
            "gas above the block gas limit",
            signed(
                &k,
                Eip1559Tx {
                    gas_limit: GAS_LIMIT + 1,
                    ..call(0)
                },
            ),
            Some(R::GasLimit),
        ),
        (
            "gas above the EIP-7825 cap",
            signed(
                &k,
                Eip1559Tx {
                    gas_limit: (1 << 24) + 1,
                    ..call(0)
                },
            ),
            Some(R::GasLimit),
        ),
        (
            "tip above fee cap",
            priced(&k, 0, 11, 10),
            Some(R::TipAboveFeeCap),
        ),
        ("zero tip", priced(&k, 0, 0, 10), Some(R::Underpriced)),
        ("1 wei tip", priced(&k, 0, 1, 1), None),
        (
            "nonce 2^64-1",
            signed(&k, call(u64::MAX)),
            Some(R::NonceMax),
        ),
        (
            // 1000 non-zero bytes: intrinsic 37000, EIP-7623 floor 21000 + 4000 × 10.
            "calldata below the Prague floor",
            signed(
                &k,
                Eip1559Tx {
                    input: big(1000),
                    gas_limit: 60_999,
                    ..call(0)
                },
            ),
            Some(R::FloorDataGas),
        ),
        (
            "calldata at the Prague floor",
            signed(
                &k,
                Eip1559Tx {
                    input: big(1000),
                    gas_limit: 61_000,
                    ..call(0)
                },
            ),
            None,
        ),
        (
            // 64 zero bytes of init code: 53000 + 64 × 4 + 2 words × 2.
            "init code word cost",
            signed(
                &k,
                Eip1559Tx {
                    to: None,
                    input: vec![0; 64],
                    gas_limit: 53_259,
                    ..call(0)
                },
            ),
            Some(R::IntrinsicGas),
        ),
        (
            "init code word cost paid",
            signed(
                &k,
                Eip1559Tx {
                    to: None,
                    input: vec![0; 64],
                    gas_limit: 53_260,
                    ..call(0)
                },
            ),
            None,
        ),
        (
            // 21000 + 2400 + 2 × 1900.
            "access list cost",
            signed(
                &k,
                Eip1559Tx {
                    access_list: vec![AccessListItem {
                        address: [1; 20],
                        storage_keys: vec![[1; 32], [2; 32]],
                    }],
                    gas_limit: 27_199,
                    ..call(0)
                },
            ),
            Some(R::IntrinsicGas),
        ),
    ];
    for (name, tx, want) in cases {
        let mut p = pool();
        let v = p.add(tx, None);
        assert_eq!(reason(&v), want, "{name}: {v:?}");
        if want.is_none() {
            assert_eq!(v, TxVerdict::Added, "{name}");
        }
    }
}

#[test]
fn faults_are_invalid_and_stale_or_cheap_ones_only_dropped() {
    let k = key(1);
    let mut p = pool();
    assert!(matches!(
        p.add(
            signed(
                &k,
                Eip1559Tx {
                    gas_limit: 1337,
                    ..call(0)
                }
            ),
            None
        ),
        TxVerdict::Invalid(_)
    ));
    assert!(matches!(
        p.add(priced(&k, 0, 0, 10), None),
        TxVerdict::Dropped(_)
    ));
    // A zero signature cannot be recovered.
    let mut t = sign(&k, Transaction::Eip1559(call(0)));
    if let Transaction::Eip1559(x) = &mut t {
        x.signature.r = U256::from_u64(0);
    }
    let v = p.add(PooledTransaction::Plain(t), None);
    assert_eq!(reason(&v), Some(R::Signature));
    assert_eq!(p.stats().rejected.get(&R::IntrinsicGas), Some(&1));
}

#[test]
fn set_code_transactions_need_authorizations_and_pay_for_them() {
    let k = key(2);
    let base = Eip7702Tx {
        chain_id: CHAIN,
        max_priority_fee_per_gas: U256::from_u64(1),
        max_fee_per_gas: U256::from_u64(10),
        gas_limit: 46_000,
        to: [0xaa; 20],
        ..Eip7702Tx::default()
    };
    let auth = Authorization {
        chain_id: U256::from_u64(CHAIN),
        address: [3; 20],
        nonce: 0,
        y_parity: 0,
        r: U256::from_u64(1),
        s: U256::from_u64(1),
    };
    let one = |gas: u64| {
        PooledTransaction::Plain(sign(
            &k,
            Transaction::Eip7702(Eip7702Tx {
                gas_limit: gas,
                authorization_list: vec![auth.clone()],
                ..base.clone()
            }),
        ))
    };
    let empty = PooledTransaction::Plain(sign(&k, Transaction::Eip7702(base.clone())));
    assert_eq!(reason(&pool().add(empty, None)), Some(R::EmptyAuthList));
    assert_eq!(
        reason(&pool().add(one(45_999), None)),
        Some(R::IntrinsicGas)
    );
    assert_eq!(pool().add(one(46_000), None), TxVerdict::Added);
    // Before Prague the type is refused.
    let mut p = pool();
    p.env.forks = Forks {
        prague: false,
        osaka: false,
        ..Forks::all()
    };
    assert_eq!(reason(&p.add(one(46_000), None)), Some(R::TxType));
}

#[test]
fn legacy_transactions_with_and_without_replay_protection() {
    let k = key(3);
    let legacy = |v: u64| LegacyTx {
        nonce: 0,
        gas_price: U256::from_u64(5),
        gas_limit: 21_000,
        to: Some([1; 20]),
        v: U256::from_u64(v),
        ..LegacyTx::default()
    };
    let eip155 = PooledTransaction::Plain(sign(&k, Transaction::Legacy(legacy(CHAIN * 2 + 35))));
    assert_eq!(pool().add(eip155, None), TxVerdict::Added);
    let homestead = PooledTransaction::Plain(sign(&k, Transaction::Legacy(legacy(27))));
    assert_eq!(pool().add(homestead, None), TxVerdict::Added);
    let other = PooledTransaction::Plain(sign(&k, Transaction::Legacy(legacy(99 * 2 + 35))));
    assert_eq!(reason(&pool().add(other, None)), Some(R::ChainId));
}

#[test]
fn nonce_gaps_queue_and_filling_them_promotes_in_order() {
    let k = key(4);
    let mut p = pool();
    assert_eq!(p.add(signed(&k, call(2)), None), TxVerdict::Queued);
    assert_eq!(p.add(signed(&k, call(1)), None), TxVerdict::Queued);
    assert!(p.pending(10).is_empty(), "queued txs are never listed");
    assert!(p.take_promoted().is_empty());
    let zero = signed(&k, call(0));
    assert_eq!(p.add(zero.clone(), None), TxVerdict::Added);
    let promoted = p.take_promoted();
    assert_eq!(
        promoted,
        vec![signed(&k, call(1)).hash(), signed(&k, call(2)).hash()]
    );
    assert!(p.take_promoted().is_empty(), "taken once");
    assert_eq!(p.pending(10).len(), 3);
    assert_eq!(p.pending(10).first().map(|a| a.hash), Some(zero.hash()));
}

#[test]
fn two_thousand_consecutive_nonces_from_one_sender_are_all_pending() {
    // go-ethereum's LargeTxRequest: nonces 0..1999, 1 wei tip, in one message.
    let k = key(5);
    let mut p = pool();
    for n in 0..2000 {
        assert_eq!(
            p.add(priced(&k, n, 1, 7), None),
            TxVerdict::Added,
            "nonce {n}"
        );
    }
    assert_eq!(p.pending_count(), 2000);
    assert_eq!(p.pending(5000).len(), 2000);
}

#[test]
fn replacements_need_a_ten_percent_bump_of_fee_cap_and_tip() {
    let k = key(6);
    let mut p = pool();
    assert_eq!(p.add(priced(&k, 0, 100, 1000), None), TxVerdict::Added);
    for (tip, cap, ok) in [
        (109, 1100, false),
        (110, 1099, false),
        (100, 2000, false),
        (110, 1100, true),
    ] {
        let v = p.add(priced(&k, 0, tip, cap), None);
        if ok {
            assert_eq!(v, TxVerdict::Added, "{tip}/{cap}");
        } else {
            assert_eq!(reason(&v), Some(R::ReplacementUnderpriced), "{tip}/{cap}");
            assert!(matches!(v, TxVerdict::Dropped(_)), "not the sender's fault");
        }
    }
    assert_eq!(p.len(), 1);
    assert_eq!(p.stats().replaced, 1);
    // The replaced one is remembered, not re-added.
    assert!(p.contains(&priced(&k, 0, 100, 1000).hash()));
    assert_eq!(
        p.add(priced(&k, 0, 100, 1000), None),
        TxVerdict::AlreadyKnown
    );
}

fn funded(k: &SecretKey, nonce: u64, balance: u64) -> MemoryState {
    MemoryState::from_accounts([(
        addr(k),
        AccountInfo {
            nonce,
            balance: Wei::from(balance),
        },
    )])
}

#[test]
fn the_state_refuses_used_nonces_and_unaffordable_costs() {
    let k = key(7);
    // Cost of `priced(k, n, 1, 10)`: 30000 gas × 10 wei.
    let mut p = pool_with(funded(&k, 3, 700_000), PoolLimits::default());
    assert_eq!(
        reason(&p.add(priced(&k, 2, 1, 10), None)),
        Some(R::NonceTooLow)
    );
    assert_eq!(p.add(priced(&k, 3, 1, 10), None), TxVerdict::Added);
    assert_eq!(p.add(priced(&k, 4, 1, 10), None), TxVerdict::Added);
    // A third would spend 900000 of 700000.
    let v = p.add(priced(&k, 5, 1, 10), None);
    assert_eq!(reason(&v), Some(R::InsufficientFunds));
    assert!(matches!(v, TxVerdict::Dropped(_)));
    // A replacement only needs the difference.
    assert_eq!(p.add(priced(&k, 4, 2, 11), None), TxVerdict::Added);
    // Value counts: value = balance cannot pay gas (geth InvalidTxs "value = balance").
    let mut p = pool_with(funded(&k, 0, 700_000), PoolLimits::default());
    let rich = signed(
        &k,
        Eip1559Tx {
            value: U256::from_u64(700_000),
            ..call(0)
        },
    );
    assert_eq!(reason(&p.add(rich, None)), Some(R::InsufficientFunds));
    // An account absent from a loaded state is empty.
    let other = key(8);
    assert_eq!(
        reason(&p.add(priced(&other, 0, 1, 10), None)),
        Some(R::InsufficientFunds)
    );
}

#[test]
fn without_a_state_nonces_start_at_zero_and_balances_are_not_checked() {
    let k = key(9);
    let mut p = pool();
    let rich = signed(
        &k,
        Eip1559Tx {
            value: U256([0xff; 32]),
            ..call(0)
        },
    );
    assert_eq!(p.add(rich, None), TxVerdict::Added);
    assert_eq!(p.add(signed(&k, call(5)), None), TxVerdict::Queued);
}

#[test]
fn geths_invalid_txs_never_become_pending_with_or_without_state() {
    let k = key(10);
    let invalid = |n: u64, balance: u64| {
        vec![
            signed(
                &k,
                Eip1559Tx {
                    nonce: n.wrapping_sub(1),
                    gas_limit: 100_000,
                    to: None,
                    ..call(0)
                },
            ),
            signed(
                &k,
                Eip1559Tx {
                    nonce: n,
                    gas_limit: 100_000,
                    to: None,
                    value: U256::from_u64(balance),
                    ..call(0)
                },
            ),
            signed(
                &k,
                Eip1559Tx {
                    nonce: n,
                    gas_limit: 1337,
                    to: None,
                    ..call(0)
                },
            ),
            signed(
                &k,
                Eip1559Tx {
                    nonce: n,
                    gas_limit: 1_000_000,
                    to: None,
                    input: vec![7; 50 * 1024],
                    ..call(0)
                },
            ),
            signed(
                &k,
                Eip1559Tx {
                    nonce: n,
                    gas_limit: 5_000_000,
                    input: vec![7; 128 * 1024],
                    ..call(0)
                },
            ),
        ]
    };
    let balance = 1_000_000_000_000_000u64;
    for (state, n) in [(funded(&k, 4, balance), 4u64), (MemoryState::unknown(), 0)] {
        let mut p = pool_with(state, PoolLimits::default());
        assert_eq!(p.add(signed(&k, call(n)), None), TxVerdict::Added);
        for tx in invalid(n, balance) {
            let v = p.add(tx, None);
            assert!(
                !matches!(v, TxVerdict::Added | TxVerdict::Queued),
                "nonce {n}: {v:?}"
            );
        }
        assert!(p.take_promoted().is_empty());
        assert_eq!(p.pending(10).len(), 1);
    }
}

#[test]
fn a_full_pool_evicts_the_cheapest_tail_of_another_sender_or_drops_the_newcomer() {
    let limits = PoolLimits {
        global_slots: 2,
        global_queue: 1,
        ..PoolLimits::default()
    };
    let (a, b, c) = (key(11), key(12), key(13));
    let mut p = pool_with(MemoryState::unknown(), limits);
    assert_eq!(p.add(priced(&a, 0, 5, 100), None), TxVerdict::Added);
    assert_eq!(p.add(priced(&a, 1, 5, 100), None), TxVerdict::Added);
    assert_eq!(p.add(priced(&b, 0, 2, 100), None), TxVerdict::Added);
    // Full (3 slots). A newcomer paying no more than the cheapest tail is dropped.
    let v = p.add(priced(&c, 0, 2, 100), None);
    assert_eq!(reason(&v), Some(R::PoolFull));
    // One paying more evicts b's tail.
    assert_eq!(p.add(priced(&c, 0, 3, 100), None), TxVerdict::Added);
    assert!(!p.is_pending(&priced(&b, 0, 2, 100).hash()));
    assert_eq!(p.stats().evicted, 1);
    assert_eq!(p.len(), 3);
}

#[test]
fn queues_are_capped_per_account_by_dropping_the_highest_nonces() {
    let limits = PoolLimits {
        account_queue: 2,
        ..PoolLimits::default()
    };
    let k = key(14);
    let mut p = pool_with(MemoryState::unknown(), limits);
    for n in [5, 3, 4] {
        let _ = p.add(signed(&k, call(n)), None);
    }
    assert_eq!(p.queued_count(), 2);
    assert!(p.contains(&signed(&k, call(3)).hash()));
    assert!(
        p.get(&signed(&k, call(5)).hash()).is_none(),
        "highest nonce dropped"
    );
}

#[test]
fn pending_beyond_the_global_cap_is_trimmed_from_the_largest_sender() {
    let limits = PoolLimits {
        global_slots: 4,
        account_slots: 1,
        global_queue: 100,
        ..PoolLimits::default()
    };
    let (a, b) = (key(15), key(16));
    let mut p = pool_with(MemoryState::unknown(), limits);
    for n in 0..4 {
        assert_eq!(p.add(priced(&a, n, 5, 100), None), TxVerdict::Added);
    }
    // b's first pending pushes the pool over: a's highest nonce goes.
    assert_eq!(p.add(priced(&b, 0, 1, 100), None), TxVerdict::Added);
    assert_eq!(p.slots().0, 4);
    assert!(p.get(&priced(&a, 3, 5, 100).hash()).is_none());
}

#[test]
fn blob_transactions_need_a_matching_sidecar_in_either_version() {
    let k = key(17);
    for version in [SidecarVersion::BlobProofs, SidecarVersion::CellProofs] {
        let mut p = pool();
        p.env.forks.osaka = false;
        assert_eq!(p.add(blob_tx(&k, 0, 2, version, 1), None), TxVerdict::Added);
    }
    // Osaka takes cell proofs only.
    let mut p = pool();
    let v = p.add(blob_tx(&k, 0, 1, SidecarVersion::BlobProofs, 1), None);
    assert_eq!(reason(&v), Some(R::BlobSidecar));
    // Without a sidecar, or with a mangled commitment.
    let good = blob_tx(&k, 0, 1, SidecarVersion::CellProofs, 1);
    let bare = PooledTransaction::Plain(good.transaction());
    assert_eq!(reason(&pool().add(bare, None)), Some(R::BlobSidecar));
    let PooledTransaction::BlobWithSidecar { tx, mut sidecar } = good.clone() else {
        unreachable!()
    };
    sidecar.commitments[0] = [0; 48];
    let bad = PooledTransaction::BlobWithSidecar { tx, sidecar };
    let v = pool().add(bad, None);
    assert_eq!(reason(&v), Some(R::BlobSidecar));
    assert!(matches!(v, TxVerdict::Invalid(_)));
    // The good copy of the same hash is still accepted afterwards.
    assert_eq!(pool().add(good, None), TxVerdict::Added);
}

#[test]
fn blob_transactions_never_gap_and_replace_only_at_double_the_price() {
    let k = key(18);
    let mut p = pool();
    let v = p.add(blob_tx(&k, 1, 1, SidecarVersion::CellProofs, 1), None);
    assert_eq!(reason(&v), Some(R::NonceGap));
    assert_eq!(
        p.add(blob_tx(&k, 0, 1, SidecarVersion::CellProofs, 10), None),
        TxVerdict::Added
    );
    let v = p.add(blob_tx(&k, 0, 1, SidecarVersion::CellProofs, 19), None);
    assert_eq!(reason(&v), Some(R::ReplacementUnderpriced));
    assert_eq!(
        p.add(blob_tx(&k, 0, 1, SidecarVersion::CellProofs, 20), None),
        TxVerdict::Added
    );
    // The sender cannot mix in a non-blob transaction.
    assert_eq!(
        reason(&p.add(signed(&k, call(1)), None)),
        Some(R::AccountLimit)
    );
    assert_eq!(p.blob_count(), 1);
}

fn block_with(txs: Vec<Transaction>, number: u64) -> Block {
    Block {
        header: Header {
            number,
            gas_limit: GAS_LIMIT,
            ..paxeer_p2p_core::eth::chainspec::paxeer_devnet_genesis()
        },
        body: BlockBody {
            transactions: txs,
            ..BlockBody::default()
        },
    }
}

#[test]
fn blocks_remove_included_and_stale_txs_and_promote_past_filled_gaps() {
    let (k, other) = (key(19), key(20));
    let mut p = pool();
    for n in [0, 1, 3] {
        let _ = p.add(signed(&k, call(n)), None);
    }
    assert_eq!(p.pending_count(), 2);
    // A block includes nonce 0 and, from elsewhere, a different nonce-1 and nonce-2 tx.
    let alt1 = priced(&k, 1, 9, 9).transaction();
    let alt2 = priced(&k, 2, 9, 9).transaction();
    let block = block_with(vec![signed(&k, call(0)).transaction(), alt1, alt2], 1);
    p.on_block(&block);
    assert_eq!(p.stats().included, 1);
    assert_eq!(p.stats().stale, 1);
    assert_eq!(p.take_promoted(), vec![signed(&k, call(3)).hash()]);
    assert!(p.is_pending(&signed(&k, call(3)).hash()));
    assert!(
        p.contains(&signed(&k, call(0)).hash()),
        "included hashes stay known"
    );
    // The nonce moved on for new arrivals too.
    assert_eq!(
        reason(&p.add(signed(&k, call(2)), None)),
        Some(R::NonceTooLow)
    );
    // Senders without pooled txs are tracked as well.
    p.on_block(&block_with(vec![signed(&other, call(0)).transaction()], 2));
    assert_eq!(p.add(signed(&other, call(1)), None), TxVerdict::Added);
}

#[test]
fn the_head_sets_the_gas_limit_and_forks() {
    let mut spec = paxeer_p2p_core::eth::ChainSpec::paxeer_devnet();
    spec.chain_id = CHAIN;
    let head = Header {
        gas_limit: 100_000,
        ..paxeer_p2p_core::eth::chainspec::paxeer_devnet_genesis()
    };
    let mut p = MemoryTxPool::new(spec, &head, Box::new(MemoryState::unknown()));
    let v = p.add(
        signed(
            &key(21),
            Eip1559Tx {
                gas_limit: 100_001,
                ..call(0)
            },
        ),
        None,
    );
    assert_eq!(reason(&v), Some(R::GasLimit));
    p.on_block(&Block {
        header: Header {
            number: 1,
            gas_limit: 200_000,
            ..paxeer_p2p_core::eth::chainspec::paxeer_devnet_genesis()
        },
        body: BlockBody::default(),
    });
    assert_eq!(p.env().gas_limit, 200_000);
    let v = p.add(
        signed(
            &key(21),
            Eip1559Tx {
                gas_limit: 100_001,
                ..call(0)
            },
        ),
        None,
    );
    assert_eq!(v, TxVerdict::Added);
}

#[test]
fn go_ethereums_test_chain_state_admits_large_tx_request_and_refuses_invalid_txs() {
    // go-ethereum's devp2p test chain, when installed: chain id and head from its files,
    // nonces and balances from headstate.json, the sender's key from accounts.json.
    let (Some(state), Some(accounts), Some(genesis)) = (
        geth_testdata("headstate.json"),
        geth_testdata("accounts.json"),
        geth_testdata("genesis.json"),
    ) else {
        return;
    };
    let state = MemoryState::load(&state).unwrap();
    let genesis: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(genesis).unwrap()).unwrap();
    let chain_id = genesis["config"]["chainId"].as_u64().unwrap();
    let accounts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(accounts).unwrap()).unwrap();
    let (address, entry) = accounts.as_object().unwrap().iter().next().unwrap();
    let secret = hex::decode(entry["key"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    let k = SecretKey::from_slice(&secret).unwrap();
    assert_eq!(
        format!("0x{}", hex::encode(addr(&k))),
        address.to_lowercase()
    );
    let nonce = crate::eth::state::AccountState::nonce(&state, &addr(&k));
    let balance = crate::eth::state::AccountState::balance(&state, &addr(&k)).unwrap();
    let mut p = MemoryTxPool::with_env(
        paxeer_p2p_core::eth::ChainSpec::paxeer_devnet(),
        PoolEnv::latest(chain_id, 100_000_000),
        0,
        Box::new(state),
        PoolLimits::default(),
    );
    let tx = |n: u64, gas: u64, value: Wei, to: Option<Address>, input: Vec<u8>| {
        signed(
            &k,
            Eip1559Tx {
                chain_id,
                nonce: n,
                max_priority_fee_per_gas: U256::from_u64(1),
                max_fee_per_gas: U256::from_u64(7),
                gas_limit: gas,
                to,
                value: U256(value.to_be_bytes()),
                input,
                ..Eip1559Tx::default()
            },
        )
    };
    // LargeTxRequest: 2000 consecutive nonces, all pending.
    for n in nonce..nonce + 2000 {
        let v = p.add(tx(n, 75_000, Wei::ZERO, None, Vec::new()), None);
        assert_eq!(v, TxVerdict::Added, "nonce {n}");
    }
    // InvalidTxs, at the next nonce: value = balance cannot also pay for gas.
    let n = nonce + 2000;
    let v = p.add(tx(n, 100_000, balance, None, Vec::new()), None);
    assert_eq!(reason(&v), Some(R::InsufficientFunds));
    if nonce > 0 {
        let v = p.add(tx(nonce - 1, 100_000, Wei::ZERO, None, Vec::new()), None);
        assert_eq!(reason(&v), Some(R::NonceTooLow));
    }
    assert_eq!(p.pending_count(), 2000);
}
