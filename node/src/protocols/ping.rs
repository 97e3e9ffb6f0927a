//! `ping/1`: an application-level liveness protocol every paxeer-p2p node speaks, so two of
//! our nodes always share a capability (the devnet relies on it) and operators see a round
//! trip per peer in `admin_peers`.
//!
//! Messages (ids relative to the capability): `0` Ping = `rlp([nonce: u64])`, `1` Pong =
//! `rlp([nonce])`. A Pong with a nonce we did not send, or an undecodable message, costs the
//! peer reputation (`BadMessage`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use paxeer_p2p_core::p2p::{Capability, ProtocolSpec};
use paxeer_p2p_core::peers::ReputationChange;
use paxeer_p2p_core::protocol::{PeerInfo, Protocol, ProtocolContext};
use paxeer_p2p_core::types::PeerId;

/// How often each peer is pinged.
pub const PING_EVERY: Duration = Duration::from_secs(15);
/// The capability name.
pub const NAME: &str = "ping";

const MSG_PING: u64 = 0;
const MSG_PONG: u64 = 1;

/// What the protocol knows about one peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PingPeer {
    /// Last measured round trip.
    pub rtt: Option<Duration>,
    /// Pongs received.
    pub pongs: u64,
    outstanding: Option<(u64, Instant)>,
    next_ping: Option<Instant>,
}

/// The `ping/1` protocol state.
#[derive(Debug, Default)]
pub struct Ping {
    peers: BTreeMap<PeerId, PingPeer>,
    next_nonce: u64,
}

impl Ping {
    /// A protocol with no peers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The capability.
    pub fn capability() -> Capability {
        Capability::new(NAME, 1)
    }

    /// What is known about `peer`.
    pub fn peer(&self, peer: &PeerId) -> Option<PingPeer> {
        self.peers.get(peer).copied()
    }

    fn ping(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId) {
        let now = ctx.now();
        self.next_nonce += 1;
        let nonce = self.next_nonce;
        if let Some(p) = self.peers.get_mut(&peer) {
            p.outstanding = Some((nonce, now));
            p.next_ping = Some(now + PING_EVERY);
        }
        let _ = ctx.send(peer, MSG_PING, encode_nonce(nonce));
    }
}

fn encode_nonce(nonce: u64) -> Vec<u8> {
    let mut s = rlp::RlpStream::new_list(1);
    s.append(&nonce);
    s.out().to_vec()
}

fn decode_nonce(payload: &[u8]) -> Option<u64> {
    let r = rlp::Rlp::new(payload);
    if !r.is_list() || r.item_count().ok()? != 1 {
        return None;
    }
    r.val_at(0).ok()
}

impl Protocol for Ping {
    fn spec(&self) -> ProtocolSpec {
        ProtocolSpec {
            cap: Self::capability(),
            message_count: 2,
        }
    }

    fn on_connected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, _info: &PeerInfo) {
        self.peers.insert(peer, PingPeer::default());
        self.ping(ctx, peer);
    }

    fn on_message(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        msg_id: u64,
        payload: &[u8],
    ) {
        let Some(nonce) = decode_nonce(payload) else {
            let _ = ctx.report(peer, ReputationChange::BadMessage);
            return;
        };
        match msg_id {
            MSG_PING => {
                let _ = ctx.send(peer, MSG_PONG, encode_nonce(nonce));
            }
            _ => {
                let now = ctx.now();
                let Some(p) = self.peers.get_mut(&peer) else {
                    return;
                };
                match p.outstanding {
                    Some((n, sent)) if n == nonce => {
                        p.outstanding = None;
                        p.rtt = Some(now.saturating_duration_since(sent));
                        p.pongs += 1;
                    }
                    _ => {
                        let _ = ctx.report(peer, ReputationChange::BadMessage);
                    }
                }
            }
        }
    }

    fn on_disconnected(&mut self, _ctx: &mut ProtocolContext<'_>, peer: PeerId) {
        self.peers.remove(&peer);
    }

    fn handle_timeout(&mut self, ctx: &mut ProtocolContext<'_>, now: Instant) {
        let due: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.next_ping.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for peer in due {
            self.ping(ctx, peer);
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.peers.values().filter_map(|p| p.next_ping).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_round_trips_and_garbage_is_refused() {
        for n in [0u64, 1, 255, 256, u64::MAX] {
            assert_eq!(decode_nonce(&encode_nonce(n)), Some(n));
        }
        for bad in [&[][..], &[0x80], &[0xc2, 0x01, 0x02], &[0xc1]] {
            assert_eq!(decode_nonce(bad), None, "{bad:?}");
        }
    }
}
