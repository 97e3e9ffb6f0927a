//! Standalone sessions, without a host: [`connect`] dials one peer, [`Listener`] accepts
//! them; each established session is a [`SessionHandle`]. Every peer is admitted at the
//! checkpoint (there is no peer manager to ask).

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_lite::future;
use paxeer_p2p_core::driver::accept::AcceptBackoff;
use paxeer_p2p_core::driver::budget::{BudgetShare, MemoryBudget};
use paxeer_p2p_core::driver::{
    os_seed, Command, ConnectError, EstablishedInfo, Establishing, HandleError, SessionDriver,
};
use paxeer_p2p_core::p2p::{CapId, DisconnectReason};
use paxeer_p2p_core::session::{CloseReason, SendError, Session, SessionConfig, SessionEvent};
use paxeer_p2p_core::types::{Direction, PeerId};

use crate::inbox::Inbox;
use crate::session::{self, SessionApp};
use crate::timer::sleep_until;
use crate::{log, sockets, Runtime};

/// Events buffered between a session task and its handle before the task waits.
pub const EVENT_CHANNEL_CAPACITY: usize = 64;
/// Commands buffered between a handle and its session task.
const COMMAND_CHANNEL_CAPACITY: usize = 64;
/// Default cap on inbound connections still in the handshake (go-ethereum `maxpendpeers`).
pub const MAX_PENDING_INBOUND: usize = 50;

type Reply = async_channel::Sender<Result<(), SendError>>;
type CommandMsg = (Command, Reply);

/// An established session: its peer information, and the means to send and receive.
#[derive(Debug)]
pub struct SessionHandle {
    info: EstablishedInfo,
    local_addr: SocketAddr,
    remote_addr: SocketAddr,
    commands: async_channel::Sender<CommandMsg>,
    events: async_channel::Receiver<SessionEvent>,
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

    /// Sends a message of capability `cap` (`msg_id` relative to it). A send the session's
    /// queue has no room for is refused (`SendError::QueueFull`): try again later.
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
        self.events.recv().await.ok()
    }

    async fn command(&self, cmd: Command) -> Result<(), HandleError> {
        let (tx, rx) = async_channel::bounded(1);
        self.commands
            .send((cmd, tx))
            .await
            .map_err(|_| HandleError::Ended)?;
        rx.recv()
            .await
            .map_err(|_| HandleError::Ended)?
            .map_err(HandleError::from)
    }
}

/// A standalone session's application end: the handle's channels.
struct HandleApp {
    commands: Inbox<CommandMsg>,
    events: async_channel::Sender<SessionEvent>,
}

impl SessionApp for HandleApp {
    type Cmd = CommandMsg;
    const ADMITS_ALL: bool = true;

    async fn deliver(&mut self, ev: SessionEvent) -> bool {
        self.events.send(ev).await.is_ok()
    }

    fn poll_command(&mut self, cx: &mut Context<'_>) -> Poll<Option<CommandMsg>> {
        self.commands.poll_recv(cx)
    }

    fn apply(&mut self, drv: &mut SessionDriver, now: Instant, (cmd, reply): CommandMsg) {
        let _ = reply.try_send(drv.apply(now, cmd));
    }

    fn backlog(&self) -> usize {
        0
    }

    fn finish(self) {
        // async-channel keeps queued messages while a sender lives: drop them so callers
        // waiting on a reply get `HandleError::Ended` instead of waiting forever.
        self.commands.close_and_drain();
    }
}

/// Dials `addr`, runs the RLPx handshake with `remote` and the Hello exchange, and returns the
/// established session (its task keeps running until it closes).
pub async fn connect<R: Runtime>(
    addr: SocketAddr,
    remote: PeerId,
    config: Arc<SessionConfig>,
) -> Result<SessionHandle, ConnectError> {
    let stream = R::connect(addr).await?;
    let started = Instant::now();
    let session = Session::connect(config, remote, started, os_seed())
        .map_err(|_| ConnectError::InvalidKey)?;
    start::<R>(stream, session, started, Direction::Outbound, None).await
}

