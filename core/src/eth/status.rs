//! The Status handshake message of eth/68 and eth/69 and its validation.

use crate::eth::error::EthDecodeError;
use crate::eth::forkid::{ForkFilter, ForkId, ForkIdError, Head};
use crate::eth::primitives::{B256, U256};
use crate::eth::rlp::{self, Item};
use crate::eth::version::EthVersion;
use crate::p2p::disconnect::DisconnectReason;

/// eth/68 Status: `[version, networkid, td, blockhash, genesis, forkid]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status68 {
    /// Protocol version the sender speaks (68).
    pub version: u64,
    /// Network id.
    pub network_id: u64,
    /// Total difficulty of the sender's head.
    pub total_difficulty: U256,
    /// Hash of the sender's head block.
    pub head_hash: B256,
    /// Genesis hash.
    pub genesis_hash: B256,
    /// EIP-2124 fork id.
    pub fork_id: ForkId,
}

/// eth/69 Status (EIP-7642): `[version, networkid, genesis, forkid, earliest, latest,
/// latestHash]` — no total difficulty, plus the served block range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status69 {
    /// Protocol version the sender speaks (69).
    pub version: u64,
    /// Network id.
    pub network_id: u64,
    /// Genesis hash.
    pub genesis_hash: B256,
    /// EIP-2124 fork id.
    pub fork_id: ForkId,
    /// Earliest block whose body and receipts are served.
    pub earliest_block: u64,
    /// Latest such block.
    pub latest_block: u64,
    /// Hash of the latest block.
    pub latest_block_hash: B256,
}

/// A Status message of either version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// eth/68 layout.
    Eth68(Status68),
    /// eth/69 layout.
    Eth69(Status69),
}

impl Status {
    /// The RLP payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(120);
        match self {
            Status::Eth68(s) => {
                rlp::put_u64(&mut p, s.version);
                rlp::put_u64(&mut p, s.network_id);
                rlp::put_u256(&mut p, &s.total_difficulty);
                rlp::put_bytes(&mut p, &s.head_hash);
                rlp::put_bytes(&mut p, &s.genesis_hash);
                s.fork_id.put(&mut p);
            }
            Status::Eth69(s) => {
                rlp::put_u64(&mut p, s.version);
                rlp::put_u64(&mut p, s.network_id);
                rlp::put_bytes(&mut p, &s.genesis_hash);
                s.fork_id.put(&mut p);
                rlp::put_u64(&mut p, s.earliest_block);
                rlp::put_u64(&mut p, s.latest_block);
                rlp::put_bytes(&mut p, &s.latest_block_hash);
            }
        }
        rlp::list(&p)
    }

    /// Decodes a Status payload in the layout of the negotiated version.
    pub fn decode(version: EthVersion, payload: &[u8]) -> Result<Self, EthDecodeError> {
        Self::from_item(version, rlp::single_item(payload)?)
    }

    /// Decodes a Status item.
    pub(crate) fn from_item(version: EthVersion, item: Item<'_>) -> Result<Self, EthDecodeError> {
        let mut f = item.list()?;
        let status = match version {
            EthVersion::Eth68 => Status::Eth68(Status68 {
                version: f.next_item()?.u64()?,
                network_id: f.next_item()?.u64()?,
                total_difficulty: f.next_item()?.u256()?,
                head_hash: f.next_item()?.array()?,
                genesis_hash: f.next_item()?.array()?,
                fork_id: ForkId::from_item(f.next_item()?)?,
            }),
            EthVersion::Eth69 | EthVersion::Eth70 => Status::Eth69(Status69 {
                version: f.next_item()?.u64()?,
                network_id: f.next_item()?.u64()?,
                genesis_hash: f.next_item()?.array()?,
                fork_id: ForkId::from_item(f.next_item()?)?,
                earliest_block: f.next_item()?.u64()?,
                latest_block: f.next_item()?.u64()?,
                latest_block_hash: f.next_item()?.array()?,
            }),
        };
        f.finish()?;
        Ok(status)
    }

    /// The version field.
    pub fn version(&self) -> u64 {
        match self {
            Status::Eth68(s) => s.version,
            Status::Eth69(s) => s.version,
        }
    }

    /// The network id.
    pub fn network_id(&self) -> u64 {
        match self {
            Status::Eth68(s) => s.network_id,
            Status::Eth69(s) => s.network_id,
        }
    }

    /// The genesis hash.
    pub fn genesis_hash(&self) -> &B256 {
        match self {
            Status::Eth68(s) => &s.genesis_hash,
            Status::Eth69(s) => &s.genesis_hash,
        }
    }

    /// The fork id.
    pub fn fork_id(&self) -> ForkId {
        match self {
            Status::Eth68(s) => s.fork_id,
            Status::Eth69(s) => s.fork_id,
        }
    }
}

