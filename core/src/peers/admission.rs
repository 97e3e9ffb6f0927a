//! Admission verdicts and the session lifecycle: inbound connections before their handshake
//! (pending cap, per-IP throttle, netrestrict, IP bans), authenticated sessions in either
//! direction (self, duplicates, bans, dialed identity, peer limits), Hello negotiation and
//! the end of a session. Checks follow go-ethereum's `checkInboundConn` and
//! `postHandshakeChecks`.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::netutil::is_lan;
use crate::p2p::DisconnectReason;
use crate::session::FaultClass;
use crate::types::{Direction, PeerId};

use super::backoff::BackoffKind;
use super::error::AdmissionError;
use super::expiring::deadline;
use super::ratelimit::PeerRates;
use super::reputation::ReputationChange;
use super::source::pending_source;
use super::{canonical, Connected, PeerManager};

/// Proof that an inbound connection holds a pending-handshake slot. Release it with
/// [`PeerManager::on_inbound_failed`] if the handshake fails, or report the handshake with
/// [`PeerManager::on_authenticated`] (inbound, from [`remote`](Self::remote)), which
/// releases it; the ticket is then spent.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "the pending slot is held until on_inbound_failed or on_authenticated"]
pub struct InboundTicket {
    remote: SocketAddr,
}

impl InboundTicket {
    /// The remote address the connection came from.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }
}

impl PeerManager {
    /// A TCP connection from `remote` was accepted: may its handshake start? Refused when
    /// shutting down, when too many handshakes are pending (in all, or from the source of
    /// `remote`: [`pending_source`](super::pending_source)), when the IP is outside
    /// netrestrict or banned, or when the (non-LAN) IP connected within the throttle time.
    pub fn admit_inbound(
        &mut self,
        now: Instant,
        remote: SocketAddr,
    ) -> Result<InboundTicket, AdmissionError> {
        self.reclaim_pending_inbound(now);
        let verdict = self.check_inbound(now, canonical(remote));
        match verdict {
            Ok(_) => self.stats.inbound_admitted += 1,
            Err(e) => {
                self.stats.inbound_refused += 1;
                if e == AdmissionError::TooManyPendingFromSource {
                    self.stats.inbound_refused_source_share += 1;
                }
            }
        }
        verdict
    }

    fn check_inbound(
        &mut self,
        now: Instant,
        remote: SocketAddr,
    ) -> Result<InboundTicket, AdmissionError> {
        if self.shutting_down {
            return Err(AdmissionError::ShuttingDown);
        }
        if self.pending_inbound.len() >= self.cfg.max_pending_inbound
            && !self.pending_inbound.contains_key(&remote)
        {
            return Err(AdmissionError::TooManyPending);
        }
        // One source may not hold every pending slot (idle connections from one address
        // would keep everyone else out until they time out). Loopback and the LAN are not
        // exempt here, unlike the throttle below.
        if self.pending_inbound_from(remote.ip()) >= self.cfg.max_pending_inbound_per_source
            && !self.pending_inbound.contains_key(&remote)
        {
            return Err(AdmissionError::TooManyPendingFromSource);
        }
        let ip = remote.ip();
        if !self.cfg.allows_ip(ip) {
            return Err(AdmissionError::NotAllowed);
        }
        if self.bans.ip_banned(ip, now) {
            return Err(AdmissionError::BannedIp);
        }
        // LAN hosts are exempt: a local test network reconnects often from one address.
        if !is_lan(ip) {
            if self.inbound_history.contains(&ip, now) {
                return Err(AdmissionError::Throttled);
            }
            self.inbound_history
                .insert(ip, deadline(now, self.cfg.inbound_throttle), ());
        }
        self.pending_inbound
            .insert(remote, deadline(now, self.cfg.pending_inbound_timeout));
        Ok(InboundTicket { remote })
    }

    /// Inbound handshakes pending from the source of `ip` (see
    /// [`pending_source`](super::pending_source)).
    pub fn pending_inbound_from(&self, ip: IpAddr) -> usize {
        let source = pending_source(ip);
        self.pending_inbound
            .keys()
            .filter(|a| pending_source(a.ip()) == source)
            .count()
    }

