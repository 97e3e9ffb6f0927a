//! Commands: static and trusted peers (runtime add/remove, as go-ethereum's `AddPeer`,
//! `RemovePeer`, `AddTrustedPeer`, `RemoveTrustedPeer`), reputation reports, bans and
//! shutdown.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::netutil::is_lan;
use crate::p2p::DisconnectReason;
use crate::types::{Direction, PeerId};

use super::action::PeerAction;
use super::bans::{Ban, BanList, BanReason, BanTarget};
use super::error::CommandError;
use super::expiring::deadline;
use super::reputation::ReputationChange;
use super::{canonical, PeerManager};

impl PeerManager {
    /// Makes `peer` at `addr` a static peer: dialed whenever it is not connected, with a
    /// cool-down after failures but never forgotten. Counts against the limits unless also
    /// trusted. Adding it again updates its address.
    pub fn add_static(
        &mut self,
        now: Instant,
        peer: PeerId,
        addr: SocketAddr,
    ) -> Result<(), CommandError> {
        if peer == self.local {
            return Err(CommandError::SelfPeer);
        }
        let addr = canonical(addr);
        if !self.cfg.allows_ip(addr.ip()) {
            return Err(CommandError::NotAllowed);
        }
        if !self.dials.is_static(&peer) && self.dials.static_count() >= self.cfg.max_static {
            return Err(CommandError::TooManyStatic {
                max: self.cfg.max_static,
            });
        }
        self.dials.add_static(peer, addr);
        self.fill_dial_slots(now);
        Ok(())
    }

    /// Stops redialing `peer` and, as go-ethereum's `RemovePeer`, disconnects it if connected
    /// (reason `Requested`). Returns whether it was static.
    pub fn remove_static(&mut self, now: Instant, peer: PeerId) -> bool {
        let was = self.dials.remove_static(&peer);
        if was {
            self.disconnect(peer, DisconnectReason::Requested);
            self.fill_dial_slots(now);
        }
        was
    }

    /// Makes `peer` trusted: admitted even when the limits are reached. Trusted peers are not
    /// dialed unless also static.
    pub fn add_trusted(&mut self, peer: PeerId) -> Result<(), CommandError> {
        if peer == self.local {
            return Err(CommandError::SelfPeer);
        }
        if !self.trusted.contains(&peer) && self.trusted.len() >= self.cfg.max_trusted {
            return Err(CommandError::TooManyTrusted {
                max: self.cfg.max_trusted,
            });
        }
        self.trusted.insert(peer);
        Ok(())
    }

    /// Makes `peer` an ordinary peer again. If it is connected and only fitted because it was
    /// trusted, it is disconnected (`TooManyPeers`), so the limits hold for untrusted peers.
    /// Returns whether it was trusted.
    pub fn remove_trusted(&mut self, now: Instant, peer: PeerId) -> bool {
        if !self.trusted.remove(&peer) {
            return false;
        }
        let direction = self
            .peers
            .get(&peer)
            .filter(|c| c.leaving.is_none())
            .map(|c| c.direction);
        if let Some(direction) = direction {
            let limit = match direction {
                Direction::Inbound => self.cfg.max_inbound(),
                Direction::Outbound => self.cfg.max_outbound(),
            };
            if self.untrusted_count(None) > self.cfg.max_peers
                || self.untrusted_count(Some(direction)) > limit
            {
                self.disconnect(peer, DisconnectReason::TooManyPeers);
            }
        }
        self.fill_dial_slots(now);
        true
    }

    /// Active untrusted peers, in `direction` or in total.
    fn untrusted_count(&self, direction: Option<Direction>) -> usize {
        self.active()
            .filter(|(id, c)| {
                !self.trusted.contains(id) && direction.is_none_or(|d| c.direction == d)
            })
            .count()
    }

    /// Reports something `peer` did. A score that falls below the ban threshold disconnects
    /// the peer (with the change's reason) and bans it: by id, and by IP unless the IP is on
    /// the LAN, for [`BanConfig::duration`](super::BanConfig::duration); static and trusted
    /// peers only by id and for the short duration.
    pub fn report(&mut self, now: Instant, peer: PeerId, change: ReputationChange) {
        if change == ReputationChange::Reset {
            self.reputation.reset(&peer);
            return;
        }
        let points = self.cfg.reputation.weights.weight(change);
        let score = self
            .reputation
            .apply(now, peer, points, &self.cfg.reputation);
        if !self.cfg.reputation.is_banned(score) {
            return;
        }
        let reason = change.disconnect_reason();
        if self.bans.peer_banned(&peer, now) {
            self.disconnect(peer, reason);
            return;
        }
        self.stats.reputation_bans += 1;
        let special = self.dials.is_static(&peer) || self.trusted.contains(&peer);
        let duration = if special {
            self.cfg.bans.short_duration
        } else {
            self.cfg.bans.duration
        };
        let ip = self.peers.get(&peer).map(|c| c.remote.ip());
        self.impose_ban(
            now,
            BanTarget::Peer(peer),
            duration,
            BanReason::Reputation,
            reason,
        );
        if let Some(ip) = ip.filter(|ip| !special && !is_lan(*ip)) {
            self.impose_ban(
                now,
                BanTarget::Ip(ip),
                duration,
                BanReason::Reputation,
                reason,
            );
        }
    }

