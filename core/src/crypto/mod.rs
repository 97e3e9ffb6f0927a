//! Cryptographic building blocks of RLPx: Keccak, secp256k1 keys and ECDH, and ECIES.

pub mod ecies;
pub mod keccak;
pub mod keys;
