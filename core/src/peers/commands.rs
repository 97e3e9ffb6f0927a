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
        self.dials.add_static(now, peer, addr, &self.cfg.backoff);
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
        let ip = self.peers.get(&peer).map(|c| c.remote.ip());
        self.penalize(now, peer, ip, change);
    }

    /// Applies `change` to `peer`, last seen at `ip`, banning it when its score falls below
    /// the threshold.
    pub(super) fn penalize(
        &mut self,
        now: Instant,
        peer: PeerId,
        ip: Option<IpAddr>,
        change: ReputationChange,
    ) {
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

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::super::testutil::*;
    use super::super::*;

    #[test]
    fn a_candidate_made_static_waits_no_longer_than_the_static_cap() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        assert!(pm.on_discovered(now, record(1), true));
        assert_eq!(dials(&mut pm), vec![peer(1)]);
        // A handshake failure: a High cool-down (15 min), longer than the static cap.
        pm.on_dial_failed(now, peer(1), DialFailure::Handshake);
        assert_eq!(pm.poll_timeout(), Some(now + DIAL_HISTORY));
        let later = now + Duration::from_secs(60);
        pm.handle_timeout(later);
        assert!(dials(&mut pm).is_empty());
        pm.add_static(later, peer(1), public(1)).unwrap();
        let due = later + MAX_STATIC_BACKOFF;
        assert_eq!(pm.static_peers()[0].retry_at, Some(due));
        assert_eq!(pm.static_peers()[0].failures, 1);
        assert!(dials(&mut pm).is_empty());
        assert_eq!(pm.poll_timeout(), Some(due));
        pm.handle_timeout(due);
        assert_eq!(dials(&mut pm), vec![peer(1)]);
    }

    #[test]
    fn a_short_candidate_cool_down_is_kept_when_made_static() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        pm.on_discovered(now, record(1), true);
        assert_eq!(dials(&mut pm), vec![peer(1)]);
        pm.on_dial_failed(
            now,
            peer(1),
            DialFailure::Disconnected(DisconnectReason::TooManyPeers),
        );
        pm.add_static(now, peer(1), public(1)).unwrap();
        assert_eq!(pm.static_peers()[0].retry_at, Some(now + LOW_BACKOFF));
    }

    #[test]
    fn removing_a_static_peer_disconnects_it_and_stops_redials() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        pm.add_static(now, peer(1), public(1)).unwrap();
        assert_eq!(dials(&mut pm), vec![peer(1)]);
        connect_out(&mut pm, now, 1).unwrap();
        assert!(pm.remove_static(now, peer(1)));
        assert_eq!(
            drain(&mut pm),
            vec![PeerAction::Disconnect {
                peer: peer(1),
                reason: DisconnectReason::Requested
            }]
        );
        pm.on_closed(now, peer(1), DisconnectReason::Requested, None);
        pm.handle_timeout(now + Duration::from_secs(3600));
        assert!(dials(&mut pm).is_empty());
        assert!(!pm.remove_static(now, peer(1)));
    }

    #[test]
    fn static_and_trusted_tables_are_bounded() {
        let now = t0();
        let cfg = PeerManagerConfig {
            max_static: 1,
            max_trusted: 1,
            ..PeerManagerConfig::default()
        };
        let mut pm = manager(cfg, now);
        pm.add_static(now, peer(1), public(1)).unwrap();
        pm.add_static(now, peer(1), public(2)).unwrap();
        assert_eq!(
            pm.add_static(now, peer(2), public(2)),
            Err(CommandError::TooManyStatic { max: 1 })
        );
        assert_eq!(pm.static_peers()[0].addr, public(2));
        assert_eq!(
            pm.add_static(now, local(), public(3)),
            Err(CommandError::SelfPeer)
        );
        pm.add_trusted(peer(1)).unwrap();
        assert_eq!(
            pm.add_trusted(peer(2)),
            Err(CommandError::TooManyTrusted { max: 1 })
        );
    }

    #[test]
    fn untrusting_a_peer_over_the_limit_disconnects_it() {
        let now = t0();
        let cfg = PeerManagerConfig {
            max_peers: 3,
            ..PeerManagerConfig::default()
        };
        let mut pm = manager(cfg, now);
        connect_in(&mut pm, now, 1).unwrap();
        connect_in(&mut pm, now, 2).unwrap();
        pm.add_trusted(peer(3)).unwrap();
        pm.add_trusted(peer(4)).unwrap();
        connect_in(&mut pm, now, 3).unwrap();
        connect_in(&mut pm, now, 4).unwrap();
        assert_eq!(pm.count(Direction::Inbound), 4);
        assert!(pm.remove_trusted(now, peer(3)));
        assert_eq!(
            drain(&mut pm),
            vec![PeerAction::Disconnect {
                peer: peer(3),
                reason: DisconnectReason::TooManyPeers
            }]
        );
        // The two untrusted inbound peers already fill both inbound slots: 4 goes too.
        assert!(pm.remove_trusted(now, peer(4)));
        assert_eq!(drain(&mut pm).len(), 1);
        assert_eq!(pm.count(Direction::Inbound), 2);
    }

    #[test]
    fn bad_reputation_disconnects_and_bans_by_id_and_ip() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        connect_in(&mut pm, now, 1).unwrap();
        for _ in 0..3 {
            pm.report(now, peer(1), ReputationChange::BadMessage);
        }
        assert!(drain(&mut pm).is_empty());
        pm.report(now, peer(1), ReputationChange::BadMessage);
        let expires = 1_700_000_000 + BAN_DURATION.as_secs();
        assert_eq!(
            drain(&mut pm),
            vec![
                PeerAction::Banned(Ban {
                    target: BanTarget::Peer(peer(1)),
                    expires_unix: expires,
                    reason: BanReason::Reputation
                }),
                PeerAction::Disconnect {
                    peer: peer(1),
                    reason: DisconnectReason::ProtocolError
                },
                PeerAction::Banned(Ban {
                    target: BanTarget::Ip(public(1).ip()),
                    expires_unix: expires,
                    reason: BanReason::Reputation
                }),
            ]
        );
        assert_eq!(pm.peer_count(), 0);
        assert_eq!(pm.stats().reputation_bans, 1);
        // Another report does not ban again.
        pm.report(now, peer(1), ReputationChange::Timeout);
        assert!(drain(&mut pm).is_empty());
    }

    #[test]
    fn static_peers_get_a_short_ban_by_id_only() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        pm.add_static(now, peer(1), public(1)).unwrap();
        drain(&mut pm);
        connect_out(&mut pm, now, 1).unwrap();
        pm.report(now, peer(1), ReputationChange::BadProtocol);
        let bans = pm.bans();
        assert_eq!(bans.len(), 1);
        assert_eq!(bans[0].target, BanTarget::Peer(peer(1)));
        assert_eq!(
            bans[0].expires_unix,
            1_700_000_000 + SHORT_BAN_DURATION.as_secs()
        );
        pm.on_closed(now, peer(1), DisconnectReason::ProtocolError, None);
        drain(&mut pm);
        // Redialed once the ban (5 min, longer than the cool-down) ends.
        let mut dialed = None;
        while let Some(t) = pm.poll_timeout() {
            pm.handle_timeout(t);
            if dials(&mut pm).contains(&peer(1)) {
                dialed = Some(t);
                break;
            }
        }
        assert_eq!(dialed, Some(now + SHORT_BAN_DURATION));
    }

    #[test]
    fn lan_ips_are_not_banned_for_reputation() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        let lan = SocketAddr::from(([127, 0, 0, 1], 4000));
        let t = pm.admit_inbound(now, lan).unwrap();
        pm.on_authenticated(now, peer(1), t.remote(), Direction::Inbound)
            .unwrap();
        pm.report(now, peer(1), ReputationChange::BadProtocol);
        assert_eq!(pm.bans().len(), 1);
        assert!(pm.admit_inbound(now, lan).is_ok());
    }

    #[test]
    fn manual_bans_expire_lift_and_survive_a_restart() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        connect_in(&mut pm, now, 1).unwrap();
        pm.ban(now, peer(1), Some(public(1).ip()), Duration::from_secs(600));
        let actions = drain(&mut pm);
        assert_eq!(actions.len(), 3);
        assert!(actions.contains(&PeerAction::Disconnect {
            peer: peer(1),
            reason: DisconnectReason::Requested
        }));
        let saved = pm.bans();
        assert_eq!(saved.len(), 2);

        // Restart 100 s later: a new manager with a new clock anchor.
        let later = now + Duration::from_secs(100);
        let mut pm2 = manager(PeerManagerConfig::default(), later);
        // The test clock reads 1.7e9 at `later` too, so shift expiries back by 100 s.
        let shifted: Vec<Ban> = saved
            .iter()
            .map(|b| Ban {
                expires_unix: b.expires_unix - 100,
                ..*b
            })
            .collect();
        assert_eq!(pm2.restore_bans(later, shifted), 2);
        assert!(drain(&mut pm2).is_empty());
        assert!(pm2.is_banned(&BanTarget::Peer(peer(1)), later));
        assert_eq!(
            pm2.admit_inbound(later, public(1)),
            Err(AdmissionError::BannedIp)
        );
        assert_eq!(pm2.poll_timeout(), Some(later + Duration::from_secs(500)));
        pm2.handle_timeout(later + Duration::from_secs(500));
        let mut ended: Vec<_> = drain(&mut pm2);
        ended.sort_by_key(|a| format!("{a:?}"));
        assert_eq!(
            ended,
            vec![
                PeerAction::Unbanned(BanTarget::Ip(public(1).ip())),
                PeerAction::Unbanned(BanTarget::Peer(peer(1))),
            ]
        );
        assert!(pm2.bans().is_empty());

        assert!(pm.unban(now, BanTarget::Peer(peer(1))));
        assert!(!pm.unban(now, BanTarget::Peer(peer(1))));
        assert_eq!(
            drain(&mut pm),
            vec![PeerAction::Unbanned(BanTarget::Peer(peer(1)))]
        );
    }

    #[test]
    fn shutdown_disconnects_everyone_and_refuses_newcomers() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        connect_in(&mut pm, now, 1).unwrap();
        connect_out(&mut pm, now, 2).unwrap();
        pm.shutdown(now);
        let reasons: Vec<_> = drain(&mut pm)
            .into_iter()
            .map(|a| match a {
                PeerAction::Disconnect { reason, .. } => reason,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(reasons, vec![DisconnectReason::ClientQuitting; 2]);
        assert_eq!(
            pm.admit_inbound(now, public(3)),
            Err(AdmissionError::ShuttingDown)
        );
        assert!(!pm.on_discovered(now, record(4), true));
        pm.add_static(now, peer(5), public(5)).unwrap();
        assert!(dials(&mut pm).is_empty());
    }
}
