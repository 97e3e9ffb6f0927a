//! The block fetcher inside the machine, driven by hand-made peer messages: a block
//! announced by hash is fetched header then body and imported, a body that does not match
//! its header is penalised, and blocks arriving out of order are imported in order.

use std::collections::BTreeMap;

use super::tests::{reports, Rig};
use super::*;
use crate::eth::app::{BlockImporter, ChainHead, ChainReader};
use crate::eth::block::{transactions_root, BlockBody, Header};
use crate::eth::blockfetch::{ARRIVE_TIMEOUT, GATHER_SLACK};
use crate::eth::chainspec::paxeer_devnet_genesis;
use crate::eth::messages::{BlockHashNumber, GetBlockHeaders, HashOrNumber};
use crate::eth::primitives::{B256, EMPTY_ROOT_HASH};
use crate::eth::receipts::Receipt;
use crate::eth::tx::{LegacyTx, Transaction};
use crate::eth::U256;
use crate::protocol::ProtocolAction;

/// A canonical chain from the devnet genesis that only accepts children of its head.
struct LinkedChain(Vec<Block>);

impl LinkedChain {
    fn new() -> Self {
        let header = paxeer_devnet_genesis();
        let body = BlockBody {
            withdrawals: header.withdrawals_root.map(|_| Vec::new()),
            ..BlockBody::default()
        };
        LinkedChain(vec![Block { header, body }])
    }

    fn tip(&self) -> &Header {
        &self.0.last().unwrap().header
    }
}

impl ChainReader for LinkedChain {
    fn head(&self) -> ChainHead {
        let h = self.tip();
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
        self.0
            .iter()
            .find(|b| b.header.hash() == *hash)
            .map(|b| b.header.clone())
    }
    fn header_by_number(&self, n: u64) -> Option<Header> {
        self.0.get(n as usize).map(|b| b.header.clone())
    }
    fn body(&self, hash: &B256) -> Option<BlockBody> {
        self.0
            .iter()
            .find(|b| b.header.hash() == *hash)
            .map(|b| b.body.clone())
    }
    fn receipts(&self, _: &B256) -> Option<Vec<Receipt>> {
        None
    }
}

impl BlockImporter for LinkedChain {
    fn import(&mut self, block: Block) -> ImportResult {
        if self.header_by_hash(&block.header.hash()).is_some() {
            ImportResult::AlreadyKnown
        } else if block.header.parent_hash != self.tip().hash() {
            ImportResult::UnknownParent
        } else {
            self.0.push(block);
            ImportResult::Imported { new_head: true }
        }
    }
}

/// `n` blocks on the devnet genesis, each with one transaction tagged `tag` (so every body
/// must be fetched, and two tags give different bodies).
fn blocks(n: u64, tag: u8) -> Vec<Block> {
    let mut parent = LinkedChain::new().tip().clone();
    let mut out = Vec::new();
    for i in 0..n {
        let tx = Transaction::Legacy(LegacyTx {
            nonce: i,
            gas_price: U256::from_u64(1),
            gas_limit: 21_000,
            to: Some([tag; 20]),
            value: U256::from_u64(1),
            input: Vec::new(),
            v: U256::from_u64(27),
            r: U256::from_u64(1),
            s: U256::from_u64(1),
        });
        let txs = vec![tx];
        let header = Header {
            parent_hash: parent.hash(),
            number: parent.number + 1,
            timestamp: parent.timestamp + 12,
            transactions_root: transactions_root(&txs),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            ..parent.clone()
        };
        parent = header.clone();
        out.push(Block {
            header,
            body: BlockBody {
                transactions: txs,
                uncles: Vec::new(),
                withdrawals: Some(Vec::new()),
            },
        });
    }
    out
}

fn rig() -> Rig {
    let mut r = Rig::with_chain(Box::new(LinkedChain::new()));
    r.ready();
    r
}

/// The eth messages sent in `acts`.
fn sent(acts: &[ProtocolAction]) -> Vec<EthMessage> {
    acts.iter()
        .filter_map(|a| match a {
            ProtocolAction::Send {
                msg_id, payload, ..
            } => EthMessage::decode(EthVersion::Eth69, u8::try_from(*msg_id).ok()?, payload).ok(),
            _ => None,
        })
        .collect()
}

