//! Operator files on arbitrary text: `parse_config_toml`, then (when it parses) the merge and
//! validation into `Settings`, and the static/trusted node list parser never panic; settings
//! that resolve keep their invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_node::config::{parse_config_toml, RunArgs, Settings, MAX_PEERS_LIMIT};
use paxeer_p2p_node::enode_list::parse_enode_list;

fuzz_target!(|data: &[u8]| {
    let _ = parse_enode_list(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = parse_config_toml(text) else {
        return;
    };
    if let Ok(s) = Settings::resolve(&RunArgs::default(), &file) {
        assert!(s.max_peers <= MAX_PEERS_LIMIT);
        assert!(s.max_pending_peers >= 1 && s.dial_ratio >= 1 && s.verbosity <= 5);
        for addr in s.http.iter().chain(s.metrics.iter()) {
            assert!(s.allow_nonloopback || addr.ip().to_canonical().is_loopback());
        }
        let _ = s.client_id();
    }
});
