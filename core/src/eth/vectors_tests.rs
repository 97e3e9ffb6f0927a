//! Official vectors, transcribed from the shared vector files into constants (tests never
//! read files at run time):
//! - eth messages: go-ethereum `eth/protocols/eth/protocol_test.go` (`TestMessages`,
//!   `TestEmptyMessages`) at 02b73d4ea7181464175e0a6cbecc0a3a2655a562, plus the eth/68
//!   receipts vector of v1.17.0 (0cf3d3ba4f7062fd2bbf2bda10972d528974e876);
//! - fork ids: go-ethereum `core/forkid/forkid_test.go` (`TestCreation`, `TestValidation`,
//!   `TestEncoding`, `TestTimeBasedForkInGenesis`) at the same commit, and the test cases of
//!   EIP-2124 (ethereum/EIPs f767a1e8078e17c9b381a91d35a09492189ede1b).
//!
//! The senders of the two shared transactions come from go-ethereum
//! `core/types/transaction_signing_test.go` (`TestEIP155SigningVitalik`).

use crate::eth::messages::{EthMessage, HashOrNumber, ReceiptsBody};
use crate::eth::receipts::{ReceiptOutcome, ReceiptWithBloom};
use crate::eth::tx::{Transaction, TxType};
use crate::eth::version::EthVersion;
use crate::eth::{Header, U256};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn b32(s: &str) -> [u8; 32] {
    h(s).try_into().unwrap()
}

/// `shared_inputs.request_id`.
const REQUEST_ID: u64 = 1111;

/// `shared_inputs.hashes`.
const HASHES: [&str; 2] = [
    "00000000000000000000000000000000000000000000000000000000deadc0de",
    "00000000000000000000000000000000000000000000000000000000feedbeef",
];

/// `shared_inputs.header.rlp_hex`: a 15-field header (difficulty 2222, number 3333, …).
const HEADER_RLP: &str = "f901f9a00000000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000940000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000b90100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000008208ae820d0582115c8215b3821a0a827788a00000000000000000000000000000000000000000000000000000000000000000880000000000000000";

/// `shared_inputs.transactions`: EIP-155 transactions with nonces 8 and 9.
const TXS: [&str; 2] = ["f867088504a817c8088302e2489435353535353535353535353535353535353535358202008025a064b1702d9298fee62dfeccc57d322a463ad55ca201256d01f62b45b2e1c21c12a064b1702d9298fee62dfeccc57d322a463ad55ca201256d01f62b45b2e1c21c10", "f867098504a817c809830334509435353535353535353535353535353535353535358202d98025a052f8f61201b2b11a78d6e866abc9c3db2ae8631fa656bfe5cb53668255367afba052f8f61201b2b11a78d6e866abc9c3db2ae8631fa656bfe5cb53668255367afb"];

/// Senders of `TXS` (go-ethereum `TestEIP155SigningVitalik`).
const TX_SENDERS: [&str; 2] = [
    "9bddad43f934d313c2b79ca28a432dd2b7281029",
    "3c24d7329e92f84f08556ceb6df1cdb0104ca49f",
];

/// `shared_inputs.receipts[*].eth69_rlp`.
const RECEIPTS_ETH69: [&str; 2] = ["f866808082014df85ff85d940000000000000000000000000000000000000011f842a0000000000000000000000000000000000000000000000000000000000000deada0000000000000000000000000000000000000000000000000000000000000beef830100ff", "f86901018201bcf862f860940000000000000000000000000000000000000022f842a00000000000000000000000000000000000000000000000000000000000005668a0000000000000000000000000000000000000000000000000000000000000977386020f0f0f0608"];

/// `GetBlockHeaders` by hash (origin deadc0de, amount 5, skip 5, forward).
const GET_HEADERS_BY_HASH: &str =
    "e8820457e4a000000000000000000000000000000000000000000000000000000000deadc0de050580";

/// `GetBlockHeaders` by number (origin 9999, amount 5, skip 5, forward).
const GET_HEADERS_BY_NUMBER: &str = "ca820457c682270f050580";

