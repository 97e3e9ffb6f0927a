//! Shared setup for the fuzz targets: fixed keys, fixed frame secrets, a minimal session
//! driver that checks the event invariants, and a raw peer that completes the handshake with
//! a session by hand (like `RawPeer` in `core/tests/support`) so frames can be sealed to it.
//!
//! Everything is deterministic: fixed seeds, and virtual time anchored at one `Instant`.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use paxeer_p2p_core::crypto::keccak::KeccakState;
use paxeer_p2p_core::crypto::keys::{generate_secret_key, peer_id_of};
use paxeer_p2p_core::p2p::{Capability, Hello, ProtocolSpec};
use paxeer_p2p_core::rlpx::frame::{self, FrameCodec, HEADER_LEN};
use paxeer_p2p_core::rlpx::handshake::AuthSent;
use paxeer_p2p_core::rlpx::secrets::Secrets;
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::session::{msg_id, Session, SessionConfig, SessionEvent};
use paxeer_p2p_core::types::{PeerId, Seed};
use secp256k1::SecretKey;

/// The origin of virtual time, fixed for the whole process so runs only differ by input.
pub fn t0() -> Instant {
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now)
}

/// A secret key drawn from a generator seeded with `[seed; 32]`.
pub fn fixed_key(seed: u8) -> SecretKey {
    generate_secret_key(&mut MachineRng::new(Seed([seed; 32])))
}

/// A generator seeded with `[seed; 32]`.
pub fn rng(seed: u8) -> MachineRng {
    MachineRng::new(Seed([seed; 32]))
}

/// The protocols both the fuzzed session and the raw peer advertise.
pub fn specs() -> Vec<ProtocolSpec> {
    vec![
        ProtocolSpec {
            cap: Capability::new("eth", 68),
            message_count: 17,
        },
        ProtocolSpec {
            cap: Capability::new("snap", 1),
            message_count: 8,
        },
    ]
}

/// The configuration of the fuzzed session (key seed 1). Small limits so that the fuzzer can
/// reach the "too large" and back-pressure branches with small inputs.
pub fn session_config() -> Arc<SessionConfig> {
    let mut cfg = SessionConfig::new(fixed_key(1), "fuzz/session", specs());
    cfg.max_message_bytes = 64 * 1024;
    cfg.max_pending_events = 8;
    Arc::new(cfg)
}

/// Secrets with fixed keys and MAC states seeded by `egress`/`ingress` strings.
fn secrets(egress: &[u8], ingress: &[u8]) -> Secrets {
    let mut e = KeccakState::new();
    e.update(egress);
    let mut i = KeccakState::new();
    i.update(ingress);
    Secrets {
        remote: PeerId([7; 64]),
        aes: [0x11; 32],
        mac: [0x22; 32],
        egress_mac: e,
        ingress_mac: i,
    }
}

/// Two codecs keyed as the two ends of one connection: what the first writes, the second
/// reads.
pub fn codec_pair() -> (FrameCodec, FrameCodec) {
    let a = FrameCodec::new(&secrets(b"a->b", b"b->a"));
    let b = FrameCodec::new(&secrets(b"b->a", b"a->b"));
    (a, b)
}

/// Reads one frame from the front of `wire` with `codec`: `Ok(None)` when `wire` does not
/// hold a whole frame yet (nothing is consumed then), else the content and the bytes used.
pub fn read_frame(
    codec: &mut FrameCodec,
    wire: &mut [u8],
) -> Result<Option<(Vec<u8>, usize)>, frame::FrameError> {
    if wire.len() < HEADER_LEN {
        return Ok(None);
    }
    let (header, rest) = wire.split_at_mut(HEADER_LEN);
    let size = codec.read_header(header)?;
    let need = frame::body_len(size);
    let body = rest
        .get_mut(..need)
        .ok_or(frame::FrameError::BufferLength)?;
    let content = codec.read_body(body, size)?.to_vec();
    Ok(Some((content, HEADER_LEN + need)))
}

