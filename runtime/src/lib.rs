//! The async connection layer of paxeer-p2p, written once and generic over a small
//! [`Runtime`] trait (as quinn's `runtime` module and hyper's `rt` are).
//!
//! The sans-IO core (`paxeer-p2p-core`) holds every state machine and the synchronous driver
//! helpers (`core::driver`); this crate adds what needs an executor: one task per session
//! ([`session`]), the standalone session API ([`connect`], [`Listener`]), the node's host task
//! ([`host`]) and the discovery task ([`discovery`]). `paxeer-p2p-tokio` and `paxeer-p2p-smol`
//! implement [`Runtime`] and nothing else, so both runtimes run the same loops: fair between
//! writing, commands and reading, one timer re-armed rather than rebuilt, accept errors backed
//! off.

pub mod discovery;
pub mod host;
mod inbox;
mod log;
mod session;
mod sockets;
mod standalone;
mod timer;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub use paxeer_p2p_core::driver::{ConnectError, HandleError};
pub use sockets::bind_tcp;
pub use standalone::{
    connect, Incoming, Listener, SessionHandle, EVENT_CHANNEL_CAPACITY, MAX_PENDING_INBOUND,
};
pub use timer::{sleep, timeout};

/// What the layer needs from an executor: tasks, TCP, UDP and a timer. Every method is an
/// associated function; an implementation is a unit type (`Tokio`, `Smol`).
///
/// Sockets are created from bound `std::net` sockets (so binding and its options are written
/// once, in this crate) and read and written through `poll_*` functions, so one loop can wait
/// on a socket, a channel and the timer at once and decide the order it serves them in.
pub trait Runtime: Send + Sync + Sized + 'static {
    /// The runtime's name, for logs and test reports (`"tokio"`, `"smol"`).
    const NAME: &'static str;
    /// A connected TCP stream.
    type Tcp: Send + Unpin + 'static;
    /// A listening TCP socket.
    type Listener: Send + Sync + Unpin + 'static;
    /// A UDP socket, for receiving (sends go through a non-blocking `std` clone).
    type Udp: Send + Sync + Unpin + 'static;
    /// A one-shot timer that can be re-armed.
    type Timer: Send + Unpin + 'static;

    /// Runs `fut` as a detached task.
    fn spawn<F: Future<Output = ()> + Send + 'static>(fut: F);
    /// Runs `fut` to completion on this runtime, blocking the calling thread. Tasks it
    /// spawns keep running after it returns (the executor lives as long as the process).
    fn block_on<F: Future>(fut: F) -> F::Output;

    /// Opens a TCP connection to `addr`.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Tcp>> + Send;
    /// Turns a bound, listening, non-blocking `std` listener into this runtime's.
    fn listener(socket: std::net::TcpListener) -> io::Result<Self::Listener>;
    /// Accepts the next connection.
    fn poll_accept(
        listener: &Self::Listener,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Self::Tcp, SocketAddr)>>;
    /// The local and remote addresses of a stream, after turning Nagle off (every session
    /// wants TCP_NODELAY).
    fn prepare(stream: &Self::Tcp) -> io::Result<(SocketAddr, SocketAddr)>;
    /// Reads into `buf`; 0 means end of stream.
    fn poll_read(
        stream: &mut Self::Tcp,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;
    /// Writes from `buf`.
    fn poll_write(
        stream: &mut Self::Tcp,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;
    /// Shuts the write side down (after the last bytes).
    fn poll_shutdown(stream: &mut Self::Tcp, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Turns a bound, non-blocking `std` UDP socket into this runtime's.
    fn udp(socket: std::net::UdpSocket) -> io::Result<Self::Udp>;
    /// Receives the next datagram into `buf`.
    fn poll_recv_from(
        socket: &Self::Udp,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>>;

    /// A timer firing at `at`.
    fn timer(at: Instant) -> Self::Timer;
    /// Re-arms `timer` for `at`.
    fn reset(timer: &mut Self::Timer, at: Instant);
    /// Ready once the timer has fired.
    fn poll_timer(timer: &mut Self::Timer, cx: &mut Context<'_>) -> Poll<()>;
}

/// How long a dial may take to connect, as the host task uses it (re-exported for callers
/// that bound their own waits by it).
pub const DIAL_TIMEOUT: Duration = paxeer_p2p_core::driver::host::DIAL_TIMEOUT;
