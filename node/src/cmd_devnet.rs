//! `devnet`: N nodes on loopback, each with its own temporary data directory, bootstrapping
//! discovery from the first; shows progress while they discover and connect, then prints a
//! summary (peers per node, time to reach the target peer count, handshakes, bytes,
//! disconnect reasons) and shuts every node down gracefully.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use paxeer_p2p_core::host::HostEvent;
use paxeer_p2p_core::metrics::HostMetrics;
use serde_json::{json, Value};

use crate::cmd_discv4::parse_duration;
use crate::daemon::{start_node, NodeConfig, Observer, Rt, RunningNode};
use crate::devnet_traffic::{self, sightings_observer, Sightings};
use crate::output::Output;
use crate::rt::RuntimeKind;

/// How long injected traffic may take to reach every node.
const TRAFFIC_WAIT: Duration = Duration::from_secs(20);
/// How often progress is shown.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Options of `devnet`.
#[derive(Args, Debug)]
pub struct DevnetArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 8)]
    nodes: usize,
    /// Runtime to use.
    #[arg(long, value_enum, default_value_t = RuntimeKind::Tokio)]
    runtime: RuntimeKind,
    /// Give up waiting for the target after this long (e.g. 30s, 2m).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Peers each node must reach (default: every other node, capped by --maxpeers).
    #[arg(long)]
    target: Option<usize>,
    /// Peer limit of each node.
    #[arg(long, default_value_t = 50)]
    maxpeers: usize,
    /// Keep running for the whole --duration even once every node reached the target.
    #[arg(long)]
    full: bool,
    /// Transactions to inject at the nodes in turn once they are connected.
    #[arg(long, default_value_t = 0)]
    txs: usize,
    /// Blocks to inject (one at a time) once they are connected.
    #[arg(long, default_value_t = 0)]
    blocks: usize,
}

/// What one node's observer collects.
#[derive(Default)]
struct NodeStats {
    reached: Option<Duration>,
    disconnects: BTreeMap<String, u64>,
    connected: u64,
}

