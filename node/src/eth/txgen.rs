//! Signed transactions for traffic generation (`devnet --txs`) and tests: EIP-1559 transfers
//! with an optional payload to vary their size.

use paxeer_p2p_core::crypto::keys::sign_recoverable;
use paxeer_p2p_core::eth::tx::{Eip1559Tx, PooledTransaction, Transaction, TypedSignature};
use paxeer_p2p_core::eth::U256;
use secp256k1::SecretKey;

/// Signs `tx` with `key`, filling its signature (for legacy transactions, `v` must hold
/// `chain_id * 2 + 35` for EIP-155 or 27 for Homestead before the call).
pub fn sign(key: &SecretKey, mut tx: Transaction) -> Transaction {
    let digest = tx.signing_hash();
    let sig = sign_recoverable(&digest, key);
    let (r, rest) = sig.split_at(32);
    let (s, v) = rest.split_at(32);
    let parity = v.first().copied() == Some(1);
    let r = U256::from_be_slice(r).unwrap_or(U256::from_u64(0));
    let s = U256::from_be_slice(s).unwrap_or(U256::from_u64(0));
    let typed = TypedSignature {
        y_parity: parity,
        r,
        s,
    };
    match &mut tx {
        Transaction::Legacy(t) => {
            let base = t.v.to_u64().unwrap_or(27);
            t.v = U256::from_u64(base + u64::from(parity));
            t.r = r;
            t.s = s;
        }
        Transaction::Eip2930(t) => t.signature = typed,
        Transaction::Eip1559(t) => t.signature = typed,
        Transaction::Eip4844(t) => t.signature = typed,
        Transaction::Eip7702(t) => t.signature = typed,
    }
    tx
}

/// An EIP-1559 transaction from `key` with `nonce` on `chain_id`, carrying `payload_len`
/// bytes of input, signed.
pub fn signed_transfer(
    key: &SecretKey,
    chain_id: u64,
    nonce: u64,
    payload_len: usize,
) -> PooledTransaction {
    let tx = Eip1559Tx {
        chain_id,
        nonce,
        max_priority_fee_per_gas: U256::from_u64(1_000_000_000),
        max_fee_per_gas: U256::from_u64(2_000_000_000),
        // Non-zero payload bytes: 16 gas each, but the EIP-7623 floor (Prague) charges 40.
        gas_limit: 21_000 + 40 * payload_len as u64,
        to: Some([0x11; 20]),
        value: U256::from_u64(1),
        input: vec![0xab; payload_len],
        access_list: Vec::new(),
        signature: TypedSignature {
            y_parity: false,
            r: U256::from_u64(0),
            s: U256::from_u64(0),
        },
    };
    PooledTransaction::Plain(sign(key, Transaction::Eip1559(tx)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eth::pool::MemoryTxPool;
    use paxeer_p2p_core::eth::app::{TxPool, TxVerdict};

    #[test]
    fn generated_transactions_are_accepted_once_and_wrong_chains_refused() {
        let key = crate::keyfile::generate();
        let mut pool = MemoryTxPool::latest(7);
        let tx = signed_transfer(&key, 7, 0, 10);
        assert!(tx.transaction().recover_sender().is_ok());
        assert_eq!(pool.add(tx.clone(), None), TxVerdict::Added);
        assert_eq!(pool.add(tx.clone(), None), TxVerdict::AlreadyKnown);
        assert!(matches!(
            pool.add(signed_transfer(&key, 8, 0, 0), None),
            TxVerdict::Invalid(_)
        ));
        // A tampered signature is refused.
        let mut bad = signed_transfer(&key, 7, 1, 0);
        if let PooledTransaction::Plain(Transaction::Eip1559(t)) = &mut bad {
            t.value = U256::from_u64(2);
        }
        // Changing a field changes the signer, so recovery gives another address but
        // succeeds; a zero r/s signature cannot be recovered at all.
        let mut zero = signed_transfer(&key, 7, 2, 0);
        if let PooledTransaction::Plain(Transaction::Eip1559(t)) = &mut zero {
            t.signature.r = U256::from_u64(0);
        }
        assert!(matches!(pool.add(zero, None), TxVerdict::Invalid(_)));
        let _ = pool.add(bad, None);
        for n in 1..4 {
            assert_eq!(
                pool.add(signed_transfer(&key, 7, n, 0), None),
                TxVerdict::Added
            );
        }
        assert_eq!(pool.pending(10).len(), 4);
    }
}
