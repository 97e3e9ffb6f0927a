//! Stateless transaction checks, in the order of go-ethereum `core/txpool/validation.go`
//! `ValidateTransaction`: type enabled by the fork, size, init code, gas caps, fee sanity,
//! chain id and signature, intrinsic gas (`core/state_transition.go` `IntrinsicGas`), the
//! EIP-7623 calldata floor (`FloorDataGas`), the minimum tip, then the blob sidecar and
//! the set-code authorization list. The result carries what the stateful rules need.

use paxeer_p2p_core::eth::app::{TxRejectReason as R, TxRejection};
use paxeer_p2p_core::eth::tx::{AccessListItem, PooledTransaction, Transaction, TxType};
use paxeer_p2p_core::eth::Address;
use ruint::aliases::U256 as Wei;

use super::env::PoolEnv;

/// go-ethereum `legacypool.txSlotSize`: the unit in which pool capacity is counted.
pub const TX_SLOT_BYTES: usize = 32 * 1024;
/// go-ethereum `legacypool.txMaxSize` (4 slots): largest non-blob transaction accepted.
pub const TX_MAX_BYTES: usize = 4 * TX_SLOT_BYTES;
/// go-ethereum `blobpool.txMaxSize`: largest blob transaction, sidecar included.
pub const BLOB_TX_MAX_BYTES: usize = 1024 * 1024;
/// go-ethereum `legacypool.DefaultConfig.PriceLimit`: minimum tip, wei per gas.
pub const MIN_TIP_WEI: u64 = 1;
/// go-ethereum `params.BlobTxMinBlobGasprice`: minimum blob fee cap, wei per blob gas.
pub const MIN_BLOB_FEE_WEI: u64 = 1;
/// go-ethereum `params.BlobTxBlobGasPerBlob`: blob gas per blob.
pub const BLOB_GAS_PER_BLOB: u64 = 1 << 17;
/// go-ethereum `params.BlobTxMaxBlobs` (EIP-7594): blobs per transaction from Osaka.
pub const MAX_BLOBS_PER_TX_OSAKA: usize = 6;
/// Blobs per transaction before Osaka: the block maximum (go-ethereum
/// `params.DefaultPragueBlobConfig.Max` 9; Cancun's was 6).
pub const MAX_BLOBS_PER_TX_PRAGUE: usize = 9;
/// Blobs per transaction under Cancun (`params.DefaultCancunBlobConfig.Max`).
pub const MAX_BLOBS_PER_TX_CANCUN: usize = 6;
/// go-ethereum `params.MaxTxGas` (EIP-7825): per-transaction gas cap from Osaka.
pub const MAX_TX_GAS_OSAKA: u64 = 1 << 24;
/// go-ethereum `params.MaxInitCodeSize` (EIP-3860, 2 × 24576 bytes).
pub const MAX_INIT_CODE_BYTES: usize = 49_152;
/// go-ethereum `params.TxGas`.
pub const TX_GAS: u64 = 21_000;
/// go-ethereum `params.TxGasContractCreation` (Homestead on).
pub const TX_GAS_CREATE: u64 = 53_000;
/// go-ethereum `params.TxDataZeroGas`.
pub const ZERO_BYTE_GAS: u64 = 4;
/// go-ethereum `params.TxDataNonZeroGasEIP2028` (Istanbul).
pub const NONZERO_BYTE_GAS: u64 = 16;
/// go-ethereum `params.TxDataNonZeroGasFrontier` (before Istanbul).
pub const NONZERO_BYTE_GAS_FRONTIER: u64 = 68;
/// go-ethereum `params.InitCodeWordGas` (EIP-3860).
pub const INIT_CODE_WORD_GAS: u64 = 2;
/// go-ethereum `params.TxAccessListAddressGas` (EIP-2930).
pub const ACCESS_LIST_ADDRESS_GAS: u64 = 2_400;
/// go-ethereum `params.TxAccessListStorageKeyGas` (EIP-2930).
pub const ACCESS_LIST_KEY_GAS: u64 = 1_900;
/// go-ethereum `params.CallNewAccountGas`, charged per EIP-7702 authorization.
pub const AUTHORIZATION_GAS: u64 = 25_000;
/// go-ethereum `params.TxTokenPerNonZeroByte` (EIP-7623).
pub const TOKENS_PER_NONZERO_BYTE: u64 = 4;
/// go-ethereum `params.TxCostFloorPerToken` (EIP-7623).
pub const FLOOR_GAS_PER_TOKEN: u64 = 10;

