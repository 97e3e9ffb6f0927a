//! `EthProtocol` driven through a `ProtocolRegistry` by one connected peer sending arbitrary
//! (msg_id, payload) sequences, with time advancing between them.
//!
//! Input: byte 0 picks the version (bit 0) and whether a valid Status is sent first
//! (bit 1, so the fuzzer reaches the post-handshake handlers); then records
//! `[msg_id, len_lo, len_hi, advance_ms, payload(len)]` until the input ends.
//!
//! Invariants: never panics; every call records at most `MAX_ACTIONS_PER_CALL` actions;
//! after `handle_timeout(now)` the next deadline is later than `now` unless queued output
//! is pending; the protocol's own state stays bounded (fetcher, queues).
#![no_main]

use std::collections::BTreeMap;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::eth::app::{
    BlockImporter, ChainHead, ChainReader, ImportResult, TxPool, TxRejectReason, TxRejection,
    TxVerdict,
};
use paxeer_p2p_core::eth::chainspec::paxeer_devnet_genesis;
use paxeer_p2p_core::eth::messages::TxAnnouncement;
use paxeer_p2p_core::eth::receipts::Receipt;
use paxeer_p2p_core::eth::service::{EthConfig, EthProtocol};
use paxeer_p2p_core::eth::status::{Status68, Status69};
use paxeer_p2p_core::eth::{
    Block, BlockBody, ChainSpec, EthMessage, EthVersion, Head, Header, PooledTransaction, Status,
    B256, U256,
};
use paxeer_p2p_core::p2p::{Capability, SharedCapabilities};
use paxeer_p2p_core::protocol::{ProtocolRegistry, MAX_ACTIONS_PER_CALL};
use paxeer_p2p_core::types::{Direction, PeerId, Seed};
use paxeer_p2p_fuzz::t0;

/// The devnet genesis plus whatever imports.
struct Chain(Vec<Header>);

impl ChainReader for Chain {
    fn head(&self) -> ChainHead {
        let h = self.0.last().cloned().unwrap_or_default();
        ChainHead {
            hash: h.hash(),
            number: h.number,
            timestamp: h.timestamp,
            total_difficulty: U256::from_u64(1),
        }
    }
    fn earliest(&self) -> u64 {
        0
    }
    fn header_by_hash(&self, hash: &B256) -> Option<Header> {
        self.0.iter().find(|h| &h.hash() == hash).cloned()
    }
    fn header_by_number(&self, number: u64) -> Option<Header> {
        self.0.get(usize::try_from(number).ok()?).cloned()
    }
    fn body(&self, hash: &B256) -> Option<BlockBody> {
        self.header_by_hash(hash).map(|_| BlockBody::default())
    }
    fn receipts(&self, hash: &B256) -> Option<Vec<Receipt>> {
        self.header_by_hash(hash).map(|_| Vec::new())
    }
}

impl BlockImporter for Chain {
    fn import(&mut self, block: Block) -> ImportResult {
        let head = self.head();
        if block.header.parent_hash != head.hash || self.0.len() > 64 {
            return ImportResult::UnknownParent;
        }
        self.0.push(block.header);
        ImportResult::Imported { new_head: true }
    }
}

/// A pool that keeps up to 1024 transactions, whatever they are.
#[derive(Default)]
struct Pool(BTreeMap<B256, PooledTransaction>);

