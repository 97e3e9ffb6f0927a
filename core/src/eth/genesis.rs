//! A go-ethereum genesis specification (the fields of `core.Genesis` besides the allocation)
//! and the genesis header built from it exactly as go-ethereum v1.17.10
//! `core/genesis.go` `Genesis.toBlockWithRoot` builds it. The state root of the allocation
//! is computed by the caller (the node, with a Merkle-Patricia trie crate) and passed in.

use crate::eth::block::Header;
use crate::eth::chainconfig::{ChainConfig, TimeFork};
use crate::eth::chainspec::{ChainSpec, EMPTY_REQUESTS_HASH};
use crate::eth::primitives::{Address, B256, EMPTY_ROOT_HASH, EMPTY_UNCLES_HASH, U256};

/// `params.GenesisGasLimit`, used when the genesis gas limit is 0 (go-ethereum
/// `params/protocol_params.go`).
pub const GENESIS_GAS_LIMIT: u64 = 4_712_388;

/// `params.GenesisDifficulty` (go-ethereum `params/protocol_params.go`).
pub const GENESIS_DIFFICULTY: u64 = 131_072;

/// `params.InitialBaseFee`, wei: the base fee of a genesis with London at block 0
/// (go-ethereum `params/protocol_params.go`).
pub const INITIAL_BASE_FEE_WEI: u64 = 1_000_000_000;

/// `types.EmptyBlockAccessListHash`: keccak of the empty RLP list (go-ethereum
/// `core/types/hashes.go`).
pub const EMPTY_BLOCK_ACCESS_LIST_HASH: B256 = EMPTY_UNCLES_HASH;

/// The header-relevant part of a genesis file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Genesis {
    /// The chain's fork rules (`config`).
    pub config: ChainConfig,
    /// Whether `config.ethash` is present (changes the default difficulty).
    pub ethash: bool,
    /// PoW nonce.
    pub nonce: u64,
    /// Unix time of the genesis block.
    pub timestamp: u64,
    /// Extra data.
    pub extra_data: Vec<u8>,
    /// Gas limit; 0 means [`GENESIS_GAS_LIMIT`].
    pub gas_limit: u64,
    /// Difficulty; `None` picks go-ethereum's default.
    pub difficulty: Option<U256>,
    /// Mix hash.
    pub mix_hash: B256,
    /// Coinbase.
    pub coinbase: Address,
    /// Block number (0 for a real genesis).
    pub number: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Parent hash.
    pub parent_hash: B256,
    /// Base fee, if given.
    pub base_fee: Option<U256>,
    /// Excess blob gas, if given.
    pub excess_blob_gas: Option<u64>,
    /// Blob gas used, if given.
    pub blob_gas_used: Option<u64>,
    /// Beacon slot number (Amsterdam), if given.
    pub slot_number: Option<u64>,
}

impl Genesis {
    /// The genesis header over the state root `state_root`.
    pub fn header(&self, state_root: B256) -> Header {
        let cfg = &self.config;
        let (num, time) = (self.number, self.timestamp);
        let difficulty = match self.difficulty {
            Some(d) => d,
            // A config without ethash means a PoS or PoA chain: difficulty 0.
            None if !self.ethash => U256::ZERO,
            None if self.mix_hash == [0; 32] => U256::from_u64(GENESIS_DIFFICULTY),
            None => U256::ZERO,
        };
        let mut h = Header {
            parent_hash: self.parent_hash,
            ommers_hash: EMPTY_UNCLES_HASH,
            beneficiary: self.coinbase,
            state_root,
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            difficulty,
            number: num,
            gas_limit: if self.gas_limit == 0 {
                GENESIS_GAS_LIMIT
            } else {
                self.gas_limit
            },
            gas_used: self.gas_used,
            timestamp: time,
            extra_data: self.extra_data.clone(),
            mix_hash: self.mix_hash,
            nonce: self.nonce.to_be_bytes(),
            // go-ethereum copies a given base fee even before London.
            base_fee_per_gas: self.base_fee,
            ..Header::default()
        };
        // go-ethereum asks London at block 0, whatever the genesis number.
        if cfg.is_london(0) {
            h.base_fee_per_gas = Some(
                self.base_fee
                    .unwrap_or(U256::from_u64(INITIAL_BASE_FEE_WEI)),
            );
        }
        if cfg.time_active(TimeFork::Shanghai, num, time) {
            h.withdrawals_root = Some(EMPTY_ROOT_HASH);
        }
        if cfg.time_active(TimeFork::Cancun, num, time) {
            h.parent_beacon_block_root = Some([0; 32]);
            h.excess_blob_gas = Some(self.excess_blob_gas.unwrap_or(0));
            h.blob_gas_used = Some(self.blob_gas_used.unwrap_or(0));
        } else if self.excess_blob_gas.is_some() {
            // Allowed by go-ethereum "for testing purposes".
            h.excess_blob_gas = self.excess_blob_gas;
        }
        if cfg.time_active(TimeFork::Prague, num, time) {
            h.requests_hash = Some(EMPTY_REQUESTS_HASH);
        }
        if cfg.time_active(TimeFork::Amsterdam, num, time) {
            h.slot_number = Some(self.slot_number.unwrap_or(0));
            h.block_access_list_hash = Some(EMPTY_BLOCK_ACCESS_LIST_HASH);
        }
        h
    }

