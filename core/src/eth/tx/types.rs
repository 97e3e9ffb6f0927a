//! The five transaction types and the RLP field lists of each (the payload after the type
//! byte for typed transactions, the whole list for legacy ones).

use crate::eth::error::{Budget, EthDecodeError};
use crate::eth::primitives::{Address, B256, U256};
use crate::eth::rlp::{self, ListReader};
use crate::eth::tx::fields::{
    access_list, authorizations, hashes, optional_address, put_access_list, put_authorizations,
    put_hashes, put_optional_address, put_signature, signature_tail, AccessListItem, Authorization,
    TypedSignature,
};

/// A legacy (pre-EIP-2718) transaction, possibly EIP-155 replay-protected through `v`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegacyTx {
    /// Sender nonce.
    pub nonce: u64,
    /// Wei per gas.
    pub gas_price: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// Wei transferred.
    pub value: U256,
    /// Call data or init code.
    pub input: Vec<u8>,
    /// `v`: 27/28 (Homestead) or `chain_id * 2 + 35/36` (EIP-155). Kept whole so the
    /// transaction re-encodes byte for byte.
    pub v: U256,
    /// Signature `r`.
    pub r: U256,
    /// Signature `s`.
    pub s: U256,
}

/// An EIP-2930 (type 1) access-list transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Eip2930Tx {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Wei per gas.
    pub gas_price: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// Wei transferred.
    pub value: U256,
    /// Call data or init code.
    pub input: Vec<u8>,
    /// Pre-warmed accounts and slots.
    pub access_list: Vec<AccessListItem>,
    /// Signature.
    pub signature: TypedSignature,
}

/// An EIP-1559 (type 2) dynamic-fee transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Eip1559Tx {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Tip cap, wei per gas.
    pub max_priority_fee_per_gas: U256,
    /// Fee cap, wei per gas.
    pub max_fee_per_gas: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// Wei transferred.
    pub value: U256,
    /// Call data or init code.
    pub input: Vec<u8>,
    /// Pre-warmed accounts and slots.
    pub access_list: Vec<AccessListItem>,
    /// Signature.
    pub signature: TypedSignature,
}

/// An EIP-4844 (type 3) blob transaction, without its sidecar (the form in blocks).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Eip4844Tx {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Tip cap, wei per gas.
    pub max_priority_fee_per_gas: U256,
    /// Fee cap, wei per gas.
    pub max_fee_per_gas: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient (blob transactions cannot create contracts).
    pub to: Address,
    /// Wei transferred.
    pub value: U256,
    /// Call data.
    pub input: Vec<u8>,
    /// Pre-warmed accounts and slots.
    pub access_list: Vec<AccessListItem>,
    /// Fee cap, wei per blob gas.
    pub max_fee_per_blob_gas: U256,
    /// Versioned hashes of the blob commitments.
    pub blob_versioned_hashes: Vec<B256>,
    /// Signature.
    pub signature: TypedSignature,
}

/// An EIP-7702 (type 4) set-code transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Eip7702Tx {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Tip cap, wei per gas.
    pub max_priority_fee_per_gas: U256,
    /// Fee cap, wei per gas.
    pub max_fee_per_gas: U256,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient (set-code transactions cannot create contracts).
    pub to: Address,
    /// Wei transferred.
    pub value: U256,
    /// Call data.
    pub input: Vec<u8>,
    /// Pre-warmed accounts and slots.
    pub access_list: Vec<AccessListItem>,
    /// Signed delegations.
    pub authorization_list: Vec<Authorization>,
    /// Signature.
    pub signature: TypedSignature,
}

/// A `u64` chain id (we refuse wider ones: no real chain uses them).
fn chain_id(f: &mut ListReader<'_>) -> Result<u64, EthDecodeError> {
    Ok(f.next_item()?.u64()?)
}

