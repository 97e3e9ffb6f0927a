//! Block headers and bodies, their hashes, and the check of a body against its header.

use crate::crypto::keccak::keccak256;
use crate::eth::error::{Budget, EthDecodeError};
use crate::eth::primitives::{Address, Bloom, B256, EMPTY_ROOT_HASH, U256};
use crate::eth::rlp::{self, Item};
use crate::eth::trie::ordered_trie_root;
use crate::eth::tx::{put_transaction_list, transaction_list, Transaction};

/// Optional trailing fields we know (London base fee through Amsterdam's slot number;
/// go-ethereum `core/types/block.go` `Header`, v1.17.10).
const OPTIONAL_HEADER_FIELDS: usize = 8;

/// A block header. The optional fields form a prefix: each fork appends to the list, so a
/// present field implies all earlier ones are present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Hash of the parent header.
    pub parent_hash: B256,
    /// Keccak of the RLP list of uncle headers.
    pub ommers_hash: B256,
    /// Fee recipient.
    pub beneficiary: Address,
    /// State trie root after the block.
    pub state_root: B256,
    /// Root of the transactions trie.
    pub transactions_root: B256,
    /// Root of the receipts trie.
    pub receipts_root: B256,
    /// Bloom of all logs.
    pub logs_bloom: Box<Bloom>,
    /// Proof-of-work difficulty (0 after the merge).
    pub difficulty: U256,
    /// Block number.
    pub number: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Unix timestamp, seconds.
    pub timestamp: u64,
    /// Free-form extra data.
    pub extra_data: Vec<u8>,
    /// Mix hash (PoW) or prev-randao (PoS).
    pub mix_hash: B256,
    /// PoW nonce.
    pub nonce: [u8; 8],
    /// EIP-1559 base fee (London).
    pub base_fee_per_gas: Option<U256>,
    /// EIP-4895 withdrawals root (Shanghai).
    pub withdrawals_root: Option<B256>,
    /// EIP-4844 blob gas used (Cancun).
    pub blob_gas_used: Option<u64>,
    /// EIP-4844 excess blob gas (Cancun).
    pub excess_blob_gas: Option<u64>,
    /// EIP-4788 parent beacon block root (Cancun).
    pub parent_beacon_block_root: Option<B256>,
    /// EIP-7685 requests hash (Prague).
    pub requests_hash: Option<B256>,
    /// EIP-7928 block access list hash (Amsterdam).
    pub block_access_list_hash: Option<B256>,
    /// EIP-7843 beacon slot number (Amsterdam).
    pub slot_number: Option<u64>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            parent_hash: [0; 32],
            ommers_hash: [0; 32],
            beneficiary: [0; 20],
            state_root: [0; 32],
            transactions_root: [0; 32],
            receipts_root: [0; 32],
            logs_bloom: Box::new([0; 256]),
            difficulty: U256::ZERO,
            number: 0,
            gas_limit: 0,
            gas_used: 0,
            timestamp: 0,
            extra_data: Vec::new(),
            mix_hash: [0; 32],
            nonce: [0; 8],
            base_fee_per_gas: None,
            withdrawals_root: None,
            blob_gas_used: None,
            excess_blob_gas: None,
            parent_beacon_block_root: None,
            requests_hash: None,
            block_access_list_hash: None,
            slot_number: None,
        }
    }
}

