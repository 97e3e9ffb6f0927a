//! `geth export` block files on arbitrary bytes: the stream splitter, the block decoder and
//! the header and body rules (each block checked against the previous one) never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::eth::block::Block;
use paxeer_p2p_core::eth::chainspec::{paxeer_devnet_config, paxeer_devnet_genesis};
use paxeer_p2p_core::eth::header_rules::{check_block_size, check_body, check_header};
use paxeer_p2p_node::eth::import_file::BlockFileReader;

fuzz_target!(|data: &[u8]| {
    let cfg = paxeer_devnet_config();
    let mut parent = paxeer_devnet_genesis();
    let mut r = BlockFileReader::new(Box::new(std::io::Cursor::new(data.to_vec())));
    while let Ok(Some(raw)) = r.next_block() {
        assert!(raw.len() <= data.len());
        let Ok(block) = Block::decode(&raw) else {
            return;
        };
        let _ = check_header(&cfg, &parent, &block.header);
        let _ = check_body(&block.header, &block.body);
        let _ = check_block_size(&cfg, &block.header, raw.len());
        parent = block.header;
    }
});