/// `BlockHeaders` (msg code 4, eth 66+, 517 bytes).
const BLOCK_HEADERS: &str = "f90202820457f901fcf901f9a00000000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000940000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000b90100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000008208ae820d0582115c8215b3821a0a827788a00000000000000000000000000000000000000000000000000000000000000000880000000000000000";

/// `GetBlockBodies` (msg code 5, eth 66+, 73 bytes).
const GET_BLOCK_BODIES: &str = "f847820457f842a000000000000000000000000000000000000000000000000000000000deadc0dea000000000000000000000000000000000000000000000000000000000feedbeef";

/// `BlockBodies` (msg code 6, eth 66+, 735 bytes).
const BLOCK_BODIES: &str = "f902dc820457f902d6f902d3f8d2f867088504a817c8088302e2489435353535353535353535353535353535353535358202008025a064b1702d9298fee62dfeccc57d322a463ad55ca201256d01f62b45b2e1c21c12a064b1702d9298fee62dfeccc57d322a463ad55ca201256d01f62b45b2e1c21c10f867098504a817c809830334509435353535353535353535353535353535353535358202d98025a052f8f61201b2b11a78d6e866abc9c3db2ae8631fa656bfe5cb53668255367afba052f8f61201b2b11a78d6e866abc9c3db2ae8631fa656bfe5cb53668255367afbf901fcf901f9a00000000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000940000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000000000000000000000000000000000000000b90100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000008208ae820d0582115c8215b3821a0a827788a00000000000000000000000000000000000000000000000000000000000000000880000000000000000";

/// `GetReceipts` (msg code 15, eth 66+, 73 bytes).
const GET_RECEIPTS: &str = "f847820457f842a000000000000000000000000000000000000000000000000000000000deadc0dea000000000000000000000000000000000000000000000000000000000feedbeef";

/// `Receipts (eth/68 format)` (msg code 16, eth 66-68, 745 bytes).
const RECEIPTS_68: &str = "f902e6820457f902e0f902ddf901688082014db9010000000000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000014000000000000000000000000000000000000000000000000000000000000000000000000000010000000000000000000000000004000000000000000000000000000040000000000000000000000000000000000000000000000000000000000000000000000000000000000400000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000f85ff85d940000000000000000000000000000000000000011f842a0000000000000000000000000000000000000000000000000000000000000deada0000000000000000000000000000000000000000000000000000000000000beef830100ffb9016f01f9016b018201bcb9010000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000800000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000040000000001000000000000000000000000000000000000000000000000040000000000000000000000000004000000000000000000000000000000000000000000000000000000008000400000000000000000000000000000000000000000000000000000000000000000000000000000040f862f860940000000000000000000000000000000000000022f842a00000000000000000000000000000000000000000000000000000000000005668a0000000000000000000000000000000000000000000000000000000000000977386020f0f0f0608";

/// `Receipts (eth/69 format)` (msg code 16, eth 69+, 220 bytes).
const RECEIPTS_69: &str = "f8da820457f8d5f8d3f866808082014df85ff85d940000000000000000000000000000000000000011f842a0000000000000000000000000000000000000000000000000000000000000deada0000000000000000000000000000000000000000000000000000000000000beef830100fff86901018201bcf862f860940000000000000000000000000000000000000022f842a00000000000000000000000000000000000000000000000000000000000005668a0000000000000000000000000000000000000000000000000000000000000977386020f0f0f0608";

/// `GetPooledTransactions` (msg code 9, eth 66+, 73 bytes).
const GET_POOLED_TXS: &str = "f847820457f842a000000000000000000000000000000000000000000000000000000000deadc0dea000000000000000000000000000000000000000000000000000000000feedbeef";

