//! Property tests: every message and transaction type round-trips (encode → decode → equal)
//! and no decoder panics on arbitrary or mutated input.

use crate::eth::block::{Block, BlockBody, Header, Withdrawal};
use crate::eth::forkid::ForkId;
use crate::eth::messages::{
    BlockHashNumber, EthMessage, GetBlockHeaders, HashOrNumber, ReceiptsBody, TxAnnouncement,
};
use crate::eth::primitives::U256;
use crate::eth::receipts::{Log, Receipt, ReceiptOutcome, ReceiptWithBloom};
use crate::eth::status::{Status, Status68, Status69};
use crate::eth::tx::sidecar::BLOB_BYTES;
use crate::eth::tx::{
    AccessListItem, Authorization, BlobSidecar, Eip1559Tx, Eip2930Tx, Eip4844Tx, Eip7702Tx,
    LegacyTx, PooledTransaction, SidecarVersion, Transaction, TxType, TypedSignature,
};
use crate::eth::version::EthVersion;
use proptest::collection::vec;
use proptest::prelude::*;

fn u256() -> impl Strategy<Value = U256> {
    prop_oneof![
        any::<u64>().prop_map(U256::from_u64),
        any::<[u8; 32]>().prop_map(U256),
    ]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..80)
}

fn access_list() -> impl Strategy<Value = Vec<AccessListItem>> {
    vec(
        (any::<[u8; 20]>(), vec(any::<[u8; 32]>(), 0..3)).prop_map(|(address, storage_keys)| {
            AccessListItem {
                address,
                storage_keys,
            }
        }),
        0..3,
    )
}

fn sig() -> impl Strategy<Value = TypedSignature> {
    (any::<bool>(), u256(), u256()).prop_map(|(y_parity, r, s)| TypedSignature { y_parity, r, s })
}

fn legacy() -> impl Strategy<Value = LegacyTx> {
    (
        (
            any::<u64>(),
            u256(),
            any::<u64>(),
            any::<Option<[u8; 20]>>(),
        ),
        (u256(), bytes(), u256(), u256(), u256()),
    )
        .prop_map(
            |((nonce, gas_price, gas_limit, to), (value, input, v, r, s))| LegacyTx {
                nonce,
                gas_price,
                gas_limit,
                to,
                value,
                input,
                v,
                r,
                s,
            },
        )
}

/// Fields shared by the dynamic-fee types.
type Common = (
    u64,
    u64,
    U256,
    U256,
    u64,
    U256,
    Vec<u8>,
    Vec<AccessListItem>,
);

fn common() -> impl Strategy<Value = Common> {
    (
        any::<u64>(),
        any::<u64>(),
        u256(),
        u256(),
        any::<u64>(),
        u256(),
        bytes(),
        access_list(),
    )
}

fn transaction() -> impl Strategy<Value = Transaction> {
    prop_oneof![
        legacy().prop_map(Transaction::Legacy),
        (common(), any::<Option<[u8; 20]>>(), sig()).prop_map(|(c, to, signature)| {
            Transaction::Eip2930(Eip2930Tx {
                chain_id: c.0,
                nonce: c.1,
                gas_price: c.2,
                gas_limit: c.4,
                to,
                value: c.5,
                input: c.6,
                access_list: c.7,
                signature,
            })
        }),
        (common(), any::<Option<[u8; 20]>>(), sig()).prop_map(|(c, to, signature)| {
            Transaction::Eip1559(Eip1559Tx {
                chain_id: c.0,
                nonce: c.1,
                max_priority_fee_per_gas: c.2,
                max_fee_per_gas: c.3,
                gas_limit: c.4,
                to,
                value: c.5,
                input: c.6,
                access_list: c.7,
                signature,
            })
        }),
        (
            common(),
            any::<[u8; 20]>(),
            u256(),
            vec(any::<[u8; 32]>(), 0..3),
            sig()
        )
            .prop_map(|(c, to, blob_fee, hashes, signature)| Transaction::Eip4844(
                Eip4844Tx {
                    chain_id: c.0,
                    nonce: c.1,
                    max_priority_fee_per_gas: c.2,
                    max_fee_per_gas: c.3,
                    gas_limit: c.4,
                    to,
                    value: c.5,
                    input: c.6,
                    access_list: c.7,
                    max_fee_per_blob_gas: blob_fee,
                    blob_versioned_hashes: hashes,
                    signature,
                }
            )),
        (
            common(),
            any::<[u8; 20]>(),
            vec(authorization(), 0..3),
            sig()
        )
            .prop_map(
                |(c, to, authorization_list, signature)| Transaction::Eip7702(Eip7702Tx {
                    chain_id: c.0,
                    nonce: c.1,
                    max_priority_fee_per_gas: c.2,
                    max_fee_per_gas: c.3,
                    gas_limit: c.4,
                    to,
                    value: c.5,
                    input: c.6,
                    access_list: c.7,
                    authorization_list,
                    signature,
                })
            ),
    ]
}

