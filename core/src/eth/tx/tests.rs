use super::signer::recover_address;
use super::*;
use crate::crypto::keccak::keccak256;
use crate::crypto::keys::{generate_secret_key, peer_id_of, sign_recoverable};
use crate::eth::primitives::{Address, U256};
use crate::rng::MachineRng;
use crate::types::Seed;
use secp256k1::SecretKey;

fn key() -> (SecretKey, Address) {
    let sk = generate_secret_key(&mut MachineRng::new(Seed([3; 32])));
    let h = keccak256(&peer_id_of(&sk).0);
    (sk, h[12..].try_into().unwrap())
}

fn sign(digest: &[u8; 32], sk: &SecretKey) -> TypedSignature {
    let sig = sign_recoverable(digest, sk);
    TypedSignature {
        y_parity: sig[64] == 1,
        r: U256::from_be_slice(&sig[..32]).unwrap(),
        s: U256::from_be_slice(&sig[32..64]).unwrap(),
    }
}

fn access_list() -> Vec<AccessListItem> {
    vec![AccessListItem {
        address: [0x11; 20],
        storage_keys: vec![[0x22; 32], [0x33; 32]],
    }]
}

/// One unsigned transaction of every type.
fn unsigned_all() -> Vec<Transaction> {
    vec![
        Transaction::Legacy(LegacyTx {
            nonce: 1,
            gas_price: U256::from_u64(7),
            gas_limit: 21_000,
            to: Some([0xaa; 20]),
            value: U256::from_u64(5),
            input: vec![1, 2, 3],
            v: U256::from_u64(2 * 1337 + 35),
            ..LegacyTx::default()
        }),
        Transaction::Eip2930(Eip2930Tx {
            chain_id: 1337,
            nonce: 2,
            gas_price: U256::from_u64(9),
            gas_limit: 50_000,
            to: None,
            input: vec![0x60, 0x00],
            access_list: access_list(),
            ..Eip2930Tx::default()
        }),
        Transaction::Eip1559(Eip1559Tx {
            chain_id: 1337,
            nonce: 3,
            max_priority_fee_per_gas: U256::from_u64(1),
            max_fee_per_gas: U256::from_u64(100),
            gas_limit: 60_000,
            to: Some([0xbb; 20]),
            access_list: access_list(),
            ..Eip1559Tx::default()
        }),
        Transaction::Eip4844(Eip4844Tx {
            chain_id: 1337,
            nonce: 4,
            max_fee_per_gas: U256::from_u64(100),
            gas_limit: 70_000,
            to: [0xcc; 20],
            max_fee_per_blob_gas: U256::from_u64(3),
            blob_versioned_hashes: vec![[0x01; 32]],
            ..Eip4844Tx::default()
        }),
        Transaction::Eip7702(Eip7702Tx {
            chain_id: 1337,
            nonce: 5,
            max_fee_per_gas: U256::from_u64(100),
            gas_limit: 80_000,
            to: [0xdd; 20],
            authorization_list: vec![Authorization {
                chain_id: U256::from_u64(1337),
                address: [0xee; 20],
                nonce: 9,
                ..Authorization::default()
            }],
            ..Eip7702Tx::default()
        }),
    ]
}

/// Signs `tx` in place with `sk`.
fn signed(mut tx: Transaction, sk: &SecretKey) -> Transaction {
    let sig = sign(&tx.signing_hash(), sk);
    match &mut tx {
        Transaction::Legacy(t) => {
            let id = super::signer::legacy_v(&t.v).unwrap().chain_id.unwrap();
            t.v = U256::from_u64(id * 2 + 35 + u64::from(sig.y_parity));
            t.r = sig.r;
            t.s = sig.s;
        }
        Transaction::Eip2930(t) => t.signature = sig,
        Transaction::Eip1559(t) => t.signature = sig,
        Transaction::Eip4844(t) => t.signature = sig,
        Transaction::Eip7702(t) => t.signature = sig,
    }
    tx
}

