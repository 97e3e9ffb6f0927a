//! The Status exchange (devp2p `caps/eth.md`, go-ethereum `eth/protocols/eth/handshake.go`):
//! our Status for the negotiated version, and the check of theirs.

use crate::eth::app::ChainReader;
use crate::eth::forkid::{ForkFilter, Head};
use crate::eth::status::{validate_status, LocalStatus, Status, Status68, Status69, StatusError};
use crate::eth::version::EthVersion;

use super::config::EthConfig;

/// Our head as the fork id sees it.
pub fn local_head(chain: &dyn ChainReader) -> Head {
    let h = chain.head();
    Head {
        number: h.number,
        timestamp: h.timestamp,
    }
}

/// Our Status in `version`'s layout: eth/68 carries the total difficulty and head hash,
/// eth/69 the served range instead (EIP-7642).
pub fn local_status(cfg: &EthConfig, chain: &dyn ChainReader, version: EthVersion) -> Status {
    let head = chain.head();
    let fork_id = cfg.spec.fork_id(local_head(chain));
    match version {
        EthVersion::Eth68 => Status::Eth68(Status68 {
            version: u64::from(version.as_u32()),
            network_id: cfg.network_id,
            total_difficulty: head.total_difficulty,
            head_hash: head.hash,
            genesis_hash: cfg.spec.genesis_hash,
            fork_id,
        }),
        EthVersion::Eth69 | EthVersion::Eth70 => Status::Eth69(Status69 {
            version: u64::from(version.as_u32()),
            network_id: cfg.network_id,
            genesis_hash: cfg.spec.genesis_hash,
            fork_id,
            earliest_block: chain.earliest().min(head.number),
            latest_block: head.number,
            latest_block_hash: head.hash,
        }),
    }
}

/// Checks a peer's Status against ours (network, version, genesis, fork id, range).
pub fn check_status(
    cfg: &EthConfig,
    filter: &ForkFilter,
    chain: &dyn ChainReader,
    version: EthVersion,
    remote: &Status,
) -> Result<(), StatusError> {
    let local = LocalStatus {
        version,
        network_id: cfg.network_id,
        genesis_hash: cfg.spec.genesis_hash,
        head: local_head(chain),
    };
    validate_status(&local, remote, filter)
}
