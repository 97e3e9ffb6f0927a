//! Chain selection: the built-in chains by name, or a custom chain file (JSON):
//!
//! ```json
//! { "name": "mynet", "networkId": 4242, "chainId": 4242,
//!   "genesisHash": "0x…32 bytes…", "genesisTimestamp": 0, "genesisDifficulty": 1,
//!   "forkBlocks": [["Homestead", 0], ["London", 0]], "forkTimes": [["Shanghai", 0]],
//!   "postMerge": false }
//! ```

use std::path::Path;

use paxeer_p2p_core::eth::chainspec::ScheduledFork;
use paxeer_p2p_core::eth::{ChainSpec, U256};
use serde::Deserialize;

/// Largest chain file read.
const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ChainFile {
    name: String,
    network_id: u64,
    chain_id: u64,
    genesis_hash: String,
    #[serde(default)]
    genesis_timestamp: u64,
    #[serde(default)]
    genesis_difficulty: u64,
    #[serde(default)]
    fork_blocks: Vec<(String, u64)>,
    #[serde(default)]
    fork_times: Vec<(String, u64)>,
    #[serde(default)]
    post_merge: bool,
}

/// The chain named by `--chain` (default: the paxeer devnet).
pub fn load_chain(chain: Option<&str>) -> Result<ChainSpec, String> {
    match chain.unwrap_or("devnet") {
        "devnet" | "paxeer-devnet" => Ok(ChainSpec::paxeer_devnet()),
        "mainnet" => Ok(ChainSpec::mainnet()),
        "sepolia" => Ok(ChainSpec::sepolia()),
        path => load_file(Path::new(path)),
    }
}

fn load_file(path: &Path) -> Result<ChainSpec, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("chain {}: {e}", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("chain file {} is too large", path.display()));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("chain {}: {e}", path.display()))?;
    parse_chain_file(&text).map_err(|e| format!("chain file {}: {e}", path.display()))
}

/// Parses a custom chain file.
pub fn parse_chain_file(text: &str) -> Result<ChainSpec, String> {
    let f: ChainFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let hex = f.genesis_hash.trim_start_matches("0x");
    let bytes = hex::decode(hex).map_err(|_| "genesisHash is not hex".to_string())?;
    let genesis_hash: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "genesisHash must be 32 bytes".to_string())?;
    let forks = |list: Vec<(String, u64)>| {
        list.into_iter()
            .map(|(name, at)| ScheduledFork { name, at })
            .collect()
    };
    let mut difficulty = [0u8; 32];
    difficulty[24..].copy_from_slice(&f.genesis_difficulty.to_be_bytes());
    Ok(ChainSpec {
        name: f.name,
        network_id: f.network_id,
        chain_id: f.chain_id,
        genesis_hash,
        genesis_timestamp: f.genesis_timestamp,
        genesis_difficulty: U256(difficulty),
        fork_blocks: forks(f.fork_blocks),
        fork_times: forks(f.fork_times),
        post_merge: f.post_merge,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_chains_and_a_custom_file() {
        assert_eq!(
            load_chain(None).unwrap().network_id,
            ChainSpec::paxeer_devnet().network_id
        );
        assert_eq!(load_chain(Some("mainnet")).unwrap().network_id, 1);
        let spec = parse_chain_file(
            r#"{"name":"t","networkId":7,"chainId":8,"genesisHash":"0x0101010101010101010101010101010101010101010101010101010101010101","forkBlocks":[["Homestead",0],["London",5]],"postMerge":true}"#,
        )
        .unwrap();
        assert_eq!((spec.network_id, spec.chain_id), (7, 8));
        assert_eq!(spec.genesis_hash, [1u8; 32]);
        assert_eq!(spec.fork_blocks.len(), 2);
        assert!(spec.post_merge);
        for bad in [
            "{}",
            r#"{"name":"t","networkId":7,"chainId":8,"genesisHash":"0x01"}"#,
            r#"{"name":"t","networkId":7,"chainId":8,"genesisHash":"zz","extra":1}"#,
        ] {
            assert!(parse_chain_file(bad).is_err(), "{bad}");
        }
    }
}
