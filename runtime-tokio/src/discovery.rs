//! discv4 over a tokio UDP socket: one task owns the machine; the application talks to it
//! through a [`Discovery`] handle.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use paxeer_p2p_core::discv4::{Discv4, Discv4Event};
use paxeer_p2p_core::driver::discovery::{
    DiscDriver, DiscNext, DiscReply, DiscRequest, DiscWake, MAX_DATAGRAM,
};
use paxeer_p2p_core::driver::HandleError;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

/// Events buffered for the application; beyond this they are dropped (discovery must never
/// stall on a slow reader).
const EVENT_CAPACITY: usize = 1024;

type Reply = oneshot::Sender<DiscReply>;

/// A running discovery task.
#[derive(Debug)]
pub struct Discovery {
    local_addr: SocketAddr,
    requests: mpsc::Sender<(DiscRequest, Reply)>,
    events: mpsc::Receiver<Discv4Event>,
    task: tokio::task::JoinHandle<()>,
}

impl Discovery {
    /// Binds `addr` and starts the machine `make` builds for the bound address.
    pub async fn start(
        addr: SocketAddr,
        make: impl FnOnce(SocketAddr) -> Discv4,
    ) -> io::Result<Self> {
        let std_socket = std::net::UdpSocket::bind(addr)?;
        std_socket.set_nonblocking(true)?;
        // Sends go through a plain non-blocking clone: tokio's `try_send_to` reports
        // WouldBlock until its reactor has seen the socket writable, which would drop the
        // first datagrams (the bootnode pings).
        let sender = std_socket.try_clone()?;
        let socket = UdpSocket::from_std(std_socket)?;
        let local_addr = socket.local_addr()?;
        let drv = DiscDriver::new(make(local_addr));
        let (req_tx, req_rx) = mpsc::channel(64);
        let (ev_tx, events) = mpsc::channel(EVENT_CAPACITY);
        let task = tokio::spawn(run(socket, sender, drv, req_rx, ev_tx));
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
        let (tx, rx) = oneshot::channel();
        self.requests
            .send((req, tx))
            .await
            .map_err(|_| HandleError::Ended)?;
        rx.await.map_err(|_| HandleError::Ended)
    }

    /// The next event.
    pub async fn next_event(&mut self) -> Option<Discv4Event> {
        self.events.recv().await
    }

    /// Stops the task and waits until the node database is flushed.
    pub async fn shutdown(self) {
        let Self { requests, task, .. } = self;
        drop(requests);
        let _ = task.await;
    }
}

async fn run(
    socket: UdpSocket,
    sender: std::net::UdpSocket,
    mut drv: DiscDriver,
    mut requests: mpsc::Receiver<(DiscRequest, Reply)>,
    events: mpsc::Sender<Discv4Event>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM * 2];
    loop {
        for ev in drv.pump(|to, bytes| sender.send_to(bytes, to)) {
            let _ = events.try_send(ev);
        }
        let deadline = drv.deadline();
        let wake: DiscWake<Reply> = tokio::select! {
            r = socket.recv_from(&mut buf) => DiscWake::Datagram(r),
            q = requests.recv() => DiscWake::Request(q),
            () = sleep_until(deadline), if deadline.is_some() => DiscWake::Timeout,
        };
        match drv.on_wake(Instant::now(), wake, &buf) {
            DiscNext::Continue => {}
            DiscNext::Reply(reply, answer) => {
                let _ = reply.send(answer);
            }
            DiscNext::Stop => break,
        }
    }
    drv.flush();
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(d) = deadline {
        tokio::time::sleep_until(d.into()).await;
    }
}
