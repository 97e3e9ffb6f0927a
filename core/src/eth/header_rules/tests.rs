//! Header and body rules on synthetic chains: each test breaks one rule of an otherwise
//! valid child and expects that rule's error.

use super::*;
use crate::eth::chainconfig::{BlockFork, ChainConfig};
use crate::eth::chainspec::{CANCUN_BLOB_PARAMS, PRAGUE_BLOB_PARAMS};
use crate::eth::genesis::Genesis;
use crate::eth::primitives::EMPTY_ROOT_HASH;
use crate::eth::tx::Eip4844Tx;

/// A PoS chain with London at 0, Shanghai at 0, Cancun at 100, Osaka at 1000.
fn config() -> ChainConfig {
    let mut c = ChainConfig::all_blocks_at_genesis(
        1,
        &[
            (TimeFork::Shanghai, 0),
            (TimeFork::Cancun, 100),
            (TimeFork::Prague, 200),
            (TimeFork::Osaka, 1000),
        ],
    );
    c.blob_schedule.cancun = Some(CANCUN_BLOB_PARAMS);
    c.blob_schedule.prague = Some(PRAGUE_BLOB_PARAMS);
    c.terminal_total_difficulty = Some(U256::ZERO);
    c
}

fn genesis(c: &ChainConfig) -> Header {
    Genesis {
        config: c.clone(),
        gas_limit: 30_000_000,
        ..Genesis::default()
    }
    .header(EMPTY_ROOT_HASH)
}

/// The valid child of `parent` at `time` with `gas_used`.
fn child(c: &ChainConfig, parent: &Header, time: u64) -> Header {
    let mut h = parent.clone();
    h.parent_hash = parent.hash();
    h.number = parent.number + 1;
    h.timestamp = time;
    h.gas_used = 0;
    h.base_fee_per_gas = Some(calc_base_fee(c, parent).unwrap());
    let cancun = c.time_active(TimeFork::Cancun, h.number, time);
    h.parent_beacon_block_root = cancun.then_some([1; 32]);
    h.blob_gas_used = cancun.then_some(0);
    h.excess_blob_gas = if cancun {
        let osaka = c.time_active(TimeFork::Osaka, 0, time);
        Some(calc_excess_blob_gas(
            osaka,
            &c.blob_params_at(time).unwrap(),
            parent,
        ))
    } else {
        None
    };
    h.requests_hash = c
        .time_active(TimeFork::Prague, h.number, time)
        .then_some([2; 32]);
    h
}

/// A change that breaks one rule.
type Mutation = Box<dyn Fn(&mut Header)>;

#[test]
fn a_valid_child_passes_and_each_broken_rule_is_named() {
    let c = config();
    let g = genesis(&c);
    let ok = child(&c, &g, 12);
    check_header(&c, &g, &ok).unwrap();
    let cases: Vec<(Mutation, &str)> = vec![
        (Box::new(|h| h.parent_hash = [9; 32]), "parent hash"),
        (Box::new(|h| h.number = 5), "number 5"),
        (Box::new(|h| h.timestamp = 0), "timestamp 0"),
        (Box::new(|h| h.extra_data = vec![0; 33]), "extra data of 33"),
        (Box::new(|h| h.gas_used = h.gas_limit + 1), "gas used"),
        (Box::new(|h| h.gas_limit += 30_000_000 / 1024), "gas limit"),
        (
            Box::new(|h| h.gas_limit = MAX_GAS_LIMIT + 1),
            "above the maximum",
        ),
        (Box::new(|h| h.nonce = [0, 0, 0, 0, 0, 0, 0, 1]), "nonce"),
        (Box::new(|h| h.ommers_hash = [3; 32]), "uncles hash"),
        (
            Box::new(|h| h.base_fee_per_gas = Some(U256::from_u64(7))),
            "base fee 7 is not the expected 875000000",
        ),
        (Box::new(|h| h.base_fee_per_gas = None), "base fee missing"),
        (
            Box::new(|h| h.withdrawals_root = None),
            "withdrawals root missing",
        ),
        (
            Box::new(|h| {
                h.excess_blob_gas = Some(0);
                h.blob_gas_used = Some(0);
                h.parent_beacon_block_root = Some([0; 32]);
            }),
            "blob gas used present before its fork",
        ),
    ];
    for (mutate, want) in cases {
        let mut h = ok.clone();
        mutate(&mut h);
        let err = check_header(&c, &g, &h).unwrap_err().to_string();
        assert!(err.contains(want), "{err:?} should name {want:?}");
    }
    // A PoW child of a PoS parent.
    let mut pow = ok.clone();
    pow.difficulty = U256::from_u64(1);
    assert_eq!(check_header(&c, &g, &pow), Err(HeaderError::TerminalBlock));
}

