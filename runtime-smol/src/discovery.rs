//! discv4 over a smol UDP socket: one task owns the machine; the application talks to it
//! through a [`Discovery`] handle.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use futures_lite::future;
use paxeer_p2p_core::discv4::{Discv4, Discv4Event};
use paxeer_p2p_core::driver::discovery::{
    DiscDriver, DiscNext, DiscReply, DiscRequest, DiscWake, MAX_DATAGRAM,
};
use paxeer_p2p_core::driver::HandleError;
use smol::Async;

/// Events buffered for the application; beyond this they are dropped (discovery must never
/// stall on a slow reader).
const EVENT_CAPACITY: usize = 1024;

type Reply = async_channel::Sender<DiscReply>;

/// A running discovery task.
#[derive(Debug)]
pub struct Discovery {
    local_addr: SocketAddr,
    requests: async_channel::Sender<(DiscRequest, Reply)>,
    events: async_channel::Receiver<Discv4Event>,
    task: smol::Task<()>,
}

impl Discovery {
    /// Binds `addr` and starts the machine `make` builds for the bound address.
    pub async fn start(
        addr: SocketAddr,
        make: impl FnOnce(SocketAddr) -> Discv4,
    ) -> io::Result<Self> {
        let socket = Async::<UdpSocket>::bind(addr)?;
        let local_addr = socket.get_ref().local_addr()?;
        let drv = DiscDriver::new(make(local_addr));
        let (req_tx, req_rx) = async_channel::bounded(64);
        let (ev_tx, events) = async_channel::bounded(EVENT_CAPACITY);
        let task = smol::spawn(run(socket, drv, req_rx, ev_tx));
        Ok(Self {
            local_addr,
            requests: req_tx,
            events,
            task,
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
        let Self { requests, task, .. } = self;
        drop(requests);
        task.await;
    }
}

async fn run(
    socket: Async<UdpSocket>,
    mut drv: DiscDriver,
    requests: async_channel::Receiver<(DiscRequest, Reply)>,
    events: async_channel::Sender<Discv4Event>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM * 2];
    loop {
        // A non-blocking send: a full socket buffer drops the datagram.
        for ev in drv.pump(|to, bytes| socket.get_ref().send_to(bytes, to)) {
            let _ = events.try_send(ev);
        }
        let deadline = drv.deadline();
        let recv = async { DiscWake::Datagram(socket.recv_from(&mut buf).await) };
        let request = async { DiscWake::Request(requests.recv().await.ok()) };
        let timer = async {
            let Some(d) = deadline else {
                return future::pending().await;
            };
            smol::Timer::at(d).await;
            DiscWake::Timeout
        };
        let wake: DiscWake<Reply> = future::or(recv, future::or(request, timer)).await;
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
