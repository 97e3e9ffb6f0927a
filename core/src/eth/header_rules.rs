//! The rules a header must follow relative to its parent, and a body relative to its header,
//! that need no execution: go-ethereum v1.17.10 `consensus/beacon/consensus.go`
//! (`VerifyHeader`, `verifyHeader`, `VerifyUncles`), `consensus/misc/eip1559`,
//! `consensus/misc/eip4844`, `consensus/misc/gaslimit.go` and `core/block_validator.go`
//! (`ValidateBody`). Proof-of-work seals and difficulty are not checked (no ethash here),
//! nor anything needing state (state root, receipts, gas used by execution, requests).
//!
//! Pure functions over headers: the block import and the eth sync both use them.

use ruint::aliases::U512;

use crate::eth::block::{validate_body, BlockBody, BodyError, Header};
use crate::eth::chainconfig::{BlobParams, ChainConfig, TimeFork};
use crate::eth::genesis::INITIAL_BASE_FEE_WEI;
use crate::eth::primitives::{EMPTY_UNCLES_HASH, U256};
use crate::eth::tx::Transaction;

/// `params.MaximumExtraDataSize`, bytes (go-ethereum `params/protocol_params.go`).
pub const MAX_EXTRA_DATA_BYTES: usize = 32;
/// `params.MinGasLimit` (go-ethereum `params/protocol_params.go`).
pub const MIN_GAS_LIMIT: u64 = 5000;
/// `params.MaxGasLimit`, 2^63-1 (go-ethereum `params/protocol_params.go`).
pub const MAX_GAS_LIMIT: u64 = 0x7fff_ffff_ffff_ffff;
/// `params.GasLimitBoundDivisor`: a block moves the gas limit by less than parent/1024.
pub const GAS_LIMIT_BOUND_DIVISOR: u64 = 1024;
/// `params.DefaultElasticityMultiplier` (EIP-1559).
pub const ELASTICITY_MULTIPLIER: u64 = 2;
/// `params.DefaultBaseFeeChangeDenominator` (EIP-1559).
pub const BASE_FEE_CHANGE_DENOMINATOR: u64 = 8;
/// `params.BlobTxBlobGasPerBlob`: blob gas of one blob (EIP-4844).
pub const BLOB_GAS_PER_BLOB: u64 = 1 << 17;
/// `params.BlobBaseCost`: execution gas priced into the EIP-7918 reserve price.
pub const BLOB_BASE_COST: u64 = 1 << 13;
/// `params.BlobTxMinBlobGasprice`, wei (EIP-4844).
pub const MIN_BLOB_GAS_PRICE_WEI: u64 = 1;
/// `params.MaxBlockSize`: the EIP-7934 cap on an RLP-encoded block from Osaka, bytes.
pub const MAX_BLOCK_BYTES: usize = 8_388_608;
/// The ethash limit on uncles per block (go-ethereum `consensus/ethash`, `maxUncles`).
pub const MAX_UNCLES: usize = 2;

/// A header rule that does not hold; the message names the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The parent hash is not the parent's hash.
    #[error("parent hash does not match the previous block")]
    ParentHash,
    /// The number is not the parent's plus one.
    #[error("number {got} does not follow the parent's {parent}")]
    Number {
        /// The parent's number.
        parent: u64,
        /// The header's.
        got: u64,
    },
    /// The timestamp is not after the parent's.
    #[error("timestamp {got} is not after the parent's {parent}")]
    Timestamp {
        /// The parent's.
        parent: u64,
        /// The header's.
        got: u64,
    },
    /// Extra data longer than 32 bytes.
    #[error("extra data of {0} bytes exceeds 32")]
    ExtraData(usize),
    /// Gas limit above 2^63-1.
    #[error("gas limit {0} above the maximum 2^63-1")]
    GasLimitTooHigh(u64),
    /// Gas used above the gas limit.
    #[error("gas used {used} above the gas limit {limit}")]
    GasUsed {
        /// Gas used.
        used: u64,
        /// Gas limit.
        limit: u64,
    },
    /// The gas limit moved by parent/1024 or more.
    #[error("gas limit {got} outside the parent's {parent} +/- {bound}")]
    GasLimitBound {
        /// The parent's (doubled at the first London block).
        parent: u64,
        /// The header's.
        got: u64,
        /// The allowed change plus one.
        bound: u64,
    },
    /// Gas limit below 5000.
    #[error("gas limit {0} below the minimum 5000")]
    GasLimitTooLow(u64),
    /// A fork field is missing or present when the fork says otherwise.
    #[error("{field} {}", if *.present { "present before its fork" } else { "missing" })]
    ForkField {
        /// The field.
        field: &'static str,
        /// Whether it was present (true) or missing (false).
        present: bool,
    },
    /// The base fee is not the one the parent implies.
    #[error("base fee {got} is not the expected {expected}")]
    BaseFee {
        /// From the parent.
        expected: String,
        /// The header's.
        got: String,
    },
    /// The parent is London but has no base fee, or its gas target is zero.
    #[error("parent's base fee cannot be computed from ({0})")]
    ParentBaseFee(&'static str),
    /// Blob gas used above the maximum of the fork.
    #[error("blob gas used {used} above the maximum {max}")]
    BlobGasUsedTooHigh {
        /// Blob gas used.
        used: u64,
        /// Max blobs times gas per blob.
        max: u64,
    },
    /// Blob gas used is not a whole number of blobs.
    #[error("blob gas used {0} is not a multiple of 131072")]
    BlobGasUsedNotWhole(u64),
    /// Excess blob gas is not the one the parent implies.
    #[error("excess blob gas {got} is not the expected {expected}")]
    ExcessBlobGas {
        /// From the parent.
        expected: u64,
        /// The header's.
        got: u64,
    },
    /// Cancun is active but the blob schedule has no entry for the header's time.
    #[error("no blob schedule entry at time {0}")]
    NoBlobSchedule(u64),
    /// A proof-of-work block after a proof-of-stake parent.
    #[error("proof-of-work block after a proof-of-stake parent")]
    TerminalBlock,
    /// A proof-of-stake header whose nonce is not zero.
    #[error("post-merge nonce is not zero")]
    Nonce,
    /// A proof-of-stake header whose uncles hash is not the empty list's.
    #[error("post-merge uncles hash is not the empty list's")]
    UnclesHash,
}