    /// Bans `peer` for `duration`, and its IP too when `ip` is given; connected matches are
    /// disconnected (`Requested`).
    pub fn ban(&mut self, now: Instant, peer: PeerId, ip: Option<IpAddr>, duration: Duration) {
        let requested = DisconnectReason::Requested;
        self.impose_ban(
            now,
            BanTarget::Peer(peer),
            duration,
            BanReason::Manual,
            requested,
        );
        if let Some(ip) = ip {
            self.impose_ban(
                now,
                BanTarget::Ip(ip),
                duration,
                BanReason::Manual,
                requested,
            );
        }
    }

    /// Bans every peer from `ip` for `duration`; connected ones are disconnected.
    pub fn ban_ip(&mut self, now: Instant, ip: IpAddr, duration: Duration) {
        self.impose_ban(
            now,
            BanTarget::Ip(ip),
            duration,
            BanReason::Manual,
            DisconnectReason::Requested,
        );
    }

    /// Lifts a ban; returns whether there was one. Queues [`PeerAction::Unbanned`].
    pub fn unban(&mut self, now: Instant, target: BanTarget) -> bool {
        let target = match target {
            BanTarget::Ip(ip) => BanTarget::Ip(ip.to_canonical()),
            peer => peer,
        };
        let was = self.bans.remove(&target);
        if was {
            self.actions.push_back(PeerAction::Unbanned(target));
            self.fill_dial_slots(now);
        }
        was
    }

    /// Reinstates bans persisted before a restart (no `Banned` actions: they are stored
    /// already). Bans already over are skipped. Returns how many were restored.
    pub fn restore_bans(&mut self, now: Instant, bans: impl IntoIterator<Item = Ban>) -> usize {
        let mut restored = 0;
        for ban in bans {
            let Some(until) = BanList::restore_until(&ban, &self.clock, now) else {
                continue;
            };
            if let Some(dropped) = self.bans.insert(ban.target, until, ban.reason) {
                self.actions.push_back(PeerAction::Unbanned(dropped));
            }
            self.disconnect_matching(&ban.target, DisconnectReason::Requested);
            restored += 1;
        }
        restored
    }

    /// Starts a graceful shutdown: every connected peer gets `Disconnect(ClientQuitting)`,
    /// and no dial or admission happens any more.
    pub fn shutdown(&mut self, _now: Instant) {
        self.shutting_down = true;
        let ids: Vec<PeerId> = self.peers.keys().copied().collect();
        for id in ids {
            self.disconnect(id, DisconnectReason::ClientQuitting);
        }
    }

    /// Records a ban, queues its record for the host and disconnects connected matches.
    fn impose_ban(
        &mut self,
        now: Instant,
        target: BanTarget,
        duration: Duration,
        reason: BanReason,
        disconnect: DisconnectReason,
    ) {
        let target = match target {
            BanTarget::Ip(ip) => BanTarget::Ip(ip.to_canonical()),
            peer => peer,
        };
        let until = deadline(now, duration);
        let dropped = self.bans.insert(target, until, reason);
        self.stats.bans += 1;
        self.actions.push_back(PeerAction::Banned(Ban {
            target,
            expires_unix: self.clock.unix_secs_at(until),
            reason,
        }));
        if let Some(dropped) = dropped {
            self.actions.push_back(PeerAction::Unbanned(dropped));
        }
        self.disconnect_matching(&target, disconnect);
    }

    fn disconnect_matching(&mut self, target: &BanTarget, reason: DisconnectReason) {
        let victims: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(id, c)| match target {
                BanTarget::Peer(p) => *id == p,
                BanTarget::Ip(ip) => c.remote.ip() == ip.to_canonical(),
            })
            .map(|(id, _)| *id)
            .collect();
        for id in victims {
            self.disconnect(id, reason);
        }
    }
}
