//! Receipt serving on eth/69 and eth/70: whole lists, and eth/70 pages cut at the packet
//! limit that continue from the asked index.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use super::serve::{self, MAX_PACKET_BYTES};
use crate::eth::app::{ChainHead, ChainReader};
use crate::eth::block::{BlockBody, Header};
use crate::eth::messages::{EthMessage, ReceiptsBody};
use crate::eth::primitives::{B256, U256};
use crate::eth::receipts::{Log, Receipt, ReceiptOutcome};
use crate::eth::tx::TxType;
use crate::eth::version::EthVersion;

/// Receipts by block hash, nothing else.
struct Receipts(BTreeMap<B256, Vec<Receipt>>);

impl ChainReader for Receipts {
    fn head(&self) -> ChainHead {
        ChainHead {
            hash: [0; 32],
            number: 0,
            timestamp: 0,
            total_difficulty: U256::from_u64(0),
        }
    }
    fn earliest(&self) -> u64 {
        0
    }
    fn header_by_hash(&self, _: &B256) -> Option<Header> {
        None
    }
    fn header_by_number(&self, _: u64) -> Option<Header> {
        None
    }
    fn body(&self, _: &B256) -> Option<BlockBody> {
        None
    }
    fn receipts(&self, hash: &B256) -> Option<Vec<Receipt>> {
        self.0.get(hash).cloned()
    }
}

/// `n` receipts of about `data` bytes of log data each.
fn receipts(n: usize, data: usize) -> Vec<Receipt> {
    (0..n)
        .map(|i| Receipt {
            tx_type: TxType::Eip1559,
            outcome: ReceiptOutcome::Status(true),
            cumulative_gas_used: 21_000 * (i as u64 + 1),
            logs: vec![Log {
                address: [i as u8; 20],
                topics: Vec::new(),
                data: vec![7; data],
            }],
        })
        .collect()
}

fn lists(msg: EthMessage) -> (Vec<Vec<Receipt>>, bool) {
    match msg {
        EthMessage::Receipts {
            receipts:
                ReceiptsBody::Eth70 {
                    last_block_incomplete,
                    lists,
                },
            ..
        } => (lists, last_block_incomplete),
        EthMessage::Receipts {
            receipts: ReceiptsBody::Eth69(lists),
            ..
        } => (lists, false),
        other => panic!("not a receipts answer: {other:?}"),
    }
}

/// Block 1 small, block 2 with 24 MiB of receipts (1 MiB each), block 3 small.
fn chain() -> (Receipts, Vec<B256>) {
    let hashes = vec![[1; 32], [2; 32], [3; 32]];
    let mut m = BTreeMap::new();
    m.insert(hashes[0], receipts(3, 100));
    m.insert(hashes[1], receipts(24, 1 << 20));
    m.insert(hashes[2], receipts(2, 100));
    (Receipts(m), hashes)
}

#[test]
fn eth70_pages_a_large_list_and_continues_from_the_index() {
    let (chain, hashes) = chain();
    let whole = chain.0[&hashes[1]].clone();
    let mut got: Vec<Receipt> = Vec::new();
    let mut asks = 0;
    loop {
        asks += 1;
        assert!(asks < 10, "paging does not end");
        let first = got.len() as u64;
        let msg = serve::receipts(&chain, EthVersion::Eth70, 5, first, &hashes[1..]);
        let enc = msg.encode();
        // Within the packet limit, save the request id, flag and list headers.
        assert!(enc.len() <= MAX_PACKET_BYTES + 64, "{}", enc.len());
        let (mut ls, incomplete) = lists(msg);
        assert!(!ls.is_empty());
        got.append(&mut ls[0]);
        if incomplete {
            assert_eq!(ls.len(), 1, "nothing follows an incomplete list");
            continue;
        }
        // The rest of block 2 ends the answer: it is past the soft limit.
        assert_eq!(got, whole);
        assert_eq!(ls.len(), 1);
        break;
    }
    assert_eq!(asks, 3, "24 MiB in pages of at most 10 MiB");
}

#[test]
fn eth70_serves_small_lists_whole_and_skips_the_first_ones_asked() {
    let (chain, hashes) = chain();
    let (ls, incomplete) = lists(serve::receipts(
        &chain,
        EthVersion::Eth70,
        1,
        2,
        &[hashes[0], hashes[2]],
    ));
    assert!(!incomplete);
    assert_eq!(
        ls,
        vec![
            chain.0[&hashes[0]][2..].to_vec(),
            chain.0[&hashes[2]].clone()
        ]
    );
    // An index past the list yields an empty first list, not the end of the answer.
    let (ls, _) = lists(serve::receipts(
        &chain,
        EthVersion::Eth70,
        1,
        9,
        &[hashes[0], hashes[2]],
    ));
    assert_eq!(ls, vec![Vec::new(), chain.0[&hashes[2]].clone()]);
}

#[test]
fn eth69_ignores_the_index_and_serves_whole_lists() {
    let (chain, hashes) = chain();
    let (ls, _) = lists(serve::receipts(&chain, EthVersion::Eth69, 1, 2, &hashes));
    // The soft limit stops after block 2, which is sent whole (above the packet limit).
    assert_eq!(ls.len(), 2);
    assert_eq!(ls[1], chain.0[&hashes[1]]);
}

#[test]
fn a_first_receipt_above_the_remaining_room_ends_the_answer() {
    let hashes = [[1; 32], [2; 32]];
    let mut m = BTreeMap::new();
    m.insert(hashes[0], receipts(1, 1_900_000));
    m.insert(hashes[1], receipts(1, 9 << 20));
    let chain = Receipts(m);
    let (ls, incomplete) = lists(serve::receipts(&chain, EthVersion::Eth70, 1, 0, &hashes));
    assert!(!incomplete);
    assert_eq!(ls, vec![chain.0[&hashes[0]].clone()]);
}
