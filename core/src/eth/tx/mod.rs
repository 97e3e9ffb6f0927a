//! Transactions: the typed envelope of EIP-2718 and the five types in use.
//!
//! - [`fields`]: access lists, typed signatures, EIP-7702 authorizations.
//! - [`types`]: the per-type structs and their RLP field lists.
//! - [`signer`]: signing hashes, the Homestead low-`s` rule and sender recovery.
//! - [`sidecar`]: EIP-4844 blob sidecars and the network form of PooledTransactions.
//!
//! Two encodings matter. The *canonical* (consensus) encoding is an RLP list for legacy
//! transactions and `type || rlp(fields)` for typed ones; it is what is hashed, what the
//! transactions trie stores and what announcement sizes count. Inside eth messages and block
//! bodies a typed transaction is additionally wrapped as an RLP byte string, while a legacy
//! one stays a bare list.

pub mod fields;
pub mod sidecar;
pub mod signer;
pub mod types;

use crate::crypto::keccak::keccak256;
use crate::eth::error::{Budget, EthDecodeError};
use crate::eth::primitives::B256;
use crate::eth::rlp::{self, Item};
pub use fields::{AccessListItem, Authorization, TypedSignature};
pub use sidecar::{
    kzg_versioned_hash, BlobSidecar, PooledTransaction, SidecarError, SidecarVersion,
};
pub use signer::SignerError;
pub use types::{Eip1559Tx, Eip2930Tx, Eip4844Tx, Eip7702Tx, LegacyTx};

/// The EIP-2718 type of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum TxType {
    /// Untyped legacy transaction (type 0 in announcements).
    Legacy = 0,
    /// EIP-2930 access-list transaction.
    Eip2930 = 1,
    /// EIP-1559 dynamic-fee transaction.
    Eip1559 = 2,
    /// EIP-4844 blob transaction.
    Eip4844 = 3,
    /// EIP-7702 set-code transaction.
    Eip7702 = 4,
}

impl TxType {
    /// The type byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The type for a byte, if known.
    pub fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0 => TxType::Legacy,
            1 => TxType::Eip2930,
            2 => TxType::Eip1559,
            3 => TxType::Eip4844,
            4 => TxType::Eip7702,
            _ => return None,
        })
    }
}

/// A signed transaction of any known type (without a blob sidecar).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transaction {
    /// Legacy.
    Legacy(LegacyTx),
    /// Type 1.
    Eip2930(Eip2930Tx),
    /// Type 2.
    Eip1559(Eip1559Tx),
    /// Type 3 (sidecar, if any, travels separately in [`PooledTransaction`]).
    Eip4844(Eip4844Tx),
    /// Type 4.
    Eip7702(Eip7702Tx),
}

impl Transaction {
    /// The EIP-2718 type.
    pub fn tx_type(&self) -> TxType {
        match self {
            Transaction::Legacy(_) => TxType::Legacy,
            Transaction::Eip2930(_) => TxType::Eip2930,
            Transaction::Eip1559(_) => TxType::Eip1559,
            Transaction::Eip4844(_) => TxType::Eip4844,
            Transaction::Eip7702(_) => TxType::Eip7702,
        }
    }

    /// The RLP list payload of the fields (signature included).
    fn fields_payload(&self) -> Vec<u8> {
        match self {
            Transaction::Legacy(t) => t.payload(),
            Transaction::Eip2930(t) => t.payload(),
            Transaction::Eip1559(t) => t.payload(),
            Transaction::Eip4844(t) => t.payload(),
            Transaction::Eip7702(t) => t.payload(),
        }
    }

    /// The canonical encoding: `rlp(list)` for legacy, `type || rlp(list)` for typed.
    pub fn encode(&self) -> Vec<u8> {
        let payload = self.fields_payload();
        let mut out = Vec::with_capacity(payload.len() + 10);
        if self.tx_type() != TxType::Legacy {
            out.push(self.tx_type().as_u8());
        }
        rlp::put_list(&mut out, &payload);
        out
    }

    /// Length of [`Transaction::encode`]: the size announced in NewPooledTransactionHashes
    /// for non-blob transactions.
    pub fn encoded_len(&self) -> usize {
        self.encode().len()
    }

    /// The transaction hash: Keccak-256 of the canonical encoding.
    pub fn hash(&self) -> B256 {
        keccak256(&self.encode())
    }

    /// Decodes a canonical encoding (exactly one transaction, no trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<Self, EthDecodeError> {
        let mut budget = Budget::new();
        match bytes.first() {
            None => Err(EthDecodeError::Invalid("empty transaction")),
            Some(&b) if b >= 0xc0 => Self::from_message_item(rlp::single_item(bytes)?, &mut budget),
            Some(_) => Self::decode_typed(bytes, &mut budget),
        }
    }

    /// Decodes `type || rlp(fields)` (the typed canonical form).
    pub(crate) fn decode_typed(bytes: &[u8], b: &mut Budget) -> Result<Self, EthDecodeError> {
        let (&ty, rest) = bytes
            .split_first()
            .ok_or(EthDecodeError::Invalid("empty typed transaction"))?;
        let f = rlp::single_item(rest)?.list()?;
        Ok(match TxType::from_u8(ty) {
            Some(TxType::Eip2930) => Transaction::Eip2930(Eip2930Tx::decode(f, b)?),
            Some(TxType::Eip1559) => Transaction::Eip1559(Eip1559Tx::decode(f, b)?),
            Some(TxType::Eip4844) => Transaction::Eip4844(Eip4844Tx::decode(f, b)?),
            Some(TxType::Eip7702) => Transaction::Eip7702(Eip7702Tx::decode(f, b)?),
            Some(TxType::Legacy) | None => return Err(EthDecodeError::UnknownTxType(ty)),
        })
    }

    /// Decodes one element of a transaction list in a message or block body: a bare list
    /// for legacy, a byte string holding `type || rlp(fields)` for typed.
    pub(crate) fn from_message_item(
        item: Item<'_>,
        b: &mut Budget,
    ) -> Result<Self, EthDecodeError> {
        b.take(1)?;
        if item.is_list {
            Ok(Transaction::Legacy(LegacyTx::decode(item.list()?)?))
        } else {
            Self::decode_typed(item.bytes()?, b)
        }
    }

    /// Appends the message-element form (see [`Transaction::from_message_item`]).
    pub(crate) fn put_message_item(&self, out: &mut Vec<u8>) {
        let enc = self.encode();
        if self.tx_type() == TxType::Legacy {
            out.extend_from_slice(&enc);
        } else {
            rlp::put_bytes(out, &enc);
        }
    }
}

/// Decodes a list of transactions as found in Transactions and block bodies.
pub(crate) fn transaction_list(
    item: Item<'_>,
    b: &mut Budget,
) -> Result<Vec<Transaction>, EthDecodeError> {
    let mut list = item.list()?;
    let mut out = Vec::new();
    while let Some(tx) = list.next_opt()? {
        out.push(Transaction::from_message_item(tx, b)?);
    }
    Ok(out)
}

/// Appends a list of transactions in message form.
pub(crate) fn put_transaction_list(out: &mut Vec<u8>, txs: &[Transaction]) {
    let mut p = Vec::new();
    for tx in txs {
        tx.put_message_item(&mut p);
    }
    rlp::put_list(out, &p);
}

#[cfg(test)]
mod tests;