fn authorization() -> impl Strategy<Value = Authorization> {
    (
        u256(),
        any::<[u8; 20]>(),
        any::<u64>(),
        any::<u8>(),
        u256(),
        u256(),
    )
        .prop_map(|(chain_id, address, nonce, y_parity, r, s)| Authorization {
            chain_id,
            address,
            nonce,
            y_parity,
            r,
            s,
        })
}

/// Blob transactions with a sidecar of zero or one blob (a blob is 128 KiB, so keep few).
fn pooled() -> impl Strategy<Value = PooledTransaction> {
    prop_oneof![
        4 => transaction().prop_map(PooledTransaction::Plain),
        1 => (transaction(), any::<bool>(), 0usize..2, any::<u8>()).prop_filter_map(
            "blob txs only",
            |(tx, cells, blobs, fill)| {
                let Transaction::Eip4844(tx) = tx else { return None };
                let (version, per) = if cells {
                    (SidecarVersion::CellProofs, 128)
                } else {
                    (SidecarVersion::BlobProofs, 1)
                };
                Some(PooledTransaction::BlobWithSidecar {
                    tx,
                    sidecar: BlobSidecar {
                        version,
                        blobs: vec![vec![fill; BLOB_BYTES]; blobs],
                        commitments: vec![[fill; 48]; blobs],
                        proofs: vec![[fill; 48]; blobs * per],
                    },
                })
            }
        ),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    (
        (
            any::<[u8; 32]>(),
            any::<[u8; 20]>(),
            any::<[u8; 32]>(),
            u256(),
        ),
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            bytes(),
        ),
        (
            any::<[u8; 8]>(),
            0usize..=8,
            u256(),
            any::<[u8; 32]>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (hash, addr, root, difficulty),
                (number, gl, gu, ts, extra),
                (nonce, k, fee, h2, g2),
            )| {
                let mut bloom = Box::new([0u8; 256]);
                bloom[3] = root[0];
                Header {
                    parent_hash: hash,
                    ommers_hash: root,
                    beneficiary: addr,
                    state_root: root,
                    transactions_root: hash,
                    receipts_root: root,
                    logs_bloom: bloom,
                    difficulty,
                    number,
                    gas_limit: gl,
                    gas_used: gu,
                    timestamp: ts,
                    extra_data: extra,
                    mix_hash: hash,
                    nonce,
                    base_fee_per_gas: (k > 0).then_some(fee),
                    withdrawals_root: (k > 1).then_some(h2),
                    blob_gas_used: (k > 2).then_some(g2),
                    excess_blob_gas: (k > 3).then_some(number),
                    parent_beacon_block_root: (k > 4).then_some(hash),
                    requests_hash: (k > 5).then_some(h2),
                    block_access_list_hash: (k > 6).then_some(root),
                    slot_number: (k > 7).then_some(gl),
                }
            },
        )
}

