//! Received datagrams: netrestrict and rate limit (before any crypto), decoding, expiration,
//! and the handler of each packet type.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::bond;
use super::packet::{
    self, Endpoint, EnrRequest, EnrResponse, FindNode, Neighbors, NodeRecord, Packet, Ping, Pong,
    MAX_NEIGHBORS,
};
use super::requests::{NeighborsMatch, PingPurpose, Request};
use super::{Discv4, BUCKET_SIZE};
use crate::netutil::check_relay_ip;
use crate::types::PeerId;

/// Neighbours on ports up to this are refused (go-ethereum `nodeFromRPC`: privileged ports
/// are not discovery ports, and port 0 is no port).
const MIN_NEIGHBOR_UDP_PORT_EXCLUSIVE: u16 = 1024;

impl Discv4 {
    /// Checks, decodes and dispatches one datagram.
    pub(super) fn on_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        self.stats.packets_in += 1;
        if !self.allowed(from.ip()) {
            self.stats.restricted += 1;
            return;
        }
        if !self.ratelimit.allow(from.ip(), now) {
            self.stats.rate_limited += 1;
            return;
        }
        let Ok(decoded) = packet::decode(datagram) else {
            self.stats.invalid += 1;
            return;
        };
        if decoded.sender == self.local_peer {
            self.stats.invalid += 1;
            return;
        }
        if decoded
            .packet
            .expiration()
            .is_some_and(|exp| is_expired(exp, self.unix(now)))
        {
            self.stats.invalid += 1;
            return;
        }
        let sender = decoded.sender;
        super::count_kind(&mut self.stats.received_by_kind, decoded.packet.kind());
        match decoded.packet {
            Packet::Ping(p) => self.on_ping(now, from, sender, decoded.hash, &p),
            Packet::Pong(p) => self.on_pong(now, from, sender, &p),
            Packet::FindNode(p) => self.on_findnode(now, from, sender, &p),
            Packet::Neighbors(p) => self.on_neighbors(now, from, sender, p),
            Packet::EnrRequest(p) => self.on_enr_request(now, from, sender, decoded.hash, &p),
            Packet::EnrResponse(p) => self.on_enr_response(now, from, sender, p),
        }
    }

    /// Ping: always answer with a Pong (small, so no amplification); ping back if the sender
    /// has not proven its endpoint, else (re)insert it into the table.
    fn on_ping(
        &mut self,
        now: Instant,
        from: SocketAddr,
        sender: PeerId,
        hash: [u8; 32],
        ping: &Ping,
    ) {
        let endpoint = Endpoint {
            ip: from.ip(),
            udp: from.port(),
            tcp: ping.from.tcp,
        };
        let pong = Packet::Pong(Pong {
            to: endpoint,
            ping_hash: hash,
            expiration: self.expiration(now),
            enr_seq: Some(self.enr.seq()),
        });
        self.send_packet(now, from, &pong);
        let id = sender.node_id();
        let now_unix = self.unix(now);
        let proven = bond::has_endpoint_proof(self.db.as_ref(), &id, from.ip(), now_unix);
        self.db.set_last_ping_received(&id, from.ip(), now_unix);
        let record = NodeRecord {
            endpoint,
            id: sender,
        };
        if proven {
            self.add_to_table(now, record);
        } else {
            self.request(
                now,
                Request::Ping {
                    to: record,
                    purpose: PingPurpose::PingBack,
                },
            );
        }
    }

    fn on_pong(&mut self, now: Instant, from: SocketAddr, sender: PeerId, pong: &Pong) {
        match self.requests.take_pong(&pong.ping_hash, &sender, from.ip()) {
            Some(pending) => self.on_pong_matched(now, from, pending, pong),
            None => self.stats.unsolicited += 1,
        }
    }

    /// FindNode: answer with our closest nodes, only to a bonded sender (the reply is up to
    /// two packets, far larger than the request).
    fn on_findnode(&mut self, now: Instant, from: SocketAddr, sender: PeerId, req: &FindNode) {
        let now_unix = self.unix(now);
        if !bond::has_endpoint_proof(self.db.as_ref(), &sender.node_id(), from.ip(), now_unix) {
            self.stats.unbonded += 1;
            return;
        }
        let target = req.target.node_id();
        // Never tell an Internet host about LAN or loopback nodes (relay rules).
        let nodes: Vec<NodeRecord> = self
            .table
            .closest(&target, BUCKET_SIZE)
            .into_iter()
            .map(|n| n.entry.record)
            .filter(|r| check_relay_ip(from.ip(), r.endpoint.ip).is_ok())
            .collect();
        let expiration = self.expiration(now);
        if nodes.is_empty() {
            let reply = Packet::Neighbors(Neighbors {
                nodes: Vec::new(),
                expiration,
            });
            self.send_packet(now, from, &reply);
            return;
        }
        for chunk in nodes.chunks(MAX_NEIGHBORS) {
            let reply = Packet::Neighbors(Neighbors {
                nodes: chunk.to_vec(),
                expiration,
            });
            self.send_packet(now, from, &reply);
        }
    }

    fn on_neighbors(&mut self, now: Instant, from: SocketAddr, sender: PeerId, n: Neighbors) {
        if !self.requests.awaiting_neighbors(&sender.node_id()) {
            self.stats.unsolicited += 1;
            return;
        }
        let count = n.nodes.len();
        let accepted: Vec<NodeRecord> = n
            .nodes
            .into_iter()
            .filter(|r| self.acceptable_neighbor(from.ip(), r))
            .collect();
        match self
            .requests
            .add_neighbors(&sender, from.ip(), count, accepted)
        {
            NeighborsMatch::Unsolicited => self.stats.unsolicited += 1,
            NeighborsMatch::Partial => {}
            NeighborsMatch::Complete(p) => {
                self.on_findnode_done(now, &p.to, p.lookup, p.answered(), p.nodes)
            }
        }
    }

    /// Whether a node `sender` told us about may be used: a real discovery port, an address
    /// the sender may relay, inside netrestrict, not us, and a valid key.
    fn acceptable_neighbor(&self, sender: IpAddr, r: &NodeRecord) -> bool {
        r.endpoint.udp > MIN_NEIGHBOR_UDP_PORT_EXCLUSIVE
            && check_relay_ip(sender, r.endpoint.ip).is_ok()
            && self.allowed(r.endpoint.ip)
            && r.id != self.local_peer
            && r.id.public_key().is_ok()
    }

    /// ENRRequest: answer with our record, only to a bonded sender (EIP-868).
    fn on_enr_request(
        &mut self,
        now: Instant,
        from: SocketAddr,
        sender: PeerId,
        hash: [u8; 32],
        _req: &EnrRequest,
    ) {
        let now_unix = self.unix(now);
        if !bond::has_endpoint_proof(self.db.as_ref(), &sender.node_id(), from.ip(), now_unix) {
            self.stats.unbonded += 1;
            return;
        }
        let reply = Packet::EnrResponse(EnrResponse {
            request_hash: hash,
            record: self.enr.record().clone(),
        });
        self.send_packet(now, from, &reply);
    }

    fn on_enr_response(
        &mut self,
        now: Instant,
        from: SocketAddr,
        sender: PeerId,
        resp: EnrResponse,
    ) {
        let Some(pending) = self
            .requests
            .take_enr(&resp.request_hash, &sender, from.ip())
        else {
            self.stats.unsolicited += 1;
            return;
        };
        if resp.record.public_key() != sender {
            // Someone else's record: the answer is worthless.
            self.stats.invalid += 1;
            self.on_enr_failed(&pending.to, pending.purpose);
            return;
        }
        self.on_enr_received(now, &pending.to, pending.purpose, resp.record);
    }
}

/// Whether a packet's `expiration` lies before `unix_now`. The field is read as a signed
/// 64-bit count of seconds, as go-ethereum's `v4wire.Expired` does: an expiration above
/// `i64::MAX` is a negative time, long past (its conformance suite sends exactly that).
fn is_expired(expiration: u64, unix_now: u64) -> bool {
    let now = i64::try_from(unix_now).unwrap_or(i64::MAX);
    i64::from_ne_bytes(expiration.to_ne_bytes()) < now
}

#[cfg(test)]
mod expiry_tests {
    use super::is_expired;

    #[test]
    fn expiration_is_compared_as_a_signed_number_like_go_ethereum() {
        let now = 1_700_000_000;
        assert!(!is_expired(now + 20, now));
        assert!(is_expired(now - 1, now));
        // `uint64(-(now + 20))`, what devp2p's Ping/PastExpiration sends.
        assert!(is_expired((now + 20).wrapping_neg(), now));
        assert!(is_expired(u64::MAX, now));
        assert!(!is_expired(i64::MAX as u64, now));
    }
}