#[test]
fn gas_limit_moves_by_less_than_a_1024th() {
    check_gas_limit(1_024_000, 1_024_999).unwrap();
    check_gas_limit(1_024_000, 1_023_001).unwrap();
    assert!(check_gas_limit(1_024_000, 1_025_000).is_err());
    assert!(check_gas_limit(1_024_000, 1_023_000).is_err());
    assert_eq!(
        check_gas_limit(5000, 4999),
        Err(HeaderError::GasLimitTooLow(4999))
    );
}

#[test]
fn the_first_london_block_doubles_the_parent_gas_limit_and_starts_at_1_gwei() {
    let mut c = config();
    for (f, at) in c.block_forks.iter_mut() {
        if *f == BlockFork::London {
            *at = Some(1);
        }
    }
    c.time_forks.iter_mut().for_each(|(_, at)| *at = None);
    let mut g = genesis(&c);
    g.difficulty = U256::from_u64(1);
    g.base_fee_per_gas = None;
    g.withdrawals_root = None;
    g.gas_limit = 10_000_000;
    let mut h = child(&c, &g, 1);
    h.difficulty = U256::from_u64(1);
    h.gas_limit = 20_000_000;
    assert_eq!(
        h.base_fee_per_gas,
        Some(U256::from_u64(INITIAL_BASE_FEE_WEI))
    );
    check_header(&c, &g, &h).unwrap();
    // Before London a base fee is a fork-field error.
    let mut pre = child(&c, &g, 1);
    pre.number = 1;
    let c0 = {
        let mut c0 = c.clone();
        c0.block_forks.iter_mut().for_each(|(f, at)| {
            if *f == BlockFork::London {
                *at = None;
            }
        });
        c0
    };
    pre.difficulty = U256::from_u64(1);
    let err = check_header(&c0, &g, &pre).unwrap_err();
    assert_eq!(
        err,
        HeaderError::ForkField {
            field: "base fee",
            present: true
        }
    );
}

#[test]
fn base_fee_follows_the_parent_gas_used() {
    let c = config();
    let mut p = genesis(&c);
    p.gas_limit = 20_000_000;
    p.base_fee_per_gas = Some(U256::from_u64(1_000_000_000));
    p.gas_used = 10_000_000;
    assert_eq!(
        calc_base_fee(&c, &p).unwrap(),
        U256::from_u64(1_000_000_000)
    );
    p.gas_used = 20_000_000;
    assert_eq!(
        calc_base_fee(&c, &p).unwrap(),
        U256::from_u64(1_125_000_000)
    );
    p.gas_used = 0;
    assert_eq!(calc_base_fee(&c, &p).unwrap(), U256::from_u64(875_000_000));
    // An increase is at least 1 wei.
    p.base_fee_per_gas = Some(U256::from_u64(7));
    p.gas_used = 10_000_001;
    assert_eq!(calc_base_fee(&c, &p).unwrap(), U256::from_u64(8));
    p.base_fee_per_gas = None;
    assert!(calc_base_fee(&c, &p).is_err());
}

#[test]
fn excess_blob_gas_follows_the_parent_and_the_schedule() {
    let c = config();
    let g = genesis(&c);
    let b1 = child(&c, &g, 100);
    check_header(&c, &g, &b1).unwrap();
    // Cancun target 3 blobs: a parent with 5 blobs leaves 2 blobs of excess.
    let mut b1 = b1;
    b1.blob_gas_used = Some(5 * BLOB_GAS_PER_BLOB);
    let b2 = child(&c, &b1, 112);
    assert_eq!(b2.excess_blob_gas, Some(2 * BLOB_GAS_PER_BLOB));
    check_header(&c, &b1, &b2).unwrap();
    let mut bad = b2.clone();
    bad.excess_blob_gas = Some(0);
    assert_eq!(
        check_header(&c, &b1, &bad),
        Err(HeaderError::ExcessBlobGas {
            expected: 2 * BLOB_GAS_PER_BLOB,
            got: 0
        })
    );
    let mut bad = b2.clone();
    bad.blob_gas_used = Some(7 * BLOB_GAS_PER_BLOB);
    assert!(matches!(
        check_header(&c, &b1, &bad),
        Err(HeaderError::BlobGasUsedTooHigh { .. })
    ));
    bad.blob_gas_used = Some(1);
    assert_eq!(
        check_header(&c, &b1, &bad),
        Err(HeaderError::BlobGasUsedNotWhole(1))
    );
}

