//! Every eth/68, eth/69 and eth/70 message, with its relative message id, as one typed enum.
//!
//! Requests and responses carry the EIP-2481 request id: `[request_id, body]`. Decoding is
//! total and bounded: a payload above [`MAX_MESSAGE_BYTES`] is refused before parsing and
//! the number of decoded objects is capped (see [`MAX_OBJECTS_PER_MESSAGE`]).
//!
//! [`MAX_OBJECTS_PER_MESSAGE`]: crate::eth::error::MAX_OBJECTS_PER_MESSAGE

use crate::eth::block::{Block, BlockBody, Header};
use crate::eth::error::{Budget, EthDecodeError, MAX_MESSAGE_BYTES};
use crate::eth::primitives::{B256, U256};
use crate::eth::receipts::{Receipt, ReceiptWithBloom};
use crate::eth::rlp::{self, Item};
use crate::eth::status::Status;
use crate::eth::tx::fields::{hashes, put_hashes};
use crate::eth::tx::{
    put_transaction_list, transaction_list, PooledTransaction, Transaction, TxType,
};
use crate::eth::version::EthVersion;

/// Relative message ids (devp2p `caps/eth.md`, go-ethereum `eth/protocols/eth/protocol.go`).
pub mod id {
    /// Status.
    pub const STATUS: u8 = 0x00;
    /// NewBlockHashes.
    pub const NEW_BLOCK_HASHES: u8 = 0x01;
    /// Transactions.
    pub const TRANSACTIONS: u8 = 0x02;
    /// GetBlockHeaders.
    pub const GET_BLOCK_HEADERS: u8 = 0x03;
    /// BlockHeaders.
    pub const BLOCK_HEADERS: u8 = 0x04;
    /// GetBlockBodies.
    pub const GET_BLOCK_BODIES: u8 = 0x05;
    /// BlockBodies.
    pub const BLOCK_BODIES: u8 = 0x06;
    /// NewBlock.
    pub const NEW_BLOCK: u8 = 0x07;
    /// NewPooledTransactionHashes.
    pub const NEW_POOLED_TRANSACTION_HASHES: u8 = 0x08;
    /// GetPooledTransactions.
    pub const GET_POOLED_TRANSACTIONS: u8 = 0x09;
    /// PooledTransactions.
    pub const POOLED_TRANSACTIONS: u8 = 0x0a;
    /// GetReceipts.
    pub const GET_RECEIPTS: u8 = 0x0f;
    /// Receipts.
    pub const RECEIPTS: u8 = 0x10;
    /// BlockRangeUpdate (eth/69).
    pub const BLOCK_RANGE_UPDATE: u8 = 0x11;
}

/// One entry of NewBlockHashes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockHashNumber {
    /// Block hash.
    pub hash: B256,
    /// Block number.
    pub number: u64,
}

/// Where a header request starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashOrNumber {
    /// By hash.
    Hash(B256),
    /// By number.
    Number(u64),
}

/// GetBlockHeaders `[request_id, [origin, amount, skip, reverse]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GetBlockHeaders {
    /// EIP-2481 request id.
    pub request_id: u64,
    /// First block.
    pub origin: HashOrNumber,
    /// Most headers wanted.
    pub amount: u64,
    /// Blocks skipped between two headers.
    pub skip: u64,
    /// Towards genesis when true.
    pub reverse: bool,
}

/// One announced transaction of NewPooledTransactionHashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxAnnouncement {
    /// Transaction type byte (kept raw: unknown types are the fetcher's call).
    pub tx_type: u8,
    /// Size of the network encoding in bytes.
    pub size: u32,
    /// Transaction hash.
    pub hash: B256,
}

/// Receipts of one response, in the negotiated version's form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceiptsBody {
    /// eth/68: consensus receipts with blooms, per block.
    Eth68(Vec<Vec<ReceiptWithBloom>>),
    /// eth/69: bloomless receipts, per block.
    Eth69(Vec<Vec<Receipt>>),
    /// eth/70 (EIP-7975): bloomless receipts, per block; the last list may be a page.
    Eth70 {
        /// The last list holds only part of its block's receipts (the rest is asked for
        /// with [`EthMessage::GetReceipts70`] from the next index).
        last_block_incomplete: bool,
        /// Receipts per block; the first one starts at the request's first index.
        lists: Vec<Vec<Receipt>>,
    },
}

