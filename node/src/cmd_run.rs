//! `run`: the paxeer-p2p daemon. Resolves settings (flags over the config file over
//! defaults), starts the node, serves the admin JSON-RPC and Prometheus metrics (loopback
//! unless the operator opts in), and on SIGINT/SIGTERM disconnects every peer with
//! "client quitting" and flushes the node database.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use serde_json::json;

use crate::admin::http::{self, HttpRequest, HttpResponse, HttpServer};
use crate::admin::rpc;
use crate::config::{self, NodeKeySource, RunArgs, Settings};
use crate::daemon::{
    admin_backend::NodeAdmin,
    metrics_sync::{event_observer, MetricsSync},
    start_node, KeySource, NodeConfig, Rt,
};
use crate::eth::spec::load_chain;
use crate::logging;
use crate::metrics::{metrics_handler, Metrics};
use crate::output::Output;

/// Where the node keeps its data when `--datadir` is not given: nothing persists.
fn node_config(s: &Settings, datadir: std::path::PathBuf) -> NodeConfig {
    let mut cfg = NodeConfig::new(datadir);
    cfg.key = match &s.node_key {
        NodeKeySource::DataDir => KeySource::DataDir,
        NodeKeySource::File(p) => KeySource::File(p.clone()),
        NodeKeySource::Hex(k) => KeySource::Hex(hex::encode(k.secret_bytes())),
    };
    cfg.identity = s.identity.clone();
    cfg.listen = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), s.port);
    cfg.discovery_port = s.discovery.then_some(s.discovery_port);
    cfg.bootnodes = s.bootnodes.clone();
    cfg.static_nodes = s.static_nodes.clone();
    cfg.trusted_nodes = s.trusted_nodes.clone();
    cfg.max_peers = s.max_peers;
    cfg.max_pending = s.max_pending_peers;
    cfg.dial_ratio = s.dial_ratio;
    cfg.memory_budget = s.memory_budget;
    cfg.netrestrict = s.netrestrict.clone();
    cfg.ext_ip = match s.nat {
        config::Nat::ExtIp(ip) => Some(ip),
        config::Nat::None => None,
    };
    cfg.runtime = s.runtime;
    cfg.network_id = s.network_id;
    cfg.prestate = s.prestate.clone();
    cfg
}

/// Runs the daemon until SIGINT or SIGTERM.
pub fn run(args: RunArgs, out: Output) -> Result<(), String> {
    let settings = config::load(&args).map_err(|e| e.to_string())?;
    logging::init_logging(settings.verbosity, settings.log_format);
    let ephemeral = match &settings.datadir {
        Some(_) => None,
        None => Some(
            tempfile::Builder::new()
                .prefix("paxeer-p2p-")
                .tempdir()
                .map_err(|e| format!("temporary directory: {e}"))?,
        ),
    };
    let datadir = match (&settings.datadir, &ephemeral) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => return Err("no data directory".into()),
    };
    let mut cfg = node_config(&settings, datadir);
    cfg.chain = load_chain(settings.chain.as_deref())?;
    let rt = Rt::new(settings.runtime)?;
    let metrics = Arc::new(Metrics::new());
    let node = start_node(&cfg, &rt, vec![event_observer(metrics.clone())])?;
    let enode = node.enode.to_string();
    tracing::info!(
        enode = %enode,
        client = %node.client_id,
        tcp = %node.tcp_addr,
        udp = ?node.udp_addr,
        runtime = ?settings.runtime,
        max_peers = settings.max_peers,
        chain = %cfg.chain.name,
        network_id = cfg.network_id.unwrap_or(cfg.chain.network_id),
        "node started"
    );
    let admin = NodeAdmin {
        host: node.host.clone(),
        ping: node.ping,
        eth: node.eth,
        enode: enode.clone(),
        name: node.client_id.clone(),
    };
    let http_server = match settings.http {
        Some(addr) => Some(serve_admin(addr, admin)?),
        None => None,
    };
    let metrics_server = match settings.metrics {
        Some(addr) => Some(serve_metrics(addr, metrics, node.host.clone(), node.eth)?),
        None => None,
    };
    let signal = install_signal_handler();
    out.emit(
        "started",
        json!({
            "enode": enode,
            "client": node.client_id,
            "tcp": node.tcp_addr.to_string(),
            "udp": node.udp_addr.map(|a| a.to_string()),
            "http": http_server.as_ref().map(|s| s.local_addr().to_string()),
            "metrics": metrics_server.as_ref().map(|s| s.local_addr().to_string()),
        }),
    );
    let _ = signal.recv();
    tracing::info!("shutting down: disconnecting peers");
    out.emit("stopping", json!({}));
    if let Some(s) = http_server {
        s.shutdown();
    }
    if let Some(s) = metrics_server {
        s.shutdown();
    }
    node.shutdown();
    out.emit("stopped", json!({}));
    drop(ephemeral);
    Ok(())
}

fn serve_admin(addr: SocketAddr, admin: NodeAdmin) -> Result<HttpServer, String> {
    let handler: http::Handler =
        Arc::new(move |req: &HttpRequest| -> HttpResponse { rpc::handle_http(&admin, req) });
    let server = http::serve(addr, handler).map_err(|e| format!("admin http on {addr}: {e}"))?;
    tracing::info!(addr = %server.local_addr(), "admin JSON-RPC listening");
    Ok(server)
}

fn serve_metrics(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    host: crate::daemon::HostRef,
    eth: paxeer_p2p_core::protocol::ProtocolId,
) -> Result<HttpServer, String> {
    let sync = MetricsSync::new(metrics.clone(), eth);
    let inner = metrics_handler(metrics);
    let handler: http::Handler = Arc::new(move |req: &HttpRequest| {
        if req.path == "/metrics" {
            sync.refresh(&host);
        }
        inner(req)
    });
    let server = http::serve(addr, handler).map_err(|e| format!("metrics on {addr}: {e}"))?;
    tracing::info!(addr = %server.local_addr(), "metrics listening");
    Ok(server)
}

/// Installs the SIGINT/SIGTERM handler (the `ctrlc` crate's `termination` feature) before the
/// node says it started, so a signal sent right after the `started` line is never lost; the
/// receiver yields once the signal arrives.
fn install_signal_handler() -> std::sync::mpsc::Receiver<()> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    if ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .is_err()
    {
        tracing::warn!("could not install the signal handler; stop with SIGKILL");
    }
    rx
}
