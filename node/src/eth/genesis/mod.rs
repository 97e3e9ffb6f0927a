//! go-ethereum genesis files: parsing (`json.rs`) and the allocation's state root
//! (`state_root.rs`), giving the [`ChainSpec`] of the chain the file starts.

pub mod json;
pub mod state_root;

#[cfg(test)]
mod tests;

use paxeer_p2p_core::eth::ChainSpec;

/// The spec of the chain a genesis JSON document starts, named `name`.
pub fn chain_spec_of_genesis(name: &str, text: &str) -> Result<ChainSpec, String> {
    let file = json::parse_genesis(text)?;
    let root = state_root::state_root(&file.alloc);
    Ok(ChainSpec::from_genesis(name, &file.genesis, root))
}