/// An eth protocol message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EthMessage {
    /// 0x00: handshake.
    Status(Status),
    /// 0x01: announced new blocks (pre-merge networks).
    NewBlockHashes(Vec<BlockHashNumber>),
    /// 0x02: full transactions, pushed.
    Transactions(Vec<Transaction>),
    /// 0x03.
    GetBlockHeaders(GetBlockHeaders),
    /// 0x04.
    BlockHeaders {
        /// EIP-2481 request id.
        request_id: u64,
        /// Headers.
        headers: Vec<Header>,
    },
    /// 0x05.
    GetBlockBodies {
        /// EIP-2481 request id.
        request_id: u64,
        /// Block hashes.
        hashes: Vec<B256>,
    },
    /// 0x06.
    BlockBodies {
        /// EIP-2481 request id.
        request_id: u64,
        /// Bodies.
        bodies: Vec<BlockBody>,
    },
    /// 0x07: a full block with the total difficulty (pre-merge networks).
    NewBlock {
        /// The block.
        block: Box<Block>,
        /// Total difficulty including this block.
        total_difficulty: U256,
    },
    /// 0x08: announced transactions `[types, [sizes], [hashes]]` (eth/68 form).
    NewPooledTransactionHashes(Vec<TxAnnouncement>),
    /// 0x09.
    GetPooledTransactions {
        /// EIP-2481 request id.
        request_id: u64,
        /// Transaction hashes.
        hashes: Vec<B256>,
    },
    /// 0x0a.
    PooledTransactions {
        /// EIP-2481 request id.
        request_id: u64,
        /// Transactions, blob ones with sidecars.
        transactions: Vec<PooledTransaction>,
    },
    /// 0x0f.
    GetReceipts {
        /// EIP-2481 request id.
        request_id: u64,
        /// Block hashes.
        hashes: Vec<B256>,
    },
    /// 0x0f in eth/70: the first block's receipts are wanted from an index on.
    GetReceipts70 {
        /// EIP-2481 request id.
        request_id: u64,
        /// Receipts of the first block below this index are left out of the answer.
        first_block_receipt_index: u64,
        /// Block hashes.
        hashes: Vec<B256>,
    },
    /// 0x10.
    Receipts {
        /// EIP-2481 request id.
        request_id: u64,
        /// Receipts per block.
        receipts: ReceiptsBody,
    },
    /// 0x11 (eth/69): the sender's served block range changed.
    BlockRangeUpdate {
        /// Earliest block served.
        earliest: u64,
        /// Latest block served.
        latest: u64,
        /// Hash of the latest block.
        latest_hash: B256,
    },
}

impl EthMessage {
    /// The relative message id.
    pub fn msg_id(&self) -> u8 {
        match self {
            EthMessage::Status(_) => id::STATUS,
            EthMessage::NewBlockHashes(_) => id::NEW_BLOCK_HASHES,
            EthMessage::Transactions(_) => id::TRANSACTIONS,
            EthMessage::GetBlockHeaders(_) => id::GET_BLOCK_HEADERS,
            EthMessage::BlockHeaders { .. } => id::BLOCK_HEADERS,
            EthMessage::GetBlockBodies { .. } => id::GET_BLOCK_BODIES,
            EthMessage::BlockBodies { .. } => id::BLOCK_BODIES,
            EthMessage::NewBlock { .. } => id::NEW_BLOCK,
            EthMessage::NewPooledTransactionHashes(_) => id::NEW_POOLED_TRANSACTION_HASHES,
            EthMessage::GetPooledTransactions { .. } => id::GET_POOLED_TRANSACTIONS,
            EthMessage::PooledTransactions { .. } => id::POOLED_TRANSACTIONS,
            EthMessage::GetReceipts { .. } | EthMessage::GetReceipts70 { .. } => id::GET_RECEIPTS,
            EthMessage::Receipts { .. } => id::RECEIPTS,
            EthMessage::BlockRangeUpdate { .. } => id::BLOCK_RANGE_UPDATE,
        }
    }

    /// The request id of a request or response, `None` for notifications.
    pub fn request_id(&self) -> Option<u64> {
        match self {
            EthMessage::GetBlockHeaders(g) => Some(g.request_id),
            EthMessage::BlockHeaders { request_id, .. }
            | EthMessage::GetBlockBodies { request_id, .. }
            | EthMessage::BlockBodies { request_id, .. }
            | EthMessage::GetPooledTransactions { request_id, .. }
            | EthMessage::PooledTransactions { request_id, .. }
            | EthMessage::GetReceipts { request_id, .. }
            | EthMessage::GetReceipts70 { request_id, .. }
            | EthMessage::Receipts { request_id, .. } => Some(*request_id),
            _ => None,
        }
    }

