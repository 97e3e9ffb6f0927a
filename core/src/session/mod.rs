//! One RLPx connection as a sans-IO state machine: handshake → Hello → active → closing →
//! closed.
//!
//! See [`Session`] for the driver contract.

pub mod config;
pub mod error;
pub mod event;
pub mod msg_id;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

pub use config::SessionConfig;
pub use error::{FaultClass, SendError, SessionError};
pub use event::{CloseReason, SessionEvent};

use crate::p2p::{
    CapId, DisconnectReason, Hello, SharedCapabilities, DISCONNECT_ID, EMPTY_LIST, HELLO_ID,
    PING_ID, PONG_ID,
};
use crate::rlpx::frame::{self, FrameCodec, HEADER_LEN, MAX_FRAME_SIZE};
use crate::rlpx::handshake::{AuthSent, ExpectAuth};
use crate::rlpx::secrets::Secrets;
use crate::rlpx::snappy;
use crate::rng::MachineRng;
use crate::types::{Direction, PeerId, Seed};

/// Largest encoded message id prefix (RLP of a u64).
const MAX_MSG_ID_BYTES: usize = 9;
/// A Disconnect payload is tiny; a larger decoded one is nonsense.
const MAX_DISCONNECT_BYTES: usize = 64;

/// Where a session is in its life.
enum Phase {
    /// We dialed and sent auth; waiting for ack.
    Initiator(AuthSent),
    /// We accepted; waiting for auth.
    Recipient(ExpectAuth),
    /// Framing is up; waiting for the remote Hello.
    AwaitHello,
    /// Hello exchanged; sub-protocol messages flow.
    Active,
    /// We queued Disconnect; lingering until the deadline or the transport closes.
    Closing,
    /// Done; `Closed` has been emitted.
    Closed,
}

/// A message waiting to be sealed into a frame by `poll_transmit`.
struct Outgoing {
    id: u64,
    payload: Vec<u8>,
    compress: bool,
}

/// Byte and frame counters of one session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Bytes consumed from the transport.
    pub bytes_in: u64,
    /// Bytes handed to the transport.
    pub bytes_out: u64,
    /// Frames received.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
}

/// One RLPx connection: handshake, Hello and capability negotiation, keep-alive, and the
/// sub-protocol message multiplexer, without any I/O.
///
/// Methods are of four kinds:
/// - **getters**: [`remote_id`](Self::remote_id), [`hello`](Self::hello),
///   [`caps`](Self::caps), [`is_closed`](Self::is_closed), [`wants_read`](Self::wants_read),
///   [`stats`](Self::stats);
/// - **inputs**: [`handle_input`](Self::handle_input) (bytes read from the socket, decrypted in
///   place; returns how many were consumed), [`handle_timeout`](Self::handle_timeout),
///   [`handle_transport_closed`](Self::handle_transport_closed);
/// - **commands**: [`send`](Self::send), [`ping`](Self::ping),
///   [`disconnect`](Self::disconnect);
/// - **outputs**: [`poll_transmit`](Self::poll_transmit) (bytes to write),
///   [`poll_event`](Self::poll_event), [`poll_timeout`](Self::poll_timeout).
///
/// **Drain rule**: after any input or command, drain `poll_transmit` until it returns 0, then
/// `poll_event` until `None`, and repeat both until neither yields anything (polling
/// `Authenticated` releases our Hello; polling events may also re-enable reading). Then feed
/// any unconsumed input again if [`wants_read`](Self::wants_read), and sleep until
/// `poll_timeout`. Unconsumed input must be kept and passed again, in order, at the front of
/// the next call. `Closed` is emitted exactly once and is always the last event; after it the
/// driver writes what `poll_transmit` still yields and closes the socket.
///
/// Peer faults never panic and never return `Err`: they become a `Closed` event carrying a
/// typed [`SessionError`], after a Disconnect with the matching reason when framing is up.
pub struct Session {
    cfg: Arc<SessionConfig>,
    direction: Direction,
    rng: MachineRng,
    phase: Phase,
    codec: Option<FrameCodec>,
    remote: Option<PeerId>,
    hello: Option<Hello>,
    caps: SharedCapabilities,
    snappy: bool,
    /// Our Hello is on the wire: the peer can turn compression on, so our Disconnect may
    /// be compressed.
    hello_sent: bool,
    /// Size announced by a header already decrypted, whose body has not arrived yet.
    pending_frame: Option<usize>,
    /// `Authenticated` is queued and unpolled: input and Hello wait for the host's verdict.
    admission_pending: bool,
    raw_out: Vec<u8>,
    queue: VecDeque<Outgoing>,
    queued_bytes: usize,
    events: VecDeque<SessionEvent>,
    handshake_deadline: Option<Instant>,
    next_ping: Option<Instant>,
    ping_sent: Option<Instant>,
    last_read: Instant,
    linger_deadline: Option<Instant>,
    closing_reason: Option<CloseReason>,
    stats: SessionStats,
}

