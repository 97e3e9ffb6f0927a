//! The set of registered protocols and the routing between them and the sessions.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use crate::p2p::{CapId, Capability, ProtocolSpec, SharedCapabilities};
use crate::types::{Direction, PeerId};

use super::context::{ProtocolAction, ProtocolContext, MAX_ACTIONS_PER_CALL};
use super::{PeerInfo, Protocol};

/// A registered protocol's handle: its registration index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolId(usize);

impl ProtocolId {
    /// The registration index (0 for the first protocol registered).
    pub fn index(self) -> usize {
        self.0
    }
}

/// A refused registration or routing call. Always the host's mistake, never the peer's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A protocol with the same name and version is already registered.
    #[error("protocol {0} is already registered")]
    Duplicate(Capability),
    /// The protocol declares no message ids, so it could never send or receive anything.
    #[error("protocol {0} has no messages")]
    NoMessages(Capability),
    /// The capability name is empty or not ASCII (it could not be sent in Hello).
    #[error("invalid protocol name {0:?}")]
    InvalidName(String),
    /// `on_established` was called twice for the same peer without `on_disconnected`.
    #[error("peer {0:?} is already established")]
    AlreadyEstablished(PeerId),
    /// The peer is not established with the registry.
    #[error("peer {0:?} is not established")]
    UnknownPeer(PeerId),
    /// The capability handle is not one the registry routed for this peer.
    #[error("capability {0:?} is not routed to a protocol for this peer")]
    UnknownCapability(CapId),
}

/// One registered protocol with the peers it is connected to.
struct Entry {
    /// Every version the protocol serves, the primary (first) one included.
    specs: Vec<ProtocolSpec>,
    protocol: Box<dyn Protocol>,
    /// Connected peers: the session's handle of the negotiated capability and that
    /// version's message count.
    peers: BTreeMap<PeerId, (CapId, u64)>,
}

/// The registered protocols of a host, and the routing between them and the sessions.
///
/// Built before start with [`register`](Self::register); then:
/// - **getters**: [`specs`](Self::specs) (for `SessionConfig::protocols`, hence Hello),
///   [`enr_entries`](Self::enr_entries) (for the local ENR), [`is_established`](Self::is_established);
/// - **inputs**, one per session event: [`on_established`](Self::on_established)
///   (`SessionEvent::Established`), [`on_message`](Self::on_message) (`SessionEvent::Message`),
///   [`on_disconnected`](Self::on_disconnected) (`SessionEvent::Closed`), and
///   [`handle_timeout`](Self::handle_timeout);
/// - **outputs**: [`poll_action`](Self::poll_action) / [`drain_actions`](Self::drain_actions),
///   then [`poll_timeout`](Self::poll_timeout).
///
/// After every input the host drains the actions in order: `Send` goes to the peer's session
/// (`Session::send(now, cap, msg_id, payload)`), `Disconnect` to `Session::disconnect`,
/// `Report` to `PeerManager::report`, `Event` to the application. Actions may name a peer whose
/// session has meanwhile closed; the host drops those.
///
/// A peer that shares no registered protocol is the host's business: `on_established` returns 0
/// and keeps no state for it, and the host disconnects it as useless
/// (`DisconnectReason::UselessPeer`), as go-ethereum does. Sessions configured with
/// [`specs`](Self::specs) and `require_shared_capability` already close such peers themselves.
pub struct ProtocolRegistry {
    entries: Vec<Entry>,
    /// Established peers: each negotiated capability routed to its protocol.
    peers: BTreeMap<PeerId, BTreeMap<CapId, ProtocolId>>,
    actions: VecDeque<ProtocolAction>,
    max_actions_per_call: usize,
}

impl Default for ProtocolRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl ProtocolRegistry {
    /// An empty registry allowing [`MAX_ACTIONS_PER_CALL`] actions per protocol call.
    pub fn new() -> Self {
        Self::with_max_actions_per_call(MAX_ACTIONS_PER_CALL)
    }

    /// An empty registry allowing `max` actions per protocol call.
    pub fn with_max_actions_per_call(max: usize) -> Self {
        Self {
            entries: Vec::new(),
            peers: BTreeMap::new(),
            actions: VecDeque::new(),
            max_actions_per_call: max,
        }
    }

