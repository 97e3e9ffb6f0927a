//! Chain specifications: network id, genesis and fork schedule, with the public networks
//! built in. The custom spec file loader lives in `node/`; here a spec is plain fields.
//!
//! Fork schedules and genesis hashes of the built-ins come from go-ethereum
//! `params/config.go` and `core/forkid/forkid_test.go` at commit
//! 02b73d4ea7181464175e0a6cbecc0a3a2655a562 (through the BPO2 blob-parameter forks).

use crate::eth::block::Header;
use crate::eth::chainconfig::{BlobParams, ChainConfig, TimeFork};
use crate::eth::forkid::{ForkFilter, ForkId, Head};
use crate::eth::primitives::{B256, EMPTY_ROOT_HASH, EMPTY_UNCLES_HASH, U256};

/// One scheduled fork.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledFork {
    /// Its name, for logs (`"London"`, `"Prague"`, …).
    pub name: String,
    /// Activation block number or timestamp (see the list holding it).
    pub at: u64,
}

/// What the eth protocol needs to know about a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainSpec {
    /// Human-readable name.
    pub name: String,
    /// devp2p network id, exchanged in Status.
    pub network_id: u64,
    /// EIP-155 chain id used by transaction signatures.
    pub chain_id: u64,
    /// Hash of the genesis header.
    pub genesis_hash: B256,
    /// Genesis timestamp: time forks at or before it are active from the start.
    pub genesis_timestamp: u64,
    /// Genesis difficulty: the total difficulty of a node that has only the genesis.
    pub genesis_difficulty: U256,
    /// Forks activated by block number.
    pub fork_blocks: Vec<ScheduledFork>,
    /// Forks activated by timestamp.
    pub fork_times: Vec<ScheduledFork>,
    /// True once consensus moved to the beacon chain: NewBlock and NewBlockHashes are no
    /// longer gossiped and are a protocol violation if received (go-ethereum behaviour).
    pub post_merge: bool,
    /// The fork rules, when known (a genesis file, the devnet): what the header rules and
    /// the block import check blocks against.
    pub config: Option<ChainConfig>,
    /// The genesis header, when known: the chain store starts from it and serves block 0.
    pub genesis: Option<Header>,
}

/// Builds a fork list from `(name, at)` pairs.
fn forks(list: &[(&str, u64)]) -> Vec<ScheduledFork> {
    list.iter()
        .map(|&(name, at)| ScheduledFork {
            name: name.to_string(),
            at,
        })
        .collect()
}

/// The fork-at-genesis block forks of networks launched after London.
const ALL_BLOCK_FORKS_TO_LONDON: [&str; 9] = [
    "Homestead",
    "EIP150",
    "EIP155",
    "EIP158",
    "Byzantium",
    "Constantinople",
    "Petersburg",
    "Istanbul",
    "Berlin",
];