/// `PooledTransactions` (msg code 10, eth 66+, 217 bytes).
const POOLED_TXS: &str = "f8d7820457f8d2f867088504a817c8088302e2489435353535353535353535353535353535353535358202008025a064b1702d9298fee62dfeccc57d322a463ad55ca201256d01f62b45b2e1c21c12a064b1702d9298fee62dfeccc57d322a463ad55ca201256d01f62b45b2e1c21c10f867098504a817c809830334509435353535353535353535353535353535353535358202d98025a052f8f61201b2b11a78d6e866abc9c3db2ae8631fa656bfe5cb53668255367afba052f8f61201b2b11a78d6e866abc9c3db2ae8631fa656bfe5cb53668255367afb";

/// `empty_messages.rlp_hex`: request id 1111 with an empty list.
const EMPTY_MESSAGE: &str = "c4820457c0";

fn decode(version: EthVersion, id: u8, hex: &str) -> EthMessage {
    let bytes = h(hex);
    let msg = EthMessage::decode(version, id, &bytes).unwrap();
    assert_eq!(msg.msg_id(), id);
    assert_eq!(msg.encode(), bytes, "re-encoding must be byte-exact");
    msg
}

fn shared_header() -> Header {
    Header::decode(&h(HEADER_RLP)).unwrap()
}

fn shared_txs() -> Vec<Transaction> {
    TXS.iter()
        .map(|t| Transaction::decode(&h(t)).unwrap())
        .collect()
}

#[test]
fn shared_header_decodes_to_its_fields_and_reencodes() {
    let hd = shared_header();
    assert_eq!(hd.difficulty, U256::from_u64(2222));
    assert_eq!(hd.number, 3333);
    assert_eq!(hd.gas_limit, 4444);
    assert_eq!(hd.gas_used, 5555);
    assert_eq!(hd.timestamp, 6666);
    assert_eq!(hd.extra_data, vec![0x77, 0x88]);
    assert_eq!(hd.ommers_hash, [0; 32]);
    assert!(hd.base_fee_per_gas.is_none() && hd.requests_hash.is_none());
    assert_eq!(hd.encode(), h(HEADER_RLP));
}

#[test]
fn shared_transactions_are_eip155_legacy_with_known_senders() {
    for ((tx, hex), sender) in shared_txs().iter().zip(TXS).zip(TX_SENDERS) {
        assert_eq!(tx.tx_type(), TxType::Legacy);
        assert_eq!(tx.chain_id(), Some(1));
        assert_eq!(tx.encode(), h(hex));
        assert_eq!(tx.encoded_len(), h(hex).len());
        assert_eq!(hex::encode(tx.recover_sender().unwrap()), sender);
    }
}

#[test]
fn get_block_headers_by_hash_and_by_number() {
    for (version, _) in [(EthVersion::Eth68, ()), (EthVersion::Eth69, ())] {
        let EthMessage::GetBlockHeaders(g) = decode(version, 0x03, GET_HEADERS_BY_HASH) else {
            panic!("wrong variant");
        };
        assert_eq!(g.request_id, REQUEST_ID);
        assert_eq!(g.origin, HashOrNumber::Hash(b32(HASHES[0])));
        assert_eq!((g.amount, g.skip, g.reverse), (5, 5, false));
        let EthMessage::GetBlockHeaders(g) = decode(version, 0x03, GET_HEADERS_BY_NUMBER) else {
            panic!("wrong variant");
        };
        assert_eq!(g.origin, HashOrNumber::Number(9999));
        assert_eq!((g.amount, g.skip, g.reverse), (5, 5, false));
    }
}

#[test]
fn block_headers_carries_the_shared_header() {
    for version in EthVersion::ALL {
        let EthMessage::BlockHeaders {
            request_id,
            headers,
        } = decode(version, 0x04, BLOCK_HEADERS)
        else {
            panic!("wrong variant");
        };
        assert_eq!(request_id, REQUEST_ID);
        assert_eq!(headers, vec![shared_header()]);
    }
}