impl Header {
    /// The RLP encoding. Optional fields are written up to the last present one; an absent
    /// field before a present one is written as the empty string (as go-ethereum does), which
    /// only makes sense for integers — keep the optional fields a prefix.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(620 + self.extra_data.len());
        for h in [&self.parent_hash, &self.ommers_hash] {
            rlp::put_bytes(&mut p, h);
        }
        rlp::put_bytes(&mut p, &self.beneficiary);
        for h in [
            &self.state_root,
            &self.transactions_root,
            &self.receipts_root,
        ] {
            rlp::put_bytes(&mut p, h);
        }
        rlp::put_bytes(&mut p, &self.logs_bloom[..]);
        rlp::put_u256(&mut p, &self.difficulty);
        rlp::put_u64(&mut p, self.number);
        rlp::put_u64(&mut p, self.gas_limit);
        rlp::put_u64(&mut p, self.gas_used);
        rlp::put_u64(&mut p, self.timestamp);
        rlp::put_bytes(&mut p, &self.extra_data);
        rlp::put_bytes(&mut p, &self.mix_hash);
        rlp::put_bytes(&mut p, &self.nonce);
        let present = [
            self.base_fee_per_gas.is_some(),
            self.withdrawals_root.is_some(),
            self.blob_gas_used.is_some(),
            self.excess_blob_gas.is_some(),
            self.parent_beacon_block_root.is_some(),
            self.requests_hash.is_some(),
            self.block_access_list_hash.is_some(),
            self.slot_number.is_some(),
        ];
        let count = present.iter().rposition(|&x| x).map_or(0, |i| i + 1);
        let empty: &[u8] = &[];
        for i in 0..count {
            match i {
                0 => rlp::put_u256(&mut p, &self.base_fee_per_gas.unwrap_or_default()),
                1 => rlp::put_bytes(&mut p, self.withdrawals_root.as_ref().map_or(empty, |h| h)),
                2 => rlp::put_u64(&mut p, self.blob_gas_used.unwrap_or(0)),
                3 => rlp::put_u64(&mut p, self.excess_blob_gas.unwrap_or(0)),
                4 => rlp::put_bytes(
                    &mut p,
                    self.parent_beacon_block_root.as_ref().map_or(empty, |h| h),
                ),
                5 => rlp::put_bytes(&mut p, self.requests_hash.as_ref().map_or(empty, |h| h)),
                6 => rlp::put_bytes(
                    &mut p,
                    self.block_access_list_hash.as_ref().map_or(empty, |h| h),
                ),
                _ => rlp::put_u64(&mut p, self.slot_number.unwrap_or(0)),
            }
        }
        rlp::list(&p)
    }

    /// The block hash: Keccak-256 of the RLP encoding.
    pub fn hash(&self) -> B256 {
        keccak256(&self.encode())
    }

    /// Decodes one RLP-encoded header (no trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<Self, EthDecodeError> {
        Self::from_item(rlp::single_item(bytes)?)
    }

    /// Decodes a header item: the 15 fixed fields and up to 8 optional ones.
    pub(crate) fn from_item(item: Item<'_>) -> Result<Self, EthDecodeError> {
        let mut f = item.list()?;
        let mut h = Header {
            parent_hash: f.next_item()?.array()?,
            ommers_hash: f.next_item()?.array()?,
            beneficiary: f.next_item()?.array()?,
            state_root: f.next_item()?.array()?,
            transactions_root: f.next_item()?.array()?,
            receipts_root: f.next_item()?.array()?,
            logs_bloom: Box::new(f.next_item()?.array()?),
            difficulty: f.next_item()?.u256()?,
            number: f.next_item()?.u64()?,
            gas_limit: f.next_item()?.u64()?,
            gas_used: f.next_item()?.u64()?,
            timestamp: f.next_item()?.u64()?,
            extra_data: f.next_item()?.bytes()?.to_vec(),
            mix_hash: f.next_item()?.array()?,
            nonce: f.next_item()?.array()?,
            ..Header::default()
        };
        for i in 0..OPTIONAL_HEADER_FIELDS {
            let Some(x) = f.next_opt()? else { break };
            match i {
                0 => h.base_fee_per_gas = Some(x.u256()?),
                1 => h.withdrawals_root = Some(x.array()?),
                2 => h.blob_gas_used = Some(x.u64()?),
                3 => h.excess_blob_gas = Some(x.u64()?),
                4 => h.parent_beacon_block_root = Some(x.array()?),
                5 => h.requests_hash = Some(x.array()?),
                6 => h.block_access_list_hash = Some(x.array()?),
                _ => h.slot_number = Some(x.u64()?),
            }
        }
        f.finish()?;
        Ok(h)
    }
}