/// Why a body does not belong to its header under the chain's rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockRuleError {
    /// Roots and hashes of the body (transactions, uncles, withdrawals).
    #[error("{0}")]
    Body(#[from] BodyError),
    /// A proof-of-stake block with uncles, or a proof-of-work one with more than two.
    #[error("{0} uncles")]
    Uncles(usize),
    /// The transactions carry another number of blobs than `blob_gas_used` says.
    #[error("blob gas used {header} does not match the {blobs} blobs of the transactions")]
    BlobGasUsed {
        /// The header's blob gas used (0 when absent).
        header: u64,
        /// Blobs in the transactions.
        blobs: u64,
    },
    /// The encoded block is larger than the Osaka cap.
    #[error("block of {0} bytes above the 8 MiB cap")]
    TooLarge(usize),
}

/// Checks `header` against `parent` under `cfg`.
pub fn check_header(
    cfg: &ChainConfig,
    parent: &Header,
    header: &Header,
) -> Result<(), HeaderError> {
    if header.parent_hash != parent.hash() {
        return Err(HeaderError::ParentHash);
    }
    if Some(header.number) != parent.number.checked_add(1) {
        return Err(HeaderError::Number {
            parent: parent.number,
            got: header.number,
        });
    }
    if header.extra_data.len() > MAX_EXTRA_DATA_BYTES {
        return Err(HeaderError::ExtraData(header.extra_data.len()));
    }
    if header.timestamp <= parent.timestamp {
        return Err(HeaderError::Timestamp {
            parent: parent.timestamp,
            got: header.timestamp,
        });
    }
    let pos = header.difficulty.is_zero();
    if parent.difficulty.is_zero() && !pos {
        return Err(HeaderError::TerminalBlock);
    }
    if pos {
        if header.nonce != [0; 8] {
            return Err(HeaderError::Nonce);
        }
        if header.ommers_hash != EMPTY_UNCLES_HASH {
            return Err(HeaderError::UnclesHash);
        }
    }
    if header.gas_limit > MAX_GAS_LIMIT {
        return Err(HeaderError::GasLimitTooHigh(header.gas_limit));
    }
    if header.gas_used > header.gas_limit {
        return Err(HeaderError::GasUsed {
            used: header.gas_used,
            limit: header.gas_limit,
        });
    }
    check_gas_limit_and_base_fee(cfg, parent, header)?;
    check_fork_fields(cfg, header)?;
    if cfg.time_active(TimeFork::Cancun, header.number, header.timestamp) {
        check_blob_gas(cfg, parent, header)?;
    }
    Ok(())
}

/// Gas limit bounds and, from London, the EIP-1559 base fee.
fn check_gas_limit_and_base_fee(
    cfg: &ChainConfig,
    parent: &Header,
    header: &Header,
) -> Result<(), HeaderError> {
    if !cfg.is_london(header.number) {
        if header.base_fee_per_gas.is_some() {
            return Err(HeaderError::ForkField {
                field: "base fee",
                present: true,
            });
        }
        return check_gas_limit(parent.gas_limit, header.gas_limit);
    }
    let parent_limit = if cfg.is_london(parent.number) {
        parent.gas_limit
    } else {
        parent.gas_limit.saturating_mul(ELASTICITY_MULTIPLIER)
    };
    check_gas_limit(parent_limit, header.gas_limit)?;
    let Some(got) = header.base_fee_per_gas else {
        return Err(HeaderError::ForkField {
            field: "base fee",
            present: false,
        });
    };
    let expected = calc_base_fee(cfg, parent)?;
    if got != expected {
        return Err(HeaderError::BaseFee {
            expected: decimal(&expected),
            got: decimal(&got),
        });
    }
    Ok(())
}

