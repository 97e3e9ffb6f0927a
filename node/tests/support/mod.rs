//! Shared helpers of the node's end-to-end tests: a `paxeer-p2p run` process with its JSON
//! lines, HTTP requests to its admin API, and polling.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

pub mod geth;
pub mod raw_peer;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A daemon whose JSON stdout lines arrive on a channel; killed on drop.
pub struct Daemon {
    /// The process.
    pub child: Child,
    lines: mpsc::Receiver<Value>,
    /// Its `started` line.
    pub started: Value,
}

impl Daemon {
    pub fn start(args: &[&str]) -> Self {
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

    pub fn next(&self, event: &str) -> Value {
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

    pub fn enode(&self) -> String {
        self.started["enode"].as_str().unwrap().to_string()
    }

    pub fn rpc(&self, method: &str, params: Value) -> Value {
        let addr = self.started["http"].as_str().unwrap();
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp = http(addr, "POST", "/", Some(&body.to_string()));
        let v: Value = serde_json::from_str(&resp).unwrap();
        v["result"].clone()
    }

    pub fn metrics(&self) -> String {
        http(
            self.started["metrics"].as_str().unwrap(),
            "GET",
            "/metrics",
            None,
        )
    }

    pub fn peers(&self) -> Vec<Value> {
        self.rpc("admin_peers", json!([]))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// SIGINT, then waits for the exit status.
    pub fn interrupt(mut self) -> std::process::ExitStatus {
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
pub fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> String {
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

pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Flags that turn on the admin API and metrics on free ports.
pub const ADMIN: [&str; 6] = [
    "--http",
    "--http.port",
    "0",
    "--metrics",
    "--metrics.port",
    "0",
];

/// The value of the first metrics line starting with `line_prefix` (0 when absent).
pub fn metric(text: &str, line_prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
