//! One interface over the two runtime crates, so each command is written once and runs on
//! either (`--runtime tokio|smol`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use paxeer_p2p_core::discv4::{Discv4, Discv4Event};
use paxeer_p2p_core::driver::discovery::{DiscReply, DiscRequest};
use paxeer_p2p_core::driver::EstablishedInfo;
use paxeer_p2p_core::p2p::DisconnectReason;
use paxeer_p2p_core::session::{SessionConfig, SessionEvent};
use paxeer_p2p_core::types::PeerId;

/// The runtime to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeKind {
    /// tokio (multi-threaded).
    Tokio,
    /// smol.
    Smol,
}

/// An established session, whatever the runtime.
pub trait Peer: Send + 'static {
    /// Peer identity, Hello, capabilities, timings.
    fn info(&self) -> &EstablishedInfo;
    /// The remote socket address.
    fn remote_addr(&self) -> SocketAddr;
    /// Sends a p2p Ping.
    fn ping(&self) -> impl Future<Output = Result<(), String>> + Send;
    /// Disconnects.
    fn disconnect(
        &self,
        reason: DisconnectReason,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Next event; `None` after `Closed`.
    fn next_event(&mut self) -> impl Future<Output = Option<SessionEvent>> + Send;
}

/// A running discovery task, whatever the runtime.
pub trait Disc: Send + 'static {
    /// The bound UDP address.
    fn local_addr(&self) -> SocketAddr;
    /// Sends a request and waits for the reply.
    fn request(&self, req: DiscRequest) -> impl Future<Output = Result<DiscReply, String>> + Send;
    /// The next event.
    fn next_event(&mut self) -> impl Future<Output = Option<Discv4Event>> + Send;
    /// Stops and flushes the node database.
    fn shutdown(self) -> impl Future<Output = ()> + Send;
}

/// What a listener yields.
pub enum Accepted<P> {
    /// An established inbound session.
    Peer(P),
    /// A connection that failed before Hello.
    Failed {
        /// Remote address.
        addr: SocketAddr,
        /// Why.
        error: String,
    },
}

/// A runtime: dial, listen, spawn, sleep, block.
pub trait Net: Send + Sync + 'static {
    /// Session handle type.
    type Peer: Peer;
    /// Listener type.
    type Listener: Send + 'static;
    /// Discovery task type.
    type Disc: Disc;
    /// Binds a UDP socket and starts discovery with the machine `make` builds for it.
    fn start_discovery(
        addr: SocketAddr,
        make: impl FnOnce(SocketAddr) -> Discv4 + Send + 'static,
    ) -> impl Future<Output = io::Result<Self::Disc>> + Send;
    /// Dials and establishes a session.
    fn connect(
        addr: SocketAddr,
        remote: PeerId,
        cfg: Arc<SessionConfig>,
    ) -> impl Future<Output = Result<Self::Peer, String>> + Send;
    /// Binds a listener.
    fn bind(
        addr: SocketAddr,
        cfg: Arc<SessionConfig>,
    ) -> impl Future<Output = io::Result<Self::Listener>> + Send;
    /// The listener's address.
    fn local_addr(l: &Self::Listener) -> SocketAddr;
    /// The next inbound outcome.
    fn accept(l: &mut Self::Listener) -> impl Future<Output = Option<Accepted<Self::Peer>>> + Send;
    /// Spawns a task.
    fn spawn(fut: impl Future<Output = ()> + Send + 'static);
    /// Sleeps.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;
    /// Runs a future to completion on this runtime.
    fn block_on<T>(fut: impl Future<Output = T>) -> T;
}

/// Awaits `fut` for at most `d`.
pub async fn timeout<N: Net, T>(d: Duration, fut: impl Future<Output = T>) -> Option<T> {
    futures_lite::future::or(async { Some(fut.await) }, async {
        N::sleep(d).await;
        None
    })
    .await
}

/// Installs the SIGINT (Ctrl-C) handler at once and returns a future that resolves when the
/// signal arrives, on any runtime. Call it before announcing the process as ready: a signal
/// that comes before the handler is installed ends the process with the default action.
pub fn on_ctrl_c() -> impl Future<Output = ()> {
    let (tx, rx) = async_channel::bounded::<()>(1);
    let installed = ctrlc::set_handler(move || {
        let _ = tx.try_send(());
    })
    .is_ok();
    async move {
        if installed {
            let _ = rx.recv().await;
        } else {
            // A handler is already installed (second call): never resolve from here.
            futures_lite::future::pending::<()>().await;
        }
    }
}

/// The tokio runtime.
pub struct Tokio;
/// The smol runtime.
pub struct Smol;

