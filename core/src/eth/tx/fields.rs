//! Field types shared by the transaction types: access lists (EIP-2930), the signature of a
//! typed transaction, and EIP-7702 authorizations.

use crate::eth::error::{Budget, EthDecodeError};
use crate::eth::primitives::{Address, B256, U256};
use crate::eth::rlp::{self, Item, ListReader};

/// One access list entry (EIP-2930): an address and the storage slots it pre-warms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessListItem {
    /// The account.
    pub address: Address,
    /// Storage slots of that account.
    pub storage_keys: Vec<B256>,
}

/// The `[y_parity, r, s]` tail of a typed transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TypedSignature {
    /// Parity of the curve point R's y coordinate.
    pub y_parity: bool,
    /// Signature `r`.
    pub r: U256,
    /// Signature `s`.
    pub s: U256,
}

/// One signed EIP-7702 authorization `[chain_id, address, nonce, y_parity, r, s]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Authorization {
    /// Chain the authorization is valid on (0: any chain). A uint256 in EIP-7702.
    pub chain_id: U256,
    /// The code to delegate to.
    pub address: Address,
    /// Nonce of the authority account.
    pub nonce: u64,
    /// Signature parity. Kept as the raw byte: EIP-7702 lets invalid authorizations into
    /// blocks, they are just skipped at execution.
    pub y_parity: u8,
    /// Signature `r`.
    pub r: U256,
    /// Signature `s`.
    pub s: U256,
}

/// EIP-7702 `MAGIC` byte prefixed to an authorization's signing payload.
pub const AUTHORIZATION_MAGIC: u8 = 0x05;

impl Authorization {
    /// The digest the authority signed: `keccak(0x05 || rlp([chain_id, address, nonce]))`.
    pub fn signing_hash(&self) -> B256 {
        let mut p = Vec::with_capacity(64);
        rlp::put_u256(&mut p, &self.chain_id);
        rlp::put_bytes(&mut p, &self.address);
        rlp::put_u64(&mut p, self.nonce);
        let mut msg = vec![AUTHORIZATION_MAGIC];
        rlp::put_list(&mut msg, &p);
        crate::crypto::keccak::keccak256(&msg)
    }
}

/// Appends an access list.
pub(crate) fn put_access_list(out: &mut Vec<u8>, list: &[AccessListItem]) {
    let mut p = Vec::new();
    for item in list {
        let mut keys = Vec::with_capacity(item.storage_keys.len() * 33);
        for k in &item.storage_keys {
            rlp::put_bytes(&mut keys, k);
        }
        let mut entry = Vec::with_capacity(keys.len() + 30);
        rlp::put_bytes(&mut entry, &item.address);
        rlp::put_list(&mut entry, &keys);
        rlp::put_list(&mut p, &entry);
    }
    rlp::put_list(out, &p);
}

/// Decodes an access list.
pub(crate) fn access_list(
    item: Item<'_>,
    budget: &mut Budget,
) -> Result<Vec<AccessListItem>, EthDecodeError> {
    let mut entries = item.list()?;
    let mut out = Vec::new();
    while let Some(entry) = entries.next_opt()? {
        budget.take(1)?;
        let mut f = entry.list()?;
        let address = f.next_item()?.array::<20>()?;
        let storage_keys = hashes(f.next_item()?)?;
        f.finish()?;
        out.push(AccessListItem {
            address,
            storage_keys,
        });
    }
    Ok(out)
}

/// Decodes a list of 32-byte hashes (memory stays below the input size, so no budget).
pub(crate) fn hashes(item: Item<'_>) -> Result<Vec<B256>, EthDecodeError> {
    let mut list = item.list()?;
    let mut out = Vec::new();
    while let Some(h) = list.next_opt()? {
        out.push(h.array::<32>()?);
    }
    Ok(out)
}

/// Appends a list of 32-byte hashes.
pub(crate) fn put_hashes(out: &mut Vec<u8>, hashes: &[B256]) {
    let mut p = Vec::with_capacity(hashes.len() * 33);
    for h in hashes {
        rlp::put_bytes(&mut p, h);
    }
    rlp::put_list(out, &p);
}

/// Appends an authorization list.
pub(crate) fn put_authorizations(out: &mut Vec<u8>, list: &[Authorization]) {
    let mut p = Vec::new();
    for a in list {
        let mut e = Vec::with_capacity(110);
        rlp::put_u256(&mut e, &a.chain_id);
        rlp::put_bytes(&mut e, &a.address);
        rlp::put_u64(&mut e, a.nonce);
        rlp::put_u64(&mut e, u64::from(a.y_parity));
        rlp::put_u256(&mut e, &a.r);
        rlp::put_u256(&mut e, &a.s);
        rlp::put_list(&mut p, &e);
    }
    rlp::put_list(out, &p);
}

/// Decodes an authorization list.
pub(crate) fn authorizations(
    item: Item<'_>,
    budget: &mut Budget,
) -> Result<Vec<Authorization>, EthDecodeError> {
    let mut list = item.list()?;
    let mut out = Vec::new();
    while let Some(entry) = list.next_opt()? {
        budget.take(1)?;
        let mut f = entry.list()?;
        let chain_id = f.next_item()?.u256()?;
        let address = f.next_item()?.array::<20>()?;
        let nonce = f.next_item()?.u64()?;
        let y_parity = u8::try_from(f.next_item()?.u64()?)
            .map_err(|_| EthDecodeError::Invalid("authorization y_parity"))?;
        let r = f.next_item()?.u256()?;
        let s = f.next_item()?.u256()?;
        f.finish()?;
        out.push(Authorization {
            chain_id,
            address,
            nonce,
            y_parity,
            r,
            s,
        });
    }
    Ok(out)
}

/// Appends `[y_parity, r, s]`.
pub(crate) fn put_signature(out: &mut Vec<u8>, sig: &TypedSignature) {
    rlp::put_bool(out, sig.y_parity);
    rlp::put_u256(out, &sig.r);
    rlp::put_u256(out, &sig.s);
}

/// Reads `[y_parity, r, s]` (y_parity must be 0 or 1) and requires the list to end there.
pub(crate) fn signature_tail(mut f: ListReader<'_>) -> Result<TypedSignature, EthDecodeError> {
    let y_parity = f
        .next_item()?
        .bool()
        .map_err(|_| EthDecodeError::Invalid("y_parity is not 0 or 1"))?;
    let r = f.next_item()?.u256()?;
    let s = f.next_item()?.u256()?;
    f.finish()?;
    Ok(TypedSignature { y_parity, r, s })
}

/// Reads a `to` field that may be empty (contract creation).
pub(crate) fn optional_address(item: Item<'_>) -> Result<Option<Address>, EthDecodeError> {
    let b = item.bytes()?;
    if b.is_empty() {
        Ok(None)
    } else {
        Ok(Some(item.array::<20>()?))
    }
}

/// Appends a `to` field that may be empty.
pub(crate) fn put_optional_address(out: &mut Vec<u8>, to: &Option<Address>) {
    match to {
        Some(a) => rlp::put_bytes(out, a),
        None => rlp::put_bytes(out, &[]),
    }
}