#[test]
fn osaka_reserve_price_scales_the_excess_when_blobs_are_cheap() {
    let params = PRAGUE_BLOB_PARAMS;
    let mut p = Header {
        excess_blob_gas: Some(0),
        blob_gas_used: Some(9 * BLOB_GAS_PER_BLOB),
        base_fee_per_gas: Some(U256::from_u64(1_000_000_000)),
        ..Header::default()
    };
    // Before Osaka: 9 - 6 target = 3 blobs of excess.
    assert_eq!(
        calc_excess_blob_gas(false, &params, &p),
        3 * BLOB_GAS_PER_BLOB
    );
    // From Osaka the 1 wei blob price is below 8192 * 1 gwei: excess grows by used*(9-6)/9.
    assert_eq!(
        calc_excess_blob_gas(true, &params, &p),
        9 * BLOB_GAS_PER_BLOB * 3 / 9
    );
    // A tiny base fee keeps the EIP-4844 formula.
    p.base_fee_per_gas = Some(U256::from_u64(1));
    assert_eq!(
        calc_excess_blob_gas(true, &params, &p),
        3 * BLOB_GAS_PER_BLOB
    );
    // A huge excess saturates the price computation instead of overflowing.
    p.excess_blob_gas = Some(u64::MAX / 2);
    p.base_fee_per_gas = Some(U256([0xff; 32]));
    let _ = calc_excess_blob_gas(true, &params, &p);
}

#[test]
fn fake_exponential_matches_the_eip_4844_table() {
    // Vectors from EIP-4844's reference (factor, numerator, denominator, result).
    for (f, n, d, want) in [
        (1u64, 0u64, 1u64, 1u64),
        (38_493, 0, 1000, 38_493),
        (0, 1234, 2345, 0),
        (1, 2, 1, 6),
        (1, 4, 2, 6),
        (1, 3, 1, 16),
        (1, 6, 2, 18),
        (1, 4, 1, 49),
        (1, 8, 2, 50),
        (10, 8, 2, 542),
        (11, 8, 2, 596),
        (1, 5, 1, 136),
        (1, 5, 2, 11),
        (2, 5, 2, 23),
        (1, 50_000_000, 2_225_652, 5_709_098_764),
    ] {
        assert_eq!(
            fake_exponential(U512::from(f), U512::from(n), U512::from(d)),
            U512::from(want),
            "{f} {n} {d}"
        );
    }
}

#[test]
fn body_rules_count_blobs_and_uncles() {
    let c = config();
    let g = genesis(&c);
    let mut h = child(&c, &g, 100);
    let blob_tx = Transaction::Eip4844(Eip4844Tx {
        blob_versioned_hashes: vec![[1; 32], [2; 32]],
        ..Eip4844Tx::default()
    });
    let body = BlockBody {
        transactions: vec![blob_tx],
        uncles: Vec::new(),
        withdrawals: Some(Vec::new()),
    };
    h.transactions_root = crate::eth::block::transactions_root(&body.transactions);
    h.blob_gas_used = Some(2 * BLOB_GAS_PER_BLOB);
    check_body(&h, &body).unwrap();
    h.blob_gas_used = Some(BLOB_GAS_PER_BLOB);
    assert_eq!(
        check_body(&h, &body),
        Err(BlockRuleError::BlobGasUsed {
            header: BLOB_GAS_PER_BLOB,
            blobs: 2
        })
    );
    h.blob_gas_used = None;
    assert!(check_body(&h, &body).is_err());
    // A PoS block carries no uncles.
    let mut with_uncle = BlockBody {
        uncles: vec![Header::default()],
        withdrawals: Some(Vec::new()),
        ..BlockBody::default()
    };
    let mut e = child(&c, &g, 12);
    assert_eq!(check_body(&e, &with_uncle), Err(BlockRuleError::Uncles(1)));
    e.difficulty = U256::from_u64(1);
    e.ommers_hash = crate::eth::block::uncles_hash(&with_uncle.uncles);
    check_body(&e, &with_uncle).unwrap();
    with_uncle.withdrawals = None;
    assert!(matches!(
        check_body(&e, &with_uncle),
        Err(BlockRuleError::Body(_))
    ));
    let osaka = child(&c, &g, 1000);
    assert!(check_block_size(&c, &osaka, MAX_BLOCK_BYTES).is_ok());
    assert_eq!(
        check_block_size(&c, &osaka, MAX_BLOCK_BYTES + 1),
        Err(BlockRuleError::TooLarge(MAX_BLOCK_BYTES + 1))
    );
    assert!(check_block_size(&c, &e, MAX_BLOCK_BYTES + 1).is_ok());
}