impl Session {
    /// Starts an outbound session to `remote`; the auth packet is ready in `poll_transmit`.
    /// Fails only if `remote` is not a valid public key (a caller mistake).
    pub fn connect(
        cfg: Arc<SessionConfig>,
        remote: PeerId,
        now: Instant,
        seed: Seed,
    ) -> Result<Self, crate::crypto::keys::KeyError> {
        remote.public_key()?;
        let mut rng = MachineRng::new(seed);
        let (state, auth) = AuthSent::new(&cfg.secret_key, &remote, &mut rng)
            .map_err(|_| crate::crypto::keys::KeyError::InvalidPublicKey)?;
        let mut s = Self::new(cfg, Direction::Outbound, rng, Phase::Initiator(state), now);
        s.remote = Some(remote);
        s.raw_out = auth;
        Ok(s)
    }

    /// Starts an inbound session on an accepted connection; waits for the remote's auth.
    pub fn accept(cfg: Arc<SessionConfig>, now: Instant, seed: Seed) -> Self {
        let mut rng = MachineRng::new(seed);
        let state = ExpectAuth::new(cfg.secret_key, &mut rng);
        Self::new(cfg, Direction::Inbound, rng, Phase::Recipient(state), now)
    }

    fn new(
        cfg: Arc<SessionConfig>,
        direction: Direction,
        rng: MachineRng,
        phase: Phase,
        now: Instant,
    ) -> Self {
        let handshake_deadline = Some(now + cfg.handshake_timeout);
        Self {
            cfg,
            direction,
            rng,
            phase,
            codec: None,
            remote: None,
            hello: None,
            caps: SharedCapabilities::default(),
            snappy: false,
            hello_sent: false,
            pending_frame: None,
            admission_pending: false,
            raw_out: Vec::new(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            events: VecDeque::new(),
            handshake_deadline,
            next_ping: None,
            ping_sent: None,
            last_read: now,
            linger_deadline: None,
            closing_reason: None,
            stats: SessionStats::default(),
        }
    }

    // ----- getters -----

    /// Who dialed.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The remote's key: known from the start when dialing, after the handshake when accepting.
    pub fn remote_id(&self) -> Option<PeerId> {
        self.remote
    }

    /// The remote's Hello, once received.
    pub fn hello(&self) -> Option<&Hello> {
        self.hello.as_ref()
    }

    /// The negotiated capabilities (empty before `Established`).
    pub fn caps(&self) -> &SharedCapabilities {
        &self.caps
    }

    /// True once Hello has been exchanged and until the session starts closing.
    pub fn is_established(&self) -> bool {
        matches!(self.phase, Phase::Active)
    }

    /// True once the session has started closing (a Disconnect is on its way, or it is
    /// closed already).
    pub fn is_closing(&self) -> bool {
        matches!(self.phase, Phase::Closing | Phase::Closed)
    }

    /// True once `Closed` has been emitted.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Whether snappy compression is in use (both sides announced p2p v5+).
    pub fn snappy(&self) -> bool {
        self.snappy
    }

    /// Byte and frame counters.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// Whether the session will consume input now. False while the host has not seen
    /// `Authenticated`, while too many events or outgoing bytes are pending (back-pressure:
    /// the driver must stop reading rather than buffer), and once closed.
    pub fn wants_read(&self) -> bool {
        !self.admission_pending
            && !matches!(self.phase, Phase::Closed)
            && self.events.len() < self.cfg.max_pending_events
            && self.queued_bytes <= self.cfg.max_queued_send_bytes
    }

    /// Payload bytes of messages queued for sending and not yet sealed by
    /// [`poll_transmit`](Self::poll_transmit).
    pub fn queued_send_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// How many more bytes the session needs before it can make progress, if it knows
    /// (the rest of a frame whose header was read). It is the peer's claim, not bytes
    /// received: drivers must not allocate by it (core's driver grows its read buffer with
    /// the bytes that actually arrive).
    pub fn bytes_wanted(&self) -> Option<usize> {
        self.pending_frame.map(frame::body_len)
    }

    // ----- inputs -----

    /// Feeds bytes read from the transport. They are decrypted in place; the return value is
    /// how many were consumed. Bytes not consumed must be passed again (with more appended)
    /// once [`wants_read`](Self::wants_read) is true.
    pub fn handle_input(&mut self, now: Instant, buf: &mut [u8]) -> usize {
        let mut pos = 0;
        while self.wants_read() {
            let Some(rest) = buf.get_mut(pos..) else {
                break;
            };
            if rest.is_empty() {
                break;
            }
            let n = self.step(now, rest);
            if n == 0 {
                break;
            }
            pos += n;
        }
        if pos > 0 {
            self.last_read = now;
            self.stats.bytes_in += pos as u64;
        }
        pos
    }

    /// Advances timers: handshake deadline, keep-alive Ping, pong and idle timeouts, linger.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::Initiator(_) | Phase::Recipient(_) | Phase::AwaitHello => {
                if self.handshake_deadline.is_some_and(|d| now >= d) {
                    self.fail(now, SessionError::HandshakeTimeout);
                }
            }
            Phase::Active => {
                if self
                    .ping_sent
                    .is_some_and(|t| now >= t + self.cfg.pong_timeout)
                {
                    self.fail(now, SessionError::PongTimeout);
                } else if now >= self.last_read + self.cfg.idle_timeout {
                    self.fail(now, SessionError::IdleTimeout);
                } else if self.next_ping.is_some_and(|t| now >= t) {
                    self.send_ping(now);
                }
            }
            Phase::Closing => {
                if self.linger_deadline.is_some_and(|d| now >= d) {
                    self.finish_closing();
                }
            }
            Phase::Closed => {}
        }
    }

    /// The transport reached EOF or failed. Ends the session (the reason we already had if we
    /// were closing, else [`CloseReason::TransportClosed`]).
    pub fn handle_transport_closed(&mut self, _now: Instant) {
        match self.phase {
            Phase::Closed => {}
            Phase::Closing => self.finish_closing(),
            _ => self.finish(CloseReason::TransportClosed),
        }
    }

    // ----- commands -----

    /// Queues a sub-protocol message: `msg_id` is relative to `cap`.
    pub fn send(
        &mut self,
        _now: Instant,
        cap: CapId,
        msg_id: u64,
        payload: Vec<u8>,
    ) -> Result<(), SendError> {
        if !self.is_established() {
            return Err(SendError::NotEstablished);
        }
        let abs = match self.caps.get(cap) {
            None => return Err(SendError::UnknownCapability),
            Some(c) if msg_id >= c.message_count => {
                return Err(SendError::MessageIdOutOfRange(msg_id))
            }
            Some(c) => c.offset + msg_id,
        };
        let wire_max = if self.snappy {
            snap::raw::max_compress_len(payload.len())
        } else {
            payload.len()
        };
        if (wire_max == 0 && !payload.is_empty()) || wire_max + MAX_MSG_ID_BYTES > MAX_FRAME_SIZE {
            return Err(SendError::TooLarge(payload.len()));
        }
        if self.queued_bytes + payload.len() > self.cfg.max_queued_send_bytes {
            return Err(SendError::QueueFull);
        }
        self.enqueue(abs, payload, self.snappy);
        Ok(())
    }

    /// Sends a p2p Ping now (unless one is already outstanding); its `Pong` event carries the
    /// round-trip time.
    pub fn ping(&mut self, now: Instant) -> Result<(), SendError> {
        if !self.is_established() {
            return Err(SendError::NotEstablished);
        }
        self.send_ping(now);
        Ok(())
    }

    /// Ends the session with `reason`: queued messages not yet handed out are dropped,
    /// Disconnect is sent (if framing is up) and the session lingers briefly before `Closed`.
    pub fn disconnect(&mut self, now: Instant, reason: DisconnectReason) {
        self.begin_close(now, reason, CloseReason::Local(reason));
    }

    // ----- outputs -----

    /// Appends bytes to write to `out`: at least one whole frame if any is pending, then more
    /// while fewer than `max_bytes` were appended. Returns the number of bytes appended.
    /// Frames are sealed here, so their order on the wire is the order of the commands.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>, max_bytes: usize) -> usize {
        let start = out.len();
        out.append(&mut self.raw_out);
        while out.len() - start < max_bytes.max(1) {
            if self.admission_pending {
                break;
            }
            let Some(msg) = self.queue.pop_front() else {
                break;
            };
            self.queued_bytes = self.queued_bytes.saturating_sub(msg.payload.len());
            let Some(codec) = self.codec.as_mut() else {
                break;
            };
            self.hello_sent |= msg.id == HELLO_ID;
            let (id_buf, id_len) = msg_id::encode(msg.id);
            let id = id_buf.get(..id_len).unwrap_or(&[]);
            let sealed = if msg.compress {
                let mut c = Vec::with_capacity(snap::raw::max_compress_len(msg.payload.len()));
                snappy::compress(&msg.payload, &mut c);
                codec.write_frame(&[id, &c], out)
            } else {
                codec.write_frame(&[id, &msg.payload], out)
            };
            // `send` bounds sizes, so sealing cannot fail; a failure would drop one message.
            if sealed.is_ok() {
                self.stats.frames_out += 1;
            }
        }
        let n = out.len() - start;
        self.stats.bytes_out += n as u64;
        n
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        let ev = self.events.pop_front()?;
        if matches!(ev, SessionEvent::Authenticated { .. }) && self.admission_pending {
            self.admission_pending = false;
            if matches!(self.phase, Phase::AwaitHello) {
                self.queue_hello();
            }
        }
        Some(ev)
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Initiator(_) | Phase::Recipient(_) | Phase::AwaitHello => {
                self.handshake_deadline
            }
            Phase::Active => {
                let idle = self.last_read + self.cfg.idle_timeout;
                let pong = self.ping_sent.map(|t| t + self.cfg.pong_timeout);
                [Some(idle), pong, self.next_ping]
                    .into_iter()
                    .flatten()
                    .min()
            }
            Phase::Closing => self.linger_deadline,
            Phase::Closed => None,
        }
    }

    // ----- internals -----

    /// Consumes one unit (handshake packet, frame header or frame body) from the front of
    /// `rest`; 0 means more bytes are needed.
    fn step(&mut self, now: Instant, rest: &mut [u8]) -> usize {
        match &self.phase {
            Phase::Initiator(state) => match state.read_ack(rest) {
                Ok(None) => 0,
                Ok(Some(ack)) => {
                    self.on_authenticated(ack.secrets);
                    ack.consumed
                }
                Err(e) => {
                    self.fail(now, e.into());
                    rest.len()
                }
            },
            Phase::Recipient(state) => match state.read_auth(rest, &mut self.rng) {
                Ok(None) => 0,
                Ok(Some(auth)) => {
                    self.raw_out.extend_from_slice(&auth.ack);
                    self.on_authenticated(auth.secrets);
                    auth.consumed
                }
                Err(e) => {
                    self.fail(now, e.into());
                    rest.len()
                }
            },
            Phase::AwaitHello | Phase::Active => self.step_framed(now, rest),
            // Closing or closed: input is read (to see EOF) and discarded.
            Phase::Closing | Phase::Closed => rest.len(),
        }
    }

    fn step_framed(&mut self, now: Instant, rest: &mut [u8]) -> usize {
        let Some(codec) = self.codec.as_mut() else {
            return rest.len();
        };
        match self.pending_frame {
            None => {
                let Some(header) = rest.get_mut(..HEADER_LEN) else {
                    return 0;
                };
                match codec.read_header(header) {
                    Ok(size) => {
                        let max = if matches!(self.phase, Phase::AwaitHello) {
                            self.cfg.max_hello_bytes + MAX_MSG_ID_BYTES
                        } else {
                            self.cfg.max_message_bytes
                        };
                        if size > max {
                            self.fail(now, SessionError::MessageTooLarge { size, max });
                            return rest.len();
                        }
                        self.pending_frame = Some(size);
                        HEADER_LEN
                    }
                    Err(e) => {
                        self.fail(now, e.into());
                        rest.len()
                    }
                }
            }
            Some(size) => {
                let need = frame::body_len(size);
                let Some(body) = rest.get_mut(..need) else {
                    return 0;
                };
                match codec.read_body(body, size) {
                    Ok(content) => {
                        self.pending_frame = None;
                        self.stats.frames_in += 1;
                        self.on_frame(now, content);
                        need
                    }
                    Err(e) => {
                        self.fail(now, e.into());
                        rest.len()
                    }
                }
            }
        }
    }

    fn on_authenticated(&mut self, secrets: Secrets) {
        self.codec = Some(FrameCodec::new(&secrets));
        self.remote = Some(secrets.remote);
        self.phase = Phase::AwaitHello;
        self.admission_pending = true;
        self.events.push_back(SessionEvent::Authenticated {
            remote: secrets.remote,
        });
    }

    fn queue_hello(&mut self) {
        let hello = Hello {
            protocol_version: self.cfg.p2p_version,
            client_id: self.cfg.client_id.clone(),
            capabilities: self.cfg.protocols.iter().map(|p| p.cap.clone()).collect(),
            listen_port: self.cfg.listen_port,
            id: self.cfg.local_id(),
        };
        // Hello is never compressed and goes before anything else.
        self.queue.push_front(Outgoing {
            id: HELLO_ID,
            payload: hello.encode(),
            compress: false,
        });
    }

    fn on_frame(&mut self, now: Instant, content: &[u8]) {
        let Some((id, payload)) = msg_id::split(content) else {
            self.fail(now, SessionError::MalformedMessageId);
            return;
        };
        match self.phase {
            Phase::AwaitHello => match id {
                HELLO_ID => self.on_hello(now, payload),
                DISCONNECT_ID => {
                    self.finish(CloseReason::Remote(DisconnectReason::decode(payload)))
                }
                other => self.fail(now, SessionError::UnexpectedMessage(other)),
            },
            Phase::Active => self.on_active_message(now, id, payload),
            _ => {}
        }
    }

    fn on_hello(&mut self, now: Instant, payload: &[u8]) {
        let hello = match Hello::decode(payload) {
            Ok(h) => h,
            Err(e) => return self.fail(now, e.into()),
        };
        if Some(hello.id) != self.remote {
            return self.fail(now, SessionError::UnexpectedIdentity);
        }
        // Both Hellos are exchanged: from here on every message, a Disconnect for a useless
        // peer included, is snappy-compressed when both announced p2p v5 (go-ethereum turns
        // compression on before its capability checks).
        self.snappy = self.cfg.p2p_version >= 5 && hello.protocol_version >= 5;
        let caps = SharedCapabilities::negotiate(&self.cfg.protocols, &hello.capabilities);
        if caps.is_empty() && self.cfg.require_shared_capability {
            return self.fail(now, SessionError::NoSharedCapability);
        }
        self.phase = Phase::Active;
        self.handshake_deadline = None;
        self.next_ping = Some(now + self.cfg.ping_interval);
        self.caps = caps.clone();
        self.hello = Some(hello.clone());
        self.events
            .push_back(SessionEvent::Established { hello, caps });
    }

    fn on_active_message(&mut self, now: Instant, id: u64, payload: &[u8]) {
        let payload = match self.decode_payload(id, payload) {
            Ok(p) => p,
            Err(e) => return self.fail(now, e.into()),
        };
        match id {
            HELLO_ID => self.fail(now, SessionError::UnexpectedMessage(id)),
            DISCONNECT_ID => {
                self.finish(CloseReason::Remote(DisconnectReason::decode(&payload)));
            }
            PING_ID => self.enqueue(PONG_ID, EMPTY_LIST.to_vec(), self.snappy),
            PONG_ID => {
                if let Some(sent) = self.ping_sent.take() {
                    self.events.push_back(SessionEvent::Pong {
                        rtt: now.saturating_duration_since(sent),
                    });
                }
            }
            // Reserved base-protocol ids are ignored, as go-ethereum does.
            id if id < crate::p2p::BASE_PROTOCOL_LENGTH => {}
            id => {
                let Some((cap, rel)) = self.caps.route(id) else {
                    return self.fail(now, SessionError::BadMessageId(id));
                };
                self.events.push_back(SessionEvent::Message {
                    cap,
                    msg_id: rel,
                    payload: payload.into_owned(),
                });
            }
        }
    }

    /// The payload of an active-phase message as the protocol sees it. With snappy on, every
    /// message — Ping, Pong, Disconnect and reserved ids included — has its declared decoded
    /// size checked against the message limit before its code is looked at, and is
    /// decompressed, as go-ethereum's rlpx reader does (`Conn.Read`: a size over the limit
    /// or invalid snappy is a read error that ends the connection).
    ///
    /// The one leniency: a Disconnect whose declared size is within the limit but which is
    /// not valid snappy is read as raw bytes, since some clients send it uncompressed (a bare
    /// reason integer); the peer is leaving either way.
    fn decode_payload<'a>(
        &self,
        id: u64,
        payload: &'a [u8],
    ) -> Result<std::borrow::Cow<'a, [u8]>, snappy::SnappyError> {
        use std::borrow::Cow;
        if !self.snappy {
            return Ok(Cow::Borrowed(payload));
        }
        let max = self.cfg.max_message_bytes;
        if id == DISCONNECT_ID {
            return match snappy::decoded_len(payload, max) {
                Err(e @ snappy::SnappyError::TooLarge { .. }) => Err(e),
                Err(_) => Ok(Cow::Borrowed(payload)),
                Ok(_) => Ok(snappy::decompress(payload, MAX_DISCONNECT_BYTES)
                    .map_or(Cow::Borrowed(payload), Cow::Owned)),
            };
        }
        snappy::decompress(payload, max).map(Cow::Owned)
    }

    fn send_ping(&mut self, now: Instant) {
        if self.ping_sent.is_none() {
            self.ping_sent = Some(now);
            self.enqueue(PING_ID, EMPTY_LIST.to_vec(), self.snappy);
        }
        self.next_ping = Some(now + self.cfg.ping_interval);
    }

    fn enqueue(&mut self, id: u64, payload: Vec<u8>, compress: bool) {
        self.queued_bytes += payload.len();
        self.queue.push_back(Outgoing {
            id,
            payload,
            compress,
        });
    }

    fn fail(&mut self, now: Instant, err: SessionError) {
        let reason = err.disconnect_reason();
        self.begin_close(now, reason, CloseReason::Error(err));
    }

    /// Starts a locally initiated close: with framing up, Disconnect then linger; without,
    /// closed at once.
    fn begin_close(&mut self, now: Instant, reason: DisconnectReason, why: CloseReason) {
        match self.phase {
            Phase::Closing | Phase::Closed => {}
            Phase::Initiator(_) | Phase::Recipient(_) => self.finish(why),
            Phase::AwaitHello | Phase::Active => {
                self.queue.clear();
                self.queued_bytes = 0;
                self.admission_pending = false;
                self.pending_frame = None;
                let payload = reason.encode();
                // Compressed only when the peer has both Hellos: a Disconnect that refuses a
                // peer before our Hello left (the queue is dropped) goes out plain.
                self.enqueue(DISCONNECT_ID, payload, self.snappy && self.hello_sent);
                self.phase = Phase::Closing;
                self.linger_deadline = Some(now + self.cfg.disconnect_linger);
                self.closing_reason = Some(why);
            }
        }
    }

    fn finish_closing(&mut self) {
        let why = self
            .closing_reason
            .take()
            .unwrap_or(CloseReason::TransportClosed);
        self.finish(why);
    }

    /// Enters `Closed` and emits the one `Closed` event. Bytes already sealed stay with the
    /// driver; nothing new is sealed.
    fn finish(&mut self, why: CloseReason) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        // A Disconnect queued but not yet sealed still goes out when closing by linger.
        if !matches!(self.phase, Phase::Closing) {
            self.queue.clear();
            self.queued_bytes = 0;
        }
        self.phase = Phase::Closed;
        self.admission_pending = false;
        self.handshake_deadline = None;
        self.next_ping = None;
        self.ping_sent = None;
        self.linger_deadline = None;
        self.events.push_back(SessionEvent::Closed { reason: why });
    }
}
