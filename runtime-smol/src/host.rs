//! A whole node over smol: one task owns the [`Host`] (through a [`HostDriver`]), the TCP
//! listener and the discovery UDP socket; each connection runs in its own task and talks to
//! the host task over channels. The application reaches the host with [`HostHandle::call`].

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Instant;

use futures_lite::future;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use paxeer_p2p_core::driver::discovery::MAX_DATAGRAM;
use paxeer_p2p_core::driver::host::{
    Backlog, ConnCommand, ConnSink, DialJob, FromConn, HostDriver, BACKLOG_OVERFLOW_REASON, CALLS,
    CONN_COMMANDS, DIAL_TIMEOUT, FROM_CONNS,
};
use paxeer_p2p_core::driver::{os_seed, HandleError, SessionDriver, Wake};
use paxeer_p2p_core::host::{ConnId, Host, HostEvent};
use paxeer_p2p_core::peers::DialFailure;
use paxeer_p2p_core::session::{Session, SessionConfig};
use smol::net::{TcpListener, TcpStream};
use smol::Async;

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

/// The host driver type the smol runtime runs (what [`HostHandle::call`] closures get).
pub type SmolHostDriver = HostDriver<Sink>;

type Call = Box<dyn FnOnce(&mut SmolHostDriver, Instant) + Send>;

/// Sends work to the host task; cheap to clone.
#[derive(Clone, Debug)]
pub struct HostHandle {
    calls: async_channel::Sender<Call>,
}

impl HostHandle {
    /// Runs `f` on the host inside its task (then drains it) and returns its result.
    pub async fn call<R, F>(&self, f: F) -> Result<R, HandleError>
    where
        R: Send + 'static,
        F: FnOnce(&mut SmolHostDriver, Instant) -> R + Send + 'static,
    {
        let (tx, rx) = async_channel::bounded(1);
        let call: Call = Box::new(move |d, now| {
            let _ = tx.try_send(f(d, now));
        });
        self.calls
            .send(call)
            .await
            .map_err(|_| HandleError::Ended)?;
        rx.recv().await.map_err(|_| HandleError::Ended)
    }

    /// As [`call`](Self::call), from a thread outside the executor (e.g. an HTTP server).
    pub fn call_blocking<R, F>(&self, f: F) -> Result<R, HandleError>
    where
        R: Send + 'static,
        F: FnOnce(&mut SmolHostDriver, Instant) -> R + Send + 'static,
    {
        let (tx, rx) = async_channel::bounded(1);
        let call: Call = Box::new(move |d, now| {
            let _ = tx.try_send(f(d, now));
        });
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
    listener: TcpListener,
    udp: Option<Async<UdpSocket>>,
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
                let socket = Async::<UdpSocket>::bind(addr)?;
                let local = socket.get_ref().local_addr()?;
                (Some(socket), Some(local))
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
        let (calls_tx, calls_rx) = async_channel::bounded(CALLS);
        let task = smol::spawn(run(self, HostDriver::new(host), calls_rx, on_event));
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
    task: smol::Task<()>,
}

impl RunningHost {
    /// A handle to call into the host.
    pub fn handle(&self) -> HostHandle {
        self.handle.clone()
    }

    /// Shuts down gracefully and waits until the host task has ended.
    pub async fn shutdown(self) {
        let _ = self.handle.shutdown().await;
        self.task.await;
    }

