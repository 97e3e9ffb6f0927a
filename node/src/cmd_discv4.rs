//! `discv4 ping|resolve|crawl|listen` and `enr decode`.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use paxeer_p2p_core::discv4::packet::{Endpoint, NodeRecord};
use paxeer_p2p_core::discv4::{Discv4, Discv4Config, Discv4Event, NodeEntry, RequestId};
use paxeer_p2p_core::driver::discovery::{DiscReply, DiscRequest};
use paxeer_p2p_core::driver::os_seed;
use paxeer_p2p_core::enode::Enode;
use paxeer_p2p_core::enr::{Enr, LocalEnr};
use paxeer_p2p_core::netutil::Netlist;
use paxeer_p2p_core::nodedb::{MemoryNodeDb, NodeDb};
use paxeer_p2p_core::types::{PeerId, WallClock};
use serde_json::{json, Value};

use crate::cmd_key::OptionalKeySource;
use crate::datadir::DataDir;
use crate::nodedb::RedbNodeDb;
use crate::output::Output;
use crate::rt::{self, Discovery, Runtime, RuntimeKind, Smol, Tokio};

/// How long `discv4 ping` and `resolve` wait for an answer (bonding included).
const REQUEST_WAIT: Duration = Duration::from_secs(10);

/// discv4 subcommands.
#[derive(Subcommand, Debug)]
pub enum Discv4Cmd {
    /// Pings a node and prints the round-trip time.
    Ping {
        /// The node's enode URL.
        enode: String,
        #[command(flatten)]
        common: DiscCommon,
    },
    /// Fetches a node's newest ENR.
    Resolve {
        /// The node's enode URL.
        enode: String,
        #[command(flatten)]
        common: DiscCommon,
    },
    /// Walks the network from bootnodes, printing every node found with its record.
    Crawl {
        /// Comma-separated enode URLs.
        #[arg(long, required = true)]
        bootnodes: String,
        /// How long to crawl (e.g. `30s`, `2m`).
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        timeout: Duration,
        #[command(flatten)]
        common: DiscCommon,
    },
    /// Runs a discovery-only node.
    Listen {
        /// UDP port (0 picks a free one).
        #[arg(long, default_value_t = 30303)]
        port: u16,
        /// Data directory (node key and node database); without it, nothing persists.
        #[arg(long)]
        datadir: Option<PathBuf>,
        /// Comma-separated enode URLs.
        #[arg(long, default_value = "")]
        bootnodes: String,
        #[command(flatten)]
        common: DiscCommon,
    },
}

/// Options shared by the discv4 commands.
#[derive(Args, Debug, Clone)]
pub struct DiscCommon {
    /// Runtime.
    #[arg(long, value_enum, default_value_t = RuntimeKind::Tokio)]
    pub runtime: RuntimeKind,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub addr: IpAddr,
    /// `extip:IP` announces a fixed external IP; `none` (default) predicts it from peers.
    #[arg(long, default_value = "none")]
    pub nat: String,
    /// Only talk to nodes inside these networks (comma-separated CIDRs).
    #[arg(long)]
    pub netrestrict: Option<String>,
    #[command(flatten)]
    pub key: OptionalKeySource,
}

/// `enr` subcommands.
#[derive(Subcommand, Debug)]
pub enum EnrCmd {
    /// Decodes a record: fields, node id, signature validity.
    Decode {
        /// The record (`enr:…`).
        enr: String,
    },
}

/// Parses `30s`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
    if !(0.0..=1e9).contains(&v) {
        return Err(format!("invalid duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(v * mult))
}

/// The external IP from `--nat`.
fn parse_nat(s: &str) -> Result<Option<IpAddr>, String> {
    match s {
        "none" | "" => Ok(None),
        other => other
            .strip_prefix("extip:")
            .and_then(|ip| ip.parse().ok())
            .map(Some)
            .ok_or_else(|| format!("invalid --nat {other:?} (want none or extip:IP)")),
    }
}

/// An enode as a discv4 node record.
pub fn record_of(e: &Enode) -> NodeRecord {
    NodeRecord {
        endpoint: Endpoint {
            ip: e.ip,
            udp: e.udp_port,
            tcp: e.tcp_port,
        },
        id: e.id,
    }
}

fn parse_enodes(list: &str) -> Result<Vec<NodeRecord>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Enode>()
                .map(|e| record_of(&e))
                .map_err(|err| format!("bad enode {s:?}: {err}"))
        })
        .collect()
}

