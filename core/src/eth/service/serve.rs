//! Answers to the four request messages, within go-ethereum's serving limits
//! (`eth/protocols/eth/handlers.go`). Pure functions of the chain and pool: they never fail;
//! what we lack is left out, as go-ethereum does.

use crate::eth::app::{ChainReader, TxPool};
use crate::eth::block::Header;
use crate::eth::messages::{EthMessage, GetBlockHeaders, HashOrNumber, ReceiptsBody};
use crate::eth::primitives::B256;
use crate::eth::receipts::{Receipt, ReceiptWithBloom};
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
/// go-ethereum (`ServiceGetReceiptsQuery69` and `serviceGetReceiptsQuery70`, v1.17.10),
/// serving stops at the first block whose receipts we do not hold: the answer is a prefix,
/// so each list still sits at its block's position and the asker re-asks the rest elsewhere.
///
/// On eth/70 the first block's receipts below `first_index` are left out, and a block's list
/// is cut where it would take the answer past [`MAX_PACKET_BYTES`]: the answer then ends
/// with that page and says its last block is incomplete. A block whose first receipt does
/// not fit is not served at all. Below eth/70 `first_index` is ignored and lists are whole.
pub fn receipts(
    chain: &dyn ChainReader,
    version: EthVersion,
    request_id: u64,
    first_index: u64,
    hashes: &[B256],
) -> EthMessage {
    let paged = version >= EthVersion::Eth70;
    let mut blocks = Vec::new();
    let mut bytes = 0usize;
    let mut last_block_incomplete = false;
    for (i, h) in hashes.iter().take(MAX_RECEIPTS_SERVE).enumerate() {
        if bytes >= SOFT_RESPONSE_BYTES {
            break;
        }
        let Some(rs) = chain.receipts(h) else {
            break;
        };
        let skip = if paged && i == 0 {
            usize::try_from(first_index).unwrap_or(usize::MAX)
        } else {
            0
        };
        let limit = paged.then(|| MAX_PACKET_BYTES.saturating_sub(bytes));
        let Some(page) = receipt_page(rs, skip, limit) else {
            break;
        };
        bytes = bytes.saturating_add(page.bytes);
        blocks.push(page.receipts);
        if page.incomplete {
            last_block_incomplete = true;
            break;
        }
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
        EthVersion::Eth70 => ReceiptsBody::Eth70 {
            last_block_incomplete,
            lists: blocks,
        },
    };
    EthMessage::Receipts {
        request_id,
        receipts,
    }
}

/// Size cap of one eth/70 Receipts answer, which receipt lists are paged to (go-ethereum
/// `maxPacketSize`, 10 MiB, the message limit clients commonly enforce).
pub const MAX_PACKET_BYTES: usize = 10 * 1024 * 1024;

/// What of one block's receipts goes into an answer.
struct Page {
    receipts: Vec<Receipt>,
    /// Their eth/69 encodings' total size.
    bytes: usize,
    /// Receipts after these were left out for the size limit.
    incomplete: bool,
}

/// The receipts of one block from index `skip` on, as many as fit in `limit` bytes (all
/// when there is no limit); `None` when not even the first of them fits.
fn receipt_page(receipts: Vec<Receipt>, skip: usize, limit: Option<usize>) -> Option<Page> {
    let mut page = Page {
        receipts: Vec::new(),
        bytes: 0,
        incomplete: false,
    };
    for r in receipts.into_iter().skip(skip) {
        let size = r.encode_eth69().len();
        if limit.is_some_and(|l| page.bytes.saturating_add(size) > l) {
            if page.receipts.is_empty() {
                return None;
            }
            page.incomplete = true;
            break;
        }
        page.bytes = page.bytes.saturating_add(size);
        page.receipts.push(r);
    }
    Some(page)
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