#[test]
fn hash_list_requests_carry_the_shared_hashes() {
    let want: Vec<[u8; 32]> = HASHES.iter().map(|x| b32(x)).collect();
    for version in EthVersion::ALL {
        for (id, hex) in [
            (0x05, GET_BLOCK_BODIES),
            (0x09, GET_POOLED_TXS),
            (0x0f, GET_RECEIPTS),
        ] {
            // eth/70's GetReceipts carries the first index too (see below).
            if version >= EthVersion::Eth70 && id == 0x0f {
                assert!(EthMessage::decode(version, id, &h(hex)).is_err());
                continue;
            }
            match decode(version, id, hex) {
                EthMessage::GetBlockBodies { request_id, hashes }
                | EthMessage::GetPooledTransactions { request_id, hashes }
                | EthMessage::GetReceipts { request_id, hashes } => {
                    assert_eq!(request_id, REQUEST_ID);
                    assert_eq!(hashes, want);
                }
                other => panic!("wrong variant {other:?}"),
            }
        }
    }
}

#[test]
fn block_bodies_holds_both_transactions_and_the_uncle() {
    for version in EthVersion::ALL {
        let EthMessage::BlockBodies { request_id, bodies } = decode(version, 0x06, BLOCK_BODIES)
        else {
            panic!("wrong variant");
        };
        assert_eq!(request_id, REQUEST_ID);
        assert_eq!(bodies.len(), 1);
        assert_eq!(bodies[0].transactions, shared_txs());
        assert_eq!(bodies[0].uncles, vec![shared_header()]);
        assert_eq!(bodies[0].withdrawals, None);
    }
}

#[test]
fn pooled_transactions_holds_both_transactions() {
    for version in EthVersion::ALL {
        let EthMessage::PooledTransactions {
            request_id,
            transactions,
        } = decode(version, 0x0a, POOLED_TXS)
        else {
            panic!("wrong variant");
        };
        assert_eq!(request_id, REQUEST_ID);
        let txs: Vec<Transaction> = transactions.iter().map(|t| t.transaction()).collect();
        assert_eq!(txs, shared_txs());
    }
}

#[test]
fn eth69_receipts_decode_to_the_shared_receipts() {
    let EthMessage::Receipts {
        request_id,
        receipts: ReceiptsBody::Eth69(blocks),
    } = decode(EthVersion::Eth69, 0x10, RECEIPTS_69)
    else {
        panic!("wrong variant");
    };
    assert_eq!(request_id, REQUEST_ID);
    let [block] = blocks.as_slice() else {
        panic!("one block expected")
    };
    assert_eq!(block.len(), 2);
    assert_eq!(block[0].tx_type, TxType::Legacy);
    assert_eq!(block[0].outcome, ReceiptOutcome::Status(false));
    assert_eq!(block[0].cumulative_gas_used, 333);
    assert_eq!(block[0].logs[0].data, vec![0x01, 0x00, 0xff]);
    assert_eq!(block[1].tx_type, TxType::Eip2930);
    assert_eq!(block[1].outcome, ReceiptOutcome::Status(true));
    assert_eq!(block[1].cumulative_gas_used, 444);
    assert_eq!(block[1].logs[0].topics.len(), 2);
    for (r, hex) in block.iter().zip(RECEIPTS_ETH69) {
        assert_eq!(r.encode_eth69(), h(hex));
    }
}

#[test]
fn eth68_receipts_equal_the_eth69_ones_with_recomputed_blooms() {
    let EthMessage::Receipts {
        receipts: ReceiptsBody::Eth69(blocks69),
        ..
    } = decode(EthVersion::Eth69, 0x10, RECEIPTS_69)
    else {
        panic!("wrong variant");
    };
    let EthMessage::Receipts {
        request_id,
        receipts: ReceiptsBody::Eth68(blocks68),
    } = decode(EthVersion::Eth68, 0x10, RECEIPTS_68)
    else {
        panic!("wrong variant");
    };
    assert_eq!(request_id, REQUEST_ID);
    let rebuilt: Vec<Vec<ReceiptWithBloom>> = blocks69
        .iter()
        .map(|b| {
            b.iter()
                .map(|r| ReceiptWithBloom {
                    bloom: Box::new(r.bloom()),
                    receipt: r.clone(),
                })
                .collect()
        })
        .collect();
    assert_eq!(rebuilt, blocks68);
    let msg = EthMessage::Receipts {
        request_id,
        receipts: ReceiptsBody::Eth68(rebuilt),
    };
    assert_eq!(msg.encode(), h(RECEIPTS_68));
}

