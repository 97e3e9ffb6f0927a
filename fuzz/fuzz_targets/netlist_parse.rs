//! `Netlist::parse` on arbitrary text: never panics; what parses prints back to a list that
//! parses to the same networks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::netutil::Netlist;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(list) = Netlist::parse(s) {
        let again = Netlist::parse(&list.to_string()).expect("printed netlist parses");
        assert_eq!(again, list);
    }
});
