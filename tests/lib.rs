//! Shared helpers of the integration tests.
//!
//! - [`on`], [`step`], [`accept`], [`connect_ok`]: scenario helpers over the connection
//!   layer, generic over its [`Runtime`], so a scenario is written once and run on tokio and
//!   smol (and across both).
//! - [`NodePeer`]: the ethereumjs interop peer (`tests/interop/peer.mjs`) as a child process
//!   whose JSON event lines are read with timeouts; killed on drop.
//! - [`with_deadline`]: a hard wall-clock limit around a whole test, so nothing hangs.
//! - Keys, configurations and deterministic payloads.

use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use paxeer_p2p_core::crypto::keys::{peer_id_of, secret_key_from_bytes};
use paxeer_p2p_core::driver::ConnectError;
use paxeer_p2p_core::p2p::{Capability, ProtocolSpec};
use paxeer_p2p_core::session::{CloseReason, SessionConfig, SessionEvent};
use paxeer_p2p_core::types::PeerId;
pub use paxeer_p2p_runtime::discovery::Discovery;
pub use paxeer_p2p_runtime::{connect, sleep, timeout, Incoming, Listener, Runtime, SessionHandle};
pub use paxeer_p2p_smol::Smol;
pub use paxeer_p2p_tokio::Tokio;
use secp256k1::SecretKey;
use serde_json::Value;

/// Limit of any single wait in a test (an event, a connection, a line from a child process).
/// Generous so that a loaded machine never flakes; tests normally take well under 2 s.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// Hard limit of a whole test (see [`with_deadline`]).
pub const TEST_DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// keys, configurations, payloads

/// The secret key whose 32 bytes are all `b` (`b` must be non-zero).
pub fn secret_key(b: u8) -> SecretKey {
    match secret_key_from_bytes(&[b; 32]) {
        Ok(sk) => sk,
        Err(e) => panic!("secret key [{b:#04x}; 32]: {e}"),
    }
}

/// The public identity of [`secret_key`]`(b)`.
pub fn peer_id(b: u8) -> PeerId {
    peer_id_of(&secret_key(b))
}

/// The 32 bytes of [`secret_key`]`(b)` as hex, as `peer.mjs --key` takes them.
pub fn key_hex(b: u8) -> String {
    hex::encode([b; 32])
}

/// The eth/68 capability.
pub fn eth68_cap() -> Capability {
    Capability::new("eth", 68)
}

/// eth/68 with its 17 message ids: the only capability ethereumjs shares with us.
pub fn eth68() -> ProtocolSpec {
    ProtocolSpec {
        cap: eth68_cap(),
        message_count: 17,
    }
}

/// Default session configuration for key byte `b`, advertising eth/68, with client id
/// `paxeer-p2p-tests/<b>`.
pub fn config(b: u8) -> SessionConfig {
    SessionConfig::new(
        secret_key(b),
        format!("paxeer-p2p-tests/{b}"),
        vec![eth68()],
    )
}

/// `127.0.0.1:0`: bind to this to get a free port.
pub fn localhost_any() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// `127.0.0.1:port`.
pub fn localhost(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A port that was free a moment ago (bind a std listener on port 0, read it, drop it).
pub fn free_port() -> u16 {
    let l = match StdTcpListener::bind(localhost_any()) {
        Ok(l) => l,
        Err(e) => panic!("bind 127.0.0.1:0: {e}"),
    };
    match l.local_addr() {
        Ok(a) => a.port(),
        Err(e) => panic!("local_addr: {e}"),
    }
}

/// `len` deterministic pseudo-random bytes for `tag` (xorshift64*), incompressible enough to
/// exercise framing with snappy on, and different for every `(tag, len)`.
pub fn payload(tag: u64, len: usize) -> Vec<u8> {
    let mut x = tag
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(len as u64)
        .wrapping_add(1)
        | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

// ---------------------------------------------------------------------------------------------
// hard deadline

/// Runs `f` on its own thread and fails the test if it has not returned within `limit`
/// (a panic in `f` is passed on as is). On timeout the stuck thread is left behind; the
/// test process ends soon after anyway, which also stops child processes (their stdin
/// closes).
pub fn with_deadline<T, F>(name: &str, limit: Duration, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let thread = match std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let out = f();
            let _ = tx.send(());
            out
        }) {
        Ok(t) => t,
        Err(e) => panic!("spawn test thread: {e}"),
    };
    match rx.recv_timeout(limit) {
        // Finished (or panicked: the sender was dropped without sending).
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: did not finish within its hard deadline of {limit:?}")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// one interface over both runtimes

/// Why a dial or an inbound connection did not become a session, in a runtime-neutral form.
#[derive(Debug)]
pub enum ConnectFailure {
    /// The session closed before it was established.
    Closed(CloseReason),
    /// Anything else (TCP errors, invalid key), as text.
    Other(String),
}

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectFailure::Closed(r) => write!(f, "closed before established: {r} ({r:?})"),
            ConnectFailure::Other(s) => f.write_str(s),
        }
    }
}