/// A transaction that passed the stateless checks, with what the pool orders it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Recovered sender.
    pub sender: Address,
    /// Sender nonce.
    pub nonce: u64,
    /// Fee cap (gas price for legacy and access-list transactions), wei per gas.
    pub fee_cap: Wei,
    /// Tip cap (gas price for legacy and access-list transactions), wei per gas.
    pub tip: Wei,
    /// Blob fee cap, wei per blob gas (blob transactions only).
    pub blob_fee_cap: Option<Wei>,
    /// The most the transaction can spend: value + gas × fee cap + blob gas × blob fee
    /// cap (go-ethereum `Transaction.Cost`).
    pub cost: Wei,
    /// Network size in bytes (sidecar included).
    pub size: usize,
}

impl Checked {
    /// Whether it is a blob transaction.
    pub fn is_blob(&self) -> bool {
        self.blob_fee_cap.is_some()
    }

    /// Pool slots it takes (go-ethereum `numSlots`: one per started 32 KiB).
    pub fn slots(&self) -> usize {
        self.size.div_ceil(TX_SLOT_BYTES).max(1)
    }
}

/// The fields every type shares, read uniformly.
struct View<'a> {
    nonce: u64,
    gas: u64,
    to: Option<Address>,
    value: Wei,
    input: &'a [u8],
    access_list: &'a [AccessListItem],
    authorizations: usize,
    fee_cap: Wei,
    tip: Wei,
}

fn wei(v: &paxeer_p2p_core::eth::U256) -> Wei {
    Wei::from_be_bytes(v.0)
}

fn view(tx: &Transaction) -> View<'_> {
    match tx {
        Transaction::Legacy(t) => View {
            nonce: t.nonce,
            gas: t.gas_limit,
            to: t.to,
            value: wei(&t.value),
            input: &t.input,
            access_list: &[],
            authorizations: 0,
            fee_cap: wei(&t.gas_price),
            tip: wei(&t.gas_price),
        },
        Transaction::Eip2930(t) => View {
            nonce: t.nonce,
            gas: t.gas_limit,
            to: t.to,
            value: wei(&t.value),
            input: &t.input,
            access_list: &t.access_list,
            authorizations: 0,
            fee_cap: wei(&t.gas_price),
            tip: wei(&t.gas_price),
        },
        Transaction::Eip1559(t) => View {
            nonce: t.nonce,
            gas: t.gas_limit,
            to: t.to,
            value: wei(&t.value),
            input: &t.input,
            access_list: &t.access_list,
            authorizations: 0,
            fee_cap: wei(&t.max_fee_per_gas),
            tip: wei(&t.max_priority_fee_per_gas),
        },
        Transaction::Eip4844(t) => View {
            nonce: t.nonce,
            gas: t.gas_limit,
            to: Some(t.to),
            value: wei(&t.value),
            input: &t.input,
            access_list: &t.access_list,
            authorizations: 0,
            fee_cap: wei(&t.max_fee_per_gas),
            tip: wei(&t.max_priority_fee_per_gas),
        },
        Transaction::Eip7702(t) => View {
            nonce: t.nonce,
            gas: t.gas_limit,
            to: Some(t.to),
            value: wei(&t.value),
            input: &t.input,
            access_list: &t.access_list,
            authorizations: t.authorization_list.len(),
            fee_cap: wei(&t.max_fee_per_gas),
            tip: wei(&t.max_priority_fee_per_gas),
        },
    }
}

fn reject(reason: R, detail: impl Into<String>) -> TxRejection {
    TxRejection::new(reason, detail)
}

