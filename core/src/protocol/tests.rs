//! The registry driven with a tiny `ping/1` echo protocol next to two versions of a fake `eth`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::p2p::{DisconnectReason, SharedCapabilities};
use crate::peers::ReputationChange;
use crate::test_clock::t0;

type Log = Arc<Mutex<Vec<String>>>;

fn peer(n: u8) -> PeerId {
    PeerId([n; 64])
}

/// `ping/1`: message 0 is Ping (answered by a Pong with the same payload), message 1 is Pong
/// (surfaced to the application as a [`Ponged`] event).
struct Ping {
    deadline: Option<Instant>,
    log: Log,
}

/// The application event of [`Ping`].
#[derive(Debug, PartialEq, Eq)]
struct Ponged {
    peer: PeerId,
    payload: Vec<u8>,
}

impl Protocol for Ping {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: Capability::new("ping", 1),
            message_count: 2,
        }
    }

    fn enr_entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        vec![(b"ping".to_vec(), vec![0x01])]
    }

    fn on_connected(&mut self, _ctx: &mut ProtocolContext<'_>, peer: PeerId, info: &PeerInfo) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{} connected {}", info.cap, peer.0[0]));
    }

    fn on_message(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        msg_id: u64,
        payload: &[u8],
    ) {
        let _ = match msg_id {
            0 => ctx.send(peer, 1, payload.to_vec()),
            _ => ctx.emit(Box::new(Ponged {
                peer,
                payload: payload.to_vec(),
            })),
        };
    }

    fn on_disconnected(&mut self, _ctx: &mut ProtocolContext<'_>, peer: PeerId) {
        self.log
            .lock()
            .unwrap()
            .push(format!("ping/1 disconnected {}", peer.0[0]));
    }

    fn handle_timeout(&mut self, _ctx: &mut ProtocolContext<'_>, _now: Instant) {
        self.log.lock().unwrap().push("ping/1 timeout".into());
        self.deadline = None;
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }
}

/// A fake `eth/<version>`: sends Status (0) on connect; payload `bad` reports and disconnects,
/// `oob` sends one id past the range, `flood` sends three messages; every call is logged.
struct Eth {
    version: u32,
    deadline: Option<Instant>,
    log: Log,
}

impl Eth {
    fn message_count(&self) -> u64 {
        if self.version >= 69 {
            18
        } else {
            17
        }
    }
    fn push(&self, s: String) {
        self.log.lock().unwrap().push(s);
    }
}

impl Protocol for Eth {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: Capability::new("eth", self.version),
            message_count: self.message_count(),
        }
    }

    fn enr_entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        vec![(b"eth".to_vec(), vec![0x80 + self.version as u8 % 0x30])]
    }

    fn on_connected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, info: &PeerInfo) {
        self.push(format!("{} connected {}", info.cap, peer.0[0]));
        ctx.send(peer, 0, b"status".to_vec()).unwrap();
    }

    fn on_message(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        msg_id: u64,
        payload: &[u8],
    ) {
        self.push(format!("eth/{} msg {msg_id}", self.version));
        match payload {
            b"bad" => {
                ctx.report(peer, ReputationChange::BadMessage).unwrap();
                ctx.disconnect(peer, DisconnectReason::SubprotocolError)
                    .unwrap();
            }
            b"oob" => {
                let err = ctx.send(peer, self.message_count(), vec![]).unwrap_err();
                self.push(err.to_string());
            }
            b"flood" => {
                for i in 0..3 {
                    if let Err(e) = ctx.send(peer, i, vec![]) {
                        self.push(e.to_string());
                    }
                }
            }
            _ => {}
        }
    }

    fn on_disconnected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId) {
        let err = ctx.send(peer, 0, vec![]).unwrap_err();
        self.push(format!("eth/{} disconnected: {err}", self.version));
    }

    fn handle_timeout(&mut self, _ctx: &mut ProtocolContext<'_>, _now: Instant) {
        self.push(format!("eth/{} timeout", self.version));
        self.deadline = None;
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }
}