/// An EIP-4895 validator withdrawal `[index, validator_index, address, amount_gwei]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Withdrawal {
    /// Monotonic withdrawal index.
    pub index: u64,
    /// Index of the validator.
    pub validator_index: u64,
    /// Recipient.
    pub address: Address,
    /// Amount in gwei.
    pub amount_gwei: u64,
}

impl Withdrawal {
    /// The RLP encoding (the value stored in the withdrawals trie).
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(50);
        rlp::put_u64(&mut p, self.index);
        rlp::put_u64(&mut p, self.validator_index);
        rlp::put_bytes(&mut p, &self.address);
        rlp::put_u64(&mut p, self.amount_gwei);
        rlp::list(&p)
    }

    fn from_item(item: Item<'_>) -> Result<Self, EthDecodeError> {
        let mut f = item.list()?;
        let w = Withdrawal {
            index: f.next_item()?.u64()?,
            validator_index: f.next_item()?.u64()?,
            address: f.next_item()?.array()?,
            amount_gwei: f.next_item()?.u64()?,
        };
        f.finish()?;
        Ok(w)
    }
}

/// A block body: `[transactions, uncles]` or, from Shanghai, `[transactions, uncles,
/// withdrawals]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockBody {
    /// Transactions in block order.
    pub transactions: Vec<Transaction>,
    /// Uncle (ommer) headers.
    pub uncles: Vec<Header>,
    /// Withdrawals, present from Shanghai.
    pub withdrawals: Option<Vec<Withdrawal>>,
}

impl BlockBody {
    /// Appends the body's elements (not wrapped in a list) to `out`.
    pub(crate) fn put_elements(&self, out: &mut Vec<u8>) {
        put_transaction_list(out, &self.transactions);
        let mut u = Vec::new();
        for h in &self.uncles {
            u.extend_from_slice(&h.encode());
        }
        rlp::put_list(out, &u);
        if let Some(ws) = &self.withdrawals {
            let mut w = Vec::with_capacity(ws.len() * 40);
            for x in ws {
                w.extend_from_slice(&x.encode());
            }
            rlp::put_list(out, &w);
        }
    }

    /// The RLP encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::new();
        self.put_elements(&mut p);
        rlp::list(&p)
    }

    /// Decodes one RLP-encoded body (no trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<Self, EthDecodeError> {
        Self::from_item(rlp::single_item(bytes)?, &mut Budget::new())
    }

    /// Decodes a body item.
    pub(crate) fn from_item(item: Item<'_>, b: &mut Budget) -> Result<Self, EthDecodeError> {
        let mut f = item.list()?;
        let body = Self::from_elements(&mut f, b)?;
        f.finish()?;
        Ok(body)
    }

    /// Reads `transactions, uncles[, withdrawals]` from a list reader.
    pub(crate) fn from_elements(
        f: &mut rlp::ListReader<'_>,
        b: &mut Budget,
    ) -> Result<Self, EthDecodeError> {
        b.take(1)?;
        let transactions = transaction_list(f.next_item()?, b)?;
        let mut uncles = Vec::new();
        let mut ul = f.next_item()?.list()?;
        while let Some(u) = ul.next_opt()? {
            b.take(1)?;
            uncles.push(Header::from_item(u)?);
        }
        let withdrawals = match f.next_opt()? {
            None => None,
            Some(item) => {
                let mut wl = item.list()?;
                let mut ws = Vec::new();
                while let Some(w) = wl.next_opt()? {
                    b.take(1)?;
                    ws.push(Withdrawal::from_item(w)?);
                }
                Some(ws)
            }
        };
        Ok(BlockBody {
            transactions,
            uncles,
            withdrawals,
        })
    }
}