fn withdrawal() -> impl Strategy<Value = Withdrawal> {
    (any::<u64>(), any::<u64>(), any::<[u8; 20]>(), any::<u64>()).prop_map(|(a, b, c, d)| {
        Withdrawal {
            index: a,
            validator_index: b,
            address: c,
            amount_gwei: d,
        }
    })
}

fn body() -> impl Strategy<Value = BlockBody> {
    (
        vec(transaction(), 0..3),
        vec(header(), 0..2),
        proptest::option::of(vec(withdrawal(), 0..3)),
    )
        .prop_map(|(transactions, uncles, withdrawals)| BlockBody {
            transactions,
            uncles,
            withdrawals,
        })
}

fn receipt() -> impl Strategy<Value = Receipt> {
    let log = (any::<[u8; 20]>(), vec(any::<[u8; 32]>(), 0..4), bytes()).prop_map(
        |(address, topics, data)| Log {
            address,
            topics,
            data,
        },
    );
    (
        0u8..=4,
        prop_oneof![
            any::<bool>().prop_map(ReceiptOutcome::Status),
            any::<[u8; 32]>().prop_map(ReceiptOutcome::PostState)
        ],
        any::<u64>(),
        vec(log, 0..3),
    )
        .prop_map(|(ty, outcome, cumulative_gas_used, logs)| Receipt {
            tx_type: TxType::from_u8(ty).unwrap_or(TxType::Legacy),
            outcome,
            cumulative_gas_used,
            logs,
        })
}

fn fork_id() -> impl Strategy<Value = ForkId> {
    (any::<[u8; 4]>(), any::<u64>()).prop_map(|(hash, next)| ForkId { hash, next })
}

fn hashes() -> impl Strategy<Value = Vec<[u8; 32]>> {
    vec(any::<[u8; 32]>(), 0..4)
}

