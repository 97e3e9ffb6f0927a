//! Genesis files against facts known elsewhere: go-ethereum's own test expectation for a
//! one-account genesis, the built-in devnet header, and go-ethereum's JSON conventions.

use super::json::parse_genesis;
use super::state_root::state_root;
use super::*;
use paxeer_p2p_core::eth::chainspec::EMPTY_REQUESTS_HASH;
use paxeer_p2p_core::eth::primitives::EMPTY_ROOT_HASH;
use paxeer_p2p_core::eth::U256;

/// go-ethereum `core/genesis_test.go` `testSetupGenesis`: `customg` (Homestead at 3, ethash,
/// one account 0x01… with balance 1 and slot 0x01… = 0x01…) hashes to `customghash`.
#[test]
fn one_account_genesis_matches_go_ethereum_test_expectation() {
    let text = r#"{
        "config": {"chainId": 1, "homesteadBlock": 3, "ethash": {}},
        "difficulty": "0x20000", "gasLimit": "0",
        "alloc": {"0100000000000000000000000000000000000000": {"balance": "1",
            "storage": {"0x0100000000000000000000000000000000000000000000000000000000000000":
                        "0x0100000000000000000000000000000000000000000000000000000000000000"}}}
    }"#;
    let spec = chain_spec_of_genesis("custom", text).unwrap();
    assert_eq!(
        hex::encode(spec.genesis_hash),
        "89c99d90b79719238d2645c7642f2c9295246e80775b38cfd162b696817fbd50"
    );
    let g = spec.genesis.clone().unwrap();
    assert_eq!(g.gas_limit, 4_712_388);
    assert_eq!(g.base_fee_per_gas, None);
    // Pre-merge: the genesis difficulty is not past a terminal difficulty (none is set).
    assert!(!spec.post_merge);
    assert_eq!(spec.fork_id(Default::default()).next, 3);
}

/// The built-in devnet written as a geth genesis.json gives the built-in genesis hash.
#[test]
fn devnet_as_a_genesis_file_has_the_built_in_hash_and_fork_id() {
    let text = r#"{
      "config": {"chainId": 22922, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0,
        "eip158Block": 0, "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0,
        "istanbulBlock": 0, "berlinBlock": 0, "londonBlock": 0,
        "shanghaiTime": 0, "cancunTime": 0, "pragueTime": 0, "someFutureTime": 5,
        "someNewSetting": {"x": [1, 2]}},
      "timestamp": "0x6955b900", "extraData": "0x7061786565722d703270206465766e6574",
      "gasLimit": 30000000, "difficulty": "0x1", "alloc": {}, "unknownTopLevel": true
    }"#;
    let file = parse_genesis(text).unwrap();
    assert_eq!(file.genesis.extra_data, b"paxeer-p2p devnet".to_vec());
    let spec = chain_spec_of_genesis("devnet", text).unwrap();
    let builtin = ChainSpec::paxeer_devnet();
    assert_eq!(spec.genesis_hash, builtin.genesis_hash);
    assert_eq!(spec.genesis_timestamp, builtin.genesis_timestamp);
    assert_eq!(
        spec.fork_id(Default::default()),
        builtin.fork_id(Default::default())
    );
    let g = spec.genesis.clone().unwrap();
    assert_eq!(g.requests_hash, Some(EMPTY_REQUESTS_HASH));
    assert_eq!(g.state_root, EMPTY_ROOT_HASH);
}

#[test]
fn numbers_follow_go_ethereum_conventions() {
    let text = r#"{
      "config": {"chainId": 7, "londonBlock": 5,
                 "terminalTotalDifficulty": 58750000000000000000000,
                 "blobSchedule": {"cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3338477},
                                  "osaka": {"target": 1, "max": 2, "baseFeeUpdateFraction": 3}}},
      "nonce": 66, "timestamp": "17", "gasLimit": "0x1388", "difficulty": 131072,
      "baseFeePerGas": "0x3b9aca00", "mixHash": "0x0101010101010101010101010101010101010101010101010101010101010101",
      "alloc": {"0x00000000000000000000000000000000000000aa": {"balance": "0xde0b6b3a7640000", "nonce": "0x2",
                 "code": "0x6000", "storage": {"0x01": "0x02", "03": "0x00"}, "privateKey": "0x00"}}
    }"#;
    let file = parse_genesis(text).unwrap();
    let g = &file.genesis;
    assert_eq!((g.nonce, g.timestamp, g.gas_limit), (66, 17, 5000));
    assert_eq!(g.difficulty, Some(U256::from_u64(131_072)));
    assert_eq!(g.base_fee, Some(U256::from_u64(1_000_000_000)));
    let ttd = g.config.terminal_total_difficulty.unwrap();
    assert_eq!(
        hex::encode(ttd.trimmed()),
        "0c70d808a128d7380000" // 58750000000000000000000
    );
    assert_eq!(g.config.blob_schedule.cancun.map(|p| p.max), Some(6));
    let acc = file.alloc.values().next().unwrap();
    assert_eq!(acc.nonce, 2);
    assert_eq!(acc.balance, U256::from_u64(1_000_000_000_000_000_000));
    assert_eq!(acc.code, vec![0x60, 0x00]);
    let mut slot1 = [0u8; 32];
    slot1[31] = 1;
    assert_eq!(acc.storage.first().map(|s| s.0), Some(slot1));
    // A zero storage value is no slot: the root equals that of the account without it.
    let mut without_zero = file.alloc.clone();
    for a in without_zero.values_mut() {
        a.storage.retain(|(_, v)| v != &[0u8; 32]);
    }
    assert_eq!(without_zero.values().next().unwrap().storage.len(), 1);
    assert_eq!(state_root(&without_zero), state_root(&file.alloc));
    // London at 5 is not active at 0: the given base fee is still copied into the header.
    let h = g.header(state_root(&file.alloc));
    assert_eq!(h.base_fee_per_gas, Some(U256::from_u64(1_000_000_000)));
    assert_eq!(h.nonce, 66u64.to_be_bytes());
}

