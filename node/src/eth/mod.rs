//! The node's embedded eth application side, so the daemon and the devnet work alone: an
//! in-memory transaction pool (pending/queued per sender, go-ethereum's rules), the account
//! state it checks against, a block store in the data directory, and chain selection
//! (`--chain devnet|mainnet|sepolia|FILE`).
//!
//! - `pool/`: [`pool::MemoryTxPool`].
//! - `state.rs`: [`state::AccountState`], [`state::MemoryState`] (`--prestate FILE`).
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
pub mod state;
pub mod txgen;