/// Intrinsic gas (go-ethereum `IntrinsicGas` before Amsterdam): base, calldata, init code
/// words, access list, authorizations. `None` on u64 overflow (no gas limit can pay it).
pub fn intrinsic_gas(
    input: &[u8],
    create: bool,
    access_list: &[AccessListItem],
    authorizations: usize,
    env: &PoolEnv,
) -> Option<u64> {
    let mut gas = if create { TX_GAS_CREATE } else { TX_GAS };
    let auths = u64::try_from(authorizations).ok()?;
    gas = gas.checked_add(auths.checked_mul(AUTHORIZATION_GAS)?)?;
    let zeros = u64::try_from(input.iter().filter(|b| **b == 0).count()).ok()?;
    let len = u64::try_from(input.len()).ok()?;
    let nonzero_gas = if env.forks.istanbul {
        NONZERO_BYTE_GAS
    } else {
        NONZERO_BYTE_GAS_FRONTIER
    };
    gas = gas.checked_add((len - zeros).checked_mul(nonzero_gas)?)?;
    gas = gas.checked_add(zeros.checked_mul(ZERO_BYTE_GAS)?)?;
    if create && env.forks.shanghai {
        gas = gas.checked_add(len.div_ceil(32).checked_mul(INIT_CODE_WORD_GAS)?)?;
    }
    let addresses = u64::try_from(access_list.len()).ok()?;
    let keys = access_list.iter().try_fold(0u64, |n, i| {
        n.checked_add(u64::try_from(i.storage_keys.len()).ok()?)
    })?;
    gas = gas.checked_add(addresses.checked_mul(ACCESS_LIST_ADDRESS_GAS)?)?;
    gas.checked_add(keys.checked_mul(ACCESS_LIST_KEY_GAS)?)
}

/// The EIP-7623 floor: 21000 + 10 per token, a token per zero byte and 4 per non-zero one.
pub fn floor_data_gas(input: &[u8]) -> Option<u64> {
    let zeros = u64::try_from(input.iter().filter(|b| **b == 0).count()).ok()?;
    let len = u64::try_from(input.len()).ok()?;
    let tokens = zeros.checked_add((len - zeros).checked_mul(TOKENS_PER_NONZERO_BYTE)?)?;
    TX_GAS.checked_add(tokens.checked_mul(FLOOR_GAS_PER_TOKEN)?)
}