    /// The RLP payload (without the message id; not snappy-compressed).
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::new();
        match self {
            EthMessage::Status(s) => return s.encode(),
            EthMessage::NewBlockHashes(list) => {
                for e in list {
                    let mut x = Vec::with_capacity(42);
                    rlp::put_bytes(&mut x, &e.hash);
                    rlp::put_u64(&mut x, e.number);
                    rlp::put_list(&mut p, &x);
                }
            }
            EthMessage::Transactions(txs) => {
                put_transaction_list(&mut p, txs);
                return p;
            }
            EthMessage::GetBlockHeaders(g) => {
                rlp::put_u64(&mut p, g.request_id);
                let mut q = Vec::with_capacity(50);
                match g.origin {
                    HashOrNumber::Hash(h) => rlp::put_bytes(&mut q, &h),
                    HashOrNumber::Number(n) => rlp::put_u64(&mut q, n),
                }
                rlp::put_u64(&mut q, g.amount);
                rlp::put_u64(&mut q, g.skip);
                rlp::put_bool(&mut q, g.reverse);
                rlp::put_list(&mut p, &q);
            }
            EthMessage::BlockHeaders {
                request_id,
                headers,
            } => {
                rlp::put_u64(&mut p, *request_id);
                let mut q = Vec::new();
                for h in headers {
                    q.extend_from_slice(&h.encode());
                }
                rlp::put_list(&mut p, &q);
            }
            EthMessage::GetBlockBodies { request_id, hashes }
            | EthMessage::GetPooledTransactions { request_id, hashes }
            | EthMessage::GetReceipts { request_id, hashes } => {
                rlp::put_u64(&mut p, *request_id);
                put_hashes(&mut p, hashes);
            }
            EthMessage::GetReceipts70 {
                request_id,
                first_block_receipt_index,
                hashes,
            } => {
                rlp::put_u64(&mut p, *request_id);
                rlp::put_u64(&mut p, *first_block_receipt_index);
                put_hashes(&mut p, hashes);
            }
            EthMessage::BlockBodies { request_id, bodies } => {
                rlp::put_u64(&mut p, *request_id);
                let mut q = Vec::new();
                for b in bodies {
                    q.extend_from_slice(&b.encode());
                }
                rlp::put_list(&mut p, &q);
            }
            EthMessage::NewBlock {
                block,
                total_difficulty,
            } => {
                p.extend_from_slice(&block.encode());
                rlp::put_u256(&mut p, total_difficulty);
            }
            EthMessage::NewPooledTransactionHashes(anns) => {
                let types: Vec<u8> = anns.iter().map(|a| a.tx_type).collect();
                rlp::put_bytes(&mut p, &types);
                let mut sizes = Vec::with_capacity(anns.len() * 5);
                for a in anns {
                    rlp::put_u64(&mut sizes, u64::from(a.size));
                }
                rlp::put_list(&mut p, &sizes);
                let hs: Vec<B256> = anns.iter().map(|a| a.hash).collect();
                put_hashes(&mut p, &hs);
            }
            EthMessage::PooledTransactions {
                request_id,
                transactions,
            } => {
                rlp::put_u64(&mut p, *request_id);
                let mut q = Vec::new();
                for t in transactions {
                    t.put_message_item(&mut q);
                }
                rlp::put_list(&mut p, &q);
            }
            EthMessage::Receipts {
                request_id,
                receipts,
            } => {
                rlp::put_u64(&mut p, *request_id);
                let mut q = Vec::new();
                match receipts {
                    ReceiptsBody::Eth68(blocks) => {
                        for block in blocks {
                            let mut r = Vec::new();
                            for x in block {
                                x.put_message_item(&mut r);
                            }
                            rlp::put_list(&mut q, &r);
                        }
                    }
                    ReceiptsBody::Eth69(blocks) => put_eth69_lists(&mut q, blocks),
                    ReceiptsBody::Eth70 {
                        last_block_incomplete,
                        lists,
                    } => {
                        rlp::put_bool(&mut p, *last_block_incomplete);
                        put_eth69_lists(&mut q, lists);
                    }
                }
                rlp::put_list(&mut p, &q);
            }
            EthMessage::BlockRangeUpdate {
                earliest,
                latest,
                latest_hash,
            } => {
                rlp::put_u64(&mut p, *earliest);
                rlp::put_u64(&mut p, *latest);
                rlp::put_bytes(&mut p, latest_hash);
            }
        }
        rlp::list(&p)
    }

    /// Decodes the payload of message `msg_id` under the negotiated `version`.
    pub fn decode(version: EthVersion, msg_id: u8, payload: &[u8]) -> Result<Self, EthDecodeError> {
        if payload.len() > MAX_MESSAGE_BYTES {
            return Err(EthDecodeError::TooLarge(payload.len()));
        }
        let unknown = EthDecodeError::UnknownMessage {
            version: version.as_u32(),
            msg_id,
        };
        if msg_id >= version.message_count() {
            return Err(unknown);
        }
        let item = rlp::single_item(payload)?;
        let mut b = Budget::new();
        let msg = match msg_id {
            id::STATUS => EthMessage::Status(Status::from_item(version, item)?),
            id::NEW_BLOCK_HASHES => {
                let mut l = item.list()?;
                let mut out = Vec::new();
                while let Some(e) = l.next_opt()? {
                    let mut f = e.list()?;
                    let hash = f.next_item()?.array()?;
                    let number = f.next_item()?.u64()?;
                    f.finish()?;
                    out.push(BlockHashNumber { hash, number });
                }
                EthMessage::NewBlockHashes(out)
            }
            id::TRANSACTIONS => EthMessage::Transactions(transaction_list(item, &mut b)?),
            id::GET_BLOCK_HEADERS => {
                let (request_id, body) = request(item)?;
                let mut f = body.list()?;
                let origin = f.next_item()?;
                let origin = match origin.bytes()?.len() {
                    32 => HashOrNumber::Hash(origin.array()?),
                    0..=8 => HashOrNumber::Number(origin.u64()?),
                    _ => return Err(EthDecodeError::Invalid("header request origin size")),
                };
                let g = GetBlockHeaders {
                    request_id,
                    origin,
                    amount: f.next_item()?.u64()?,
                    skip: f.next_item()?.u64()?,
                    reverse: f.next_item()?.bool()?,
                };
                f.finish()?;
                EthMessage::GetBlockHeaders(g)
            }
            id::BLOCK_HEADERS => {
                let (request_id, body) = request(item)?;
                let mut l = body.list()?;
                let mut headers = Vec::new();
                while let Some(h) = l.next_opt()? {
                    b.take(1)?;
                    headers.push(Header::from_item(h)?);
                }
                EthMessage::BlockHeaders {
                    request_id,
                    headers,
                }
            }
            id::GET_BLOCK_BODIES => {
                let (request_id, body) = request(item)?;
                EthMessage::GetBlockBodies {
                    request_id,
                    hashes: hashes(body)?,
                }
            }
            id::BLOCK_BODIES => {
                let (request_id, body) = request(item)?;
                let mut l = body.list()?;
                let mut bodies = Vec::new();
                while let Some(x) = l.next_opt()? {
                    bodies.push(BlockBody::from_item(x, &mut b)?);
                }
                EthMessage::BlockBodies { request_id, bodies }
            }
            id::NEW_BLOCK => {
                let mut f = item.list()?;
                let block = Block::from_item(f.next_item()?, &mut b)?;
                let total_difficulty = f.next_item()?.u256()?;
                f.finish()?;
                EthMessage::NewBlock {
                    block: Box::new(block),
                    total_difficulty,
                }
            }
            id::NEW_POOLED_TRANSACTION_HASHES => {
                EthMessage::NewPooledTransactionHashes(announcements(item)?)
            }
            id::GET_POOLED_TRANSACTIONS => {
                let (request_id, body) = request(item)?;
                EthMessage::GetPooledTransactions {
                    request_id,
                    hashes: hashes(body)?,
                }
            }
            id::POOLED_TRANSACTIONS => {
                let (request_id, body) = request(item)?;
                let mut l = body.list()?;
                let mut transactions = Vec::new();
                while let Some(x) = l.next_opt()? {
                    transactions.push(PooledTransaction::from_message_item(x, &mut b)?);
                }
                EthMessage::PooledTransactions {
                    request_id,
                    transactions,
                }
            }
            id::GET_RECEIPTS if version >= EthVersion::Eth70 => {
                let mut f = item.list()?;
                let request_id = f.next_item()?.u64()?;
                let first_block_receipt_index = f.next_item()?.u64()?;
                let body = f.next_item()?;
                f.finish()?;
                EthMessage::GetReceipts70 {
                    request_id,
                    first_block_receipt_index,
                    hashes: hashes(body)?,
                }
            }
            id::RECEIPTS if version >= EthVersion::Eth70 => {
                let mut f = item.list()?;
                let request_id = f.next_item()?.u64()?;
                let last_block_incomplete = f.next_item()?.bool()?;
                let body = f.next_item()?;
                f.finish()?;
                EthMessage::Receipts {
                    request_id,
                    receipts: ReceiptsBody::Eth70 {
                        last_block_incomplete,
                        lists: eth69_lists(body, &mut b)?,
                    },
                }
            }
            id::GET_RECEIPTS => {
                let (request_id, body) = request(item)?;
                EthMessage::GetReceipts {
                    request_id,
                    hashes: hashes(body)?,
                }
            }
            id::RECEIPTS => {
                let (request_id, body) = request(item)?;
                let receipts = match version {
                    EthVersion::Eth68 => {
                        let mut blocks = body.list()?;
                        let mut out = Vec::new();
                        while let Some(block) = blocks.next_opt()? {
                            b.take(1)?;
                            let mut l = block.list()?;
                            let mut rs = Vec::new();
                            while let Some(r) = l.next_opt()? {
                                rs.push(ReceiptWithBloom::from_message_item(r, &mut b)?);
                            }
                            out.push(rs);
                        }
                        ReceiptsBody::Eth68(out)
                    }
                    _ => ReceiptsBody::Eth69(eth69_lists(body, &mut b)?),
                };
                EthMessage::Receipts {
                    request_id,
                    receipts,
                }
            }
            id::BLOCK_RANGE_UPDATE => {
                let mut f = item.list()?;
                let m = EthMessage::BlockRangeUpdate {
                    earliest: f.next_item()?.u64()?,
                    latest: f.next_item()?.u64()?,
                    latest_hash: f.next_item()?.array()?,
                };
                f.finish()?;
                m
            }
            _ => return Err(unknown),
        };
        Ok(msg)
    }
}

