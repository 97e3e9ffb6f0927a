//! EIP-4844 blob sidecars and the transactions of PooledTransactions, where a blob
//! transaction travels with its blobs (the "network form"):
//!
//! - version 0 (EIP-4844): `0x03 || rlp([tx_fields, blobs, commitments, proofs])`, one
//!   proof per blob;
//! - version 1 (EIP-7594 cell proofs, go-ethereum `BlobSidecarVersion1`):
//!   `0x03 || rlp([tx_fields, 1, blobs, commitments, cell_proofs])`, 128 proofs per blob.
//!
//! The transaction hash never covers the sidecar.
//!
//! [`PooledTransaction::check_sidecar`] is the consistency check go-ethereum runs on every
//! delivered blob transaction (`eth/handler_eth.go` `handleTransactions`,
//! `BlobTxSidecar.ValidateBlobCommitmentHashes`): a sidecar is present and each versioned
//! hash is `0x01 || sha256(commitment)[1..]`. KZG proofs are *not* verified here: that
//! needs a trusted setup and BLS pairings, and neither go-ethereum's `devp2p eth-test`
//! (which only mangles commitments) nor propagation needs it; a block builder must.

use crate::crypto::keccak::keccak256;
use crate::eth::error::{Budget, EthDecodeError};
use crate::eth::primitives::B256;
use crate::eth::rlp::{self, Item};
use crate::eth::tx::{Eip4844Tx, Transaction, TxType};

/// Bytes in one blob (EIP-4844 `FIELD_ELEMENTS_PER_BLOB` × 32).
pub const BLOB_BYTES: usize = 131_072;

/// Bytes in a KZG commitment or proof (a compressed BLS12-381 G1 point).
pub const KZG_POINT_BYTES: usize = 48;

/// Cell proofs per blob in a version-1 sidecar (EIP-7594 `CELLS_PER_EXT_BLOB`).
pub const CELL_PROOFS_PER_BLOB: usize = 128;

/// The wrapper version byte of a version-1 (cell proof) sidecar.
pub const SIDECAR_VERSION_CELL_PROOFS: u64 = 1;

/// The version byte of a KZG versioned hash (EIP-4844 `VERSIONED_HASH_VERSION_KZG`).
pub const VERSIONED_HASH_VERSION_KZG: u8 = 0x01;

/// The EIP-4844 versioned hash of a commitment: `sha256(commitment)` with its first byte
/// replaced by [`VERSIONED_HASH_VERSION_KZG`].
pub fn kzg_versioned_hash(commitment: &[u8; KZG_POINT_BYTES]) -> B256 {
    use sha2::Digest;
    let mut h: B256 = sha2::Sha256::digest(commitment).into();
    h[0] = VERSIONED_HASH_VERSION_KZG;
    h
}

/// How a blob transaction's sidecar fails to match it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SidecarError {
    /// A blob transaction delivered without its sidecar.
    #[error("blob transaction without its sidecar")]
    Missing,
    /// Blobs, commitments, proofs and versioned hashes are not in the required ratio.
    #[error("sidecar counts disagree: {hashes} hashes, {blobs} blobs, {commitments} commitments, {proofs} proofs")]
    Counts {
        /// Versioned hashes in the transaction.
        hashes: usize,
        /// Blobs in the sidecar.
        blobs: usize,
        /// Commitments in the sidecar.
        commitments: usize,
        /// Proofs in the sidecar.
        proofs: usize,
    },
    /// The versioned hash at `index` is not that of its commitment.
    #[error("versioned hash {index} does not match its commitment")]
    HashMismatch {
        /// Position of the first mismatch.
        index: usize,
    },
}

/// Which proofs a sidecar carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SidecarVersion {
    /// One blob proof per blob (EIP-4844).
    BlobProofs,
    /// [`CELL_PROOFS_PER_BLOB`] cell proofs per blob (EIP-7594).
    CellProofs,
}

/// The blobs of a blob transaction with their KZG commitments and proofs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobSidecar {
    /// Which proofs `proofs` holds.
    pub version: SidecarVersion,
    /// Blobs of [`BLOB_BYTES`] each.
    pub blobs: Vec<Vec<u8>>,
    /// One commitment per blob.
    pub commitments: Vec<[u8; KZG_POINT_BYTES]>,
    /// Proofs: one per blob, or [`CELL_PROOFS_PER_BLOB`] per blob.
    pub proofs: Vec<[u8; KZG_POINT_BYTES]>,
}

