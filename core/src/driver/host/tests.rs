//! The host driver against sinks that accept slowly: every send reaches the connection task
//! in order, or the peer is disconnected with the documented reason after a contiguous
//! prefix; nothing is lost without a count.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::SocketAddr;

use super::*;
use crate::crypto::keys::{generate_secret_key, peer_id_of};
use crate::host::{HostBuilder, HostConfig};
use crate::p2p::{Capability, Hello, ProtocolSpec, SharedCapabilities};
use crate::protocol::{PeerInfo, Protocol, ProtocolContext};
use crate::rng::MachineRng;
use crate::session::SessionConfig;
use crate::test_clock::t0;
use crate::types::{Seed, WallClock};

/// `burst/1`: message 0 carries a count `n` and a size `s` (two big-endian u32); the
/// protocol answers with `n` messages 1 of `s` bytes each, the first 4 bytes their number.
struct Burst;

impl Protocol for Burst {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: Capability::new("burst", 1),
            message_count: 2,
        }
    }
    fn on_connected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId, _: &PeerInfo) {}
    fn on_message(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, _: u64, p: &[u8]) {
        let word = |i: usize| {
            let b: [u8; 4] = p.get(i..i + 4).and_then(|s| s.try_into().ok()).unwrap();
            u32::from_be_bytes(b)
        };
        let (n, size) = (word(0), word(4) as usize);
        for seq in 0..n {
            let mut payload = vec![0u8; size.max(4)];
            payload[..4].copy_from_slice(&seq.to_be_bytes());
            ctx.send(peer, 1, payload).unwrap();
        }
    }
    fn on_disconnected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId) {}
}

/// A channel of `capacity` commands; the test plays the connection task by taking from it.
struct SlowSink {
    queue: RefCell<VecDeque<ConnCommand>>,
    capacity: usize,
    backlog: Backlog,
}

impl ConnSink for SlowSink {
    fn deliver(&self, cmd: ConnCommand) -> Result<(), ConnCommand> {
        let mut q = self.queue.borrow_mut();
        if q.len() >= self.capacity {
            return Err(cmd);
        }
        q.push_back(cmd);
        Ok(())
    }

    fn backlog(&self) -> &Backlog {
        &self.backlog
    }
}

struct Fixture {
    drv: HostDriver<SlowSink>,
    conn: ConnId,
    cap: crate::p2p::CapId,
    now: Instant,
}

/// A host with `burst/1` and one admitted, established inbound peer behind a sink of
/// `capacity` commands.
fn fixture(capacity: usize) -> Fixture {
    let now = t0();
    let mut rng = MachineRng::new(Seed([7; 32]));
    let key = generate_secret_key(&mut rng);
    let session = SessionConfig::new(key, "test", Vec::new());
    let mut cfg = HostConfig::default();
    cfg.peers.max_peers = 4;
    let mut b = HostBuilder::new(session, cfg);
    b.protocol(Box::new(Burst)).unwrap();
    let clock = WallClock {
        at: now,
        unix_secs: 1_700_000_000,
    };
    let mut drv = HostDriver::new(b.build(now, clock, Seed([8; 32])));
    let remote: SocketAddr = "10.0.0.2:40000".parse().unwrap();
    let local: SocketAddr = "10.0.0.1:30303".parse().unwrap();
    let conn = drv.on_inbound(now, remote, local).unwrap();
    drv.register(
        conn,
        SlowSink {
            queue: RefCell::new(VecDeque::new()),
            capacity,
            backlog: Backlog::default(),
        },
    );
    let peer = peer_id_of(&generate_secret_key(&mut rng));
    drv.on_conn(
        now,
        FromConn::Event(conn, SessionEvent::Authenticated { remote: peer }),
    );
    let _ = drv.drain(|_, _| {}, |_, _| {});
    assert_eq!(take(&drv, conn, usize::MAX), vec![ConnCommand::Admit]);
    let hello = Hello {
        protocol_version: 5,
        client_id: "peer".into(),
        capabilities: vec![Capability::new("burst", 1)],
        listen_port: 0,
        id: peer,
    };
    let caps = SharedCapabilities::negotiate(&[Burst.spec()], &hello.capabilities);
    let cap = caps.iter().next().unwrap().0;
    drv.on_conn(
        now,
        FromConn::Event(conn, SessionEvent::Established { hello, caps }),
    );
    let _ = drv.drain(|_, _| {}, |_, _| {});
    Fixture {
        drv,
        conn,
        cap,
        now,
    }
}

impl Fixture {
    /// The peer asks for `n` replies of `size` bytes.
    fn request(&mut self, n: u32, size: u32) {
        let mut payload = n.to_be_bytes().to_vec();
        payload.extend_from_slice(&size.to_be_bytes());
        let ev = SessionEvent::Message {
            cap: self.cap,
            msg_id: 0,
            payload,
        };
        self.drv.on_conn(self.now, FromConn::Event(self.conn, ev));
        let _ = self.drv.drain(|_, _| {}, |_, _| {});
    }

    fn egress_messages(&self) -> u64 {
        self.drv
            .host()
            .metrics()
            .egress
            .values()
            .map(|t| t.messages)
            .sum()
    }

    fn dropped(&self) -> u64 {
        let drops = &self.drv.host().metrics().drops;
        drops.get(BACKLOG_OVERFLOW_DROP).copied().unwrap_or(0)
    }
}

