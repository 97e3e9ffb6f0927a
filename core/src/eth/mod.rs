//! The eth wire protocol, eth/68, eth/69 and eth/70: sans-IO codecs and the pure checks the eth
//! protocol machine builds on.
//!
//! Files (one job each):
//! - [`app`]: what the protocol needs from the node: [`app::ChainReader`],
//!   [`app::BlockImporter`], [`app::TxPool`].
//! - [`version`]: supported versions and their message counts.
//! - [`messages`]: [`EthMessage`], every message with its id; `decode(version, id, payload)`.
//! - [`status`]: the Status handshake of both versions and [`validate_status`].
//! - [`forkid`]: EIP-2124 fork ids and the validation filter.
//! - [`chainspec`]: network ids, genesis and fork schedules (mainnet, sepolia, holesky,
//!   hoodi, and the paxeer devnet).
//! - [`chainconfig`]: fork rules as go-ethereum's `ChainConfig` states them (fork blocks and
//!   times, terminal difficulty, blob schedule).
//! - [`genesis`]: a genesis specification and its header, built as go-ethereum's `ToBlock`.
//! - [`header_rules`]: the header-chain rules checkable without execution (parent link,
//!   gas limit, base fee, excess blob gas, post-merge seal fields, fork fields).
//! - [`block`]: headers, bodies, blocks, their hashes and the body-against-header check.
//! - [`blockfetch`]: the block fetcher and import queue for announced and broadcast blocks.
//! - [`sync`]: the chain sync: headers, bodies and receipts downloaded from peers' ranges.
//! - [`receipts`]: receipts in the eth/68 and eth/69 forms, blooms, the receipts root.
//! - [`tx`]: typed transactions (legacy, 2930, 1559, 4844 with/without sidecar, 7702),
//!   hashes, signing hashes and sender recovery.
//! - [`trie`]: the ordered Merkle-Patricia root used for the block roots.
//! - [`primitives`]: hashes, addresses, blooms, 256-bit integers.
//! - [`error`]: [`EthDecodeError`] and the size limits.
//! - [`service`]: the protocol machine ([`service::EthProtocol`]): handshake, serving,
//!   transaction propagation and fetching, block propagation.
//! - `rlp`: the strict RLP reader and writer behind all of the above (crate-private).

pub mod app;
pub mod block;
pub mod blockfetch;
pub mod chainconfig;
pub mod chainspec;
pub mod error;
pub mod forkid;
pub mod genesis;
pub mod header_rules;
pub mod messages;
pub mod primitives;
pub mod receipts;
pub(crate) mod rlp;
pub mod service;
pub mod status;
pub mod sync;
pub mod trie;
pub mod tx;
pub mod version;

pub use block::{validate_body, Block, BlockBody, BodyError, Header, Withdrawal};
pub use chainspec::ChainSpec;
pub use error::{EthDecodeError, MAX_MESSAGE_BYTES, MAX_OBJECTS_PER_MESSAGE};
pub use forkid::{ForkFilter, ForkId, ForkIdError, Head};
pub use messages::EthMessage;
pub use primitives::{Address, B256, U256};
pub use rlp::RlpError;
pub use status::{validate_status, LocalStatus, Status, StatusError};
pub use tx::{PooledTransaction, Transaction, TxType};
pub use version::EthVersion;

#[cfg(test)]
mod forkid_vectors_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod vectors_tests;