impl BlobSidecar {
    /// Proofs per blob this sidecar's version requires.
    pub fn proofs_per_blob(&self) -> usize {
        match self.version {
            SidecarVersion::BlobProofs => 1,
            SidecarVersion::CellProofs => CELL_PROOFS_PER_BLOB,
        }
    }

    /// Checks the sidecar against the transaction's `versioned_hashes`: one blob and one
    /// commitment per hash, [`Self::proofs_per_blob`] proofs per blob, and every hash equal
    /// to [`kzg_versioned_hash`] of its commitment. No KZG proof is verified (see the
    /// module documentation).
    pub fn check_against(&self, versioned_hashes: &[B256]) -> Result<(), SidecarError> {
        let n = versioned_hashes.len();
        if self.blobs.len() != n
            || self.commitments.len() != n
            || Some(self.proofs.len()) != n.checked_mul(self.proofs_per_blob())
        {
            return Err(SidecarError::Counts {
                hashes: n,
                blobs: self.blobs.len(),
                commitments: self.commitments.len(),
                proofs: self.proofs.len(),
            });
        }
        match versioned_hashes
            .iter()
            .zip(&self.commitments)
            .position(|(h, c)| *h != kzg_versioned_hash(c))
        {
            Some(index) => Err(SidecarError::HashMismatch { index }),
            None => Ok(()),
        }
    }

    /// Appends the sidecar elements (version, blobs, commitments, proofs) to a list payload.
    fn put_elements(&self, out: &mut Vec<u8>) {
        if self.version == SidecarVersion::CellProofs {
            rlp::put_u64(out, SIDECAR_VERSION_CELL_PROOFS);
        }
        let mut p = Vec::with_capacity(self.blobs.len() * (BLOB_BYTES + 4));
        for b in &self.blobs {
            rlp::put_bytes(&mut p, b);
        }
        rlp::put_list(out, &p);
        for points in [&self.commitments, &self.proofs] {
            let mut p = Vec::with_capacity(points.len() * 49);
            for c in points {
                rlp::put_bytes(&mut p, c);
            }
            rlp::put_list(out, &p);
        }
    }
}

/// Decodes a list of fixed-size byte strings.
fn fixed_list<const N: usize>(item: Item<'_>) -> Result<Vec<[u8; N]>, EthDecodeError> {
    let mut l = item.list()?;
    let mut out = Vec::new();
    while let Some(x) = l.next_opt()? {
        out.push(x.array::<N>()?);
    }
    Ok(out)
}

/// A transaction as served in PooledTransactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PooledTransaction {
    /// Any transaction in its ordinary message form. A blob transaction without its sidecar
    /// decodes here too (go-ethereum accepts both forms); the pool should refuse it.
    Plain(Transaction),
    /// A blob transaction with its sidecar.
    BlobWithSidecar {
        /// The transaction.
        tx: Eip4844Tx,
        /// Its blobs.
        sidecar: BlobSidecar,
    },
}

impl PooledTransaction {
    /// The transaction type.
    pub fn tx_type(&self) -> TxType {
        match self {
            PooledTransaction::Plain(t) => t.tx_type(),
            PooledTransaction::BlobWithSidecar { .. } => TxType::Eip4844,
        }
    }

    /// For a blob transaction, whether it carries a sidecar matching its versioned hashes
    /// ([`BlobSidecar::check_against`]); other transactions pass.
    pub fn check_sidecar(&self) -> Result<(), SidecarError> {
        match self {
            PooledTransaction::Plain(Transaction::Eip4844(_)) => Err(SidecarError::Missing),
            PooledTransaction::Plain(_) => Ok(()),
            PooledTransaction::BlobWithSidecar { tx, sidecar } => {
                sidecar.check_against(&tx.blob_versioned_hashes)
            }
        }
    }

    /// The transaction without its sidecar.
    pub fn transaction(&self) -> Transaction {
        match self {
            PooledTransaction::Plain(t) => t.clone(),
            PooledTransaction::BlobWithSidecar { tx, .. } => Transaction::Eip4844(tx.clone()),
        }
    }

    /// The transaction hash (never covering the sidecar).
    pub fn hash(&self) -> B256 {
        match self {
            PooledTransaction::Plain(t) => t.hash(),
            PooledTransaction::BlobWithSidecar { tx, .. } => {
                let mut enc = vec![TxType::Eip4844.as_u8()];
                rlp::put_list(&mut enc, &tx.payload());
                keccak256(&enc)
            }
        }
    }

