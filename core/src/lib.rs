//! Sans-IO core of paxeer-p2p.
//!
//! Everything in this crate is a pure state machine: it never touches a socket, never reads a
//! clock (time is passed in as `now`) and never uses a global random number generator (each
//! machine owns a CSPRNG seeded from a [`types::Seed`]). The runtime crates drive these machines
//! over real sockets; tests drive them in virtual time.
//!
//! Layout (one job per module):
//! - [`types`]: node identities, seeds, directions.
//! - [`crypto`]: Keccak, secp256k1 helpers, ECIES.
//! - [`enode`]: `enode://` URLs.
//! - [`enr`]: Ethereum Node Records (EIP-778).
//! - [`netutil`]: IP rules of discovery (LAN, relay checks, subnet limits, netrestrict).
//! - [`discv4`]: the discv4 packet codec and the discovery machine with its Kademlia table.
//! - [`nodedb`]: what discovery persists, as a trait.
//! - [`rlpx`]: the RLPx handshake (EIP-8) and the frame codec.
//! - [`p2p`]: the devp2p base protocol (Hello, Disconnect, Ping/Pong) and capability negotiation.
//! - [`session`]: one RLPx connection composed of the above.
//! - [`peers`]: the peer manager (admission, dialing, reputation, bans, rate limits).
//! - [`protocol`]: pluggable sub-protocols (the `Protocol` trait and the registry routing to them).
//! - [`driver`]: synchronous buffer helpers shared by every runtime.
//! - [`host`]: the sans-IO node composing peer manager, protocols, discovery and sessions.
//! - [`metrics`]: counters the host keeps for the node to export.
//! - [`eth`]: the eth/68 + eth/69 wire layer (messages, Status, fork id, blocks, transactions).

pub mod crypto;
pub mod discv4;
pub mod driver;
pub mod enode;
pub mod enr;
pub mod eth;
pub mod host;
pub mod metrics;
pub mod netutil;
pub mod nodedb;
pub mod p2p;
pub mod peers;
pub mod protocol;
pub mod rlpx;
pub mod rng;
pub mod session;
#[cfg(test)]
pub(crate) mod test_clock;
pub mod types;
