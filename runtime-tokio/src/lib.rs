//! Drives the paxeer-p2p sans-IO core over tokio: TCP dial and listen, one task per session.
//!
//! Only sockets, timers, tasks and channels live here; the loop logic is
//! [`paxeer_p2p_core::driver::SessionDriver`].

pub mod discovery;
pub mod host;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use paxeer_p2p_core::driver::accept::{AcceptBackoff, AcceptPause};
use paxeer_p2p_core::driver::{
    os_seed, Command, EstablishedInfo, Establishing, SessionDriver, Wake,
};
pub use paxeer_p2p_core::driver::{ConnectError, HandleError};
use paxeer_p2p_core::p2p::{CapId, DisconnectReason};
use paxeer_p2p_core::session::{CloseReason, SendError, Session, SessionConfig, SessionEvent};
use paxeer_p2p_core::types::{Direction, PeerId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// Events buffered between a session task and its handle before the task waits.
const EVENT_CHANNEL_CAPACITY: usize = 64;
/// Commands buffered between a handle and its session task.
const COMMAND_CHANNEL_CAPACITY: usize = 64;
/// Default cap on inbound connections still in the handshake (go-ethereum `maxpendpeers`).
pub const MAX_PENDING_INBOUND: usize = 50;

type Reply = oneshot::Sender<Result<(), SendError>>;
type CommandMsg = (Command, Reply);

/// An established session: its peer information, and the means to send and receive.
#[derive(Debug)]
pub struct SessionHandle {
    info: EstablishedInfo,
    local_addr: SocketAddr,
    remote_addr: SocketAddr,
    commands: mpsc::Sender<CommandMsg>,
    events: mpsc::Receiver<SessionEvent>,
}

impl SessionHandle {
    /// Peer identity, Hello, negotiated capabilities and timings.
    pub fn info(&self) -> &EstablishedInfo {
        &self.info
    }

    /// Local socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Remote socket address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// Sends a message of capability `cap` (`msg_id` relative to it).
    pub async fn send(&self, cap: CapId, msg_id: u64, payload: Vec<u8>) -> Result<(), HandleError> {
        self.command(Command::Send {
            cap,
            msg_id,
            payload,
        })
        .await
    }

    /// Sends a p2p Ping; a `Pong` event follows.
    pub async fn ping(&self) -> Result<(), HandleError> {
        self.command(Command::Ping).await
    }

    /// Disconnects with `reason`; a `Closed` event follows.
    pub async fn disconnect(&self, reason: DisconnectReason) -> Result<(), HandleError> {
        self.command(Command::Disconnect(reason)).await
    }

    /// The next event (`Message`, `Pong`, and finally `Closed`); `None` after `Closed`.
    pub async fn next_event(&mut self) -> Option<SessionEvent> {
        self.events.recv().await
    }

    async fn command(&self, cmd: Command) -> Result<(), HandleError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send((cmd, tx))
            .await
            .map_err(|_| HandleError::Ended)?;
        rx.await
            .map_err(|_| HandleError::Ended)?
            .map_err(HandleError::from)
    }
}

/// Dials `addr`, runs the RLPx handshake with `remote` and the Hello exchange, and returns the
/// established session (its task keeps running until it closes).
pub async fn connect(
    addr: SocketAddr,
    remote: PeerId,
    config: Arc<SessionConfig>,
) -> Result<SessionHandle, ConnectError> {
    let stream = TcpStream::connect(addr).await?;
    let started = Instant::now();
    let session = Session::connect(config, remote, started, os_seed())
        .map_err(|_| ConnectError::InvalidKey)?;
    start(stream, session, started, Direction::Outbound).await
}

async fn start(
    stream: TcpStream,
    session: Session,
    started: Instant,
    direction: Direction,
) -> Result<SessionHandle, ConnectError> {
    stream.set_nodelay(true)?;
    let local_addr = stream.local_addr()?;
    let remote_addr = stream.peer_addr()?;
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_CHANNEL_CAPACITY);
    let (ev_tx, mut ev_rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
    tokio::spawn(run(stream, SessionDriver::new(session), cmd_rx, ev_tx));
    let mut establishing = Establishing::new(started, direction);
    while let Some(ev) = ev_rx.recv().await {
        match establishing.on_event(Instant::now(), ev) {
            None => {}
            Some(Ok(info)) => {
                return Ok(SessionHandle {
                    info,
                    local_addr,
                    remote_addr,
                    commands: cmd_tx,
                    events: ev_rx,
                })
            }
            Some(Err(reason)) => return Err(ConnectError::Closed(reason)),
        }
    }
    Err(ConnectError::Closed(CloseReason::TransportClosed))
}

