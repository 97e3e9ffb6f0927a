//! The embedded transaction pool, modelled on go-ethereum's `core/txpool/legacypool` (and
//! `blobpool` for type-3 transactions), our own code:
//!
//! - `validate.rs`: the stateless checks ([`validate::check`]).
//! - `account.rs`: one sender's transactions, pending and queued ([`account::Account`]).
//! - `env.rs`: the chain head as the pool sees it ([`env::PoolEnv`], [`env::Forks`]).
//!
//! Rules, with go-ethereum's defaults ([`PoolLimits::default`]):
//!
//! - **Per sender, in nonce order.** *Pending* is the contiguous run from the account's
//!   nonce; *queued* is everything after a gap. Only pending transactions are reported as
//!   [`TxVerdict::Added`] (which the protocol propagates) or listed by
//!   [`TxPool::pending`]; queued ones are [`TxVerdict::Queued`] and surface through
//!   [`TxPool::take_promoted`] when the gap fills. A sender may have any number pending
//!   within the global cap (go-ethereum's `AccountSlots` is a guarantee under eviction,
//!   not a limit), so 2000 consecutive nonces from one sender all go pending.
//! - **Stateful.** A nonce below the account's is refused; so is a transaction whose cost
//!   (value + gas × fee cap + blob gas × blob fee cap), added to the sender's other
//!   pooled costs, exceeds its balance. The [`AccountState`] gives nonces and balances;
//!   without a loaded state ([`MemoryState::unknown`]) nonces start at 0 and the balance
//!   check is skipped (go-ethereum would see empty accounts and refuse everything).
//! - **Replacement.** Same sender and nonce needs a fee cap *and* tip at least
//!   [`PRICE_BUMP_PERCENT`] higher ([`BLOB_PRICE_BUMP_PERCENT`] for blob transactions,
//!   blob fee cap included).
//! - **Capacity.** At most `global_slots + global_queue` slots (32 KiB each) overall: a
//!   newcomer evicts the cheapest-tipping *last* transaction of another sender, or is
//!   dropped if it pays no more. Queued transactions are capped per account
//!   (`account_queue`, highest nonces dropped) and overall (`global_queue`); pending beyond
//!   `global_slots` is trimmed from the tails of senders above `account_slots`. Only
//!   highest-nonce transactions are ever removed, so pending stays contiguous. Blob
//!   transactions have their own count caps and never leave a nonce gap.
//! - **Memory.** Every removal (replaced, evicted, included, stale) is remembered in a
//!   bounded set of recent hashes so late copies are "already known".
//!
//! Blocks ([`TxPool::on_block`]) advance the senders' nonces and drop what they included
//! or made stale; balances stay as loaded (they would need execution).

pub mod account;
pub mod env;
pub mod validate;

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use paxeer_p2p_core::eth::app::{TxPool, TxRejectReason as R, TxRejection, TxVerdict};
use paxeer_p2p_core::eth::block::{Block, Header};
use paxeer_p2p_core::eth::messages::TxAnnouncement;
use paxeer_p2p_core::eth::tx::PooledTransaction;
use paxeer_p2p_core::eth::{Address, ChainSpec, B256};
use paxeer_p2p_core::types::PeerId;
use ruint::aliases::U256 as Wei;

use crate::eth::state::{AccountState, MemoryState};
use account::{Account, Entry};
use env::PoolEnv;
use validate::Checked;

/// go-ethereum `legacypool.DefaultConfig.PriceBump`: replacement fee bump, percent.
pub const PRICE_BUMP_PERCENT: u64 = 10;
/// go-ethereum `blobpool.DefaultConfig.PriceBump`: blob replacement fee bump, percent.
pub const BLOB_PRICE_BUMP_PERCENT: u64 = 100;
/// go-ethereum `legacypool.DefaultConfig.AccountSlots`: pending slots a sender keeps when
/// the pending pool is trimmed.
pub const ACCOUNT_SLOTS: usize = 16;
/// go-ethereum `legacypool.DefaultConfig.GlobalSlots` (4096 + 1024): pending slots.
pub const GLOBAL_SLOTS: usize = 4096 + 1024;
/// go-ethereum `legacypool.DefaultConfig.AccountQueue`: queued transactions per sender.
pub const ACCOUNT_QUEUE: usize = 64;
/// go-ethereum `legacypool.DefaultConfig.GlobalQueue`: queued slots overall.
pub const GLOBAL_QUEUE: usize = 1024;
/// go-ethereum `blobpool.maxTxsPerAccount`: blob transactions per sender.
pub const MAX_BLOB_TXS_PER_ACCOUNT: usize = 16;
/// Blob transactions held overall. Ours: go-ethereum keeps blobs on disk (`blobpool`
/// `Datacap` 2.5 GiB); in memory, 64 of at most 1 MiB each bound the pool to 64 MiB.
pub const MAX_BLOB_TXS: usize = 64;
/// Hashes remembered after removal, so late copies are not re-added.
pub const MAX_SEEN: usize = 32_768;

