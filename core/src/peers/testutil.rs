//! Helpers for the peer manager's unit tests.

use std::net::SocketAddr;
use std::time::Instant;

use crate::discv4::packet::{Endpoint, NodeRecord};
use crate::types::{PeerId, Seed, WallClock};

use super::{PeerAction, PeerManager, PeerManagerConfig};

/// The origin of virtual time.
#[allow(clippy::disallowed_methods)]
pub(crate) fn t0() -> Instant {
    Instant::now()
}

/// A distinct peer id per `n`.
pub(crate) fn peer(n: u16) -> PeerId {
    let mut id = [0x11; 64];
    id[..2].copy_from_slice(&n.to_be_bytes());
    PeerId(id)
}

/// The local node's id.
pub(crate) fn local() -> PeerId {
    PeerId([0xee; 64])
}

/// A public IPv4 address per `n`.
pub(crate) fn public(n: u16) -> SocketAddr {
    let [a, b] = n.to_be_bytes();
    SocketAddr::from(([8, 1, a, b], 30303))
}

/// A discovery record for `peer(n)` at `public(n)`.
pub(crate) fn record(n: u16) -> NodeRecord {
    let addr = public(n);
    NodeRecord {
        endpoint: Endpoint {
            ip: addr.ip(),
            udp: addr.port(),
            tcp: addr.port(),
        },
        id: peer(n),
    }
}

/// A manager with `cfg` whose clock reads 1.7e9 unix seconds at `now`.
pub(crate) fn manager(cfg: PeerManagerConfig, now: Instant) -> PeerManager {
    let clock = WallClock {
        at: now,
        unix_secs: 1_700_000_000,
    };
    PeerManager::new(cfg, local(), clock, Seed([3; 32]))
}

/// Every queued action.
pub(crate) fn drain(pm: &mut PeerManager) -> Vec<PeerAction> {
    std::iter::from_fn(|| pm.poll_action()).collect()
}

/// The peers of the queued `Dial` actions (other actions are dropped).
pub(crate) fn dials(pm: &mut PeerManager) -> Vec<PeerId> {
    drain(pm)
        .into_iter()
        .filter_map(|a| match a {
            PeerAction::Dial { peer, .. } => Some(peer),
            _ => None,
        })
        .collect()
}

/// Admits `peer(n)` inbound from `public(n)` and establishes it.
pub(crate) fn connect_in(
    pm: &mut PeerManager,
    now: Instant,
    n: u16,
) -> Result<(), super::AdmissionError> {
    let ticket = pm.admit_inbound(now, public(n))?;
    pm.on_authenticated(
        now,
        peer(n),
        ticket.remote(),
        crate::types::Direction::Inbound,
    )?;
    pm.on_established(now, peer(n), 1)
}

/// Reports an outbound session with `peer(n)` at `public(n)` and establishes it.
pub(crate) fn connect_out(
    pm: &mut PeerManager,
    now: Instant,
    n: u16,
) -> Result<(), super::AdmissionError> {
    pm.on_authenticated(now, peer(n), public(n), crate::types::Direction::Outbound)?;
    pm.on_established(now, peer(n), 1)
}