    /// Adds a protocol. Refuses a second protocol with the same name and version, one with no
    /// messages, and one whose name could not be sent in Hello. Several versions of one name
    /// (e.g. eth/68 and eth/69) may be registered; negotiation picks the highest shared one.
    pub fn register(&mut self, protocol: Box<dyn Protocol>) -> Result<ProtocolId, RegistryError> {
        let mut specs = vec![protocol.spec()];
        for extra in protocol.specs() {
            if !specs.iter().any(|s| s.cap == extra.cap) {
                specs.push(extra);
            }
        }
        for spec in &specs {
            if spec.cap.name.is_empty() || !spec.cap.name.is_ascii() {
                return Err(RegistryError::InvalidName(spec.cap.name.clone()));
            }
            if spec.message_count == 0 {
                return Err(RegistryError::NoMessages(spec.cap.clone()));
            }
            if self
                .entries
                .iter()
                .any(|e| e.specs.iter().any(|s| s.cap == spec.cap))
            {
                return Err(RegistryError::Duplicate(spec.cap.clone()));
            }
        }
        let id = ProtocolId(self.entries.len());
        self.entries.push(Entry {
            specs,
            protocol,
            peers: BTreeMap::new(),
        });
        Ok(id)
    }

    /// The registered protocols' specs in registration order: what the host advertises in
    /// Hello (`SessionConfig::protocols`).
    pub fn specs(&self) -> Vec<ProtocolSpec> {
        self.entries
            .iter()
            .flat_map(|e| e.specs.iter().cloned())
            .collect()
    }