    /// Waits until the host task ends (after a shutdown from some handle).
    pub async fn join(self) {
        self.task.await;
    }
}

/// What woke the host loop.
enum HostWake {
    Accepted(io::Result<(TcpStream, SocketAddr)>),
    /// The pause after failed accepts ended.
    AcceptResumed,
    Datagram(io::Result<(usize, SocketAddr)>),
    Conn(Option<FromConn>),
    Call(Option<Call>),
    Timeout,
}

async fn run<F>(
    sockets: Sockets,
    mut drv: SmolHostDriver,
    calls: async_channel::Receiver<Call>,
    mut on_event: F,
) where
    F: FnMut(&Host, HostEvent) + Send + 'static,
{
    let Sockets { listener, udp, .. } = sockets;
    let cfg = drv.host().session_config();
    let (from_tx, from_rx) = async_channel::bounded::<FromConn>(FROM_CONNS);
    let mut buf = vec![0u8; MAX_DATAGRAM * 2];
    let mut calls_open = true;
    loop {
        let dials = drv.drain(
            |to, bytes| {
                // A non-blocking send: a full socket buffer drops the datagram.
                if let Some(s) = udp.as_ref() {
                    let _ = s.get_ref().send_to(bytes, to);
                }
            },
            &mut on_event,
        );
        log_overflows(&mut drv);
        for job in dials {
            let (sink, cmds) = conn_channel();
            drv.register(job.conn, sink);
            smol::spawn(dial(job, cfg.clone(), cmds, from_tx.clone())).detach();
        }
        if drv.should_stop(Instant::now()) {
            break;
        }
        let deadline = drv.wake_at(Instant::now());
        let accept_paused = drv.accept_paused_until(Instant::now());
        let accept = async {
            match accept_paused {
                Some(t) => {
                    smol::Timer::at(t).await;
                    HostWake::AcceptResumed
                }
                None => HostWake::Accepted(listener.accept().await),
            }
        };
        let datagram = async {
            match udp.as_ref() {
                Some(s) => HostWake::Datagram(s.recv_from(&mut buf).await),
                None => future::pending().await,
            }
        };
        let conn = async { HostWake::Conn(from_rx.recv().await.ok()) };
        let call = async {
            if !calls_open {
                return future::pending().await;
            }
            HostWake::Call(calls.recv().await.ok())
        };
        let timer = async {
            let Some(d) = deadline else {
                return future::pending().await;
            };
            smol::Timer::at(d).await;
            HostWake::Timeout
        };
        let wake = future::or(
            conn,
            future::or(accept, future::or(datagram, future::or(call, timer))),
        )
        .await;
        let now = Instant::now();
        match wake {
            HostWake::Accepted(Ok((stream, remote))) => {
                let local = stream.local_addr().unwrap_or(remote);
                if let Ok(conn) = drv.on_inbound(now, remote, local) {
                    let (sink, cmds) = conn_channel();
                    drv.register(conn, sink);
                    let session = Session::accept(cfg.clone(), now, os_seed());
                    smol::spawn(run_session(stream, session, conn, cmds, from_tx.clone())).detach();
                }
            }
            HostWake::Accepted(Err(e)) => {
                crate::log_accept_error(&e, &drv.on_accept_error(now, &e))
            }
            // The next iteration polls the listener again.
            HostWake::AcceptResumed => {}
            HostWake::Datagram(Ok((n, from))) => {
                if let Some(d) = buf.get(..n) {
                    drv.on_datagram(now, from, d);
                }
            }
            HostWake::Datagram(Err(_)) => {}
            HostWake::Conn(Some(msg)) => drv.on_conn(now, msg),
            HostWake::Conn(None) => {}
            HostWake::Call(Some(f)) => f(&mut drv, now),
            HostWake::Call(None) => {
                // Every handle is gone: nobody can stop us any more, so stop now.
                calls_open = false;
                drv.host_mut().shutdown(now);
            }
            HostWake::Timeout => drv.on_timeout(now),
        }
    }
}

/// A connection task's command channel: the host's end and the task's.
fn conn_channel() -> (Sink, ConnCommands) {
    let (tx, rx) = async_channel::bounded(CONN_COMMANDS);
    let backlog = Backlog::default();
    (Sink(tx, backlog.clone()), ConnCommands { rx, backlog })
}

/// The connection task's end of its command channel.
struct ConnCommands {
    rx: async_channel::Receiver<ConnCommand>,
    backlog: Backlog,
}

impl ConnCommands {
    /// The next command (`None` once the host is gone); its send bytes leave the backlog.
    async fn recv(&self) -> Option<ConnCommand> {
        let cmd = self.rx.recv().await.ok()?;
        self.backlog.sub(cmd.send_bytes());
        Some(cmd)
    }
}

/// Logs the peers disconnected because their send backlog overflowed.
fn log_overflows(drv: &mut SmolHostDriver) {
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

/// A dial task: TCP connect with a timeout (abandoned if the host says disconnect), then the
/// session.
async fn dial(
    job: DialJob,
    cfg: Arc<SessionConfig>,
    cmds: ConnCommands,
    to_host: async_channel::Sender<FromConn>,
) {
    let connect = async {
        match TcpStream::connect(job.addr).await {
            Ok(s) => Ok(s),
            Err(_) => Err(DialFailure::Connect),
        }
    };
    let timeout = async {
        smol::Timer::after(DIAL_TIMEOUT).await;
        Err(DialFailure::Timeout)
    };
    // Any command before the connection exists can only be a disconnect (shutdown).
    let aborted = async {
        let _ = cmds.recv().await;
        Err(DialFailure::Connect)
    };
    let stream = match future::or(connect, future::or(timeout, aborted)).await {
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
    cmds: ConnCommands,
    to_host: async_channel::Sender<FromConn>,
) {
    let _ = stream.set_nodelay(true);
    let mut drv = SessionDriver::new(session);
    let mut rd = stream.clone();
    let mut wr = stream;
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
        // Each branch is pending forever when disabled, so `or` races only the live ones; it
        // polls its first future first: the write, then commands, then the read, so a flood
        // of requests cannot hold back their answers.
        let write = async {
            if !writing {
                return future::pending().await;
            }
            Some(Wake::Written(wr.write(wbuf).await))
        };
        let command = async {
            if !taking {
                return future::pending().await;
            }
            match cmds.recv().await {
                Some(ConnCommand::Run(cmd)) => Some(Wake::Command(Some((cmd, ())))),
                Some(ConnCommand::Admit) => None,
                None => Some(Wake::Command(None)),
            }
        };
        let read = async {
            if !reading {
                return future::pending().await;
            }
            Some(Wake::Read(rd.read(rbuf).await))
        };
        let timer = async {
            let Some(d) = deadline else {
                return future::pending().await;
            };
            smol::Timer::at(d).await;
            Some(Wake::Timeout)
        };
        let wake: Option<Wake<()>> =
            future::or(write, future::or(command, future::or(read, timer))).await;
        match wake {
            Some(Wake::Command(Some((cmd, ())))) => {
                let _ = drv.submit(Instant::now(), cmd);
            }
            Some(wake) => {
                drv.on_wake(Instant::now(), wake);
            }
            None => {}
        }
    }
    let _ = wr.close().await;
}