/// Spawns the session task on `stream` and follows its events until it is established.
async fn start<R: Runtime>(
    stream: R::Tcp,
    session: Session,
    started: Instant,
    direction: Direction,
    share: Option<BudgetShare>,
) -> Result<SessionHandle, ConnectError> {
    let (local_addr, remote_addr) = R::prepare(&stream)?;
    let (cmd_tx, commands) = async_channel::bounded(COMMAND_CHANNEL_CAPACITY);
    let (events, ev_rx) = async_channel::bounded(EVENT_CHANNEL_CAPACITY);
    let app = HandleApp {
        commands: Inbox::new(commands),
        events,
    };
    R::spawn(session::run::<R, _>(
        stream,
        SessionDriver::new(session),
        app,
        share,
    ));
    let mut establishing = Establishing::new(started, direction);
    while let Ok(ev) = ev_rx.recv().await {
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

/// A TCP listener that turns accepted connections into sessions; dropping it stops
/// accepting.
#[derive(Debug)]
pub struct Listener {
    local_addr: SocketAddr,
    incoming: async_channel::Receiver<Incoming>,
    /// Closed when the listener is dropped, which ends the accept task.
    _stop: async_channel::Sender<()>,
}

impl Listener {
    /// Binds `addr` and starts accepting with `config`; at most [`MAX_PENDING_INBOUND`]
    /// connections may be in the handshake at once (more are closed at once).
    pub async fn bind<R: Runtime>(
        addr: SocketAddr,
        config: Arc<SessionConfig>,
    ) -> io::Result<Self> {
        Self::bind_with_limit::<R>(addr, config, MAX_PENDING_INBOUND).await
    }

    /// As [`Listener::bind`] with an explicit cap on pending handshakes.
    pub async fn bind_with_limit<R: Runtime>(
        addr: SocketAddr,
        config: Arc<SessionConfig>,
        max_pending: usize,
    ) -> io::Result<Self> {
        let socket = sockets::bind_tcp(addr)?;
        let local_addr = socket.local_addr()?;
        let listener = R::listener(socket)?;
        let (tx, incoming) = async_channel::bounded(EVENT_CHANNEL_CAPACITY);
        let (stop, stopped) = async_channel::bounded(1);
        R::spawn(future::or(
            accept_loop::<R>(listener, config, tx, max_pending),
            async move {
                let _ = stopped.recv().await;
            },
        ));
        Ok(Self {
            local_addr,
            incoming,
            _stop: stop,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next accepted connection's outcome; `None` if the listener stopped.
    pub async fn accept(&mut self) -> Option<Incoming> {
        self.incoming.recv().await.ok()
    }
}

async fn accept_loop<R: Runtime>(
    listener: R::Listener,
    config: Arc<SessionConfig>,
    tx: async_channel::Sender<Incoming>,
    max_pending: usize,
) {
    let pending = Arc::new(AtomicUsize::new(0));
    let mut backoff = AcceptBackoff::default();
    // The accepted sessions share one budget.
    let budget = MemoryBudget::default();
    loop {
        let (stream, addr) = match std::future::poll_fn(|cx| R::poll_accept(&listener, cx)).await {
            Ok(x) => x,
            Err(e) => {
                // This task only accepts: pausing it stalls nothing else.
                let pause = backoff.on_error(Instant::now(), &e);
                log::accept_error(&e, &pause);
                sleep_until::<R>(pause.until).await;
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
        let share = budget.share();
        R::spawn(async move {
            let started = Instant::now();
            let session = Session::accept(config, started, os_seed());
            let out =
                match start::<R>(stream, session, started, Direction::Inbound, Some(share)).await {
                    Ok(h) => Incoming::Established(Box::new(h)),
                    Err(error) => Incoming::Failed { addr, error },
                };
            pending.fetch_sub(1, Ordering::Relaxed);
            let _ = tx.send(out).await;
        });
    }
}