impl TxPool for Pool {
    fn contains(&self, hash: &B256) -> bool {
        self.0.contains_key(hash)
    }
    fn get(&self, hash: &B256) -> Option<PooledTransaction> {
        self.0.get(hash).cloned()
    }
    fn add(&mut self, tx: PooledTransaction, _: Option<PeerId>) -> TxVerdict {
        let h = tx.hash();
        if self.0.contains_key(&h) {
            return TxVerdict::AlreadyKnown;
        }
        if self.0.len() >= 1024 {
            return TxVerdict::Dropped(TxRejection::new(TxRejectReason::PoolFull, "full"));
        }
        if h[0] & 1 == 1 {
            return TxVerdict::Invalid(TxRejection::new(TxRejectReason::Other, "odd"));
        }
        self.0.insert(h, tx);
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

fn valid_status(spec: &ChainSpec, version: EthVersion) -> Status {
    let g = paxeer_devnet_genesis();
    let fork_id = spec.fork_id(Head {
        number: 0,
        timestamp: g.timestamp,
    });
    match version {
        EthVersion::Eth68 => Status::Eth68(Status68 {
            version: 68,
            network_id: spec.network_id,
            total_difficulty: U256::from_u64(1),
            head_hash: g.hash(),
            genesis_hash: spec.genesis_hash,
            fork_id,
        }),
        EthVersion::Eth69 | EthVersion::Eth70 => Status::Eth69(Status69 {
            version: u64::from(version.as_u32()),
            network_id: spec.network_id,
            genesis_hash: spec.genesis_hash,
            fork_id,
            earliest_block: 0,
            latest_block: 0,
            latest_block_hash: g.hash(),
        }),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let version = if mode & 1 == 0 {
        EthVersion::Eth69
    } else {
        EthVersion::Eth68
    };
    let spec = ChainSpec::paxeer_devnet();
    let eth = EthProtocol::new(
        EthConfig::new(spec.clone()),
        Box::new(Chain(vec![paxeer_devnet_genesis()])),
        Box::new(Pool::default()),
        Seed([7; 32]),
    );
    let mut reg = ProtocolRegistry::new();
    let Ok(pid) = reg.register(Box::new(eth)) else {
        return;
    };
    let peer = PeerId([1; 64]);
    let other = PeerId([2; 64]);
    let mut now = t0();
    let caps =
        SharedCapabilities::negotiate(&reg.specs(), &[Capability::new("eth", version.as_u32())]);
    let Some((cap, _)) = caps.iter().next() else {
        return;
    };
    assert_eq!(
        reg.on_established(now, peer, Direction::Inbound, &caps),
        Ok(1)
    );
    // A second, well-behaved peer so propagation and fetch paths have somewhere to go.
    assert_eq!(
        reg.on_established(now, other, Direction::Outbound, &caps),
        Ok(1)
    );
    let status = EthMessage::Status(valid_status(&spec, version)).encode();
    let _ = reg.on_message(now, other, cap, 0, &status);
    if mode & 2 != 0 {
        let _ = reg.on_message(now, peer, cap, 0, &status);
    }
    assert!(reg.drain_actions().len() <= 3 * MAX_ACTIONS_PER_CALL);
    while rest.len() >= 4 {
        let msg_id = u64::from(rest[0]);
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]]));
        let advance = Duration::from_millis(u64::from(rest[3]) * 25);
        rest = &rest[4..];
        let take = len.min(rest.len());
        let (payload, tail) = rest.split_at(take);
        rest = tail;
        let _ = reg.on_message(now, peer, cap, msg_id, payload);
        assert!(reg.drain_actions().len() <= MAX_ACTIONS_PER_CALL);
        now += advance;
        if reg.poll_timeout().is_some_and(|t| t <= now) {
            reg.handle_timeout(now);
            let acted = !reg.drain_actions().is_empty();
            if let Some(t) = reg.poll_timeout() {
                assert!(t > now || acted, "timer spins without output");
            }
        }
        let p = reg.get(pid).expect("registered");
        let any: &dyn std::any::Any = p;
        let eth = any.downcast_ref::<EthProtocol>().expect("eth");
        let m = eth.metrics();
        assert!(m.fetcher_hashes <= 2 * 4096);
        assert!(m.queued_txs <= 2 * 4096 && m.queued_tx_announcements <= 2 * 4096);
    }
    let _ = reg.on_disconnected(now, peer);
    let _ = reg.drain_actions();
});
