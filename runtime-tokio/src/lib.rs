//! The [`Runtime`] of paxeer-p2p's connection layer over tokio, and the layer re-exported:
//! `paxeer_p2p_tokio::connect::<Tokio>(..)`, `host::Sockets::start::<Tokio, _>(..)`, and so on.
//!
//! Call the layer from inside a tokio runtime (a multi-threaded one from [`Tokio::block_on`],
//! or your own): sockets register with the runtime's reactor and tasks are spawned on it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

pub use paxeer_p2p_runtime::*;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// tokio as the connection layer's runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tokio;

/// The process-wide multi-threaded runtime [`Tokio::block_on`] runs on, built on first use.
fn shared() -> &'static tokio::runtime::Runtime {
    static SHARED: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    SHARED.get_or_init(|| {
        match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("cannot start tokio: {e}");
                std::process::exit(1);
            }
        }
    })
}

impl Runtime for Tokio {
    const NAME: &'static str = "tokio";
    type Tcp = TcpStream;
    type Listener = TcpListener;
    type Udp = UdpSocket;
    type Timer = Pin<Box<tokio::time::Sleep>>;

    fn spawn<F: Future<Output = ()> + Send + 'static>(fut: F) {
        tokio::spawn(fut);
    }

    fn block_on<F: Future>(fut: F) -> F::Output {
        shared().block_on(fut)
    }

    async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect(addr).await
    }

    fn listener(socket: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(socket)
    }

    fn poll_accept(
        listener: &TcpListener,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        listener.poll_accept(cx)
    }

    fn prepare(stream: &TcpStream) -> io::Result<(SocketAddr, SocketAddr)> {
        stream.set_nodelay(true)?;
        Ok((stream.local_addr()?, stream.peer_addr()?))
    }

    fn poll_read(
        stream: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        Pin::new(stream)
            .poll_read(cx, &mut buf)
            .map_ok(|()| buf.filled().len())
    }

    fn poll_write(
        stream: &mut TcpStream,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(stream).poll_write(cx, buf)
    }

    fn poll_shutdown(stream: &mut TcpStream, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(stream).poll_shutdown(cx)
    }

    fn udp(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }

    fn poll_recv_from(
        socket: &UdpSocket,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let mut buf = ReadBuf::new(buf);
        socket
            .poll_recv_from(cx, &mut buf)
            .map_ok(|from| (buf.filled().len(), from))
    }

    fn timer(at: Instant) -> Self::Timer {
        Box::pin(tokio::time::sleep_until(at.into()))
    }

    fn reset(timer: &mut Self::Timer, at: Instant) {
        timer.as_mut().reset(at.into());
    }

    fn poll_timer(timer: &mut Self::Timer, cx: &mut Context<'_>) -> Poll<()> {
        timer.as_mut().poll(cx)
    }
}
