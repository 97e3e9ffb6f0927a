//! Transaction fetching with several announcers, driven through a `ProtocolRegistry` by
//! hand-made peer messages: the go-ethereum `devp2p eth-test` flows `NewPooledTxs`,
//! `BlobViolations`, `TestBlobTxWithoutSidecar` and `TestBlobTxWithMismatchedSidecar`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::tests::{GenesisChain, Pool};
use super::*;
use crate::eth::chainspec::paxeer_devnet_genesis;
use crate::eth::messages::TxAnnouncement;
use crate::eth::primitives::B256;
use crate::eth::status::Status69;
use crate::eth::tx::sidecar::{BLOB_BYTES, CELL_PROOFS_PER_BLOB};
use crate::eth::tx::{kzg_versioned_hash, BlobSidecar, Eip4844Tx, SidecarVersion};
use crate::eth::{ChainSpec, Head, Status};
use crate::p2p::{CapId, SharedCapabilities};
use crate::protocol::{ProtocolAction, ProtocolRegistry};
use crate::test_clock::t0;
use crate::types::Direction;

/// A machine with `n` ready eth/69 peers, `PeerId([1; 64])`, `PeerId([2; 64])`, ...
struct Net {
    reg: ProtocolRegistry,
    id: crate::protocol::ProtocolId,
    caps: BTreeMap<PeerId, CapId>,
    now: Instant,
}

fn peer(n: u8) -> PeerId {
    PeerId([n; 64])
}

impl Net {
    fn new(n: u8) -> Self {
        let eth = EthProtocol::new(
            EthConfig::new(ChainSpec::paxeer_devnet()),
            Box::new(GenesisChain(paxeer_devnet_genesis())),
            Box::new(Pool::default()),
            Seed([9; 32]),
        );
        let mut reg = ProtocolRegistry::new();
        let id = reg.register(Box::new(eth)).unwrap();
        let mut net = Net {
            reg,
            id,
            caps: BTreeMap::new(),
            now: t0(),
        };
        for i in 1..=n {
            let shared =
                SharedCapabilities::negotiate(&net.reg.specs(), &[Capability::new("eth", 69)]);
            let (cap, _) = shared.iter().next().unwrap();
            net.reg
                .on_established(net.now, peer(i), Direction::Inbound, &shared)
                .unwrap();
            net.caps.insert(peer(i), cap);
            let _ = net.reg.drain_actions();
            net.send(peer(i), &EthMessage::Status(status()));
        }
        net
    }

    fn send(&mut self, from: PeerId, msg: &EthMessage) -> Vec<ProtocolAction> {
        let cap = self.caps[&from];
        self.reg
            .on_message(self.now, from, cap, u64::from(msg.msg_id()), &msg.encode())
            .unwrap();
        self.reg.drain_actions()
    }

    fn advance(&mut self, d: Duration) -> Vec<ProtocolAction> {
        self.now += d;
        self.reg.handle_timeout(self.now);
        self.reg.drain_actions()
    }

    fn eth(&self) -> &EthProtocol {
        let p: &dyn std::any::Any = self.reg.get(self.id).unwrap();
        p.downcast_ref().unwrap()
    }
}

fn status() -> Status {
    let spec = ChainSpec::paxeer_devnet();
    let g = paxeer_devnet_genesis();
    Status::Eth69(Status69 {
        version: 69,
        network_id: spec.network_id,
        genesis_hash: spec.genesis_hash,
        fork_id: spec.fork_id(Head {
            number: 0,
            timestamp: g.timestamp,
        }),
        earliest_block: 0,
        latest_block: 0,
        latest_block_hash: g.hash(),
    })
}

/// Messages sent to `to`, decoded.
fn sent_to(acts: &[ProtocolAction], to: PeerId) -> Vec<EthMessage> {
    acts.iter()
        .filter_map(|a| match a {
            ProtocolAction::Send {
                peer,
                msg_id,
                payload,
                ..
            } if *peer == to => {
                EthMessage::decode(EthVersion::Eth69, u8::try_from(*msg_id).ok()?, payload).ok()
            }
            _ => None,
        })
        .collect()
}

fn disconnected(acts: &[ProtocolAction]) -> Vec<PeerId> {
    acts.iter()
        .filter_map(|a| match a {
            ProtocolAction::Disconnect { peer, .. } => Some(*peer),
            _ => None,
        })
        .collect()
}

/// The GetPooledTransactions sent to `to`: `(request id, hashes)`.
fn requests_to(acts: &[ProtocolAction], to: PeerId) -> Vec<(u64, Vec<B256>)> {
    sent_to(acts, to)
        .into_iter()
        .filter_map(|m| match m {
            EthMessage::GetPooledTransactions { request_id, hashes } => Some((request_id, hashes)),
            _ => None,
        })
        .collect()
}