/// Runs the devnet.
pub fn run(args: DevnetArgs, out: Output) -> Result<(), String> {
    if args.nodes < 2 {
        return Err("--nodes must be at least 2".into());
    }
    let target = args
        .target
        .unwrap_or(args.nodes - 1)
        .min(args.maxpeers)
        .min(args.nodes - 1);
    let rt = Rt::new(args.runtime)?;
    let tmp = tempfile::Builder::new()
        .prefix("paxeer-devnet-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    let started = Instant::now();
    let mut nodes: Vec<RunningNode> = Vec::new();
    let mut stats: Vec<Arc<Mutex<NodeStats>>> = Vec::new();
    let seen: Sightings = Arc::default();
    for i in 0..args.nodes {
        let mut cfg = NodeConfig::new(tmp.path().join(format!("node-{i}")));
        cfg.identity = Some(format!("devnet-{i}"));
        cfg.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        cfg.discovery_port = Some(0);
        cfg.max_peers = args.maxpeers;
        cfg.runtime = args.runtime;
        if let Some(boot) = nodes.first() {
            cfg.bootnodes = vec![boot.enode];
        }
        let st = Arc::new(Mutex::new(NodeStats::default()));
        let observers = vec![
            observer(st.clone(), started, target),
            sightings_observer(i, seen.clone()),
        ];
        let node = start_node(&cfg, &rt, observers)?;
        out.emit(
            "node_started",
            json!({ "node": i, "enode": node.enode.to_string(), "client": node.client_id }),
        );
        nodes.push(node);
        stats.push(st);
    }
    let deadline = started + args.duration;
    let mut next_progress = started;
    loop {
        let counts: Vec<usize> = nodes.iter().map(peer_count).collect();
        let done = counts.iter().all(|c| *c >= target);
        if Instant::now() >= next_progress || done {
            out.emit(
                "progress",
                json!({
                    "elapsed_s": round2(started.elapsed().as_secs_f64()),
                    "peers": counts,
                    "target": target,
                }),
            );
            next_progress += PROGRESS_EVERY;
        }
        if (done && !args.full) || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let traffic = (args.txs > 0 || args.blocks > 0).then(|| {
        let chain_id = paxeer_p2p_core::eth::ChainSpec::paxeer_devnet().chain_id;
        let t = devnet_traffic::run(&nodes, &seen, args.txs, args.blocks, chain_id, TRAFFIC_WAIT);
        out.emit("traffic", t.clone());
        t
    });
    let rows: Vec<Value> = nodes
        .iter()
        .zip(&stats)
        .enumerate()
        .map(|(i, (n, st))| node_row(i, n, st))
        .collect();
    let reached = rows
        .iter()
        .filter(|r| r["peers"].as_u64().unwrap_or(0) >= target as u64)
        .count();
    if !out.json {
        print_table(&rows);
    }
    out.emit(
        "summary",
        json!({
            "nodes": args.nodes,
            "runtime": format!("{:?}", args.runtime).to_lowercase(),
            "target": target,
            "reached": reached,
            "elapsed_s": round2(started.elapsed().as_secs_f64()),
            "per_node": rows,
            "traffic": traffic,
        }),
    );
    for n in nodes {
        n.shutdown();
    }
    if reached == args.nodes {
        Ok(())
    } else {
        Err(format!(
            "{reached} of {} nodes reached {target} peers within {:?}",
            args.nodes, args.duration
        ))
    }
}

fn observer(st: Arc<Mutex<NodeStats>>, started: Instant, target: usize) -> Observer {
    Box::new(move |host, ev| {
        let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
        match ev {
            HostEvent::PeerConnected { .. } => {
                s.connected += 1;
                if s.reached.is_none() && host.peer_count(None) >= target {
                    s.reached = Some(started.elapsed());
                }
            }
            HostEvent::PeerDisconnected { reason, .. } => {
                let key = match reason.disconnect_reason() {
                    Some(r) => r.as_str().to_string(),
                    None => "connection closed".into(),
                };
                *s.disconnects.entry(key).or_default() += 1;
            }
            _ => {}
        }
    })
}

fn peer_count(n: &RunningNode) -> usize {
    n.host.call(|d, _| d.host().peer_count(None)).unwrap_or(0)
}

fn node_row(i: usize, n: &RunningNode, st: &Arc<Mutex<NodeStats>>) -> Value {
    let snapshot = n
        .host
        .call(|d, _| {
            let h = d.host();
            (
                h.peer_count(Some(paxeer_p2p_core::types::Direction::Inbound)),
                h.peer_count(Some(paxeer_p2p_core::types::Direction::Outbound)),
                h.metrics().clone(),
            )
        })
        .unwrap_or((0, 0, HostMetrics::default()));
    let (inbound, outbound, m) = snapshot;
    let s = st.lock().unwrap_or_else(|p| p.into_inner());
    let bytes_in: u64 = m.ingress.values().map(|t| t.bytes).sum();
    let bytes_out: u64 = m.egress.values().map(|t| t.bytes).sum();
    let dial_errors: u64 = m.dial_errors.values().sum();
    json!({
        "node": i,
        "peers": inbound + outbound,
        "inbound": inbound,
        "outbound": outbound,
        "reached_s": s.reached.map(|d| round2(d.as_secs_f64())),
        "handshakes": m.handshakes,
        "dials": m.dial_attempts,
        "dial_errors": dial_errors,
        "payload_bytes_in": bytes_in,
        "payload_bytes_out": bytes_out,
        "disconnects": s.disconnects,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn print_table(rows: &[Value]) {
    println!(
        "{:>4} {:>5} {:>4} {:>4} {:>9} {:>10} {:>6} {:>9} {:>9}  disconnects",
        "node", "peers", "in", "out", "reached", "handshakes", "dials", "bytes_in", "bytes_out"
    );
    for r in rows {
        let reached = r["reached_s"]
            .as_f64()
            .map_or("-".to_string(), |s| format!("{s:.2}s"));
        let disc = r["disconnects"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        println!(
            "{:>4} {:>5} {:>4} {:>4} {:>9} {:>10} {:>6} {:>9} {:>9}  {}",
            r["node"],
            r["peers"],
            r["inbound"],
            r["outbound"],
            reached,
            r["handshakes"],
            r["dials"],
            r["payload_bytes_in"],
            r["payload_bytes_out"],
            disc
        );
    }
}
