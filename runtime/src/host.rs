//! A whole node: one task owns the [`Host`] (through a [`HostDriver`]), the TCP listener and
//! the discovery UDP socket; each connection runs in its own task and talks to the host task
//! over channels. The application reaches the host with [`HostHandle::call`].

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_lite::future;
use paxeer_p2p_core::driver::budget::{BudgetShare, MemoryBudget};
use paxeer_p2p_core::driver::discovery::MAX_DATAGRAM;
use paxeer_p2p_core::driver::host::{
    Backlog, ConnCommand, ConnSink, DialJob, FromConn, HostDriver, CALLS, CONN_COMMANDS,
    DIAL_TIMEOUT, FROM_CONNS,
};
use paxeer_p2p_core::driver::{os_seed, HandleError, SessionDriver};
use paxeer_p2p_core::host::{ConnId, Host, HostEvent};
use paxeer_p2p_core::peers::DialFailure;
use paxeer_p2p_core::session::{Session, SessionConfig, SessionEvent};

use crate::inbox::Inbox;
use crate::session::{self, SessionApp};
use crate::timer::{sleep, Deadline};
use crate::{log, sockets, Runtime};

/// A connection task's command channel and backlog counter, as the host driver sees them.
#[derive(Debug)]
pub struct Sink(async_channel::Sender<ConnCommand>, Backlog);

impl ConnSink for Sink {
    fn deliver(&self, cmd: ConnCommand) -> Result<(), ConnCommand> {
        self.0.try_send(cmd).map_err(|e| e.into_inner())
    }

    fn backlog(&self) -> &Backlog {
        &self.1
    }
}

/// The host driver the host task runs (what [`HostHandle::call`] closures get).
pub type NodeHostDriver = HostDriver<Sink>;

type Call = Box<dyn FnOnce(&mut NodeHostDriver, Instant) + Send>;

/// Sends work to the host task; cheap to clone.
#[derive(Clone, Debug)]
pub struct HostHandle {
    calls: async_channel::Sender<Call>,
}

/// Wraps `f` as a call whose result comes back on the returned channel.
fn make_call<T, F>(f: F) -> (Call, async_channel::Receiver<T>)
where
    T: Send + 'static,
    F: FnOnce(&mut NodeHostDriver, Instant) -> T + Send + 'static,
{
    let (tx, rx) = async_channel::bounded(1);
    let call: Call = Box::new(move |d, now| {
        let _ = tx.try_send(f(d, now));
    });
    (call, rx)
}

impl HostHandle {
    /// Runs `f` on the host inside its task (then drains it) and returns its result.
    pub async fn call<T, F>(&self, f: F) -> Result<T, HandleError>
    where
        T: Send + 'static,
        F: FnOnce(&mut NodeHostDriver, Instant) -> T + Send + 'static,
    {
        let (call, rx) = make_call(f);
        self.calls
            .send(call)
            .await
            .map_err(|_| HandleError::Ended)?;
        rx.recv().await.map_err(|_| HandleError::Ended)
    }

    /// As [`call`](Self::call), from a thread outside the runtime (e.g. an HTTP server).
    pub fn call_blocking<T, F>(&self, f: F) -> Result<T, HandleError>
    where
        T: Send + 'static,
        F: FnOnce(&mut NodeHostDriver, Instant) -> T + Send + 'static,
    {
        let (call, rx) = make_call(f);
        self.calls
            .send_blocking(call)
            .map_err(|_| HandleError::Ended)?;
        rx.recv_blocking().map_err(|_| HandleError::Ended)
    }

    /// Starts a graceful shutdown (Disconnect to every peer, database flush).
    pub async fn shutdown(&self) -> Result<(), HandleError> {
        self.call(|d, now| d.host_mut().shutdown(now)).await
    }
}

/// The bound sockets of a node, before its host starts (discovery needs the bound ports to
/// build its record).
#[derive(Debug)]
pub struct Sockets {
    listener: std::net::TcpListener,
    udp: Option<(std::net::UdpSocket, std::net::UdpSocket)>,
    tcp_addr: SocketAddr,
    udp_addr: Option<SocketAddr>,
    budget: MemoryBudget,
}