struct Fixture {
    reg: ProtocolRegistry,
    log: Log,
    ping: ProtocolId,
    eth68: ProtocolId,
    eth69: ProtocolId,
    now: Instant,
}

fn fixture_with(reg: ProtocolRegistry) -> Fixture {
    let now = t0();
    let mut reg = reg;
    let log = Log::default();
    let ping = reg
        .register(Box::new(Ping {
            deadline: Some(now + Duration::from_secs(10)),
            log: log.clone(),
        }))
        .unwrap();
    let eth68 = reg
        .register(Box::new(Eth {
            version: 68,
            deadline: Some(now + Duration::from_secs(5)),
            log: log.clone(),
        }))
        .unwrap();
    let eth69 = reg
        .register(Box::new(Eth {
            version: 69,
            deadline: None,
            log: log.clone(),
        }))
        .unwrap();
    Fixture {
        reg,
        log,
        ping,
        eth68,
        eth69,
        now,
    }
}

fn fixture() -> Fixture {
    fixture_with(ProtocolRegistry::new())
}

impl Fixture {
    /// Establishes `p` against a remote offering `remote` (strings like `eth/68`).
    fn establish(&mut self, p: PeerId, remote: &[&str]) -> (usize, SharedCapabilities) {
        let remote: Vec<Capability> = remote.iter().map(|s| s.parse().unwrap()).collect();
        let caps = SharedCapabilities::negotiate(&self.reg.specs(), &remote);
        let n = self
            .reg
            .on_established(self.now, p, Direction::Outbound, &caps)
            .unwrap();
        (n, caps)
    }

    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

fn sends(actions: &[ProtocolAction]) -> Vec<(PeerId, CapId, u64, Vec<u8>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            ProtocolAction::Send {
                peer,
                cap,
                msg_id,
                payload,
                ..
            } => Some((*peer, *cap, *msg_id, payload.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn duplicate_and_messageless_protocols_are_refused() {
    let mut f = fixture();
    let log = Log::default();
    let dup = f.reg.register(Box::new(Eth {
        version: 68,
        deadline: None,
        log: log.clone(),
    }));
    assert_eq!(
        dup.unwrap_err(),
        RegistryError::Duplicate(Capability::new("eth", 68))
    );

    struct Empty;
    impl Protocol for Empty {
        fn spec(&self) -> ProtocolSpec {
            ProtocolSpec {
                cap: Capability::new("empty", 1),
                message_count: 0,
            }
        }
        fn on_connected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId, _: &PeerInfo) {}
        fn on_message(&mut self, _: &mut ProtocolContext<'_>, _: PeerId, _: u64, _: &[u8]) {}
        fn on_disconnected(&mut self, _: &mut ProtocolContext<'_>, _: PeerId) {}
    }
    assert_eq!(
        f.reg.register(Box::new(Empty)).unwrap_err(),
        RegistryError::NoMessages(Capability::new("empty", 1))
    );
    assert_eq!(f.reg.specs().len(), 3);
}

#[test]
fn specs_are_the_union_and_enr_entries_are_sorted_first_wins() {
    let f = fixture();
    let specs: Vec<String> = f.reg.specs().iter().map(|s| s.cap.to_string()).collect();
    assert_eq!(specs, ["ping/1", "eth/68", "eth/69"]);
    assert_eq!(f.reg.spec(f.eth69).unwrap().message_count, 18);
    assert_eq!(
        f.reg.enr_entries(),
        vec![
            (b"eth".to_vec(), vec![0x80 + 68 % 0x30]),
            (b"ping".to_vec(), vec![0x01]),
        ]
    );
}

#[test]
fn negotiation_picks_the_highest_shared_version_instance() {
    let mut f = fixture();
    let (n, caps) = f.establish(peer(1), &["eth/68", "eth/69", "ping/1", "snap/1"]);
    assert_eq!(n, 2);
    assert_eq!(caps.find("eth"), Some(CapId(0)));
    assert_eq!(caps.find("ping"), Some(CapId(1)));
    assert_eq!(f.take_log(), ["eth/69 connected 1", "ping/1 connected 1"]);

    // A peer speaking only eth/68 gets the eth/68 instance.
    let (n, _) = f.establish(peer(2), &["eth/68"]);
    assert_eq!(n, 1);
    assert_eq!(f.take_log(), ["eth/68 connected 2"]);

    let actions = f.reg.drain_actions();
    assert_eq!(
        actions.iter().map(|a| a.protocol()).collect::<Vec<_>>(),
        [f.eth69, f.eth68]
    );
    assert_eq!(
        sends(&actions),
        [
            (peer(1), CapId(0), 0, b"status".to_vec()),
            (peer(2), CapId(0), 0, b"status".to_vec()),
        ]
    );
}

#[test]
fn messages_route_to_the_negotiated_instance_and_echo_maps_to_its_cap() {
    let mut f = fixture();
    f.establish(peer(1), &["eth/69", "ping/1"]);
    f.establish(peer(2), &["eth/68"]);
    f.reg.drain_actions();
    f.take_log();

    f.reg.on_message(f.now, peer(1), CapId(0), 7, b"").unwrap();
    f.reg.on_message(f.now, peer(2), CapId(0), 3, b"").unwrap();
    assert_eq!(f.take_log(), ["eth/69 msg 7", "eth/68 msg 3"]);

    // ping/1 is CapId(1) for peer 1; the echo goes back there with the relative id 1.
    f.reg
        .on_message(f.now, peer(1), CapId(1), 0, b"hi")
        .unwrap();
    let actions = f.reg.drain_actions();
    assert_eq!(sends(&actions), [(peer(1), CapId(1), 1, b"hi".to_vec())]);

    // A Pong surfaces as an application event the core never typed.
    f.reg
        .on_message(f.now, peer(1), CapId(1), 1, b"yo")
        .unwrap();
    let action = f.reg.poll_action().unwrap();
    assert_eq!(action.protocol(), f.ping);
    let ProtocolAction::Event { event, .. } = action else {
        panic!("want event, got {action:?}");
    };
    assert_eq!(
        *event.downcast::<Ponged>().unwrap(),
        Ponged {
            peer: peer(1),
            payload: b"yo".to_vec()
        }
    );
    assert!(f.reg.poll_action().is_none());
}

#[test]
fn routing_errors_are_reported_to_the_host() {
    let mut f = fixture();
    f.establish(peer(1), &["eth/69"]);
    assert_eq!(
        f.reg.on_message(f.now, peer(9), CapId(0), 0, b""),
        Err(RegistryError::UnknownPeer(peer(9)))
    );
    assert_eq!(
        f.reg.on_message(f.now, peer(1), CapId(1), 0, b""),
        Err(RegistryError::UnknownCapability(CapId(1)))
    );
    let caps = SharedCapabilities::negotiate(&f.reg.specs(), &[Capability::new("eth", 69)]);
    assert_eq!(
        f.reg
            .on_established(f.now, peer(1), Direction::Inbound, &caps),
        Err(RegistryError::AlreadyEstablished(peer(1)))
    );
}

#[test]
fn a_peer_sharing_nothing_is_not_kept() {
    let mut f = fixture();
    // Negotiated by someone else's specs: nothing matches ours exactly.
    let caps = SharedCapabilities::negotiate(
        &[ProtocolSpec {
            cap: Capability::new("snap", 1),
            message_count: 8,
        }],
        &[Capability::new("snap", 1)],
    );
    let n = f
        .reg
        .on_established(f.now, peer(1), Direction::Inbound, &caps)
        .unwrap();
    assert_eq!(n, 0);
    assert!(!f.reg.is_established(&peer(1)));
    assert!(!f.reg.on_disconnected(f.now, peer(1)));
    assert!(f.reg.drain_actions().is_empty());
}

#[test]
fn out_of_range_sends_are_refused() {
    let mut f = fixture();
    f.establish(peer(1), &["eth/68"]);
    f.reg.drain_actions();
    f.take_log();
    f.reg
        .on_message(f.now, peer(1), CapId(0), 0, b"oob")
        .unwrap();
    assert_eq!(
        f.take_log(),
        [
            "eth/68 msg 0",
            "message id 17 out of range (protocol has 17 messages)"
        ]
    );
    assert!(f.reg.drain_actions().is_empty());
}

#[test]
fn report_and_disconnect_come_out_in_order() {
    let mut f = fixture();
    f.establish(peer(1), &["eth/69"]);
    f.reg.drain_actions();
    f.reg
        .on_message(f.now, peer(1), CapId(0), 2, b"bad")
        .unwrap();
    let actions = f.reg.drain_actions();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(matches!(
        actions.first(),
        Some(ProtocolAction::Report { peer: p, change: ReputationChange::BadMessage, .. }) if *p == peer(1)
    ));
    assert!(matches!(
        actions.get(1),
        Some(ProtocolAction::Disconnect { peer: p, reason: DisconnectReason::SubprotocolError, .. }) if *p == peer(1)
    ));
}

#[test]
fn disconnected_peers_are_told_and_no_longer_reachable() {
    let mut f = fixture();
    f.establish(peer(1), &["eth/69", "ping/1"]);
    f.take_log();
    assert!(f.reg.on_disconnected(f.now, peer(1)));
    assert_eq!(
        f.take_log(),
        [
            format!(
                "eth/69 disconnected: peer {:?} is not connected on this protocol",
                peer(1)
            ),
            "ping/1 disconnected 1".to_string(),
        ]
    );
    assert!(!f.reg.is_established(&peer(1)));
    assert_eq!(
        f.reg.on_message(f.now, peer(1), CapId(0), 0, b""),
        Err(RegistryError::UnknownPeer(peer(1)))
    );
    // It may come back.
    assert_eq!(f.establish(peer(1), &["ping/1"]).0, 1);
}

#[test]
fn timers_are_aggregated_and_only_due_protocols_are_woken() {
    let mut f = fixture();
    assert_eq!(f.reg.poll_timeout(), Some(f.now + Duration::from_secs(5)));
    f.reg.handle_timeout(f.now + Duration::from_secs(1));
    assert!(f.take_log().is_empty());
    f.reg.handle_timeout(f.now + Duration::from_secs(5));
    assert_eq!(f.take_log(), ["eth/68 timeout"]);
    assert_eq!(f.reg.poll_timeout(), Some(f.now + Duration::from_secs(10)));
    f.reg.handle_timeout(f.now + Duration::from_secs(60));
    assert_eq!(f.take_log(), ["ping/1 timeout"]);
    assert_eq!(f.reg.poll_timeout(), None);
    let _ = f.eth69;
}

#[test]
fn actions_per_call_are_bounded() {
    let mut f = fixture_with(ProtocolRegistry::with_max_actions_per_call(2));
    f.establish(peer(1), &["eth/69"]);
    f.reg.drain_actions();
    f.take_log();
    f.reg
        .on_message(f.now, peer(1), CapId(0), 0, b"flood")
        .unwrap();
    assert_eq!(
        f.take_log(),
        ["eth/69 msg 0", "more than 2 actions in one call"]
    );
    assert_eq!(f.reg.drain_actions().len(), 2);
    // The budget is per call: the next call may act again.
    f.reg
        .on_message(f.now, peer(1), CapId(0), 0, b"flood")
        .unwrap();
    assert_eq!(f.reg.drain_actions().len(), 2);
}
