//! A whole node over tokio: one task owns the [`Host`] (through a [`HostDriver`]), the TCP
//! listener and the discovery UDP socket; each connection runs in its own task and talks to
//! the host task over channels. The application reaches the host with [`HostHandle::call`].

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use paxeer_p2p_core::driver::discovery::MAX_DATAGRAM;
use paxeer_p2p_core::driver::host::{
    Backlog, ConnCommand, ConnSink, DialJob, FromConn, HostDriver, BACKLOG_OVERFLOW_REASON, CALLS,
    CONN_COMMANDS, DIAL_TIMEOUT, FROM_CONNS,
};
use paxeer_p2p_core::driver::{os_seed, HandleError, SessionDriver, Wake};
use paxeer_p2p_core::host::{ConnId, Host, HostEvent};
use paxeer_p2p_core::peers::DialFailure;
use paxeer_p2p_core::session::{Session, SessionConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};

/// A connection task's command channel and backlog counter, as the host driver sees them.
#[derive(Debug)]
pub struct Sink(mpsc::Sender<ConnCommand>, Backlog);

impl ConnSink for Sink {
    fn deliver(&self, cmd: ConnCommand) -> Result<(), ConnCommand> {
        self.0.try_send(cmd).map_err(|e| e.into_inner())
    }

    fn backlog(&self) -> &Backlog {
        &self.1
    }
}

/// The host driver type the tokio runtime runs (what [`HostHandle::call`] closures get).
pub type TokioHostDriver = HostDriver<Sink>;

type Call = Box<dyn FnOnce(&mut TokioHostDriver, Instant) + Send>;

/// Sends work to the host task; cheap to clone.
#[derive(Clone, Debug)]
pub struct HostHandle {
    calls: mpsc::Sender<Call>,
}

impl HostHandle {
    /// Runs `f` on the host inside its task (then drains it) and returns its result.
    pub async fn call<R, F>(&self, f: F) -> Result<R, HandleError>
    where
        R: Send + 'static,
        F: FnOnce(&mut TokioHostDriver, Instant) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let call: Call = Box::new(move |d, now| {
            let _ = tx.send(f(d, now));
        });
        self.calls
            .send(call)
            .await
            .map_err(|_| HandleError::Ended)?;
        rx.await.map_err(|_| HandleError::Ended)
    }

    /// As [`call`](Self::call), from a thread outside the runtime (e.g. an HTTP server).
    pub fn call_blocking<R, F>(&self, f: F) -> Result<R, HandleError>
    where
        R: Send + 'static,
        F: FnOnce(&mut TokioHostDriver, Instant) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let call: Call = Box::new(move |d, now| {
            let _ = tx.send(f(d, now));
        });
        self.calls
            .blocking_send(call)
            .map_err(|_| HandleError::Ended)?;
        rx.blocking_recv().map_err(|_| HandleError::Ended)
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
    listener: TcpListener,
    udp: Option<(UdpSocket, std::net::UdpSocket)>,
    tcp_addr: SocketAddr,
    udp_addr: Option<SocketAddr>,
}

impl Sockets {
    /// Binds the TCP listener and, unless `udp` is `None`, the discovery UDP socket.
    pub async fn bind(tcp: SocketAddr, udp: Option<SocketAddr>) -> io::Result<Self> {
        let listener = TcpListener::bind(tcp).await?;
        let tcp_addr = listener.local_addr()?;
        let (udp, udp_addr) = match udp {
            Some(addr) => {
                let std_socket = std::net::UdpSocket::bind(addr)?;
                std_socket.set_nonblocking(true)?;
                // Sends go through a plain non-blocking clone (see `discovery`).
                let sender = std_socket.try_clone()?;
                let socket = UdpSocket::from_std(std_socket)?;
                let local = socket.local_addr()?;
                (Some((socket, sender)), Some(local))
            }
            None => (None, None),
        };
        Ok(Self {
            listener,
            udp,
            tcp_addr,
            udp_addr,
        })
    }

    /// The bound TCP address.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// The bound UDP address, if discovery has a socket.
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp_addr
    }

    /// Starts the host task; `on_event` sees every host event (for logs, metrics, the
    /// application) inside that task, so it must not block.
    pub fn start<F>(self, host: Host, on_event: F) -> RunningHost
    where
        F: FnMut(&Host, HostEvent) + Send + 'static,
    {
        let (calls_tx, calls_rx) = mpsc::channel(CALLS);
        let task = tokio::spawn(run(self, HostDriver::new(host), calls_rx, on_event));
        RunningHost {
            handle: HostHandle { calls: calls_tx },
            task,
        }
    }
}

