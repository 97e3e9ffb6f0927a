//! End-to-end test of the accept backoff: a `paxeer-p2p run` process whose file-descriptor
//! limit is lowered (with `prlimit` from util-linux) and whose listener is then flooded, so
//! `accept` fails with `EMFILE`. The node must not spin, must keep serving a peer it already
//! had, must count the failures, and must accept again once the flood is gone. Both runtimes.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{metric, wait_until, Daemon, ADMIN};

/// Connections opened against the limited node: far more than the free descriptors it has,
/// and fewer than the listen backlog (128), so every connect completes at once.
const FLOOD: usize = 64;
/// Descriptors left free above those the node holds when the limit is lowered (fewer than
/// the pending handshakes one source may hold, so the flood exhausts them).
const HEADROOM: usize = 2;
/// Largest share of one core the node may use while accept keeps failing (a busy loop
/// takes all of one).
const MAX_CPU_SHARE: f64 = 0.25;

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name is in parentheses and may hold spaces: fields count from after it.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // Fields 14 and 15 of stat(5); `rest` starts at field 3.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn clock_ticks_per_second() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

fn have_prlimit() -> bool {
    Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Sets the soft `RLIMIT_NOFILE` of `pid` to `soft`.
fn lower_fd_limit(pid: u32, soft: usize) {
    let status = Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--nofile={soft}:")])
        .status()
        .unwrap();
    assert!(status.success(), "prlimit failed");
}

/// A GET that may fail (the node may not accept yet): the whole response, if any.
fn try_get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/1.1 200").then_some(out)
}

fn pongs(d: &Daemon) -> u64 {
    d.peers()
        .first()
        .and_then(|p| p["protocols"]["ping"]["pongs"].as_u64())
        .unwrap_or(0)
}

fn exhausted_listener_backs_off_and_keeps_serving(runtime: &str) {
    if !have_prlimit() {
        eprintln!("skipped: prlimit (util-linux) is not installed");
        return;
    }
    let mut args = vec![
        "--nodiscover",
        "--runtime",
        runtime,
        "--identity",
        "limited",
    ];
    args.extend(ADMIN);
    let a = Daemon::start(&args);
    let list = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(list.path(), json!([a.enode()]).to_string()).unwrap();
    let path = list.path().to_str().unwrap().to_string();
    let mut b_args = vec!["--nodiscover", "--static-nodes", &path];
    b_args.extend(ADMIN);
    let b = Daemon::start(&b_args);
    assert!(wait_until(Duration::from_secs(20), || a.peers().len() == 1
        && b.peers().len() == 1));
    assert!(wait_until(Duration::from_secs(10), || pongs(&b) >= 1));
    let metrics_addr = a.started["metrics"].as_str().unwrap().to_string();

    let pid = a.child.id();
    lower_fd_limit(pid, open_fds(pid) + HEADROOM);
    let p2p: SocketAddr = a.enode().rsplit('@').next().unwrap().parse().unwrap();
    let flood: Vec<TcpStream> = (0..FLOOD)
        .filter_map(|_| TcpStream::connect_timeout(&p2p, Duration::from_secs(2)).ok())
        .collect();
    assert_eq!(flood.len(), FLOOD, "the backlog takes the whole flood");
    // Let the node take what it can; every accept after that fails.
    std::thread::sleep(Duration::from_secs(1));

    let (ticks0, wall0) = (cpu_ticks(pid), Instant::now());
    let pongs0 = pongs(&b);
    std::thread::sleep(Duration::from_secs(4));
    let cpu = (cpu_ticks(pid) - ticks0) as f64 / clock_ticks_per_second();
    let share = cpu / wall0.elapsed().as_secs_f64();
    eprintln!(
        "{runtime}: {:.1} % of a core while accept failed",
        share * 100.0
    );
    assert!(
        share < MAX_CPU_SHARE,
        "{runtime}: the node used {:.0} % of a core while accept failed",
        share * 100.0
    );
    // The established peer is still served: b's pings (every 15 s) keep being answered.
    assert!(
        wait_until(Duration::from_secs(20), || pongs(&b) > pongs0),
        "{runtime}: no pong while the listener was exhausted"
    );
    assert_eq!(b.peers().len(), 1);

    drop(flood);
    // Accepting works again: the admin endpoints answer (their own listeners shared the
    // limit), the failures were counted, and a new peer gets in.
    assert!(wait_until(Duration::from_secs(20), || {
        try_get(&metrics_addr, "/metrics")
            .is_some_and(|m| metric(&m, "p2p_accept_errors_total{kind=\"fd_limit\"}") >= 1.0)
    }));
    let mut c_args = vec![
        "--nodiscover",
        "--static-nodes",
        &path,
        "--runtime",
        runtime,
    ];
    c_args.extend(ADMIN);
    let c = Daemon::start(&c_args);
    assert!(
        wait_until(Duration::from_secs(30), || a.peers().len() == 2),
        "{runtime}: no new peer after the flood"
    );
    drop(c);
    drop(b);
    assert!(a.interrupt().success());
}

#[test]
fn tokio_node_out_of_descriptors_backs_off_and_keeps_serving() {
    exhausted_listener_backs_off_and_keeps_serving("tokio");
}

#[test]
fn smol_node_out_of_descriptors_backs_off_and_keeps_serving() {
    exhausted_listener_backs_off_and_keeps_serving("smol");
}
