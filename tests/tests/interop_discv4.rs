//! discv4 interop with `@ethereumjs/devp2p`'s DPT (tests/interop/dpt.mjs) over loopback, for
//! both runtimes and both directions:
//!
//! - ethereumjs bootstraps from us: it pings us, we bond, and it learns the other nodes of
//!   our table from our Neighbors;
//! - we bootstrap from ethereumjs: a lookup through one DPT node finds the two others.
//!
//! These tests fail (they do not skip) when `node` or `tests/interop/node_modules` is missing.
//! DPT behaviour they rely on is described in tests/interop/README.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use paxeer_p2p_core::discv4::packet::{Endpoint, NodeRecord};
use paxeer_p2p_core::discv4::{Discv4, Discv4Config, Discv4Event, NodeEntry};
use paxeer_p2p_core::driver::discovery::{DiscReply, DiscRequest};
use paxeer_p2p_core::driver::os_seed;
use paxeer_p2p_core::enode::Enode;
use paxeer_p2p_core::enr::LocalEnr;
use paxeer_p2p_core::nodedb::MemoryNodeDb;
use paxeer_p2p_core::types::{PeerId, WallClock};
use paxeer_p2p_tests::{
    key_hex, localhost_any, on, peer_id, secret_key, timeout, with_deadline, Discovery, NodePeer,
    On, Runtime, Smol, Tokio, STEP_TIMEOUT,
};
use serde_json::Value;

/// Hard limit of each test (normally a few seconds).
const DEADLINE: Duration = Duration::from_secs(30);
/// How long a node may take to show up in a table (ours or ethereumjs's).
const DISCOVERY_WAIT: Duration = Duration::from_secs(15);
/// How often tables are polled.
const POLL: Duration = Duration::from_millis(100);

/// Key bytes: our nodes 0x3_, ethereumjs nodes 0x4_ / 0x5_.
const OURS: u8 = 0x30;
const OURS_Y: u8 = 0x31;
const OURS_Z: u8 = 0x32;
const DPT_X: u8 = 0x41;
const DPT_A: u8 = 0x51;
const DPT_B: u8 = 0x52;
const DPT_C: u8 = 0x53;

// ---------------------------------------------------------------------------------------------
// our discovery nodes

/// The machine `node discv4` builds (`DiscSetup::build` in node/src/cmd_discv4.rs): key byte
/// `b`, no TCP port, the bound address announced as is, an in-memory node database.
fn build_discv4(b: u8, bootnodes: Vec<NodeRecord>, bound: SocketAddr) -> Discv4 {
    let key = secret_key(b);
    let now = Instant::now();
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut enr = LocalEnr::new(key, unix.as_millis() as u64);
    enr.set_endpoint(Some(bound.ip()), 0, bound.port());
    let mut cfg = Discv4Config::new(
        key,
        Endpoint {
            ip: bound.ip(),
            udp: bound.port(),
            tcp: 0,
        },
    );
    cfg.bootnodes = bootnodes;
    let clock = WallClock {
        at: now,
        unix_secs: unix.as_secs(),
    };
    Discv4::new(
        cfg,
        enr,
        clock,
        now,
        os_seed(),
        Box::new(MemoryNodeDb::new()),
    )
}

/// One of our discovery nodes, with the events it reported so far.
struct Ours<R: Runtime> {
    name: String,
    key: u8,
    disc: Discovery,
    events: Vec<Discv4Event>,
    runtime: std::marker::PhantomData<R>,
}

impl<R: Runtime> Ours<R> {
    /// Starts a node on `127.0.0.1:0` with key byte `key`.
    fn start(rt: &On<R>, name: &str, key: u8, bootnodes: Vec<NodeRecord>) -> Self {
        let disc = rt
            .block_on(Discovery::start::<R>(localhost_any(), move |bound| {
                build_discv4(key, bootnodes, bound)
            }))
            .unwrap_or_else(|e| panic!("[{}] {name}: bind udp 127.0.0.1:0: {e}", R::NAME));
        Self {
            name: name.to_string(),
            key,
            disc,
            events: Vec::new(),
            runtime: std::marker::PhantomData,
        }
    }

    fn id(&self) -> PeerId {
        peer_id(self.key)
    }

