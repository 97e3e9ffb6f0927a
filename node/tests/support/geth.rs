//! go-ethereum in the tests: the pinned `geth` and `devp2p` binaries installed by
//! `scripts/install-go-tools.sh`, the devp2p test chain from the installed module, a runner
//! for devp2p's conformance suites that reports every sub-test by name, and an engine-API
//! responder for `devp2p rlpx eth-test`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The go-ethereum version the tests pin (scripts/install-go-tools.sh installs it).
pub const GETH_VERSION: &str = "v1.17.10";

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Where the Go tools are: `$PAXEER_GO_TOOLS/bin`, else `<repo>/.tools/bin`.
fn tools_bin() -> PathBuf {
    std::env::var_os("PAXEER_GO_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools"))
        .join("bin")
}

fn tool(name: &str) -> PathBuf {
    let path = tools_bin().join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `bash scripts/install-go-tools.sh` (the README's test command does)",
        path.display()
    );
    path
}

/// The pinned `geth`.
pub fn geth() -> PathBuf {
    tool("geth")
}

/// The pinned `devp2p`.
pub fn devp2p() -> PathBuf {
    tool("devp2p")
}

/// go-ethereum's devp2p test chain (genesis.json, chain.rlp, headstate.json, …), read from
/// the module the install script downloaded; never copied into the repository.
pub fn testdata() -> PathBuf {
    let out = Command::new("go")
        .args(["env", "GOMODCACHE"])
        .output()
        .expect("go env GOMODCACHE");
    let cache = String::from_utf8(out.stdout).unwrap();
    let dir = Path::new(cache.trim())
        .join(format!("github.com/ethereum/go-ethereum@{GETH_VERSION}"))
        .join("cmd/devp2p/internal/ethtest/testdata");
    assert!(
        dir.join("chain.rlp").is_file(),
        "{} is missing: run `bash scripts/install-go-tools.sh`",
        dir.display()
    );
    dir
}

/// The outcome of one devp2p test.
#[derive(Clone, Debug)]
pub struct SubTest {
    /// Its name as devp2p prints it.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What it logged between its RUN and its result (the failure's explanation).
    pub log: String,
    /// Its duration as printed.
    pub duration: String,
}

/// Runs a devp2p test command and parses its report. The process is killed after `limit`
/// (one eth test waits without a deadline of its own); every line is echoed to stderr.
pub fn run_devp2p(args: &[String], limit: Duration) -> Vec<SubTest> {
    let mut child = Command::new(devp2p())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("devp2p");
    let (tx, rx) = mpsc::channel::<String>();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    drop(tx);
    let deadline = Instant::now() + limit;
    let mut results = Vec::new();
    let mut log = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                eprintln!("devp2p| {line}");
                if line.starts_with("-- RUN ") {
                    log.clear();
                } else if let Some(r) = parse_result(&line, &log) {
                    results.push(r);
                } else {
                    log.push_str(line.trim());
                    log.push('\n');
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                results.push(SubTest {
                    name: "(suite timeout)".into(),
                    passed: false,
                    log: format!("devp2p still running after {limit:?}; last output:\n{log}"),
                    duration: format!("{limit:?}"),
                });
                break;
            }
        }
    }
    let _ = child.wait();
    results
}

/// `-- OK Name (1.2ms)` or `-- FAIL Name (3s)`.
fn parse_result(line: &str, log: &str) -> Option<SubTest> {
    let (passed, rest) = if let Some(r) = line.strip_prefix("-- OK ") {
        (true, r)
    } else {
        (false, line.strip_prefix("-- FAIL ")?)
    };
    let (name, duration) = match rest.rsplit_once(" (") {
        Some((n, d)) => (n, d.trim_end_matches(')')),
        None => (rest, ""),
    };
    Some(SubTest {
        name: name.to_string(),
        passed,
        log: log.to_string(),
        duration: duration.to_string(),
    })
}