macro_rules! impl_peer {
    ($handle:ty) => {
        impl Peer for $handle {
            fn info(&self) -> &EstablishedInfo {
                <$handle>::info(self)
            }
            fn remote_addr(&self) -> SocketAddr {
                <$handle>::remote_addr(self)
            }
            async fn ping(&self) -> Result<(), String> {
                <$handle>::ping(self).await.map_err(|e| e.to_string())
            }
            async fn disconnect(&self, reason: DisconnectReason) -> Result<(), String> {
                <$handle>::disconnect(self, reason)
                    .await
                    .map_err(|e| e.to_string())
            }
            async fn next_event(&mut self) -> Option<SessionEvent> {
                <$handle>::next_event(self).await
            }
        }
    };
}

impl_peer!(paxeer_p2p_tokio::SessionHandle);
impl_peer!(paxeer_p2p_smol::SessionHandle);

macro_rules! impl_disc {
    ($d:ty) => {
        impl Disc for $d {
            fn local_addr(&self) -> SocketAddr {
                <$d>::local_addr(self)
            }
            async fn request(&self, req: DiscRequest) -> Result<DiscReply, String> {
                <$d>::request(self, req).await.map_err(|e| e.to_string())
            }
            async fn next_event(&mut self) -> Option<Discv4Event> {
                <$d>::next_event(self).await
            }
            async fn shutdown(self) {
                <$d>::shutdown(self).await
            }
        }
    };
}

impl_disc!(paxeer_p2p_tokio::discovery::Discovery);
impl_disc!(paxeer_p2p_smol::discovery::Discovery);

impl Net for Tokio {
    type Peer = paxeer_p2p_tokio::SessionHandle;
    type Listener = paxeer_p2p_tokio::Listener;
    type Disc = paxeer_p2p_tokio::discovery::Discovery;
    async fn start_discovery(
        addr: SocketAddr,
        make: impl FnOnce(SocketAddr) -> Discv4 + Send + 'static,
    ) -> io::Result<Self::Disc> {
        paxeer_p2p_tokio::discovery::Discovery::start(addr, make).await
    }
    async fn connect(
        addr: SocketAddr,
        remote: PeerId,
        cfg: Arc<SessionConfig>,
    ) -> Result<Self::Peer, String> {
        paxeer_p2p_tokio::connect(addr, remote, cfg)
            .await
            .map_err(|e| e.to_string())
    }
    async fn bind(addr: SocketAddr, cfg: Arc<SessionConfig>) -> io::Result<Self::Listener> {
        paxeer_p2p_tokio::Listener::bind(addr, cfg).await
    }
    fn local_addr(l: &Self::Listener) -> SocketAddr {
        l.local_addr()
    }
    async fn accept(l: &mut Self::Listener) -> Option<Accepted<Self::Peer>> {
        Some(match l.accept().await? {
            paxeer_p2p_tokio::Incoming::Established(h) => Accepted::Peer(*h),
            paxeer_p2p_tokio::Incoming::Failed { addr, error } => Accepted::Failed {
                addr,
                error: error.to_string(),
            },
        })
    }
    fn spawn(fut: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(fut);
    }
    async fn sleep(d: Duration) {
        tokio::time::sleep(d).await
    }
    fn block_on<T>(fut: impl Future<Output = T>) -> T {
        match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(fut),
            Err(e) => {
                eprintln!("cannot start tokio: {e}");
                std::process::exit(1);
            }
        }
    }
}

impl Net for Smol {
    type Peer = paxeer_p2p_smol::SessionHandle;
    type Listener = paxeer_p2p_smol::Listener;
    type Disc = paxeer_p2p_smol::discovery::Discovery;
    async fn start_discovery(
        addr: SocketAddr,
        make: impl FnOnce(SocketAddr) -> Discv4 + Send + 'static,
    ) -> io::Result<Self::Disc> {
        paxeer_p2p_smol::discovery::Discovery::start(addr, make).await
    }
    async fn connect(
        addr: SocketAddr,
        remote: PeerId,
        cfg: Arc<SessionConfig>,
    ) -> Result<Self::Peer, String> {
        paxeer_p2p_smol::connect(addr, remote, cfg)
            .await
            .map_err(|e| e.to_string())
    }
    async fn bind(addr: SocketAddr, cfg: Arc<SessionConfig>) -> io::Result<Self::Listener> {
        paxeer_p2p_smol::Listener::bind(addr, cfg).await
    }
    fn local_addr(l: &Self::Listener) -> SocketAddr {
        l.local_addr()
    }
    async fn accept(l: &mut Self::Listener) -> Option<Accepted<Self::Peer>> {
        Some(match l.accept().await? {
            paxeer_p2p_smol::Incoming::Established(h) => Accepted::Peer(*h),
            paxeer_p2p_smol::Incoming::Failed { addr, error } => Accepted::Failed {
                addr,
                error: error.to_string(),
            },
        })
    }
    fn spawn(fut: impl Future<Output = ()> + Send + 'static) {
        smol::spawn(fut).detach();
    }
    async fn sleep(d: Duration) {
        smol::Timer::after(d).await;
    }
    fn block_on<T>(fut: impl Future<Output = T>) -> T {
        smol::block_on(fut)
    }
}