impl Sockets {
    /// Binds the TCP listener and, unless `udp` is `None`, the discovery UDP socket.
    pub fn bind(tcp: SocketAddr, udp: Option<SocketAddr>) -> io::Result<Self> {
        let listener = sockets::bind_tcp(tcp)?;
        let tcp_addr = listener.local_addr()?;
        let (udp, udp_addr) = match udp {
            Some(addr) => {
                let pair = sockets::bind_udp(addr)?;
                let local = pair.0.local_addr()?;
                (Some(pair), Some(local))
            }
            None => (None, None),
        };
        Ok(Self {
            listener,
            udp,
            tcp_addr,
            udp_addr,
            budget: MemoryBudget::default(),
        })
    }

    /// Caps what all the node's connections together may hold in buffers at `bytes`
    /// (default [`DEFAULT_MEMORY_BUDGET`](paxeer_p2p_core::driver::budget::DEFAULT_MEMORY_BUDGET)).
    pub fn memory_budget(mut self, bytes: usize) -> Self {
        self.budget = MemoryBudget::new(bytes);
        self
    }

    /// The bound TCP address.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// The bound UDP address, if discovery has a socket.
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp_addr
    }

    /// Starts the host task on runtime `R` (call it from inside that runtime); `on_event`
    /// sees every host event (for logs, metrics, the application) inside that task, so it
    /// must not block.
    pub fn start<R, F>(self, host: Host, on_event: F) -> io::Result<RunningHost>
    where
        R: Runtime,
        F: FnMut(&Host, HostEvent) + Send + 'static,
    {
        let listener = R::listener(self.listener)?;
        let udp = match self.udp {
            Some((socket, sender)) => Some((R::udp(socket)?, sender)),
            None => None,
        };
        let (calls_tx, calls) = async_channel::bounded(CALLS);
        let (done_tx, done) = async_channel::bounded::<()>(1);
        let task = HostTask::<R, F> {
            drv: HostDriver::new(host),
            budget: self.budget,
            listener,
            udp,
            calls: Inbox::new(calls),
            calls_open: true,
            on_event,
            timer: Deadline::default(),
            accept_timer: Deadline::default(),
            turn: 0,
        };
        R::spawn(async move {
            task.run().await;
            drop(done_tx);
        });
        Ok(RunningHost {
            handle: HostHandle { calls: calls_tx },
            done,
        })
    }
}

/// A running host task.
#[derive(Debug)]
pub struct RunningHost {
    handle: HostHandle,
    /// Closed when the host task ends.
    done: async_channel::Receiver<()>,
}

impl RunningHost {
    /// A handle to call into the host.
    pub fn handle(&self) -> HostHandle {
        self.handle.clone()
    }

    /// Shuts down gracefully and waits until the host task has ended.
    pub async fn shutdown(self) {
        let _ = self.handle.shutdown().await;
        self.join().await;
    }

    /// Waits until the host task ends (after a shutdown from some handle).
    pub async fn join(self) {
        let _ = self.done.recv().await;
    }
}

/// What woke the host task.
enum HostWake<R: Runtime> {
    Conn(FromConn),
    Call(Option<Call>),
    Datagram(io::Result<(usize, SocketAddr)>),
    Accepted(io::Result<(R::Tcp, SocketAddr)>),
    AcceptResumed,
    Timeout,
}

/// The host task's state: the driver and the sockets and channels it waits on.
struct HostTask<R: Runtime, F> {
    drv: NodeHostDriver,
    budget: MemoryBudget,
    listener: R::Listener,
    udp: Option<(R::Udp, std::net::UdpSocket)>,
    calls: Inbox<Call>,
    calls_open: bool,
    on_event: F,
    timer: Deadline<R>,
    accept_timer: Deadline<R>,
    /// Which source is asked first this pass (they take turns, so none starves the others).
    turn: usize,
}

/// The sources the host task waits on, asked in turn.
const SOURCES: usize = 4;