/// Appends per-block lists of bloomless (eth/69 form) receipts, each block a list.
fn put_eth69_lists(out: &mut Vec<u8>, blocks: &[Vec<Receipt>]) {
    for block in blocks {
        let mut r = Vec::new();
        for x in block {
            r.extend_from_slice(&x.encode_eth69());
        }
        rlp::put_list(out, &r);
    }
}

/// Decodes a list of per-block lists of bloomless receipts within the object budget.
fn eth69_lists(item: Item<'_>, b: &mut Budget) -> Result<Vec<Vec<Receipt>>, EthDecodeError> {
    let mut blocks = item.list()?;
    let mut out = Vec::new();
    while let Some(block) = blocks.next_opt()? {
        b.take(1)?;
        let mut l = block.list()?;
        let mut rs = Vec::new();
        while let Some(r) = l.next_opt()? {
            rs.push(Receipt::from_eth69_item(r, b)?);
        }
        out.push(rs);
    }
    Ok(out)
}

/// Splits `[request_id, body]`.
fn request(item: Item<'_>) -> Result<(u64, Item<'_>), EthDecodeError> {
    let mut f = item.list()?;
    let request_id = f.next_item()?.u64()?;
    let body = f.next_item()?;
    f.finish()?;
    Ok((request_id, body))
}

