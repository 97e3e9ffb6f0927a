//! `rlpx ping` and `rlpx listen`: talk to any devp2p node at the transport level.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use paxeer_p2p_core::driver::EstablishedInfo;
use paxeer_p2p_core::enode::Enode;
use paxeer_p2p_core::p2p::caps::parse_protocol_list;
use paxeer_p2p_core::p2p::DisconnectReason;
use paxeer_p2p_core::session::{CloseReason, SessionConfig, SessionEvent};
use serde_json::{json, Value};

use crate::cmd_key::OptionalKeySource;
use crate::output::Output;
use crate::rt::{self, Incoming, Listener, Runtime, RuntimeKind, Smol, Tokio};

/// How long `rlpx ping` waits for the Pong.
const PONG_WAIT: Duration = Duration::from_secs(10);
/// How long `rlpx ping` waits for the session to close after Disconnect.
const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// Overall limit on dialing plus handshake for `rlpx ping`.
const DIAL_WAIT: Duration = Duration::from_secs(15);

/// RLPx subcommands.
#[derive(Subcommand, Debug)]
pub enum RlpxCmd {
    /// Handshake, Hello, one Ping/Pong and Disconnect(client quitting) with a node.
    Ping {
        /// The node's enode URL.
        enode: String,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        key: OptionalKeySource,
    },
    /// Accepts sessions and reports each Hello and disconnect.
    Listen {
        /// TCP port (0 picks a free one).
        #[arg(long, default_value_t = 30303)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        addr: IpAddr,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        key: OptionalKeySource,
    },
}

/// Options shared by the RLPx commands.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Runtime to drive the sessions.
    #[arg(long, value_enum, default_value_t = RuntimeKind::Tokio)]
    pub runtime: RuntimeKind,
    /// Capabilities to advertise in Hello (known names, or name/version:count).
    #[arg(long, default_value = "eth/68,eth/69,eth/70")]
    pub caps: String,
}

impl Common {
    /// A session configuration with these capabilities.
    pub fn session_config(
        &self,
        key: secp256k1::SecretKey,
        listen_port: u16,
    ) -> Result<SessionConfig, String> {
        let protocols = parse_protocol_list(&self.caps).map_err(|e| e.to_string())?;
        let mut cfg = SessionConfig::new(key, crate::client_id(), protocols);
        cfg.listen_port = listen_port;
        Ok(cfg)
    }
}

/// Runs an RLPx subcommand.
pub fn run(cmd: RlpxCmd, out: Output) -> Result<(), String> {
    match cmd {
        RlpxCmd::Ping { enode, common, key } => {
            let enode: Enode = enode.parse().map_err(|e| format!("bad enode: {e}"))?;
            let cfg = Arc::new(common.session_config(key.load()?, 0)?);
            match common.runtime {
                RuntimeKind::Tokio => Tokio::block_on(ping::<Tokio>(enode, cfg, out)),
                RuntimeKind::Smol => Smol::block_on(ping::<Smol>(enode, cfg, out)),
            }
        }
        RlpxCmd::Listen {
            port,
            addr,
            common,
            key,
        } => {
            let cfg = common.session_config(key.load()?, port)?;
            match common.runtime {
                RuntimeKind::Tokio => {
                    Tokio::block_on(listen::<Tokio>(SocketAddr::new(addr, port), cfg, out))
                }
                RuntimeKind::Smol => {
                    Smol::block_on(listen::<Smol>(SocketAddr::new(addr, port), cfg, out))
                }
            }
        }
    }
}

/// The remote Hello as a JSON object.
pub fn hello_json(info: &EstablishedInfo) -> Value {
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1e3);
    json!({
        "id": info.remote.to_hex(),
        "client_id": info.hello.client_id,
        "protocol_version": info.hello.protocol_version,
        "caps": info.hello.capabilities.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        "listen_port": info.hello.listen_port,
        "shared": info.caps.iter().map(|(_, c)| json!({"cap": c.cap.to_string(), "offset": c.offset, "length": c.message_count})).collect::<Vec<_>>(),
        "direction": info.direction.as_str(),
        "handshake_ms": ms(info.timings.handshake),
        "hello_ms": ms(info.timings.established),
    })
}