/// Time since the unix epoch.
pub fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Everything needed to build a discovery machine once the socket is bound.
pub struct DiscSetup {
    /// Static key.
    pub key: secp256k1::SecretKey,
    /// TCP port to announce (0: none).
    pub tcp_port: u16,
    /// Fixed external IP.
    pub ext_ip: Option<IpAddr>,
    /// Bootnodes.
    pub bootnodes: Vec<NodeRecord>,
    /// Allowed networks.
    pub netrestrict: Option<Netlist>,
    /// Node database.
    pub db: Box<dyn NodeDb>,
}

impl DiscSetup {
    /// The machine for a socket bound at `bound`.
    pub fn build(self, bound: SocketAddr) -> Discv4 {
        let now = Instant::now();
        let unix = unix_now();
        // A wiped database never reuses a sequence number: start from the time in ms.
        let seq = self.db.local_seq().unwrap_or(unix.as_millis() as u64);
        let mut enr = LocalEnr::new(self.key, seq);
        let ip = self.ext_ip.unwrap_or(bound.ip());
        let announce_ip = (!ip.is_unspecified()).then_some(ip);
        enr.set_endpoint(announce_ip, self.tcp_port, bound.port());
        let mut cfg = Discv4Config::new(
            self.key,
            Endpoint {
                ip,
                udp: bound.port(),
                tcp: self.tcp_port,
            },
        );
        cfg.bootnodes = self.bootnodes;
        cfg.ext_ip = self.ext_ip;
        cfg.netrestrict = self.netrestrict;
        let clock = WallClock {
            at: now,
            unix_secs: unix.as_secs(),
        };
        Discv4::new(cfg, enr, clock, now, os_seed(), self.db)
    }
}

/// Runs a discv4 subcommand.
pub fn run(cmd: Discv4Cmd, out: Output) -> Result<(), String> {
    let runtime = match &cmd {
        Discv4Cmd::Ping { common, .. }
        | Discv4Cmd::Resolve { common, .. }
        | Discv4Cmd::Crawl { common, .. }
        | Discv4Cmd::Listen { common, .. } => common.runtime,
    };
    match runtime {
        RuntimeKind::Tokio => Tokio::block_on(run_on::<Tokio>(cmd, out)),
        RuntimeKind::Smol => Smol::block_on(run_on::<Smol>(cmd, out)),
    }
}

async fn run_on<R: Runtime>(cmd: Discv4Cmd, out: Output) -> Result<(), String> {
    match cmd {
        Discv4Cmd::Ping { enode, common } => {
            let target = record_of(
                &enode
                    .parse::<Enode>()
                    .map_err(|e| format!("bad enode: {e}"))?,
            );
            let (mut disc, _) = start::<R>(&common, 0, Vec::new(), None).await?;
            let started = Instant::now();
            let id = request_id(ask(&disc, DiscRequest::Ping(target)).await?)?;
            let res = wait_for(&mut disc, id).await;
            disc.shutdown().await;
            match res? {
                Discv4Event::PongReceived { rtt, enr_seq, .. } => {
                    out.emit("pong", json!({ "rtt_ms": rtt.as_secs_f64() * 1e3, "enr_seq": enr_seq, "elapsed_ms": started.elapsed().as_secs_f64() * 1e3 }));
                    Ok(())
                }
                other => Err(format!("unexpected answer {other:?}")),
            }
        }
        Discv4Cmd::Resolve { enode, common } => {
            let target = record_of(
                &enode
                    .parse::<Enode>()
                    .map_err(|e| format!("bad enode: {e}"))?,
            );
            let (mut disc, _) = start::<R>(&common, 0, Vec::new(), None).await?;
            let id = request_id(ask(&disc, DiscRequest::RequestEnr(target)).await?)?;
            let res = wait_for(&mut disc, id).await;
            disc.shutdown().await;
            match res? {
                Discv4Event::EnrReceived { record, .. } => {
                    out.emit("enr", enr_json(&record, true));
                    Ok(())
                }
                other => Err(format!("unexpected answer {other:?}")),
            }
        }
        Discv4Cmd::Crawl {
            bootnodes,
            timeout,
            common,
        } => crawl::<R>(common, parse_enodes(&bootnodes)?, timeout, out).await,
        Discv4Cmd::Listen {
            port,
            datadir,
            bootnodes,
            common,
        } => listen::<R>(common, port, datadir, parse_enodes(&bootnodes)?, out).await,
    }
}