/// Tracks a session's events and checks the contract on them: at most one `Closed`, and
/// nothing after it; `Established` at most once, after `Authenticated`; messages only after
/// `Established`.
#[derive(Default, Debug)]
pub struct EventLog {
    /// Every event seen, in order.
    pub events: Vec<SessionEvent>,
    authenticated: bool,
    established: bool,
    closed: bool,
}

impl EventLog {
    /// Records one event, panicking if it breaks the contract.
    pub fn push(&mut self, ev: SessionEvent) {
        assert!(!self.closed, "event after Closed: {ev:?}");
        match &ev {
            SessionEvent::Authenticated { .. } => {
                assert!(!self.authenticated, "Authenticated twice");
                self.authenticated = true;
            }
            SessionEvent::Established { .. } => {
                assert!(self.authenticated, "Established before Authenticated");
                assert!(!self.established, "Established twice");
                self.established = true;
            }
            SessionEvent::Message { .. } | SessionEvent::Pong { .. } => {
                assert!(self.established, "{ev:?} before Established");
            }
            SessionEvent::Closed { .. } => self.closed = true,
        }
        self.events.push(ev);
    }

    /// Whether `Closed` was seen.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Whether `Authenticated` was seen.
    pub fn authenticated(&self) -> bool {
        self.authenticated
    }
}

/// A minimal driver: keeps unconsumed input, drains output and events after every input
/// (the drain rule of `Session`), and checks the event contract.
pub struct Harness {
    /// The session under test.
    pub session: Session,
    /// Virtual now.
    pub now: Instant,
    /// Input not consumed yet.
    pending: Vec<u8>,
    /// Everything the session wrote.
    pub written: Vec<u8>,
    /// Events seen so far.
    pub log: EventLog,
}

impl Harness {
    /// Wraps `session`.
    pub fn new(session: Session) -> Self {
        Self {
            session,
            now: t0(),
            pending: Vec::new(),
            written: Vec::new(),
            log: EventLog::default(),
        }
    }

    /// Delivers `chunk` (appended to unconsumed input) and drains until nothing moves.
    pub fn input(&mut self, chunk: &[u8]) {
        self.pending.extend_from_slice(chunk);
        self.drain();
    }

    /// Drains output and events, feeding pending input whenever the session wants it.
    pub fn drain(&mut self) {
        // Every round either consumes input or yields output/events; both are finite, but
        // bound the loop anyway so a livelock shows up as a failure, not a hang.
        for _ in 0..100_000 {
            let mut progressed = false;
            if !self.pending.is_empty() && self.session.wants_read() {
                let len = self.pending.len();
                let n = self.session.handle_input(self.now, &mut self.pending);
                assert!(n <= len, "consumed {n} of {len}");
                self.pending.drain(..n);
                progressed |= n > 0;
            }
            progressed |= self.session.poll_transmit(&mut self.written, 64 * 1024) > 0;
            while let Some(ev) = self.session.poll_event() {
                self.log.push(ev);
                progressed = true;
            }
            if !progressed {
                return;
            }
        }
        panic!("session did not settle");
    }

    /// Moves time forward by `d` and fires the deadline if it passed.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        if self.session.poll_timeout().is_some_and(|t| t <= self.now) {
            self.session.handle_timeout(self.now);
            // No spin: after a timeout the next deadline is later, unless output is pending.
            self.drain();
            if let Some(next) = self.session.poll_timeout() {
                assert!(next > self.now, "deadline not moved past now");
            }
        }
        self.drain();
    }

    /// Tells the session the transport closed, then drains.
    pub fn transport_closed(&mut self) {
        self.session.handle_transport_closed(self.now);
        self.drain();
        assert!(
            self.log.closed(),
            "transport close did not close the session"
        );
    }

    /// Final checks once a run is over: a closed session says so and has no deadline.
    pub fn finish(&mut self) {
        self.drain();
        assert_eq!(self.session.is_closed(), self.log.closed());
        if self.log.closed() {
            assert!(self.session.poll_timeout().is_none());
            assert!(!self.session.wants_read());
        }
    }
}

