//! The sub-protocols the daemon registers on its host.

pub mod ping;