/// A test the suite has that our node does not run yet, with the reason.
pub struct NotRun {
    /// Its name.
    pub name: &'static str,
    /// Why (e.g. the eth version it needs and the issue that brings it).
    pub why: &'static str,
}

/// Checks a suite's results: every expected test ran and passed. Writes the results (with
/// the tests deliberately not run, and `notes` on tests whose pass says less than it
/// seems) to `target/conformance/<label>.json` for `scripts/conformance.sh`, then fails the
/// test naming every failure.
pub fn check_suite(
    label: &str,
    results: &[SubTest],
    expected: &[&str],
    not_run: &[NotRun],
    notes: &[NotRun],
) {
    let mut report = Vec::new();
    for r in results {
        let note = notes.iter().find(|n| n.name == r.name).map(|n| n.why);
        report.push(
            json!({"test": r.name, "result": if r.passed { "pass" } else { "fail" },
            "duration": r.duration, "log": r.log, "why": note}),
        );
    }
    for n in not_run {
        report.push(json!({"test": n.name, "result": "not run", "why": n.why}));
    }
    let dir = repo_root().join("target/conformance");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join(format!("{label}.json")),
        serde_json::to_string_pretty(&Value::Array(report)).unwrap(),
    );
    let mut problems = Vec::new();
    for name in expected {
        match results.iter().find(|r| r.name == *name) {
            None => problems.push(format!("{name}: did not run")),
            Some(r) if !r.passed => problems.push(format!("{name}: FAIL\n{}", r.log)),
            Some(_) => {}
        }
    }
    for r in results {
        if !r.passed && !expected.contains(&r.name.as_str()) {
            problems.push(format!("{}: FAIL\n{}", r.name, r.log));
        }
    }
    let passed = results.iter().filter(|r| r.passed).count();
    eprintln!("{label}: {passed}/{} passed", results.len());
    assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));
}

/// An HTTP responder standing in for an execution client's engine API: devp2p's eth-test
/// posts `engine_forkchoiceUpdatedV3` to "nudge the client out of syncing mode" and ignores
/// the answer (GETH.md §2.2); our node has no engine API, so any answer will do. It counts
/// the calls so a test can see that the suite reached it.
pub struct EngineStub {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Requests answered.
    pub calls: Arc<AtomicUsize>,
}

impl EngineStub {
    /// Starts the responder on a free loopback port, on a thread of its own.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 8192];
                let _ = s.read(&mut buf);
                counter.fetch_add(1, Ordering::SeqCst);
                let body =
                    r#"{"jsonrpc":"2.0","id":1,"result":{"payloadStatus":{"status":"SYNCING"}}}"#;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { addr, calls }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A JWT secret in the form devp2p's `--jwtsecret` takes.
pub const JWT_SECRET_HEX: &str =
    "0x7365637265747365637265747365637265747365637265747365637265747365";

/// A free TCP port on loopback (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A live geth on loopback, killed on drop, with its HTTP (admin, eth, net, txpool) and
/// engine APIs on free ports.
pub struct Geth {
    child: std::process::Child,
    /// Its data directory (kept while it runs).
    pub dir: tempfile::TempDir,
    /// `host:port` of its HTTP JSON-RPC.
    pub http: String,
    /// `host:port` of its engine API (JWT-authenticated).
    pub authrpc: String,
    /// Its enode URL.
    pub enode: String,
    /// Its p2p port.
    pub port: u16,
}

impl Geth {
    /// `geth init` with `genesis` into a fresh directory, then `geth import` of `blocks`
    /// when given (geth executes them, so it holds receipts and recent states).
    pub fn prepare(genesis: &Path, blocks: Option<&Path>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&std::ffi::OsStr]| {
            let out = Command::new(geth())
                .arg("--datadir")
                .arg(dir.path())
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "geth {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&["init".as_ref(), genesis.as_os_str()]);
        if let Some(b) = blocks {
            run(&["import".as_ref(), b.as_os_str()]);
        }
        std::fs::write(
            dir.path().join("jwt.hex"),
            JWT_SECRET_HEX.trim_start_matches("0x"),
        )
        .unwrap();
        dir
    }