/// The Hello the raw peer sends: p2p `version` and the same protocols as the session.
pub fn raw_hello(id: PeerId, version: u64) -> Vec<u8> {
    Hello {
        protocol_version: version,
        client_id: "fuzz/raw-peer".into(),
        capabilities: specs().into_iter().map(|s| s.cap).collect(),
        listen_port: 30303,
        id,
    }
    .encode()
}

/// A session accepted from a raw peer that ran the real handshake as initiator (key seed 2)
/// and then writes frames by hand with its own codec.
pub struct Established {
    /// The session and its driver.
    pub h: Harness,
    /// The raw peer's codec (egress: frames to the session; ingress: the session's frames).
    pub peer: FrameCodec,
    /// The raw peer's identity.
    pub peer_id: PeerId,
    /// Session output already decoded by the raw peer.
    read_pos: usize,
}

impl Established {
    /// Runs the handshake: auth from the raw peer, ack back, `Authenticated` polled (which
    /// releases the session's Hello). The session now awaits the raw peer's Hello.
    pub fn new() -> Self {
        let sk = fixed_key(2);
        let peer_id = peer_id_of(&sk);
        let cfg = session_config();
        let mut rng = rng(3);
        let (state, auth) = match AuthSent::new(&sk, &cfg.local_id(), &mut rng) {
            Ok(x) => x,
            Err(e) => panic!("setup: auth: {e}"),
        };
        let mut h = Harness::new(Session::accept(cfg, t0(), Seed([4; 32])));
        h.input(&auth);
        assert!(h.log.authenticated(), "setup: not authenticated");
        let ack = match state.read_ack(&h.written) {
            Ok(Some(ack)) => ack,
            other => panic!("setup: ack: {other:?}"),
        };
        let mut s = Self {
            h,
            peer: FrameCodec::new(&ack.secrets),
            peer_id,
            read_pos: ack.consumed,
        };
        // The session's Hello must be the first frame.
        let frames = s.read_output();
        assert!(
            matches!(frames.first(), Some((0, _))),
            "setup: expected Hello first, got {frames:?}"
        );
        s
    }

    /// Seals frame `content` (`rlp(msg_id) ‖ payload`, or anything) with the raw peer's codec.
    pub fn seal(&mut self, content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if let Err(e) = self.peer.write_frame(&[content], &mut out) {
            panic!("sealing {} bytes: {e}", content.len());
        }
        out
    }

    /// Seals message `id` with `payload`.
    pub fn seal_msg(&mut self, id: u64, payload: &[u8]) -> Vec<u8> {
        let (b, n) = msg_id::encode(id);
        let mut content = b.get(..n).unwrap_or(&[]).to_vec();
        content.extend_from_slice(payload);
        self.seal(&content)
    }

    /// Decodes every complete frame the session wrote since the last call. Every frame the
    /// session writes must authenticate: a MAC failure here is a bug in the session.
    pub fn read_output(&mut self) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        loop {
            let Some(rest) = self.h.written.get_mut(self.read_pos..) else {
                break;
            };
            match read_frame(&mut self.peer, rest) {
                Ok(None) => break,
                Ok(Some((content, used))) => {
                    self.read_pos += used;
                    let (id, payload) = match msg_id::split(&content) {
                        Some(x) => x,
                        None => panic!("session wrote a frame without a message id"),
                    };
                    out.push((id, payload.to_vec()));
                }
                // A partial trailing frame reads as BufferLength; sealed frames are written
                // whole, so anything else is corrupt output.
                Err(frame::FrameError::BufferLength) => panic!("session wrote a partial frame"),
                Err(e) => panic!("session wrote a frame the peer cannot open: {e}"),
            }
        }
        assert_eq!(
            self.read_pos,
            self.h.written.len(),
            "session wrote a partial frame"
        );
        out
    }
}

impl Default for Established {
    fn default() -> Self {
        Self::new()
    }
}
