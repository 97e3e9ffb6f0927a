//! The go-ethereum genesis file (`geth init` input) read into a [`Genesis`] and its
//! allocation, with go-ethereum's number and hex conventions (v1.17.10
//! `core/gen_genesis.go`, `core/types/gen_account.go`, `params/config.go`):
//! - top-level integers (`nonce`, `gasLimit`, `difficulty`, …) and account balances and
//!   nonces are hex (`"0x1f"`) or decimal (`"31"`, `31`) (`math.HexOrDecimal64/256`);
//! - `config` integers (chain id, fork blocks and times, terminal difficulty) are plain
//!   JSON numbers, of any size for the `*big.Int` ones;
//! - bytes and hashes are `0x` hex; alloc addresses and storage slots may omit the `0x`,
//!   and storage slots and values may be shorter than 32 bytes (padded on the left).
//!
//! Unknown fields are ignored, as go-ethereum ignores them: its configs keep growing.

use std::collections::{BTreeMap, HashMap};

use paxeer_p2p_core::eth::chainconfig::{
    BlobParams, BlobSchedule, BlockFork, ChainConfig, TimeFork,
};
use paxeer_p2p_core::eth::genesis::Genesis;
use paxeer_p2p_core::eth::{Address, B256, U256};
use serde::Deserialize;
use serde_json::value::RawValue;

/// One account of the genesis allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenesisAccount {
    /// Nonce.
    pub nonce: u64,
    /// Balance, wei.
    pub balance: U256,
    /// Contract code.
    pub code: Vec<u8>,
    /// Storage slots (slot, value), values as given (zero values included).
    pub storage: Vec<(B256, B256)>,
}

/// A parsed genesis file: the header-relevant part and the allocation by address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenesisFile {
    /// Everything but the allocation.
    pub genesis: Genesis,
    /// The allocation, sorted by address.
    pub alloc: BTreeMap<Address, GenesisAccount>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawGenesis<'a> {
    #[serde(borrow)]
    config: Option<HashMap<String, &'a RawValue>>,
    #[serde(borrow)]
    nonce: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    extra_data: Option<String>,
    #[serde(borrow)]
    gas_limit: Option<&'a RawValue>,
    #[serde(borrow)]
    difficulty: Option<&'a RawValue>,
    mix_hash: Option<String>,
    coinbase: Option<String>,
    #[serde(borrow)]
    alloc: Option<HashMap<String, RawAccount<'a>>>,
    #[serde(borrow)]
    number: Option<&'a RawValue>,
    #[serde(borrow)]
    gas_used: Option<&'a RawValue>,
    parent_hash: Option<String>,
    #[serde(borrow)]
    base_fee_per_gas: Option<&'a RawValue>,
    #[serde(borrow)]
    excess_blob_gas: Option<&'a RawValue>,
    #[serde(borrow)]
    blob_gas_used: Option<&'a RawValue>,
    #[serde(borrow)]
    slot_number: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawAccount<'a> {
    code: Option<String>,
    storage: Option<HashMap<String, String>>,
    #[serde(borrow)]
    balance: Option<&'a RawValue>,
    #[serde(borrow)]
    nonce: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBlobParams {
    target: u64,
    max: u64,
    base_fee_update_fraction: u64,
}

