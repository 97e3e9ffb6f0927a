//! Unit tests of the host: see `core/tests/host_*.rs` for whole-network scenarios.