/// A full block `[header, transactions, uncles(, withdrawals)]`, as in NewBlock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The body.
    pub body: BlockBody,
}

impl Block {
    /// The RLP encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = self.header.encode();
        self.body.put_elements(&mut p);
        rlp::list(&p)
    }

    /// Decodes one RLP-encoded block (no trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<Self, EthDecodeError> {
        Self::from_item(rlp::single_item(bytes)?, &mut Budget::new())
    }

    /// Decodes a block item.
    pub(crate) fn from_item(item: Item<'_>, b: &mut Budget) -> Result<Self, EthDecodeError> {
        let mut f = item.list()?;
        let header = Header::from_item(f.next_item()?)?;
        let body = BlockBody::from_elements(&mut f, b)?;
        f.finish()?;
        Ok(Block { header, body })
    }
}

/// Keccak of the RLP list of uncle headers (the header's `ommers_hash`).
pub fn uncles_hash(uncles: &[Header]) -> B256 {
    let mut p = Vec::new();
    for h in uncles {
        p.extend_from_slice(&h.encode());
    }
    keccak256(&rlp::list(&p))
}

/// Root of the transactions trie (values are the canonical encodings).
pub fn transactions_root(txs: &[Transaction]) -> B256 {
    let enc: Vec<Vec<u8>> = txs.iter().map(Transaction::encode).collect();
    ordered_trie_root(&enc)
}

/// Root of the withdrawals trie.
pub fn withdrawals_root(ws: &[Withdrawal]) -> B256 {
    let enc: Vec<Vec<u8>> = ws.iter().map(Withdrawal::encode).collect();
    ordered_trie_root(&enc)
}

/// Why a body does not belong to a header. The peer that served it sent a wrong body
/// (go-ethereum's downloader drops such peers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The transactions do not hash to `transactions_root`.
    #[error("transactions root mismatch")]
    TransactionsRoot {
        /// The header's value.
        expected: B256,
        /// The body's.
        got: B256,
    },
    /// The uncles do not hash to `ommers_hash`.
    #[error("uncles hash mismatch")]
    UnclesHash {
        /// The header's value.
        expected: B256,
        /// The body's.
        got: B256,
    },
    /// The header has a withdrawals root but the body no withdrawals.
    #[error("body lacks withdrawals")]
    MissingWithdrawals,
    /// The body has withdrawals but the header no withdrawals root.
    #[error("body has unexpected withdrawals")]
    UnexpectedWithdrawals,
    /// The withdrawals do not hash to `withdrawals_root`.
    #[error("withdrawals root mismatch")]
    WithdrawalsRoot {
        /// The header's value.
        expected: B256,
        /// The body's.
        got: B256,
    },
}

/// Checks that `body` is the body of `header` (transactions root, uncles hash, withdrawals
/// presence and root). Cheap checks run first: an empty body against an empty-root header
/// costs no hashing of transactions.
pub fn validate_body(header: &Header, body: &BlockBody) -> Result<(), BodyError> {
    let got = uncles_hash(&body.uncles);
    if got != header.ommers_hash {
        return Err(BodyError::UnclesHash {
            expected: header.ommers_hash,
            got,
        });
    }
    match (&header.withdrawals_root, &body.withdrawals) {
        (Some(_), None) => return Err(BodyError::MissingWithdrawals),
        (None, Some(_)) => return Err(BodyError::UnexpectedWithdrawals),
        (Some(expected), Some(ws)) => {
            let got = if ws.is_empty() {
                EMPTY_ROOT_HASH
            } else {
                withdrawals_root(ws)
            };
            if got != *expected {
                return Err(BodyError::WithdrawalsRoot {
                    expected: *expected,
                    got,
                });
            }
        }
        (None, None) => {}
    }
    let got = transactions_root(&body.transactions);
    if got != header.transactions_root {
        return Err(BodyError::TransactionsRoot {
            expected: header.transactions_root,
            got,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