    /// The network encoding: `type || rlp(...)` (sidecar included), or the legacy list.
    /// Its length is the size announced in NewPooledTransactionHashes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            PooledTransaction::Plain(t) => t.encode(),
            PooledTransaction::BlobWithSidecar { tx, sidecar } => {
                let mut p = Vec::new();
                rlp::put_list(&mut p, &tx.payload());
                sidecar.put_elements(&mut p);
                let mut out = Vec::with_capacity(p.len() + 10);
                out.push(TxType::Eip4844.as_u8());
                rlp::put_list(&mut out, &p);
                out
            }
        }
    }

    /// Length of [`PooledTransaction::encode`].
    pub fn encoded_len(&self) -> usize {
        self.encode().len()
    }

    /// Decodes a network encoding (exactly one transaction, no trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<Self, EthDecodeError> {
        let mut budget = Budget::new();
        match bytes.first() {
            Some(&b) if b >= 0xc0 => Self::from_message_item(rlp::single_item(bytes)?, &mut budget),
            _ => Self::decode_typed(bytes, &mut budget),
        }
    }

    /// Decodes `type || rlp(...)`, recognising the blob network form.
    fn decode_typed(bytes: &[u8], b: &mut Budget) -> Result<Self, EthDecodeError> {
        let Some((&ty, rest)) = bytes.split_first() else {
            return Err(EthDecodeError::Invalid("empty typed transaction"));
        };
        if ty == TxType::Eip4844.as_u8() {
            let mut outer = rlp::single_item(rest)?.list()?;
            let first = outer.next_item()?;
            // The network form starts with the transaction's field list; the plain form
            // starts with the chain id, a string.
            if first.is_list {
                let tx = Eip4844Tx::decode(first.list()?, b)?;
                let mut next = outer.next_item()?;
                let version = if next.is_list {
                    SidecarVersion::BlobProofs
                } else if next.u64()? == SIDECAR_VERSION_CELL_PROOFS {
                    next = outer.next_item()?;
                    SidecarVersion::CellProofs
                } else {
                    return Err(EthDecodeError::Invalid("unknown blob sidecar version"));
                };
                let mut blob_list = next.list()?;
                let mut blobs = Vec::new();
                while let Some(blob) = blob_list.next_opt()? {
                    let blob = blob.bytes()?;
                    if blob.len() != BLOB_BYTES {
                        return Err(EthDecodeError::Invalid("blob size"));
                    }
                    blobs.push(blob.to_vec());
                }
                let commitments = fixed_list::<KZG_POINT_BYTES>(outer.next_item()?)?;
                let proofs = fixed_list::<KZG_POINT_BYTES>(outer.next_item()?)?;
                outer.finish()?;
                let per_blob = match version {
                    SidecarVersion::BlobProofs => 1,
                    SidecarVersion::CellProofs => CELL_PROOFS_PER_BLOB,
                };
                if commitments.len() != blobs.len()
                    || Some(proofs.len()) != blobs.len().checked_mul(per_blob)
                {
                    return Err(EthDecodeError::Invalid("blob sidecar counts disagree"));
                }
                return Ok(PooledTransaction::BlobWithSidecar {
                    tx,
                    sidecar: BlobSidecar {
                        version,
                        blobs,
                        commitments,
                        proofs,
                    },
                });
            }
        }
        Ok(PooledTransaction::Plain(Transaction::decode_typed(
            bytes, b,
        )?))
    }

    /// Decodes one element of a PooledTransactions list.
    pub(crate) fn from_message_item(
        item: Item<'_>,
        b: &mut Budget,
    ) -> Result<Self, EthDecodeError> {
        if item.is_list {
            return Ok(PooledTransaction::Plain(Transaction::from_message_item(
                item, b,
            )?));
        }
        b.take(1)?;
        Self::decode_typed(item.bytes()?, b)
    }

    /// Appends the message-element form: legacy as a list, typed as a byte string.
    pub(crate) fn put_message_item(&self, out: &mut Vec<u8>) {
        match self {
            PooledTransaction::Plain(t) => t.put_message_item(out),
            PooledTransaction::BlobWithSidecar { .. } => rlp::put_bytes(out, &self.encode()),
        }
    }
}
