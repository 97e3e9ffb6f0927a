//! Synchronous helpers shared by every runtime driver: the read and write buffers around a
//! [`Session`], the drain loop, and the session timings reported to users. Runtime crates only
//! add sockets, timers and channels around a [`SessionDriver`].
//!
//! A runtime's loop, in any executor:
//! 1. call [`SessionDriver::pump`] and hand the returned events to the application; while
//!    [`SessionDriver::awaiting_verdict`], the application decides on the peer with
//!    [`SessionDriver::admit`] or [`SessionDriver::refuse`] (the loop keeps waiting on the
//!    socket and the deadline meanwhile);
//! 2. if [`SessionDriver::is_finished`], stop (close the socket);
//! 3. wait for whichever comes first: the socket readable into
//!    [`SessionDriver::io_buffers`]`.0` (only when [`SessionDriver::wants_read`]), the socket
//!    writable for `io_buffers().1` (only when non-empty), an application command, or
//!    [`SessionDriver::deadline`];
//! 4. report it with [`SessionDriver::on_read`], [`SessionDriver::on_written`], a command on
//!    [`SessionDriver::session_mut`], or [`SessionDriver::on_timeout`]; go to 1.
//!
//! Fairness: when several are ready, a loop serves the write first, then commands, then the
//! read, so a peer flooding us with requests cannot keep its answers from going out.
//!
//! Backpressure: the outbound backlog ([`SessionDriver::outbound_backlog`]: bytes not yet
//! written, the session's queued sends, a send it refused for a full queue, and what the host
//! still holds for this connection) above [`BACKLOG_HIGH`] stops reading and processing the
//! peer's input until it is below [`BACKLOG_LOW`]; the peer is slowed down by TCP. Host
//! connection tasks hand commands over with [`SessionDriver::submit`], which keeps a send
//! the session's queue refused until there is room (and takes no command meanwhile) instead
//! of dropping it.

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use crate::p2p::{CapId, DisconnectReason, Hello, SharedCapabilities};
use crate::session::{CloseReason, SendError, Session, SessionEvent};
use crate::types::{Direction, PeerId, Seed};

pub mod accept;
pub mod budget;
pub mod discovery;
pub mod host;

/// Largest read: the most free space the read buffer offers beyond the bytes it holds, so
/// its capacity never exceeds the unread bytes plus this (64 KiB, the read size of
/// go-ethereum's `bufio` reader around the RLPx conn is 4 KiB; 64 KiB keeps bulk transfers at
/// a few syscalls per MiB).
pub const READ_CHUNK: usize = 64 * 1024;
/// Smallest read, and what an idle session's read buffer shrinks back to: enough for a
/// handshake packet (≤ 2 KiB with EIP-8 padding, DESIGN.md §6) and a few small frames.
pub const MIN_READ_CHUNK: usize = 4 * 1024;
/// Bytes of sealed frames gathered per write.
pub const WRITE_BUDGET: usize = 256 * 1024;
/// Outbound backlog above which a session driver stops reading its peer.
pub const BACKLOG_HIGH: usize = 4 * 1024 * 1024;
/// Outbound backlog below which a paused session driver reads its peer again.
pub const BACKLOG_LOW: usize = 1024 * 1024;
/// Bytes read (and kept unprocessed) while a session waits for its admission verdict: enough
/// to notice the peer closing, too few to matter.
pub const VERDICT_READ_LIMIT: usize = 16 * 1024;

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
///
/// It grows only with bytes actually received, never to a size a peer declares: a frame body
/// accumulates as it arrives, and each growth leaves at most [`READ_CHUNK`] of free space
/// beyond the unread bytes (so while a frame accumulates, the capacity stays within its
/// received bytes plus one chunk). The read chunk adapts to the traffic: it doubles (up to
/// [`READ_CHUNK`]) when a read fills the space offered and falls back towards
/// [`MIN_READ_CHUNK`] after a small read. [`shrink`](Self::shrink), after input is consumed,
/// releases the capacity once it is more than twice the unread bytes plus one chunk, so a
/// consumed large frame does not stay allocated and an idle session keeps a few KiB.
#[derive(Debug)]
pub struct ReadBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Free space the next read is offered.
    chunk: usize,
    /// Free space the last [`spare`](Self::spare) slice had.
    offered: usize,
}

