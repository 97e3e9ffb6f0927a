//! Account state for the transaction pool: nonce and balance by address.
//!
//! The node executes no EVM, so it cannot compute state; it can *load* it. [`MemoryState`]
//! reads a go-ethereum state dump (`geth dump`, the `headstate.json` of go-ethereum's
//! `cmd/devp2p/internal/ethtest/testdata`):
//!
//! ```json
//! { "root": "7714…", "accounts": { "0xAbC…": { "balance": "140119521", "nonce": 0,
//!   "root": "0x…", "codeHash": "0x…", "code": "0x…", "storage": { … },
//!   "address": "0x…", "key": "0x…" } } }
//! ```
//!
//! Balances are decimal strings (go-ethereum's `big.Int` JSON), addresses are
//! checksummed hex; only `balance` and `nonce` are used, the other fields are ignored.
//!
//! Without a dump, [`MemoryState::unknown`] knows no balances: nonces start at 0 (as every
//! account's does in an empty state) and the pool skips its balance check instead of
//! refusing everything, see [`AccountState::balance`].

use std::collections::BTreeMap;
use std::path::Path;

use paxeer_p2p_core::eth::Address;
use ruint::aliases::U256 as Wei;
use serde::Deserialize;

/// Largest state dump read (go-ethereum's test chain dump is 257 KB; a mainnet dump would
/// not fit in a pool's memory anyway).
pub const MAX_STATE_FILE_BYTES: u64 = 1 << 30;

/// What the pool asks of the state.
pub trait AccountState: Send {
    /// The account's next nonce (0 for an account the state does not hold).
    fn nonce(&self, addr: &Address) -> u64;
    /// The account's balance, or `None` when no state was loaded at all. The pool then
    /// skips the balance check: without a pre-state every account would otherwise be
    /// empty and every transaction unaffordable.
    fn balance(&self, addr: &Address) -> Option<Wei>;
    /// A block included a transaction of `addr` with nonce `next - 1`: its nonce is now at
    /// least `next`. Balances are left as loaded (fees and transfers need execution).
    fn advance_nonce(&mut self, addr: &Address, next: u64);
}

/// One account of the state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountInfo {
    /// Next nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: Wei,
}

/// Account state held in memory: loaded from a dump, or empty with balances unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryState {
    accounts: BTreeMap<Address, AccountInfo>,
    /// False for [`MemoryState::unknown`]: balances are not known.
    balances_known: bool,
}

#[derive(Deserialize)]
struct DumpFile {
    #[serde(default)]
    accounts: BTreeMap<String, DumpAccount>,
}

#[derive(Deserialize)]
struct DumpAccount {
    #[serde(default)]
    balance: Option<String>,
    #[serde(default)]
    nonce: u64,
}

impl MemoryState {
    /// No state: nonces start at 0, balances are unknown (the pool skips balance checks).
    pub fn unknown() -> Self {
        Self::default()
    }

    /// A state holding exactly `accounts` (absent accounts have nonce 0 and no balance).
    pub fn from_accounts(accounts: impl IntoIterator<Item = (Address, AccountInfo)>) -> Self {
        Self {
            accounts: accounts.into_iter().collect(),
            balances_known: true,
        }
    }

    /// Whether balances are known (a state was loaded).
    pub fn has_balances(&self) -> bool {
        self.balances_known
    }

    /// Accounts held.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether no account is held.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The account at `addr`, if the state holds it.
    pub fn get(&self, addr: &Address) -> Option<&AccountInfo> {
        self.accounts.get(addr)
    }

    /// Reads a go-ethereum state dump from `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("prestate {}: {e}", path.display()))?;
        if meta.len() > MAX_STATE_FILE_BYTES {
            return Err(format!("prestate {} is too large", path.display()));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("prestate {}: {e}", path.display()))?;
        Self::parse_dump(&text).map_err(|e| format!("prestate {}: {e}", path.display()))
    }

    /// Parses a go-ethereum state dump (see the module documentation).
    pub fn parse_dump(text: &str) -> Result<Self, String> {
        let dump: DumpFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut accounts = BTreeMap::new();
        for (addr, acc) in dump.accounts {
            let address = parse_address(&addr)?;
            let balance = match acc.balance.as_deref() {
                None | Some("") => Wei::ZERO,
                Some(b) => parse_wei(b).map_err(|e| format!("account {addr}: {e}"))?,
            };
            accounts.insert(
                address,
                AccountInfo {
                    nonce: acc.nonce,
                    balance,
                },
            );
        }
        Ok(Self::from_accounts(accounts))
    }
}

