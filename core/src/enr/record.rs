//! The record layer: the shape rules of EIP-778 (list, sizes, sorted keys), the content that is
//! signed, and the "v4" identity scheme that signs and verifies it.

use std::collections::BTreeMap;

use secp256k1::ecdsa::Signature;
use secp256k1::{Message, PublicKey, SecretKey};

use super::item;
use super::{Enr, EnrError, MAX_RECORD_BYTES};
use crate::crypto::keccak::keccak256;
use crate::crypto::keys::{public_key_bytes, secp};
use crate::types::PeerId;

/// Key of the identity scheme name.
pub(super) const KEY_ID: &[u8] = b"id";
/// Key of the compressed public key in the "v4" scheme.
pub(super) const KEY_SECP256K1: &[u8] = b"secp256k1";
/// The `id` value of the "v4" scheme as a raw RLP item: the string "v4".
const ID_V4_ITEM: &[u8] = &[0x82, b'v', b'4'];
/// Length of a compressed secp256k1 public key.
const COMPRESSED_KEY_BYTES: usize = 33;

/// A record that has the shape of EIP-778 but whose signature has not been checked: the layer
/// of go-ethereum's `enr.Record.DecodeRLP`.
#[derive(Debug)]
pub(super) struct Unverified<'a> {
    /// The signature field, any length at this layer.
    pub signature: &'a [u8],
    /// Sequence number.
    pub seq: u64,
    /// Keys (string payloads) with their raw RLP values, strictly increasing.
    pub pairs: Vec<(&'a [u8], &'a [u8])>,
    /// `rlp([seq, k1, v1, …])`, the bytes the signature covers.
    pub content: Vec<u8>,
}

/// Checks the shape of a record: size, a single list with no trailing bytes, a signature string
/// and a canonical seq, complete key/value pairs, string keys in strictly increasing byte
/// order. Values may be any single RLP item (only their header is checked, as go-ethereum
/// keeps them as `rlp.RawValue`).
pub(super) fn parse(bytes: &[u8]) -> Result<Unverified<'_>, EnrError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(EnrError::TooLarge(bytes.len()));
    }
    let list = item::single(bytes).map_err(EnrError::Malformed)?;
    if !list.is_list {
        return Err(EnrError::Malformed("record is not a list"));
    }
    let items = item::list_items(list.payload).map_err(EnrError::Malformed)?;
    let [sig, seq, rest @ ..] = items.as_slice() else {
        return Err(EnrError::Malformed(
            "record contains less than two list elements",
        ));
    };
    let signature = item::string(sig).ok_or(EnrError::Malformed("signature is not a string"))?;
    let seq_value = item::uint(seq).ok_or(EnrError::Malformed("invalid sequence number"))?;
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::with_capacity(rest.len() / 2);
    let mut rest = rest.iter();
    while let Some(k) = rest.next() {
        let v = rest
            .next()
            .ok_or(EnrError::Malformed("record contains incomplete k/v pair"))?;
        let key = item::string(k).ok_or(EnrError::Malformed("record key is not a string"))?;
        if pairs.last().is_some_and(|(prev, _)| *prev >= key) {
            return Err(EnrError::KeysNotSorted);
        }
        pairs.push((key, v.raw));
    }
    // The content is the list payload without the signature item.
    let content = item::wrap_list(list.payload.get(sig.raw.len()..).unwrap_or(&[]));
    Ok(Unverified {
        signature,
        seq: seq_value,
        pairs,
        content,
    })
}