    /// The handshake of an admitted inbound connection failed: its pending slot is free.
    pub fn on_inbound_failed(&mut self, _now: Instant, ticket: InboundTicket) {
        self.pending_inbound.remove(&canonical(ticket.remote));
    }

    /// The RLPx handshake with `peer` at `remote` completed (the session's `Authenticated`
    /// event): may the session go on? Releases the slot the connection held (the inbound
    /// pending slot for `remote`, or the dial slot of `peer` to `remote`) whatever the
    /// verdict. An outbound connection to `remote` that authenticated as a peer other than
    /// the one dialed there ends that dial (a failure, [`AdmissionError::UnexpectedIdentity`]);
    /// a dial of `peer` to another address keeps its slot until the host reports it.
    ///
    /// Refused when shutting down, for ourselves, for a banned id or IP, outside netrestrict,
    /// for a peer already connected, when a dialed address answered with another identity,
    /// and — unless `peer` is trusted — when the peer limit or the limit of its direction is
    /// reached. Once admitted the peer counts against the limits until `on_closed` or a
    /// `Disconnect` action.
    pub fn on_authenticated(
        &mut self,
        now: Instant,
        peer: PeerId,
        remote: SocketAddr,
        direction: Direction,
    ) -> Result<(), AdmissionError> {
        let remote = canonical(remote);
        let was_dialing = match direction {
            Direction::Inbound => {
                self.pending_inbound.remove(&remote);
                false
            }
            // Only the dial of `peer` to `remote` ends here. Matching by identity alone
            // would free the slot of a dial of `peer` still in flight when a dial of another
            // peer reached it, leaving the host with one dial more than the manager counts.
            Direction::Outbound => self.dials.finish(&peer, &remote),
        };
        let verdict = self.check_authenticated(now, peer, remote, direction, was_dialing);
        match verdict {
            Ok(()) => {
                self.peers.insert(
                    peer,
                    Connected {
                        direction,
                        remote,
                        since: now,
                        established: false,
                        leaving: None,
                        rates: PeerRates::new(now, &self.cfg.rate_limit),
                    },
                );
            }
            Err(_) => self.stats.sessions_refused += 1,
        }
        self.fill_dial_slots(now);
        verdict
    }

    fn check_authenticated(
        &mut self,
        now: Instant,
        peer: PeerId,
        remote: SocketAddr,
        direction: Direction,
        was_dialing: bool,
    ) -> Result<(), AdmissionError> {
        if self.shutting_down {
            return Err(AdmissionError::ShuttingDown);
        }
        if peer == self.local {
            return Err(AdmissionError::SelfConnection);
        }
        if self.bans.peer_banned(&peer, now) {
            return Err(AdmissionError::BannedPeer);
        }
        if self.bans.ip_banned(remote.ip(), now) {
            return Err(AdmissionError::BannedIp);
        }
        if !self.cfg.allows_ip(remote.ip()) {
            return Err(AdmissionError::NotAllowed);
        }
        if self.peers.contains_key(&peer) {
            return Err(AdmissionError::AlreadyConnected);
        }
        if direction == Direction::Outbound && !was_dialing {
            // Our dial of `remote` expected someone else: that dial failed. If several
            // dials go to `remote`, which one this is is unknown: failing one of them by
            // guess would free the slot of a dial still in flight, so none ends here.
            if let Some(expected) = self.dials.dial_to(&remote) {
                if let Some(expected) = expected {
                    self.dials
                        .failed(now, expected, BackoffKind::High, &self.cfg.backoff);
                }
                return Err(AdmissionError::UnexpectedIdentity);
            }
        }
        if self.trusted.contains(&peer) {
            return Ok(());
        }
        if self.peer_count() >= self.cfg.max_peers {
            return Err(AdmissionError::TooManyPeers);
        }
        match direction {
            Direction::Inbound if self.count(direction) >= self.cfg.max_inbound() => {
                Err(AdmissionError::TooManyInbound)
            }
            // Without dialing of our own, the only outbound peers are static ones, which
            // take any free slot (the total was checked above).
            Direction::Outbound if self.cfg.no_dial && self.dials.is_static(&peer) => Ok(()),
            Direction::Outbound if self.count(direction) >= self.cfg.max_outbound() => {
                Err(AdmissionError::TooManyOutbound)
            }
            _ => Ok(()),
        }
    }

