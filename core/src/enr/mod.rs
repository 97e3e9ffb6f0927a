//! Ethereum Node Records (EIP-778) with the "v4" identity scheme: encode, decode, sign,
//! verify, the `enr:` text form, and the local record that is re-signed with a higher sequence
//! number whenever it changes.
//!
//! A record is `rlp([signature, seq, k1, v1, k2, v2, …])`, at most [`MAX_RECORD_BYTES`], keys
//! sorted and unique. Values are kept as raw RLP so entries of any protocol (e.g. `eth` with a
//! fork id) round-trip untouched.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use secp256k1::SecretKey;

use crate::types::{NodeId, PeerId};

/// Largest encoded record (EIP-778).
pub const MAX_RECORD_BYTES: usize = 300;

/// Why a record was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnrError {
    /// Larger than [`MAX_RECORD_BYTES`].
    #[error("record of {0} bytes exceeds 300")]
    TooLarge(usize),
    /// Not the RLP shape of a record.
    #[error("malformed record: {0}")]
    Malformed(&'static str),
    /// Keys not strictly increasing.
    #[error("record keys are not sorted and unique")]
    KeysNotSorted,
    /// The identity scheme is missing or not "v4".
    #[error("unsupported identity scheme")]
    UnsupportedScheme,
    /// The signature does not verify.
    #[error("invalid record signature")]
    InvalidSignature,
    /// The `secp256k1` entry is not a valid compressed key.
    #[error("invalid public key in record")]
    InvalidPublicKey,
    /// The text form is not `enr:` + base64url.
    #[error("invalid enr text")]
    InvalidText,
}

/// A verified node record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enr {
    _private: (),
}

impl Enr {
    /// A builder for a new record.
    pub fn builder() -> EnrBuilder {
        EnrBuilder::default()
    }

    /// Decodes and verifies a record from its RLP.
    pub fn decode(bytes: &[u8]) -> Result<Self, EnrError> {
        let _ = bytes;
        todo!("enr helper")
    }

    /// The record's RLP, exactly as signed.
    pub fn encode(&self) -> Vec<u8> {
        todo!("enr helper")
    }

    /// Parses the text form `enr:<base64url without padding>`.
    pub fn from_text(s: &str) -> Result<Self, EnrError> {
        let _ = s;
        todo!("enr helper")
    }

    /// The text form `enr:<base64url without padding>`.
    pub fn to_text(&self) -> String {
        todo!("enr helper")
    }

    /// Sequence number.
    pub fn seq(&self) -> u64 {
        todo!("enr helper")
    }

    /// The signer's public key (from the `secp256k1` entry).
    pub fn public_key(&self) -> PeerId {
        todo!("enr helper")
    }

    /// The node id (keccak256 of the public key).
    pub fn node_id(&self) -> NodeId {
        self.public_key().node_id()
    }

    /// The raw RLP value of `key`, if present.
    pub fn get_raw(&self, key: &[u8]) -> Option<&[u8]> {
        let _ = key;
        todo!("enr helper")
    }

    /// All entries as (key, raw RLP value), in key order.
    pub fn entries(&self) -> Vec<(&[u8], &[u8])> {
        todo!("enr helper")
    }

    /// `ip` entry.
    pub fn ip4(&self) -> Option<Ipv4Addr> {
        todo!("enr helper")
    }

    /// `ip6` entry.
    pub fn ip6(&self) -> Option<Ipv6Addr> {
        todo!("enr helper")
    }

    /// `tcp` entry.
    pub fn tcp4(&self) -> Option<u16> {
        todo!("enr helper")
    }

    /// `udp` entry.
    pub fn udp4(&self) -> Option<u16> {
        todo!("enr helper")
    }

    /// `tcp6` entry.
    pub fn tcp6(&self) -> Option<u16> {
        todo!("enr helper")
    }

    /// `udp6` entry.
    pub fn udp6(&self) -> Option<u16> {
        todo!("enr helper")
    }
}

/// Builds and signs a record.
#[derive(Clone, Debug, Default)]
pub struct EnrBuilder {
    _private: (),
}

impl EnrBuilder {
    /// Sets the sequence number.
    pub fn seq(self, seq: u64) -> Self {
        let _ = seq;
        todo!("enr helper")
    }

    /// Sets `ip`/`ip6` from the address family.
    pub fn ip(self, ip: IpAddr) -> Self {
        let _ = ip;
        todo!("enr helper")
    }

    /// Sets `tcp` (or `tcp6` if the ip set is IPv6).
    pub fn tcp(self, port: u16) -> Self {
        let _ = port;
        todo!("enr helper")
    }

    /// Sets `udp` (or `udp6` if the ip set is IPv6).
    pub fn udp(self, port: u16) -> Self {
        let _ = port;
        todo!("enr helper")
    }

    /// Sets an arbitrary entry whose value is already RLP-encoded (e.g. `eth`).
    pub fn raw(self, key: &[u8], rlp_value: Vec<u8>) -> Self {
        let _ = (key, rlp_value);
        todo!("enr helper")
    }

    /// Adds `id = "v4"` and `secp256k1` for `key`, signs, and checks the size limit.
    pub fn sign(self, key: &SecretKey) -> Result<Enr, EnrError> {
        let _ = key;
        todo!("enr helper")
    }
}

/// The local node's record: changes bump the sequence number and re-sign.
#[derive(Clone, Debug)]
pub struct LocalEnr {
    _private: (),
}

impl LocalEnr {
    /// A local record for `key` starting at sequence `seq` (the persisted sequence, or the
    /// current unix time in milliseconds when none is stored, so a wiped database never
    /// reuses a sequence number). Entries start empty except identity.
    pub fn new(key: SecretKey, seq: u64) -> Self {
        let _ = (key, seq);
        todo!("enr helper")
    }

    /// The current signed record.
    pub fn record(&self) -> &Enr {
        todo!("enr helper")
    }

    /// Current sequence number.
    pub fn seq(&self) -> u64 {
        todo!("enr helper")
    }

    /// Sets the advertised endpoint; re-signs with seq+1 if anything changed. Returns whether
    /// it changed.
    pub fn set_endpoint(&mut self, ip: Option<IpAddr>, tcp: u16, udp: u16) -> bool {
        let _ = (ip, tcp, udp);
        todo!("enr helper")
    }

    /// Sets an entry (raw RLP value); re-signs with seq+1 if it changed.
    pub fn set_entry(&mut self, key: &[u8], rlp_value: Vec<u8>) -> bool {
        let _ = (key, rlp_value);
        todo!("enr helper")
    }

    /// Removes an entry; re-signs with seq+1 if it was present.
    pub fn remove_entry(&mut self, key: &[u8]) -> bool {
        let _ = key;
        todo!("enr helper")
    }
}