/// The per-session task: socket I/O around the shared driver.
async fn run(
    stream: TcpStream,
    mut drv: SessionDriver,
    mut commands: mpsc::Receiver<CommandMsg>,
    events: mpsc::Sender<SessionEvent>,
) {
    let (mut rd, mut wr) = stream.into_split();
    loop {
        for ev in drv.pump(Instant::now()) {
            if drv.app_alive() && events.send(ev).await.is_err() {
                drv.on_application_gone(Instant::now());
            }
        }
        if drv.stopped_at_checkpoint() {
            continue;
        }
        if drv.is_finished() {
            break;
        }
        let (deadline, reading, app_alive) = (drv.deadline(), drv.wants_read(), drv.app_alive());
        let (rbuf, wbuf) = drv.io_buffers();
        let writing = !wbuf.is_empty();
        // Biased: the write first, then commands, then the read (a read flood cannot starve
        // the writes).
        let wake: Wake<Reply> = tokio::select! {
            biased;
            w = wr.write(wbuf), if writing => Wake::Written(w),
            c = commands.recv(), if app_alive => Wake::Command(c),
            r = rd.read(rbuf), if reading => Wake::Read(r),
            () = sleep_until(deadline), if deadline.is_some() => Wake::Timeout,
            else => break,
        };
        if let Some((reply, result)) = drv.on_wake(Instant::now(), wake) {
            let _ = reply.send(result);
        }
    }
    let _ = wr.shutdown().await;
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(d) = deadline {
        tokio::time::sleep_until(d.into()).await;
    }
}

/// A connection the listener accepted.
#[derive(Debug)]
pub enum Incoming {
    /// Handshake and Hello completed.
    Established(Box<SessionHandle>),
    /// The connection failed before it was established.
    Failed {
        /// The remote address.
        addr: SocketAddr,
        /// Why.
        error: ConnectError,
    },
}

/// A TCP listener that turns accepted connections into sessions.
#[derive(Debug)]
pub struct Listener {
    local_addr: SocketAddr,
    incoming: mpsc::Receiver<Incoming>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// Binds `addr` and starts accepting with `config`; at most [`MAX_PENDING_INBOUND`]
    /// connections may be in the handshake at once (more are closed at once).
    pub async fn bind(addr: SocketAddr, config: Arc<SessionConfig>) -> io::Result<Self> {
        Self::bind_with_limit(addr, config, MAX_PENDING_INBOUND).await
    }

    /// As [`Listener::bind`] with an explicit cap on pending handshakes.
    pub async fn bind_with_limit(
        addr: SocketAddr,
        config: Arc<SessionConfig>,
        max_pending: usize,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (tx, incoming) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        let accept_task = tokio::spawn(accept_loop(listener, config, tx, max_pending));
        Ok(Self {
            local_addr,
            incoming,
            accept_task,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next accepted connection's outcome; `None` if the listener stopped.
    pub async fn accept(&mut self) -> Option<Incoming> {
        self.incoming.recv().await
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    config: Arc<SessionConfig>,
    tx: mpsc::Sender<Incoming>,
    max_pending: usize,
) {
    let pending = Arc::new(AtomicUsize::new(0));
    let mut backoff = AcceptBackoff::default();
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // This task only accepts: pausing it stalls nothing else.
                let pause = backoff.on_error(Instant::now(), &e);
                log_accept_error(&e, &pause);
                tokio::time::sleep_until(pause.until.into()).await;
                continue;
            }
        };
        backoff.on_accepted();
        if pending.load(Ordering::Relaxed) >= max_pending {
            tracing::debug!(%addr, "too many pending handshakes; dropping connection");
            continue;
        }
        pending.fetch_add(1, Ordering::Relaxed);
        let (config, tx, pending) = (config.clone(), tx.clone(), pending.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let session = Session::accept(config, started, os_seed());
            let out = match start(stream, session, started, Direction::Inbound).await {
                Ok(h) => Incoming::Established(Box::new(h)),
                Err(error) => Incoming::Failed { addr, error },
            };
            pending.fetch_sub(1, Ordering::Relaxed);
            let _ = tx.send(out).await;
        });
    }
}

/// Logs a failed `accept` when the backoff says it is due (see [`AcceptPause::log`]).
pub(crate) fn log_accept_error(error: &io::Error, pause: &AcceptPause) {
    if let Some(count) = pause.log {
        tracing::warn!(
            error = %error,
            kind = pause.kind.as_str(),
            count,
            pause_ms = pause.delay.as_millis() as u64,
            "accept failed; pausing accepts"
        );
    }
}