/// `misc.VerifyGaslimit`: |limit - parent| < parent/1024 and limit ≥ 5000.
pub fn check_gas_limit(parent: u64, limit: u64) -> Result<(), HeaderError> {
    let bound = parent / GAS_LIMIT_BOUND_DIVISOR;
    if parent.abs_diff(limit) >= bound {
        return Err(HeaderError::GasLimitBound {
            parent,
            got: limit,
            bound,
        });
    }
    if limit < MIN_GAS_LIMIT {
        return Err(HeaderError::GasLimitTooLow(limit));
    }
    Ok(())
}

/// `eip1559.CalcBaseFee`: the base fee of the child of `parent`.
pub fn calc_base_fee(cfg: &ChainConfig, parent: &Header) -> Result<U256, HeaderError> {
    if !cfg.is_london(parent.number) {
        return Ok(U256::from_u64(INITIAL_BASE_FEE_WEI));
    }
    let Some(parent_fee) = parent.base_fee_per_gas else {
        return Err(HeaderError::ParentBaseFee("no base fee"));
    };
    let target = parent.gas_limit / ELASTICITY_MULTIPLIER;
    if parent.gas_used == target {
        return Ok(parent_fee);
    }
    if target == 0 {
        return Err(HeaderError::ParentBaseFee("a zero gas target"));
    }
    let fee = wide(&parent_fee);
    let delta = |d: u64| {
        fee.saturating_mul(U512::from(d))
            / U512::from(target)
            / U512::from(BASE_FEE_CHANGE_DENOMINATOR)
    };
    let next = if parent.gas_used > target {
        let step = delta(parent.gas_used - target).max(U512::from(1u8));
        fee.saturating_add(step)
    } else {
        fee.saturating_sub(delta(target - parent.gas_used))
    };
    // Above 2^256 no header can carry it: report the mismatch with the largest value.
    Ok(narrow(&next).unwrap_or(U256([0xff; 32])))
}

/// The fields each fork adds must be present from it on and absent before it.
fn check_fork_fields(cfg: &ChainConfig, h: &Header) -> Result<(), HeaderError> {
    let (n, t) = (h.number, h.timestamp);
    let shanghai = cfg.time_active(TimeFork::Shanghai, n, t);
    let cancun = cfg.time_active(TimeFork::Cancun, n, t);
    let prague = cfg.time_active(TimeFork::Prague, n, t);
    let amsterdam = cfg.time_active(TimeFork::Amsterdam, n, t);
    let fields = [
        ("withdrawals root", shanghai, h.withdrawals_root.is_some()),
        ("blob gas used", cancun, h.blob_gas_used.is_some()),
        ("excess blob gas", cancun, h.excess_blob_gas.is_some()),
        (
            "parent beacon root",
            cancun,
            h.parent_beacon_block_root.is_some(),
        ),
        ("requests hash", prague, h.requests_hash.is_some()),
        (
            "block access list hash",
            amsterdam,
            h.block_access_list_hash.is_some(),
        ),
        ("slot number", amsterdam, h.slot_number.is_some()),
    ];
    for (field, active, present) in fields {
        if active != present {
            return Err(HeaderError::ForkField { field, present });
        }
    }
    Ok(())
}

/// `eip4844.VerifyEIP4844Header`: blob gas used within the fork's maximum, a whole number
/// of blobs, and the excess blob gas the parent implies.
fn check_blob_gas(cfg: &ChainConfig, parent: &Header, h: &Header) -> Result<(), HeaderError> {
    let params = cfg
        .blob_params_at(h.timestamp)
        .ok_or(HeaderError::NoBlobSchedule(h.timestamp))?;
    let used = h.blob_gas_used.unwrap_or(0);
    let max = params.max.saturating_mul(BLOB_GAS_PER_BLOB);
    if used > max {
        return Err(HeaderError::BlobGasUsedTooHigh { used, max });
    }
    if !used.is_multiple_of(BLOB_GAS_PER_BLOB) {
        return Err(HeaderError::BlobGasUsedNotWhole(used));
    }
    let london = cfg
        .block(crate::eth::chainconfig::BlockFork::London)
        .unwrap_or(0);
    let osaka = cfg.time_active(TimeFork::Osaka, london, h.timestamp);
    let expected = calc_excess_blob_gas(osaka, &params, parent);
    let got = h.excess_blob_gas.unwrap_or(0);
    if got != expected {
        return Err(HeaderError::ExcessBlobGas { expected, got });
    }
    Ok(())
}

