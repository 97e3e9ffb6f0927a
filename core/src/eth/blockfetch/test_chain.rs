//! Test chains: real headers linked by `parent_hash`, bodies whose roots match, peers.

use crate::eth::block::{transactions_root, uncles_hash, Block, BlockBody, Header};
use crate::eth::primitives::{EMPTY_ROOT_HASH, EMPTY_UNCLES_HASH, U256};
use crate::eth::tx::{LegacyTx, Transaction};
use crate::types::PeerId;

/// A peer id made of one repeated byte.
pub(super) fn peer(n: u8) -> PeerId {
    PeerId([n; 64])
}

/// The genesis-like root of every test chain (block 0).
pub(super) fn genesis() -> Block {
    child_of(&Header::default(), 0, false, 0)
}

/// A child of `parent` at `parent.number + 1` (or 0 for the root), tagged by `fork` in its
/// extra data so siblings differ, with `txs` legacy transactions (an empty body when 0).
pub(super) fn child_of(parent: &Header, fork: u8, with_uncle: bool, txs: u64) -> Block {
    let transactions: Vec<Transaction> = (0..txs)
        .map(|nonce| {
            Transaction::Legacy(LegacyTx {
                nonce,
                gas_price: U256::from_u64(1),
                gas_limit: 21_000,
                to: Some([fork; 20]),
                value: U256::from_u64(nonce),
                input: Vec::new(),
                v: U256::from_u64(27),
                r: U256::from_u64(1),
                s: U256::from_u64(1),
            })
        })
        .collect();
    let uncles = if with_uncle {
        vec![Header {
            number: parent.number,
            extra_data: b"uncle".to_vec(),
            ..Header::default()
        }]
    } else {
        Vec::new()
    };
    let is_root = parent == &Header::default();
    let header = Header {
        parent_hash: if is_root { [0; 32] } else { parent.hash() },
        number: if is_root { 0 } else { parent.number + 1 },
        ommers_hash: if uncles.is_empty() {
            EMPTY_UNCLES_HASH
        } else {
            uncles_hash(&uncles)
        },
        transactions_root: if transactions.is_empty() {
            EMPTY_ROOT_HASH
        } else {
            transactions_root(&transactions)
        },
        extra_data: vec![fork],
        ..Header::default()
    };
    Block {
        header,
        body: BlockBody {
            transactions,
            uncles,
            withdrawals: None,
        },
    }
}

/// `len` blocks after `from`, each with one transaction (so bodies must be fetched).
pub(super) fn extend(from: &Block, len: usize, fork: u8) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::with_capacity(len);
    let mut parent = from.header.clone();
    for _ in 0..len {
        let b = child_of(&parent, fork, false, 1);
        parent = b.header.clone();
        out.push(b);
    }
    out
}
