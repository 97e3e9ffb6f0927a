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

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::host::{ConnId, Host, HostAction, HostEvent};
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
/// How soon the loop comes back when control commands wait for a full channel.
pub const RETRY_DELAY: Duration = Duration::from_millis(10);

/// What the host tells a connection task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnCommand {
    /// Leave the admission checkpoint: the peer was admitted.
    Admit,
    /// A session command (send, disconnect).
    Run(Command),
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
/// bounded channel sender: `deliver` must not block; it returns false when the channel is
/// full or closed.
pub trait ConnSink {
    /// Hands `cmd` to the connection task without waiting.
    fn deliver(&self, cmd: ConnCommand) -> bool;
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
    /// Admit and Disconnect commands a full channel refused; retried on every drain (they
    /// must never be lost, unlike a message the peer's slowness costs).
    retry: BTreeMap<ConnId, Vec<ConnCommand>>,
    backlog_drops: u64,
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
            retry: BTreeMap::new(),
            backlog_drops: 0,
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

    /// Commands dropped because a connection task's channel was full (the task is not
    /// keeping up; its session's own send queue bounds the rest).
    pub fn backlog_drops(&self) -> u64 {
        self.backlog_drops
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

    /// When the loop must wake at the latest: the host's deadline, soon if control
    /// commands wait for a full channel, and the shutdown grace's end.
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
        self.retry_control();
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

    fn deliver(&mut self, conn: ConnId, cmd: ConnCommand) {
        let Some(sink) = self.sinks.get(&conn) else {
            return;
        };
        let control = !matches!(cmd, ConnCommand::Run(Command::Send { .. }));
        if self.retry.contains_key(&conn) && control {
            // Keep control commands in order behind those already waiting.
            self.retry.entry(conn).or_default().push(cmd);
            return;
        }
        if !sink.deliver(cmd.clone()) {
            if control {
                self.retry.entry(conn).or_default().push(cmd);
            } else {
                self.backlog_drops += 1;
            }
        }
    }

    fn retry_control(&mut self) {
        let waiting = std::mem::take(&mut self.retry);
        for (conn, cmds) in waiting {
            let Some(sink) = self.sinks.get(&conn) else {
                continue;
            };
            let mut rest = cmds.into_iter();
            for cmd in rest.by_ref() {
                if !sink.deliver(cmd.clone()) {
                    let mut left = vec![cmd];
                    left.extend(rest);
                    self.retry.insert(conn, left);
                    break;
                }
            }
        }
    }

    /// Whether control commands are waiting for a full channel (the loop should come back
    /// soon and [`drain`](Self::drain) again).
    pub fn has_retries(&self) -> bool {
        !self.retry.is_empty()
    }

    fn forget(&mut self, conn: ConnId) {
        self.sinks.remove(&conn);
        self.locals.remove(&conn);
        self.retry.remove(&conn);
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
mod tests {
    use std::io;

    use super::*;
    use crate::crypto::keys::generate_secret_key;
    use crate::host::{HostBuilder, HostConfig};
    use crate::rng::MachineRng;
    use crate::session::SessionConfig;
    use crate::test_clock::t0;
    use crate::types::{Seed, WallClock};

    struct NoSink;

    impl ConnSink for NoSink {
        fn deliver(&self, _: ConnCommand) -> bool {
            true
        }
    }

    fn driver(now: Instant) -> HostDriver<NoSink> {
        let mut rng = MachineRng::new(Seed([7; 32]));
        let key = generate_secret_key(&mut rng);
        let session = SessionConfig::new(key, "test", Vec::new());
        let clock = WallClock {
            at: now,
            unix_secs: 1_700_000_000,
        };
        let host =
            HostBuilder::new(session, HostConfig::default()).build(now, clock, rng.child_seed());
        HostDriver::new(host)
    }

    #[test]
    fn failed_accepts_are_counted_and_pause_the_listener_until_one_succeeds() {
        let now = t0();
        let mut d = driver(now);
        assert_eq!(d.accept_paused_until(now), None);
        let emfile = io::Error::from_raw_os_error(24);
        let first = d.on_accept_error(now, &emfile);
        assert_eq!(first.log, Some(1));
        assert_eq!(d.accept_paused_until(now), Some(first.until));
        let second = d.on_accept_error(first.until, &emfile);
        assert_eq!(second.delay, first.delay * 2);
        assert_eq!(second.log, None);
        assert_eq!(d.host().metrics().accept_errors.get("fd_limit"), Some(&2));
        // The wake-up deadline of the host is not moved by the pause (the runtime waits for
        // the pause separately), so timers keep firing on time.
        assert_eq!(d.wake_at(now), d.deadline());
        let remote = SocketAddr::from(([192, 0, 2, 1], 30303));
        let local = SocketAddr::from(([127, 0, 0, 1], 30303));
        let _ = d.on_inbound(second.until, remote, local);
        assert_eq!(d.accept_paused_until(second.until), None);
        assert_eq!(
            d.on_accept_error(second.until, &emfile).delay,
            first.delay,
            "a success starts the backoff over"
        );
    }
}
