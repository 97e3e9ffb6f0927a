//! Binding sockets, written once for every runtime.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

/// Connections the kernel queues for a listener before we accept them (the `listen(2)`
/// backlog; `std` would use 128, too few for a burst of inbound dials).
pub const LISTEN_BACKLOG: i32 = 1024;

/// Binds a non-blocking TCP listener on `addr` with address reuse and [`LISTEN_BACKLOG`].
pub fn bind_tcp(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// Binds a non-blocking UDP socket on `addr`, and a clone of it for sends: sends are plain
/// non-blocking `send_to` calls (a full socket buffer drops the datagram, as UDP may), which
/// also avoids a runtime reporting `WouldBlock` before its reactor has seen the socket.
pub fn bind_udp(addr: SocketAddr) -> io::Result<(std::net::UdpSocket, std::net::UdpSocket)> {
    let socket = std::net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    let sender = socket.try_clone()?;
    Ok((socket, sender))
}
