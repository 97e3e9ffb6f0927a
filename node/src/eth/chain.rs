//! The embedded block store: headers, bodies and the canonical index in the data directory
//! (redb), with longest-chain head selection. It serves the eth protocol (`ChainReader`) and
//! takes the blocks it fetched (`BlockImporter`). It executes nothing: a block is accepted
//! when it links to a known parent, its number and timestamp follow the parent's, and its body
//! matches its header.

// redb's error type is large; these private helpers return it on rare storage failures only.
#![allow(clippy::result_large_err)]

use std::path::Path;
use std::sync::Arc;

use paxeer_p2p_core::eth::app::{BlockImporter, ChainHead, ChainReader, ImportResult};
use paxeer_p2p_core::eth::block::{validate_body, Block, BlockBody, Header};
use paxeer_p2p_core::eth::primitives::EMPTY_ROOT_HASH;
use paxeer_p2p_core::eth::receipts::{decode_receipt_list, encode_receipt_list, Receipt};
use paxeer_p2p_core::eth::{ChainSpec, B256, U256};
use redb::{Database, ReadableTable, TableDefinition};

const HEADERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("headers");
const BODIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("bodies");
const CANONICAL: TableDefinition<u64, &[u8]> = TableDefinition::new("canonical");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Block hash → the block's receipts (`encode_receipt_list`), fetched by the chain sync and
/// checked against the header's receipts root before they get here.
const RECEIPTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("receipts");
/// Blocks whose receipts alone exceed eth/69's message limit (not asked for again).
const RECEIPTS_TOO_LARGE: TableDefinition<&[u8], ()> = TableDefinition::new("receipts_too_large");

/// The block store.
#[derive(Clone)]
pub struct ChainStore {
    db: Arc<Database>,
    spec: ChainSpec,
    head: ChainHead,
}

impl std::fmt::Debug for ChainStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainStore")
            .field("chain", &self.spec.name)
            .field("head", &self.head.number)
            .finish_non_exhaustive()
    }
}

type DbResult<T> = Result<T, redb::Error>;

impl ChainStore {
    /// Opens (or creates) the store at `path` for `spec`. `genesis` is the genesis header
    /// when the node knows it (the built-in devnet); it must hash to `spec.genesis_hash`.
    pub fn open(path: &Path, spec: ChainSpec, genesis: Option<Header>) -> Result<Self, String> {
        let err = |e: redb::Error| format!("chain database {}: {e}", path.display());
        let db = Database::create(path).map_err(|e| err(e.into()))?;
        let mut store = Self {
            db: Arc::new(db),
            head: ChainHead {
                hash: spec.genesis_hash,
                number: 0,
                timestamp: spec.genesis_timestamp,
                total_difficulty: spec.genesis_difficulty,
            },
            spec,
        };
        if let Some(g) = genesis {
            if g.hash() != store.spec.genesis_hash {
                return Err("genesis header does not match the chain's genesis hash".into());
            }
            if store.header(&g.hash()).map_err(err)?.is_none() {
                store.put(&g, &BlockBody::default()).map_err(err)?;
                store.set_canonical(&g).map_err(err)?;
            }
        }
        store.load_head().map_err(err)?;
        Ok(store)
    }

    /// The chain this store follows.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    fn header(&self, hash: &B256) -> DbResult<Option<Header>> {
        let r = self.db.begin_read()?;
        let t = match r.open_table(HEADERS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let v = t.get(hash.as_slice())?;
        Ok(v.and_then(|v| Header::decode(v.value()).ok()))
    }

    fn put(&self, header: &Header, body: &BlockBody) -> DbResult<()> {
        let hash = header.hash();
        let w = self.db.begin_write()?;
        w.open_table(HEADERS)?
            .insert(hash.as_slice(), header.encode().as_slice())?;
        w.open_table(BODIES)?
            .insert(hash.as_slice(), body.encode().as_slice())?;
        w.commit()?;
        Ok(())
    }

    /// Makes `header` the head, rewriting the canonical index back to the common ancestor.
    fn set_canonical(&mut self, header: &Header) -> DbResult<()> {
        let w = self.db.begin_write()?;
        {
            let mut canon = w.open_table(CANONICAL)?;
            let mut cur = header.clone();
            loop {
                let hash = cur.hash();
                let existing = canon.get(cur.number)?.map(|v| v.value().to_vec());
                if existing.as_deref() == Some(hash.as_slice()) {
                    break;
                }
                canon.insert(cur.number, hash.as_slice())?;
                if cur.number == 0 {
                    break;
                }
                match self.header(&cur.parent_hash)? {
                    Some(p) => cur = p,
                    None => break,
                }
            }
            // Drop canonical entries above the new head (a shorter chain won).
            let stale: Vec<u64> = canon
                .range(header.number + 1..)?
                .filter_map(|r| r.ok().map(|(k, _)| k.value()))
                .collect();
            for n in stale {
                canon.remove(n)?;
            }
            w.open_table(META)?
                .insert("head", header.hash().as_slice())?;
        }
        w.commit()?;
        self.head = head_of(header, &self.spec);
        Ok(())
    }