/// Block forks all at 0, then London at 0.
fn genesis_block_forks() -> Vec<(&'static str, u64)> {
    let mut v: Vec<(&'static str, u64)> =
        ALL_BLOCK_FORKS_TO_LONDON.iter().map(|&n| (n, 0)).collect();
    v.push(("London", 0));
    v
}

/// EIP-7685 `requests_hash` of an empty request list: SHA-256 of nothing.
pub const EMPTY_REQUESTS_HASH: B256 = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Network id (and chain id) of the paxeer devnet. Not 229: that is the chain id of the
/// public Paxeer Network. 22922 was not found in the chain lists we searched; check
/// chainlist.org before using the devnet on a shared network.
pub const PAXEER_DEVNET_NETWORK_ID: u64 = 22_922;

/// Genesis timestamp of the paxeer devnet: 2026-01-01T00:00:00Z.
pub const PAXEER_DEVNET_GENESIS_TIMESTAMP: u64 = 1_767_225_600;

/// Gas limit of the devnet genesis (the mainnet target at the time of writing).
const PAXEER_DEVNET_GAS_LIMIT: u64 = 30_000_000;

/// EIP-1559 `INITIAL_BASE_FEE` (1 gwei), the base fee of a genesis with London active.
const INITIAL_BASE_FEE_WEI: u64 = 1_000_000_000;

/// EIP-4844 blob parameters of Cancun (go-ethereum `params/config.go`
/// `DefaultCancunBlobConfig`).
pub const CANCUN_BLOB_PARAMS: BlobParams = BlobParams {
    target: 3,
    max: 6,
    update_fraction: 3_338_477,
};

/// EIP-7691 blob parameters of Prague (go-ethereum `params/config.go`
/// `DefaultPragueBlobConfig`).
pub const PRAGUE_BLOB_PARAMS: BlobParams = BlobParams {
    target: 6,
    max: 9,
    update_fraction: 5_007_716,
};

/// The fork rules of the paxeer devnet: every block fork through London at 0, Shanghai,
/// Cancun and Prague at time 0, no terminal difficulty (blocks are still gossiped).
pub fn paxeer_devnet_config() -> ChainConfig {
    let mut c = ChainConfig::all_blocks_at_genesis(
        PAXEER_DEVNET_NETWORK_ID,
        &[
            (TimeFork::Shanghai, 0),
            (TimeFork::Cancun, 0),
            (TimeFork::Prague, 0),
        ],
    );
    c.blob_schedule.cancun = Some(CANCUN_BLOB_PARAMS);
    c.blob_schedule.prague = Some(PRAGUE_BLOB_PARAMS);
    c
}

/// The paxeer devnet genesis header: an empty state, every fork through Prague active, and
/// difficulty 1 because the devnet still propagates blocks the pre-merge way.
pub fn paxeer_devnet_genesis() -> Header {
    Header {
        parent_hash: [0; 32],
        ommers_hash: EMPTY_UNCLES_HASH,
        beneficiary: [0; 20],
        state_root: EMPTY_ROOT_HASH,
        transactions_root: EMPTY_ROOT_HASH,
        receipts_root: EMPTY_ROOT_HASH,
        logs_bloom: Box::new([0; 256]),
        difficulty: U256::from_u64(1),
        number: 0,
        gas_limit: PAXEER_DEVNET_GAS_LIMIT,
        gas_used: 0,
        timestamp: PAXEER_DEVNET_GENESIS_TIMESTAMP,
        extra_data: b"paxeer-p2p devnet".to_vec(),
        mix_hash: [0; 32],
        nonce: [0; 8],
        base_fee_per_gas: Some(U256::from_u64(INITIAL_BASE_FEE_WEI)),
        withdrawals_root: Some(EMPTY_ROOT_HASH),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some([0; 32]),
        requests_hash: Some(EMPTY_REQUESTS_HASH),
        block_access_list_hash: None,
        slot_number: None,
    }
}

/// The mainnet genesis header (block 0): the fields every mainnet node serves for it
/// (go-ethereum `core/genesis.go`, default genesis: nonce 0x42, the well-known extra data,
/// gas limit 5000, difficulty 2^34) with the state root of the genesis allocation.
pub fn mainnet_genesis() -> Header {
    Header {
        ommers_hash: EMPTY_UNCLES_HASH,
        state_root: hash("d7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544"),
        transactions_root: EMPTY_ROOT_HASH,
        receipts_root: EMPTY_ROOT_HASH,
        difficulty: U256::from_u64(17_179_869_184),
        gas_limit: 5000,
        extra_data: hash("11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa")
            .to_vec(),
        nonce: 0x42u64.to_be_bytes(),
        ..Header::default()
    }
}

/// The genesis header with hash `genesis_hash`, when it is one this crate knows (mainnet, the
/// paxeer devnet): a node can then serve block 0. A spec built from a genesis file carries
/// its header in [`ChainSpec::genesis`] instead.
pub fn known_genesis(genesis_hash: &B256) -> Option<Header> {
    [mainnet_genesis(), paxeer_devnet_genesis()]
        .into_iter()
        .find(|h| &h.hash() == genesis_hash)
}

/// Parses a 64-digit hex constant (used only on the literals below).
#[allow(clippy::indexing_slicing)] // Evaluated at compile time: a bad index fails the build.
const fn hash(hex: &str) -> B256 {
    let b = hex.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// One hex digit (compile-time only; a bad digit fails the build).
const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("bad hex digit in a chainspec constant"),
    }
}

