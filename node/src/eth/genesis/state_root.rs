//! The state root of a genesis allocation: the secure Merkle-Patricia trie (keys are
//! keccak(address)) of accounts RLP-encoded as `[nonce, balance, storageRoot, codeHash]`,
//! each storage trie keyed by keccak(slot) with the RLP of the value's trimmed bytes. Zero
//! storage values are not stored (go-ethereum `state.StateDB.SetState` deletes them); empty
//! accounts are kept (the genesis commit does not delete empty objects). The tries are
//! built with `alloy-trie`'s `HashBuilder` over keys in sorted order.

use std::collections::BTreeMap;

use alloy_trie::{HashBuilder, Nibbles};
use paxeer_p2p_core::crypto::keccak::keccak256;
use paxeer_p2p_core::eth::{Address, B256};

use super::json::GenesisAccount;

/// Root of a trie over `(key, value)` leaves; sorts the keys first.
fn trie_root(mut leaves: Vec<(B256, Vec<u8>)>) -> B256 {
    leaves.sort_by_key(|l| l.0);
    let mut hb = HashBuilder::default();
    for (key, value) in &leaves {
        hb.add_leaf(Nibbles::unpack(key), value);
    }
    hb.root().0
}

/// The storage root of one account.
pub fn storage_root(storage: &[(B256, B256)]) -> B256 {
    let leaves = storage
        .iter()
        .filter(|(_, v)| v != &[0u8; 32])
        .map(|(slot, value)| {
            let skip = value.iter().take_while(|&&b| b == 0).count();
            let trimmed = value.get(skip..).unwrap_or(&[]);
            (keccak256(slot), rlp::encode(&trimmed).to_vec())
        })
        .collect();
    trie_root(leaves)
}

/// The RLP of an account as stored in the state trie.
pub fn account_rlp(account: &GenesisAccount) -> Vec<u8> {
    let mut s = rlp::RlpStream::new_list(4);
    s.append(&account.nonce);
    s.append(&account.balance.trimmed());
    s.append(&storage_root(&account.storage).as_slice());
    s.append(&keccak256(&account.code).as_slice());
    s.out().to_vec()
}

/// The state root of `alloc`.
pub fn state_root(alloc: &BTreeMap<Address, GenesisAccount>) -> B256 {
    let leaves = alloc
        .iter()
        .map(|(address, account)| (keccak256(address), account_rlp(account)))
        .collect();
    trie_root(leaves)
}