/// A message valid in `version`.
fn message(version: EthVersion) -> BoxedStrategy<EthMessage> {
    let status = match version {
        EthVersion::Eth68 => (
            any::<u64>(),
            any::<u64>(),
            u256(),
            any::<[u8; 32]>(),
            fork_id(),
        )
            .prop_map(|(v, n, td, h, f)| {
                EthMessage::Status(Status::Eth68(Status68 {
                    version: v,
                    network_id: n,
                    total_difficulty: td,
                    head_hash: h,
                    genesis_hash: h,
                    fork_id: f,
                }))
            })
            .boxed(),
        EthVersion::Eth69 | EthVersion::Eth70 => (
            any::<u64>(),
            any::<u64>(),
            any::<[u8; 32]>(),
            fork_id(),
            any::<u64>(),
        )
            .prop_map(|(v, n, h, f, e)| {
                EthMessage::Status(Status::Eth69(Status69 {
                    version: v,
                    network_id: n,
                    genesis_hash: h,
                    fork_id: f,
                    earliest_block: e,
                    latest_block: n,
                    latest_block_hash: h,
                }))
            })
            .boxed(),
    };
    let receipts = match version {
        EthVersion::Eth68 => vec(vec(receipt(), 0..3), 0..3)
            .prop_map(|blocks| {
                ReceiptsBody::Eth68(
                    blocks
                        .into_iter()
                        .map(|b| {
                            b.into_iter()
                                .map(|r| ReceiptWithBloom {
                                    bloom: Box::new(r.bloom()),
                                    receipt: r,
                                })
                                .collect()
                        })
                        .collect(),
                )
            })
            .boxed(),
        EthVersion::Eth69 => vec(vec(receipt(), 0..3), 0..3)
            .prop_map(ReceiptsBody::Eth69)
            .boxed(),
        EthVersion::Eth70 => (any::<bool>(), vec(vec(receipt(), 0..3), 0..3))
            .prop_map(|(last_block_incomplete, lists)| ReceiptsBody::Eth70 {
                last_block_incomplete,
                lists,
            })
            .boxed(),
    };
    let get_receipts = if version >= EthVersion::Eth70 {
        (any::<u64>(), any::<u64>(), hashes())
            .prop_map(
                |(request_id, first_block_receipt_index, hashes)| EthMessage::GetReceipts70 {
                    request_id,
                    first_block_receipt_index,
                    hashes,
                },
            )
            .boxed()
    } else {
        (any::<u64>(), hashes())
            .prop_map(|(request_id, hashes)| EthMessage::GetReceipts { request_id, hashes })
            .boxed()
    };
    let mut all = vec![
        status,
        vec((any::<[u8; 32]>(), any::<u64>()), 0..4)
            .prop_map(|v| {
                EthMessage::NewBlockHashes(
                    v.into_iter()
                        .map(|(hash, number)| BlockHashNumber { hash, number })
                        .collect(),
                )
            })
            .boxed(),
        vec(transaction(), 0..4)
            .prop_map(EthMessage::Transactions)
            .boxed(),
        (
            any::<u64>(),
            prop_oneof![
                any::<[u8; 32]>().prop_map(HashOrNumber::Hash),
                any::<u64>().prop_map(HashOrNumber::Number)
            ],
            any::<u64>(),
            any::<u64>(),
            any::<bool>(),
        )
            .prop_map(|(request_id, origin, amount, skip, reverse)| {
                EthMessage::GetBlockHeaders(GetBlockHeaders {
                    request_id,
                    origin,
                    amount,
                    skip,
                    reverse,
                })
            })
            .boxed(),
        (any::<u64>(), vec(header(), 0..3))
            .prop_map(|(request_id, headers)| EthMessage::BlockHeaders {
                request_id,
                headers,
            })
            .boxed(),
        (any::<u64>(), hashes())
            .prop_map(|(request_id, hashes)| EthMessage::GetBlockBodies { request_id, hashes })
            .boxed(),
        (any::<u64>(), vec(body(), 0..3))
            .prop_map(|(request_id, bodies)| EthMessage::BlockBodies { request_id, bodies })
            .boxed(),
        (header(), body(), u256())
            .prop_map(|(header, body, total_difficulty)| EthMessage::NewBlock {
                block: Box::new(Block { header, body }),
                total_difficulty,
            })
            .boxed(),
        vec((any::<u8>(), any::<u32>(), any::<[u8; 32]>()), 0..5)
            .prop_map(|v| {
                EthMessage::NewPooledTransactionHashes(
                    v.into_iter()
                        .map(|(tx_type, size, hash)| TxAnnouncement {
                            tx_type,
                            size,
                            hash,
                        })
                        .collect(),
                )
            })
            .boxed(),
        (any::<u64>(), hashes())
            .prop_map(|(request_id, hashes)| EthMessage::GetPooledTransactions {
                request_id,
                hashes,
            })
            .boxed(),
        (any::<u64>(), vec(pooled(), 0..3))
            .prop_map(
                |(request_id, transactions)| EthMessage::PooledTransactions {
                    request_id,
                    transactions,
                },
            )
            .boxed(),
        get_receipts,
        (any::<u64>(), receipts)
            .prop_map(|(request_id, receipts)| EthMessage::Receipts {
                request_id,
                receipts,
            })
            .boxed(),
    ];
    if version.is_eth69_or_later() {
        all.push(
            (any::<u64>(), any::<u64>(), any::<[u8; 32]>())
                .prop_map(
                    |(earliest, latest, latest_hash)| EthMessage::BlockRangeUpdate {
                        earliest,
                        latest,
                        latest_hash,
                    },
                )
                .boxed(),
        );
    }
    proptest::strategy::Union::new(all).boxed()
}