/// What a remote Status is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalStatus {
    /// The negotiated eth version.
    pub version: EthVersion,
    /// Our network id.
    pub network_id: u64,
    /// Our genesis hash.
    pub genesis_hash: B256,
    /// Our head, for the fork id check.
    pub head: Head,
}

/// Why a remote Status was refused (go-ethereum `eth/protocols/eth/handshake.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// Another network.
    #[error("network id mismatch: remote {remote}, local {local}")]
    NetworkIdMismatch {
        /// Remote's id.
        remote: u64,
        /// Ours.
        local: u64,
    },
    /// The version field differs from the negotiated version, or the layout does.
    #[error("protocol version mismatch: remote {remote}, negotiated {local}")]
    VersionMismatch {
        /// Remote's version field.
        remote: u64,
        /// Negotiated.
        local: u64,
    },
    /// Another genesis.
    #[error("genesis hash mismatch")]
    GenesisMismatch,
    /// The EIP-2124 filter refused the fork id.
    #[error("fork id rejected: {0}")]
    ForkId(#[from] ForkIdError),
    /// eth/69 block range with earliest > latest, or a zero latest hash.
    #[error("invalid block range")]
    InvalidBlockRange,
}

impl StatusError {
    /// The disconnect reason to send. go-ethereum's handshake returns plain errors for all of
    /// these, which its p2p layer turns into `DiscSubprotocolError`; we match that on the
    /// wire. (Reputation-wise a mismatch is "no overlap", not misbehaviour.)
    pub fn disconnect_reason(&self) -> DisconnectReason {
        DisconnectReason::SubprotocolError
    }

    /// True for faults that say the peer is on another chain or version (useless to us but
    /// not malicious), false for a malformed block range.
    pub fn is_incompatibility(&self) -> bool {
        !matches!(self, StatusError::InvalidBlockRange)
    }
}

/// Validates a remote Status against our own, in go-ethereum's order: network id, version,
/// genesis, fork id, then (eth/69) the block range.
pub fn validate_status(
    local: &LocalStatus,
    remote: &Status,
    fork_filter: &ForkFilter,
) -> Result<(), StatusError> {
    if remote.network_id() != local.network_id {
        return Err(StatusError::NetworkIdMismatch {
            remote: remote.network_id(),
            local: local.network_id,
        });
    }
    let layout_matches = matches!(
        (local.version, remote),
        (EthVersion::Eth68, Status::Eth68(_))
            | (EthVersion::Eth69 | EthVersion::Eth70, Status::Eth69(_))
    );
    if !layout_matches || remote.version() != u64::from(local.version.as_u32()) {
        return Err(StatusError::VersionMismatch {
            remote: remote.version(),
            local: u64::from(local.version.as_u32()),
        });
    }
    if remote.genesis_hash() != &local.genesis_hash {
        return Err(StatusError::GenesisMismatch);
    }
    fork_filter.validate(local.head, remote.fork_id())?;
    if let Status::Eth69(s) = remote {
        validate_block_range(s.earliest_block, s.latest_block, &s.latest_block_hash)?;
    }
    Ok(())
}

/// The eth/69 block range rule, shared with BlockRangeUpdate: earliest ≤ latest and a
/// non-zero latest hash.
pub fn validate_block_range(
    earliest: u64,
    latest: u64,
    latest_hash: &B256,
) -> Result<(), StatusError> {
    if earliest > latest || latest_hash == &[0u8; 32] {
        return Err(StatusError::InvalidBlockRange);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
