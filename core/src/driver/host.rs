//! The synchronous half of a host driver, shared by both runtimes: which connection task gets
//! which command, what a dial task must start, where datagrams and events go.
//!
//! A runtime's host loop, in any executor:
//! 1. [`HostDriver::drain`]: it sends datagrams through the given function, hands events to
//!    the application, delivers connection commands to the registered [`ConnSink`]s, and
//!    returns the dials to start (spawn a dial task per [`DialJob`], registering its sink);
//! 2. wait for whichever comes first: an accepted TCP connection
//!    ([`HostDriver::on_inbound`], then spawn its session task and
//!    [`register`](HostDriver::register) its sink) or a failed accept
//!    ([`HostDriver::on_accept_error`]; while [`HostDriver::accept_paused_until`] says so,
//!    wait for that instant instead of the listener), a datagram
//!    ([`HostDriver::on_datagram`]), a message from a connection task
//!    ([`HostDriver::on_conn`]), an application call on [`HostDriver::host_mut`], or
//!    [`HostDriver::deadline`] ([`HostDriver::on_timeout`]);
//! 3. stop once [`HostDriver::is_finished`]; else go to 1.
//!
//! A connection task runs a [`super::SessionDriver`]; when its pump stops at the admission
//! checkpoint it waits for the next [`ConnCommand`] before pumping again: `Admit` lets it go
//! on, `Run(Disconnect)` refuses the peer.
//!
//! Backpressure: no command is ever dropped silently. A command the connection's channel
//! refuses (full) waits in the driver in order, bounded by [`MAX_HELD_SEND_BYTES`] per
//! connection, and is retried on every drain (the loop wakes within [`RETRY_DELAY`]). A peer
//! whose held sends go beyond that bound is disconnected with [`BACKLOG_OVERFLOW_REASON`]; its
//! held sends are counted under the host's `drops` as [`BACKLOG_OVERFLOW_DROP`] and the
//! connection is listed by [`HostDriver::take_overflows`] for the runtime to log. Each
//! connection's [`Backlog`] counts the send bytes the driver has for it that its session has
//! not taken yet (held here or in the channel); the connection task adds them to the
//! session's own queue to decide when to stop reading the peer (see
//! [`super::SessionDriver::set_external_backlog`]). A send counts as egress
//! ([`Host::record_sent`]) when it enters the channel: the task hands every command it
//! receives to its session, waiting for room rather than dropping one.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::host::{ConnId, Host, HostAction, HostEvent};
use crate::p2p::{CapId, DisconnectReason};
use crate::peers::{AdmissionError, DialFailure};
use crate::session::SessionEvent;
use crate::types::PeerId;

use super::accept::{AcceptBackoff, AcceptPause};
use super::Command;

/// How long a dial may take to open TCP (go-ethereum's `defaultDialTimeout`); the RLPx
/// handshake then has the session's own handshake timeout.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(15);
/// Commands buffered from the host task to one connection task.
pub const CONN_COMMANDS: usize = 256;
/// Messages buffered from all connection tasks to the host task (backpressure beyond).
pub const FROM_CONNS: usize = 1024;
/// Application calls buffered for the host task.
pub const CALLS: usize = 64;
/// After shutdown, how long the host task waits for sessions to say goodbye.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// How soon the loop comes back when commands wait for a full channel.
pub const RETRY_DELAY: Duration = Duration::from_millis(10);
/// Payload bytes of sends the driver holds for one connection whose channel is full; beyond,
/// the peer is disconnected (it does not read what it asks for fast enough).
pub const MAX_HELD_SEND_BYTES: usize = 16 * 1024 * 1024;
/// The reason sent to a peer whose held sends overflowed [`MAX_HELD_SEND_BYTES`]
/// (go-ethereum ends a peer whose writes stall with a network error too).
pub const BACKLOG_OVERFLOW_REASON: DisconnectReason = DisconnectReason::NetworkError;
/// The `drops` cause under which the sends discarded by such a disconnect are counted.
pub const BACKLOG_OVERFLOW_DROP: &str = "send backlog overflow";

/// What the host tells a connection task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnCommand {
    /// Leave the admission checkpoint: the peer was admitted.
    Admit,
    /// A session command (send, disconnect).
    Run(Command),
}

impl ConnCommand {
    /// Payload bytes of a send (0 for other commands): what it adds to a [`Backlog`].
    pub fn send_bytes(&self) -> usize {
        match self {
            ConnCommand::Run(Command::Send { payload, .. }) => payload.len(),
            _ => 0,
        }
    }
}

