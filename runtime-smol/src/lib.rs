//! The [`Runtime`] of paxeer-p2p's connection layer over smol, and the layer re-exported:
//! `paxeer_p2p_smol::connect::<Smol>(..)`, `host::Sockets::start::<Smol, _>(..)`, and so on.
//! Tasks run on smol's global executor.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

pub use paxeer_p2p_runtime::*;
use smol::io::{AsyncRead, AsyncWrite};
use smol::{Async, Timer};

/// smol as the connection layer's runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct Smol;

/// Retries a non-blocking socket call until it does not report `WouldBlock`, waiting for the
/// socket to become readable in between.
fn poll_nonblocking<S, T>(
    socket: &Async<S>,
    cx: &mut Context<'_>,
    mut op: impl FnMut(&S) -> io::Result<T>,
) -> Poll<io::Result<T>> {
    loop {
        match op(socket.get_ref()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = std::task::ready!(socket.poll_readable(cx)) {
                    return Poll::Ready(Err(e));
                }
            }
            other => return Poll::Ready(other),
        }
    }
}

impl Runtime for Smol {
    const NAME: &'static str = "smol";
    type Tcp = Async<TcpStream>;
    type Listener = Async<TcpListener>;
    type Udp = Async<UdpSocket>;
    type Timer = Timer;

    fn spawn<F: Future<Output = ()> + Send + 'static>(fut: F) {
        smol::spawn(fut).detach();
    }

    fn block_on<F: Future>(fut: F) -> F::Output {
        smol::block_on(fut)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Async<TcpStream>> {
        Async::<TcpStream>::connect(addr).await
    }

    fn listener(socket: TcpListener) -> io::Result<Async<TcpListener>> {
        Async::new(socket)
    }

    fn poll_accept(
        listener: &Async<TcpListener>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Async<TcpStream>, SocketAddr)>> {
        poll_nonblocking(listener, cx, |l| l.accept())
            .map(|r| r.and_then(|(s, addr)| Ok((Async::new(s)?, addr))))
    }

    fn prepare(stream: &Async<TcpStream>) -> io::Result<(SocketAddr, SocketAddr)> {
        let s = stream.get_ref();
        s.set_nodelay(true)?;
        Ok((s.local_addr()?, s.peer_addr()?))
    }

    fn poll_read(
        stream: &mut Async<TcpStream>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(stream).poll_read(cx, buf)
    }

    fn poll_write(
        stream: &mut Async<TcpStream>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(stream).poll_write(cx, buf)
    }

    fn poll_shutdown(stream: &mut Async<TcpStream>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(stream).poll_close(cx)
    }

    fn udp(socket: UdpSocket) -> io::Result<Async<UdpSocket>> {
        Async::new(socket)
    }

    fn poll_recv_from(
        socket: &Async<UdpSocket>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        poll_nonblocking(socket, cx, |s| s.recv_from(buf))
    }

    fn timer(at: Instant) -> Timer {
        Timer::at(at)
    }

    fn reset(timer: &mut Timer, at: Instant) {
        timer.set_at(at);
    }

    fn poll_timer(timer: &mut Timer, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(timer).poll(cx).map(|_| ())
    }
}