    /// Hello negotiation with `peer` completed with `shared_caps` capabilities in common.
    /// With none the peer is useless: the host disconnects it with the returned reason (no
    /// action is queued) and it stops counting against the limits. A peer already being
    /// disconnected is left alone.
    pub fn on_established(
        &mut self,
        _now: Instant,
        peer: PeerId,
        shared_caps: usize,
    ) -> Result<(), AdmissionError> {
        let Some(conn) = self.peers.get_mut(&peer) else {
            return Err(AdmissionError::NotConnected);
        };
        if conn.leaving.is_some() {
            // Already being disconnected: the queued action settles it.
            return Ok(());
        }
        if shared_caps == 0 {
            conn.leaving = Some(DisconnectReason::UselessPeer);
            return Err(AdmissionError::UselessPeer);
        }
        conn.established = true;
        self.dials.succeeded(&peer);
        Ok(())
    }

    /// The session with an admitted `peer` ended with `reason` (sent or received). When a
    /// session fault ended it (`fault`, see [`CloseReason::fault_class`]) and the manager
    /// had not asked the peer to leave, the fault costs reputation here by its class
    /// ([`ReputationChange::for_fault`]; the host must not report it again). A Disconnect
    /// either side sent costs nothing here: whoever asked for it reports what it charges.
    /// The peer's dial cool-down follows the reason; a static peer is redialed after it.
    ///
    /// [`CloseReason::fault_class`]: crate::session::CloseReason::fault_class
    pub fn on_closed(
        &mut self,
        now: Instant,
        peer: PeerId,
        reason: DisconnectReason,
        fault: Option<FaultClass>,
    ) {
        let Some(conn) = self.peers.remove(&peer) else {
            return;
        };
        if conn.leaving.is_none() {
            if let Some(change) = fault.and_then(ReputationChange::for_fault) {
                self.penalize(now, peer, Some(conn.remote.ip()), change);
            }
        }
        self.dials.closed(
            now,
            peer,
            BackoffKind::for_disconnect(reason),
            conn.established,
            &self.cfg.backoff,
        );
        self.fill_dial_slots(now);
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::super::testutil::*;
    use super::super::*;
    use crate::netutil::Netlist;
    use crate::session::FaultClass;

    fn lan(port: u16) -> SocketAddr {
        SocketAddr::from(([192, 168, 1, 7], port))
    }

    #[test]
    fn pending_inbound_slots_are_capped_and_released() {
        let now = t0();
        let cfg = PeerManagerConfig {
            max_pending_inbound: 2,
            ..PeerManagerConfig::default()
        };
        let mut pm = manager(cfg, now);
        let a = pm.admit_inbound(now, public(1)).unwrap();
        let b = pm.admit_inbound(now, public(2)).unwrap();
        assert_eq!(
            pm.admit_inbound(now, public(3)),
            Err(AdmissionError::TooManyPending)
        );
        pm.on_inbound_failed(now, a);
        let c = pm.admit_inbound(now, public(4)).unwrap();
        pm.on_authenticated(now, peer(2), b.remote(), Direction::Inbound)
            .unwrap();
        assert_eq!(pm.pending_inbound_count(), 1);
        pm.on_inbound_failed(now, c);
        assert_eq!(pm.pending_inbound_count(), 0);
    }

    #[test]
    fn one_loopback_address_cannot_hold_every_pending_slot() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        let local = |port| SocketAddr::from(([127, 0, 0, 1], port));
        // go-ethereum's devp2p suite opens several connections at once from 127.0.0.1.
        let mut held: Vec<_> = (0..MAX_PENDING_INBOUND_PER_SOURCE as u16)
            .map(|i| pm.admit_inbound(now, local(4000 + i)).unwrap())
            .collect();
        assert!(held.len() >= 8, "devp2p needs 8 from one address");
        assert_eq!(pm.pending_inbound_from(local(1).ip()), held.len());
        let refused = pm.admit_inbound(now, local(5000));
        assert_eq!(refused, Err(AdmissionError::TooManyPendingFromSource));
        assert_eq!(
            refused.unwrap_err().reason(),
            crate::p2p::DisconnectReason::TooManyPeers
        );
        // Newcomers from elsewhere (public, another LAN host, another loopback address).
        let other = SocketAddr::from(([127, 0, 0, 2], 4000));
        for remote in [public(1), lan(1), other] {
            assert!(pm.admit_inbound(now, remote).is_ok(), "{remote}");
        }
        let stats = pm.stats();
        assert_eq!(stats.inbound_refused_source_share, 1);
        assert_eq!(stats.inbound_refused, 1);
        // A slot of the source freed is the source's again.
        pm.on_inbound_failed(now, held.pop().unwrap());
        assert!(pm.admit_inbound(now, local(5001)).is_ok());
    }