/// Parses a go-ethereum genesis JSON document.
pub fn parse_genesis(text: &str) -> Result<GenesisFile, String> {
    let raw: RawGenesis<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let config = raw
        .config
        .ok_or("missing `config` (a genesis without chain config)")?;
    let (config, ethash) = chain_config(&config)?;
    let opt64 = |v: Option<&RawValue>, name: &str| -> Result<Option<u64>, String> {
        v.map(|v| hex_or_decimal_u64(v).map_err(|e| format!("{name}: {e}")))
            .transpose()
    };
    let opt256 = |v: Option<&RawValue>, name: &str| -> Result<Option<U256>, String> {
        v.map(|v| hex_or_decimal_u256(v).map_err(|e| format!("{name}: {e}")))
            .transpose()
    };
    let gas_limit = opt64(raw.gas_limit, "gasLimit")?.ok_or("missing required `gasLimit`")?;
    let difficulty =
        opt256(raw.difficulty, "difficulty")?.ok_or("missing required `difficulty`")?;
    let raw_alloc = raw.alloc.ok_or("missing required `alloc`")?;
    let genesis = Genesis {
        config,
        ethash,
        nonce: opt64(raw.nonce, "nonce")?.unwrap_or(0),
        timestamp: opt64(raw.timestamp, "timestamp")?.unwrap_or(0),
        extra_data: raw
            .extra_data
            .map(|s| prefixed_hex(&s).map_err(|e| format!("extraData: {e}")))
            .transpose()?
            .unwrap_or_default(),
        gas_limit,
        difficulty: Some(difficulty),
        mix_hash: opt_fixed(raw.mix_hash.as_deref(), "mixHash")?.unwrap_or([0; 32]),
        coinbase: opt_fixed(raw.coinbase.as_deref(), "coinbase")?.unwrap_or([0; 20]),
        number: opt64(raw.number, "number")?.unwrap_or(0),
        gas_used: opt64(raw.gas_used, "gasUsed")?.unwrap_or(0),
        parent_hash: opt_fixed(raw.parent_hash.as_deref(), "parentHash")?.unwrap_or([0; 32]),
        base_fee: opt256(raw.base_fee_per_gas, "baseFeePerGas")?,
        excess_blob_gas: opt64(raw.excess_blob_gas, "excessBlobGas")?,
        blob_gas_used: opt64(raw.blob_gas_used, "blobGasUsed")?,
        slot_number: opt64(raw.slot_number, "slotNumber")?,
    };
    let mut alloc = BTreeMap::new();
    for (key, acc) in raw_alloc {
        let address: Address = fixed(key.strip_prefix("0x").unwrap_or(&key))
            .map_err(|e| format!("alloc address {key}: {e}"))?;
        let account = account(&acc).map_err(|e| format!("alloc {key}: {e}"))?;
        if alloc.insert(address, account).is_some() {
            return Err(format!("alloc lists {key} twice"));
        }
    }
    Ok(GenesisFile { genesis, alloc })
}

/// The `config` object: fork blocks and times, terminal difficulty, blob schedule. Returns
/// the config and whether `ethash` is present.
fn chain_config(c: &HashMap<String, &RawValue>) -> Result<(ChainConfig, bool), String> {
    let present = |k: &str| c.get(k).copied().filter(|v| v.get() != "null");
    let chain_id = present("chainId").ok_or("config: missing `chainId`")?;
    let chain_id = json_uint(chain_id)
        .and_then(|v| v.to_u64().ok_or_else(|| "above 2^64-1".to_string()))
        .map_err(|e| format!("config.chainId: {e}"))?;
    let mut block_forks = Vec::new();
    for f in BlockFork::ALL {
        let at = present(f.json_key())
            .map(|v| {
                json_uint(v)
                    .and_then(|n| n.to_u64().ok_or_else(|| "above 2^64-1".to_string()))
                    .map_err(|e| format!("config.{}: {e}", f.json_key()))
            })
            .transpose()?;
        block_forks.push((f, at));
    }
    let mut time_forks = Vec::new();
    for f in TimeFork::ALL {
        let at = present(f.json_key())
            .map(|v| {
                serde_json::from_str::<u64>(v.get())
                    .map_err(|e| format!("config.{}: {e}", f.json_key()))
            })
            .transpose()?;
        time_forks.push((f, at));
    }
    let terminal_total_difficulty = present("terminalTotalDifficulty")
        .map(|v| json_uint(v).map_err(|e| format!("config.terminalTotalDifficulty: {e}")))
        .transpose()?;
    let mut blob_schedule = BlobSchedule::default();
    if let Some(v) = present("blobSchedule") {
        let s: HashMap<String, Option<RawBlobParams>> =
            serde_json::from_str(v.get()).map_err(|e| format!("config.blobSchedule: {e}"))?;
        let get = |k: &str| -> Result<Option<BlobParams>, String> {
            match s.get(k) {
                Some(Some(p)) => {
                    if p.max == 0 || p.base_fee_update_fraction == 0 || p.target > p.max {
                        return Err(format!(
                            "config.blobSchedule.{k}: needs 0 < target <= max and a non-zero update fraction"
                        ));
                    }
                    Ok(Some(BlobParams {
                        target: p.target,
                        max: p.max,
                        update_fraction: p.base_fee_update_fraction,
                    }))
                }
                _ => Ok(None),
            }
        };
        blob_schedule.cancun = get("cancun")?;
        blob_schedule.prague = get("prague")?;
        for (i, slot) in blob_schedule.bpo.iter_mut().enumerate() {
            *slot = get(&format!("bpo{}", i + 1))?;
        }
    }
    if present("enableUBTAtGenesis").is_some_and(|v| v.get() == "true") {
        return Err(
            "config.enableUBTAtGenesis: binary-trie genesis states are not supported".into(),
        );
    }
    let config = ChainConfig {
        chain_id,
        block_forks,
        time_forks,
        terminal_total_difficulty,
        blob_schedule,
    };
    Ok((config, present("ethash").is_some()))
}

