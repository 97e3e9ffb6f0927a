//! Ethereum Node Records (EIP-778) with the "v4" identity scheme: encode, decode, sign,
//! verify, the `enr:` text form, and the local record that is re-signed with a higher sequence
//! number whenever it changes.
//!
//! A record is `rlp([signature, seq, k1, v1, k2, v2, …])`, at most [`MAX_RECORD_BYTES`], keys
//! sorted and unique. Values are kept as raw RLP so entries of any protocol (e.g. `eth` with a
//! fork id) round-trip untouched.
//!
//! Layout: [`Enr`] (a verified record and its accessors) lives here; the shape rules and the
//! "v4" scheme in `record.rs`, the strict RLP reader in `item.rs`, [`EnrBuilder`] in
//! `builder.rs` and [`LocalEnr`] in `local.rs`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use base64::Engine as _;

use crate::types::{NodeId, PeerId};

mod builder;
mod item;
mod local;
mod record;

pub use builder::{EnrBuilder, DEFAULT_SEQ};
pub use local::LocalEnr;

/// Largest encoded record (EIP-778).
pub const MAX_RECORD_BYTES: usize = 300;

/// Prefix of the text form (EIP-778 "Text Encoding").
pub const TEXT_PREFIX: &str = "enr:";

/// Longest base64 text after [`TEXT_PREFIX`] that can hold [`MAX_RECORD_BYTES`]: four
/// characters per three bytes, without padding.
const MAX_TEXT_BASE64_CHARS: usize = MAX_RECORD_BYTES / 3 * 4;

/// The base64 alphabet of the text form: URL-safe, no padding (RFC 4648 §5). Strict: padding
/// and non-zero trailing bits are rejected, so every accepted text is the canonical one.
const TEXT_ENGINE: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;

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
///
/// Only two ways produce one: [`Enr::decode`] (which checks the shape and the "v4" signature)
/// and signing ([`EnrBuilder::sign`], [`LocalEnr`]), so holding an `Enr` means its signature is
/// valid and [`Enr::encode`] returns the exact signed bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Enr {
    /// The whole record as signed.
    raw: Vec<u8>,
    /// Sequence number.
    seq: u64,
    /// The key behind the `secp256k1` entry, uncompressed.
    public_key: PeerId,
    /// (key, raw RLP value), strictly increasing by key bytes.
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Key of the IPv4 address (4-byte string).
const KEY_IP: &[u8] = b"ip";
/// Key of the IPv6 address (16-byte string).
const KEY_IP6: &[u8] = b"ip6";
/// Key of the IPv4 TCP port.
const KEY_TCP: &[u8] = b"tcp";
/// Key of the IPv4 UDP port.
const KEY_UDP: &[u8] = b"udp";
/// Key of the IPv6 TCP port.
const KEY_TCP6: &[u8] = b"tcp6";
/// Key of the IPv6 UDP port.
const KEY_UDP6: &[u8] = b"udp6";

impl Enr {
    /// A builder for a new record.
    pub fn builder() -> EnrBuilder {
        EnrBuilder::default()
    }

    /// Decodes and verifies a record from its RLP.
    ///
    /// Total: any input gives a record or an error. Rejected: more than
    /// [`MAX_RECORD_BYTES`], anything but one RLP list (trailing bytes included), non-canonical
    /// RLP, fewer than two elements, a non-string signature or key, a non-canonical seq, an odd
    /// number of key/value elements, keys not strictly increasing as bytes, an `id` other than
    /// "v4", a `secp256k1` entry that is not a 33-byte compressed key, and a signature that is
    /// not a valid 64-byte `R ‖ S` (low S) over keccak256 of `rlp([seq, k1, v1, …])`.
    pub fn decode(bytes: &[u8]) -> Result<Self, EnrError> {
        let parsed = record::parse(bytes)?;
        let public_key = parsed.verify_v4()?;
        Ok(record::into_enr(bytes, parsed, public_key))
    }

    /// The record's RLP, exactly as signed.
    pub fn encode(&self) -> Vec<u8> {
        self.raw.clone()
    }