impl Unverified<'_> {
    /// The raw value of `key`.
    fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.pairs
            .binary_search_by(|(k, _)| (*k).cmp(key))
            .ok()
            .and_then(|i| self.pairs.get(i))
            .map(|(_, v)| *v)
    }

    /// Checks the "v4" identity scheme: `id` is "v4", `secp256k1` a compressed key, and the
    /// signature a 64-byte `R ‖ S` over keccak256(content) by that key. Returns the key.
    pub(super) fn verify_v4(&self) -> Result<PeerId, EnrError> {
        if self.get(KEY_ID) != Some(ID_V4_ITEM) {
            return Err(EnrError::UnsupportedScheme);
        }
        let key_item = self
            .get(KEY_SECP256K1)
            .and_then(|raw| item::single(raw).ok())
            .and_then(|it| item::string(&it))
            .filter(|k| k.len() == COMPRESSED_KEY_BYTES)
            .ok_or(EnrError::InvalidPublicKey)?;
        let key = PublicKey::from_slice(key_item).map_err(|_| EnrError::InvalidPublicKey)?;
        // `from_compact` takes exactly 64 bytes; libsecp256k1 verification also rejects
        // high-S signatures, as go-ethereum's `crypto.VerifySignature` does.
        let sig =
            Signature::from_compact(self.signature).map_err(|_| EnrError::InvalidSignature)?;
        let msg = Message::from_digest(keccak256(&self.content));
        secp()
            .verify_ecdsa(&msg, &sig, &key)
            .map_err(|_| EnrError::InvalidSignature)?;
        Ok(PeerId(public_key_bytes(&key)))
    }
}

/// Signs `entries` (raw RLP values) at `seq` with the "v4" scheme, adding `id` and
/// `secp256k1` (replacing any given). Fails if a value is not exactly one RLP item or the
/// record exceeds [`MAX_RECORD_BYTES`].
pub(super) fn sign_checked(
    key: &SecretKey,
    seq: u64,
    mut entries: BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<Enr, EnrError> {
    for value in entries.values() {
        item::single(value)
            .map_err(|_| EnrError::Malformed("entry value is not exactly one RLP item"))?;
    }
    add_identity(key, &mut entries);
    let record = sign_v4(key, seq, entries);
    if record.raw.len() > MAX_RECORD_BYTES {
        return Err(EnrError::TooLarge(record.raw.len()));
    }
    Ok(record)
}

/// Inserts `id = "v4"` and `secp256k1 = compressed(key)`.
pub(super) fn add_identity(key: &SecretKey, entries: &mut BTreeMap<Vec<u8>, Vec<u8>>) {
    let public = PublicKey::from_secret_key(secp(), key);
    entries.insert(KEY_ID.to_vec(), ID_V4_ITEM.to_vec());
    entries.insert(
        KEY_SECP256K1.to_vec(),
        item::bytes_item(&public.serialize()),
    );
}

/// Encodes and signs `entries` as they are (identity included, values valid items), without
/// the size check. The map's order is byte order, which is the key order EIP-778 requires.
pub(super) fn sign_v4(key: &SecretKey, seq: u64, entries: BTreeMap<Vec<u8>, Vec<u8>>) -> Enr {
    let mut body = item::uint_item(seq);
    for (k, v) in &entries {
        item::put_bytes(&mut body, k);
        body.extend_from_slice(v);
    }
    let content = item::wrap_list(&body);
    // RFC 6979 deterministic nonce, low-S: the same content always gets the same signature.
    let sig = secp()
        .sign_ecdsa(&Message::from_digest(keccak256(&content)), key)
        .serialize_compact();
    let mut payload = item::bytes_item(&sig);
    payload.extend_from_slice(&body);
    let public = PublicKey::from_secret_key(secp(), key);
    Enr {
        raw: item::wrap_list(&payload),
        seq,
        public_key: PeerId(public_key_bytes(&public)),
        pairs: entries.into_iter().collect(),
    }
}

/// Encodes `[signature, seq, k1, v1, …]` with the signature as a string; the unsigned-record
/// form go-ethereum sizes with an empty signature.
#[cfg(test)]
pub(super) fn encode_fields(signature: &[u8], seq: u64, pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut payload = item::bytes_item(signature);
    item::put_uint(&mut payload, seq);
    for (k, v) in pairs {
        item::put_bytes(&mut payload, k);
        payload.extend_from_slice(v);
    }
    item::wrap_list(&payload)
}

/// The parts [`Enr`] keeps of a record whose signature `verify_v4` accepted.
pub(super) fn into_enr(bytes: &[u8], parsed: Unverified<'_>, public_key: PeerId) -> Enr {
    Enr {
        raw: bytes.to_vec(),
        seq: parsed.seq,
        public_key,
        pairs: parsed
            .pairs
            .into_iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect(),
    }
}
