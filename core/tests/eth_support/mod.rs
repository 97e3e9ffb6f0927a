//! Test doubles for the eth protocol machine: an in-memory chain built on the paxeer devnet
//! genesis, an in-memory pool that checks signatures, and transaction/block builders.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use paxeer_p2p_core::crypto::keys::{generate_secret_key, sign_recoverable};
use paxeer_p2p_core::eth::app::{
    BlockImporter, ChainHead, ChainReader, ImportResult, TxPool, TxRejectReason, TxRejection,
    TxVerdict,
};
use paxeer_p2p_core::eth::block::transactions_root;
use paxeer_p2p_core::eth::chainspec::{paxeer_devnet_genesis, PAXEER_DEVNET_NETWORK_ID};
use paxeer_p2p_core::eth::messages::TxAnnouncement;
use paxeer_p2p_core::eth::primitives::EMPTY_ROOT_HASH;
use paxeer_p2p_core::eth::receipts::{receipts_root, Log, Receipt, ReceiptOutcome};
use paxeer_p2p_core::eth::tx::{Eip1559Tx, TypedSignature};
use paxeer_p2p_core::eth::{
    Block, BlockBody, Header, PooledTransaction, Transaction, TxType, B256, U256,
};
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::types::{PeerId, Seed};
use secp256k1::SecretKey;

/// A chain held in memory: the canonical blocks by number, plus side blocks by hash.
pub struct MemChain {
    canon: Vec<Block>,
    by_hash: BTreeMap<B256, Block>,
    /// Receipts held, by block hash (blocks without transactions need none).
    receipts: BTreeMap<B256, Vec<Receipt>>,
    /// Serve receipts with one gas value changed (a liar).
    pub forge_receipts: bool,
}

impl MemChain {
    /// The devnet genesis alone.
    pub fn new() -> Self {
        let g = Block {
            header: paxeer_devnet_genesis(),
            body: BlockBody {
                withdrawals: Some(Vec::new()),
                ..BlockBody::default()
            },
        };
        let mut by_hash = BTreeMap::new();
        by_hash.insert(g.header.hash(), g.clone());
        Self {
            canon: vec![g],
            by_hash,
            receipts: BTreeMap::new(),
            forge_receipts: false,
        }
    }

    /// The genesis and `n` blocks with `txs_per_block` transactions each and their receipts
    /// (one receipt of each type in turn: legacy, 2930, 1559, 4844, 7702, with logs), the
    /// headers committing to them.
    pub fn with_receipt_blocks(n: u64, txs_per_block: u64) -> Self {
        let mut c = Self::new();
        let sk = key(42);
        for b in 0..n {
            let txs: Vec<Transaction> = (0..txs_per_block)
                .map(|i| {
                    signed_tx(&sk, b * txs_per_block + i, 8)
                        .transaction()
                        .clone()
                })
                .collect();
            let rs = sample_receipts(b, txs.len());
            let mut block = child(&c.head_header(), txs);
            block.header.receipts_root = receipts_root(&rs);
            block.header.gas_used = rs.last().map_or(0, |r| r.cumulative_gas_used);
            let hash = block.header.hash();
            assert_eq!(c.import(block), ImportResult::Imported { new_head: true });
            c.receipts.insert(hash, rs);
        }
        c
    }

    /// How many blocks with transactions lack receipts here.
    pub fn blocks_missing_receipts(&self) -> usize {
        self.canon
            .iter()
            .filter(|b| !b.body.transactions.is_empty())
            .filter(|b| !self.receipts.contains_key(&b.header.hash()))
            .count()
    }

    /// The stored receipts of `hash`.
    pub fn stored_receipts(&self, hash: &B256) -> Option<&Vec<Receipt>> {
        self.receipts.get(hash)
    }

    /// The genesis and `n` empty blocks on top.
    pub fn with_blocks(n: u64) -> Self {
        let mut c = Self::new();
        for _ in 0..n {
            let b = child(&c.head_header(), Vec::new());
            assert_eq!(c.import(b), ImportResult::Imported { new_head: true });
        }
        c
    }

