//! go-ethereum genesis files on arbitrary text: parsing, the state root of the allocation
//! and the genesis header never panic; a parsed genesis gives a spec whose hash is its
//! header's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_node::eth::genesis::chain_spec_of_genesis;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = chain_spec_of_genesis("fuzz", text) {
        let g = spec.genesis.as_ref().map(|g| g.hash());
        assert_eq!(g, Some(spec.genesis_hash));
        assert_eq!(spec.network_id, spec.chain_id);
    }
});