    /// Stores `blocks`, already checked, in one write transaction and makes the last one
    /// the head: each block is the child of the one before it, the first the child of a
    /// stored header. The canonical index is rewritten back to the common ancestor and
    /// entries above the new head are dropped. Used by `paxeer-p2p import`.
    pub fn import_checked_batch(&mut self, blocks: &[Block]) -> Result<(), String> {
        let Some(last) = blocks.last() else {
            return Ok(());
        };
        self.write_batch(blocks)
            .map_err(|e| format!("chain database write failed: {e}"))?;
        self.head = head_of(&last.header, &self.spec);
        Ok(())
    }

    fn write_batch(&self, blocks: &[Block]) -> DbResult<()> {
        let w = self.db.begin_write()?;
        {
            let mut headers = w.open_table(HEADERS)?;
            let mut bodies = w.open_table(BODIES)?;
            let mut canon = w.open_table(CANONICAL)?;
            let mut oldest: Option<Header> = None;
            for b in blocks {
                let hash = b.header.hash();
                headers.insert(hash.as_slice(), b.header.encode().as_slice())?;
                bodies.insert(hash.as_slice(), b.body.encode().as_slice())?;
                canon.insert(b.header.number, hash.as_slice())?;
                if oldest.is_none() {
                    oldest = Some(b.header.clone());
                }
            }
            // Re-point the canonical index at the ancestors until it agrees.
            let mut cur = oldest;
            while let Some(h) = cur.take() {
                if h.number == 0 {
                    break;
                }
                let parent = headers
                    .get(h.parent_hash.as_slice())?
                    .and_then(|v| Header::decode(v.value()).ok());
                let Some(p) = parent else { break };
                let at = canon.get(p.number)?.map(|v| v.value().to_vec());
                if at.as_deref() == Some(p.hash().as_slice()) {
                    break;
                }
                canon.insert(p.number, p.hash().as_slice())?;
                cur = Some(p);
            }
            if let Some(last) = blocks.last() {
                let stale: Vec<u64> = canon
                    .range(last.header.number + 1..)?
                    .filter_map(|r| r.ok().map(|(k, _)| k.value()))
                    .collect();
                for n in stale {
                    canon.remove(n)?;
                }
                w.open_table(META)?
                    .insert("head", last.header.hash().as_slice())?;
            }
        }
        w.commit()?;
        Ok(())
    }

    fn load_head(&mut self) -> DbResult<()> {
        let hash = {
            let r = self.db.begin_read()?;
            match r.open_table(META) {
                Ok(t) => t.get("head")?.map(|v| v.value().to_vec()),
                Err(redb::TableError::TableDoesNotExist(_)) => None,
                Err(e) => return Err(e.into()),
            }
        };
        if let Some(hash) = hash.and_then(|h| <[u8; 32]>::try_from(h).ok()) {
            if let Some(h) = self.header(&hash)? {
                self.head = head_of(&h, &self.spec);
            }
        }
        Ok(())
    }
}

/// The head record of `header`. Total difficulty is approximated as the genesis difficulty
/// plus the number of blocks (every devnet block has difficulty 1); it only feeds eth/68's
/// Status, which peers do not use for fork choice any more.
fn head_of(header: &Header, spec: &ChainSpec) -> ChainHead {
    let base = spec.genesis_difficulty.to_u64().unwrap_or(0);
    ChainHead {
        hash: header.hash(),
        number: header.number,
        timestamp: header.timestamp,
        total_difficulty: U256::from_u64(base.saturating_add(header.number)),
    }
}

impl ChainReader for ChainStore {
    fn head(&self) -> ChainHead {
        self.head
    }

    fn earliest(&self) -> u64 {
        0
    }

    fn header_by_hash(&self, hash: &B256) -> Option<Header> {
        self.header(hash).ok().flatten()
    }

    fn header_by_number(&self, number: u64) -> Option<Header> {
        let hash = {
            let r = self.db.begin_read().ok()?;
            let t = r.open_table(CANONICAL).ok()?;
            let v = t.get(number).ok()??;
            <[u8; 32]>::try_from(v.value()).ok()?
        };
        self.header_by_hash(&hash)
    }

