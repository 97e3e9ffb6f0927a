//! `devnet`: a local network on loopback. For now two nodes per run: one listens, the other
//! dials it, they exchange Ping/Pong and a message per shared capability, then disconnect;
//! the summary reports each session. Later issues grow this into a multi-node network.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use paxeer_p2p_core::crypto::keys::peer_id_of;
use paxeer_p2p_core::p2p::caps::parse_protocol_list;
use paxeer_p2p_core::p2p::DisconnectReason;
use paxeer_p2p_core::session::{SessionConfig, SessionEvent};
use serde_json::json;

use crate::cmd_rlpx::{close_json, hello_json};
use crate::keyfile;
use crate::output::Output;
use crate::rt::{self, Accepted, Net, Peer, RuntimeKind, Smol, Tokio};

/// Limit on each step of the devnet run.
const STEP_WAIT: Duration = Duration::from_secs(10);

/// Options of `devnet`.
#[derive(Args, Debug)]
pub struct DevnetArgs {
    /// Runtime to use.
    #[arg(long, value_enum, default_value_t = RuntimeKind::Tokio)]
    runtime: RuntimeKind,
    /// Capabilities the nodes advertise.
    #[arg(long, default_value = "eth/68,eth/69,snap/1")]
    caps: String,
}

/// Runs the devnet.
pub fn run(args: DevnetArgs, out: Output) -> Result<(), String> {
    let protocols = parse_protocol_list(&args.caps).map_err(|e| e.to_string())?;
    let make = |name: &str| {
        SessionConfig::new(
            keyfile::generate(),
            format!("{}/{name}", crate::client_id()),
            protocols.clone(),
        )
    };
    let (a, b) = (make("node-0"), make("node-1"));
    match args.runtime {
        RuntimeKind::Tokio => Tokio::block_on(devnet::<Tokio>(a, b, out)),
        RuntimeKind::Smol => Smol::block_on(devnet::<Smol>(a, b, out)),
    }
}

async fn devnet<N: Net>(
    listen_cfg: SessionConfig,
    dial_cfg: SessionConfig,
    out: Output,
) -> Result<(), String> {
    let started = Instant::now();
    let listen_id = peer_id_of(&listen_cfg.secret_key);
    let mut listener = N::bind(SocketAddr::from(([127, 0, 0, 1], 0)), Arc::new(listen_cfg))
        .await
        .map_err(|e| e.to_string())?;
    let addr = N::local_addr(&listener);
    out.emit(
        "node",
        json!({ "name": "node-0", "enode": format!("enode://{}@{addr}", listen_id.to_hex()) }),
    );
    let dial = N::connect(addr, listen_id, Arc::new(dial_cfg));
    let accept = async { N::accept(&mut listener).await };
    let (dialed, accepted) = futures_lite::future::zip(dial, accept).await;
    let mut outbound = dialed?;
    let mut inbound = match accepted {
        Some(Accepted::Peer(p)) => p,
        Some(Accepted::Failed { error, .. }) => {
            return Err(format!("inbound session failed: {error}"))
        }
        None => return Err("listener stopped".into()),
    };
    out.emit("session", hello_json(outbound.info()));
    out.emit("session", hello_json(inbound.info()));

    // One message per shared capability, each way, and a ping.
    let caps: Vec<_> = outbound
        .info()
        .caps
        .iter()
        .map(|(id, c)| (id, c.cap.to_string()))
        .collect();
    for (cap, _) in &caps {
        outbound.send(*cap, 0, vec![0xc0]).await?;
        inbound.send(*cap, 0, vec![0xc0]).await?;
    }
    outbound.ping().await?;
    let (mut got_out, mut got_in, mut rtt) = (0, 0, None);
    rt::timeout::<N, _>(STEP_WAIT, async {
        while got_out < caps.len() || rtt.is_none() {
            match outbound.next_event().await {
                Some(SessionEvent::Message { .. }) => got_out += 1,
                Some(SessionEvent::Pong { rtt: r }) => rtt = Some(r),
                Some(_) => {}
                None => break,
            }
        }
        while got_in < caps.len() {
            match inbound.next_event().await {
                Some(SessionEvent::Message { .. }) => got_in += 1,
                Some(_) => {}
                None => break,
            }
        }
    })
    .await
    .ok_or("timed out exchanging messages")?;
    outbound
        .disconnect(DisconnectReason::ClientQuitting)
        .await?;
    let closed = rt::timeout::<N, _>(STEP_WAIT, async {
        while let Some(ev) = inbound.next_event().await {
            if let SessionEvent::Closed { reason } = ev {
                return Some(reason);
            }
        }
        None
    })
    .await
    .flatten()
    .ok_or("inbound side did not see the disconnect")?;
    out.emit("disconnect", close_json(&closed));
    out.emit(
        "summary",
        json!({
            "nodes": 2,
            "sessions": 2,
            "shared_caps": caps.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
            "messages_each_way": caps.len(),
            "rtt_ms": rtt.map(|d| d.as_secs_f64() * 1e3),
            "elapsed_ms": started.elapsed().as_secs_f64() * 1e3,
        }),
    );
    if got_out != caps.len() || got_in != caps.len() {
        return Err("messages were lost".into());
    }
    Ok(())
}
