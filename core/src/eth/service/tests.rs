//! The machine driven through a `ProtocolRegistry` by hand-made peer messages: the
//! handshake rules, penalties and the late/unsolicited response paths.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::eth::app::{BlockImporter, ChainHead, ChainReader};
use crate::eth::block::{BlockBody, Header};
use crate::eth::chainspec::paxeer_devnet_genesis;
use crate::eth::messages::TxAnnouncement;
use crate::eth::primitives::B256;
use crate::eth::receipts::Receipt;
use crate::eth::status::Status69;
use crate::eth::{ChainSpec, Head, Status, U256};
use crate::p2p::SharedCapabilities;
use crate::protocol::{ProtocolAction, ProtocolRegistry};
use crate::test_clock::t0;
use crate::types::Direction;

pub(super) struct GenesisChain(pub(super) Header);

impl ChainReader for GenesisChain {
    fn head(&self) -> crate::eth::app::ChainHead {
        ChainHead {
            hash: self.0.hash(),
            number: 0,
            timestamp: self.0.timestamp,
            total_difficulty: U256::from_u64(1),
        }
    }
    fn earliest(&self) -> u64 {
        0
    }
    fn header_by_hash(&self, hash: &B256) -> Option<Header> {
        (self.0.hash() == *hash).then(|| self.0.clone())
    }
    fn header_by_number(&self, n: u64) -> Option<Header> {
        (n == 0).then(|| self.0.clone())
    }
    fn body(&self, _: &B256) -> Option<BlockBody> {
        None
    }
    fn receipts(&self, _: &B256) -> Option<Vec<Receipt>> {
        None
    }
}

impl BlockImporter for GenesisChain {
    fn import(&mut self, _: Block) -> ImportResult {
        ImportResult::UnknownParent
    }
}

#[derive(Default)]
pub(super) struct Pool(pub(super) BTreeMap<B256, PooledTransaction>);

impl TxPool for Pool {
    fn contains(&self, h: &B256) -> bool {
        self.0.contains_key(h)
    }
    fn get(&self, h: &B256) -> Option<PooledTransaction> {
        self.0.get(h).cloned()
    }
    fn add(&mut self, tx: PooledTransaction, _: Option<PeerId>) -> TxVerdict {
        self.0.insert(tx.hash(), tx);
        TxVerdict::Added
    }
    fn pending(&self, limit: usize) -> Vec<TxAnnouncement> {
        self.0
            .values()
            .take(limit)
            .map(TxAnnouncement::of)
            .collect()
    }
    fn on_block(&mut self, _: &Block) {}
}

pub(super) const PEER: PeerId = PeerId([1; 64]);

pub(super) struct Rig {
    pub(super) reg: ProtocolRegistry,
    pub(super) id: crate::protocol::ProtocolId,
    pub(super) cap: crate::p2p::CapId,
    pub(super) now: Instant,
}

impl Rig {
    fn new() -> Self {
        Self::with_chain(Box::new(GenesisChain(paxeer_devnet_genesis())))
    }

    /// A machine over `chain` (whose genesis must be the devnet's) with one inbound eth/69
    /// peer, [`PEER`], that has not sent its Status yet.
    pub(super) fn with_chain(chain: Box<dyn Chain>) -> Self {
        let eth = EthProtocol::new(
            EthConfig::new(ChainSpec::paxeer_devnet()),
            chain,
            Box::new(Pool::default()),
            Seed([5; 32]),
        );
        let mut reg = ProtocolRegistry::new();
        let id = reg.register(Box::new(eth)).unwrap();
        let caps = SharedCapabilities::negotiate(&reg.specs(), &[Capability::new("eth", 69)]);
        let (cap, _) = caps.iter().next().unwrap();
        let now = t0();
        assert_eq!(
            reg.on_established(now, PEER, Direction::Inbound, &caps),
            Ok(1)
        );
        let actions = reg.drain_actions();
        assert!(matches!(
            actions.as_slice(),
            [ProtocolAction::Send { msg_id: 0, .. }]
        ));
        Rig { reg, id, cap, now }
    }

    pub(super) fn send(&mut self, msg: &EthMessage) -> Vec<ProtocolAction> {
        self.raw(u64::from(msg.msg_id()), &msg.encode())
    }

    fn raw(&mut self, id: u64, payload: &[u8]) -> Vec<ProtocolAction> {
        self.reg
            .on_message(self.now, PEER, self.cap, id, payload)
            .unwrap();
        self.reg.drain_actions()
    }

    pub(super) fn ready(&mut self) {
        let spec = ChainSpec::paxeer_devnet();
        let g = paxeer_devnet_genesis();
        let status = Status::Eth69(Status69 {
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
        });
        let acts = self.send(&EthMessage::Status(status));
        assert!(acts
            .iter()
            .all(|a| matches!(a, ProtocolAction::Event { .. })));
    }

    pub(super) fn advance(&mut self, d: Duration) -> Vec<ProtocolAction> {
        self.now += d;
        self.reg.handle_timeout(self.now);
        self.reg.drain_actions()
    }

    pub(super) fn eth(&self) -> &EthProtocol {
        let p: &dyn std::any::Any = self.reg.get(self.id).unwrap();
        p.downcast_ref().unwrap()
    }
}

