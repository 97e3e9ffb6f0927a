//! Test doubles for the sync: a chain in memory (reader, importer, receipt store) and a
//! model peer that answers queries from a source chain, honestly or as told.

use std::collections::BTreeMap;

use crate::eth::app::{BlockImporter, ChainHead, ChainReader, ImportResult};
use crate::eth::block::{transactions_root, validate_body, Block, BlockBody, Header};
use crate::eth::primitives::{B256, EMPTY_ROOT_HASH, EMPTY_UNCLES_HASH, U256};
use crate::eth::receipts::{receipts_root, Log, Receipt, ReceiptOutcome};
use crate::eth::tx::{LegacyTx, Transaction, TxType};
use crate::types::PeerId;

use super::{ChainSync, PeerRange, SyncEvent, SyncId, SyncQuery, SyncRequest};

pub(super) fn peer(n: u8) -> PeerId {
    PeerId([n; 64])
}

/// A canonical chain in memory with receipts.
#[derive(Clone, Debug)]
pub(super) struct ModelChain {
    pub blocks: Vec<Block>,
    pub receipts: BTreeMap<B256, Vec<Receipt>>,
}

fn receipts_for(number: u64, n: usize) -> Vec<Receipt> {
    let types = [
        TxType::Legacy,
        TxType::Eip2930,
        TxType::Eip1559,
        TxType::Eip4844,
        TxType::Eip7702,
    ];
    (0..n)
        .map(|i| Receipt {
            tx_type: types
                .get((i + number as usize) % 5)
                .copied()
                .unwrap_or(TxType::Legacy),
            outcome: ReceiptOutcome::Status(i % 2 == 0),
            cumulative_gas_used: 21_000 * (i as u64 + 1),
            logs: vec![Log {
                address: [number as u8; 20],
                topics: vec![[i as u8; 32]],
                data: vec![1, 2, 3],
            }],
        })
        .collect()
}

impl ModelChain {
    /// The genesis alone.
    pub fn genesis() -> Self {
        let header = Header {
            ommers_hash: EMPTY_UNCLES_HASH,
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            base_fee_per_gas: Some(U256::from_u64(7)),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some([0; 32]),
            requests_hash: Some(EMPTY_ROOT_HASH),
            ..Header::default()
        };
        Self {
            blocks: vec![Block {
                header,
                body: BlockBody {
                    withdrawals: Some(Vec::new()),
                    ..BlockBody::default()
                },
            }],
            receipts: BTreeMap::new(),
        }
    }

    /// The genesis and `n` blocks; block `i` has `i % 3` transactions (so some bodies are
    /// empty and not fetched) and matching receipts.
    pub fn build(n: u64) -> Self {
        let mut c = Self::genesis();
        for number in 1..=n {
            let parent = c.head_header();
            let txs: Vec<Transaction> = (0..number % 3)
                .map(|i| {
                    Transaction::Legacy(LegacyTx {
                        nonce: number * 3 + i,
                        gas_price: U256::from_u64(1),
                        gas_limit: 21_000,
                        to: Some([9; 20]),
                        value: U256::from_u64(i),
                        input: Vec::new(),
                        v: U256::from_u64(27),
                        r: U256::from_u64(1),
                        s: U256::from_u64(1),
                    })
                })
                .collect();
            let rs = receipts_for(number, txs.len());
            let header = Header {
                parent_hash: parent.hash(),
                number,
                timestamp: parent.timestamp + 12,
                transactions_root: transactions_root(&txs),
                receipts_root: receipts_root(&rs),
                gas_used: 21_000 * txs.len() as u64,
                gas_limit: 30_000_000,
                ..parent
            };
            let hash = header.hash();
            if !rs.is_empty() {
                c.receipts.insert(hash, rs);
            }
            c.blocks.push(Block {
                header,
                body: BlockBody {
                    transactions: txs,
                    uncles: Vec::new(),
                    withdrawals: Some(Vec::new()),
                },
            });
        }
        c
    }

    pub fn head_header(&self) -> Header {
        self.blocks
            .last()
            .map(|b| b.header.clone())
            .unwrap_or_default()
    }

    fn by_hash(&self, hash: &B256) -> Option<&Block> {
        // Newest first: the sync mostly asks about recent blocks.
        self.blocks.iter().rev().find(|b| b.header.hash() == *hash)
    }

