//! The node's embedded eth application side, so the daemon and the devnet work alone: a
//! bounded in-memory transaction pool, a block store in the data directory, and chain
//! selection (`--chain devnet|mainnet|sepolia|FILE`).
//!
//! - `pool.rs`: [`pool::MemoryTxPool`].
//! - `chain.rs`: [`chain::ChainStore`].
//! - `spec.rs`: [`spec::load_chain`]: a built-in chain or a go-ethereum genesis file.
//! - `genesis/`: go-ethereum genesis files, their state root and header.
//! - `import.rs`, `import_file.rs`: `paxeer-p2p import` of `geth export` block files.
//! - `txgen.rs`: signed transactions for traffic generation.

pub mod chain;
pub mod genesis;
pub mod import;
pub mod import_file;
pub mod pool;
pub mod spec;
pub mod txgen;