    fn addr(&self) -> SocketAddr {
        self.disc.local_addr()
    }

    /// Our node as a discv4 record (no TCP port).
    fn record(&self) -> NodeRecord {
        NodeRecord {
            endpoint: Endpoint {
                ip: self.addr().ip(),
                udp: self.addr().port(),
                tcp: 0,
            },
            id: self.id(),
        }
    }

    /// `enode://<id>@127.0.0.1:0?discport=<udp>` (no TCP port, like `node discv4 listen`).
    fn enode(&self) -> String {
        Enode {
            id: self.id(),
            ip: self.addr().ip(),
            tcp_port: 0,
            udp_port: self.addr().port(),
        }
        .to_string()
    }

    fn request(&self, rt: &On<R>, req: DiscRequest) -> DiscReply {
        let what = format!("{req:?}");
        match rt.block_on(timeout::<R, _>(STEP_TIMEOUT, self.disc.request(req))) {
            Some(Ok(reply)) => reply,
            Some(Err(e)) => panic!("[{}] {}: request {what}: {e}", R::NAME, self.name),
            None => panic!("[{}] {}: request {what} timed out", R::NAME, self.name),
        }
    }

    /// Every table node (the table holds far fewer than 1000 here).
    fn table(&self, rt: &On<R>) -> Vec<NodeEntry> {
        match self.request(rt, DiscRequest::Closest(self.id().node_id(), 1000)) {
            DiscReply::Nodes(n) => n,
            other => panic!("[{}] {}: Closest answered {other:?}", R::NAME, self.name),
        }
    }

    fn table_ids(&self, rt: &On<R>) -> BTreeSet<PeerId> {
        self.table(rt).into_iter().map(|n| n.record.id).collect()
    }

    /// Collects the events that have arrived, without waiting.
    fn drain(&mut self, rt: &On<R>) {
        let disc = &mut self.disc;
        let events = &mut self.events;
        rt.block_on(async {
            while let Some(Some(ev)) =
                timeout::<R, _>(Duration::from_millis(1), disc.next_event()).await
            {
                events.push(ev);
            }
        });
    }