/// The numbers of the blocks imported in `acts`, in order.
fn imported(acts: &[ProtocolAction]) -> Vec<u64> {
    acts.iter()
        .filter_map(|a| match a {
            ProtocolAction::Event { event, .. } => match event.downcast_ref::<EthEvent>() {
                Some(EthEvent::BlockImported { number, .. }) => Some(*number),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn announce(b: &Block) -> EthMessage {
    EthMessage::NewBlockHashes(vec![BlockHashNumber {
        hash: b.header.hash(),
        number: b.header.number,
    }])
}

/// Header requests in `acts`: request id → requested hash.
fn header_requests(acts: &[ProtocolAction]) -> BTreeMap<u64, B256> {
    sent(acts)
        .into_iter()
        .filter_map(|m| match m {
            EthMessage::GetBlockHeaders(GetBlockHeaders {
                request_id,
                origin: HashOrNumber::Hash(h),
                amount: 1,
                skip: 0,
                reverse: false,
            }) => Some((request_id, h)),
            _ => None,
        })
        .collect()
}

/// The body requests in `acts`: (request id, hashes).
fn body_requests(acts: &[ProtocolAction]) -> Vec<(u64, Vec<B256>)> {
    sent(acts)
        .into_iter()
        .filter_map(|m| match m {
            EthMessage::GetBlockBodies { request_id, hashes } => Some((request_id, hashes)),
            _ => None,
        })
        .collect()
}

/// Announces `b`, answers the header request; returns the body request.
fn fetch_header(r: &mut Rig, b: &Block) -> (u64, Vec<B256>) {
    let acts = r.send(&announce(b));
    assert!(sent(&acts).is_empty(), "waits for a broadcast first");
    let acts = r.advance(ARRIVE_TIMEOUT);
    let reqs = header_requests(&acts);
    assert_eq!(
        reqs.values().copied().collect::<Vec<_>>(),
        vec![b.header.hash()]
    );
    let (&id, _) = reqs.iter().next().unwrap();
    let acts = r.send(&EthMessage::BlockHeaders {
        request_id: id,
        headers: vec![b.header.clone()],
    });
    assert!(sent(&acts).is_empty(), "bodies are gathered first");
    let acts = r.advance(GATHER_SLACK);
    let mut bodies = body_requests(&acts);
    assert_eq!(bodies.len(), 1);
    bodies.pop().unwrap()
}

#[test]
fn block_announced_by_hash_is_fetched_header_then_body_and_imported() {
    let mut r = rig();
    let b = blocks(1, 1).pop().unwrap();
    let (id, hashes) = fetch_header(&mut r, &b);
    assert_eq!(hashes, vec![b.header.hash()]);
    let acts = r.send(&EthMessage::BlockBodies {
        request_id: id,
        bodies: vec![b.body.clone()],
    });
    assert_eq!(imported(&acts), vec![1]);
    assert!(reports(&acts).is_empty());
    assert_eq!(r.eth().chain().head().hash, b.header.hash());
    let m = r.eth().metrics();
    assert_eq!((m.block_fetch_requests, m.blocks_imported), (2, 1));
    let f = &m.block_fetcher;
    assert_eq!(
        (f.announces_in, f.header_requests, f.body_requests),
        (1, 1, 1)
    );
    assert_eq!((f.header_latency_count, f.body_latency_count), (1, 1));
    assert_eq!(f.mean_header_latency(), Some(ARRIVE_TIMEOUT));
    assert_eq!(f.mean_body_latency(), Some(ARRIVE_TIMEOUT + GATHER_SLACK));
    assert_eq!(f.queued, 0);
}

#[test]
fn body_not_matching_its_header_is_penalised_and_not_imported() {
    let mut r = rig();
    let b = blocks(1, 1).pop().unwrap();
    let other = blocks(1, 2).pop().unwrap();
    let (id, _) = fetch_header(&mut r, &b);
    let acts = r.send(&EthMessage::BlockBodies {
        request_id: id,
        bodies: vec![other.body.clone()],
    });
    assert_eq!(reports(&acts), vec![ReputationChange::BadBlock]);
    assert!(imported(&acts).is_empty());
    // A broadcast whose body is not its header's is penalised at once.
    let forged = Block {
        header: b.header.clone(),
        body: other.body,
    };
    let acts = r.send(&EthMessage::NewBlock {
        block: Box::new(forged),
        total_difficulty: U256::from_u64(2),
    });
    assert_eq!(reports(&acts), vec![ReputationChange::BadBlock]);
    assert!(imported(&acts).is_empty());
    assert_eq!(r.eth().chain().head().number, 0);
    assert_eq!(r.eth().metrics().blocks_invalid, 2);
}

#[test]
fn chain_announced_out_of_order_is_imported_in_order() {
    let mut r = rig();
    let chain = blocks(3, 1);
    for i in [2, 0, 1] {
        assert!(sent(&r.send(&announce(&chain[i]))).is_empty());
    }
    let acts = r.advance(ARRIVE_TIMEOUT);
    let reqs = header_requests(&acts);
    assert_eq!(reqs.len(), 3, "the three headers are asked for together");
    // Headers answered newest first.
    let by_hash: BTreeMap<B256, &Block> = chain.iter().map(|b| (b.header.hash(), b)).collect();
    let mut answers: Vec<(u64, &Block)> = reqs.iter().map(|(id, h)| (*id, by_hash[h])).collect();
    answers.sort_by_key(|(_, b)| std::cmp::Reverse(b.header.number));
    for (id, b) in answers {
        let acts = r.send(&EthMessage::BlockHeaders {
            request_id: id,
            headers: vec![b.header.clone()],
        });
        assert!(imported(&acts).is_empty());
    }
    let acts = r.advance(GATHER_SLACK);
    let reqs = body_requests(&acts);
    assert_eq!(reqs.len(), 1, "one batched body request");
    let (id, hashes) = &reqs[0];
    let bodies = hashes.iter().map(|h| by_hash[h].body.clone()).collect();
    let acts = r.send(&EthMessage::BlockBodies {
        request_id: *id,
        bodies,
    });
    assert_eq!(imported(&acts), vec![1, 2, 3]);
    assert_eq!(r.eth().chain().head().hash, chain[2].header.hash());
    assert!(reports(&acts).is_empty());
}

#[test]
fn broadcasts_out_of_order_wait_for_their_parent() {
    let mut r = rig();
    let chain = blocks(3, 1);
    for i in [2, 1] {
        let acts = r.send(&EthMessage::NewBlock {
            block: Box::new(chain[i].clone()),
            total_difficulty: U256::from_u64(4),
        });
        assert!(imported(&acts).is_empty(), "parent unknown: held");
    }
    let acts = r.send(&EthMessage::NewBlock {
        block: Box::new(chain[0].clone()),
        total_difficulty: U256::from_u64(2),
    });
    assert_eq!(imported(&acts), vec![1, 2, 3]);
    let m = r.eth().metrics();
    assert_eq!((m.blocks_in, m.blocks_unknown_parent), (3, 0));
    assert_eq!(m.block_fetcher.queued, 0);
}