fn account(a: &RawAccount<'_>) -> Result<GenesisAccount, String> {
    let balance = a.balance.ok_or("missing required `balance`")?;
    let mut storage = Vec::new();
    for (k, v) in a.storage.iter().flatten() {
        storage.push((
            storage_word(k).map_err(|e| format!("storage slot {k}: {e}"))?,
            storage_word(v).map_err(|e| format!("storage value {v}: {e}"))?,
        ));
    }
    storage.sort();
    storage.dedup_by(|a, b| a.0 == b.0);
    Ok(GenesisAccount {
        nonce: a
            .nonce
            .map(|v| hex_or_decimal_u64(v).map_err(|e| format!("nonce: {e}")))
            .transpose()?
            .unwrap_or(0),
        balance: hex_or_decimal_u256(balance).map_err(|e| format!("balance: {e}"))?,
        code: a
            .code
            .as_deref()
            .map(|c| prefixed_hex(c).map_err(|e| format!("code: {e}")))
            .transpose()?
            .unwrap_or_default(),
        storage,
    })
}

/// A JSON value that is a string or a bare number: the text of either.
fn number_text(v: &RawValue) -> Result<String, String> {
    let t = v.get();
    if t.starts_with('"') {
        serde_json::from_str::<String>(t).map_err(|e| e.to_string())
    } else {
        Ok(t.to_string())
    }
}

/// `math.HexOrDecimal64`: `0x` hex or decimal, quoted or not; empty is 0.
fn hex_or_decimal_u64(v: &RawValue) -> Result<u64, String> {
    let t = number_text(v)?;
    if t.is_empty() {
        return Ok(0);
    }
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).map_err(|_| format!("bad hex integer {t:?}")),
        None => t
            .parse::<u64>()
            .map_err(|_| format!("bad decimal integer {t:?}")),
    }
}

/// `math.HexOrDecimal256`: `0x` hex or decimal, quoted or not, at most 256 bits.
fn hex_or_decimal_u256(v: &RawValue) -> Result<U256, String> {
    let t = number_text(v)?;
    if t.is_empty() {
        return Ok(U256::ZERO);
    }
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => parse_radix(h, 16),
        None => parse_radix(&t, 10),
    }
    .ok_or_else(|| format!("bad 256-bit integer {t:?}"))
}

/// A `*big.Int` in `config`: a plain JSON integer of any size (here at most 256 bits).
fn json_uint(v: &RawValue) -> Result<U256, String> {
    let t = v.get();
    parse_radix(t, 10).ok_or_else(|| format!("not a non-negative integer: {t}"))
}

/// Parses digits in `radix` (10 or 16) into a 256-bit value; `None` on a bad digit,
/// emptiness or overflow.
fn parse_radix(digits: &str, radix: u64) -> Option<U256> {
    if digits.is_empty() || digits.len() > 80 {
        return None;
    }
    let mut acc = ruint_u256(0);
    for c in digits.chars() {
        let d = c.to_digit(radix as u32)?;
        acc = acc
            .checked_mul(ruint_u256(radix))?
            .checked_add(ruint_u256(u64::from(d)))?;
    }
    Some(U256(acc.to_be_bytes::<32>()))
}

fn ruint_u256(v: u64) -> ruint::aliases::U256 {
    ruint::aliases::U256::from(v)
}

/// `hexutil.Bytes`: `0x`-prefixed, even-length hex.
fn prefixed_hex(s: &str) -> Result<Vec<u8>, String> {
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or("hex string without 0x prefix")?;
    hex::decode(h).map_err(|e| e.to_string())
}

/// A fixed-size `0x`-prefixed hex value (hash, address).
fn opt_fixed<const N: usize>(s: Option<&str>, name: &str) -> Result<Option<[u8; N]>, String> {
    s.map(|s| {
        let h = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .ok_or_else(|| format!("{name}: hex string without 0x prefix"))?;
        fixed(h).map_err(|e| format!("{name}: {e}"))
    })
    .transpose()
}

/// Exactly `N` bytes of unprefixed hex.
fn fixed<const N: usize>(h: &str) -> Result<[u8; N], String> {
    let b = hex::decode(h).map_err(|e| e.to_string())?;
    let len = b.len();
    b.try_into()
        .map_err(|_| format!("{len} bytes where {N} are needed"))
}

/// A storage slot or value: up to 64 hex digits, `0x` optional, padded on the left.
fn storage_word(s: &str) -> Result<B256, String> {
    let h = s.strip_prefix("0x").unwrap_or(s);
    if h.len() > 64 {
        return Err("more than 64 hex digits".into());
    }
    let b = hex::decode(h).map_err(|e| e.to_string())?;
    let mut out = [0u8; 32];
    let start = 32 - b.len();
    if let Some(tail) = out.get_mut(start..) {
        tail.copy_from_slice(&b);
    }
    Ok(out)
}