    fn body(&self, hash: &B256) -> Option<BlockBody> {
        let r = self.db.begin_read().ok()?;
        let t = r.open_table(BODIES).ok()?;
        let v = t.get(hash.as_slice()).ok()??;
        BlockBody::decode(v.value()).ok()
    }

    fn receipts(&self, hash: &B256) -> Option<Vec<Receipt>> {
        // Nothing is executed: receipts are those the sync fetched and checked, and blocks
        // without transactions have empty ones (go-ethereum stores those too).
        if let Some(bytes) = self.stored_receipts(hash) {
            return decode_receipt_list(&bytes).ok();
        }
        let body = self.body(hash)?;
        body.transactions.is_empty().then(Vec::new)
    }

    fn missing_receipts(&self, from: u64, scan: u64) -> Vec<Header> {
        let end = from
            .saturating_add(scan)
            .min(self.head.number.saturating_add(1));
        (from..end)
            .filter_map(|n| self.header_by_number(n))
            .filter(|h| {
                let hash = h.hash();
                h.receipts_root != EMPTY_ROOT_HASH
                    && self.stored_receipts(&hash).is_none()
                    && !self.receipts_too_large(&hash)
            })
            .collect()
    }
}

impl ChainStore {
    /// Whether `hash` is marked as having receipts too large for one message.
    fn receipts_too_large(&self, hash: &B256) -> bool {
        let Ok(r) = self.db.begin_read() else {
            return false;
        };
        let Ok(t) = r.open_table(RECEIPTS_TOO_LARGE) else {
            return false;
        };
        t.get(hash.as_slice()).ok().flatten().is_some()
    }

    /// The stored receipts of `hash`, still encoded.
    fn stored_receipts(&self, hash: &B256) -> Option<Vec<u8>> {
        let r = self.db.begin_read().ok()?;
        let t = r.open_table(RECEIPTS).ok()?;
        let v = t.get(hash.as_slice()).ok()??;
        Some(v.value().to_vec())
    }

    fn write_receipts(&self, hash: &B256, receipts: &[Receipt]) -> DbResult<()> {
        let w = self.db.begin_write()?;
        w.open_table(RECEIPTS)?
            .insert(hash.as_slice(), encode_receipt_list(receipts).as_slice())?;
        w.commit()?;
        Ok(())
    }
}

impl BlockImporter for ChainStore {
    fn import(&mut self, block: Block) -> ImportResult {
        let hash = block.header.hash();
        if self.header_by_hash(&hash).is_some() {
            return ImportResult::AlreadyKnown;
        }
        let Some(parent) = self.header_by_hash(&block.header.parent_hash) else {
            return ImportResult::UnknownParent;
        };
        if block.header.number != parent.number.saturating_add(1) {
            return ImportResult::Invalid(format!(
                "number {} after parent {}",
                block.header.number, parent.number
            ));
        }
        if block.header.timestamp <= parent.timestamp {
            return ImportResult::Invalid("timestamp not after the parent's".into());
        }
        if let Err(e) = validate_body(&block.header, &block.body) {
            return ImportResult::Invalid(format!("body: {e}"));
        }
        if let Err(e) = self.put(&block.header, &block.body) {
            tracing::warn!(error = %e, "chain database write failed");
            return ImportResult::Invalid("storage failure".into());
        }
        let new_head = block.header.number > self.head.number;
        if new_head {
            if let Err(e) = self.set_canonical(&block.header) {
                tracing::warn!(error = %e, "chain database write failed");
            }
        }
        ImportResult::Imported { new_head }
    }