impl From<ConnectError> for ConnectFailure {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Closed(r) => ConnectFailure::Closed(r),
            other => ConnectFailure::Other(other.to_string()),
        }
    }
}

/// What a listener yields, in a runtime-neutral form.
#[derive(Debug)]
pub enum Accepted<H> {
    /// Handshake and Hello completed.
    Established(H),
    /// The connection failed before it was established.
    Failed {
        /// The remote address.
        addr: SocketAddr,
        /// Why.
        error: ConnectFailure,
    },
}

/// Runs test bodies on runtime `R` (see [`on`]).
#[derive(Debug)]
pub struct On<R>(PhantomData<R>);

impl<R: Runtime> On<R> {
    /// Runs `f` to completion on `R` (blocking the calling thread); tasks it spawns keep
    /// running afterwards.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        R::block_on(f)
    }
}

/// The executor of runtime `R`, for a test body.
pub fn on<R: Runtime>() -> On<R> {
    On(PhantomData)
}

/// Awaits `f` for at most [`STEP_TIMEOUT`], panicking with `what` on timeout.
pub async fn step<R: Runtime, F: Future>(what: &str, f: F) -> F::Output {
    match timeout::<R, _>(STEP_TIMEOUT, f).await {
        Some(v) => v,
        None => panic!("[{}] timed out after {STEP_TIMEOUT:?}: {what}", R::NAME),
    }
}

/// The next event of `h` within [`STEP_TIMEOUT`]; panics on timeout or end of events.
pub async fn next_event<R: Runtime>(h: &mut SessionHandle, what: &str) -> SessionEvent {
    match step::<R, _>(what, h.next_event()).await {
        Some(ev) => ev,
        None => panic!("[{}] event stream ended while waiting for {what}", R::NAME),
    }
}

/// Binds a listener on `127.0.0.1:0` with the default cap on pending handshakes.
pub async fn bind_local<R: Runtime>(cfg: Arc<SessionConfig>) -> Listener {
    match Listener::bind_with_limit::<R>(localhost_any(), cfg, 50).await {
        Ok(l) => l,
        Err(e) => panic!("[{}] bind 127.0.0.1:0: {e}", R::NAME),
    }
}

/// The next outcome of `l` within [`STEP_TIMEOUT`], in the tests' form.
pub async fn accept<R: Runtime>(l: &mut Listener, what: &str) -> Accepted<SessionHandle> {
    match step::<R, _>(what, l.accept()).await {
        Some(Incoming::Established(h)) => Accepted::Established(*h),
        Some(Incoming::Failed { addr, error }) => Accepted::Failed {
            addr,
            error: ConnectFailure::from(error),
        },
        None => panic!("[{}] listener stopped while waiting for {what}", R::NAME),
    }
}

/// Dials with runtime `R`, with the failure in the tests' form.
pub async fn dial<R: Runtime>(
    addr: SocketAddr,
    remote: PeerId,
    cfg: Arc<SessionConfig>,
) -> Result<SessionHandle, ConnectFailure> {
    connect::<R>(addr, remote, cfg)
        .await
        .map_err(ConnectFailure::from)
}

/// Dials and expects an established session within [`STEP_TIMEOUT`].
pub async fn connect_ok<R: Runtime>(
    addr: SocketAddr,
    remote: PeerId,
    cfg: Arc<SessionConfig>,
) -> SessionHandle {
    match step::<R, _>("connect", dial::<R>(addr, remote, cfg)).await {
        Ok(h) => h,
        Err(e) => panic!("[{}] connect to {addr}: {e}", R::NAME),
    }
}

// ---------------------------------------------------------------------------------------------
// the ethereumjs peer

