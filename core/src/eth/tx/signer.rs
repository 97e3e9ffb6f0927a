//! Signing hashes and sender recovery for every transaction type.
//!
//! Like go-ethereum's signers we apply the Homestead rule (EIP-2) to transactions: `s` must
//! be at most half the curve order, and `r` and `s` must be non-zero and below the order.

use crate::crypto::keccak::keccak256;
use crate::crypto::keys::{public_key_bytes, recover};
use crate::eth::primitives::{Address, B256, U256};
use crate::eth::rlp;
use crate::eth::tx::{Authorization, Transaction, TxType};

/// The secp256k1 group order `n` (SEC 2, §2.4.1), big-endian.
const SECP256K1_N: U256 = U256([
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
]);

/// `n / 2` (rounded down): the largest `s` EIP-2 allows.
const SECP256K1_HALF_N: U256 = U256([
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// Why a sender could not be recovered. These are not protocol faults on their own: per the
/// eth spec an invalid transaction is dropped, the peer is not disconnected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// A legacy `v` that is neither 27/28 nor a valid EIP-155 value.
    #[error("invalid legacy v value")]
    InvalidV,
    /// `r` or `s` is zero or not below the curve order.
    #[error("signature values out of range")]
    OutOfRange,
    /// `s` is above half the curve order (EIP-2).
    #[error("signature s is in the upper half of the curve order")]
    HighS,
    /// The curve math found no public key.
    #[error("signature does not recover to a key")]
    Unrecoverable,
}

/// How a legacy transaction's `v` decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegacyV {
    /// EIP-155 chain id, `None` for a pre-EIP-155 (27/28) signature.
    pub chain_id: Option<u64>,
    /// Recovery parity.
    pub y_parity: bool,
}

/// Splits a legacy `v` into chain id and parity.
pub fn legacy_v(v: &U256) -> Result<LegacyV, SignerError> {
    let v = v.to_u64().ok_or(SignerError::InvalidV)?;
    match v {
        27 | 28 => Ok(LegacyV {
            chain_id: None,
            y_parity: v == 28,
        }),
        35.. => Ok(LegacyV {
            chain_id: Some((v - 35) / 2),
            y_parity: (v - 35) % 2 == 1,
        }),
        _ => Err(SignerError::InvalidV),
    }
}

impl Transaction {
    /// The digest the sender signed.
    ///
    /// Legacy: `keccak(rlp([nonce, gasPrice, gas, to, value, data]))`, with
    /// `chainId, 0, 0` appended for EIP-155 signatures (an invalid `v` hashes as
    /// pre-EIP-155). Typed: `keccak(type || rlp(fields without the signature))`.
    pub fn signing_hash(&self) -> B256 {
        let mut p = Vec::new();
        let ty = self.tx_type();
        match self {
            Transaction::Legacy(t) => {
                t.put_unsigned(&mut p);
                if let Ok(LegacyV {
                    chain_id: Some(id), ..
                }) = legacy_v(&t.v)
                {
                    rlp::put_u64(&mut p, id);
                    rlp::put_u64(&mut p, 0);
                    rlp::put_u64(&mut p, 0);
                }
            }
            Transaction::Eip2930(t) => t.put_unsigned(&mut p),
            Transaction::Eip1559(t) => t.put_unsigned(&mut p),
            Transaction::Eip4844(t) => t.put_unsigned(&mut p),
            Transaction::Eip7702(t) => t.put_unsigned(&mut p),
        }
        let mut msg = Vec::with_capacity(p.len() + 10);
        if ty != TxType::Legacy {
            msg.push(ty.as_u8());
        }
        rlp::put_list(&mut msg, &p);
        keccak256(&msg)
    }

    /// The chain id the signature commits to (`None` for pre-EIP-155 legacy).
    pub fn chain_id(&self) -> Option<u64> {
        match self {
            Transaction::Legacy(t) => legacy_v(&t.v).ok().and_then(|v| v.chain_id),
            Transaction::Eip2930(t) => Some(t.chain_id),
            Transaction::Eip1559(t) => Some(t.chain_id),
            Transaction::Eip4844(t) => Some(t.chain_id),
            Transaction::Eip7702(t) => Some(t.chain_id),
        }
    }

    /// Recovers the sender address from the signature (EIP-2 low-`s` enforced).
    pub fn recover_sender(&self) -> Result<Address, SignerError> {
        let (y_parity, r, s) = match self {
            Transaction::Legacy(t) => (legacy_v(&t.v)?.y_parity, t.r, t.s),
            Transaction::Eip2930(t) => (t.signature.y_parity, t.signature.r, t.signature.s),
            Transaction::Eip1559(t) => (t.signature.y_parity, t.signature.r, t.signature.s),
            Transaction::Eip4844(t) => (t.signature.y_parity, t.signature.r, t.signature.s),
            Transaction::Eip7702(t) => (t.signature.y_parity, t.signature.r, t.signature.s),
        };
        recover_address(&self.signing_hash(), y_parity, &r, &s)
    }
}

impl Authorization {
    /// Recovers the authority (the account delegating its code), EIP-2 low-`s` enforced as
    /// EIP-7702 requires.
    pub fn recover_authority(&self) -> Result<Address, SignerError> {
        let y_parity = match self.y_parity {
            0 => false,
            1 => true,
            _ => return Err(SignerError::InvalidV),
        };
        recover_address(&self.signing_hash(), y_parity, &self.r, &self.s)
    }
}

/// Recovers the address that produced `(y_parity, r, s)` over `digest`.
pub fn recover_address(
    digest: &B256,
    y_parity: bool,
    r: &U256,
    s: &U256,
) -> Result<Address, SignerError> {
    if r.is_zero() || s.is_zero() || *r >= SECP256K1_N || *s >= SECP256K1_N {
        return Err(SignerError::OutOfRange);
    }
    if *s > SECP256K1_HALF_N {
        return Err(SignerError::HighS);
    }
    let mut sig = [0u8; 65];
    sig[..32].copy_from_slice(&r.0);
    sig[32..64].copy_from_slice(&s.0);
    sig[64] = u8::from(y_parity);
    let pk = recover(digest, &sig).map_err(|_| SignerError::Unrecoverable)?;
    let h = keccak256(&public_key_bytes(&pk));
    let mut addr = [0u8; 20];
    addr.copy_from_slice(&h[12..]);
    Ok(addr)
}