/// Decodes `[types, [sizes], [hashes]]`, requiring the three to have the same length.
fn announcements(item: Item<'_>) -> Result<Vec<TxAnnouncement>, EthDecodeError> {
    let mut f = item.list()?;
    let types = f.next_item()?.bytes()?;
    let mut sizes = f.next_item()?.list()?;
    let mut hashes = f.next_item()?.list()?;
    f.finish()?;
    // No preallocation from `types.len()`: each entry must also bring a size and a hash,
    // so memory grows only with entries actually present.
    let mut out = Vec::new();
    for &tx_type in types {
        let (Some(size), Some(hash)) = (sizes.next_opt()?, hashes.next_opt()?) else {
            return Err(EthDecodeError::Invalid("announcement lengths disagree"));
        };
        let size = u32::try_from(size.u64()?)
            .map_err(|_| EthDecodeError::Invalid("announced size above u32"))?;
        out.push(TxAnnouncement {
            tx_type,
            size,
            hash: hash.array()?,
        });
    }
    if !sizes.is_empty() || !hashes.is_empty() {
        return Err(EthDecodeError::Invalid("announcement lengths disagree"));
    }
    Ok(out)
}

impl TxAnnouncement {
    /// The announcement of a pool transaction (type, network size, hash).
    pub fn of(tx: &PooledTransaction) -> Self {
        TxAnnouncement {
            tx_type: tx.tx_type().as_u8(),
            size: u32::try_from(tx.encoded_len()).unwrap_or(u32::MAX),
            hash: tx.hash(),
        }
    }

    /// The announced type, if known.
    pub fn known_type(&self) -> Option<TxType> {
        TxType::from_u8(self.tx_type)
    }
}