/// Send bytes the host driver has for one connection that its session has not taken yet,
/// shared between the host task (which adds) and the connection task (which subtracts when
/// it takes a command from its channel).
#[derive(Clone, Debug, Default)]
pub struct Backlog(Arc<AtomicUsize>);

impl Backlog {
    /// The bytes counted now.
    pub fn bytes(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }

    /// Counts `n` more bytes.
    pub fn add(&self, n: usize) {
        self.0.fetch_add(n, Ordering::AcqRel);
    }

    /// Counts `n` bytes fewer (never below zero).
    pub fn sub(&self, n: usize) {
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                Some(v.saturating_sub(n))
            });
    }
}

/// What a connection task tells the host.
#[derive(Debug)]
pub enum FromConn {
    /// The TCP connection is open (dials only; accepted connections are known already).
    Opened {
        /// The connection.
        conn: ConnId,
        /// Our end's address.
        local: SocketAddr,
    },
    /// An event of the connection's session.
    Event(ConnId, SessionEvent),
    /// The dial failed before a session started.
    DialFailed(ConnId, DialFailure),
}

/// Where the host's commands for one connection task go. Implemented by the runtimes over a
/// bounded channel sender: `deliver` must not block; it gives the command back when the
/// channel is full or closed.
pub trait ConnSink {
    /// Hands `cmd` to the connection task without waiting.
    fn deliver(&self, cmd: ConnCommand) -> Result<(), ConnCommand>;
    /// The connection's backlog counter (shared with its task).
    fn backlog(&self) -> &Backlog;
}

/// A connection whose held sends overflowed: it was disconnected with
/// [`BACKLOG_OVERFLOW_REASON`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    /// The connection.
    pub conn: ConnId,
    /// Sends discarded.
    pub sends: u64,
    /// Their payload bytes.
    pub bytes: usize,
}

/// Commands a full channel refused, in order, with the payload bytes of their sends.
#[derive(Debug, Default)]
struct Held {
    cmds: VecDeque<ConnCommand>,
    bytes: usize,
}

/// A dial to start: open TCP to `addr` (with a timeout), then run `Session::connect` with
/// `peer` and the host's session config, reporting under `conn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialJob {
    /// The connection's handle.
    pub conn: ConnId,
    /// Who to dial.
    pub peer: PeerId,
    /// Where.
    pub addr: SocketAddr,
}

/// A [`Host`] with the connection tasks' command sinks.
pub struct HostDriver<S: ConnSink> {
    host: Host,
    sinks: BTreeMap<ConnId, S>,
    locals: BTreeMap<ConnId, SocketAddr>,
    /// Commands a full channel refused; retried on every drain, in order.
    held: BTreeMap<ConnId, Held>,
    /// Connections disconnected for overflowing: their later sends are discarded.
    overflowed: BTreeSet<ConnId>,
    /// Overflows not yet taken by the runtime.
    overflows: Vec<Overflow>,
    /// After a shutdown, when the loop stops even if sessions linger.
    give_up: Option<Instant>,
    /// The TCP listener's pause after failed accepts.
    accept: AcceptBackoff,
}

impl<S: ConnSink> HostDriver<S> {
    /// Wraps a host.
    pub fn new(host: Host) -> Self {
        Self {
            host,
            sinks: BTreeMap::new(),
            locals: BTreeMap::new(),
            held: BTreeMap::new(),
            overflowed: BTreeSet::new(),
            overflows: Vec::new(),
            give_up: None,
            accept: AcceptBackoff::default(),
        }
    }

    /// The host, for getters.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The host, for commands; call [`drain`](Self::drain) afterwards.
    pub fn host_mut(&mut self) -> &mut Host {
        &mut self.host
    }

    /// Our local address on connection `conn`, when known.
    pub fn local_addr(&self, conn: ConnId) -> Option<SocketAddr> {
        self.locals.get(&conn).copied()
    }

    /// The connections disconnected for overflowing [`MAX_HELD_SEND_BYTES`] since the last
    /// call, for the runtime to log (the host's `drops` metric counts their sends already).
    pub fn take_overflows(&mut self) -> Vec<Overflow> {
        std::mem::take(&mut self.overflows)
    }

    /// Payload bytes of the sends held for `conn` (its channel was full).
    pub fn held_bytes(&self, conn: ConnId) -> usize {
        self.held.get(&conn).map_or(0, |h| h.bytes)
    }

    /// A TCP connection from `remote` to our `local` address was accepted (which ends any
    /// accept backoff). `Ok`: spawn its
    /// session task (`Session::accept`) and [`register`](Self::register) its sink. `Err`:
    /// close the socket.
    pub fn on_inbound(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
    ) -> Result<ConnId, AdmissionError> {
        self.accept.on_accepted();
        let conn = self.host.handle_inbound(now, remote)?;
        self.locals.insert(conn, local);
        Ok(conn)
    }