/// The pool's capacity limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolLimits {
    /// See [`ACCOUNT_SLOTS`].
    pub account_slots: usize,
    /// See [`GLOBAL_SLOTS`].
    pub global_slots: usize,
    /// See [`ACCOUNT_QUEUE`].
    pub account_queue: usize,
    /// See [`GLOBAL_QUEUE`].
    pub global_queue: usize,
    /// See [`MAX_BLOB_TXS_PER_ACCOUNT`].
    pub blob_txs_per_account: usize,
    /// See [`MAX_BLOB_TXS`].
    pub blob_txs: usize,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            account_slots: ACCOUNT_SLOTS,
            global_slots: GLOBAL_SLOTS,
            account_queue: ACCOUNT_QUEUE,
            global_queue: GLOBAL_QUEUE,
            blob_txs_per_account: MAX_BLOB_TXS_PER_ACCOUNT,
            blob_txs: MAX_BLOB_TXS,
        }
    }
}

/// Why transactions left the pool (or never entered it), counted since start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Accepted (pending or queued).
    pub added: u64,
    /// Replaced by a better-paying one with the same sender and nonce.
    pub replaced: u64,
    /// Removed for capacity (cheaper newcomer evictions, queue and pending trims).
    pub evicted: u64,
    /// Included in an imported block.
    pub included: u64,
    /// Made stale by a block (its nonce was used by another transaction).
    pub stale: u64,
    /// Refused, by reason.
    pub rejected: BTreeMap<R, u64>,
}

/// Slot and count totals of one account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    pending_slots: usize,
    queued_slots: usize,
    blobs: usize,
}

fn tally(acc: &Account) -> Tally {
    let mut t = Tally::default();
    for e in acc.pending() {
        if e.info.is_blob() {
            t.blobs += 1;
        } else {
            t.pending_slots += e.info.slots();
        }
    }
    for e in acc.queued() {
        if e.info.is_blob() {
            t.blobs += 1;
        } else {
            t.queued_slots += e.info.slots();
        }
    }
    t
}

/// Whether `new` may replace `old`: every fee strictly higher and at least `bump` percent
/// higher (go-ethereum `list.Add` thresholds).
fn bumps(old: &Checked, new: &Checked, bump: u64) -> bool {
    let enough = |o: Wei, n: Wei| {
        let threshold = o
            .saturating_mul(Wei::from(100 + bump))
            .checked_div(Wei::from(100u64))
            .unwrap_or(Wei::MAX);
        n > o && n >= threshold
    };
    let blob_ok = match (old.blob_fee_cap, new.blob_fee_cap) {
        (Some(o), Some(n)) => enough(o, n),
        _ => true,
    };
    enough(old.fee_cap, new.fee_cap) && enough(old.tip, new.tip) && blob_ok
}

/// The embedded pool. Implements [`TxPool`]; see the module documentation for its rules.
pub struct MemoryTxPool {
    spec: ChainSpec,
    env: PoolEnv,
    head_number: u64,
    limits: PoolLimits,
    state: Box<dyn AccountState>,
    accounts: BTreeMap<Address, Account>,
    by_hash: BTreeMap<B256, (Address, u64)>,
    totals: Tally,
    promoted: Vec<B256>,
    seen: BTreeSet<B256>,
    seen_order: VecDeque<B256>,
    stats: PoolStats,
}

impl std::fmt::Debug for MemoryTxPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTxPool")
            .field("txs", &self.by_hash.len())
            .field("accounts", &self.accounts.len())
            .finish_non_exhaustive()
    }
}

impl MemoryTxPool {
    /// A pool for `spec` at `head`, with account `state` and go-ethereum's default limits.
    pub fn new(spec: ChainSpec, head: &Header, state: Box<dyn AccountState>) -> Self {
        let env = PoolEnv::at_head(&spec, head);
        Self::with_env(spec, env, head.number, state, PoolLimits::default())
    }