async fn start<R: Runtime>(
    common: &DiscCommon,
    port: u16,
    bootnodes: Vec<NodeRecord>,
    datadir: Option<&DataDir>,
) -> Result<(Discovery, PeerId), String> {
    let (key, db): (_, Box<dyn NodeDb>) = match datadir {
        Some(dir) => (
            match common.key.explicit()? {
                Some(key) => key,
                None => dir.node_key()?,
            },
            Box::new(RedbNodeDb::open(&dir.nodes_db()).map_err(|e| e.to_string())?),
        ),
        None => (common.key.load()?, Box::new(MemoryNodeDb::new())),
    };
    let id = paxeer_p2p_core::crypto::keys::peer_id_of(&key);
    let netrestrict = common
        .netrestrict
        .as_deref()
        .map(Netlist::parse)
        .transpose()
        .map_err(|e| format!("--netrestrict: {e}"))?;
    let setup = DiscSetup {
        key,
        tcp_port: 0,
        ext_ip: parse_nat(&common.nat)?,
        bootnodes,
        netrestrict,
        db,
    };
    let disc = Discovery::start::<R>(SocketAddr::new(common.addr, port), move |bound| {
        setup.build(bound)
    })
    .await
    .map_err(|e| format!("bind udp {}:{port}: {e}", common.addr))?;
    Ok((disc, id))
}

/// Sends a request to the discovery task and waits for its reply.
async fn ask(disc: &Discovery, req: DiscRequest) -> Result<DiscReply, String> {
    disc.request(req).await.map_err(|e| e.to_string())
}

fn request_id(reply: DiscReply) -> Result<RequestId, String> {
    match reply {
        DiscReply::Request(id) => Ok(id),
        other => Err(format!("unexpected reply {other:?}")),
    }
}

/// Waits for the event that answers request `id`.
async fn wait_for(disc: &mut Discovery, id: RequestId) -> Result<Discv4Event, String> {
    let deadline = Instant::now() + REQUEST_WAIT;
    loop {
        if Instant::now() >= deadline {
            return Err("no answer".into());
        }
        match disc.next_event().await {
            Some(
                ev @ (Discv4Event::PongReceived { id: i, .. }
                | Discv4Event::EnrReceived { id: i, .. }),
            ) if i == id => return Ok(ev),
            Some(Discv4Event::RequestFailed { id: i }) if i == id => {
                return Err("request timed out (no answer)".into())
            }
            Some(_) => {}
            None => return Err("discovery stopped".into()),
        }
    }
}

/// A node entry as JSON: 128-hex id, endpoint, and the record's fields when known.
pub fn node_json(n: &NodeEntry) -> Value {
    let mut v = json!({
        "id": n.record.id.to_hex(),
        "node_id": n.id.to_string(),
        "ip": n.record.endpoint.ip.to_string(),
        "udp": n.record.endpoint.udp,
        "tcp": n.record.endpoint.tcp,
    });
    if let (Some(enr), Value::Object(m)) = (&n.enr, &mut v) {
        m.insert("enr".into(), enr_json(enr, false));
    }
    v
}

/// A record's fields as JSON.
pub fn enr_json(e: &Enr, with_text: bool) -> Value {
    let entries: serde_json::Map<String, Value> = e
        .entries()
        .into_iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                json!(hex::encode(v)),
            )
        })
        .collect();
    let mut v = json!({
        "seq": e.seq(),
        "id": e.public_key().to_hex(),
        "node_id": e.node_id().to_string(),
        "ip": e.ip4().map(|i| i.to_string()),
        "ip6": e.ip6().map(|i| i.to_string()),
        "tcp": e.tcp4(),
        "udp": e.udp4(),
        "tcp6": e.tcp6(),
        "udp6": e.udp6(),
        "entries": entries,
    });
    if let (true, Value::Object(m)) = (with_text, &mut v) {
        m.insert("enr".into(), json!(e.to_text()));
    }
    v
}

