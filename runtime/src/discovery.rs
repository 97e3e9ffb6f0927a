//! discv4 on its own UDP socket: one task owns the machine; the application talks to it
//! through a [`Discovery`] handle. (A node's host runs discovery inside its own task on the
//! shared socket; this is for tools and tests that run discovery alone.)

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::Instant;

use paxeer_p2p_core::discv4::{Discv4, Discv4Event};
use paxeer_p2p_core::driver::discovery::{
    DiscDriver, DiscNext, DiscReply, DiscRequest, DiscWake, MAX_DATAGRAM,
};
use paxeer_p2p_core::driver::HandleError;

use crate::inbox::Inbox;
use crate::timer::Deadline;
use crate::{sockets, Runtime};

/// Events buffered for the application; beyond this they are dropped (discovery must never
/// stall on a slow reader).
const EVENT_CAPACITY: usize = 1024;
/// Requests buffered between the handle and the task.
const REQUEST_CAPACITY: usize = 64;

type Reply = async_channel::Sender<DiscReply>;

/// A running discovery task.
#[derive(Debug)]
pub struct Discovery {
    local_addr: SocketAddr,
    requests: async_channel::Sender<(DiscRequest, Reply)>,
    events: async_channel::Receiver<Discv4Event>,
    /// Closed when the task has ended (and flushed the node database).
    done: async_channel::Receiver<()>,
}

impl Discovery {
    /// Binds `addr` and starts, on runtime `R`, the machine `make` builds for the bound
    /// address.
    pub async fn start<R: Runtime>(
        addr: SocketAddr,
        make: impl FnOnce(SocketAddr) -> Discv4,
    ) -> io::Result<Self> {
        let (socket, sender) = sockets::bind_udp(addr)?;
        let local_addr = socket.local_addr()?;
        let socket = R::udp(socket)?;
        let drv = DiscDriver::new(make(local_addr));
        let (req_tx, req_rx) = async_channel::bounded(REQUEST_CAPACITY);
        let (ev_tx, events) = async_channel::bounded(EVENT_CAPACITY);
        let (done_tx, done) = async_channel::bounded::<()>(1);
        R::spawn(async move {
            run::<R>(socket, sender, drv, req_rx, ev_tx).await;
            drop(done_tx);
        });
        Ok(Self {
            local_addr,
            requests: req_tx,
            events,
            done,
        })
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Sends a request and waits for its reply.
    pub async fn request(&self, req: DiscRequest) -> Result<DiscReply, HandleError> {
        let (tx, rx) = async_channel::bounded(1);
        self.requests
            .send((req, tx))
            .await
            .map_err(|_| HandleError::Ended)?;
        rx.recv().await.map_err(|_| HandleError::Ended)
    }

    /// The next event.
    pub async fn next_event(&mut self) -> Option<Discv4Event> {
        self.events.recv().await.ok()
    }

    /// Stops the task and waits until the node database is flushed.
    pub async fn shutdown(self) {
        let Self { requests, done, .. } = self;
        drop(requests);
        let _ = done.recv().await;
    }
}

async fn run<R: Runtime>(
    socket: R::Udp,
    sender: std::net::UdpSocket,
    mut drv: DiscDriver,
    requests: async_channel::Receiver<(DiscRequest, Reply)>,
    events: async_channel::Sender<Discv4Event>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM * 2];
    let mut timer = Deadline::<R>::default();
    let mut requests = Inbox::new(requests);
    loop {
        for ev in drv.pump(|to, bytes| sender.send_to(bytes, to)) {
            let _ = events.try_send(ev);
        }
        let deadline = drv.deadline();
        let wake: DiscWake<Reply> = poll_fn(|cx| {
            // The timer first: ready at once when due, otherwise armed.
            if timer.poll(cx, deadline).is_ready() {
                return Poll::Ready(DiscWake::Timeout);
            }
            if let Poll::Ready(r) = R::poll_recv_from(&socket, cx, &mut buf) {
                return Poll::Ready(DiscWake::Datagram(r));
            }
            if let Poll::Ready(q) = requests.poll_recv(cx) {
                return Poll::Ready(DiscWake::Request(q));
            }
            Poll::Pending
        })
        .await;
        match drv.on_wake(Instant::now(), wake, &buf) {
            DiscNext::Continue => {}
            DiscNext::Reply(reply, answer) => {
                let _ = reply.try_send(answer);
            }
            DiscNext::Stop => break,
        }
    }
    drv.flush();
}