    /// A pool with an explicit environment and limits (tests, tools, a head without a
    /// stored header).
    pub fn with_env(
        spec: ChainSpec,
        env: PoolEnv,
        head_number: u64,
        state: Box<dyn AccountState>,
        limits: PoolLimits,
    ) -> Self {
        MemoryTxPool {
            spec,
            env,
            head_number,
            limits,
            state,
            accounts: BTreeMap::new(),
            by_hash: BTreeMap::new(),
            totals: Tally::default(),
            promoted: Vec::new(),
            seen: BTreeSet::new(),
            seen_order: VecDeque::new(),
            stats: PoolStats::default(),
        }
    }

    /// A pool with every fork active, no loaded state and default limits (tests).
    pub fn latest(chain_id: u64) -> Self {
        let mut spec = ChainSpec::paxeer_devnet();
        spec.chain_id = chain_id;
        Self::with_env(
            spec,
            PoolEnv::latest(chain_id, 30_000_000),
            0,
            Box::new(MemoryState::unknown()),
            PoolLimits::default(),
        )
    }

    /// Transactions held (pending and queued).
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Pending transactions held.
    pub fn pending_count(&self) -> usize {
        self.accounts.values().map(Account::pending_len).sum()
    }

    /// Queued transactions held.
    pub fn queued_count(&self) -> usize {
        self.accounts.values().map(Account::queued_len).sum()
    }

    /// Slots taken by pending and by queued non-blob transactions.
    pub fn slots(&self) -> (usize, usize) {
        (self.totals.pending_slots, self.totals.queued_slots)
    }

    /// Blob transactions held.
    pub fn blob_count(&self) -> usize {
        self.totals.blobs
    }

    /// The counters.
    pub fn stats(&self) -> &PoolStats {
        &self.stats
    }

    /// The limits.
    pub fn limits(&self) -> &PoolLimits {
        &self.limits
    }

    /// The chain environment the checks use.
    pub fn env(&self) -> &PoolEnv {
        &self.env
    }

    /// Whether `hash` is held and pending.
    pub fn is_pending(&self, hash: &B256) -> bool {
        self.by_hash
            .get(hash)
            .and_then(|(a, n)| self.accounts.get(a).map(|acc| acc.is_pending(*n)))
            .unwrap_or(false)
    }

    /// A sender's transactions (pending first), for inspection.
    pub fn account(&self, sender: &Address) -> Option<&Account> {
        self.accounts.get(sender)
    }

    /// Every sender with transactions held.
    pub fn senders(&self) -> impl Iterator<Item = (&Address, &Account)> {
        self.accounts.iter()
    }

    fn refuse(&mut self, r: TxRejection) -> TxVerdict {
        *self.stats.rejected.entry(r.reason).or_default() += 1;
        r.verdict()
    }

    fn remember(&mut self, hash: B256) {
        if self.seen.insert(hash) {
            self.seen_order.push_back(hash);
            while self.seen_order.len() > MAX_SEEN {
                if let Some(old) = self.seen_order.pop_front() {
                    self.seen.remove(&old);
                }
            }
        }
    }

    /// Runs `f` on `sender`'s account (created with the state's nonce if absent), keeping
    /// the totals right and dropping the account once empty.
    fn mutate<T>(&mut self, sender: Address, f: impl FnOnce(&mut Account) -> T) -> T {
        let base = self.state.nonce(&sender);
        let acc = self
            .accounts
            .entry(sender)
            .or_insert_with(|| Account::new(base));
        let before = tally(acc);
        let out = f(acc);
        let after = tally(acc);
        let empty = acc.is_empty();
        self.totals.pending_slots =
            self.totals.pending_slots - before.pending_slots + after.pending_slots;
        self.totals.queued_slots =
            self.totals.queued_slots - before.queued_slots + after.queued_slots;
        self.totals.blobs = self.totals.blobs - before.blobs + after.blobs;
        if empty {
            self.accounts.remove(&sender);
        }
        out
    }

    /// Forgets a removed entry's hash (counted by the caller).
    fn unindex(&mut self, e: &Entry) {
        self.by_hash.remove(&e.hash);
        self.remember(e.hash);
    }

    /// Removes the last (queued if `queued`, else pending) transaction of `sender`.
    fn evict_last(&mut self, sender: Address, queued: bool) -> bool {
        match self.mutate(sender, |a| a.pop_last(queued)) {
            Some(e) => {
                self.unindex(&e);
                self.stats.evicted += 1;
                true
            }
            None => false,
        }
    }