    /// The honest answer to `q`, as go-ethereum serves it (stopping at what it lacks).
    pub fn answer(&self, q: &SyncQuery) -> Answer {
        match q {
            SyncQuery::Headers { start, amount } => Answer::Headers(
                self.blocks
                    .iter()
                    .skip(*start as usize)
                    .take(*amount as usize)
                    .map(|b| b.header.clone())
                    .collect(),
            ),
            SyncQuery::Anchor { hash } => Answer::Headers(
                self.by_hash(hash)
                    .map(|b| b.header.clone())
                    .into_iter()
                    .collect(),
            ),
            SyncQuery::Bodies { hashes } => Answer::Bodies(
                hashes
                    .iter()
                    .filter_map(|h| self.by_hash(h).map(|b| b.body.clone()))
                    .collect(),
            ),
            SyncQuery::Receipts { hashes } => {
                Answer::Receipts(hashes.iter().map_while(|h| self.receipts(h)).collect())
            }
            SyncQuery::ReceiptsRest { hash, first_index } => Answer::Receipts(
                self.receipts(hash)
                    .map(|rs| {
                        let skip = usize::try_from(*first_index).unwrap_or(usize::MAX);
                        vec![rs.into_iter().skip(skip).collect()]
                    })
                    .unwrap_or_default(),
            ),
        }
    }

    /// What a peer holding this chain advertises (eth/69).
    pub fn range(&self) -> PeerRange {
        let h = self.head_header();
        PeerRange {
            earliest: 0,
            latest: Some(h.number),
            head_hash: h.hash(),
        }
    }
}

impl ChainReader for ModelChain {
    fn head(&self) -> ChainHead {
        let h = self.head_header();
        ChainHead {
            hash: h.hash(),
            number: h.number,
            timestamp: h.timestamp,
            total_difficulty: U256::ZERO,
        }
    }
    fn earliest(&self) -> u64 {
        0
    }
    fn header_by_hash(&self, hash: &B256) -> Option<Header> {
        self.by_hash(hash).map(|b| b.header.clone())
    }
    fn header_by_number(&self, number: u64) -> Option<Header> {
        self.blocks.get(number as usize).map(|b| b.header.clone())
    }
    fn body(&self, hash: &B256) -> Option<BlockBody> {
        self.by_hash(hash).map(|b| b.body.clone())
    }
    fn receipts(&self, hash: &B256) -> Option<Vec<Receipt>> {
        let b = self.by_hash(hash)?;
        if b.body.transactions.is_empty() {
            return Some(Vec::new());
        }
        self.receipts.get(hash).cloned()
    }
}

impl BlockImporter for ModelChain {
    fn import(&mut self, block: Block) -> ImportResult {
        let head = self.head_header();
        if block.header.parent_hash != head.hash() {
            return ImportResult::UnknownParent;
        }
        if block.header.number != head.number + 1
            || validate_body(&block.header, &block.body).is_err()
        {
            return ImportResult::Invalid("bad block".into());
        }
        self.blocks.push(block);
        ImportResult::Imported { new_head: true }
    }
    fn put_receipts(&mut self, hash: &B256, receipts: Vec<Receipt>) -> Result<(), String> {
        self.receipts.insert(*hash, receipts);
        Ok(())
    }
}

/// An answer to a sync query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Answer {
    Headers(Vec<Header>),
    Bodies(Vec<BlockBody>),
    Receipts(Vec<Vec<Receipt>>),
}

impl Answer {
    /// Keeps the first `n` items (a short answer).
    pub fn truncate(&mut self, n: usize) {
        match self {
            Answer::Headers(v) => v.truncate(n),
            Answer::Bodies(v) => v.truncate(n),
            Answer::Receipts(v) => v.truncate(n),
        }
    }
}

/// Feeds `answer` to request `id` from `peer`.
pub(super) fn deliver(sync: &mut ChainSync, peer: PeerId, id: SyncId, answer: Answer) {
    match answer {
        Answer::Headers(h) => sync.on_headers(peer, id, h),
        Answer::Bodies(b) => sync.on_bodies(peer, id, b),
        Answer::Receipts(r) => sync.on_receipts(peer, id, r),
    }
}

/// Drains the events, importing into and storing in `chain`; returns the other events.
pub(super) fn drain(sync: &mut ChainSync, chain: &mut ModelChain) -> Vec<SyncEvent> {
    let mut out = Vec::new();
    while let Some(e) = sync.poll_event() {
        match e {
            SyncEvent::Import { block, .. } => {
                let hash = block.header.hash();
                let r = chain.import(*block);
                sync.on_import_result(&hash, &r);
            }
            SyncEvent::StoreReceipts { hash, receipts, .. } => {
                assert!(chain.put_receipts(&hash, receipts).is_ok());
            }
            other => out.push(other),
        }
    }
    out
}

/// Drains events, then every request the sync has now.
pub(super) fn requests(
    sync: &mut ChainSync,
    chain: &mut ModelChain,
) -> (Vec<SyncRequest>, Vec<SyncEvent>) {
    let mut events = drain(sync, chain);
    let mut reqs = Vec::new();
    while let Some(r) = sync.poll_request(chain) {
        reqs.push(r);
        events.extend(drain(sync, chain));
    }
    (reqs, events)
}