    #[test]
    fn a_public_subnet_is_one_source() {
        let now = t0();
        let cfg = PeerManagerConfig {
            max_pending_inbound: 50,
            max_pending_inbound_per_source: 3,
            ..PeerManagerConfig::default()
        };
        let mut pm = manager(cfg, now);
        // Distinct IPs of one /24 pass the per-IP throttle but share one source.
        for host in 1..=3 {
            let t = pm.admit_inbound(now, SocketAddr::from(([9, 9, 9, host], 30303)));
            assert!(t.is_ok());
        }
        assert_eq!(
            pm.admit_inbound(now, SocketAddr::from(([9, 9, 9, 200], 30303))),
            Err(AdmissionError::TooManyPendingFromSource)
        );
        assert!(pm
            .admit_inbound(now, SocketAddr::from(([9, 9, 10, 1], 30303)))
            .is_ok());
        // IPv6: one /64.
        let v6 = |s: &str| SocketAddr::new(s.parse().unwrap(), 30303);
        for host in ["2a00:1::1", "2a00:1::2", "2a00:1::3"] {
            assert!(pm.admit_inbound(now, v6(host)).is_ok());
        }
        assert_eq!(
            pm.admit_inbound(now, v6("2a00:1::ffff:1")),
            Err(AdmissionError::TooManyPendingFromSource)
        );
        assert!(pm.admit_inbound(now, v6("2a00:1:0:1::1")).is_ok());
        assert_eq!(pm.stats().inbound_refused_source_share, 2);
        // Once the pending handshakes are reclaimed, the refused IP gets in well within the
        // throttle time: a refusal is not a connection for the throttle.
        let later = now + PENDING_INBOUND_TIMEOUT;
        assert!(later < now + INBOUND_THROTTLE);
        assert!(pm
            .admit_inbound(later, SocketAddr::from(([9, 9, 9, 200], 30303)))
            .is_ok());
    }

    #[test]
    fn a_flood_from_one_address_leaves_room_for_others() {
        // 300 idle connections from one LAN address, 50 pending slots.
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        let flood = |port| SocketAddr::from(([10, 0, 0, 66], port));
        let admitted = (0..300)
            .filter_map(|p| pm.admit_inbound(now, flood(1000 + p)).ok())
            .count();
        assert_eq!(admitted, MAX_PENDING_INBOUND_PER_SOURCE);
        for n in 1..=10 {
            assert!(
                pm.admit_inbound(now, public(n * 256)).is_ok(),
                "newcomer {n}"
            );
        }
    }

