//! The synchronous half of a discovery driver, shared by both runtimes: requests from the
//! application and their replies, datagram output through a non-blocking send (a datagram is
//! dropped rather than blocking when the socket is full), and the drain loop.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use crate::discv4::packet::NodeRecord;
use crate::discv4::{Discv4, Discv4Event, Discv4Stats, LookupId, NodeEntry, RequestId};
use crate::enr::Enr;
use crate::types::{NodeId, PeerId};

/// Largest datagram we read (discv4 packets are ≤ 1280 bytes; larger ones are invalid).
pub const MAX_DATAGRAM: usize = 1280;

/// A request from the application to the discovery task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscRequest {
    /// Start a lookup for a key.
    Lookup(PeerId),
    /// Ping a node.
    Ping(NodeRecord),
    /// Fetch a node's ENR.
    RequestEnr(NodeRecord),
    /// Add a bootnode.
    AddBootnode(NodeRecord),
    /// Set an entry of the local ENR.
    SetEnrEntry(Vec<u8>, Vec<u8>),
    /// The `n` table nodes closest to a target.
    Closest(NodeId, usize),
    /// Up to `n` random table nodes.
    RandomNodes(usize),
    /// Table size, bucket sizes, local record and counters.
    Snapshot,
}

/// The answer to a [`DiscRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscReply {
    /// A lookup started; its result arrives as [`Discv4Event::LookupDone`].
    Lookup(LookupId),
    /// A request started; its result arrives as an event with this id.
    Request(RequestId),
    /// Nodes.
    Nodes(Vec<NodeEntry>),
    /// State for operators.
    Snapshot(Box<DiscSnapshot>),
    /// Done.
    Done,
}

/// A view of the discovery state for tools and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscSnapshot {
    /// Nodes in the table.
    pub table_len: usize,
    /// Nodes per bucket.
    pub buckets: Vec<usize>,
    /// The local record.
    pub enr: Enr,
    /// Counters.
    pub stats: Discv4Stats,
    /// Datagrams the driver dropped because the socket was full.
    pub send_drops: u64,
}

/// What woke a runtime's discovery loop; handed to [`DiscDriver::on_wake`]. `R` is the
/// runtime's reply channel.
#[derive(Debug)]
pub enum DiscWake<R> {
    /// `recv_from` finished into the receive buffer.
    Datagram(io::Result<(usize, SocketAddr)>),
    /// A request arrived; `None` when every application handle is gone (shut down).
    Request(Option<(DiscRequest, R)>),
    /// The deadline passed.
    Timeout,
}

/// What the loop does after a wake-up.
#[derive(Debug)]
pub enum DiscNext<R> {
    /// Keep going.
    Continue,
    /// Send this reply, then keep going.
    Reply(R, DiscReply),
    /// Flush and stop.
    Stop,
}

/// A discovery machine with its output plumbing.
pub struct DiscDriver {
    disc: Discv4,
    send_drops: u64,
}

impl DiscDriver {
    /// Wraps a machine.
    pub fn new(disc: Discv4) -> Self {
        Self {
            disc,
            send_drops: 0,
        }
    }

    /// The machine, for getters.
    pub fn discv4(&self) -> &Discv4 {
        &self.disc
    }

    /// Applies whatever woke the loop; `buf` is the receive buffer `recv_from` filled.
    pub fn on_wake<R>(&mut self, now: Instant, wake: DiscWake<R>, buf: &[u8]) -> DiscNext<R> {
        match wake {
            DiscWake::Datagram(Ok((n, from))) => {
                if let Some(bytes) = buf.get(..n) {
                    self.on_datagram(now, from, bytes);
                }
            }
            // ICMP errors surface here on some platforms; UDP keeps working.
            DiscWake::Datagram(Err(_)) => {}
            DiscWake::Request(Some((req, reply))) => {
                return DiscNext::Reply(reply, self.apply(now, req));
            }
            DiscWake::Request(None) => return DiscNext::Stop,
            DiscWake::Timeout => self.on_timeout(now),
        }
        DiscNext::Continue
    }

    /// A datagram arrived.
    pub fn on_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        self.disc.handle_datagram(now, from, bytes);
    }

    /// The deadline passed.
    pub fn on_timeout(&mut self, now: Instant) {
        self.disc.handle_timeout(now);
    }

    /// The machine's next deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.disc.poll_timeout()
    }

    /// Carries out an application request.
    pub fn apply(&mut self, now: Instant, req: DiscRequest) -> DiscReply {
        match req {
            DiscRequest::Lookup(target) => DiscReply::Lookup(self.disc.lookup(now, target)),
            DiscRequest::Ping(n) => DiscReply::Request(self.disc.ping(now, n)),
            DiscRequest::RequestEnr(n) => DiscReply::Request(self.disc.request_enr(now, n)),
            DiscRequest::AddBootnode(n) => {
                self.disc.add_bootnode(now, n);
                DiscReply::Done
            }
            DiscRequest::SetEnrEntry(k, v) => {
                self.disc.set_enr_entry(&k, v);
                DiscReply::Done
            }
            DiscRequest::Closest(target, n) => DiscReply::Nodes(self.disc.closest(&target, n)),
            DiscRequest::RandomNodes(n) => DiscReply::Nodes(self.disc.random_nodes(n)),
            DiscRequest::Snapshot => DiscReply::Snapshot(Box::new(self.snapshot())),
        }
    }

    /// State for operators.
    pub fn snapshot(&self) -> DiscSnapshot {
        DiscSnapshot {
            table_len: self.disc.table_len(),
            buckets: self.disc.bucket_sizes(),
            enr: self.disc.local_enr().clone(),
            stats: self.disc.stats(),
            send_drops: self.send_drops,
        }
    }

    /// Drain loop: sends every pending datagram through `try_send` (non-blocking; a
    /// `WouldBlock` or other error drops the datagram) and returns the pending events.
    pub fn pump(
        &mut self,
        mut try_send: impl FnMut(SocketAddr, &[u8]) -> io::Result<usize>,
    ) -> Vec<Discv4Event> {
        while let Some((to, bytes)) = self.disc.poll_transmit() {
            // Full socket buffer or an unreachable destination: drop and count.
            if try_send(to, &bytes).is_err() {
                self.send_drops += 1;
            }
        }
        let mut events = Vec::new();
        while let Some(ev) = self.disc.poll_event() {
            events.push(ev);
        }
        events
    }

    /// Makes the node database durable (shutdown).
    pub fn flush(&mut self) {
        self.disc.flush();
    }
}