#[test]
fn receipts_layout_follows_the_negotiated_version() {
    assert!(EthMessage::decode(EthVersion::Eth69, 0x10, &h(RECEIPTS_68)).is_err());
    assert!(EthMessage::decode(EthVersion::Eth68, 0x10, &h(RECEIPTS_69)).is_err());
}

#[test]
fn empty_list_messages_round_trip() {
    for version in EthVersion::ALL {
        for id in [0x04, 0x05, 0x06, 0x09, 0x0a, 0x0f, 0x10] {
            if version >= EthVersion::Eth70 && (id == 0x0f || id == 0x10) {
                assert!(EthMessage::decode(version, id, &h(EMPTY_MESSAGE)).is_err());
                continue;
            }
            let msg = decode(version, id, EMPTY_MESSAGE);
            assert_eq!(msg.request_id(), Some(REQUEST_ID));
        }
        // go-ethereum encodes a nil GetBlockHeaders request as an empty list; it has no
        // decodable meaning (no origin), so it is refused rather than invented.
        assert!(EthMessage::decode(version, 0x03, &h(EMPTY_MESSAGE)).is_err());
    }
}

#[test]
fn header_request_origin_must_be_a_hash_or_a_short_number() {
    // 9-byte and 31-byte origins are neither a number nor a hash.
    for origin in [vec![1u8; 9], vec![1u8; 31], vec![1u8; 33]] {
        let mut q = Vec::new();
        crate::eth::rlp::put_bytes(&mut q, &origin);
        q.extend_from_slice(&[0x05, 0x05, 0x80]);
        let mut p = vec![0x82, 0x04, 0x57];
        crate::eth::rlp::put_list(&mut p, &q);
        let msg = crate::eth::rlp::list(&p);
        assert!(EthMessage::decode(EthVersion::Eth68, 0x03, &msg).is_err());
    }
    // An 8-byte number is fine.
    let mut q = Vec::new();
    crate::eth::rlp::put_u64(&mut q, u64::MAX);
    q.extend_from_slice(&[0x05, 0x05, 0x01]);
    let mut p = vec![0x82, 0x04, 0x57];
    crate::eth::rlp::put_list(&mut p, &q);
    let EthMessage::GetBlockHeaders(g) =
        EthMessage::decode(EthVersion::Eth68, 0x03, &crate::eth::rlp::list(&p)).unwrap()
    else {
        panic!("wrong variant");
    };
    assert_eq!(g.origin, HashOrNumber::Number(u64::MAX));
    assert!(g.reverse);
}

#[test]
fn eth70_receipt_messages_carry_the_index_and_the_flag() {
    // [1111, 3, []] and [1111, true, [[]]]: EIP-7975's field order.
    assert_eq!(
        decode(
            EthVersion::Eth70,
            0x0f,
            "c5820457 03 c0".replace(' ', "").as_str()
        ),
        EthMessage::GetReceipts70 {
            request_id: REQUEST_ID,
            first_block_receipt_index: 3,
            hashes: Vec::new(),
        }
    );
    assert_eq!(
        decode(
            EthVersion::Eth70,
            0x10,
            "c6820457 01 c1c0".replace(' ', "").as_str()
        ),
        EthMessage::Receipts {
            request_id: REQUEST_ID,
            receipts: ReceiptsBody::Eth70 {
                last_block_incomplete: true,
                lists: vec![Vec::new()],
            },
        }
    );
    // The flag is a boolean: 2 is no flag.
    assert!(EthMessage::decode(EthVersion::Eth70, 0x10, &h("c682045702c1c0")).is_err());
}