#[test]
fn every_type_signs_recovers_and_round_trips() {
    let (sk, addr) = key();
    for tx in unsigned_all() {
        let tx = signed(tx, &sk);
        assert_eq!(tx.recover_sender(), Ok(addr), "{:?}", tx.tx_type());
        let enc = tx.encode();
        if tx.tx_type() != TxType::Legacy {
            assert_eq!(enc[0], tx.tx_type().as_u8());
        }
        assert_eq!(Transaction::decode(&enc).unwrap(), tx);
        assert_eq!(tx.hash(), keccak256(&enc));
        assert_eq!(tx.encoded_len(), enc.len());
        assert_eq!(tx.chain_id(), Some(1337));
        // The signing hash commits to the fields: changing the nonce changes it.
        let mut other = tx.clone();
        match &mut other {
            Transaction::Legacy(t) => t.nonce += 1,
            Transaction::Eip2930(t) => t.nonce += 1,
            Transaction::Eip1559(t) => t.nonce += 1,
            Transaction::Eip4844(t) => t.nonce += 1,
            Transaction::Eip7702(t) => t.nonce += 1,
        }
        assert_ne!(other.signing_hash(), tx.signing_hash());
        assert_ne!(other.recover_sender(), Ok(addr));
    }
}

#[test]
fn high_s_signatures_are_refused() {
    let (sk, _) = key();
    let digest = [5u8; 32];
    let sig = sign(&digest, &sk);
    // n - s is the other valid s for the same r, with the parity flipped.
    let n =
        hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap();
    let mut high = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(n[i]) - i16::from(sig.s.0[i]) - borrow;
        borrow = i16::from(d < 0);
        high[i] = (d + 256 * borrow) as u8;
    }
    assert!(recover_address(&digest, sig.y_parity, &sig.r, &sig.s).is_ok());
    assert_eq!(
        recover_address(&digest, !sig.y_parity, &sig.r, &U256(high)),
        Err(SignerError::HighS)
    );
    assert_eq!(
        recover_address(&digest, false, &U256::ZERO, &sig.s),
        Err(SignerError::OutOfRange)
    );
}

#[test]
fn legacy_v_rules() {
    use super::signer::legacy_v;
    assert_eq!(legacy_v(&U256::from_u64(27)).unwrap().chain_id, None);
    assert!(legacy_v(&U256::from_u64(28)).unwrap().y_parity);
    assert_eq!(legacy_v(&U256::from_u64(37)).unwrap().chain_id, Some(1));
    assert!(legacy_v(&U256::from_u64(38)).unwrap().y_parity);
    assert!(legacy_v(&U256::from_u64(29)).is_err());
    assert!(legacy_v(&U256([0xff; 32])).is_err());
}

#[test]
fn message_form_wraps_typed_but_not_legacy() {
    let (sk, _) = key();
    for tx in unsigned_all() {
        let tx = signed(tx, &sk);
        let mut item = Vec::new();
        tx.put_message_item(&mut item);
        let parsed = crate::eth::rlp::single_item(&item).unwrap();
        assert_eq!(parsed.is_list, tx.tx_type() == TxType::Legacy);
        let back = Transaction::from_message_item(parsed, &mut Budget::new()).unwrap();
        assert_eq!(back, tx);
    }
}

#[test]
fn legacy_wrapped_as_a_string_and_unknown_types_are_refused() {
    let (sk, _) = key();
    let legacy = signed(unsigned_all().remove(0), &sk);
    let mut wrapped = Vec::new();
    crate::eth::rlp::put_bytes(&mut wrapped, &legacy.encode());
    let item = crate::eth::rlp::single_item(&wrapped).unwrap();
    assert!(Transaction::from_message_item(item, &mut Budget::new()).is_err());
    let mut typed = legacy.encode();
    typed.insert(0, 0x05);
    assert_eq!(
        Transaction::decode(&typed),
        Err(EthDecodeError::UnknownTxType(0x05))
    );
    typed[0] = 0x00;
    assert_eq!(
        Transaction::decode(&typed),
        Err(EthDecodeError::UnknownTxType(0x00))
    );
}

