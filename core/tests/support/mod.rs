//! Test harness for sessions: a pair of drivers joined by in-memory pipes in virtual time
//! (after quinn-proto's `Pair`), and a raw peer that crafts frames by hand.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use paxeer_p2p_core::crypto::keys::{generate_secret_key, peer_id_of};
use paxeer_p2p_core::driver::SessionDriver;
use paxeer_p2p_core::p2p::{Capability, ProtocolSpec};
use paxeer_p2p_core::rlpx::frame::{self, FrameCodec, HEADER_LEN};
use paxeer_p2p_core::rlpx::handshake::AuthSent;
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::session::{msg_id, Session, SessionConfig, SessionEvent};
use paxeer_p2p_core::types::{PeerId, Seed};

/// The origin of virtual time. Tests never sleep; they move `now` forward.
#[allow(clippy::disallowed_methods)]
pub fn t0() -> Instant {
    Instant::now()
}

pub fn eth_specs() -> Vec<ProtocolSpec> {
    vec![
        ProtocolSpec {
            cap: Capability::new("eth", 68),
            message_count: 17,
        },
        ProtocolSpec {
            cap: Capability::new("eth", 69),
            message_count: 18,
        },
        ProtocolSpec {
            cap: Capability::new("snap", 1),
            message_count: 8,
        },
    ]
}

pub fn config(seed: u8, protocols: Vec<ProtocolSpec>) -> SessionConfig {
    let mut rng = MachineRng::new(Seed([seed; 32]));
    let sk = generate_secret_key(&mut rng);
    SessionConfig::new(sk, format!("test/{seed}"), protocols)
}

/// Splits a byte stream into chunks of pseudo-random sizes (1..=max).
pub struct Chunker {
    rng: MachineRng,
    max: usize,
}

impl Chunker {
    pub fn new(seed: u8, max: usize) -> Self {
        Self {
            rng: MachineRng::new(Seed([seed; 32])),
            max: max.max(1),
        }
    }
    pub fn whole() -> Self {
        Self {
            rng: MachineRng::new(Seed([0; 32])),
            max: usize::MAX,
        }
    }
    fn next(&mut self) -> usize {
        if self.max == usize::MAX {
            return usize::MAX;
        }
        self.rng.range_inclusive(1, self.max as u64) as usize
    }
}

pub struct Side {
    pub drv: SessionDriver,
    pub events: Vec<SessionEvent>,
    pipe_out: Vec<u8>,
    chunker: Chunker,
    eof_sent: bool,
    /// Bytes written by this side are dropped instead of delivered (a silent peer).
    pub mute: bool,
    /// Refuse the peer with this reason at the `Authenticated` checkpoint.
    pub refuse: Option<paxeer_p2p_core::p2p::DisconnectReason>,
}

pub struct Pair {
    pub now: Instant,
    pub a: Side,
    pub b: Side,
}

impl Pair {
    /// `a` dials `b`.
    pub fn new(cfg_a: SessionConfig, cfg_b: SessionConfig) -> Self {
        Self::with_chunkers(cfg_a, cfg_b, Chunker::whole(), Chunker::whole())
    }

    pub fn with_chunkers(
        cfg_a: SessionConfig,
        cfg_b: SessionConfig,
        ca: Chunker,
        cb: Chunker,
    ) -> Self {
        let now = t0();
        let b_id = cfg_b.local_id();
        let a = Session::connect(Arc::new(cfg_a), b_id, now, Seed([0xa; 32])).unwrap();
        let b = Session::accept(Arc::new(cfg_b), now, Seed([0xb; 32]));
        Self {
            now,
            a: Side::new(a, ca),
            b: Side::new(b, cb),
        }
    }

    /// Runs both sides until nothing moves.
    pub fn drive(&mut self) {
        loop {
            let mut progressed = self.a.pump(self.now) | self.b.pump(self.now);
            progressed |= deliver(self.now, &mut self.a, &mut self.b);
            progressed |= deliver(self.now, &mut self.b, &mut self.a);
            if !progressed {
                break;
            }
        }
    }

    /// Moves virtual time to `target`, firing every deadline on the way.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        loop {
            self.drive();
            let next = [self.a.drv.deadline(), self.b.drv.deadline()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    for s in [&mut self.a, &mut self.b] {
                        if s.drv.deadline().is_some_and(|d| d <= self.now) {
                            s.drv.on_timeout(self.now);
                        }
                    }
                }
                _ => break,
            }
        }
        self.now = target;
        self.drive();
    }

    pub fn established(&self) -> bool {
        self.a.drv.session().is_established() && self.b.drv.session().is_established()
    }
}

impl Side {
    fn new(s: Session, chunker: Chunker) -> Self {
        Self {
            drv: SessionDriver::new(s),
            events: Vec::new(),
            pipe_out: Vec::new(),
            chunker,
            eof_sent: false,
            mute: false,
            refuse: None,
        }
    }

