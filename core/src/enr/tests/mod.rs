//! ENR tests. Vectors are transcribed from `shared/vectors/enr.json`, which collects EIP-778's
//! test vector (EIPS/eip-778.md at f767a1e8) and go-ethereum's `p2p/enode/node_test.go`,
//! `idscheme_test.go`, `urlv4_test.go` and `p2p/enr/enr_test.go` (all at 02b73d4e).

use std::collections::BTreeMap;

use secp256k1::{Message, SecretKey};

use super::item;
use crate::crypto::keccak::keccak256;
use crate::crypto::keys::{secp, secret_key_from_bytes};

mod local;
mod props;
mod rules;
mod vectors;

/// Hex to bytes.
fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// A secret key from hex.
fn sk(s: &str) -> SecretKey {
    secret_key_from_bytes(&h(s)).unwrap()
}

/// A record over exactly `pairs` (in the order given, identity not added) at `seq`, signed
/// by `key` with the "v4" scheme and no shape or size checks: lets tests build records that
/// are correctly signed but break some other rule.
fn sign_raw(key: &SecretKey, seq: u64, pairs: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
    let mut body = item::uint_item(seq);
    for (k, v) in pairs {
        item::put_bytes(&mut body, k);
        body.extend_from_slice(v);
    }
    let content = item::wrap_list(&body);
    let sig = secp()
        .sign_ecdsa(&Message::from_digest(keccak256(&content)), key)
        .serialize_compact();
    let mut payload = item::bytes_item(&sig);
    payload.extend_from_slice(&body);
    item::wrap_list(&payload)
}

/// The identity entries of `key`: `id = "v4"`, `secp256k1 = compressed key`.
fn identity(key: &SecretKey) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut m = BTreeMap::new();
    super::record::add_identity(key, &mut m);
    m
}

/// The entries of a record other than `id` and `secp256k1`.
fn non_identity(e: &super::Enr) -> Vec<(Vec<u8>, Vec<u8>)> {
    e.entries()
        .into_iter()
        .filter(|(k, _)| *k != b"id" && *k != b"secp256k1")
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}