fn disconnect_reason(acts: &[ProtocolAction]) -> Option<DisconnectReason> {
    acts.iter().find_map(|a| match a {
        ProtocolAction::Disconnect { reason, .. } => Some(*reason),
        _ => None,
    })
}

pub(super) fn reports(acts: &[ProtocolAction]) -> Vec<ReputationChange> {
    acts.iter()
        .filter_map(|a| match a {
            ProtocolAction::Report { change, .. } => Some(*change),
            _ => None,
        })
        .collect()
}

#[test]
fn non_status_first_message_is_a_breach() {
    let mut r = Rig::new();
    let acts = r.send(&EthMessage::NewPooledTransactionHashes(Vec::new()));
    assert_eq!(
        disconnect_reason(&acts),
        Some(DisconnectReason::SubprotocolError)
    );
    assert_eq!(reports(&acts), vec![ReputationChange::BadMessage]);
    // Everything after is ignored.
    assert!(r
        .send(&EthMessage::NewPooledTransactionHashes(Vec::new()))
        .is_empty());
    assert_eq!(r.eth().metrics().status_rejected.not_status_first, 1);
}

#[test]
fn missing_status_times_out_with_read_timeout() {
    let mut r = Rig::new();
    assert_eq!(
        r.reg.poll_timeout(),
        Some(r.now + config::HANDSHAKE_TIMEOUT)
    );
    let acts = r.advance(Duration::from_secs(4));
    assert!(acts.is_empty());
    let acts = r.advance(Duration::from_secs(1));
    assert_eq!(
        disconnect_reason(&acts),
        Some(DisconnectReason::ReadTimeout)
    );
    assert_eq!(r.reg.poll_timeout(), None);
}

#[test]
fn undecodable_and_second_status_messages_disconnect() {
    let mut r = Rig::new();
    r.ready();
    let acts = r.raw(
        u64::from(crate::eth::messages::id::TRANSACTIONS),
        &[0xff, 0x00],
    );
    assert_eq!(
        disconnect_reason(&acts),
        Some(DisconnectReason::SubprotocolError)
    );
    assert_eq!(r.eth().metrics().decode_errors, 1);
    let mut r = Rig::new();
    r.ready();
    let status = EthMessage::Status(handshake::local_status(
        &EthConfig::new(ChainSpec::paxeer_devnet()),
        &GenesisChain(paxeer_devnet_genesis()),
        EthVersion::Eth69,
    ));
    let acts = r.send(&status);
    assert_eq!(
        disconnect_reason(&acts),
        Some(DisconnectReason::SubprotocolError)
    );
}

#[test]
fn unsolicited_and_late_responses_are_penalised_differently() {
    let mut r = Rig::new();
    r.ready();
    let acts = r.send(&EthMessage::PooledTransactions {
        request_id: 12345,
        transactions: Vec::new(),
    });
    assert_eq!(reports(&acts), vec![ReputationChange::BadMessage]);
    assert_eq!(disconnect_reason(&acts), None);
    // An announcement, the broadcast wait, a request, its timeout, then the late answer.
    let ann = TxAnnouncement {
        tx_type: 2,
        size: 100,
        hash: [3; 32],
    };
    r.send(&EthMessage::NewPooledTransactionHashes(vec![ann]));
    let acts = r.advance(config::TX_ARRIVE_TIMEOUT);
    let request_id = acts
        .iter()
        .find_map(|a| match a {
            ProtocolAction::Send {
                msg_id, payload, ..
            } if *msg_id == u64::from(crate::eth::messages::id::GET_POOLED_TRANSACTIONS) => {
                EthMessage::decode(EthVersion::Eth69, 0x09, payload)
                    .ok()
                    .and_then(|m| m.request_id())
            }
            _ => None,
        })
        .unwrap();
    let acts = r.advance(config::TX_FETCH_TIMEOUT);
    assert_eq!(reports(&acts), vec![ReputationChange::Timeout]);
    let acts = r.send(&EthMessage::PooledTransactions {
        request_id,
        transactions: Vec::new(),
    });
    assert_eq!(reports(&acts), vec![LATE_RESPONSE_PENALTY]);
    let m = r.eth().metrics();
    assert_eq!((m.unsolicited_responses, m.late_responses), (1, 1));
    assert_eq!(m.tx_fetch_timeouts, 1);
}

#[test]
fn announcements_beyond_the_allowance_are_counted_as_abuse() {
    let mut r = Rig::new();
    r.ready();
    let anns: Vec<TxAnnouncement> = (0..config::MAX_TX_ANNOUNCES_PER_PEER + 10)
        .map(|i| {
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&(i as u64).to_be_bytes());
            TxAnnouncement {
                tx_type: 2,
                size: 100,
                hash,
            }
        })
        .collect();
    let acts = r.send(&EthMessage::NewPooledTransactionHashes(anns));
    assert_eq!(reports(&acts), vec![ReputationChange::BadAnnouncement]);
    let m = r.eth().metrics();
    assert_eq!(m.tx_announcements_abuse, 10);
    assert_eq!(m.fetcher_hashes, config::MAX_TX_ANNOUNCES_PER_PEER as u64);
}