async fn crawl<R: Runtime>(
    common: DiscCommon,
    bootnodes: Vec<NodeRecord>,
    timeout: Duration,
    out: Output,
) -> Result<(), String> {
    if bootnodes.is_empty() {
        return Err("crawl needs --bootnodes".into());
    }
    let (mut disc, _) = start::<R>(&common, 0, bootnodes, None).await?;
    let mut seen = BTreeSet::new();
    let mut enr_requests = std::collections::BTreeMap::new();
    let deadline = Instant::now() + timeout;
    let mut rng_target = 0u64;
    let random_target = |n: &mut u64| {
        *n += 1;
        let mut id = [0u8; 64];
        for (i, b) in id.iter_mut().enumerate() {
            *b = (n
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(i as u32 % 64)
                >> (i % 8)) as u8;
        }
        PeerId(id)
    };
    ask(&disc, DiscRequest::Lookup(random_target(&mut rng_target))).await?;
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(ev) = rt::timeout::<R, _>(left, disc.next_event()).await.flatten() else {
            break;
        };
        match ev {
            Discv4Event::NodeAdded(n) if seen.insert(n.id) => {
                let id = request_id(ask(&disc, DiscRequest::RequestEnr(n.record)).await?)?;
                enr_requests.insert(id, n);
            }
            Discv4Event::LookupDone { nodes, .. } => {
                for n in nodes {
                    if seen.insert(n.id) {
                        let id = request_id(ask(&disc, DiscRequest::RequestEnr(n.record)).await?)?;
                        enr_requests.insert(id, n);
                    }
                }
                ask(&disc, DiscRequest::Lookup(random_target(&mut rng_target))).await?;
            }
            Discv4Event::EnrReceived { id, record } => {
                if let Some(mut n) = enr_requests.remove(&id) {
                    n.enr = Some(record);
                    out.emit("node", node_json(&n));
                }
            }
            Discv4Event::RequestFailed { id } => {
                if let Some(n) = enr_requests.remove(&id) {
                    out.emit("node", node_json(&n));
                }
            }
            _ => {}
        }
    }
    for n in enr_requests.values() {
        out.emit("node", node_json(n));
    }
    out.emit("crawl_done", json!({ "nodes": seen.len() }));
    disc.shutdown().await;
    Ok(())
}

async fn listen<R: Runtime>(
    common: DiscCommon,
    port: u16,
    datadir: Option<PathBuf>,
    bootnodes: Vec<NodeRecord>,
    out: Output,
) -> Result<(), String> {
    let dir = datadir.as_deref().map(DataDir::open).transpose()?;
    let (mut disc, id) = start::<R>(&common, port, bootnodes, dir.as_ref()).await?;
    let bound = disc.local_addr();
    let ip = if bound.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        bound.ip()
    };
    let enode = Enode {
        id,
        ip,
        tcp_port: 0,
        udp_port: bound.port(),
    };
    let enr = match ask(&disc, DiscRequest::Snapshot).await? {
        DiscReply::Snapshot(s) => Some(s.enr.to_text()),
        _ => None,
    };
    let stop = rt::on_ctrl_c();
    out.emit(
        "listening",
        json!({ "enode": enode.to_string(), "enr": enr, "addr": bound.to_string() }),
    );
    futures_lite::pin!(stop);
    loop {
        let next = futures_lite::future::or(async { Some(disc.next_event().await) }, async {
            (&mut stop).await;
            None
        })
        .await;
        match next {
            None => break,
            Some(None) => break,
            Some(Some(Discv4Event::NodeAdded(n))) => out.emit("node_added", node_json(&n)),
            Some(Some(Discv4Event::NodeRemoved(n))) => out.emit("node_removed", node_json(&n)),
            Some(Some(Discv4Event::ExternalEndpoint(addr))) => {
                out.emit("external_endpoint", json!({ "addr": addr.to_string() }))
            }
            Some(Some(_)) => {}
        }
    }
    disc.shutdown().await;
    out.emit("stopped", json!({}));
    Ok(())
}

/// Runs an `enr` subcommand.
pub fn run_enr(cmd: EnrCmd, out: Output) -> Result<(), String> {
    match cmd {
        EnrCmd::Decode { enr } => match Enr::from_text(&enr) {
            Ok(rec) => {
                let mut v = enr_json(&rec, false);
                if let Value::Object(m) = &mut v {
                    m.insert("signature_valid".into(), json!(true));
                }
                out.emit("enr", v);
                Ok(())
            }
            Err(e) => {
                out.emit(
                    "enr",
                    json!({ "signature_valid": false, "error": e.to_string() }),
                );
                Err(format!("invalid record: {e}"))
            }
        },
    }
}
