//! End-to-end tests of `paxeer-p2p run`: identity across restarts, the admin JSON-RPC and
//! metrics endpoints, peer limits, graceful shutdown, and a tokio node peering with a smol
//! node. Each test runs real processes on loopback.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A daemon whose JSON stdout lines arrive on a channel; killed on drop.
struct Daemon {
    child: Child,
    lines: mpsc::Receiver<Value>,
    started: Value,
}

impl Daemon {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_paxeer-p2p"))
            .args(["--json", "run", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let mut d = Self {
            child,
            lines,
            started: Value::Null,
        };
        d.started = d.next("started");
        d
    }

    fn next(&self, event: &str) -> Value {
        loop {
            let v = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no {event} line"));
            if v["event"] == event {
                return v;
            }
        }
    }

    fn enode(&self) -> String {
        self.started["enode"].as_str().unwrap().to_string()
    }

    fn rpc(&self, method: &str, params: Value) -> Value {
        let addr = self.started["http"].as_str().unwrap();
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp = http(addr, "POST", "/", Some(&body.to_string()));
        let v: Value = serde_json::from_str(&resp).unwrap();
        v["result"].clone()
    }

    fn metrics(&self) -> String {
        http(
            self.started["metrics"].as_str().unwrap(),
            "GET",
            "/metrics",
            None,
        )
    }

    fn peers(&self) -> Vec<Value> {
        self.rpc("admin_peers", json!([]))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// SIGINT, then waits for the exit status.
    fn interrupt(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        let _ = self.next("stopped");
        self.child.wait().unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request; returns the body.
fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

const ADMIN: [&str; 6] = [
    "--http",
    "--http.port",
    "0",
    "--metrics",
    "--metrics.port",
    "0",
];

fn metric(text: &str, line_prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn identity_persists_across_restarts_and_runtimes_and_endpoints_answer() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().to_str().unwrap();
    let mut args = vec![
        "--datadir",
        datadir,
        "--nodiscover",
        "--identity",
        "persist",
    ];
    args.extend(ADMIN);
    let a = Daemon::start(&args);
    let enode = a.enode();
    let info = a.rpc("admin_nodeInfo", json!([]));
    assert_eq!(info["enode"], enode);
    assert!(
        info["name"].as_str().unwrap().contains("/persist/"),
        "{info}"
    );
    assert_eq!(a.rpc("net_listening", json!([])), true);
    assert_eq!(a.rpc("net_peerCount", json!([])), "0x0");
    let m = a.metrics();
    assert!(m.contains("p2p_peers{direction=\"inbound\"} 0"), "{m}");
    assert!(a.interrupt().success());
    // The key file is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("nodekey"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    args.extend(["--runtime", "smol"]);
    let b = Daemon::start(&args);
    let id = |e: &str| e.split('@').next().unwrap().to_string();
    assert_eq!(id(&b.enode()), id(&enode), "same datadir, same identity");
    assert!(b.interrupt().success());
}

#[test]
fn tokio_and_smol_daemons_find_and_list_each_other_then_part_gracefully() {
    let mut a_args = vec!["--runtime", "tokio", "--identity", "tok"];
    a_args.extend(ADMIN);
    let a = Daemon::start(&a_args);
    let enode = a.enode();
    let mut b_args = vec![
        "--runtime",
        "smol",
        "--identity",
        "smo",
        "--bootnodes",
        &enode,
    ];
    b_args.extend(ADMIN);
    let b = Daemon::start(&b_args);
    assert!(wait_until(Duration::from_secs(20), || a.peers().len() == 1
        && b.peers().len() == 1));
    let pa = &a.peers()[0];
    assert!(pa["name"].as_str().unwrap().contains("/smo/"), "{pa}");
    assert_eq!(pa["caps"], json!(["eth/69", "ping/1"]));
    // The eth Status handshake completed: both ends agree on the devnet.
    assert!(wait_until(Duration::from_secs(10), || a.peers()[0]
        ["protocols"]["eth"]["ready"]
        == true));
    let info = a.rpc("admin_nodeInfo", json!([]));
    let eth = &info["protocols"]["eth"];
    assert_eq!(eth["network"], 22922, "{info}");
    assert_eq!(eth["headNumber"], 0);
    assert_eq!(eth["forkId"]["hash"].as_str().unwrap().len(), 10);
    assert_eq!(b.rpc("net_peerCount", json!([])), "0x1");
    assert!(wait_until(Duration::from_secs(10), || {
        metric(&a.metrics(), "p2p_ingress_messages_total{protocol=\"ping\"") >= 1.0
    }));
    // Discovery traffic is counted by packet type.
    let m = a.metrics();
    assert!(
        metric(
            &m,
            "p2p_discovery_packets_total{direction=\"in\",kind=\"ping\"}"
        ) >= 1.0,
        "{m}"
    );
    assert!(metric(&m, "p2p_discovery_table_nodes{bucket=") >= 0.0);
    assert!(
        metric(&m, "p2p_eth_events_total{event=\"handshake_ok\"}") >= 1.0,
        "{m}"
    );
    // a leaves: b hears "client quitting".
    assert!(a.interrupt().success());
    assert!(wait_until(Duration::from_secs(10), || b.peers().is_empty()));
    assert!(b
        .metrics()
        .contains("p2p_disconnects_total{reason=\"client_quitting\",side=\"received\"} 1"));
}

#[test]
fn maxpeers_two_keeps_two_of_five_dialers_and_refuses_the_rest_with_too_many_peers() {
    let mut args = vec!["--nodiscover", "--maxpeers", "2"];
    args.extend(ADMIN);
    let hub = Daemon::start(&args);
    let list = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(list.path(), json!([hub.enode()]).to_string()).unwrap();
    let path = list.path().to_str().unwrap().to_string();
    let dialers: Vec<Daemon> = (0..5)
        .map(|i| {
            let rt = if i % 2 == 0 { "tokio" } else { "smol" };
            Daemon::start(&["--nodiscover", "--static-nodes", &path, "--runtime", rt])
        })
        .collect();
    assert!(wait_until(Duration::from_secs(20), || {
        metric(
            &hub.metrics(),
            "p2p_disconnects_total{reason=\"too_many_peers\",side=\"sent\"}",
        ) >= 3.0
    }));
    assert_eq!(hub.peers().len(), 2);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(hub.peers().len(), 2, "the limit holds while dialers retry");
    drop(dialers);
}

#[test]
fn admin_api_on_a_public_address_is_refused_without_the_opt_in() {
    let out = Command::new(env!("CARGO_BIN_EXE_paxeer-p2p"))
        .args(["run", "--port", "0", "--http", "--http.addr", "0.0.0.0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--http.allow-nonloopback"), "{err}");
}