/// The stateless checks. `Err` carries the reason ([`TxRejection::verdict`] decides
/// whether the sender is at fault).
pub fn check(pooled: &PooledTransaction, env: &PoolEnv) -> Result<Checked, TxRejection> {
    let tx = pooled.transaction();
    let ty = tx.tx_type();
    let enabled = match ty {
        TxType::Legacy => true,
        TxType::Eip2930 => env.forks.berlin,
        TxType::Eip1559 => env.forks.london,
        TxType::Eip4844 => env.forks.cancun,
        TxType::Eip7702 => env.forks.prague,
    };
    if !enabled {
        return Err(reject(
            R::TxType,
            format!("type {} not enabled", ty.as_u8()),
        ));
    }
    let size = pooled.encoded_len();
    let max_size = if ty == TxType::Eip4844 {
        BLOB_TX_MAX_BYTES
    } else {
        TX_MAX_BYTES
    };
    if size > max_size {
        return Err(reject(
            R::Oversized,
            format!("{size} bytes, limit {max_size}"),
        ));
    }
    let v = view(&tx);
    if v.to.is_none() && env.forks.shanghai && v.input.len() > MAX_INIT_CODE_BYTES {
        return Err(reject(
            R::InitCodeSize,
            format!("{} bytes, limit {MAX_INIT_CODE_BYTES}", v.input.len()),
        ));
    }
    if env.forks.osaka && v.gas > MAX_TX_GAS_OSAKA {
        return Err(reject(
            R::GasLimit,
            format!("gas {} above {MAX_TX_GAS_OSAKA}", v.gas),
        ));
    }
    if v.gas > env.gas_limit {
        return Err(reject(
            R::GasLimit,
            format!("gas {} above block gas limit {}", v.gas, env.gas_limit),
        ));
    }
    if v.fee_cap < v.tip {
        return Err(reject(
            R::TipAboveFeeCap,
            format!("tip {} > fee cap {}", v.tip, v.fee_cap),
        ));
    }
    match tx.chain_id() {
        Some(id) if id != env.chain_id => {
            return Err(reject(
                R::ChainId,
                format!("chain id {id}, want {}", env.chain_id),
            ))
        }
        _ => {}
    }
    let sender = tx
        .recover_sender()
        .map_err(|e| reject(R::Signature, e.to_string()))?;
    if v.nonce == u64::MAX {
        return Err(reject(R::NonceMax, "nonce 2^64-1"));
    }
    let create = v.to.is_none();
    let intrinsic = intrinsic_gas(v.input, create, v.access_list, v.authorizations, env)
        .ok_or_else(|| reject(R::IntrinsicGas, "intrinsic gas overflows"))?;
    if v.gas < intrinsic {
        return Err(reject(
            R::IntrinsicGas,
            format!("gas {}, intrinsic {intrinsic}", v.gas),
        ));
    }
    if env.forks.prague {
        let floor =
            floor_data_gas(v.input).ok_or_else(|| reject(R::FloorDataGas, "floor overflows"))?;
        if v.gas < floor {
            return Err(reject(
                R::FloorDataGas,
                format!("gas {}, floor {floor}", v.gas),
            ));
        }
    }
    if v.tip < Wei::from(MIN_TIP_WEI) {
        return Err(reject(
            R::Underpriced,
            format!("tip {}, minimum {MIN_TIP_WEI}", v.tip),
        ));
    }
    // value + gas × fee cap (+ blob gas × blob fee cap), saturating: a cost beyond 2^256
    // is beyond any balance.
    let mut cost = v
        .fee_cap
        .saturating_mul(Wei::from(v.gas))
        .saturating_add(v.value);
    let mut blob_fee_cap = None;
    match (&tx, pooled) {
        (Transaction::Eip4844(t), _) => {
            let n = t.blob_versioned_hashes.len();
            let max = if env.forks.osaka {
                MAX_BLOBS_PER_TX_OSAKA
            } else if env.forks.prague {
                MAX_BLOBS_PER_TX_PRAGUE
            } else {
                MAX_BLOBS_PER_TX_CANCUN
            };
            if n == 0 || n > max {
                return Err(reject(
                    R::BlobCount,
                    format!("{n} blobs, 1..={max} allowed"),
                ));
            }
            let fee = wei(&t.max_fee_per_blob_gas);
            if fee < Wei::from(MIN_BLOB_FEE_WEI) {
                return Err(reject(R::Underpriced, format!("blob fee cap {fee}")));
            }
            pooled
                .check_sidecar()
                .map_err(|e| reject(R::BlobSidecar, e.to_string()))?;
            if env.forks.osaka {
                if let PooledTransaction::BlobWithSidecar { sidecar, .. } = pooled {
                    if sidecar.version != paxeer_p2p_core::eth::tx::SidecarVersion::CellProofs {
                        return Err(reject(R::BlobSidecar, "Osaka needs cell-proof sidecars"));
                    }
                }
            }
            let blob_gas = Wei::from(BLOB_GAS_PER_BLOB).saturating_mul(Wei::from(n));
            cost = cost.saturating_add(blob_gas.saturating_mul(fee));
            blob_fee_cap = Some(fee);
        }
        (Transaction::Eip7702(t), _) if t.authorization_list.is_empty() => {
            return Err(reject(
                R::EmptyAuthList,
                "set-code tx without authorizations",
            ));
        }
        _ => {}
    }
    Ok(Checked {
        sender,
        nonce: v.nonce,
        fee_cap: v.fee_cap,
        tip: v.tip,
        blob_fee_cap,
        cost,
        size,
    })
}
