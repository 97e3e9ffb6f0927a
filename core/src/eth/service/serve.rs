//! Answers to the four request messages, within go-ethereum's serving limits
//! (`eth/protocols/eth/handlers.go`). Pure functions of the chain and pool: they never fail;
//! what we lack is left out, as go-ethereum does.

use crate::eth::app::{ChainReader, TxPool};
use crate::eth::block::Header;
use crate::eth::messages::{EthMessage, GetBlockHeaders, HashOrNumber, ReceiptsBody};
use crate::eth::primitives::B256;
use crate::eth::receipts::ReceiptWithBloom;
use crate::eth::version::EthVersion;

/// Most headers in one BlockHeaders (go-ethereum `maxHeadersServe`).
pub const MAX_HEADERS_SERVE: u64 = 1024;
/// Most bodies in one BlockBodies (go-ethereum `maxBodiesServe`).
pub const MAX_BODIES_SERVE: usize = 1024;
/// Most blocks' receipts in one Receipts (go-ethereum `maxReceiptsServe`).
pub const MAX_RECEIPTS_SERVE: usize = 1024;
/// Most transactions in one PooledTransactions: what go-ethereum ever asks for
/// (`maxTxRetrievals`); larger requests are answered partially.
pub const MAX_POOLED_TXS_SERVE: usize = 256;
/// Soft size limit of a response: stop adding once passed (go-ethereum
/// `softResponseLimit`, 2 MiB).
pub const SOFT_RESPONSE_BYTES: usize = 2 * 1024 * 1024;

/// The headers answering `req` (go-ethereum `serviceNonContiguousBlockHeaderQuery`): start at
/// the origin, step `skip + 1` blocks forwards or backwards, stop at the first gap, overflow,
/// [`MAX_HEADERS_SERVE`] or [`SOFT_RESPONSE_BYTES`].
pub fn block_headers(chain: &dyn ChainReader, req: &GetBlockHeaders) -> Vec<Header> {
    let amount = req.amount.min(MAX_HEADERS_SERVE);
    let mut out = Vec::new();
    let mut bytes = 0usize;
    let mut next = match req.origin {
        HashOrNumber::Hash(h) => chain.header_by_hash(&h),
        HashOrNumber::Number(n) => chain.header_by_number(n),
    };
    let step = req.skip.saturating_add(1);
    while let Some(h) = next.take() {
        if u64::try_from(out.len()).unwrap_or(u64::MAX) >= amount || bytes >= SOFT_RESPONSE_BYTES {
            break;
        }
        bytes = bytes.saturating_add(h.encode().len());
        // Hash origins continue by number: our reader only returns canonical headers, so
        // this is go-ethereum's ancestor walk without the canonicality re-check.
        let following = if req.reverse {
            h.number.checked_sub(step)
        } else {
            h.number.checked_add(step)
        };
        out.push(h);
        if u64::try_from(out.len()).unwrap_or(u64::MAX) < amount {
            next = following.and_then(|n| chain.header_by_number(n));
        }
    }
    out
}

/// The bodies of `hashes` we have, in order, within the limits.
pub fn block_bodies(chain: &dyn ChainReader, request_id: u64, hashes: &[B256]) -> EthMessage {
    let mut bodies = Vec::new();
    let mut bytes = 0usize;
    for h in hashes.iter().take(MAX_BODIES_SERVE) {
        if bytes >= SOFT_RESPONSE_BYTES {
            break;
        }
        if let Some(b) = chain.body(h) {
            bytes = bytes.saturating_add(b.encode().len());
            bodies.push(b);
        }
    }
    EthMessage::BlockBodies { request_id, bodies }
}

/// The receipts of `hashes`, in the negotiated version's form, within the limits. Like
/// go-ethereum (`ServiceGetReceiptsQuery69`, v1.17.10), serving stops at the first block
/// whose receipts we do not hold: the answer is a prefix, so each list still sits at its
/// block's position and the asker re-asks the rest elsewhere.
pub fn receipts(
    chain: &dyn ChainReader,
    version: EthVersion,
    request_id: u64,
    hashes: &[B256],
) -> EthMessage {
    let mut blocks = Vec::new();
    let mut bytes = 0usize;
    for h in hashes.iter().take(MAX_RECEIPTS_SERVE) {
        if bytes >= SOFT_RESPONSE_BYTES {
            break;
        }
        let Some(rs) = chain.receipts(h) else {
            break;
        };
        bytes = bytes.saturating_add(rs.iter().map(|r| r.encode_eth69().len()).sum::<usize>());
        blocks.push(rs);
    }
    let receipts = match version {
        EthVersion::Eth68 => ReceiptsBody::Eth68(
            blocks
                .into_iter()
                .map(|rs| {
                    rs.into_iter()
                        .map(|receipt| ReceiptWithBloom {
                            bloom: Box::new(receipt.bloom()),
                            receipt,
                        })
                        .collect()
                })
                .collect(),
        ),
        EthVersion::Eth69 => ReceiptsBody::Eth69(blocks),
    };
    EthMessage::Receipts {
        request_id,
        receipts,
    }
}

/// The pooled transactions of `hashes` we have, within the limits.
pub fn pooled_transactions(pool: &dyn TxPool, request_id: u64, hashes: &[B256]) -> EthMessage {
    let mut transactions = Vec::new();
    let mut bytes = 0usize;
    for h in hashes.iter().take(MAX_POOLED_TXS_SERVE) {
        if bytes >= SOFT_RESPONSE_BYTES {
            break;
        }
        if let Some(tx) = pool.get(h) {
            bytes = bytes.saturating_add(tx.encoded_len());
            transactions.push(tx);
        }
    }
    EthMessage::PooledTransactions {
        request_id,
        transactions,
    }
}