/// A close reason as JSON fields.
pub fn close_json(reason: &CloseReason) -> Value {
    json!({
        "reason": reason.to_string(),
        "reason_code": reason.disconnect_reason().map(|r| r.code()),
        "by": if reason.by_remote() { "remote" } else { "local" },
    })
}

async fn ping<R: Runtime>(
    enode: Enode,
    cfg: Arc<SessionConfig>,
    out: Output,
) -> Result<(), String> {
    let mut peer =
        rt::timeout::<R, _>(DIAL_WAIT, rt::connect::<R>(enode.tcp_addr(), enode.id, cfg))
            .await
            .ok_or("timed out dialing")?
            .map_err(|e| e.to_string())?;
    out.emit("hello", hello_json(peer.info()));
    peer.ping().await.map_err(|e| e.to_string())?;
    let rtt = rt::timeout::<R, _>(PONG_WAIT, async {
        while let Some(ev) = peer.next_event().await {
            match ev {
                SessionEvent::Pong { rtt } => return Ok(rtt),
                SessionEvent::Closed { reason } => {
                    return Err(format!("session closed before pong: {reason}"))
                }
                _ => {}
            }
        }
        Err("session ended before pong".to_string())
    })
    .await
    .ok_or("no pong within 10 s")??;
    out.emit("pong", json!({ "rtt_ms": rtt.as_secs_f64() * 1e3 }));
    peer.disconnect(DisconnectReason::ClientQuitting)
        .await
        .map_err(|e| e.to_string())?;
    let closed = rt::timeout::<R, _>(CLOSE_WAIT, async {
        while let Some(ev) = peer.next_event().await {
            if let SessionEvent::Closed { reason } = ev {
                return Some(reason);
            }
        }
        None
    })
    .await
    .flatten();
    if let Some(reason) = closed {
        out.emit("disconnect", close_json(&reason));
    }
    Ok(())
}

async fn listen<R: Runtime>(
    addr: SocketAddr,
    cfg: SessionConfig,
    out: Output,
) -> Result<(), String> {
    let id = cfg.local_id();
    let cfg = Arc::new(cfg);
    let mut listener = Listener::bind::<R>(addr, cfg)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    let bound = listener.local_addr();
    let ip = if bound.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        bound.ip()
    };
    let enode = Enode {
        id,
        ip,
        tcp_port: bound.port(),
        udp_port: bound.port(),
    };
    out.emit(
        "listening",
        json!({ "enode": enode.to_string(), "addr": bound.to_string() }),
    );
    while let Some(accepted) = listener.accept().await {
        match accepted {
            Incoming::Established(peer) => {
                let mut peer = *peer;
                let mut hello = hello_json(peer.info());
                if let Value::Object(m) = &mut hello {
                    m.insert("remote_addr".into(), json!(peer.remote_addr().to_string()));
                }
                out.emit("hello", hello);
                R::spawn(async move {
                    let id = peer.info().remote.to_hex();
                    while let Some(ev) = peer.next_event().await {
                        match ev {
                            SessionEvent::Closed { reason } => {
                                let mut v = close_json(&reason);
                                if let Value::Object(m) = &mut v {
                                    m.insert("id".into(), json!(id));
                                }
                                out.emit("disconnect", v);
                            }
                            SessionEvent::Message { cap, msg_id, payload } => out.emit(
                                "message",
                                json!({ "id": id, "cap": cap.0, "msg_id": msg_id, "bytes": payload.len() }),
                            ),
                            _ => {}
                        }
                    }
                });
            }
            Incoming::Failed { addr, error } => {
                out.emit(
                    "handshake_failed",
                    json!({ "remote_addr": addr.to_string(), "error": error.to_string() }),
                );
            }
        }
    }
    Ok(())
}