impl<R: Runtime, F: FnMut(&Host, HostEvent) + Send + 'static> HostTask<R, F> {
    async fn run(mut self) {
        let cfg = self.drv.host().session_config();
        let (from_tx, from_rx) = async_channel::bounded::<FromConn>(FROM_CONNS);
        let mut from_rx = Inbox::new(from_rx);
        let mut buf = vec![0u8; MAX_DATAGRAM * 2];
        loop {
            let sender = self.udp.as_ref().map(|(_, s)| s);
            let dials = self.drv.drain(
                |to, bytes| {
                    if let Some(s) = sender {
                        let _ = s.send_to(bytes, to);
                    }
                },
                &mut self.on_event,
            );
            log::overflows(&mut self.drv);
            for job in dials {
                let (sink, cmds) = conn_channel();
                self.drv.register(job.conn, sink);
                let share = self.budget.share();
                R::spawn(dial::<R>(job, cfg.clone(), cmds, from_tx.clone(), share));
            }
            let now = Instant::now();
            if self.drv.should_stop(now) {
                break;
            }
            let deadline = self.drv.wake_at(now);
            let accept_paused = self.drv.accept_paused_until(now);
            self.turn = (self.turn + 1) % SOURCES;
            let wake = poll_fn(|cx| {
                // The timer first (ready at once when due), so a busy source cannot hold
                // timeouts back.
                if self.timer.poll(cx, deadline).is_ready() {
                    return Poll::Ready(HostWake::Timeout);
                }
                for i in 0..SOURCES {
                    let polled = match (self.turn + i) % SOURCES {
                        0 => from_rx.poll_recv(cx).map(|m| m.map(HostWake::Conn)),
                        1 => self.poll_call(cx),
                        2 => self.poll_datagram(cx, &mut buf),
                        _ => self.poll_accept(cx, accept_paused),
                    };
                    if let Poll::Ready(Some(w)) = polled {
                        return Poll::Ready(w);
                    }
                }
                Poll::Pending
            })
            .await;
            self.on_wake(wake, &cfg, &from_tx, &buf);
        }
    }

    fn poll_call(&mut self, cx: &mut Context<'_>) -> Poll<Option<HostWake<R>>> {
        if !self.calls_open {
            return Poll::Pending;
        }
        self.calls.poll_recv(cx).map(|c| Some(HostWake::Call(c)))
    }

    fn poll_datagram(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Option<HostWake<R>>> {
        match &self.udp {
            Some((socket, _)) => {
                R::poll_recv_from(socket, cx, buf).map(|r| Some(HostWake::Datagram(r)))
            }
            None => Poll::Pending,
        }
    }

    fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
        paused: Option<Instant>,
    ) -> Poll<Option<HostWake<R>>> {
        match paused {
            // Accepting resumes when the pause ends: the next pass polls the listener again.
            Some(until) => self
                .accept_timer
                .poll(cx, Some(until))
                .map(|()| Some(HostWake::AcceptResumed)),
            None => R::poll_accept(&self.listener, cx).map(|r| Some(HostWake::Accepted(r))),
        }
    }

    fn on_wake(
        &mut self,
        wake: HostWake<R>,
        cfg: &Arc<SessionConfig>,
        from_tx: &async_channel::Sender<FromConn>,
        buf: &[u8],
    ) {
        let now = Instant::now();
        match wake {
            HostWake::Conn(msg) => self.drv.on_conn(now, msg),
            HostWake::Call(Some(f)) => f(&mut self.drv, now),
            HostWake::Call(None) => {
                // Every handle is gone: nobody can stop us any more, so stop now.
                self.calls_open = false;
                self.drv.host_mut().shutdown(now);
            }
            HostWake::Datagram(Ok((n, from))) => {
                if let Some(d) = buf.get(..n) {
                    self.drv.on_datagram(now, from, d);
                }
            }
            HostWake::Datagram(Err(_)) | HostWake::AcceptResumed => {}
            HostWake::Accepted(Ok((stream, remote))) => {
                let local = R::prepare(&stream).map_or(remote, |(local, _)| local);
                if let Ok(conn) = self.drv.on_inbound(now, remote, local) {
                    let (sink, cmds) = conn_channel();
                    self.drv.register(conn, sink);
                    let session = Session::accept(cfg.clone(), now, os_seed());
                    let app = ConnApp {
                        conn,
                        cmds,
                        to_host: from_tx.clone(),
                    };
                    R::spawn(session::run::<R, _>(
                        stream,
                        SessionDriver::new(session),
                        app,
                        Some(self.budget.share()),
                    ));
                }
            }
            HostWake::Accepted(Err(e)) => {
                let pause = self.drv.on_accept_error(now, &e);
                log::accept_error(&e, &pause);
            }
            HostWake::Timeout => self.drv.on_timeout(now),
        }
    }
}

