//! RLPx transport (devp2p `rlpx.md`): the EIP-8 ECIES handshake that authenticates both
//! nodes and derives session secrets, and the frame codec that encrypts and MACs messages.

pub mod frame;
pub mod handshake;
pub mod secrets;
pub mod snappy;
