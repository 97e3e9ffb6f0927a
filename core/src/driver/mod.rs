//! Synchronous helpers shared by every runtime driver: the read and write buffers around a
//! [`Session`], the drain loop, and the session timings reported to users. Runtime crates only
//! add sockets, timers and channels around a [`SessionDriver`].
//!
//! A runtime's loop, in any executor:
//! 1. call [`SessionDriver::pump`] and hand the returned events to the application;
//! 2. if [`SessionDriver::is_finished`], stop (close the socket);
//! 3. wait for whichever comes first: the socket readable into
//!    [`SessionDriver::io_buffers`]`.0` (only when [`SessionDriver::wants_read`]), the socket
//!    writable for `io_buffers().1` (only when non-empty), an application command, or
//!    [`SessionDriver::deadline`];
//! 4. report it with [`SessionDriver::on_read`], [`SessionDriver::on_written`], a command on
//!    [`SessionDriver::session_mut`], or [`SessionDriver::on_timeout`]; go to 1.

use std::io;
use std::time::{Duration, Instant};

use crate::p2p::{CapId, DisconnectReason, Hello, SharedCapabilities};
use crate::session::{CloseReason, SendError, Session, SessionEvent};
use crate::types::{Direction, PeerId, Seed};

pub mod discovery;
pub mod host;

/// Bytes asked from the socket per read when the session has no better hint.
pub const READ_CHUNK: usize = 64 * 1024;
/// Bytes of sealed frames gathered per write.
pub const WRITE_BUDGET: usize = 256 * 1024;

/// A seed from the operating system's RNG, for production drivers. State machines never call
/// this: they get their seed from whoever constructs them.
pub fn os_seed() -> Seed {
    let mut s = [0u8; 32];
    // If the OS RNG fails there is no safe way to continue making keys.
    #[allow(clippy::expect_used)]
    getrandom::getrandom(&mut s).expect("operating system RNG unavailable");
    Seed(s)
}

/// A byte buffer filled from the socket at the back and consumed by the session at the front.
#[derive(Debug, Default)]
pub struct ReadBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuffer {
    /// Unread bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when no unread bytes are held.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Free space of at least `min` bytes at the back, to read into.
    pub fn spare(&mut self, min: usize) -> &mut [u8] {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.buf.len() - self.end < min {
            // Move unread bytes to the front before growing.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() - self.end < min {
                self.buf.resize(self.end + min, 0);
            }
        }
        self.buf.get_mut(self.end..).unwrap_or(&mut [])
    }

    /// Marks `n` bytes of the last [`spare`](Self::spare) slice as filled.
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// The unread bytes.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.start..self.end).unwrap_or(&mut [])
    }

    /// Drops `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Releases memory after a large frame, keeping unread bytes.
    fn shrink(&mut self) {
        if self.is_empty() && self.buf.len() > 4 * READ_CHUNK {
            self.buf = Vec::new();
            self.start = 0;
            self.end = 0;
        }
    }
}

/// A command from the application to a session task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send a sub-protocol message (`msg_id` relative to `cap`).
    Send {
        /// The capability.
        cap: CapId,
        /// Relative message id.
        msg_id: u64,
        /// Uncompressed payload.
        payload: Vec<u8>,
    },
    /// Send a p2p Ping; the answer arrives as a `Pong` event.
    Ping,
    /// Disconnect with this reason.
    Disconnect(DisconnectReason),
}

/// Why a dial or an accepted connection did not become a session (both runtimes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// TCP failed.
    #[error("tcp: {0}")]
    Io(#[from] io::Error),
    /// The remote key is not a valid public key.
    #[error("invalid remote key")]
    InvalidKey,
    /// The session closed before it was established.
    #[error("{0}")]
    Closed(CloseReason),
}

/// Why a command on a session handle could not be carried out (both runtimes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandleError {
    /// The session refused the command.
    #[error(transparent)]
    Refused(#[from] SendError),
    /// The session task has ended.
    #[error("session has ended")]
    Ended,
}

/// What woke a runtime's session loop; handed to [`SessionDriver::on_wake`]. `R` is the
/// runtime's reply channel for a command.
#[derive(Debug)]
pub enum Wake<R> {
    /// A read into `io_buffers().0` finished (0 bytes: end of stream).
    Read(io::Result<usize>),
    /// A write of `io_buffers().1` finished.
    Written(io::Result<usize>),
    /// A command arrived; `None` when every application handle is gone.
    Command(Option<(Command, R)>),
    /// The deadline passed.
    Timeout,
}