impl Default for ReadBuffer {
    fn default() -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            end: 0,
            chunk: MIN_READ_CHUNK,
            offered: 0,
        }
    }
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

    /// Bytes of memory held (unread bytes, consumed bytes not yet reclaimed, free space).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Free space at the back to read into: between half the current read chunk and
    /// [`READ_CHUNK`] bytes (after moving unread bytes to the front when needed). When it has
    /// to grow, the buffer grows by what it already holds (geometric while small) but never
    /// by more than [`READ_CHUNK`], to exactly that size.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        // Half a chunk is enough to read into: growing for every read that leaves a little
        // less than a chunk free would reallocate on every read of a stream.
        let enough = self.chunk / 2;
        if self.buf.len() - self.end < enough {
            self.compact();
            if self.buf.len() - self.end < enough {
                let step = self.len().clamp(self.chunk, READ_CHUNK);
                let new_len = self.end + step;
                self.buf.reserve_exact(new_len - self.buf.len());
                self.buf.resize(new_len, 0);
            }
        }
        self.offered = self.buf.len() - self.end;
        self.buf.get_mut(self.end..).unwrap_or(&mut [])
    }

    /// Marks `n` bytes of the last [`spare`](Self::spare) slice as filled.
    pub fn filled(&mut self, n: usize) {
        let n = n.min(self.buf.len() - self.end);
        self.end += n;
        if n >= self.offered {
            // The read filled everything offered: more is probably waiting.
            self.chunk = (self.chunk * 2).min(READ_CHUNK);
        } else if n.saturating_mul(4) <= self.chunk {
            // A small read: the burst is over.
            self.chunk = n
                .saturating_mul(2)
                .next_power_of_two()
                .clamp(MIN_READ_CHUNK, self.chunk);
        }
    }

    /// The unread bytes.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.start..self.end).unwrap_or(&mut [])
    }

    /// Drops `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Releases memory once it is more than twice the unread bytes plus one read chunk
    /// (after a large frame was consumed, or when reads became small), keeping the unread
    /// bytes and one chunk of free space.
    pub fn shrink(&mut self) {
        let keep = self.len() + self.chunk;
        if self.buf.capacity() > 2 * keep {
            self.compact();
            self.buf.truncate(keep);
            self.buf.shrink_to(keep);
        }
    }

    /// Moves the unread bytes to the front.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
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
    /// Stopped at the admission checkpoint: nothing is sent and no input is processed until
    /// [`admit`](SessionDriver::admit), a disconnect ([`refuse`](SessionDriver::refuse)) or
    /// the session's own end.
    awaiting_verdict: bool,
    /// Commands behind a send the session refused with `QueueFull`, retried in order once
    /// it has room.
    blocked: VecDeque<Command>,
    /// Send bytes meant for this session still outside it (held by the host driver).
    external: usize,
    /// Reading is paused until the backlog falls below [`BACKLOG_LOW`].
    backlogged: bool,
    /// Reading is paused: the node's memory budget is exceeded and this session holds more
    /// than its part (see [`budget`]).
    over_budget: bool,
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
            awaiting_verdict: false,
            blocked: VecDeque::new(),
            external: 0,
            backlogged: false,
            over_budget: false,
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
                // A disconnect at the checkpoint is the refusal: it must go out.
                self.awaiting_verdict = false;
                self.session.disconnect(now, reason);
                Ok(())
            }
        }
    }

    /// The verdict at the admission checkpoint: the peer is admitted, our Hello goes out at
    /// the next [`pump`](Self::pump). Does nothing away from the checkpoint.
    pub fn admit(&mut self) {
        self.awaiting_verdict = false;
    }

    /// The other verdict: the peer is refused with `reason` (a Disconnect goes out, then the
    /// session closes). The same as a [`Command::Disconnect`].
    pub fn refuse(&mut self, now: Instant, reason: DisconnectReason) {
        let _ = self.apply(now, Command::Disconnect(reason));
    }

    /// Applies a command from a host connection task, never dropping a send: one the
    /// session's queue refuses (`QueueFull`) is kept and retried by [`pump`](Self::pump) as
    /// the queue drains; meanwhile [`accepts_commands`](Self::accepts_commands) is false. Other
    /// refusals are returned (the session is not established or closing, or the command is
    /// invalid). Call [`pump`](Self::pump) afterwards.
    pub fn submit(&mut self, now: Instant, cmd: Command) -> Result<(), SendError> {
        if !self.blocked.is_empty() {
            // Behind what waits already, in order (callers that respect `accepts_commands`
            // never get here).
            self.blocked.push_back(cmd);
            self.refresh_backlog();
            return Ok(());
        }
        let kept = matches!(cmd, Command::Send { .. }).then(|| cmd.clone());
        let result = match self.apply(now, cmd) {
            Err(SendError::QueueFull) => {
                self.blocked.extend(kept);
                Ok(())
            }
            other => other,
        };
        self.refresh_backlog();
        result
    }

    /// Retries the commands waiting for room, in order, until the session refuses one again.
    /// Returns whether any was taken.
    fn retry_blocked(&mut self, now: Instant) -> bool {
        let mut took = false;
        while let Some(cmd) = self.blocked.pop_front() {
            let kept = cmd.clone();
            match self.apply(now, cmd) {
                Err(SendError::QueueFull) => {
                    self.blocked.push_front(kept);
                    break;
                }
                // Taken, or refused for good (the session is closing): nothing left to wait
                // for either way.
                _ => took = true,
            }
        }
        took
    }

    /// Whether the loop may take the next command ([`submit`](Self::submit)): false while a
    /// refused send waits for room in the session's queue.
    pub fn accepts_commands(&self) -> bool {
        self.blocked.is_empty()
    }

    /// Tells the driver how many send bytes meant for this session are still outside it (held
    /// by the host driver or in the command channel); they count in the
    /// [`outbound_backlog`](Self::outbound_backlog).
    pub fn set_external_backlog(&mut self, bytes: usize) {
        self.external = bytes;
        self.refresh_backlog();
    }

    /// Bytes on their way to the peer: not yet written, queued in the session, refused for a
    /// full queue, and held outside (see [`set_external_backlog`](Self::set_external_backlog)).
    pub fn outbound_backlog(&self) -> usize {
        let blocked: usize = self
            .blocked
            .iter()
            .map(|c| match c {
                Command::Send { payload, .. } => payload.len(),
                _ => 0,
            })
            .sum();
        (self.wbuf.len() - self.wpos) + self.session.queued_send_bytes() + blocked + self.external
    }

    /// Bytes of memory this session holds for its peer: the read and write buffers, sends
    /// queued in the session or waiting for room, and sends held outside it (what a
    /// [`budget::BudgetShare`] is told).
    pub fn held_bytes(&self) -> usize {
        self.rbuf.capacity() + self.wbuf.capacity() + self.outbound_backlog()
            - (self.wbuf.len() - self.wpos)
    }

    /// Pauses reading (`true`) while the node's memory budget says this session holds more
    /// than its part, or resumes it; buffered input is still processed, which frees memory.
    pub fn set_over_budget(&mut self, over: bool) {
        self.over_budget = over;
    }

    /// Whether reading is paused because the outbound backlog went above [`BACKLOG_HIGH`]
    /// (until it falls below [`BACKLOG_LOW`]).
    pub fn is_backlogged(&self) -> bool {
        self.backlogged
    }

    fn refresh_backlog(&mut self) {
        let b = self.outbound_backlog();
        if b > BACKLOG_HIGH {
            self.backlogged = true;
        } else if b < BACKLOG_LOW {
            self.backlogged = false;
        }
    }

    /// True while the session waits at the admission checkpoint (after `Authenticated`) for
    /// [`admit`](Self::admit) or [`refuse`](Self::refuse). Meanwhile the loop keeps waiting
    /// as usual: the deadline still fires, and the socket is still read (up to
    /// [`VERDICT_READ_LIMIT`] bytes, not processed) so a peer that leaves is noticed.
    #[must_use]
    pub fn awaiting_verdict(&self) -> bool {
        self.awaiting_verdict
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

    /// Bytes of memory the read buffer holds (for tests and memory accounting).
    pub fn read_buffer_capacity(&self) -> usize {
        self.rbuf.capacity()
    }

    /// Whether the loop should wait for the socket to become readable: the session takes
    /// input and the outbound backlog does not hold reading back.
    pub fn wants_read(&self) -> bool {
        !self.eof
            && !self.over_budget
            && (self.may_feed() || (self.awaiting_verdict && self.rbuf.len() < VERDICT_READ_LIMIT))
    }

    /// Whether buffered input may be handed to the session now.
    fn may_feed(&self) -> bool {
        self.session.wants_read() && !self.backlogged && !self.awaiting_verdict
    }

    /// The buffer to read into (empty when not reading) and the bytes waiting to be written.
    pub fn io_buffers(&mut self) -> (&mut [u8], &[u8]) {
        // Sized by what was received, never by the frame size a peer declared.
        let read: &mut [u8] = if self.wants_read() {
            self.rbuf.spare()
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
            if self.may_feed() {
                self.feed(now);
            }
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
        self.refresh_backlog();
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
    /// After an `Authenticated` event it stops at the admission checkpoint
    /// ([`awaiting_verdict`](Self::awaiting_verdict)): it moves nothing but events until the
    /// caller decides on the peer with [`admit`](Self::admit) or [`refuse`](Self::refuse);
    /// the next `pump` then releases our Hello or the Disconnect. A session that ends while it
    /// waits (handshake deadline, the peer gone) leaves the checkpoint by itself.
    pub fn pump(&mut self, now: Instant) -> Vec<SessionEvent> {
        let mut events = Vec::new();
        loop {
            let mut progressed = false;
            if self.awaiting_verdict && self.session.is_closing() {
                // It ended by itself while waiting (deadline, peer gone): let its Disconnect
                // out.
                self.awaiting_verdict = false;
            }
            if !self.awaiting_verdict {
                if self.wbuf.len() - self.wpos < WRITE_BUDGET {
                    progressed |= self.session.poll_transmit(&mut self.wbuf, WRITE_BUDGET) > 0;
                }
                // The queue may have room again now that frames were sealed.
                progressed |= self.retry_blocked(now);
            }
            self.refresh_backlog();
            while let Some(ev) = self.session.poll_event() {
                match ev {
                    SessionEvent::Authenticated { .. } => self.awaiting_verdict = true,
                    SessionEvent::Closed { .. } => self.awaiting_verdict = false,
                    _ => {}
                }
                events.push(ev);
                progressed = true;
            }
            if !self.rbuf.is_empty() && self.may_feed() {
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
        b.spare().get_mut(..4).unwrap().copy_from_slice(b"abcd");
        b.filled(4);
        b.consume(1);
        for _ in 0..20 {
            let n = b.spare().len();
            assert!(n >= MIN_READ_CHUNK / 2);
            b.filled(n);
        }
        assert_eq!(b.data_mut().get(..3).unwrap(), b"bcd");
        b.consume(b.len() - 2);
        b.shrink();
        assert_eq!(b.len(), 2);
        assert!(b.capacity() <= 2 + READ_CHUNK, "{}", b.capacity());
    }

    #[test]
    fn an_idle_buffer_is_small() {
        let mut b = ReadBuffer::default();
        assert_eq!(b.capacity(), 0);
        assert!(b.spare().len() <= MIN_READ_CHUNK);
        b.filled(300);
        b.consume(300);
        b.shrink();
        assert!(b.capacity() <= MIN_READ_CHUNK, "{}", b.capacity());
    }

    #[test]
    fn a_trickled_large_frame_grows_the_buffer_only_with_its_bytes() {
        // 16 MiB declared, 1 KiB per read: nothing is consumed while the body accumulates.
        let mut b = ReadBuffer::default();
        for i in 0..2048 {
            let s = b.spare();
            let n = s.len().min(1024);
            s.get_mut(..n).unwrap().fill(i as u8);
            b.filled(n);
            assert!(
                b.capacity() <= b.len() + READ_CHUNK,
                "capacity {} with {} buffered",
                b.capacity(),
                b.len()
            );
        }
        assert_eq!(b.len(), 2 << 20);
    }

    #[test]
    fn a_consumed_large_frame_releases_its_memory() {
        let mut b = ReadBuffer::default();
        while b.len() < 4 << 20 {
            let n = b.spare().len();
            b.filled(n);
        }
        assert!(b.capacity() <= b.len() + READ_CHUNK);
        // The frame is consumed but for the first bytes of the next one.
        b.consume(b.len() - 100);
        b.shrink();
        assert_eq!(b.len(), 100);
        assert!(b.capacity() <= 100 + READ_CHUNK, "{}", b.capacity());
        // Then the traffic calms down: one small read brings it back to a few KiB.
        b.consume(100);
        b.spare();
        b.filled(60);
        b.consume(60);
        b.shrink();
        assert!(b.capacity() <= MIN_READ_CHUNK, "{}", b.capacity());
    }

    #[test]
    fn a_stream_of_full_reads_does_not_reallocate_on_every_read() {
        let mut b = ReadBuffer::default();
        let mut reallocs = 0;
        let mut last_cap = 0;
        for _ in 0..1000 {
            let n = b.spare().len();
            b.filled(n);
            // The session consumes all but a partial frame of 700 bytes.
            b.consume(b.len().saturating_sub(700));
            b.shrink();
            if b.capacity() != last_cap {
                reallocs += 1;
                last_cap = b.capacity();
            }
        }
        assert!(reallocs < 10, "{reallocs} reallocations");
        assert!(b.spare().len() >= READ_CHUNK / 2, "reads stay large");
    }

    proptest::proptest! {
        #[test]
        fn capacity_follows_bytes_received(
            ops in proptest::collection::vec((0usize..=READ_CHUNK, 0usize..=READ_CHUNK), 1..200)
        ) {
            let mut b = ReadBuffer::default();
            let mut model: Vec<u8> = Vec::new();
            let mut next = 0u8;
            for (read, eat) in ops {
                let before = b.capacity();
                let s = b.spare();
                let n = read.min(s.len());
                s.get_mut(..n).unwrap().fill(next);
                model.extend(std::iter::repeat_n(next, n));
                next = next.wrapping_add(1);
                b.filled(n);
                // Growth leaves at most one chunk of free space beyond the unread bytes.
                proptest::prop_assert!(
                    b.capacity() == before || b.capacity() <= b.len() + READ_CHUNK
                );
                let eat = eat.min(b.len());
                b.consume(eat);
                model.drain(..eat);
                b.shrink();
                proptest::prop_assert!(b.capacity() <= 2 * (b.len() + READ_CHUNK));
                proptest::prop_assert_eq!(b.data_mut(), &model[..]);
            }
        }
    }
}