/// A blob transaction with one blob and a consistent version-1 sidecar.
fn blob_tx(seed: u8) -> PooledTransaction {
    let commitment = [seed; 48];
    PooledTransaction::BlobWithSidecar {
        tx: Eip4844Tx {
            chain_id: ChainSpec::paxeer_devnet().chain_id,
            nonce: u64::from(seed),
            gas_limit: 21_000,
            blob_versioned_hashes: vec![kzg_versioned_hash(&commitment)],
            ..Eip4844Tx::default()
        },
        sidecar: BlobSidecar {
            version: SidecarVersion::CellProofs,
            blobs: vec![vec![0; BLOB_BYTES]],
            commitments: vec![commitment],
            proofs: vec![[0; 48]; CELL_PROOFS_PER_BLOB],
        },
    }
}

fn announce(tx: &PooledTransaction) -> EthMessage {
    EthMessage::NewPooledTransactionHashes(vec![TxAnnouncement::of(tx)])
}

/// The bad peer 1 is asked first and serves `bad`; it must be dropped at once and the good
/// peer 2, which announced the same hash meanwhile, asked next and kept.
fn bad_then_good(bad: PooledTransaction) {
    let good = blob_tx(7);
    let hash = good.hash();
    let mut net = Net::new(2);
    net.send(peer(1), &announce(&good));
    let acts = net.advance(config::TX_ARRIVE_TIMEOUT);
    let reqs = requests_to(&acts, peer(1));
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].1, vec![hash]);
    assert!(requests_to(&acts, peer(2)).is_empty());
    net.send(peer(2), &announce(&good));
    let acts = net.send(
        peer(1),
        &EthMessage::PooledTransactions {
            request_id: reqs[0].0,
            transactions: vec![bad],
        },
    );
    assert_eq!(disconnected(&acts), vec![peer(1)]);
    // The same call re-asks the other announcer (geth allows 12 s).
    let again = requests_to(&acts, peer(2));
    assert_eq!(again.len(), 1, "{:?}", again);
    assert_eq!(again[0].1, vec![hash]);
    let acts = net.send(
        peer(2),
        &EthMessage::PooledTransactions {
            request_id: again[0].0,
            transactions: vec![good],
        },
    );
    assert!(disconnected(&acts).is_empty());
    assert!(net.eth().pool().contains(&hash));
}

#[test]
fn a_blob_tx_delivered_without_its_sidecar_drops_the_peer_and_is_fetched_elsewhere() {
    bad_then_good(PooledTransaction::Plain(blob_tx(7).transaction()));
}

#[test]
fn a_blob_tx_with_a_mismatched_sidecar_drops_the_peer_and_is_fetched_elsewhere() {
    let PooledTransaction::BlobWithSidecar { tx, mut sidecar } = blob_tx(7) else {
        unreachable!()
    };
    sidecar.commitments[0] = [0; 48];
    bad_then_good(PooledTransaction::BlobWithSidecar { tx, sidecar });
}

#[test]
fn blob_txs_announced_with_a_wrong_size_or_type_drop_the_peer_after_delivery() {
    for (extra, ty) in [(10u32, 3u8), (0, 2)] {
        let tx = blob_tx(3);
        let mut net = Net::new(1);
        let mut ann = TxAnnouncement::of(&tx);
        ann.size += extra;
        ann.tx_type = ty;
        net.send(peer(1), &EthMessage::NewPooledTransactionHashes(vec![ann]));
        let acts = net.advance(config::TX_ARRIVE_TIMEOUT);
        let reqs = requests_to(&acts, peer(1));
        assert_eq!(reqs.len(), 1, "the node must request it");
        let acts = net.send(
            peer(1),
            &EthMessage::PooledTransactions {
                request_id: reqs[0].0,
                transactions: vec![tx],
            },
        );
        assert_eq!(
            disconnected(&acts),
            vec![peer(1)],
            "size +{extra}, type {ty}"
        );
    }
}

#[test]
fn blob_txs_pushed_in_transactions_messages_drop_the_peer() {
    let mut net = Net::new(1);
    let acts = net.send(
        peer(1),
        &EthMessage::Transactions(vec![blob_tx(1).transaction()]),
    );
    assert_eq!(disconnected(&acts), vec![peer(1)]);
}

#[test]
fn fifty_announced_hashes_are_fetched_in_one_request_and_nothing_else_is_sent() {
    let mut net = Net::new(1);
    let anns: Vec<TxAnnouncement> = (0..50u8)
        .map(|i| TxAnnouncement {
            tx_type: 2,
            size: 120,
            hash: [i; 32],
        })
        .collect();
    let mut all = net.send(peer(1), &EthMessage::NewPooledTransactionHashes(anns));
    let mut t = Duration::ZERO;
    while t < config::TX_ARRIVE_TIMEOUT + Duration::from_millis(100) {
        all.extend(net.advance(Duration::from_millis(50)));
        t += Duration::from_millis(50);
    }
    let msgs = sent_to(&all, peer(1));
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let EthMessage::GetPooledTransactions { hashes, .. } = &msgs[0] else {
        panic!("{msgs:?}")
    };
    assert_eq!(hashes.len(), 50);
}