/// `eip4844.calcExcessBlobGas`: the excess blob gas of the child of `parent` under `params`,
/// with the EIP-7918 reserve price from Osaka. go-ethereum's 64-bit wrap-arounds are kept.
pub fn calc_excess_blob_gas(osaka: bool, params: &BlobParams, parent: &Header) -> u64 {
    let (parent_excess, parent_used) = match parent.excess_blob_gas {
        Some(e) => (e, parent.blob_gas_used.unwrap_or(0)),
        None => (0, 0),
    };
    let excess = parent_excess.wrapping_add(parent_used);
    let target_gas = params.target.wrapping_mul(BLOB_GAS_PER_BLOB);
    if excess < target_gas {
        return 0;
    }
    if osaka && params.max > 0 {
        let base_fee = wide(&parent.base_fee_per_gas.unwrap_or_default());
        let reserve = U512::from(BLOB_BASE_COST).saturating_mul(base_fee);
        let price = fake_exponential(
            U512::from(MIN_BLOB_GAS_PRICE_WEI),
            U512::from(parent_excess),
            U512::from(params.update_fraction),
        )
        .saturating_mul(U512::from(BLOB_GAS_PER_BLOB));
        if reserve > price {
            let scaled =
                parent_used.wrapping_mul(params.max.wrapping_sub(params.target)) / params.max;
            return parent_excess.wrapping_add(scaled);
        }
    }
    excess - target_gas
}

/// `eip4844.fakeExponential`: factor * e^(numerator/denominator), by its Taylor series.
/// Saturates at 2^512-1, far above any price it is compared with.
fn fake_exponential(factor: U512, numerator: U512, denominator: U512) -> U512 {
    if denominator.is_zero() {
        return U512::ZERO;
    }
    let mut output = U512::ZERO;
    let mut accum = factor.saturating_mul(denominator);
    let mut i = 1u64;
    while !accum.is_zero() {
        output = output.saturating_add(accum);
        let Some(next) = accum.checked_mul(numerator) else {
            return U512::MAX;
        };
        accum = next / denominator / U512::from(i);
        i += 1;
    }
    output / denominator
}

/// Checks `body` against `header` beyond its roots: uncles allowed by the consensus kind,
/// and blobs of the transactions matching `blob_gas_used` (`BlockValidator.ValidateBody`).
pub fn check_body(header: &Header, body: &BlockBody) -> Result<(), BlockRuleError> {
    let max_uncles = if header.difficulty.is_zero() {
        0
    } else {
        MAX_UNCLES
    };
    if body.uncles.len() > max_uncles {
        return Err(BlockRuleError::Uncles(body.uncles.len()));
    }
    validate_body(header, body)?;
    let blobs: u64 = body
        .transactions
        .iter()
        .map(|tx| match tx {
            Transaction::Eip4844(t) => t.blob_versioned_hashes.len() as u64,
            _ => 0,
        })
        .sum();
    let ok = match header.blob_gas_used {
        Some(used) => blobs == used / BLOB_GAS_PER_BLOB,
        None => blobs == 0,
    };
    if !ok {
        return Err(BlockRuleError::BlobGasUsed {
            header: header.blob_gas_used.unwrap_or(0),
            blobs,
        });
    }
    Ok(())
}

/// EIP-7934: from Osaka an RLP-encoded block is at most 8 MiB.
pub fn check_block_size(
    cfg: &ChainConfig,
    header: &Header,
    encoded_len: usize,
) -> Result<(), BlockRuleError> {
    if cfg.time_active(TimeFork::Osaka, header.number, header.timestamp)
        && encoded_len > MAX_BLOCK_BYTES
    {
        return Err(BlockRuleError::TooLarge(encoded_len));
    }
    Ok(())
}

/// Widens a 256-bit value.
fn wide(v: &U256) -> U512 {
    let mut b = [0u8; 64];
    if let Some(low) = b.get_mut(32..) {
        low.copy_from_slice(&v.0);
    }
    U512::from_be_bytes(b)
}

/// Narrows a 512-bit value, `None` above 2^256-1.
fn narrow(v: &U512) -> Option<U256> {
    let b: [u8; 64] = v.to_be_bytes();
    let (high, low) = b.split_at(32);
    if high.iter().any(|&x| x != 0) {
        return None;
    }
    U256::from_be_slice(low)
}

/// A 256-bit value in decimal, for error messages.
fn decimal(v: &U256) -> String {
    wide(v).to_string()
}

#[cfg(test)]
mod tests;