    /// Whether the chain is proof of stake from its genesis: a terminal total difficulty is
    /// set and the genesis difficulty (the total difficulty of block 0) reaches it.
    pub fn merged_at_genesis(&self, header: &Header) -> bool {
        self.config
            .terminal_total_difficulty
            .is_some_and(|ttd| header.difficulty >= ttd)
    }
}

impl ChainSpec {
    /// The spec of the chain `genesis` starts, with the genesis header over `state_root`.
    /// The network id is the chain id (a `--networkid` flag overrides it elsewhere).
    pub fn from_genesis(name: &str, genesis: &Genesis, state_root: B256) -> ChainSpec {
        let header = genesis.header(state_root);
        ChainSpec {
            name: name.to_string(),
            network_id: genesis.config.chain_id,
            chain_id: genesis.config.chain_id,
            genesis_hash: header.hash(),
            genesis_timestamp: header.timestamp,
            genesis_difficulty: header.difficulty,
            fork_blocks: genesis.config.scheduled_block_forks(),
            fork_times: genesis.config.scheduled_time_forks(),
            post_merge: genesis.merged_at_genesis(&header),
            config: Some(genesis.config.clone()),
            genesis: Some(header),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eth::chainconfig::BlockFork;

    fn pos_genesis() -> Genesis {
        let mut config = ChainConfig::all_blocks_at_genesis(
            7,
            &[
                (TimeFork::Shanghai, 0),
                (TimeFork::Cancun, 0),
                (TimeFork::Prague, 0),
                (TimeFork::Amsterdam, 10),
            ],
        );
        config.terminal_total_difficulty = Some(U256::ZERO);
        Genesis {
            config,
            gas_limit: 30_000_000,
            ..Genesis::default()
        }
    }

    #[test]
    fn header_has_the_fields_of_the_forks_active_at_genesis() {
        let g = pos_genesis();
        let h = g.header(EMPTY_ROOT_HASH);
        assert_eq!(h.difficulty, U256::ZERO);
        assert_eq!(
            h.base_fee_per_gas,
            Some(U256::from_u64(INITIAL_BASE_FEE_WEI))
        );
        assert_eq!(h.withdrawals_root, Some(EMPTY_ROOT_HASH));
        assert_eq!((h.blob_gas_used, h.excess_blob_gas), (Some(0), Some(0)));
        assert_eq!(h.parent_beacon_block_root, Some([0; 32]));
        assert_eq!(h.requests_hash, Some(EMPTY_REQUESTS_HASH));
        // Amsterdam at time 10 is not active at time 0.
        assert_eq!(h.block_access_list_hash, None);
        let mut later = g.clone();
        later.timestamp = 10;
        let h = later.header(EMPTY_ROOT_HASH);
        assert_eq!(h.block_access_list_hash, Some(EMPTY_BLOCK_ACCESS_LIST_HASH));
        assert_eq!(h.slot_number, Some(0));
        assert!(g.merged_at_genesis(&g.header(EMPTY_ROOT_HASH)));
    }

    #[test]
    fn defaults_follow_go_ethereum() {
        let mut g = Genesis {
            ethash: true,
            ..Genesis::default()
        };
        let h = g.header(EMPTY_ROOT_HASH);
        assert_eq!(h.gas_limit, GENESIS_GAS_LIMIT);
        assert_eq!(h.difficulty, U256::from_u64(GENESIS_DIFFICULTY));
        assert_eq!(h.base_fee_per_gas, None);
        assert_eq!(h.withdrawals_root, None);
        g.mix_hash = [1; 32];
        assert_eq!(g.header(EMPTY_ROOT_HASH).difficulty, U256::ZERO);
        g.ethash = false;
        g.mix_hash = [0; 32];
        assert_eq!(g.header(EMPTY_ROOT_HASH).difficulty, U256::ZERO);
        // Shanghai without London is not active.
        g.config = ChainConfig::all_blocks_at_genesis(1, &[(TimeFork::Shanghai, 0)]);
        for (f, at) in g.config.block_forks.iter_mut() {
            if *f == BlockFork::London {
                *at = None;
            }
        }
        assert_eq!(g.header(EMPTY_ROOT_HASH).withdrawals_root, None);
        assert!(!g.merged_at_genesis(&g.header(EMPTY_ROOT_HASH)));
    }

    #[test]
    fn spec_of_a_genesis_uses_its_chain_id_and_hash() {
        let g = pos_genesis();
        let spec = ChainSpec::from_genesis("t", &g, EMPTY_ROOT_HASH);
        assert_eq!((spec.network_id, spec.chain_id), (7, 7));
        assert_eq!(spec.genesis_hash, g.header(EMPTY_ROOT_HASH).hash());
        assert!(spec.post_merge);
        assert_eq!(spec.genesis, Some(g.header(EMPTY_ROOT_HASH)));
        // All at 0/genesis time but Amsterdam: the fork id's next is 10.
        let id = spec.fork_id(crate::eth::forkid::Head::default());
        assert_eq!(id.next, 10);
    }
}