/// What is known about a session once it is established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstablishedInfo {
    /// The authenticated remote key.
    pub remote: PeerId,
    /// Who dialed.
    pub direction: Direction,
    /// The remote Hello.
    pub hello: Hello,
    /// Negotiated capabilities.
    pub caps: SharedCapabilities,
    /// Milestone timings.
    pub timings: SessionTimings,
}

/// Follows a session's events until it is established or closed, measuring the milestones;
/// both runtimes' `connect` and `accept` use it so they agree on what "established" means.
#[derive(Debug)]
pub struct Establishing {
    started: Instant,
    direction: Direction,
    remote: Option<PeerId>,
    timings: SessionTimings,
}

impl Establishing {
    /// Starts following a session created at `started`.
    pub fn new(started: Instant, direction: Direction) -> Self {
        Self {
            started,
            direction,
            remote: None,
            timings: SessionTimings::default(),
        }
    }

    /// Takes the next event received at `now`. `Some(Ok)` when established, `Some(Err)` when
    /// the session closed first, `None` while still in progress.
    pub fn on_event(
        &mut self,
        now: Instant,
        ev: SessionEvent,
    ) -> Option<Result<EstablishedInfo, CloseReason>> {
        let since = now.saturating_duration_since(self.started);
        match ev {
            SessionEvent::Authenticated { remote } => {
                self.remote = Some(remote);
                self.timings.handshake = Some(since);
                None
            }
            SessionEvent::Established { hello, caps } => {
                self.timings.established = Some(since);
                Some(Ok(EstablishedInfo {
                    remote: self.remote.unwrap_or(hello.id),
                    direction: self.direction,
                    hello,
                    caps,
                    timings: self.timings,
                }))
            }
            SessionEvent::Closed { reason } => Some(Err(reason)),
            SessionEvent::Message { .. } | SessionEvent::Pong { .. } => None,
        }
    }
}

/// When the milestones of a session were reached, measured from its start by the driver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionTimings {
    /// Start to `Authenticated` (the RLPx handshake).
    pub handshake: Option<Duration>,
    /// Start to `Established` (handshake plus Hello exchange).
    pub established: Option<Duration>,
}

/// A session with its I/O buffers: everything a runtime loop needs that is not a socket.
pub struct SessionDriver {
    session: Session,
    rbuf: ReadBuffer,
    wbuf: Vec<u8>,
    wpos: usize,
    eof: bool,
    app_gone: bool,
    at_checkpoint: bool,
}

impl SessionDriver {
    /// Wraps a session.
    pub fn new(session: Session) -> Self {
        Self {
            session,
            rbuf: ReadBuffer::default(),
            wbuf: Vec::new(),
            wpos: 0,
            eof: false,
            app_gone: false,
            at_checkpoint: false,
        }
    }

    /// The session, for getters.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, for commands (`send`, `ping`, `disconnect`). Call [`pump`](Self::pump)
    /// afterwards.
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Applies an application command. Call [`pump`](Self::pump) afterwards.
    pub fn apply(&mut self, now: Instant, cmd: Command) -> Result<(), SendError> {
        match cmd {
            Command::Send {
                cap,
                msg_id,
                payload,
            } => self.session.send(now, cap, msg_id, payload),
            Command::Ping => self.session.ping(now),
            Command::Disconnect(reason) => {
                self.session.disconnect(now, reason);
                Ok(())
            }
        }
    }

    /// True when the last [`pump`](Self::pump) stopped at the admission checkpoint: the
    /// caller hands over the events and pumps again at once, without waiting for I/O.
    pub fn stopped_at_checkpoint(&self) -> bool {
        self.at_checkpoint
    }

    /// The application went away (its handle was dropped): leave politely, once.
    pub fn on_application_gone(&mut self, now: Instant) {
        if !self.app_gone {
            self.app_gone = true;
            self.session
                .disconnect(now, DisconnectReason::ClientQuitting);
        }
    }

    /// Whether the application still listens for events and may send commands.
    pub fn app_alive(&self) -> bool {
        !self.app_gone
    }

