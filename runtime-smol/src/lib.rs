//! Drives the paxeer-p2p core over smol.