    pub fn head_header(&self) -> Header {
        self.canon.last().unwrap().header.clone()
    }

    pub fn block(&self, number: u64) -> Option<&Block> {
        self.canon.get(usize::try_from(number).ok()?)
    }
}

impl ChainReader for MemChain {
    fn head(&self) -> ChainHead {
        let h = self.head_header();
        ChainHead {
            hash: h.hash(),
            number: h.number,
            timestamp: h.timestamp,
            total_difficulty: U256::from_u64(h.number + 1),
        }
    }
    fn earliest(&self) -> u64 {
        0
    }
    fn header_by_hash(&self, hash: &B256) -> Option<Header> {
        let b = self.by_hash.get(hash)?;
        let canon = self.block(b.header.number)?;
        (canon.header.hash() == *hash).then(|| canon.header.clone())
    }
    fn header_by_number(&self, number: u64) -> Option<Header> {
        self.block(number).map(|b| b.header.clone())
    }
    fn body(&self, hash: &B256) -> Option<BlockBody> {
        self.by_hash.get(hash).map(|b| b.body.clone())
    }
    fn receipts(&self, hash: &B256) -> Option<Vec<Receipt>> {
        let b = self.by_hash.get(hash)?;
        if b.body.transactions.is_empty() {
            return Some(Vec::new());
        }
        let mut rs = self.receipts.get(hash)?.clone();
        if self.forge_receipts {
            if let Some(r) = rs.first_mut() {
                r.cumulative_gas_used += 1;
            }
        }
        Some(rs)
    }
}

impl BlockImporter for MemChain {
    fn import(&mut self, block: Block) -> ImportResult {
        let hash = block.header.hash();
        if self.by_hash.contains_key(&hash) {
            return ImportResult::AlreadyKnown;
        }
        if block.header.extra_data == b"bad" {
            return ImportResult::Invalid("marked bad".into());
        }
        let Some(parent) = self.by_hash.get(&block.header.parent_hash) else {
            return ImportResult::UnknownParent;
        };
        if parent.header.number + 1 != block.header.number {
            return ImportResult::Invalid("bad number".into());
        }
        let extends = block.header.parent_hash == self.head_header().hash();
        self.by_hash.insert(hash, block.clone());
        if extends {
            self.canon.push(block);
        }
        ImportResult::Imported { new_head: extends }
    }
    fn put_receipts(&mut self, hash: &B256, receipts: Vec<Receipt>) -> Result<(), String> {
        if !self.by_hash.contains_key(hash) {
            return Err("unknown block".into());
        }
        self.receipts.insert(*hash, receipts);
        Ok(())
    }
}

/// `n` receipts for block `b`, cycling through every receipt type, each with a log.
pub fn sample_receipts(b: u64, n: usize) -> Vec<Receipt> {
    let types = [
        TxType::Legacy,
        TxType::Eip2930,
        TxType::Eip1559,
        TxType::Eip4844,
        TxType::Eip7702,
    ];
    (0..n)
        .map(|i| Receipt {
            tx_type: types[(i + b as usize) % types.len()],
            outcome: ReceiptOutcome::Status(i % 3 != 2),
            cumulative_gas_used: 21_000 * (i as u64 + 1),
            logs: (0..i % 3)
                .map(|l| Log {
                    address: [u8::try_from(l).unwrap() + 1; 20],
                    topics: vec![[u8::try_from(i).unwrap(); 32]; l + 1],
                    data: vec![0xda; l * 7],
                })
                .collect(),
        })
        .collect()
}