/// A running host task.
#[derive(Debug)]
pub struct RunningHost {
    handle: HostHandle,
    task: tokio::task::JoinHandle<()>,
}

impl RunningHost {
    /// A handle to call into the host.
    pub fn handle(&self) -> HostHandle {
        self.handle.clone()
    }

    /// Shuts down gracefully and waits until the host task has ended.
    pub async fn shutdown(self) {
        let _ = self.handle.shutdown().await;
        let _ = self.task.await;
    }

    /// Waits until the host task ends (after a shutdown from some handle).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

async fn run<F>(
    sockets: Sockets,
    mut drv: TokioHostDriver,
    mut calls: mpsc::Receiver<Call>,
    mut on_event: F,
) where
    F: FnMut(&Host, HostEvent) + Send + 'static,
{
    let Sockets { listener, udp, .. } = sockets;
    let (udp, sender) = match udp {
        Some((s, tx)) => (Some(s), Some(tx)),
        None => (None, None),
    };
    let cfg = drv.host().session_config();
    let (from_tx, mut from_rx) = mpsc::channel::<FromConn>(FROM_CONNS);
    let mut buf = vec![0u8; MAX_DATAGRAM * 2];
    let mut calls_open = true;
    loop {
        let dials = drv.drain(
            |to, bytes| {
                if let Some(s) = sender.as_ref() {
                    let _ = s.send_to(bytes, to);
                }
            },
            &mut on_event,
        );
        log_overflows(&mut drv);
        for job in dials {
            let (sink, cmds) = conn_channel();
            drv.register(job.conn, sink);
            tokio::spawn(dial(job, cfg.clone(), cmds, from_tx.clone()));
        }
        if drv.should_stop(Instant::now()) {
            break;
        }
        let deadline = drv.wake_at(Instant::now());
        let accept_paused = drv.accept_paused_until(Instant::now());
        tokio::select! {
            accepted = listener.accept(), if accept_paused.is_none() => match accepted {
                Ok((stream, remote)) => {
                    let local = stream.local_addr().unwrap_or(remote);
                    if let Ok(conn) = drv.on_inbound(Instant::now(), remote, local) {
                        let (sink, cmds) = conn_channel();
                        drv.register(conn, sink);
                        let session = Session::accept(cfg.clone(), Instant::now(), os_seed());
                        tokio::spawn(run_session(stream, session, conn, cmds, from_tx.clone()));
                    }
                }
                Err(e) => crate::log_accept_error(&e, &drv.on_accept_error(Instant::now(), &e)),
            },
            // Accepting resumes: the next iteration polls the listener again.
            () = sleep_until(accept_paused), if accept_paused.is_some() => {}
            got = recv_datagram(udp.as_ref(), &mut buf) => {
                if let Ok((n, from)) = got {
                    if let Some(d) = buf.get(..n) {
                        drv.on_datagram(Instant::now(), from, d);
                    }
                }
            }
            Some(msg) = from_rx.recv() => drv.on_conn(Instant::now(), msg),
            call = calls.recv(), if calls_open => match call {
                Some(f) => f(&mut drv, Instant::now()),
                None => {
                    // Every handle is gone: nobody can stop us any more, so stop now.
                    calls_open = false;
                    drv.host_mut().shutdown(Instant::now());
                }
            },
            () = sleep_until(deadline), if deadline.is_some() => drv.on_timeout(Instant::now()),
        }
    }
}

/// A connection task's command channel: the host's end and the task's.
fn conn_channel() -> (Sink, ConnCommands) {
    let (tx, rx) = mpsc::channel(CONN_COMMANDS);
    let backlog = Backlog::default();
    (Sink(tx, backlog.clone()), ConnCommands { rx, backlog })
}

/// The connection task's end of its command channel.
struct ConnCommands {
    rx: mpsc::Receiver<ConnCommand>,
    backlog: Backlog,
}

impl ConnCommands {
    /// The next command (`None` once the host is gone); its send bytes leave the backlog.
    async fn recv(&mut self) -> Option<ConnCommand> {
        let cmd = self.rx.recv().await?;
        self.backlog.sub(cmd.send_bytes());
        Some(cmd)
    }
}

/// Logs the peers disconnected because their send backlog overflowed.
fn log_overflows(drv: &mut TokioHostDriver) {
    for o in drv.take_overflows() {
        tracing::warn!(
            conn = ?o.conn,
            sends = o.sends,
            bytes = o.bytes,
            reason = ?BACKLOG_OVERFLOW_REASON,
            "peer disconnected: its send backlog went over the limit (it does not read)"
        );
    }
}

async fn recv_datagram(
    socket: Option<&UdpSocket>,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(d) = deadline {
        tokio::time::sleep_until(d.into()).await;
    }
}

/// A dial task: TCP connect with a timeout (abandoned if the host says disconnect), then the
/// session.
async fn dial(
    job: DialJob,
    cfg: Arc<SessionConfig>,
    mut cmds: ConnCommands,
    to_host: mpsc::Sender<FromConn>,
) {
    let connected = tokio::select! {
        r = tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(job.addr)) => match r {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(_)) => Err(DialFailure::Connect),
            Err(_) => Err(DialFailure::Timeout),
        },
        // Any command before the connection exists can only be a disconnect (shutdown).
        _ = cmds.recv() => Err(DialFailure::Connect),
    };
    let stream = match connected {
        Ok(s) => s,
        Err(failure) => {
            let _ = to_host.send(FromConn::DialFailed(job.conn, failure)).await;
            return;
        }
    };
    if let Ok(local) = stream.local_addr() {
        let _ = to_host
            .send(FromConn::Opened {
                conn: job.conn,
                local,
            })
            .await;
    }
    match Session::connect(cfg, job.peer, Instant::now(), os_seed()) {
        Ok(session) => run_session(stream, session, job.conn, cmds, to_host).await,
        Err(_) => {
            let _ = to_host
                .send(FromConn::DialFailed(job.conn, DialFailure::Handshake))
                .await;
        }
    }
}

