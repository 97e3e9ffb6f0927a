//! What an idle established eth session costs the daemon, with 1,000 of them on one node:
//! the resident set before, with all of them connected (past the eth handshake), and after
//! they have all left. Issue 10's goal is at most 64 KiB per idle session, given back when
//! the peers leave. The figures are printed; the test fails when a session costs more.
//! What is given back is printed but not asserted yet: glibc's malloc keeps the freed memory
//! in its per-thread arenas (all of the ~31 MiB 1,000 sessions took on tokio stayed),
//! and returning it needs an allocator change (`malloc_trim` is unsafe code, which the
//! workspace forbids; mimalloc 0.1 kept even more), left for issue 10.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use paxeer_p2p_core::enode::Enode;
use paxeer_p2p_core::p2p::Capability;
use support::raw_peer::{rss_kib, RawPeer};
use support::{wait_until, Daemon, ADMIN};

/// Idle sessions opened.
const SESSIONS: usize = 1000;
/// Issue 10's bound on what one idle session may cost.
const PER_SESSION_KIB: u64 = 64;
/// eth's Status id after the p2p ids.
const ETH_STATUS: u64 = 0x10;

fn idle_sessions(runtime: &str) {
    let mut args = vec![
        "--nodiscover",
        "--maxpeers",
        "1600",
        "--maxpendpeers",
        "64",
        "--runtime",
        runtime,
    ];
    args.extend(ADMIN);
    let d = Daemon::start(&args);
    let e = Enode::from_str(&d.enode()).unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], e.tcp_port));
    let pid = d.child.id();
    // Warm up: one session in and out, so what is allocated once per process is not counted.
    drop(open(addr, e.id, 0));
    assert!(wait_until(Duration::from_secs(10), || d.peers().is_empty()));
    let before = rss_kib(pid);
    let peers: Vec<RawPeer> = (1..=SESSIONS).map(|i| open(addr, e.id, i)).collect();
    assert!(
        wait_until(Duration::from_secs(30), || d.peers().len() == SESSIONS),
        "{} of {SESSIONS} peers listed",
        d.peers().len()
    );
    std::thread::sleep(Duration::from_secs(1));
    let with = rss_kib(pid);
    drop(peers);
    assert!(wait_until(Duration::from_secs(30), || d.peers().is_empty()));
    std::thread::sleep(Duration::from_secs(1));
    let after = rss_kib(pid);
    let per = with.saturating_sub(before) / SESSIONS as u64;
    eprintln!(
        "[{runtime}] RSS before {before} KiB, with {SESSIONS} idle sessions {with} KiB \
         ({per} KiB each), after they left {after} KiB"
    );
    assert!(
        per <= PER_SESSION_KIB,
        "[{runtime}] {per} KiB per idle session"
    );
    assert!(d.interrupt().success());
}

/// One raw eth session past the Status exchange; key bytes cycle so every peer differs.
fn open(addr: SocketAddr, id: paxeer_p2p_core::types::PeerId, i: usize) -> RawPeer {
    let caps = vec![Capability::new("eth", 68), Capability::new("eth", 69)];
    let key = [
        u8::try_from(i % 250 + 1).unwrap(),
        u8::try_from(i / 250 + 1).unwrap(),
    ];
    let mut p = RawPeer::connect_with_key(addr, id, key, caps).unwrap();
    p.echo_status(ETH_STATUS).unwrap();
    p
}

#[test]
fn idle_sessions_on_tokio() {
    idle_sessions("tokio");
}

#[test]
fn idle_sessions_on_smol() {
    idle_sessions("smol");
}