    /// Applies whatever woke the loop. For a command, returns its reply channel with the
    /// outcome, for the runtime to answer.
    pub fn on_wake<R>(
        &mut self,
        now: Instant,
        wake: Wake<R>,
    ) -> Option<(R, Result<(), SendError>)> {
        match wake {
            Wake::Read(Ok(n)) => self.on_read(now, n),
            Wake::Written(Ok(n)) => self.on_written(n),
            Wake::Read(Err(_)) | Wake::Written(Err(_)) => self.on_transport_error(now),
            Wake::Command(Some((cmd, reply))) => return Some((reply, self.apply(now, cmd))),
            Wake::Command(None) => self.on_application_gone(now),
            Wake::Timeout => self.on_timeout(now),
        }
        None
    }

    /// Whether the loop should wait for the socket to become readable.
    pub fn wants_read(&self) -> bool {
        !self.eof && self.session.wants_read()
    }

    /// The buffer to read into (empty when not reading) and the bytes waiting to be written.
    pub fn io_buffers(&mut self) -> (&mut [u8], &[u8]) {
        let want = if self.wants_read() {
            let hint = self.session.bytes_wanted().unwrap_or(0);
            hint.saturating_sub(self.rbuf.len()).max(READ_CHUNK)
        } else {
            0
        };
        let read: &mut [u8] = if want > 0 {
            self.rbuf.spare(want)
        } else {
            &mut []
        };
        let write = self.wbuf.get(self.wpos..).unwrap_or(&[]);
        (read, write)
    }

    /// Reports a read of `n` bytes into the read buffer; 0 means end of stream.
    pub fn on_read(&mut self, now: Instant, n: usize) {
        if n == 0 {
            self.eof = true;
            self.session.handle_transport_closed(now);
        } else {
            self.rbuf.filled(n);
            self.feed(now);
        }
    }

    /// Reports a socket error: the transport is gone.
    pub fn on_transport_error(&mut self, now: Instant) {
        self.eof = true;
        self.wbuf.clear();
        self.wpos = 0;
        self.session.handle_transport_closed(now);
    }

    /// Reports that `n` bytes of the pending write were written.
    pub fn on_written(&mut self, n: usize) {
        self.wpos = (self.wpos + n).min(self.wbuf.len());
        if self.wpos == self.wbuf.len() {
            self.wbuf.clear();
            self.wpos = 0;
        }
    }

    /// Reports that the deadline passed.
    pub fn on_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now);
    }

    /// The session's next deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.session.poll_timeout()
    }

    /// True once the session is closed and every byte it produced has been written: the
    /// socket can be closed.
    pub fn is_finished(&self) -> bool {
        self.session.is_closed() && self.wbuf.len() == self.wpos
    }

    /// The drain loop: moves sealed bytes into the write buffer, collects events, and re-feeds
    /// buffered input the session paused on, until nothing moves.
    ///
    /// It stops early right after an `Authenticated` event (the admission checkpoint): the
    /// caller decides on the peer (calling `disconnect` to refuse it) and then calls `pump`
    /// again, which releases our Hello if the peer was not refused.
    pub fn pump(&mut self, now: Instant) -> Vec<SessionEvent> {
        self.at_checkpoint = false;
        let mut events = Vec::new();
        loop {
            let mut progressed = false;
            if self.wbuf.len() - self.wpos < WRITE_BUDGET {
                progressed |= self.session.poll_transmit(&mut self.wbuf, WRITE_BUDGET) > 0;
            }
            while let Some(ev) = self.session.poll_event() {
                let checkpoint = matches!(ev, SessionEvent::Authenticated { .. });
                events.push(ev);
                if checkpoint {
                    self.at_checkpoint = true;
                    return events;
                }
                progressed = true;
            }
            if !self.rbuf.is_empty() && self.session.wants_read() {
                progressed |= self.feed(now) > 0;
            }
            if !progressed {
                break;
            }
        }
        events
    }

    fn feed(&mut self, now: Instant) -> usize {
        let n = self.session.handle_input(now, self.rbuf.data_mut());
        self.rbuf.consume(n);
        self.rbuf.shrink();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_buffer_keeps_unread_bytes_across_growth() {
        let mut b = ReadBuffer::default();
        b.spare(4).get_mut(..4).unwrap().copy_from_slice(b"abcd");
        b.filled(4);
        b.consume(1);
        let s = b.spare(100);
        assert!(s.len() >= 100);
        assert_eq!(b.data_mut(), b"bcd");
    }
}