    /// The cheapest last transaction among senders other than `except`, of the kind
    /// (`blob`) asked: `(sender, queued?, tip, fee cap)`.
    fn cheapest_tail(&self, except: &Address, blob: bool) -> Option<(Address, bool, Wei, Wei)> {
        self.accounts
            .iter()
            .filter(|(a, acc)| *a != except && acc.is_blob() == Some(blob))
            .filter_map(|(a, acc)| {
                let last = acc.entries().last()?;
                let queued = !acc.is_pending(last.info.nonce);
                Some((*a, queued, last.info.tip, last.info.fee_cap))
            })
            .min_by(|x, y| (x.2, x.3, !x.1).cmp(&(y.2, y.3, !y.1)))
    }

    /// Makes room for `info` (not a replacement) by evicting cheaper tails of other
    /// senders; false if the pool is full of transactions paying at least as much.
    fn make_room(&mut self, info: &Checked) -> bool {
        loop {
            let full = if info.is_blob() {
                self.totals.blobs >= self.limits.blob_txs
            } else {
                let cap = self.limits.global_slots + self.limits.global_queue;
                self.totals.pending_slots + self.totals.queued_slots + info.slots() > cap
            };
            if !full {
                return true;
            }
            let Some((victim, queued, tip, fee_cap)) =
                self.cheapest_tail(&info.sender, info.is_blob())
            else {
                return false;
            };
            if (tip, fee_cap) >= (info.tip, info.fee_cap) || !self.evict_last(victim, queued) {
                return false;
            }
        }
    }

    /// Applies the queue caps (per account for `sender`, then overall) and the pending
    /// cap, removing highest nonces only.
    fn enforce_caps(&mut self, sender: Address) {
        while self
            .accounts
            .get(&sender)
            .is_some_and(|a| a.queued_len() > self.limits.account_queue)
        {
            if !self.evict_last(sender, true) {
                break;
            }
        }
        while self.totals.queued_slots > self.limits.global_queue {
            let Some(victim) = self
                .accounts
                .iter()
                .filter(|(_, a)| a.queued_len() > 0 && a.is_blob() == Some(false))
                .max_by_key(|(_, a)| a.queued_len())
                .map(|(addr, _)| *addr)
            else {
                break;
            };
            if !self.evict_last(victim, true) {
                break;
            }
        }
        while self.totals.pending_slots > self.limits.global_slots {
            let Some(victim) = self
                .accounts
                .iter()
                .filter(|(_, a)| {
                    a.pending_len() > self.limits.account_slots && a.is_blob() == Some(false)
                })
                .max_by_key(|(_, a)| a.pending_len())
                .map(|(addr, _)| *addr)
            else {
                break;
            };
            if !self.evict_last(victim, false) {
                break;
            }
        }
    }