impl AccountState for MemoryState {
    fn nonce(&self, addr: &Address) -> u64 {
        self.accounts.get(addr).map_or(0, |a| a.nonce)
    }

    fn balance(&self, addr: &Address) -> Option<Wei> {
        if !self.balances_known {
            return None;
        }
        Some(self.accounts.get(addr).map_or(Wei::ZERO, |a| a.balance))
    }

    fn advance_nonce(&mut self, addr: &Address, next: u64) {
        let acc = self.accounts.entry(*addr).or_default();
        acc.nonce = acc.nonce.max(next);
    }
}

/// A `0x`-prefixed (or bare) 20-byte hex address, any case.
fn parse_address(s: &str) -> Result<Address, String> {
    let hex_part = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(hex_part).map_err(|e| format!("address {s}: {e}"))?;
    Address::try_from(bytes.as_slice()).map_err(|_| format!("address {s}: not 20 bytes"))
}

/// A wei amount: decimal (go-ethereum's dump) or `0x` hex.
fn parse_wei(s: &str) -> Result<Wei, String> {
    let parsed = match s.strip_prefix("0x") {
        Some(h) => Wei::from_str_radix(h, 16),
        None => Wei::from_str_radix(s, 10),
    };
    parsed.map_err(|e| format!("balance {s}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_parse_balances_nonces_and_ignore_the_rest() {
        let text = r#"{"root":"77","accounts":{
            "0x00000961Ef480Eb55e80D19ad83579A64c007002":{"balance":"1000000001","nonce":3,
              "root":"0x00","codeHash":"0x00","code":"0x33","storage":{"0x01":"0x02"},
              "address":"0x00000961Ef480Eb55e80D19ad83579A64c007002","key":"0x5380"},
            "0x0000000000000000000000000000000000000001":{"balance":"0x10","nonce":0}}}"#;
        let s = MemoryState::parse_dump(text).unwrap();
        let a = parse_address("0x00000961ef480eb55e80d19ad83579a64c007002").unwrap();
        assert_eq!(s.nonce(&a), 3);
        assert_eq!(s.balance(&a), Some(Wei::from(1_000_000_001u64)));
        let b = parse_address("0x0000000000000000000000000000000000000001").unwrap();
        assert_eq!(s.balance(&b), Some(Wei::from(16u64)));
        // Absent accounts are empty, not unknown, once a state is loaded.
        assert_eq!(s.balance(&[9; 20]), Some(Wei::ZERO));
        assert_eq!(s.nonce(&[9; 20]), 0);
    }

    #[test]
    fn malformed_dumps_are_refused() {
        for bad in [
            r#"{"accounts":{"0x12":{"balance":"1","nonce":0}}}"#,
            r#"{"accounts":{"0x0000000000000000000000000000000000000001":{"balance":"x1","nonce":0}}}"#,
            r#"{"accounts":{"0x0000000000000000000000000000000000000001":{"balance":"1","nonce":-1}}}"#,
            r#"[1,2]"#,
        ] {
            assert!(MemoryState::parse_dump(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn without_a_state_balances_are_unknown_and_nonces_advance() {
        let mut s = MemoryState::unknown();
        assert_eq!(s.balance(&[1; 20]), None);
        assert_eq!(s.nonce(&[1; 20]), 0);
        s.advance_nonce(&[1; 20], 5);
        s.advance_nonce(&[1; 20], 2);
        assert_eq!(s.nonce(&[1; 20]), 5);
        assert_eq!(s.balance(&[1; 20]), None);
    }

    #[test]
    fn go_ethereums_test_chain_state_loads_when_installed() {
        // Reads go-ethereum's devp2p test chain from the Go module cache when present.
        let Some(path) = crate::eth::pool::tests::geth_testdata("headstate.json") else {
            return;
        };
        let s = MemoryState::load(&path).unwrap();
        assert!(s.len() >= 40, "{} accounts", s.len());
        assert!(s.has_balances());
    }
}
