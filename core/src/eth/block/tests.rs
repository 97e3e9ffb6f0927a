//! Block vectors from go-ethereum `core/types/block_test.go` (commit
//! 02b73d4ea7181464175e0a6cbecc0a3a2655a562). `SIMPLE_TX_BLOCK` is ethereum/tests
//! `bcValidBlockTest.json` "SimpleTx"; `ALL_TX_TYPES_BLOCK` is ethereum/tests
//! `bcEIP4844-blobtransactions/blockWithAllTransactionTypes.json`. Both are consensus-valid
//! blocks, so their roots must match what we compute. `EIP1559_BLOCK` is a hand-built block
//! (its roots are not real) used only for hashing and round trips.

use super::*;
use crate::eth::primitives::EMPTY_UNCLES_HASH;
use crate::eth::tx::TxType;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// `TestBlockEncoding`: one legacy transaction; block hash 0a5843ac….
const SIMPLE_TX_BLOCK: &str = "f90260f901f9a083cafc574e1f51ba9dc0568fc617a08ea2429fb384059c972f13b19fa1c8dd55a01dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347948888f1f195afa192cfee860698584c030f4c9db1a0ef1552a40b7165c3cd773806b9e0c165b75356e0314bf0706f279c729f51e017a05fe50b260da6308036625b850b5d6ced6d0a9f814c0688bc91ffb7b7a3a54b67a0bc37d79753ad738a6dac4921e57392f145d8887476de3f783dfa7edae9283e52b90100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000008302000001832fefd8825208845506eb0780a0bd4472abb6659ebe3ee06ee4d7b72a00a9f4d001caca51342001075469aff49888a13a5a8c8f2bb1c4f861f85f800a82c35094095e7baea6a6c7c4c2dfeb977efac326af552d870a801ba09bea4c4daac7c7c52e093e6a4c35dbbcf8856f1af7b059ba20253e70848d094fa08a8fae537ce25ed8cb5af9adac3f141af69bd515bd2ba031522df09b97dd72b1c0";

/// `TestEIP1559BlockEncoding`: legacy + 1559 transactions; block hash c7252048….
const EIP1559_BLOCK: &str = "f9030bf901fea083cafc574e1f51ba9dc0568fc617a08ea2429fb384059c972f13b19fa1c8dd55a01dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347948888f1f195afa192cfee860698584c030f4c9db1a0ef1552a40b7165c3cd773806b9e0c165b75356e0314bf0706f279c729f51e017a05fe50b260da6308036625b850b5d6ced6d0a9f814c0688bc91ffb7b7a3a54b67a0bc37d79753ad738a6dac4921e57392f145d8887476de3f783dfa7edae9283e52b90100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000008302000001832fefd8825208845506eb0780a0bd4472abb6659ebe3ee06ee4d7b72a00a9f4d001caca51342001075469aff49888a13a5a8c8f2bb1c4843b9aca00f90106f85f800a82c35094095e7baea6a6c7c4c2dfeb977efac326af552d870a801ba09bea4c4daac7c7c52e093e6a4c35dbbcf8856f1af7b059ba20253e70848d094fa08a8fae537ce25ed8cb5af9adac3f141af69bd515bd2ba031522df09b97dd72b1b8a302f8a0018080843b9aca008301e24194095e7baea6a6c7c4c2dfeb977efac326af552d878080f838f7940000000000000000000000000000000000000001e1a0000000000000000000000000000000000000000000000000000000000000000080a0fe38ca4e44a30002ac54af7cf922a6ac2ba11b7d22f548e8ecb3f51f41cb31b0a06de6a5cbae13c0c856e33acf021b51819636cfc009d39eafb9f606d546e305a8c0";

/// `TestEIP4844BlockEncoding`: legacy, 2930, 1559 and 4844 transactions, empty withdrawals.
const ALL_TX_TYPES_BLOCK: &str = "f90417f90244a05eb7f6da0f3e237c62bcae48b7fb5f4506d392616b62890429c8b76b4a1d4104a01dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d4934794ba5e000000000000000000000000000000000000a011639dcca0b44f2acb5b630a82c8a69cb82742b3711383ec4e111a554d27aea5a05cb644f722e31f9792a8ef6e2a762334e1a862e8b40c1612e1e9507fd7121ef9a00c82719448356ba6807d6edfcd8e5aea575a5e97f36038ffb3e395749b26d41cb9010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000800188016345785d8a00008301482082079e42a00000000000000000000000000000000000000000000000000000000000020000880000000000000000820314a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b4218302000080a00000000000000000000000000000000000000000000000000000000000000000f901cbf864808203e885e8d4a5100094100000000000000000000000000000000000000a01801ca09de4adda6288582a6700dbcd8eb70c0a4a7fc9487d965f7bf22424e0bd121095a01cdb078764cc3770d5db847e99e10333aa7c356247baaf09b03eae04d64e7926b86901f86601018203e885e8d4a5100094100000000000000000000000000000000000000a0380c080a025090740da12684493e4fb466a3979e365b194e8cf462edf3c2c3be2f130bb2ea034fa18fb4c1bff4d957d72e28535d27f1352517a942aeaca0ed944085f0cd8bbb86a02f8670102018203e885e8d4a5100094100000000000000000000000000000000000000a0580c080a0352a7be5002ce111bc5167f3addf97a75e2e0b810d826af71d2caae18aed284ea065d38f8a5c8948ce706842e8861fb21020b93a4d5e489162a0e6d419a457b735b88c03f8890103018203e885e8d4a5100094100000000000000000000000000000000000000a0780c00ae1a001a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8809f638144c46d5de7a9e630c0e7c5c63ae829ecfd8cc94715d9c29fe17c464de0a06c5fc54c3aa868ba35ef31a4e12431611631ab7bcdceb4214dd273d83f73b5e1c0c0";