impl LegacyTx {
    /// Appends the six unsigned fields.
    pub(crate) fn put_unsigned(&self, out: &mut Vec<u8>) {
        rlp::put_u64(out, self.nonce);
        rlp::put_u256(out, &self.gas_price);
        rlp::put_u64(out, self.gas_limit);
        put_optional_address(out, &self.to);
        rlp::put_u256(out, &self.value);
        rlp::put_bytes(out, &self.input);
    }

    /// The full list payload.
    pub(crate) fn payload(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(self.input.len() + 140);
        self.put_unsigned(&mut p);
        rlp::put_u256(&mut p, &self.v);
        rlp::put_u256(&mut p, &self.r);
        rlp::put_u256(&mut p, &self.s);
        p
    }

    /// Decodes the nine fields.
    pub(crate) fn decode(mut f: ListReader<'_>) -> Result<Self, EthDecodeError> {
        let tx = LegacyTx {
            nonce: f.next_item()?.u64()?,
            gas_price: f.next_item()?.u256()?,
            gas_limit: f.next_item()?.u64()?,
            to: optional_address(f.next_item()?)?,
            value: f.next_item()?.u256()?,
            input: f.next_item()?.bytes()?.to_vec(),
            v: f.next_item()?.u256()?,
            r: f.next_item()?.u256()?,
            s: f.next_item()?.u256()?,
        };
        f.finish()?;
        Ok(tx)
    }
}

impl Eip2930Tx {
    /// Appends the fields before the signature.
    pub(crate) fn put_unsigned(&self, out: &mut Vec<u8>) {
        rlp::put_u64(out, self.chain_id);
        rlp::put_u64(out, self.nonce);
        rlp::put_u256(out, &self.gas_price);
        rlp::put_u64(out, self.gas_limit);
        put_optional_address(out, &self.to);
        rlp::put_u256(out, &self.value);
        rlp::put_bytes(out, &self.input);
        put_access_list(out, &self.access_list);
    }

    /// The full list payload.
    pub(crate) fn payload(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(self.input.len() + 160);
        self.put_unsigned(&mut p);
        put_signature(&mut p, &self.signature);
        p
    }

    /// Decodes the eleven fields.
    pub(crate) fn decode(mut f: ListReader<'_>, b: &mut Budget) -> Result<Self, EthDecodeError> {
        Ok(Eip2930Tx {
            chain_id: chain_id(&mut f)?,
            nonce: f.next_item()?.u64()?,
            gas_price: f.next_item()?.u256()?,
            gas_limit: f.next_item()?.u64()?,
            to: optional_address(f.next_item()?)?,
            value: f.next_item()?.u256()?,
            input: f.next_item()?.bytes()?.to_vec(),
            access_list: access_list(f.next_item()?, b)?,
            signature: signature_tail(f)?,
        })
    }
}

impl Eip1559Tx {
    /// Appends the fields before the signature.
    pub(crate) fn put_unsigned(&self, out: &mut Vec<u8>) {
        rlp::put_u64(out, self.chain_id);
        rlp::put_u64(out, self.nonce);
        rlp::put_u256(out, &self.max_priority_fee_per_gas);
        rlp::put_u256(out, &self.max_fee_per_gas);
        rlp::put_u64(out, self.gas_limit);
        put_optional_address(out, &self.to);
        rlp::put_u256(out, &self.value);
        rlp::put_bytes(out, &self.input);
        put_access_list(out, &self.access_list);
    }

    /// The full list payload.
    pub(crate) fn payload(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(self.input.len() + 200);
        self.put_unsigned(&mut p);
        put_signature(&mut p, &self.signature);
        p
    }

    /// Decodes the twelve fields.
    pub(crate) fn decode(mut f: ListReader<'_>, b: &mut Budget) -> Result<Self, EthDecodeError> {
        Ok(Eip1559Tx {
            chain_id: chain_id(&mut f)?,
            nonce: f.next_item()?.u64()?,
            max_priority_fee_per_gas: f.next_item()?.u256()?,
            max_fee_per_gas: f.next_item()?.u256()?,
            gas_limit: f.next_item()?.u64()?,
            to: optional_address(f.next_item()?)?,
            value: f.next_item()?.u256()?,
            input: f.next_item()?.bytes()?.to_vec(),
            access_list: access_list(f.next_item()?, b)?,
            signature: signature_tail(f)?,
        })
    }
}