/// An empty-state child of `parent` holding `txs`.
pub fn child(parent: &Header, txs: Vec<Transaction>) -> Block {
    let header = Header {
        parent_hash: parent.hash(),
        number: parent.number + 1,
        timestamp: parent.timestamp + 12,
        transactions_root: transactions_root(&txs),
        withdrawals_root: Some(EMPTY_ROOT_HASH),
        extra_data: Vec::new(),
        ..parent.clone()
    };
    Block {
        header,
        body: BlockBody {
            transactions: txs,
            uncles: Vec::new(),
            withdrawals: Some(Vec::new()),
        },
    }
}

/// A pool in memory that refuses transactions whose signature does not recover or whose
/// chain id is not the devnet's. `accept_all` turns the checks off (a misbehaving node).
pub struct MemPool {
    txs: BTreeMap<B256, PooledTransaction>,
    pub accept_all: bool,
}

impl MemPool {
    pub fn new() -> Self {
        Self {
            txs: BTreeMap::new(),
            accept_all: false,
        }
    }

    pub fn len(&self) -> usize {
        self.txs.len()
    }
}

impl TxPool for MemPool {
    fn contains(&self, hash: &B256) -> bool {
        self.txs.contains_key(hash)
    }
    fn get(&self, hash: &B256) -> Option<PooledTransaction> {
        self.txs.get(hash).cloned()
    }
    fn add(&mut self, tx: PooledTransaction, _from: Option<PeerId>) -> TxVerdict {
        let hash = tx.hash();
        if self.txs.contains_key(&hash) {
            return TxVerdict::AlreadyKnown;
        }
        if !self.accept_all {
            let t = tx.transaction();
            if t.recover_sender().is_err() {
                return TxVerdict::Invalid(TxRejection::new(
                    TxRejectReason::Signature,
                    "bad signature",
                ));
            }
            if t.chain_id() != Some(PAXEER_DEVNET_NETWORK_ID) {
                return TxVerdict::Invalid(TxRejection::new(
                    TxRejectReason::ChainId,
                    "wrong chain",
                ));
            }
        }
        self.txs.insert(hash, tx);
        TxVerdict::Added
    }
    fn pending(&self, limit: usize) -> Vec<TxAnnouncement> {
        self.txs
            .values()
            .take(limit)
            .map(TxAnnouncement::of)
            .collect()
    }
    fn on_block(&mut self, block: &Block) {
        for t in &block.body.transactions {
            self.txs.remove(&t.hash());
        }
    }
}

/// A deterministic secret key.
pub fn key(n: u8) -> SecretKey {
    generate_secret_key(&mut MachineRng::new(Seed([n; 32])))
}

/// A signed EIP-1559 devnet transaction with `input_len` bytes of call data.
pub fn signed_tx(sk: &SecretKey, nonce: u64, input_len: usize) -> PooledTransaction {
    let mut tx = Eip1559Tx {
        chain_id: PAXEER_DEVNET_NETWORK_ID,
        nonce,
        max_priority_fee_per_gas: U256::from_u64(1_000_000_000),
        max_fee_per_gas: U256::from_u64(2_000_000_000),
        gas_limit: 21_000 + 16 * input_len as u64,
        to: Some([0x42; 20]),
        value: U256::from_u64(1),
        input: vec![0xab; input_len],
        access_list: Vec::new(),
        signature: TypedSignature::default(),
    };
    let digest = Transaction::Eip1559(tx.clone()).signing_hash();
    let sig = sign_recoverable(&digest, sk);
    tx.signature = TypedSignature {
        y_parity: sig[64] == 1,
        r: U256::from_be_slice(&sig[..32]).unwrap(),
        s: U256::from_be_slice(&sig[32..64]).unwrap(),
    };
    PooledTransaction::Plain(Transaction::Eip1559(tx))
}

/// A transaction whose signature cannot be recovered (r = 0).
pub fn invalid_tx(nonce: u64) -> PooledTransaction {
    let PooledTransaction::Plain(Transaction::Eip1559(mut tx)) = signed_tx(&key(99), nonce, 0)
    else {
        unreachable!()
    };
    tx.signature.r = U256::ZERO;
    PooledTransaction::Plain(Transaction::Eip1559(tx))
}