/// Mainnet genesis hash.
pub const MAINNET_GENESIS_HASH: B256 =
    hash("d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3");
/// Sepolia genesis hash.
pub const SEPOLIA_GENESIS_HASH: B256 =
    hash("25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9");
/// Holesky genesis hash.
pub const HOLESKY_GENESIS_HASH: B256 =
    hash("b5f7f912443c940f21fd611f12828d75b534364ed9e95ca4e307729a4661bde4");
/// Hoodi genesis hash.
pub const HOODI_GENESIS_HASH: B256 =
    hash("bbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b");

impl ChainSpec {
    /// Ethereum mainnet.
    pub fn mainnet() -> Self {
        ChainSpec {
            name: "mainnet".into(),
            network_id: 1,
            chain_id: 1,
            genesis_hash: MAINNET_GENESIS_HASH,
            genesis_timestamp: 0,
            genesis_difficulty: U256::from_u64(17_179_869_184),
            fork_blocks: forks(&[
                ("Homestead", 1_150_000),
                ("DAO", 1_920_000),
                ("EIP150", 2_463_000),
                ("EIP155", 2_675_000),
                ("EIP158", 2_675_000),
                ("Byzantium", 4_370_000),
                ("Constantinople", 7_280_000),
                ("Petersburg", 7_280_000),
                ("Istanbul", 9_069_000),
                ("MuirGlacier", 9_200_000),
                ("Berlin", 12_244_000),
                ("London", 12_965_000),
                ("ArrowGlacier", 13_773_000),
                ("GrayGlacier", 15_050_000),
            ]),
            fork_times: forks(&[
                ("Shanghai", 1_681_338_455),
                ("Cancun", 1_710_338_135),
                ("Prague", 1_746_612_311),
                ("Osaka", 1_764_798_551),
                ("BPO1", 1_765_290_071),
                ("BPO2", 1_767_747_671),
            ]),
            post_merge: true,
            config: None,
            genesis: Some(mainnet_genesis()),
        }
    }

    /// The Sepolia testnet.
    pub fn sepolia() -> Self {
        let mut blocks = genesis_block_forks();
        blocks.push(("MergeNetsplit", 1_735_371));
        ChainSpec {
            name: "sepolia".into(),
            network_id: 11_155_111,
            chain_id: 11_155_111,
            genesis_hash: SEPOLIA_GENESIS_HASH,
            genesis_timestamp: 1_633_267_481,
            genesis_difficulty: U256::from_u64(0x20000),
            fork_blocks: forks(&blocks),
            fork_times: forks(&[
                ("Shanghai", 1_677_557_088),
                ("Cancun", 1_706_655_072),
                ("Prague", 1_741_159_776),
                ("Osaka", 1_760_427_360),
                ("BPO1", 1_761_017_184),
                ("BPO2", 1_761_607_008),
            ]),
            post_merge: true,
            config: None,
            genesis: None,
        }
    }

    /// The Holesky testnet.
    pub fn holesky() -> Self {
        ChainSpec {
            name: "holesky".into(),
            network_id: 17_000,
            chain_id: 17_000,
            genesis_hash: HOLESKY_GENESIS_HASH,
            genesis_timestamp: 1_695_902_100,
            genesis_difficulty: U256::from_u64(1),
            fork_blocks: forks(&genesis_block_forks()),
            fork_times: forks(&[
                ("Shanghai", 1_696_000_704),
                ("Cancun", 1_707_305_664),
                ("Prague", 1_740_434_112),
                ("Osaka", 1_759_308_480),
                ("BPO1", 1_759_800_000),
                ("BPO2", 1_760_389_824),
            ]),
            post_merge: true,
            config: None,
            genesis: None,
        }
    }

