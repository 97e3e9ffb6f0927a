//! The node's embedded eth application side, so the daemon and the devnet work alone: an
//! in-memory transaction pool (pending/queued per sender, go-ethereum's rules), the account
//! state it checks against, a block store in the data directory, and chain selection
//! (`--chain devnet|mainnet|sepolia|FILE`).
//!
//! - `pool/`: [`pool::MemoryTxPool`].
//! - `state.rs`: [`state::AccountState`], [`state::MemoryState`] (`--prestate FILE`).
//! - `chain.rs`: [`chain::ChainStore`].
//! - `spec.rs`: [`spec::load_chain`], the custom chain file format.
//! - `txgen.rs`: signed transactions for traffic generation.

pub mod chain;
pub mod pool;
pub mod spec;
pub mod state;
pub mod txgen;
