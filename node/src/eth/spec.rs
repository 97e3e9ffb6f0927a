//! Chain selection: a built-in chain by name (`devnet`, `mainnet`, `sepolia`) or a
//! go-ethereum genesis file, the JSON `geth init` reads (see [`crate::eth::genesis`]).

use std::path::Path;

use paxeer_p2p_core::eth::ChainSpec;

use crate::eth::genesis::chain_spec_of_genesis;

/// Largest genesis file read, bytes: large test allocations stay well below it.
const MAX_GENESIS_FILE_BYTES: u64 = 256 << 20;

/// The chain named by `--chain` (default: the paxeer devnet): a built-in name or the path
/// of a go-ethereum genesis.json.
pub fn load_chain(chain: Option<&str>) -> Result<ChainSpec, String> {
    match chain.unwrap_or("devnet") {
        "devnet" | "paxeer-devnet" => Ok(ChainSpec::paxeer_devnet()),
        "mainnet" => Ok(ChainSpec::mainnet()),
        "sepolia" => Ok(ChainSpec::sepolia()),
        path => load_genesis_file(Path::new(path)),
    }
}

/// The chain a go-ethereum genesis file starts, named after the file.
pub fn load_genesis_file(path: &Path) -> Result<ChainSpec, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("chain {}: {e}", path.display()))?;
    if meta.len() > MAX_GENESIS_FILE_BYTES {
        return Err(format!("genesis file {} is too large", path.display()));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("chain {}: {e}", path.display()))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "custom".into());
    chain_spec_of_genesis(&name, &text).map_err(|e| format!("genesis file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_chains_and_a_genesis_file() {
        assert_eq!(
            load_chain(None).unwrap().network_id,
            ChainSpec::paxeer_devnet().network_id
        );
        assert_eq!(load_chain(Some("mainnet")).unwrap().network_id, 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mynet.json");
        std::fs::write(
            &path,
            r#"{"config":{"chainId":4242,"londonBlock":0},"gasLimit":"0x1000000","difficulty":"1","alloc":{}}"#,
        )
        .unwrap();
        let spec = load_chain(Some(path.to_str().unwrap())).unwrap();
        assert_eq!((spec.name.as_str(), spec.network_id), ("mynet", 4242));
        assert_eq!(
            spec.genesis.as_ref().map(|g| g.hash()),
            Some(spec.genesis_hash)
        );
        let missing = dir.path().join("nope.json");
        assert!(load_chain(Some(missing.to_str().unwrap())).is_err());
    }
}