/// A connection task's command channel: the host's end and the task's.
fn conn_channel() -> (Sink, ConnCommands) {
    let (tx, rx) = async_channel::bounded(CONN_COMMANDS);
    let backlog = Backlog::default();
    (
        Sink(tx, backlog.clone()),
        ConnCommands {
            rx: Inbox::new(rx),
            backlog,
        },
    )
}

/// The connection task's end of its command channel.
struct ConnCommands {
    rx: Inbox<ConnCommand>,
    backlog: Backlog,
}

impl ConnCommands {
    /// The next command (`None` once the host is gone); its send bytes leave the backlog.
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<ConnCommand>> {
        self.rx.poll_recv(cx).map(|c| {
            if let Some(cmd) = &c {
                self.backlog.sub(cmd.send_bytes());
            }
            c
        })
    }
}

/// A host connection's application end: events go to the host task, commands and the
/// admission verdict come from it.
struct ConnApp {
    conn: ConnId,
    cmds: ConnCommands,
    to_host: async_channel::Sender<FromConn>,
}

impl SessionApp for ConnApp {
    type Cmd = ConnCommand;
    const ADMITS_ALL: bool = false;

    async fn deliver(&mut self, ev: SessionEvent) -> bool {
        self.to_host
            .send(FromConn::Event(self.conn, ev))
            .await
            .is_ok()
    }

    fn poll_command(&mut self, cx: &mut Context<'_>) -> Poll<Option<ConnCommand>> {
        self.cmds.poll_recv(cx)
    }

    fn apply(&mut self, drv: &mut SessionDriver, now: Instant, cmd: ConnCommand) {
        match cmd {
            ConnCommand::Admit => drv.admit(),
            ConnCommand::Run(cmd) => {
                // A send the session's queue refuses is held by the driver, never dropped;
                // other refusals (closing session) have nobody left to tell.
                let _ = drv.submit(now, cmd);
            }
        }
    }

    fn backlog(&self) -> usize {
        self.cmds.backlog.bytes()
    }

    fn finish(self) {}
}

/// A dial task: TCP connect with a timeout (abandoned if the host says disconnect), then the
/// session.
async fn dial<R: Runtime>(
    job: DialJob,
    cfg: Arc<SessionConfig>,
    mut cmds: ConnCommands,
    to_host: async_channel::Sender<FromConn>,
    share: BudgetShare,
) {
    let connect = async { R::connect(job.addr).await.map_err(|_| DialFailure::Connect) };
    let timeout = async {
        sleep::<R>(DIAL_TIMEOUT).await;
        Err(DialFailure::Timeout)
    };
    // Any command before the connection exists can only be a disconnect (shutdown).
    let aborted = async {
        let _ = poll_fn(|cx| cmds.poll_recv(cx)).await;
        Err(DialFailure::Connect)
    };
    let stream = match future::or(connect, future::or(timeout, aborted)).await {
        Ok(s) => s,
        Err(failure) => {
            let _ = to_host.send(FromConn::DialFailed(job.conn, failure)).await;
            return;
        }
    };
    if let Ok((local, _)) = R::prepare(&stream) {
        let _ = to_host
            .send(FromConn::Opened {
                conn: job.conn,
                local,
            })
            .await;
    }
    match Session::connect(cfg, job.peer, Instant::now(), os_seed()) {
        Ok(session) => {
            let app = ConnApp {
                conn: job.conn,
                cmds,
                to_host,
            };
            session::run::<R, _>(stream, SessionDriver::new(session), app, Some(share)).await;
        }
        Err(_) => {
            let _ = to_host
                .send(FromConn::DialFailed(job.conn, DialFailure::Handshake))
                .await;
        }
    }
}