    /// Waits until the table holds every node of `want`; panics with the table and the events
    /// after `limit`.
    fn wait_table(&mut self, rt: &On<R>, what: &str, want: &[PeerId], limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            self.drain(rt);
            let have = self.table_ids(rt);
            if want.iter().all(|w| have.contains(w)) {
                return;
            }
            if Instant::now() >= deadline {
                let missing: Vec<&PeerId> = want.iter().filter(|w| !have.contains(w)).collect();
                panic!(
                    "[{}] {}: {what}: after {limit:?} the table still lacks {missing:?}\n\
                     table: {:#?}\nevents: {:#?}\nsnapshot: {:#?}",
                    R::NAME,
                    self.name,
                    self.table(rt),
                    self.events,
                    self.request(rt, DiscRequest::Snapshot),
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// The first event (already reported or arriving within `limit`) for which `pred` holds.
    fn wait_event(
        &mut self,
        rt: &On<R>,
        what: &str,
        limit: Duration,
        pred: impl Fn(&Discv4Event) -> bool,
    ) -> Discv4Event {
        let deadline = Instant::now() + limit;
        loop {
            self.drain(rt);
            if let Some(ev) = self.events.iter().find(|e| pred(e)) {
                return ev.clone();
            }
            assert!(
                Instant::now() < deadline,
                "[{}] {}: no {what} after {limit:?}; events: {:#?}",
                R::NAME,
                self.name,
                self.events
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn shutdown(self, rt: &On<R>) {
        rt.block_on(self.disc.shutdown());
    }
}

// ---------------------------------------------------------------------------------------------
// ethereumjs DPT nodes

/// Starts `dpt.mjs` with key byte `key` on a free port, waits until it listens and checks the
/// id it reports. `extra` is passed on (e.g. `--bootnodes`).
fn spawn_dpt(name: &str, key: u8, extra: &[&str]) -> (NodePeer, u16) {
    let key_hex = key_hex(key);
    let mut args = vec![
        "--port",
        "0",
        "--key",
        &key_hex,
        "--trace-packets",
        "--timeout-ms",
        "60000",
    ];
    args.extend_from_slice(extra);
    let mut node = NodePeer::spawn_script(name, "dpt.mjs", &args);
    let listening = node.wait_event("listening", STEP_TIMEOUT);
    assert_eq!(listening["id"], peer_id(key).to_hex(), "{listening}");
    let port = u16::try_from(listening["port"].as_u64().unwrap()).unwrap();
    (node, port)
}

/// The enode URL of a `dpt.mjs` node (it announces its UDP port as TCP port too).
fn dpt_enode(key: u8, port: u16) -> String {
    format!("enode://{}@127.0.0.1:{port}", peer_id(key).to_hex())
}

/// The discv4 record of a `dpt.mjs` node.
fn dpt_record(key: u8, port: u16) -> NodeRecord {
    NodeRecord {
        endpoint: Endpoint {
            ip: [127, 0, 0, 1].into(),
            udp: port,
            tcp: port,
        },
        id: peer_id(key),
    }
}

/// Waits until `node` reports `peer_added` for `id`; returns that event.
fn wait_peer_added(node: &mut NodePeer, who: &str, id: PeerId, limit: Duration) -> Value {
    let hex = id.to_hex();
    node.wait_for(&format!("peer_added of {who}"), limit, |v| {
        v["event"] == "peer_added" && v["id"] == hex.as_str()
    })
}

/// ethereumjs reported no errors (they would be decode errors of our packets, ping timeouts
/// towards us, or exceptions).
fn assert_no_errors(node: &mut NodePeer) {
    let errors: Vec<Value> = node
        .poll_events()
        .iter()
        .filter(|e| e["event"] == "error")
        .cloned()
        .collect();
    if !errors.is_empty() {
        node.fail(&format!("ethereumjs reported errors: {errors:?}"));
    }
}

/// The packets of `node` (its `--trace-packets` lines) exchanged with `addr`, as
/// `"<ms since node start>ms in ping"`, `"…ms out pong"`, …
fn packets_with(node: &mut NodePeer, addr: SocketAddr) -> Vec<String> {
    let a = addr.to_string();
    node.poll_events()
        .iter()
        .filter(|e| e["event"] == "packet" && (e["from"] == a.as_str() || e["to"] == a.as_str()))
        .map(|e| {
            format!(
                "{}ms {} {}",
                e["t_ms"],
                e["dir"].as_str().unwrap_or("?"),
                e["type"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// A lookup target that is nobody's key.
fn random_target() -> PeerId {
    let mut t = [0u8; 64];
    for (i, b) in t.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    PeerId(t)
}

// ---------------------------------------------------------------------------------------------
// scenarios

/// Our node knows two other nodes of ours; an ethereumjs DPT bootstraps from it, bonds, and
/// learns both of them from our Neighbors.
fn ethereumjs_bootstraps_from_us<R: Runtime>() {
    let t0 = Instant::now();
    let rt = on::<R>();

    // Y and Z first; X knows them as bootnodes and bonds with them.
    let y = Ours::<R>::start(&rt, "Y", OURS_Y, Vec::new());
    let z = Ours::<R>::start(&rt, "Z", OURS_Z, Vec::new());
    let mut x = Ours::<R>::start(&rt, "X", OURS, vec![y.record(), z.record()]);
    x.request(&rt, DiscRequest::Lookup(random_target()));
    x.wait_table(
        &rt,
        "bonding with Y and Z",
        &[y.id(), z.id()],
        DISCOVERY_WAIT,
    );
    let t_table = t0.elapsed();

    // refresh-ms 1000: DPT asks every table node for neighbours about once a second, so a
    // FindNeighbours we drop before the endpoint proof completes is retried soon.
    let x_enode = x.enode();
    let (mut dpt, dpt_port) = spawn_dpt(
        &format!("{}-dpt", R::NAME),
        DPT_X,
        &["--bootnodes", &x_enode, "--refresh-ms", "1000"],
    );
    let added = wait_peer_added(&mut dpt, "our node X", x.id(), DISCOVERY_WAIT);
    assert_eq!(added["address"], "127.0.0.1", "{added}");
    assert_eq!(added["udp_port"], x.addr().port(), "{added}");
    wait_peer_added(
        &mut dpt,
        "our node Y (from X's Neighbors)",
        y.id(),
        DISCOVERY_WAIT,
    );
    wait_peer_added(
        &mut dpt,
        "our node Z (from X's Neighbors)",
        z.id(),
        DISCOVERY_WAIT,
    );
    let t_learned = t0.elapsed();

    // X verified DPT's endpoint (its Ping was answered) and took it into its table.
    x.wait_table(
        &rt,
        "ethereumjs in our table",
        &[peer_id(DPT_X)],
        DISCOVERY_WAIT,
    );
    let entry = x
        .table(&rt)
        .into_iter()
        .find(|n| n.record.id == peer_id(DPT_X))
        .unwrap();
    assert_eq!(entry.record.endpoint.udp, dpt_port, "{entry:?}");

    let trace = packets_with(&mut dpt, x.addr());
    assert!(
        trace.iter().any(|p| p.ends_with(" out findneighbours"))
            && trace.iter().any(|p| p.ends_with(" in neighbours")),
        "[{}] DPT <-> X: {trace:?}",
        R::NAME
    );
    assert_no_errors(&mut dpt);
    eprintln!(
        "[{}] ethereumjs bootstraps from us: X bonded with Y, Z after {t_table:?}; \
         DPT learned X, Y, Z after {t_learned:?}; DPT <-> X: {trace:?}",
        R::NAME
    );
    drop(dpt);
    x.shutdown(&rt);
    y.shutdown(&rt);
    z.shutdown(&rt);
}

/// Three ethereumjs DPT nodes know each other (B and C bootstrapped from A); we bootstrap from
/// A and a lookup finds B and C.
fn we_bootstrap_from_ethereumjs<R: Runtime>() {
    let t0 = Instant::now();
    let (mut a, a_port) = spawn_dpt(&format!("{}-dpt-A", R::NAME), DPT_A, &[]);
    let a_enode = dpt_enode(DPT_A, a_port);
    let (mut b, _) = spawn_dpt(
        &format!("{}-dpt-B", R::NAME),
        DPT_B,
        &["--bootnodes", &a_enode],
    );
    let (mut c, _) = spawn_dpt(
        &format!("{}-dpt-C", R::NAME),
        DPT_C,
        &["--bootnodes", &a_enode],
    );
    wait_peer_added(&mut b, "A", peer_id(DPT_A), DISCOVERY_WAIT);
    wait_peer_added(&mut c, "A", peer_id(DPT_A), DISCOVERY_WAIT);
    wait_peer_added(&mut a, "B", peer_id(DPT_B), DISCOVERY_WAIT);
    wait_peer_added(&mut a, "C", peer_id(DPT_C), DISCOVERY_WAIT);
    let t_dpt = t0.elapsed();

    let rt = on::<R>();
    let mut x = Ours::<R>::start(&rt, "X", OURS, vec![dpt_record(DPT_A, a_port)]);
    let lookup = match x.request(&rt, DiscRequest::Lookup(random_target())) {
        DiscReply::Lookup(id) => id,
        other => panic!("[{}] Lookup answered {other:?}", R::NAME),
    };
    let want = [peer_id(DPT_A), peer_id(DPT_B), peer_id(DPT_C)];
    x.wait_table(&rt, "lookup through ethereumjs", &want, DISCOVERY_WAIT);
    let t_found = t0.elapsed();

    // The table entries carry the endpoints the DPT nodes announce.
    for n in x.table(&rt) {
        if want.contains(&n.record.id) {
            assert_eq!(n.record.endpoint.ip, x.addr().ip(), "{n:?}");
            assert!(n.record.endpoint.udp != 0, "{n:?}");
        }
    }
    // NodeAdded was reported for each.
    x.drain(&rt);
    let added: BTreeSet<PeerId> = x
        .events
        .iter()
        .filter_map(|e| match e {
            Discv4Event::NodeAdded(n) => Some(n.record.id),
            _ => None,
        })
        .collect();
    for w in &want {
        assert!(
            added.contains(w),
            "[{}] no NodeAdded for {w:?}: {:#?}",
            R::NAME,
            x.events
        );
    }
    // The lookup finishes and reports them (waiting for it at most DISCOVERY_WAIT).
    let deadline = Instant::now() + DISCOVERY_WAIT;
    let done = loop {
        x.drain(&rt);
        let done = x.events.iter().find_map(|e| match e {
            Discv4Event::LookupDone { id, nodes, .. } if *id == lookup => Some(nodes.clone()),
            _ => None,
        });
        if let Some(nodes) = done {
            break nodes;
        }
        assert!(
            Instant::now() < deadline,
            "[{}] lookup {lookup:?} not done after {DISCOVERY_WAIT:?}: {:#?}",
            R::NAME,
            x.events
        );
        std::thread::sleep(POLL);
    };
    let found: BTreeSet<PeerId> = done.iter().map(|n| n.record.id).collect();
    assert!(
        want.iter().all(|w| found.contains(w)),
        "[{}] LookupDone lacks some of A, B, C: {done:#?}",
        R::NAME
    );
    assert!(
        !found.contains(&x.id()),
        "[{}] LookupDone contains ourselves",
        R::NAME
    );

    // A bonded back with us (ethereumjs pings every unknown pinger).
    wait_peer_added(&mut a, "our node X", x.id(), DISCOVERY_WAIT);
    let trace = packets_with(&mut a, x.addr());
    for node in [&mut a, &mut b, &mut c] {
        assert_no_errors(node);
    }
    eprintln!(
        "[{}] we bootstrap from ethereumjs: DPT mesh after {t_dpt:?}; found A, B, C after \
         {t_found:?}; A <-> X: {trace:?}",
        R::NAME
    );
    x.shutdown(&rt);
}

/// We ping an ethereumjs node and ask for its ENR: the Pong carries no enr-seq, and the
/// ENRRequest goes unanswered (DPT does not implement EIP-868), so it fails after our retries
/// instead of hanging.
fn we_ping_and_resolve_ethereumjs<R: Runtime>() {
    let (mut dpt, port) = spawn_dpt(&format!("{}-dpt", R::NAME), DPT_X, &[]);
    let rt = on::<R>();
    let mut x = Ours::<R>::start(&rt, "X", OURS, Vec::new());
    let target = dpt_record(DPT_X, port);

    let ping = match x.request(&rt, DiscRequest::Ping(target)) {
        DiscReply::Request(id) => id,
        other => panic!("[{}] Ping answered {other:?}", R::NAME),
    };
    let ev = x.wait_event(&rt, "an answer to our Ping", STEP_TIMEOUT, |e| {
        matches!(e, Discv4Event::PongReceived { id, .. } | Discv4Event::RequestFailed { id } if *id == ping)
    });
    match ev {
        Discv4Event::PongReceived { rtt, enr_seq, .. } => {
            assert!(rtt < STEP_TIMEOUT, "[{}] rtt {rtt:?}", R::NAME);
            assert_eq!(enr_seq, None, "[{}] DPT sends no enr-seq", R::NAME);
        }
        other => dpt.fail(&format!("[{}] our Ping failed: {other:?}", R::NAME)),
    }

    let t_enr = Instant::now();
    let enr = match x.request(&rt, DiscRequest::RequestEnr(target)) {
        DiscReply::Request(id) => id,
        other => panic!("[{}] RequestEnr answered {other:?}", R::NAME),
    };
    let ev = x.wait_event(&rt, "an answer to our ENRRequest", STEP_TIMEOUT, |e| {
        matches!(e, Discv4Event::EnrReceived { id, .. } | Discv4Event::RequestFailed { id } if *id == enr)
    });
    assert!(
        matches!(ev, Discv4Event::RequestFailed { .. }),
        "[{}] DPT answered an ENRRequest: {ev:?}",
        R::NAME
    );
    let t_failed = t_enr.elapsed();

    // DPT saw the ENRRequest and rejected it as an unknown packet type; nothing else went wrong.
    let trace = packets_with(&mut dpt, x.addr());
    assert!(
        trace.iter().any(|p| p.ends_with(" in enr_request")),
        "[{}] DPT <-> X: {trace:?}",
        R::NAME
    );
    let errors: Vec<Value> = dpt
        .poll_events()
        .iter()
        .filter(|e| e["event"] == "error" && e["message"] != "Invalid type: 5")
        .cloned()
        .collect();
    if !errors.is_empty() {
        dpt.fail(&format!("unexpected ethereumjs errors: {errors:?}"));
    }
    eprintln!(
        "[{}] ping/resolve ethereumjs: ENRRequest failed after {t_failed:?}; DPT <-> X: {trace:?}",
        R::NAME
    );
    x.shutdown(&rt);
}

/// Not ethereumjs-specific, but every scenario above depends on it: the first datagrams a
/// fresh discovery task sends (bootnode Pings, a requested Ping) reach the wire. A plain UDP
/// socket plays the bootnode; each round starts a new runtime and task and must see its Ping
/// arrive with no send dropped.
fn first_datagrams_are_sent<R: Runtime>() {
    const ROUNDS: usize = 10;
    let peer = std::net::UdpSocket::bind(localhost_any()).unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let record = NodeRecord {
        endpoint: Endpoint {
            ip: peer_addr.ip(),
            udp: peer_addr.port(),
            tcp: 0,
        },
        id: peer_id(DPT_X),
    };
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        // A fresh executor each round too: the first task on it is the likeliest to lose.
        let rt = on::<R>();
        let x = Ours::<R>::start(&rt, "X", OURS, vec![record]);
        let mut buf = [0u8; 1500];
        let got = peer.recv_from(&mut buf);
        let snap = x.request(&rt, DiscRequest::Snapshot);
        let drops = match &snap {
            DiscReply::Snapshot(s) => s.send_drops,
            other => panic!("Snapshot answered {other:?}"),
        };
        match got {
            Ok((n, from)) if from == x.addr() && n > 97 && buf[97] == 1 && drops == 0 => {}
            other => failures.push(format!("round {round}: recv {other:?}, send_drops {drops}")),
        }
        x.shutdown(&rt);
        // Drain anything left of this round (retries).
        peer.set_read_timeout(Some(Duration::from_millis(1)))
            .unwrap();
        while peer.recv_from(&mut buf).is_ok() {}
        peer.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    }
    assert!(
        failures.is_empty(),
        "[{}] a fresh discovery task lost its first datagram in {} of {ROUNDS} rounds: {failures:#?}",
        R::NAME,
        failures.len()
    );
}

// ---------------------------------------------------------------------------------------------
// tests

#[test]
fn ethereumjs_bootstraps_from_tokio() {
    with_deadline(
        "ethereumjs_bootstraps_from_tokio",
        DEADLINE,
        ethereumjs_bootstraps_from_us::<Tokio>,
    );
}

#[test]
fn ethereumjs_bootstraps_from_smol() {
    with_deadline(
        "ethereumjs_bootstraps_from_smol",
        DEADLINE,
        ethereumjs_bootstraps_from_us::<Smol>,
    );
}

#[test]
fn tokio_bootstraps_from_ethereumjs() {
    with_deadline(
        "tokio_bootstraps_from_ethereumjs",
        DEADLINE,
        we_bootstrap_from_ethereumjs::<Tokio>,
    );
}

#[test]
fn smol_bootstraps_from_ethereumjs() {
    with_deadline(
        "smol_bootstraps_from_ethereumjs",
        DEADLINE,
        we_bootstrap_from_ethereumjs::<Smol>,
    );
}

#[test]
fn tokio_pings_and_resolves_ethereumjs() {
    with_deadline(
        "tokio_pings_and_resolves_ethereumjs",
        DEADLINE,
        we_ping_and_resolve_ethereumjs::<Tokio>,
    );
}

#[test]
fn smol_pings_and_resolves_ethereumjs() {
    with_deadline(
        "smol_pings_and_resolves_ethereumjs",
        DEADLINE,
        we_ping_and_resolve_ethereumjs::<Smol>,
    );
}

#[test]
fn tokio_sends_first_datagrams() {
    with_deadline(
        "tokio_sends_first_datagrams",
        DEADLINE,
        first_datagrams_are_sent::<Tokio>,
    );
}

#[test]
fn smol_sends_first_datagrams() {
    with_deadline(
        "smol_sends_first_datagrams",
        DEADLINE,
        first_datagrams_are_sent::<Smol>,
    );
}