#[test]
fn authorizations_recover_their_authority() {
    let (sk, addr) = key();
    let mut auth = Authorization {
        chain_id: U256::from_u64(1),
        address: [0x42; 20],
        nonce: 3,
        ..Authorization::default()
    };
    let sig = sign(&auth.signing_hash(), &sk);
    auth.y_parity = u8::from(sig.y_parity);
    auth.r = sig.r;
    auth.s = sig.s;
    assert_eq!(auth.recover_authority(), Ok(addr));
    auth.y_parity = 2;
    assert_eq!(auth.recover_authority(), Err(SignerError::InvalidV));
}

fn blob_tx(sk: &SecretKey) -> Eip4844Tx {
    let Transaction::Eip4844(t) = signed(unsigned_all().remove(3), sk) else {
        panic!("not a blob tx")
    };
    t
}

fn sidecar(version: SidecarVersion, proofs: usize) -> BlobSidecar {
    BlobSidecar {
        version,
        blobs: vec![vec![0x5a; sidecar::BLOB_BYTES]],
        commitments: vec![[0xc0; 48]],
        proofs: vec![[0x9f; 48]; proofs],
    }
}

#[test]
fn blob_network_form_round_trips_in_both_sidecar_versions() {
    let (sk, _) = key();
    let tx = blob_tx(&sk);
    let plain_hash = Transaction::Eip4844(tx.clone()).hash();
    for (version, proofs) in [
        (SidecarVersion::BlobProofs, 1),
        (SidecarVersion::CellProofs, sidecar::CELL_PROOFS_PER_BLOB),
    ] {
        let pooled = PooledTransaction::BlobWithSidecar {
            tx: tx.clone(),
            sidecar: sidecar(version, proofs),
        };
        let enc = pooled.encode();
        assert_eq!(enc[0], 3);
        assert!(pooled.encoded_len() > sidecar::BLOB_BYTES);
        assert_eq!(PooledTransaction::decode(&enc).unwrap(), pooled);
        // The hash excludes the sidecar.
        assert_eq!(pooled.hash(), plain_hash);
        // In a message the network form is a byte string.
        let mut item = Vec::new();
        pooled.put_message_item(&mut item);
        let parsed = crate::eth::rlp::single_item(&item).unwrap();
        assert!(!parsed.is_list);
        assert_eq!(
            PooledTransaction::from_message_item(parsed, &mut Budget::new()).unwrap(),
            pooled
        );
        // Outside PooledTransactions a sidecar is not a transaction.
        assert!(Transaction::decode(&enc).is_err());
    }
}

#[test]
fn blob_sidecars_with_inconsistent_counts_are_refused() {
    let (sk, _) = key();
    let tx = blob_tx(&sk);
    for (version, proofs) in [
        (SidecarVersion::BlobProofs, 2),
        (SidecarVersion::CellProofs, 1),
        (
            SidecarVersion::CellProofs,
            sidecar::CELL_PROOFS_PER_BLOB + 1,
        ),
    ] {
        let bad = PooledTransaction::BlobWithSidecar {
            tx: tx.clone(),
            sidecar: sidecar(version, proofs),
        };
        assert!(PooledTransaction::decode(&bad.encode()).is_err());
    }
    let mut short = sidecar(SidecarVersion::BlobProofs, 1);
    short.blobs[0].pop();
    let bad = PooledTransaction::BlobWithSidecar { tx, sidecar: short };
    assert!(PooledTransaction::decode(&bad.encode()).is_err());
}

#[test]
fn blob_transaction_without_sidecar_decodes_as_plain() {
    let (sk, _) = key();
    let tx = Transaction::Eip4844(blob_tx(&sk));
    let pooled = PooledTransaction::decode(&tx.encode()).unwrap();
    assert_eq!(pooled, PooledTransaction::Plain(tx));
}