    fn mark_receipts_too_large(&mut self, hash: &B256) {
        let write = || -> DbResult<()> {
            let w = self.db.begin_write()?;
            w.open_table(RECEIPTS_TOO_LARGE)?
                .insert(hash.as_slice(), ())?;
            w.commit()?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, "chain database write failed");
        }
    }

    fn put_receipts(&mut self, hash: &B256, receipts: Vec<Receipt>) -> Result<(), String> {
        if self.header_by_hash(hash).is_none() {
            return Err("unknown block".into());
        }
        self.write_receipts(hash, &receipts).map_err(|e| {
            tracing::warn!(error = %e, "chain database write failed");
            format!("storage failure: {e}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paxeer_p2p_core::eth::chainspec::paxeer_devnet_genesis;

    pub(crate) fn child(parent: &Header, salt: u8) -> Block {
        let mut h = parent.clone();
        h.parent_hash = parent.hash();
        h.number = parent.number + 1;
        h.timestamp = parent.timestamp + 2;
        h.extra_data = vec![salt];
        Block {
            header: h,
            body: BlockBody {
                transactions: Vec::new(),
                uncles: Vec::new(),
                withdrawals: Some(Vec::new()),
            },
        }
    }

    #[test]
    fn imports_extend_the_head_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain");
        let g = paxeer_devnet_genesis();
        let spec = ChainSpec::paxeer_devnet();
        let b1 = child(&g, 1);
        let b2 = child(&b1.header, 2);
        {
            let mut c = ChainStore::open(&path, spec.clone(), Some(g.clone())).unwrap();
            assert_eq!(c.head().number, 0);
            assert_eq!(c.import(b2.clone()), ImportResult::UnknownParent);
            assert_eq!(
                c.import(b1.clone()),
                ImportResult::Imported { new_head: true }
            );
            assert_eq!(c.import(b1.clone()), ImportResult::AlreadyKnown);
            assert_eq!(
                c.import(b2.clone()),
                ImportResult::Imported { new_head: true }
            );
            let mut bad = child(&b2.header, 3);
            bad.header.number = 9;
            assert!(matches!(c.import(bad), ImportResult::Invalid(_)));
        }
        let c = ChainStore::open(&path, spec, Some(g.clone())).unwrap();
        assert_eq!(c.head().number, 2);
        assert_eq!(c.head().hash, b2.header.hash());
        assert_eq!(c.header_by_number(1).unwrap().hash(), b1.header.hash());
        assert_eq!(c.header_by_number(0).unwrap().hash(), g.hash());
        assert!(c.body(&b1.header.hash()).is_some());
        assert_eq!(c.receipts(&b1.header.hash()), Some(Vec::new()));
    }

    #[test]
    fn receipts_are_missing_until_stored_and_survive_reopening() {
        use paxeer_p2p_core::eth::block::transactions_root;
        use paxeer_p2p_core::eth::receipts::{receipts_root, Log, ReceiptOutcome};
        use paxeer_p2p_core::eth::tx::LegacyTx;
        use paxeer_p2p_core::eth::{Transaction, TxType};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain");
        let g = paxeer_devnet_genesis();
        let spec = ChainSpec::paxeer_devnet();
        let tx = Transaction::Legacy(LegacyTx {
            nonce: 0,
            gas_price: U256::from_u64(1),
            gas_limit: 21_000,
            to: Some([1; 20]),
            value: U256::from_u64(1),
            input: Vec::new(),
            v: U256::from_u64(27),
            r: U256::from_u64(1),
            s: U256::from_u64(1),
        });
        let rs = vec![Receipt {
            tx_type: TxType::Legacy,
            outcome: ReceiptOutcome::Status(true),
            cumulative_gas_used: 21_000,
            logs: vec![Log {
                address: [2; 20],
                topics: vec![[3; 32]],
                data: vec![4],
            }],
        }];
        let mut b1 = child(&g, 1);
        b1.body.transactions = vec![tx.clone()];
        b1.header.transactions_root = transactions_root(&b1.body.transactions);
        b1.header.receipts_root = receipts_root(&rs);
        let mut b2 = child(&b1.header, 2);
        b2.header.transactions_root = EMPTY_ROOT_HASH;
        b2.header.receipts_root = EMPTY_ROOT_HASH;
        let h1 = b1.header.hash();
        {
            let mut c = ChainStore::open(&path, spec.clone(), Some(g.clone())).unwrap();
            assert!(matches!(
                c.import(b1.clone()),
                ImportResult::Imported { .. }
            ));
            assert!(matches!(
                c.import(b2.clone()),
                ImportResult::Imported { .. }
            ));
            let missing: Vec<u64> = c
                .missing_receipts(0, 100)
                .iter()
                .map(|h| h.number)
                .collect();
            assert_eq!(missing, vec![1], "only the block with a transaction");
            assert_eq!(c.receipts(&h1), None);
            // Marked too large for one message: no longer missing, also after reopening.
            c.mark_receipts_too_large(&h1);
            assert!(c.missing_receipts(0, 100).is_empty());
        }
        {
            let mut c = ChainStore::open(&path, spec.clone(), Some(g.clone())).unwrap();
            assert!(c.missing_receipts(0, 100).is_empty());
            assert_eq!(c.receipts(&b2.header.hash()), Some(Vec::new()));
            assert!(
                c.put_receipts(&[9; 32], rs.clone()).is_err(),
                "unknown block"
            );
            c.put_receipts(&h1, rs.clone()).unwrap();
            assert!(c.missing_receipts(0, 100).is_empty());
        }
        let c = ChainStore::open(&path, spec, Some(g)).unwrap();
        assert_eq!(c.receipts(&h1), Some(rs));
        assert!(c.missing_receipts(0, 100).is_empty());
    }
}