fn version() -> impl Strategy<Value = EthVersion> {
    prop_oneof![
        Just(EthVersion::Eth68),
        Just(EthVersion::Eth69),
        Just(EthVersion::Eth70)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn eth68_messages_round_trip(msg in message(EthVersion::Eth68)) {
        let enc = msg.encode();
        let back = EthMessage::decode(EthVersion::Eth68, msg.msg_id(), &enc).unwrap();
        prop_assert_eq!(&back, &msg);
        prop_assert_eq!(back.encode(), enc);
    }

    #[test]
    fn eth70_messages_round_trip(msg in message(EthVersion::Eth70)) {
        let enc = msg.encode();
        let back = EthMessage::decode(EthVersion::Eth70, msg.msg_id(), &enc).unwrap();
        prop_assert_eq!(&back, &msg);
        prop_assert_eq!(&back.encode(), &enc);
        // The eth/70 request and answer shapes are no eth/69 messages, and back.
        if msg.msg_id() == 0x0f || msg.msg_id() == 0x10 {
            prop_assert!(EthMessage::decode(EthVersion::Eth69, msg.msg_id(), &enc).is_err());
        }
    }

    #[test]
    fn eth69_messages_round_trip(msg in message(EthVersion::Eth69)) {
        let enc = msg.encode();
        let back = EthMessage::decode(EthVersion::Eth69, msg.msg_id(), &enc).unwrap();
        prop_assert_eq!(&back, &msg);
        prop_assert_eq!(back.encode(), enc);
    }

    #[test]
    fn stored_receipt_lists_round_trip(rs in vec(receipt(), 0..6)) {
        let enc = crate::eth::receipts::encode_receipt_list(&rs);
        let back = crate::eth::receipts::decode_receipt_list(&enc).unwrap();
        prop_assert_eq!(&back, &rs);
        prop_assert_eq!(crate::eth::receipts::encode_receipt_list(&back), enc);
    }

    #[test]
    fn stored_receipt_list_decoder_is_total(bytes in vec(any::<u8>(), 0..300)) {
        let _ = crate::eth::receipts::decode_receipt_list(&bytes);
    }

    #[test]
    fn transactions_round_trip(tx in transaction()) {
        let enc = tx.encode();
        let back = Transaction::decode(&enc).unwrap();
        prop_assert_eq!(back.hash(), tx.hash());
        prop_assert_eq!(&back, &tx);
        prop_assert_eq!(tx.encoded_len(), enc.len());
        // Recovery never panics, whatever the signature values.
        let _ = tx.recover_sender();
    }

    #[test]
    fn pooled_transactions_round_trip(tx in pooled()) {
        let enc = tx.encode();
        let back = PooledTransaction::decode(&enc).unwrap();
        prop_assert_eq!(back.hash(), tx.transaction().hash());
        prop_assert_eq!(&back, &tx);
    }

    #[test]
    fn sidecars_with_their_own_versioned_hashes_pass_and_any_flip_fails(
        tx in pooled(),
        flip in any::<(usize, u8)>(),
    ) {
        // Give the transaction the versioned hashes of its commitments: the check passes,
        // survives a round trip, and fails once one commitment byte changes.
        let PooledTransaction::BlobWithSidecar { mut tx, mut sidecar } = tx else {
            prop_assert!(tx.check_sidecar().is_ok() || tx.tx_type() == TxType::Eip4844);
            return Ok(());
        };
        tx.blob_versioned_hashes = sidecar
            .commitments
            .iter()
            .map(crate::eth::tx::kzg_versioned_hash)
            .collect();
        let good = PooledTransaction::BlobWithSidecar { tx: tx.clone(), sidecar: sidecar.clone() };
        prop_assert!(good.check_sidecar().is_ok());
        let back = PooledTransaction::decode(&good.encode()).unwrap();
        prop_assert!(back.check_sidecar().is_ok());
        let plain = PooledTransaction::Plain(Transaction::Eip4844(tx.clone()));
        prop_assert_eq!(plain.check_sidecar(), Err(crate::eth::tx::SidecarError::Missing));
        if let Some(c) = sidecar.commitments.first_mut() {
            let i = flip.0 % c.len();
            c[i] ^= flip.1 | 1;
            let bad = PooledTransaction::BlobWithSidecar { tx, sidecar };
            prop_assert_eq!(
                bad.check_sidecar(),
                Err(crate::eth::tx::SidecarError::HashMismatch { index: 0 })
            );
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(
        version in version(),
        id in 0u8..0x14,
        data in vec(any::<u8>(), 0..300),
    ) {
        let _ = EthMessage::decode(version, id, &data);
        let _ = Transaction::decode(&data);
        let _ = PooledTransaction::decode(&data);
        let _ = Header::decode(&data);
        let _ = BlockBody::decode(&data);
        let _ = ForkId::decode(&data);
    }

    #[test]
    fn decoding_mutated_messages_never_panics(
        msg in message(EthVersion::Eth69),
        version in version(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut enc = msg.encode();
        let i = at.index(enc.len());
        enc[i] = byte;
        let _ = EthMessage::decode(version, msg.msg_id(), &enc);
        enc.truncate(cut.index(enc.len()));
        let _ = EthMessage::decode(version, msg.msg_id(), &enc);
    }
}

#[test]
fn oversized_messages_are_refused_before_parsing() {
    let big = vec![0u8; crate::eth::MAX_MESSAGE_BYTES + 1];
    assert_eq!(
        EthMessage::decode(EthVersion::Eth68, 0x02, &big),
        Err(crate::eth::EthDecodeError::TooLarge(big.len()))
    );
}

#[test]
fn block_range_update_is_unknown_in_eth68() {
    let msg = EthMessage::BlockRangeUpdate {
        earliest: 1,
        latest: 2,
        latest_hash: [3; 32],
    };
    assert!(matches!(
        EthMessage::decode(EthVersion::Eth68, msg.msg_id(), &msg.encode()),
        Err(crate::eth::EthDecodeError::UnknownMessage { .. })
    ));
    // Ids 0x0b..=0x0e are unassigned in both versions.
    for id in 0x0b..=0x0e {
        assert!(EthMessage::decode(EthVersion::Eth69, id, &[0xc0]).is_err());
    }
}

#[test]
fn announcements_with_disagreeing_lengths_are_refused() {
    let msg = EthMessage::NewPooledTransactionHashes(vec![TxAnnouncement {
        tx_type: 2,
        size: 100,
        hash: [1; 32],
    }]);
    let enc = msg.encode();
    assert!(EthMessage::decode(EthVersion::Eth68, 0x08, &enc).is_ok());
    // Add a second type byte without a size or hash.
    let mut p = Vec::new();
    crate::eth::rlp::put_bytes(&mut p, &[2, 2]);
    let item = crate::eth::rlp::single_item(&enc).unwrap();
    let mut rest = item.payload;
    let (_, r) = crate::eth::rlp::split_item(rest).unwrap();
    rest = r;
    p.extend_from_slice(rest);
    let bad = crate::eth::rlp::list(&p);
    assert_eq!(
        EthMessage::decode(EthVersion::Eth68, 0x08, &bad),
        Err(crate::eth::EthDecodeError::Invalid(
            "announcement lengths disagree"
        ))
    );
}

#[test]
fn object_cap_bounds_memory() {
    // 2^17 + 1 minimal legacy transactions (all fields empty) exceed the object cap.
    let one = [0xc9u8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80];
    let n = crate::eth::MAX_OBJECTS_PER_MESSAGE + 1;
    let mut p = Vec::with_capacity(one.len() * n);
    for _ in 0..n {
        p.extend_from_slice(&one);
    }
    let msg = crate::eth::rlp::list(&p);
    assert!(msg.len() < crate::eth::MAX_MESSAGE_BYTES);
    assert_eq!(
        EthMessage::decode(EthVersion::Eth68, 0x02, &msg),
        Err(crate::eth::EthDecodeError::TooManyObjects)
    );
    // Exactly at the cap is fine.
    let msg = crate::eth::rlp::list(&p[one.len()..]);
    let EthMessage::Transactions(txs) = EthMessage::decode(EthVersion::Eth68, 0x02, &msg).unwrap()
    else {
        panic!("wrong variant")
    };
    assert_eq!(txs.len(), n - 1);
}