    /// The listener's `accept` failed at `now` with `error`: counted in the host's metrics;
    /// the listener pauses until the returned [`AcceptPause::until`] (log the error when
    /// [`AcceptPause::log`] says so).
    pub fn on_accept_error(&mut self, now: Instant, error: &std::io::Error) -> AcceptPause {
        let pause = self.accept.on_error(now, error);
        self.host.handle_accept_error(pause.kind);
        pause
    }

    /// Until when the listener must not `accept` at `now` (after failures); `None`: accept.
    pub fn accept_paused_until(&self, now: Instant) -> Option<Instant> {
        self.accept.paused_until(now)
    }

    /// Registers the command sink of connection `conn` (an accepted connection or a
    /// [`DialJob`]).
    pub fn register(&mut self, conn: ConnId, sink: S) {
        self.sinks.insert(conn, sink);
    }

    /// A message from a connection task.
    pub fn on_conn(&mut self, now: Instant, msg: FromConn) {
        match msg {
            FromConn::Opened { conn, local } => {
                self.locals.insert(conn, local);
            }
            FromConn::Event(conn, ev) => {
                let closed = matches!(ev, SessionEvent::Closed { .. });
                self.host.handle_session_event(now, conn, ev);
                if closed {
                    self.forget(conn);
                }
            }
            FromConn::DialFailed(conn, failure) => {
                self.host.handle_dial_failed(now, conn, failure);
                self.forget(conn);
            }
        }
    }