    /// The Hoodi testnet.
    pub fn hoodi() -> Self {
        let mut blocks = genesis_block_forks();
        blocks.push(("MergeNetsplit", 0));
        ChainSpec {
            name: "hoodi".into(),
            network_id: 560_048,
            chain_id: 560_048,
            genesis_hash: HOODI_GENESIS_HASH,
            genesis_timestamp: 1_742_212_800,
            genesis_difficulty: U256::from_u64(1),
            fork_blocks: forks(&blocks),
            fork_times: forks(&[
                ("Shanghai", 0),
                ("Cancun", 0),
                ("Prague", 1_742_999_832),
                ("Osaka", 1_761_677_592),
                ("BPO1", 1_762_365_720),
                ("BPO2", 1_762_955_544),
            ]),
            post_merge: true,
            config: None,
            genesis: None,
        }
    }

    /// The default paxeer devnet: every fork active at genesis, blocks still gossiped.
    pub fn paxeer_devnet() -> Self {
        let genesis = paxeer_devnet_genesis();
        ChainSpec {
            name: "paxeer-devnet".into(),
            network_id: PAXEER_DEVNET_NETWORK_ID,
            chain_id: PAXEER_DEVNET_NETWORK_ID,
            genesis_hash: genesis.hash(),
            genesis_timestamp: genesis.timestamp,
            genesis_difficulty: genesis.difficulty,
            fork_blocks: forks(&genesis_block_forks()),
            fork_times: forks(&[("Shanghai", 0), ("Cancun", 0), ("Prague", 0)]),
            post_merge: false,
            config: Some(paxeer_devnet_config()),
            genesis: Some(genesis),
        }
    }

    /// The EIP-2124 filter of this chain.
    pub fn fork_filter(&self) -> ForkFilter {
        let blocks: Vec<u64> = self.fork_blocks.iter().map(|f| f.at).collect();
        let times: Vec<u64> = self.fork_times.iter().map(|f| f.at).collect();
        ForkFilter::new(&self.genesis_hash, self.genesis_timestamp, &blocks, &times)
    }

    /// The fork id to announce at `head`.
    pub fn fork_id(&self, head: Head) -> ForkId {
        self.fork_filter().fork_id(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keccak::keccak256;

    #[test]
    fn empty_requests_hash_is_sha256_of_nothing() {
        use sha2::Digest;
        let h: [u8; 32] = sha2::Sha256::digest([]).into();
        assert_eq!(h, EMPTY_REQUESTS_HASH);
    }

    #[test]
    fn devnet_genesis_hash_is_the_hash_of_its_header() {
        let spec = ChainSpec::paxeer_devnet();
        let g = paxeer_devnet_genesis();
        assert_eq!(spec.genesis_hash, keccak256(&g.encode()));
        // 15 base fields + 6 optional ones survive a decode.
        assert_eq!(Header::decode(&g.encode()).unwrap(), g);
        // Everything is active at genesis: the fork id is the bare genesis checksum.
        let id = spec.fork_id(Head::default());
        assert_eq!(id.next, 0);
        assert_eq!(
            u32::from_be_bytes(id.hash),
            crate::eth::forkid::crc32_update(0, &spec.genesis_hash)
        );
        assert!(!spec.post_merge);
    }

    #[test]
    fn mainnet_genesis_header_hashes_to_the_known_genesis_hash() {
        let h = mainnet_genesis();
        assert_eq!(h.hash(), MAINNET_GENESIS_HASH);
        assert_eq!(h.hash(), ChainSpec::mainnet().genesis_hash);
        assert_eq!(known_genesis(&MAINNET_GENESIS_HASH), Some(h));
        let d = paxeer_devnet_genesis();
        assert_eq!(known_genesis(&d.hash()), Some(d));
        assert_eq!(known_genesis(&[7; 32]), None);
    }
}