    /// Starts geth on a prepared directory; `extra` adds flags (e.g. `--nodiscover`,
    /// `--bootnodes`). Its log goes to `<dir>/geth.log`. Waits until its HTTP API answers.
    pub fn start(dir: tempfile::TempDir, extra: &[&str]) -> Self {
        let (port, http_port, auth_port) = (free_port(), free_port(), free_port());
        let log = std::fs::File::create(dir.path().join("geth.log")).unwrap();
        let child = Command::new(geth())
            .arg("--datadir")
            .arg(dir.path())
            .args(["--nat", "none", "--port", &port.to_string()])
            .args(["--maxpeers", "10", "--syncmode", "full", "--ipcdisable"])
            .args(["--http", "--http.addr", "127.0.0.1"])
            .args(["--http.port", &http_port.to_string()])
            .args(["--http.api", "admin,eth,net,txpool,debug"])
            .args(["--authrpc.addr", "127.0.0.1"])
            .args(["--authrpc.port", &auth_port.to_string()])
            .arg("--authrpc.jwtsecret")
            .arg(dir.path().join("jwt.hex"))
            .args(["--verbosity", "4"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut g = Self {
            child,
            dir,
            http: format!("127.0.0.1:{http_port}"),
            authrpc: format!("127.0.0.1:{auth_port}"),
            enode: String::new(),
            port,
        };
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(info) = g.try_rpc("admin_nodeInfo", json!([])) {
                g.enode = info["enode"].as_str().unwrap().to_string();
                break;
            }
            assert!(Instant::now() < end, "geth did not start: {}", g.log_tail());
            std::thread::sleep(Duration::from_millis(200));
        }
        g
    }

    /// The last lines of its log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("geth.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn try_rpc(&self, method: &str, params: Value) -> Option<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp = post(&self.http, &body.to_string(), None)?;
        let v: Value = serde_json::from_str(&resp).ok()?;
        Some(v["result"].clone())
    }

    /// A JSON-RPC call on its HTTP API; the whole response (`result` or `error`).
    pub fn rpc_response(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp = post(&self.http, &body.to_string(), None).expect("geth http");
        serde_json::from_str(&resp).unwrap()
    }

    /// A JSON-RPC call's `result`.
    pub fn rpc(&self, method: &str, params: Value) -> Value {
        self.rpc_response(method, params)["result"].clone()
    }

    /// An engine-API call (HS256 JWT with the shared secret); the whole response.
    pub fn engine(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp = post(&self.authrpc, &body.to_string(), Some(&jwt_token())).expect("authrpc");
        serde_json::from_str(&resp).unwrap()
    }

    /// geth's head block number (eth_blockNumber).
    pub fn head_number(&self) -> u64 {
        let v = self.rpc("eth_blockNumber", json!([]));
        u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    }

    /// The hash of block `n` in geth's chain.
    pub fn block_hash(&self, n: u64) -> Option<String> {
        let b = self.rpc("eth_getBlockByNumber", json!([format!("0x{n:x}"), false]));
        b["hash"].as_str().map(str::to_string)
    }
}

impl Drop for Geth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP POST of a JSON body (optionally with a bearer token); the response body, or
/// `None` when nothing answers.
fn post(addr: &str, body: &str, bearer: Option<&str>) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let auth = bearer.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// An engine-API token: HS256 over `{"iat": now}` with [`JWT_SECRET_HEX`], as the engine
/// API's authentication spec asks.
fn jwt_token() -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signing_input = format!(
        "{}.{}",
        b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64.encode(format!(r#"{{"iat":{iat}}}"#))
    );
    let key = hex::decode(JWT_SECRET_HEX.trim_start_matches("0x")).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        b64.encode(mac.finalize().into_bytes())
    )
}