#[test]
fn empty_alloc_has_the_empty_root_and_balances_change_it() {
    let empty =
        parse_genesis(r#"{"config":{"chainId":1},"gasLimit":"1","difficulty":"1","alloc":{}}"#)
            .unwrap();
    assert_eq!(state_root(&empty.alloc), EMPTY_ROOT_HASH);
    let one = parse_genesis(
        r#"{"config":{"chainId":1},"gasLimit":"1","difficulty":"1","alloc":{"0x0000000000000000000000000000000000000001":{"balance":"0"}}}"#,
    )
    .unwrap();
    // An empty account is still stored in the genesis state.
    assert_ne!(state_root(&one.alloc), EMPTY_ROOT_HASH);
}

#[test]
fn bad_files_are_refused_with_the_field_named() {
    for (text, want) in [
        ("{", "EOF"),
        (r#"{"gasLimit":"1","difficulty":"1","alloc":{}}"#, "config"),
        (
            r#"{"config":{},"gasLimit":"1","difficulty":"1","alloc":{}}"#,
            "chainId",
        ),
        (
            r#"{"config":{"chainId":1},"difficulty":"1","alloc":{}}"#,
            "gasLimit",
        ),
        (
            r#"{"config":{"chainId":1},"gasLimit":"1","alloc":{}}"#,
            "difficulty",
        ),
        (
            r#"{"config":{"chainId":1},"gasLimit":"1","difficulty":"1"}"#,
            "alloc",
        ),
        (
            r#"{"config":{"chainId":1,"londonBlock":"0"},"gasLimit":"1","difficulty":"1","alloc":{}}"#,
            "londonBlock",
        ),
        (
            r#"{"config":{"chainId":1,"cancunTime":-1},"gasLimit":"1","difficulty":"1","alloc":{}}"#,
            "cancunTime",
        ),
        (
            r#"{"config":{"chainId":1},"gasLimit":"0xzz","difficulty":"1","alloc":{}}"#,
            "gasLimit",
        ),
        (
            r#"{"config":{"chainId":1},"gasLimit":"1","difficulty":"1","extraData":"ab","alloc":{}}"#,
            "extraData",
        ),
        (
            r#"{"config":{"chainId":1},"gasLimit":"1","difficulty":"1","alloc":{"0x01":{"balance":"1"}}}"#,
            "alloc address",
        ),
        (
            r#"{"config":{"chainId":1},"gasLimit":"1","difficulty":"1","alloc":{"0000000000000000000000000000000000000001":{}}}"#,
            "balance",
        ),
        (
            r#"{"config":{"chainId":1},"gasLimit":"1","difficulty":"0x1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","alloc":{}}"#,
            "difficulty",
        ),
        // Odd-length storage hex is refused by go-ethereum's `storageJSON` too.
        (
            r#"{"config":{"chainId":1},"gasLimit":"1","difficulty":"1","alloc":{"0000000000000000000000000000000000000001":{"balance":"1","storage":{"0x01":"0x0"}}}}"#,
            "storage value",
        ),
        (
            r#"{"config":{"chainId":1,"enableUBTAtGenesis":true},"gasLimit":"1","difficulty":"1","alloc":{}}"#,
            "enableUBTAtGenesis",
        ),
        (
            r#"{"config":{"chainId":1,"blobSchedule":{"cancun":{"target":3,"max":0,"baseFeeUpdateFraction":1}}},"gasLimit":"1","difficulty":"1","alloc":{}}"#,
            "blobSchedule.cancun",
        ),
    ] {
        let err = chain_spec_of_genesis("t", text).unwrap_err();
        assert!(err.contains(want), "{text}: {err:?} should name {want:?}");
    }
}