    /// The record's RLP as a slice, without copying.
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// Size of the encoded record in bytes.
    pub fn size(&self) -> usize {
        self.raw.len()
    }

    /// Parses the text form `enr:<base64url without padding>`.
    ///
    /// No whitespace is trimmed. A text too long to hold [`MAX_RECORD_BYTES`] is rejected as
    /// [`EnrError::TooLarge`] before decoding.
    pub fn from_text(s: &str) -> Result<Self, EnrError> {
        let b64 = s.strip_prefix(TEXT_PREFIX).ok_or(EnrError::InvalidText)?;
        if b64.len() > MAX_TEXT_BASE64_CHARS {
            return Err(EnrError::TooLarge(b64.len().saturating_mul(3) / 4));
        }
        let bytes = TEXT_ENGINE.decode(b64).map_err(|_| EnrError::InvalidText)?;
        Self::decode(&bytes)
    }

    /// The text form `enr:<base64url without padding>`.
    pub fn to_text(&self) -> String {
        let mut s = String::from(TEXT_PREFIX);
        TEXT_ENGINE.encode_string(&self.raw, &mut s);
        s
    }

    /// Sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The signer's public key (from the `secp256k1` entry).
    pub fn public_key(&self) -> PeerId {
        self.public_key
    }

    /// The node id (keccak256 of the public key).
    pub fn node_id(&self) -> NodeId {
        self.public_key().node_id()
    }

    /// The raw RLP value of `key`, if present.
    pub fn get_raw(&self, key: &[u8]) -> Option<&[u8]> {
        self.pairs
            .binary_search_by(|(k, _)| k.as_slice().cmp(key))
            .ok()
            .and_then(|i| self.pairs.get(i))
            .map(|(_, v)| v.as_slice())
    }

    /// All entries as (key, raw RLP value), in key order.
    pub fn entries(&self) -> Vec<(&[u8], &[u8])> {
        self.pairs
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect()
    }

    /// The string payload of entry `key`, if present and a string.
    fn get_string(&self, key: &[u8]) -> Option<&[u8]> {
        let it = item::single(self.get_raw(key)?).ok()?;
        item::string(&it)
    }

    /// Entry `key` as a port: a canonical unsigned integer ≤ 65535.
    fn get_port(&self, key: &[u8]) -> Option<u16> {
        let it = item::single(self.get_raw(key)?).ok()?;
        u16::try_from(item::uint(&it)?).ok()
    }

    /// `ip` entry.
    pub fn ip4(&self) -> Option<Ipv4Addr> {
        let octets: [u8; 4] = self.get_string(KEY_IP)?.try_into().ok()?;
        Some(Ipv4Addr::from(octets))
    }

    /// `ip6` entry.
    pub fn ip6(&self) -> Option<Ipv6Addr> {
        let octets: [u8; 16] = self.get_string(KEY_IP6)?.try_into().ok()?;
        Some(Ipv6Addr::from(octets))
    }

    /// `tcp` entry.
    pub fn tcp4(&self) -> Option<u16> {
        self.get_port(KEY_TCP)
    }

    /// `udp` entry.
    pub fn udp4(&self) -> Option<u16> {
        self.get_port(KEY_UDP)
    }

    /// `tcp6` entry.
    pub fn tcp6(&self) -> Option<u16> {
        self.get_port(KEY_TCP6)
    }

    /// `udp6` entry.
    pub fn udp6(&self) -> Option<u16> {
        self.get_port(KEY_UDP6)
    }
}

impl fmt::Debug for Enr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enr")
            .field("seq", &self.seq)
            .field("node_id", &self.node_id())
            .field(
                "entries",
                &self
                    .pairs
                    .iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), hex::encode(v)))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl fmt::Display for Enr {
    /// The text form, as [`Enr::to_text`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl FromStr for Enr {
    type Err = EnrError;

    /// Parses the text form, as [`Enr::from_text`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_text(s)
    }
}

#[cfg(test)]
mod tests;