impl Eip4844Tx {
    /// Appends the fields before the signature.
    pub(crate) fn put_unsigned(&self, out: &mut Vec<u8>) {
        rlp::put_u64(out, self.chain_id);
        rlp::put_u64(out, self.nonce);
        rlp::put_u256(out, &self.max_priority_fee_per_gas);
        rlp::put_u256(out, &self.max_fee_per_gas);
        rlp::put_u64(out, self.gas_limit);
        rlp::put_bytes(out, &self.to);
        rlp::put_u256(out, &self.value);
        rlp::put_bytes(out, &self.input);
        put_access_list(out, &self.access_list);
        rlp::put_u256(out, &self.max_fee_per_blob_gas);
        put_hashes(out, &self.blob_versioned_hashes);
    }

    /// The full list payload.
    pub(crate) fn payload(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(self.input.len() + 250);
        self.put_unsigned(&mut p);
        put_signature(&mut p, &self.signature);
        p
    }

    /// Decodes the fourteen fields.
    pub(crate) fn decode(mut f: ListReader<'_>, b: &mut Budget) -> Result<Self, EthDecodeError> {
        Ok(Eip4844Tx {
            chain_id: chain_id(&mut f)?,
            nonce: f.next_item()?.u64()?,
            max_priority_fee_per_gas: f.next_item()?.u256()?,
            max_fee_per_gas: f.next_item()?.u256()?,
            gas_limit: f.next_item()?.u64()?,
            to: f.next_item()?.array::<20>()?,
            value: f.next_item()?.u256()?,
            input: f.next_item()?.bytes()?.to_vec(),
            access_list: access_list(f.next_item()?, b)?,
            max_fee_per_blob_gas: f.next_item()?.u256()?,
            blob_versioned_hashes: hashes(f.next_item()?)?,
            signature: signature_tail(f)?,
        })
    }
}

impl Eip7702Tx {
    /// Appends the fields before the signature.
    pub(crate) fn put_unsigned(&self, out: &mut Vec<u8>) {
        rlp::put_u64(out, self.chain_id);
        rlp::put_u64(out, self.nonce);
        rlp::put_u256(out, &self.max_priority_fee_per_gas);
        rlp::put_u256(out, &self.max_fee_per_gas);
        rlp::put_u64(out, self.gas_limit);
        rlp::put_bytes(out, &self.to);
        rlp::put_u256(out, &self.value);
        rlp::put_bytes(out, &self.input);
        put_access_list(out, &self.access_list);
        put_authorizations(out, &self.authorization_list);
    }

    /// The full list payload.
    pub(crate) fn payload(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(self.input.len() + 250);
        self.put_unsigned(&mut p);
        put_signature(&mut p, &self.signature);
        p
    }

    /// Decodes the thirteen fields.
    pub(crate) fn decode(mut f: ListReader<'_>, b: &mut Budget) -> Result<Self, EthDecodeError> {
        Ok(Eip7702Tx {
            chain_id: chain_id(&mut f)?,
            nonce: f.next_item()?.u64()?,
            max_priority_fee_per_gas: f.next_item()?.u256()?,
            max_fee_per_gas: f.next_item()?.u256()?,
            gas_limit: f.next_item()?.u64()?,
            to: f.next_item()?.array::<20>()?,
            value: f.next_item()?.u256()?,
            input: f.next_item()?.bytes()?.to_vec(),
            access_list: access_list(f.next_item()?, b)?,
            authorization_list: authorizations(f.next_item()?, b)?,
            signature: signature_tail(f)?,
        })
    }
}