    /// A discovery datagram arrived.
    pub fn on_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        self.host.handle_datagram(now, from, datagram);
    }

    /// The deadline passed.
    pub fn on_timeout(&mut self, now: Instant) {
        self.host.handle_timeout(now);
    }

    /// When to call [`on_timeout`](Self::on_timeout).
    pub fn deadline(&self) -> Option<Instant> {
        self.host.poll_timeout()
    }

    /// True once the host shut down and every connection ended.
    pub fn is_finished(&self) -> bool {
        self.host.is_finished()
    }

    /// Whether the loop should stop at `now`: the host finished, or it shut down more than
    /// [`SHUTDOWN_GRACE`] ago and some session is still lingering.
    pub fn should_stop(&mut self, now: Instant) -> bool {
        if self.host.is_shutting_down() && self.give_up.is_none() {
            self.give_up = Some(now + SHUTDOWN_GRACE);
        }
        self.is_finished() || self.give_up.is_some_and(|t| now >= t)
    }

    /// When the loop must wake at the latest: the host's deadline, soon if commands wait for
    /// a full channel, and the shutdown grace's end.
    pub fn wake_at(&self, now: Instant) -> Option<Instant> {
        let retry = self.has_retries().then(|| now + RETRY_DELAY);
        [self.deadline(), retry, self.give_up]
            .into_iter()
            .flatten()
            .min()
    }

    /// Moves the host's output out: datagrams to `send`, events to `on_event` (with the host
    /// for context), commands to their connection's sink. Returns the dials to start.
    pub fn drain(
        &mut self,
        mut send: impl FnMut(SocketAddr, &[u8]),
        mut on_event: impl FnMut(&Host, HostEvent),
    ) -> Vec<DialJob> {
        let mut dials = Vec::new();
        self.flush_held();
        loop {
            let mut moved = false;
            while let Some(action) = self.host.poll_action() {
                moved = true;
                match action {
                    HostAction::Dial { conn, peer, addr } => {
                        dials.push(DialJob { conn, peer, addr })
                    }
                    HostAction::Admit { conn } => self.deliver(conn, ConnCommand::Admit),
                    HostAction::Send {
                        conn,
                        cap,
                        msg_id,
                        payload,
                    } => self.deliver(
                        conn,
                        ConnCommand::Run(Command::Send {
                            cap,
                            msg_id,
                            payload,
                        }),
                    ),
                    HostAction::Disconnect { conn, reason } => {
                        self.deliver(conn, ConnCommand::Run(Command::Disconnect(reason)))
                    }
                }
            }
            while let Some((to, bytes)) = self.host.poll_transmit() {
                moved = true;
                send(to, &bytes);
            }
            while let Some(ev) = self.host.poll_event() {
                moved = true;
                on_event(&self.host, ev);
            }
            if !moved {
                return dials;
            }
        }
    }

    /// Hands `cmd` to the connection's sink, behind any command held for it; a refused one is
    /// held. Sends that enter the channel are counted as egress; sends to a connection
    /// already disconnected for overflowing are discarded (and counted).
    fn deliver(&mut self, conn: ConnId, cmd: ConnCommand) {
        let sent = sent_key(&cmd);
        let Some(sink) = self.sinks.get(&conn) else {
            if sent.is_some() {
                self.host.record_dropped("peer gone", 1);
            }
            return;
        };
        if sent.is_some() && self.overflowed.contains(&conn) {
            self.host.record_dropped(BACKLOG_OVERFLOW_DROP, 1);
            return;
        }
        let bytes = cmd.send_bytes();
        sink.backlog().add(bytes);
        let refused = if self.held.contains_key(&conn) {
            cmd
        } else {
            match sink.deliver(cmd) {
                Ok(()) => {
                    if let Some((cap, msg_id)) = sent {
                        self.host.record_sent(conn, cap, msg_id, bytes);
                    }
                    return;
                }
                Err(cmd) => cmd,
            }
        };
        let held = self.held.entry(conn).or_default();
        held.bytes += bytes;
        held.cmds.push_back(refused);
        if held.bytes > MAX_HELD_SEND_BYTES {
            self.overflow(conn);
        }
    }

    /// The held sends of `conn` went beyond the bound: discard them (counted), keep its
    /// control commands in order, and disconnect the peer.
    fn overflow(&mut self, conn: ConnId) {
        let Some(held) = self.held.get_mut(&conn) else {
            return;
        };
        let before = held.cmds.len();
        held.cmds
            .retain(|c| !matches!(c, ConnCommand::Run(Command::Send { .. })));
        let sends = (before - held.cmds.len()) as u64;
        let bytes = std::mem::take(&mut held.bytes);
        held.cmds.push_back(ConnCommand::Run(Command::Disconnect(
            BACKLOG_OVERFLOW_REASON,
        )));
        if let Some(sink) = self.sinks.get(&conn) {
            sink.backlog().sub(bytes);
        }
        self.host.record_dropped(BACKLOG_OVERFLOW_DROP, sends);
        self.overflowed.insert(conn);
        self.overflows.push(Overflow { conn, sends, bytes });
    }

    /// Moves held commands into their channels, in order, until one is refused.
    fn flush_held(&mut self) {
        let conns: Vec<ConnId> = self.held.keys().copied().collect();
        for conn in conns {
            let Some(sink) = self.sinks.get(&conn) else {
                self.held.remove(&conn);
                continue;
            };
            let Some(held) = self.held.get_mut(&conn) else {
                continue;
            };
            while let Some(cmd) = held.cmds.pop_front() {
                let bytes = cmd.send_bytes();
                let sent = sent_key(&cmd);
                match sink.deliver(cmd) {
                    Ok(()) => {
                        held.bytes = held.bytes.saturating_sub(bytes);
                        if let Some((cap, msg_id)) = sent {
                            self.host.record_sent(conn, cap, msg_id, bytes);
                        }
                    }
                    Err(cmd) => {
                        held.cmds.push_front(cmd);
                        break;
                    }
                }
            }
            if held.cmds.is_empty() {
                self.held.remove(&conn);
            }
        }
    }

    /// Whether commands are waiting for a full channel (the loop should come back soon and
    /// [`drain`](Self::drain) again).
    pub fn has_retries(&self) -> bool {
        !self.held.is_empty()
    }

    fn forget(&mut self, conn: ConnId) {
        self.sinks.remove(&conn);
        self.locals.remove(&conn);
        self.held.remove(&conn);
        self.overflowed.remove(&conn);
    }
}

/// The capability and message id of a send.
fn sent_key(cmd: &ConnCommand) -> Option<(CapId, u64)> {
    match cmd {
        ConnCommand::Run(Command::Send { cap, msg_id, .. }) => Some((*cap, *msg_id)),
        _ => None,
    }
}

/// What an application call into a running host may touch, whatever the runtime's sink type:
/// the host itself and the local addresses of its connections.
pub trait HostAccess {
    /// The host, for getters.
    fn host(&self) -> &Host;
    /// The host, for commands (the driver drains it after the call).
    fn host_mut(&mut self) -> &mut Host;
    /// Our local address on connection `conn`, when known.
    fn local_addr(&self, conn: ConnId) -> Option<SocketAddr>;
}

impl<S: ConnSink> HostAccess for HostDriver<S> {
    fn host(&self) -> &Host {
        HostDriver::host(self)
    }

    fn host_mut(&mut self) -> &mut Host {
        HostDriver::host_mut(self)
    }

    fn local_addr(&self, conn: ConnId) -> Option<SocketAddr> {
        HostDriver::local_addr(self, conn)
    }
}

#[cfg(test)]
mod tests;