/// `tests/interop`: where `peer.mjs` and its `node_modules` live.
pub fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Fails (never skips) unless `node` (≥ 20) runs and `tests/interop/node_modules` holds
/// `@ethereumjs/devp2p`; the message says how to install them.
pub fn require_node() {
    const HOW: &str = "the ethereumjs interop tests need Node.js >= 20 on PATH and \
                       `npm ci` run once in tests/interop (CI installs both)";
    let out = Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .output();
    let version = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => panic!("`node --version` failed ({}): {HOW}", o.status),
        Err(e) => panic!("cannot run `node`: {e}; {HOW}"),
    };
    let major: Option<u32> = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok());
    if major.is_none_or(|m| m < 20) {
        panic!("node {version} is too old: {HOW}");
    }
    let devp2p = interop_dir().join("node_modules/@ethereumjs/devp2p/package.json");
    if !devp2p.is_file() {
        panic!("{} is missing: {HOW}", devp2p.display());
    }
}

/// A running `peer.mjs`: its JSON event lines, read with timeouts. Dropping it closes its
/// stdin (the script exits on EOF) and kills it if it is still running shortly after.
#[derive(Debug)]
pub struct NodePeer {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<Value>,
    seen: Vec<Value>,
    stderr: Arc<Mutex<String>>,
    started: Instant,
}

impl NodePeer {
    /// Starts `node peer.mjs <args>` in `tests/interop` (after [`require_node`]).
    pub fn spawn(name: &str, args: &[&str]) -> Self {
        Self::spawn_script(name, "peer.mjs", args)
    }

    /// Starts `node <script> <args>` in `tests/interop` (after [`require_node`]), for any
    /// script there that follows `peer.mjs`'s conventions (JSON event lines on stdout, exit
    /// on stdin EOF), e.g. `dpt.mjs`.
    pub fn spawn_script(name: &str, script: &str, args: &[&str]) -> Self {
        require_node();
        let mut child = match Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(interop_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => panic!("spawn node {script} {args:?}: {e}"),
        };
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    let v = serde_json::from_str(&line)
                        .unwrap_or_else(|_| serde_json::json!({"event": "unparsed", "line": line}));
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut err) = child.stderr.take() {
            let sink = stderr.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let (Ok(mut s), Some(chunk)) = (sink.lock(), buf.get(..n)) {
                        s.push_str(&String::from_utf8_lossy(chunk));
                    }
                }
            });
        }
        Self {
            name: name.to_string(),
            child,
            stdin,
            lines,
            seen: Vec::new(),
            stderr,
            started: Instant::now(),
        }
    }

    /// Every event line received so far.
    pub fn events(&self) -> &[Value] {
        &self.seen
    }

    /// Collects the event lines that have arrived, without waiting, and returns them all.
    pub fn poll_events(&mut self) -> &[Value] {
        while let Ok(v) = self.lines.try_recv() {
            self.seen.push(v);
        }
        &self.seen
    }

    /// Writes `line` and a newline to the script's stdin (a command, for scripts that take
    /// them, e.g. `dpt.mjs`). Panics with the script's output if that fails.
    pub fn send_line(&mut self, line: &str) {
        use std::io::Write;
        let res = match self.stdin.as_mut() {
            Some(stdin) => writeln!(stdin, "{line}").and_then(|()| stdin.flush()),
            None => Err(std::io::Error::other("stdin already closed")),
        };
        if let Err(e) = res {
            self.fail(&format!("writing {line:?} to stdin: {e}"));
        }
    }

    /// The first event (already received or arriving within `timeout`) for which `pred`
    /// holds. Panics with everything the peer printed when it does not come.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return v.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return v;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.fail(&format!("timed out after {timeout:?} waiting for {what}"))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // Give stderr a moment to be collected.
                    std::thread::sleep(Duration::from_millis(100));
                    self.fail(&format!("exited while waiting for {what}"))
                }
            }
        }
    }

    /// The first event named `event` (see [`wait_for`](Self::wait_for)).
    pub fn wait_event(&mut self, event: &str, timeout: Duration) -> Value {
        self.wait_for(&format!("{event:?} event"), timeout, |v| {
            v["event"] == event
        })
    }

    /// Panics with `msg` and the peer's output so far.
    pub fn fail(&mut self, msg: &str) -> ! {
        while let Ok(v) = self.lines.try_recv() {
            self.seen.push(v);
        }
        let lines: Vec<String> = self.seen.iter().map(Value::to_string).collect();
        let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        panic!(
            "node peer {:?} ({:.1?} after start): {msg}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.name,
            self.started.elapsed(),
            lines.join("\n"),
            stderr
        )
    }
}

impl Drop for NodePeer {
    fn drop(&mut self) {
        // EOF on stdin: the script disconnects its peers and exits by itself.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