    #[test]
    fn unreported_inbound_handshakes_are_reclaimed() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        let _lost = pm.admit_inbound(now, public(1)).unwrap();
        assert_eq!(pm.poll_timeout(), Some(now + PENDING_INBOUND_TIMEOUT));
        pm.handle_timeout(now + PENDING_INBOUND_TIMEOUT);
        assert_eq!(pm.pending_inbound_count(), 0);
        assert_eq!(pm.stats().inbound_reclaimed, 1);
        assert_eq!(pm.poll_timeout(), None);
    }

    #[test]
    fn one_ip_is_throttled_for_thirty_seconds_except_on_the_lan() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        let first = SocketAddr::from(([8, 8, 8, 8], 1000));
        let again = SocketAddr::from(([8, 8, 8, 8], 1001));
        let t = pm.admit_inbound(now, first).unwrap();
        pm.on_inbound_failed(now, t);
        let soon = now + INBOUND_THROTTLE - Duration::from_secs(1);
        assert_eq!(
            pm.admit_inbound(soon, again),
            Err(AdmissionError::Throttled)
        );
        assert!(pm.admit_inbound(now + INBOUND_THROTTLE, again).is_ok());
        // The IPv4-mapped spelling is the same host.
        let mapped: SocketAddr = "[::ffff:8.8.8.8]:1002".parse().unwrap();
        assert_eq!(
            pm.admit_inbound(now + INBOUND_THROTTLE, mapped),
            Err(AdmissionError::Throttled)
        );
        assert!(pm.admit_inbound(now, lan(1)).is_ok());
        assert!(pm.admit_inbound(now, lan(2)).is_ok());
    }

    #[test]
    fn netrestrict_and_ip_bans_refuse_inbound() {
        let now = t0();
        let cfg = PeerManagerConfig {
            netrestrict: Some(Netlist::parse("8.1.0.0/16").unwrap()),
            ..PeerManagerConfig::default()
        };
        let mut pm = manager(cfg, now);
        assert_eq!(
            pm.admit_inbound(now, SocketAddr::from(([9, 9, 9, 9], 1))),
            Err(AdmissionError::NotAllowed)
        );
        pm.ban_ip(now, public(5).ip(), Duration::from_secs(60));
        assert_eq!(
            pm.admit_inbound(now, public(5)),
            Err(AdmissionError::BannedIp)
        );
        assert!(pm.admit_inbound(now, public(6)).is_ok());
    }

    #[test]
    fn self_duplicate_and_banned_sessions_are_refused() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        assert_eq!(
            pm.on_authenticated(now, local(), public(1), Direction::Inbound),
            Err(AdmissionError::SelfConnection)
        );
        connect_in(&mut pm, now, 2).unwrap();
        assert_eq!(
            pm.on_authenticated(now, peer(2), public(3), Direction::Inbound),
            Err(AdmissionError::AlreadyConnected)
        );
        pm.ban(now, peer(4), None, Duration::from_secs(60));
        assert_eq!(
            pm.on_authenticated(now, peer(4), public(4), Direction::Outbound),
            Err(AdmissionError::BannedPeer)
        );
        assert_eq!(
            AdmissionError::SelfConnection.reason(),
            DisconnectReason::SelfConnection
        );
        assert_eq!(pm.stats().sessions_refused, 3);
    }

    #[test]
    fn inbound_limit_holds_and_trusted_peers_get_in_over_it() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        for n in 0..34 {
            connect_in(&mut pm, now, n).unwrap();
        }
        assert_eq!(pm.count(Direction::Inbound), 34);
        assert_eq!(
            connect_in(&mut pm, now, 100),
            Err(AdmissionError::TooManyInbound)
        );
        assert_eq!(pm.pending_inbound_count(), 0);
        pm.add_trusted(peer(101)).unwrap();
        connect_in(&mut pm, now, 101).unwrap();
        assert_eq!(pm.count(Direction::Inbound), 35);
        assert!(pm.peer(&peer(101)).unwrap().is_trusted);
    }

    #[test]
    fn outbound_and_total_limits_hold() {
        let now = t0();
        let cfg = PeerManagerConfig {
            max_peers: 6,
            ..PeerManagerConfig::default()
        };
        let mut pm = manager(cfg, now);
        connect_out(&mut pm, now, 1).unwrap();
        connect_out(&mut pm, now, 2).unwrap();
        assert_eq!(
            connect_out(&mut pm, now, 3),
            Err(AdmissionError::TooManyOutbound)
        );
        for n in 10..14 {
            connect_in(&mut pm, now, n).unwrap();
        }
        assert_eq!(pm.peer_count(), 6);
        pm.add_trusted(peer(20)).unwrap();
        connect_out(&mut pm, now, 20).unwrap();
        assert_eq!(
            connect_in(&mut pm, now, 21),
            Err(AdmissionError::TooManyPeers)
        );
        assert_eq!(pm.peer_count(), 7);
    }

    #[test]
    fn dial_slot_is_released_on_authentication_whatever_the_verdict() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        assert!(pm.on_discovered(now, record(1), true));
        assert_eq!(dials(&mut pm), vec![peer(1)]);
        assert_eq!(pm.dialing_count(), 1);
        pm.ban(now, peer(1), None, Duration::from_secs(60));
        drain(&mut pm);
        assert_eq!(
            pm.on_authenticated(now, peer(1), public(1), Direction::Outbound),
            Err(AdmissionError::BannedPeer)
        );
        assert_eq!(pm.dialing_count(), 0);
    }

    #[test]
    fn a_dial_answered_by_another_dialed_peer_keeps_that_peers_slot() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        pm.on_discovered(now, record(1), true);
        pm.on_discovered(now, record(2), true);
        let mut dialed = dials(&mut pm);
        dialed.sort();
        assert_eq!(dialed, vec![peer(1), peer(2)]);
        // The dial of 1 reaches 2, which is being dialed itself: only the dial of 1 ends.
        assert_eq!(
            pm.on_authenticated(now, peer(2), public(1), Direction::Outbound),
            Err(AdmissionError::UnexpectedIdentity)
        );
        assert!(!pm.is_dialing(&peer(1)));
        assert!(pm.is_dialing(&peer(2)));
        assert_eq!(pm.dialing_count(), 1);
        // The dial of 2 still ends with its own report.
        connect_out(&mut pm, now, 2).unwrap();
        assert_eq!(pm.dialing_count(), 0);
    }

    #[test]
    fn an_unexpected_answer_from_an_address_dialed_twice_ends_no_dial_by_guess() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        let shared = public(1);
        let mut r2 = record(2);
        r2.endpoint.ip = shared.ip();
        r2.endpoint.tcp = shared.port();
        pm.on_discovered(now, record(1), true);
        pm.on_discovered(now, r2, true);
        assert_eq!(dials(&mut pm).len(), 2);
        assert_eq!(
            pm.on_authenticated(now, peer(9), shared, Direction::Outbound),
            Err(AdmissionError::UnexpectedIdentity)
        );
        assert_eq!(pm.dialing_count(), 2);
        pm.on_dial_failed(now, peer(2), DialFailure::Handshake);
        assert!(pm.is_dialing(&peer(1)));
        assert_eq!(pm.dialing_count(), 1);
    }

    #[test]
    fn dialed_address_answering_with_another_identity_is_refused() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        pm.on_discovered(now, record(1), true);
        assert_eq!(dials(&mut pm), vec![peer(1)]);
        assert_eq!(
            pm.on_authenticated(now, peer(9), public(1), Direction::Outbound),
            Err(AdmissionError::UnexpectedIdentity)
        );
        assert_eq!(pm.dialing_count(), 0);
        assert_eq!(pm.peer_count(), 0);
    }

    #[test]
    fn peer_without_shared_capability_is_useless_and_frees_its_slot() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        let t = pm.admit_inbound(now, public(1)).unwrap();
        pm.on_authenticated(now, peer(1), t.remote(), Direction::Inbound)
            .unwrap();
        assert_eq!(
            pm.on_established(now, peer(1), 0),
            Err(AdmissionError::UselessPeer)
        );
        assert_eq!(pm.peer_count(), 0);
        assert!(pm.peer(&peer(1)).unwrap().disconnecting);
        assert!(drain(&mut pm).is_empty());
        pm.on_closed(now, peer(1), DisconnectReason::UselessPeer, None);
        assert!(pm.peer(&peer(1)).is_none());
        assert_eq!(
            pm.on_established(now, peer(1), 1),
            Err(AdmissionError::NotConnected)
        );
    }

    /// The reputation `peer(1)` has after one session closed with `reason` and `fault`.
    fn reputation_after_close(reason: DisconnectReason, fault: Option<FaultClass>) -> i32 {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        connect_in(&mut pm, now, 1).unwrap();
        pm.on_closed(now, peer(1), reason, fault);
        pm.reputation(&peer(1))
    }

    #[test]
    fn session_faults_cost_reputation_by_class() {
        use FaultClass::*;
        let cases = [
            (DisconnectReason::ProtocolError, ProtocolBreach, -16),
            // A bad MAC goes out as a network error, yet it is the peer's fault.
            (DisconnectReason::NetworkError, BadCrypto, -16),
            (DisconnectReason::ReadTimeout, Timeout, -4),
            (DisconnectReason::UselessPeer, Incompatible, 0),
            (DisconnectReason::NetworkError, Local, 0),
        ];
        for (reason, class, units) in cases {
            assert_eq!(
                reputation_after_close(reason, Some(class)),
                units * REPUTATION_UNIT,
                "{class:?}"
            );
        }
    }

    #[test]
    fn a_disconnect_without_a_fault_costs_nothing_whatever_its_reason() {
        for reason in [
            DisconnectReason::ProtocolError,
            DisconnectReason::ReadTimeout,
            DisconnectReason::NetworkError,
        ] {
            assert_eq!(reputation_after_close(reason, None), 0, "{reason}");
        }
    }

    #[test]
    fn a_fault_while_the_manager_made_the_peer_leave_costs_nothing_more() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        connect_in(&mut pm, now, 1).unwrap();
        pm.disconnect(peer(1), DisconnectReason::TooManyPeers);
        let fault = Some(FaultClass::Timeout);
        pm.on_closed(now, peer(1), DisconnectReason::ReadTimeout, fault);
        assert_eq!(pm.reputation(&peer(1)), 0);
    }

    #[test]
    fn a_session_fault_that_crosses_the_threshold_bans_the_ip_too() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        connect_in(&mut pm, now, 1).unwrap();
        pm.report(now, peer(1), ReputationChange::Other(-40 * REPUTATION_UNIT));
        let fault = Some(FaultClass::ProtocolBreach);
        pm.on_closed(now, peer(1), DisconnectReason::ProtocolError, fault);
        let targets: Vec<BanTarget> = pm.bans().into_iter().map(|b| b.target).collect();
        assert_eq!(
            targets,
            vec![BanTarget::Peer(peer(1)), BanTarget::Ip(public(1).ip())]
        );
        // The session is gone: no Disconnect is asked for.
        assert!(drain(&mut pm)
            .iter()
            .all(|a| matches!(a, PeerAction::Banned(_))));
    }

    #[test]
    fn static_peer_is_redialed_after_its_cool_down() {
        let now = t0();
        let mut pm = manager(PeerManagerConfig::default(), now);
        pm.add_static(now, peer(1), public(1)).unwrap();
        assert_eq!(dials(&mut pm), vec![peer(1)]);
        connect_out(&mut pm, now, 1).unwrap();
        let closed = now + Duration::from_secs(100);
        pm.on_closed(closed, peer(1), DisconnectReason::TooManyPeers, None);
        pm.handle_timeout(closed);
        assert!(dials(&mut pm).is_empty());
        let retry = closed + LOW_BACKOFF;
        assert_eq!(pm.poll_timeout(), Some(retry));
        pm.handle_timeout(retry);
        assert_eq!(dials(&mut pm), vec![peer(1)]);
    }
}