    fn pump(&mut self, now: Instant) -> bool {
        let mut evs = self.drv.pump(now);
        if self.drv.awaiting_verdict() {
            // The verdict at the checkpoint: refuse when told to, admit otherwise.
            match self.refuse {
                Some(reason) => self.drv.refuse(now, reason),
                None => self.drv.admit(),
            }
            evs.extend(self.drv.pump(now));
        }
        let mut progressed = !evs.is_empty();
        self.events.extend(evs);
        let (_, w) = self.drv.io_buffers();
        if !w.is_empty() {
            let n = w.len();
            if !self.mute {
                self.pipe_out.extend_from_slice(w);
            }
            self.drv.on_written(n);
            progressed = true;
        }
        progressed
    }

    pub fn closed_events(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, SessionEvent::Closed { .. }))
            .count()
    }

    pub fn close_reason(&self) -> Option<&paxeer_p2p_core::session::CloseReason> {
        self.events.iter().find_map(|e| match e {
            SessionEvent::Closed { reason } => Some(reason),
            _ => None,
        })
    }

    pub fn messages(&self) -> Vec<(u64, Vec<u8>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Message {
                    msg_id, payload, ..
                } => Some((*msg_id, payload.clone())),
                _ => None,
            })
            .collect()
    }
}

/// Moves one chunk from `src`'s pipe into `dst`, and EOF once `src` is finished.
fn deliver(now: Instant, src: &mut Side, dst: &mut Side) -> bool {
    if !src.pipe_out.is_empty() && dst.drv.wants_read() {
        let want = src.chunker.next().min(src.pipe_out.len());
        let (r, _) = dst.drv.io_buffers();
        let n = want.min(r.len());
        if n > 0 {
            r[..n].copy_from_slice(&src.pipe_out[..n]);
            src.pipe_out.drain(..n);
            dst.drv.on_read(now, n);
            return true;
        }
    }
    if src.pipe_out.is_empty() && src.drv.is_finished() && !src.eof_sent {
        src.eof_sent = true;
        dst.drv.on_read(now, 0);
        return true;
    }
    false
}

/// A peer that runs the real handshake as initiator and then writes frames by hand.
pub struct RawPeer {
    pub sk: secp256k1::SecretKey,
    pub id: PeerId,
    pub codec: Option<FrameCodec>,
    state: Option<AuthSent>,
    /// Bytes received from the session, not yet decoded.
    pub inbox: Vec<u8>,
}

impl RawPeer {
    /// Creates the peer and the auth packet to feed to the session.
    pub fn dial(seed: u8, remote: PeerId) -> (Self, Vec<u8>) {
        let mut rng = MachineRng::new(Seed([seed; 32]));
        let sk = generate_secret_key(&mut rng);
        let (state, auth) = AuthSent::new(&sk, &remote, &mut rng).unwrap();
        (
            Self {
                sk,
                id: peer_id_of(&sk),
                codec: None,
                state: Some(state),
                inbox: Vec::new(),
            },
            auth,
        )
    }

    /// Takes the session's output; completes the handshake on the ack.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.inbox.extend_from_slice(bytes);
        if let Some(state) = &self.state {
            if let Some(ack) = state.read_ack(&self.inbox).unwrap() {
                self.inbox.drain(..ack.consumed);
                self.codec = Some(FrameCodec::new(&ack.secrets));
                self.state = None;
            }
        }
    }

    /// Decodes every complete frame received so far into (msg id, raw payload).
    pub fn frames(&mut self) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        let codec = self.codec.as_mut().unwrap();
        loop {
            if self.inbox.len() < HEADER_LEN {
                break;
            }
            let mut hdr: Vec<u8> = self.inbox[..HEADER_LEN].to_vec();
            // Peek: decrypting mutates the codec, so only proceed when the body is here too.
            let size = {
                // Frame sizes are only known after decrypting, so decode eagerly.
                codec.read_header(&mut hdr).unwrap()
            };
            let need = frame::body_len(size);
            assert!(
                self.inbox.len() >= HEADER_LEN + need,
                "raw peer expects whole frames"
            );
            let mut body = self.inbox[HEADER_LEN..HEADER_LEN + need].to_vec();
            let content = codec.read_body(&mut body, size).unwrap().to_vec();
            self.inbox.drain(..HEADER_LEN + need);
            let (id, payload) = msg_id::split(&content).unwrap();
            out.push((id, payload.to_vec()));
        }
        out
    }

    /// Seals a frame `rlp(id) ‖ payload`.
    pub fn frame(&mut self, id: u64, payload: &[u8]) -> Vec<u8> {
        let (b, n) = msg_id::encode(id);
        let mut out = Vec::new();
        self.codec
            .as_mut()
            .unwrap()
            .write_frame(&[&b[..n], payload], &mut out)
            .unwrap();
        out
    }
}

/// Feeds `bytes` to a bare session (no driver), returning its output and events.
pub fn feed(s: &mut Session, now: Instant, bytes: &[u8]) -> (Vec<u8>, Vec<SessionEvent>) {
    let mut buf = bytes.to_vec();
    let mut pos = 0;
    let mut out = Vec::new();
    let mut events = Vec::new();
    loop {
        if pos < buf.len() && s.wants_read() {
            pos += s.handle_input(now, &mut buf[pos..]);
        }
        let mut progressed = s.poll_transmit(&mut out, usize::MAX) > 0;
        while let Some(e) = s.poll_event() {
            events.push(e);
            progressed = true;
        }
        if !progressed && (pos == buf.len() || !s.wants_read()) {
            break;
        }
    }
    (out, events)
}