/// A connection task: socket I/O around the shared session driver; events go to the host
/// task, commands come from it, and the admission checkpoint waits for its verdict.
async fn run_session(
    stream: TcpStream,
    session: Session,
    conn: ConnId,
    mut cmds: ConnCommands,
    to_host: mpsc::Sender<FromConn>,
) {
    let _ = stream.set_nodelay(true);
    let mut drv = SessionDriver::new(session);
    let (mut rd, mut wr) = stream.into_split();
    loop {
        for ev in drv.pump(Instant::now()) {
            if drv.app_alive() && to_host.send(FromConn::Event(conn, ev)).await.is_err() {
                drv.on_application_gone(Instant::now());
            }
        }
        if drv.stopped_at_checkpoint() && drv.app_alive() {
            // Wait for the verdict; sessions hold our Hello meanwhile.
            match cmds.recv().await {
                Some(ConnCommand::Admit) => {}
                Some(ConnCommand::Run(cmd)) => {
                    let _ = drv.submit(Instant::now(), cmd);
                }
                None => drv.on_application_gone(Instant::now()),
            }
            continue;
        }
        if drv.is_finished() {
            break;
        }
        drv.set_external_backlog(cmds.backlog.bytes());
        let (deadline, reading) = (drv.deadline(), drv.wants_read());
        let taking = drv.app_alive() && drv.accepts_commands();
        let (rbuf, wbuf) = drv.io_buffers();
        let writing = !wbuf.is_empty();
        // Biased: the write first, then commands, then the read, so a flood of requests
        // cannot hold back their answers.
        let wake: Wake<()> = tokio::select! {
            biased;
            w = wr.write(wbuf), if writing => Wake::Written(w),
            c = cmds.recv(), if taking => match c {
                Some(ConnCommand::Run(cmd)) => {
                    let _ = drv.submit(Instant::now(), cmd);
                    continue;
                }
                Some(ConnCommand::Admit) => continue,
                None => Wake::Command(None),
            },
            r = rd.read(rbuf), if reading => Wake::Read(r),
            () = sleep_until(deadline), if deadline.is_some() => Wake::Timeout,
            else => break,
        };
        drv.on_wake(Instant::now(), wake);
    }
    let _ = wr.shutdown().await;
}