    /// The ENR entries of every protocol, sorted by key as ENR requires; when two protocols
    /// give the same key, the one registered first wins.
    pub fn enr_entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for e in &self.entries {
            for (k, v) in e.protocol.enr_entries() {
                out.entry(k).or_insert(v);
            }
        }
        out.into_iter().collect()
    }

    /// The primary spec of the protocol registered under `id` (its `spec()`).
    pub fn spec(&self, id: ProtocolId) -> Option<&ProtocolSpec> {
        self.entries.get(id.0).and_then(|e| e.specs.first())
    }

    /// The protocol that serves capability `cap` of `peer`, while `peer` is connected.
    pub fn route(&self, peer: PeerId, cap: CapId) -> Option<ProtocolId> {
        self.peers.get(&peer)?.get(&cap).copied()
    }

    /// Every registered protocol's id and capability name.
    pub fn names(&self) -> impl Iterator<Item = (ProtocolId, String)> + '_ {
        (0..self.entries.len()).filter_map(|i| {
            let id = ProtocolId(i);
            self.spec(id).map(|s| (id, s.cap.name.clone()))
        })
    }

    /// How many protocols are registered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no protocol is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of the protocol registered for `cap` (name and version).
    pub fn find(&self, cap: &Capability) -> Option<ProtocolId> {
        self.entries
            .iter()
            .position(|e| e.specs.iter().any(|s| &s.cap == cap))
            .map(ProtocolId)
    }

    /// The protocol registered under `id`, for getters (downcast it with `Any`).
    pub fn get(&self, id: ProtocolId) -> Option<&dyn Protocol> {
        self.entries.get(id.0).map(|e| e.protocol.as_ref())
    }

    /// Calls `f` on the protocol registered under `id` with a context, as the inputs do: an
    /// application command to a protocol (e.g. "broadcast this transaction"). Drain the
    /// actions afterwards. Returns false for an unknown id.
    pub fn with_protocol<F>(&mut self, now: Instant, id: ProtocolId, f: F) -> bool
    where
        F: FnOnce(&mut dyn Protocol, &mut ProtocolContext<'_>),
    {
        if id.0 >= self.entries.len() {
            return false;
        }
        self.call(now, id.0, f);
        true
    }

    /// True when `peer` is established with at least one protocol.
    pub fn is_established(&self, peer: &PeerId) -> bool {
        self.peers.contains_key(peer)
    }

    /// The session with `peer` is established with the negotiated `caps`: every protocol whose
    /// exact capability (name and negotiated version) was negotiated gets `on_connected`, in
    /// `CapId` order. Returns how many protocols took the peer; 0 means it is useless to us
    /// (see the type's doc) and nothing is kept for it.
    pub fn on_established(
        &mut self,
        now: Instant,
        peer: PeerId,
        direction: Direction,
        caps: &SharedCapabilities,
    ) -> Result<usize, RegistryError> {
        if self.peers.contains_key(&peer) {
            return Err(RegistryError::AlreadyEstablished(peer));
        }
        let mut routes = BTreeMap::new();
        let mut connected = Vec::new();
        for (cap_id, shared) in caps.iter() {
            let Some(index) = self
                .entries
                .iter()
                .position(|e| e.specs.iter().any(|s| s.cap == shared.cap))
            else {
                continue;
            };
            routes.insert(cap_id, ProtocolId(index));
            connected.push((
                index,
                shared.message_count,
                PeerInfo {
                    id: peer,
                    direction,
                    cap: shared.cap.clone(),
                    cap_id,
                },
            ));
        }
        if routes.is_empty() {
            return Ok(0);
        }
        self.peers.insert(peer, routes);
        let count = connected.len();
        for (index, message_count, info) in connected {
            // Registered before the call so the protocol may send at once.
            if let Some(e) = self.entries.get_mut(index) {
                e.peers.insert(peer, (info.cap_id, message_count));
            }
            self.call(now, index, |proto, ctx| {
                proto.on_connected(ctx, peer, &info)
            });
        }
        Ok(count)
    }

    /// A message arrived from `peer` on capability `cap` (`msg_id` relative to it): routed to
    /// the protocol negotiated there.
    pub fn on_message(
        &mut self,
        now: Instant,
        peer: PeerId,
        cap: CapId,
        msg_id: u64,
        payload: &[u8],
    ) -> Result<(), RegistryError> {
        let routes = self
            .peers
            .get(&peer)
            .ok_or(RegistryError::UnknownPeer(peer))?;
        let id = *routes
            .get(&cap)
            .ok_or(RegistryError::UnknownCapability(cap))?;
        self.call(now, id.0, |proto, ctx| {
            proto.on_message(ctx, peer, msg_id, payload)
        });
        Ok(())
    }

    /// The session with `peer` ended: each of its protocols gets `on_disconnected`, in `CapId`
    /// order, after the peer was removed (sends to it are refused). Returns false if the peer
    /// was not established (e.g. it shared nothing).
    pub fn on_disconnected(&mut self, now: Instant, peer: PeerId) -> bool {
        let Some(routes) = self.peers.remove(&peer) else {
            return false;
        };
        for id in routes.into_values() {
            if let Some(e) = self.entries.get_mut(id.0) {
                e.peers.remove(&peer);
            }
            self.call(now, id.0, |proto, ctx| proto.on_disconnected(ctx, peer));
        }
        true
    }

    /// Gives `handle_timeout` to every protocol whose deadline is at or before `now`, in
    /// registration order.
    pub fn handle_timeout(&mut self, now: Instant) {
        for index in 0..self.entries.len() {
            let due = self
                .entries
                .get(index)
                .and_then(|e| e.protocol.poll_timeout())
                .is_some_and(|t| t <= now);
            if due {
                self.call(now, index, |proto, ctx| proto.handle_timeout(ctx, now));
            }
        }
    }

    /// The earliest deadline of all protocols.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.entries
            .iter()
            .filter_map(|e| e.protocol.poll_timeout())
            .min()
    }

    /// The next action, in the order protocols recorded them.
    pub fn poll_action(&mut self) -> Option<ProtocolAction> {
        self.actions.pop_front()
    }

    /// Every pending action, in the order protocols recorded them.
    pub fn drain_actions(&mut self) -> Vec<ProtocolAction> {
        self.actions.drain(..).collect()
    }

    /// Runs `f` on protocol `index` with a fresh context bounded by the per-call action cap.
    fn call<F>(&mut self, now: Instant, index: usize, f: F)
    where
        F: FnOnce(&mut dyn Protocol, &mut ProtocolContext<'_>),
    {
        let Some(entry) = self.entries.get_mut(index) else {
            return;
        };
        let mut ctx = ProtocolContext::new(
            now,
            ProtocolId(index),
            &entry.peers,
            &mut self.actions,
            self.max_actions_per_call,
        );
        f(entry.protocol.as_mut(), &mut ctx);
    }
}