/// Plays the connection task: takes up to `n` commands from the sink, as it would, taking
/// their bytes off the backlog.
fn take(drv: &HostDriver<SlowSink>, conn: ConnId, n: usize) -> Vec<ConnCommand> {
    let sink = drv.sinks.get(&conn).unwrap();
    let mut q = sink.queue.borrow_mut();
    let k = n.min(q.len());
    let out: Vec<ConnCommand> = q.drain(..k).collect();
    for c in &out {
        sink.backlog.sub(c.send_bytes());
    }
    out
}

/// The sequence number of a `burst` reply, or `None` for another command.
fn seq_of(cmd: &ConnCommand) -> Option<u32> {
    match cmd {
        ConnCommand::Run(Command::Send {
            msg_id: 1, payload, ..
        }) => Some(u32::from_be_bytes(payload.get(..4)?.try_into().ok()?)),
        _ => None,
    }
}

#[test]
fn a_burst_beyond_the_channel_arrives_whole_and_in_order() {
    let mut f = fixture(8);
    f.request(1000, 100);
    // Only the channel's worth went in: the rest is held, counted in the backlog, and not
    // yet egress.
    assert_eq!(f.egress_messages(), 8);
    assert!(f.drv.has_retries());
    let sink_backlog = f.drv.sinks.get(&f.conn).unwrap().backlog.bytes();
    assert_eq!(sink_backlog, 1000 * 100);
    assert_eq!(f.drv.held_bytes(f.conn), 992 * 100);
    let mut got = Vec::new();
    for _ in 0..10_000 {
        got.extend(take(&f.drv, f.conn, 3));
        let _ = f.drv.drain(|_, _| {}, |_, _| {});
        if !f.drv.has_retries() && f.drv.sinks.get(&f.conn).unwrap().queue.borrow().is_empty() {
            break;
        }
    }
    let seqs: Vec<u32> = got.iter().map(|c| seq_of(c).unwrap()).collect();
    assert_eq!(seqs, (0..1000).collect::<Vec<_>>());
    assert_eq!(f.egress_messages(), 1000);
    assert_eq!(f.dropped(), 0);
    assert_eq!(f.drv.sinks.get(&f.conn).unwrap().backlog.bytes(), 0);
    assert!(f.drv.take_overflows().is_empty());
}

#[test]
fn a_peer_that_overflows_the_bound_is_disconnected_after_a_contiguous_prefix() {
    let mut f = fixture(4);
    let size = 64 * 1024;
    let n = (MAX_HELD_SEND_BYTES / size + 20) as u32;
    f.request(n, size as u32);
    let overflows = f.drv.take_overflows();
    assert_eq!(overflows.len(), 1, "{overflows:?}");
    let o = overflows[0];
    assert_eq!(o.conn, f.conn);
    // A later request of the same peer is discarded too, and counted.
    f.request(3, 10);
    let mut got = Vec::new();
    for _ in 0..1000 {
        got.extend(take(&f.drv, f.conn, usize::MAX));
        let _ = f.drv.drain(|_, _| {}, |_, _| {});
        if !f.drv.has_retries() {
            got.extend(take(&f.drv, f.conn, usize::MAX));
            break;
        }
    }
    let (sends, rest): (Vec<_>, Vec<_>) = got.iter().partition(|c| seq_of(c).is_some());
    let seqs: Vec<u32> = sends.iter().map(|c| seq_of(c).unwrap()).collect();
    assert_eq!(seqs, (0..seqs.len() as u32).collect::<Vec<_>>(), "no gap");
    assert_eq!(
        rest,
        vec![&ConnCommand::Run(Command::Disconnect(
            BACKLOG_OVERFLOW_REASON
        ))]
    );
    assert_eq!(
        got.last(),
        rest.first().copied(),
        "the disconnect comes last"
    );
    // Every reply is either handed over (egress) or counted as dropped.
    assert_eq!(f.egress_messages(), seqs.len() as u64);
    // The held ones at the overflow, the rest of the burst after it, and the later request.
    assert_eq!(seqs.len() as u64 + f.dropped(), u64::from(n) + 3);
    assert!(o.sends > 0 && o.sends < f.dropped());
    assert_eq!(o.bytes, o.sends as usize * size);
    assert_eq!(f.drv.sinks.get(&f.conn).unwrap().backlog.bytes(), 0);
}

/// A host with no protocols behind sinks of 8 commands, for the listener's accept errors.
fn bare_driver(now: Instant) -> HostDriver<SlowSink> {
    let mut rng = MachineRng::new(Seed([7; 32]));
    let key = generate_secret_key(&mut rng);
    let session = SessionConfig::new(key, "test", Vec::new());
    let clock = WallClock {
        at: now,
        unix_secs: 1_700_000_000,
    };
    let host = HostBuilder::new(session, HostConfig::default()).build(now, clock, rng.child_seed());
    HostDriver::new(host)
}

#[test]
fn failed_accepts_are_counted_and_pause_the_listener_until_one_succeeds() {
    let now = t0();
    let mut d = bare_driver(now);
    assert_eq!(d.accept_paused_until(now), None);
    let emfile = std::io::Error::from_raw_os_error(24);
    let first = d.on_accept_error(now, &emfile);
    assert_eq!(first.log, Some(1));
    assert_eq!(d.accept_paused_until(now), Some(first.until));
    let second = d.on_accept_error(first.until, &emfile);
    assert_eq!(second.delay, first.delay * 2);
    assert_eq!(second.log, None);
    assert_eq!(d.host().metrics().accept_errors.get("fd_limit"), Some(&2));
    // The wake-up deadline of the host is not moved by the pause (the runtime waits for the
    // pause separately), so timers keep firing on time.
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
