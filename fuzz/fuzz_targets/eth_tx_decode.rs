//! Transaction decoders on arbitrary bytes: the canonical envelope (`Transaction::decode`)
//! and the network form of PooledTransactions (`PooledTransaction::decode`, blob sidecars
//! included).
//!
//! Invariants: never panics; decoding is canonical, so a decoded transaction re-encodes to
//! exactly the input; the pooled hash equals the hash of the transaction without its
//! sidecar; signature recovery and the sidecar check (counts, versioned hashes) on
//! whatever was decoded return rather than panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::eth::{PooledTransaction, Transaction};

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = Transaction::decode(data) {
        assert_eq!(tx.encode(), data);
        assert_eq!(tx.encoded_len(), data.len());
        let _ = tx.recover_sender();
        let _ = tx.signing_hash();
    }
    if let Ok(pooled) = PooledTransaction::decode(data) {
        assert_eq!(pooled.encode(), data);
        assert_eq!(pooled.hash(), pooled.transaction().hash());
        let _ = pooled.check_sidecar();
    }
});