    /// The stateful rules and insertion of a checked transaction.
    fn admit(&mut self, tx: PooledTransaction, hash: B256, info: Checked) -> TxVerdict {
        let sender = info.sender;
        let nonce = info.nonce;
        let base = self
            .accounts
            .get(&sender)
            .map_or_else(|| self.state.nonce(&sender), Account::base);
        if nonce < base {
            return self.refuse(TxRejection::new(
                R::NonceTooLow,
                format!("nonce {nonce}, account nonce {base}"),
            ));
        }
        let acc = self.accounts.get(&sender);
        if let Some(kind) = acc.and_then(Account::is_blob) {
            if kind != info.is_blob() {
                return self.refuse(TxRejection::new(
                    R::AccountLimit,
                    "sender has transactions of the other kind (blob / non-blob) pooled",
                ));
            }
        }
        let old = acc.and_then(|a| a.get(nonce)).map(|e| e.info.clone());
        if let Some(old) = &old {
            let bump = if info.is_blob() {
                BLOB_PRICE_BUMP_PERCENT
            } else {
                PRICE_BUMP_PERCENT
            };
            if !bumps(old, &info, bump) {
                return self.refuse(TxRejection::new(
                    R::ReplacementUnderpriced,
                    format!(
                        "needs fee cap and tip {bump}% above {} / {}",
                        old.fee_cap, old.tip
                    ),
                ));
            }
        }
        if info.is_blob() && old.is_none() {
            let next = acc.map_or(base, Account::next_nonce);
            if nonce > next {
                return self.refuse(TxRejection::new(
                    R::NonceGap,
                    format!("blob tx nonce {nonce}, next {next}"),
                ));
            }
            if acc.map_or(0, Account::len) >= self.limits.blob_txs_per_account {
                return self.refuse(TxRejection::new(R::AccountLimit, "blob txs per sender"));
            }
        }
        if let Some(balance) = self.state.balance(&sender) {
            let spent = acc.map_or(Wei::ZERO, |a| a.spent(Some(nonce)));
            let need = spent.saturating_add(info.cost);
            if need > balance {
                return self.refuse(TxRejection::new(
                    R::InsufficientFunds,
                    format!("balance {balance}, pooled and new cost {need}"),
                ));
            }
        }
        if old.is_none() && !self.make_room(&info) {
            return self.refuse(TxRejection::new(
                R::PoolFull,
                "pool full of better-paying txs",
            ));
        }
        let entry = Entry { tx, hash, info };
        let (replaced, promoted) = self.mutate(sender, |a| a.insert(entry));
        if let Some(r) = replaced {
            self.unindex(&r);
            self.stats.replaced += 1;
        }
        self.by_hash.insert(hash, (sender, nonce));
        self.promoted.extend(promoted);
        self.enforce_caps(sender);
        if !self.by_hash.contains_key(&hash) {
            // Trimmed at once: it was the tail chosen. That was a refusal, not an eviction.
            self.stats.evicted = self.stats.evicted.saturating_sub(1);
            return self.refuse(TxRejection::new(R::PoolFull, "trimmed by the caps"));
        }
        self.stats.added += 1;
        if self.is_pending(&hash) {
            TxVerdict::Added
        } else {
            TxVerdict::Queued
        }
    }
}

impl TxPool for MemoryTxPool {
    fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash) || self.seen.contains(hash)
    }

    fn get(&self, hash: &B256) -> Option<PooledTransaction> {
        let (addr, nonce) = self.by_hash.get(hash)?;
        self.accounts.get(addr)?.get(*nonce).map(|e| e.tx.clone())
    }

    fn add(&mut self, tx: PooledTransaction, _from: Option<PeerId>) -> TxVerdict {
        let hash = tx.hash();
        if self.contains(&hash) {
            return TxVerdict::AlreadyKnown;
        }
        match validate::check(&tx, &self.env) {
            Ok(info) => self.admit(tx, hash, info),
            Err(r) => self.refuse(r),
        }
    }

    fn pending(&self, limit: usize) -> Vec<TxAnnouncement> {
        self.accounts
            .values()
            .flat_map(Account::pending)
            .take(limit)
            .map(|e| TxAnnouncement::of(&e.tx))
            .collect()
    }

    fn on_block(&mut self, block: &Block) {
        if block.header.number >= self.head_number {
            self.head_number = block.header.number;
            self.env = PoolEnv::at_head(&self.spec, &block.header);
        }
        let mut included = BTreeSet::new();
        let mut touched = BTreeSet::new();
        for tx in &block.body.transactions {
            let hash = tx.hash();
            let sender = match self.by_hash.get(&hash) {
                Some((a, _)) => Some(*a),
                None => tx.recover_sender().ok(),
            };
            if let Some(sender) = sender {
                let nonce = match tx {
                    paxeer_p2p_core::eth::tx::Transaction::Legacy(t) => t.nonce,
                    paxeer_p2p_core::eth::tx::Transaction::Eip2930(t) => t.nonce,
                    paxeer_p2p_core::eth::tx::Transaction::Eip1559(t) => t.nonce,
                    paxeer_p2p_core::eth::tx::Transaction::Eip4844(t) => t.nonce,
                    paxeer_p2p_core::eth::tx::Transaction::Eip7702(t) => t.nonce,
                };
                self.state.advance_nonce(&sender, nonce.saturating_add(1));
                touched.insert(sender);
            }
            included.insert(hash);
            self.remember(hash);
        }
        for sender in touched {
            if !self.accounts.contains_key(&sender) {
                continue;
            }
            let base = self.state.nonce(&sender);
            let (gone, promoted) = self.mutate(sender, |a| a.set_base(base));
            for e in gone {
                if included.contains(&e.hash) {
                    self.stats.included += 1;
                } else {
                    self.stats.stale += 1;
                }
                self.unindex(&e);
            }
            self.promoted.extend(promoted);
        }
    }

    fn take_promoted(&mut self) -> Vec<B256> {
        std::mem::take(&mut self.promoted)
    }
}