#[test]
fn simple_tx_block_round_trips_hashes_and_validates() {
    let bytes = h(SIMPLE_TX_BLOCK);
    let block = Block::decode(&bytes).unwrap();
    assert_eq!(block.encode(), bytes);
    assert_eq!(
        hex::encode(block.header.hash()),
        "0a5843ac1cb04865017cb35a57b50b07084e5fcee39b5acadade33149f4fff9e"
    );
    assert_eq!(block.header.difficulty, U256::from_u64(131_072));
    assert_eq!(block.header.gas_used, 21_000);
    assert_eq!(block.header.timestamp, 1_426_516_743);
    assert_eq!(block.header.nonce, 0xa13a_5a8c_8f2b_b1c4u64.to_be_bytes());
    assert_eq!(block.body.transactions.len(), 1);
    assert_eq!(block.header.ommers_hash, EMPTY_UNCLES_HASH);
    validate_body(&block.header, &block.body).unwrap();
}

#[test]
fn eip1559_block_round_trips_and_hashes() {
    let bytes = h(EIP1559_BLOCK);
    let block = Block::decode(&bytes).unwrap();
    assert_eq!(block.encode(), bytes);
    assert_eq!(
        hex::encode(block.header.hash()),
        "c7252048cd273fe0dac09650027d07f0e3da4ee0675ebbb26627cea92729c372"
    );
    assert_eq!(
        block.header.base_fee_per_gas,
        Some(U256::from_u64(1_000_000_000))
    );
    let types: Vec<TxType> = block
        .body
        .transactions
        .iter()
        .map(|t| t.tx_type())
        .collect();
    assert_eq!(types, vec![TxType::Legacy, TxType::Eip1559]);
}

#[test]
fn all_tx_types_block_validates_against_its_header() {
    let bytes = h(ALL_TX_TYPES_BLOCK);
    let block = Block::decode(&bytes).unwrap();
    assert_eq!(block.encode(), bytes);
    let types: Vec<TxType> = block
        .body
        .transactions
        .iter()
        .map(|t| t.tx_type())
        .collect();
    assert_eq!(
        types,
        vec![
            TxType::Legacy,
            TxType::Eip2930,
            TxType::Eip1559,
            TxType::Eip4844
        ]
    );
    assert_eq!(block.body.withdrawals, Some(vec![]));
    assert_eq!(block.header.withdrawals_root, Some(EMPTY_ROOT_HASH));
    assert_eq!(block.header.blob_gas_used, Some(0x20000));
    validate_body(&block.header, &block.body).unwrap();
    for tx in &block.body.transactions {
        tx.recover_sender().unwrap();
        assert_eq!(Transaction::decode(&tx.encode()).unwrap(), *tx);
    }
    // Every transaction was signed by the same test account.
    let senders: Vec<_> = block
        .body
        .transactions
        .iter()
        .map(|t| t.recover_sender().unwrap())
        .collect();
    assert!(senders.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn tampered_bodies_are_refused_with_the_matching_error() {
    let block = Block::decode(&h(ALL_TX_TYPES_BLOCK)).unwrap();
    let mut body = block.body.clone();
    body.transactions.pop();
    assert!(matches!(
        validate_body(&block.header, &body),
        Err(BodyError::TransactionsRoot { .. })
    ));
    let mut body = block.body.clone();
    body.withdrawals = None;
    assert_eq!(
        validate_body(&block.header, &body),
        Err(BodyError::MissingWithdrawals)
    );
    let mut body = block.body.clone();
    body.withdrawals = Some(vec![Withdrawal::default()]);
    assert!(matches!(
        validate_body(&block.header, &body),
        Err(BodyError::WithdrawalsRoot { .. })
    ));
    let mut body = block.body.clone();
    body.uncles.push(Header::default());
    assert!(matches!(
        validate_body(&block.header, &body),
        Err(BodyError::UnclesHash { .. })
    ));
    let simple = Block::decode(&h(SIMPLE_TX_BLOCK)).unwrap();
    let mut body = simple.body.clone();
    body.withdrawals = Some(vec![]);
    assert_eq!(
        validate_body(&simple.header, &body),
        Err(BodyError::UnexpectedWithdrawals)
    );
}

#[test]
fn empty_uncle_list_hashes_to_the_known_constant() {
    assert_eq!(uncles_hash(&[]), EMPTY_UNCLES_HASH);
}

#[test]
fn headers_with_too_many_fields_are_refused() {
    let g = crate::eth::chainspec::paxeer_devnet_genesis();
    let enc = g.encode();
    let item = crate::eth::rlp::single_item(&enc).unwrap();
    let mut payload = item.payload.to_vec();
    // Amsterdam's block access list hash and slot number are the last known fields.
    crate::eth::rlp::put_bytes(&mut payload, &[7u8; 32]);
    crate::eth::rlp::put_u64(&mut payload, 9);
    let amsterdam = Header::decode(&crate::eth::rlp::list(&payload)).unwrap();
    assert_eq!(amsterdam.block_access_list_hash, Some([7u8; 32]));
    assert_eq!(amsterdam.slot_number, Some(9));
    assert_eq!(Header::decode(&amsterdam.encode()).unwrap(), amsterdam);
    crate::eth::rlp::put_bytes(&mut payload, &[0u8; 32]);
    assert!(Header::decode(&crate::eth::rlp::list(&payload)).is_err());
}
