//! What a protocol may do: the [`ProtocolContext`] it is handed on every call, and the
//! [`ProtocolAction`]s it records for the host.

use std::any::Any;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::Instant;

use crate::p2p::{CapId, DisconnectReason};
use crate::peers::ReputationChange;
use crate::types::PeerId;

use super::ProtocolId;

/// Default cap on the actions one protocol may record during one call (one `on_*` or
/// `handle_timeout`). Large enough to answer or broadcast to every peer of a full node
/// (go-ethereum's default of 50 peers, many times over), small enough that a runaway protocol
/// cannot grow the host's queue without bound between two drains.
pub const MAX_ACTIONS_PER_CALL: usize = 1024;

/// Something a protocol asked the host to do, drained with
/// [`ProtocolRegistry::poll_action`](super::ProtocolRegistry::poll_action), in the order the
/// protocols recorded them.
pub enum ProtocolAction {
    /// Hand a message to the peer's session: `Session::send(now, cap, msg_id, payload)`.
    Send {
        /// The protocol that sent it.
        protocol: ProtocolId,
        /// The destination.
        peer: PeerId,
        /// The session's handle of the protocol's negotiated capability.
        cap: CapId,
        /// The message id relative to the capability (checked against its message count).
        msg_id: u64,
        /// The uncompressed payload.
        payload: Vec<u8>,
    },
    /// Close the session with `peer`, sending `reason`.
    Disconnect {
        /// The protocol that asked.
        protocol: ProtocolId,
        /// Who to disconnect.
        peer: PeerId,
        /// The reason to send.
        reason: DisconnectReason,
    },
    /// Change the peer's reputation: `PeerManager::report(now, peer, change)`.
    Report {
        /// The protocol that reported.
        protocol: ProtocolId,
        /// Who behaved (badly or well).
        peer: PeerId,
        /// What it did.
        change: ReputationChange,
    },
    /// A protocol-specific event for the application, which downcasts it to the type the
    /// protocol documents (the core never knows it).
    Event {
        /// The protocol that emitted it.
        protocol: ProtocolId,
        /// The event.
        event: Box<dyn Any + Send>,
    },
}

impl ProtocolAction {
    /// The protocol that recorded this action.
    pub fn protocol(&self) -> ProtocolId {
        match self {
            ProtocolAction::Send { protocol, .. }
            | ProtocolAction::Disconnect { protocol, .. }
            | ProtocolAction::Report { protocol, .. }
            | ProtocolAction::Event { protocol, .. } => *protocol,
        }
    }
}

impl fmt::Debug for ProtocolAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolAction::Send {
                protocol,
                peer,
                cap,
                msg_id,
                payload,
            } => f
                .debug_struct("Send")
                .field("protocol", protocol)
                .field("peer", peer)
                .field("cap", cap)
                .field("msg_id", msg_id)
                .field("len", &payload.len())
                .finish(),
            ProtocolAction::Disconnect {
                protocol,
                peer,
                reason,
            } => f
                .debug_struct("Disconnect")
                .field("protocol", protocol)
                .field("peer", peer)
                .field("reason", reason)
                .finish(),
            ProtocolAction::Report {
                protocol,
                peer,
                change,
            } => f
                .debug_struct("Report")
                .field("protocol", protocol)
                .field("peer", peer)
                .field("change", change)
                .finish(),
            ProtocolAction::Event { protocol, .. } => f
                .debug_struct("Event")
                .field("protocol", protocol)
                .finish_non_exhaustive(),
        }
    }
}

/// A command a protocol issued that was refused. Always the protocol's own mistake, never
/// caused by the peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The peer has not negotiated this protocol (or is gone).
    #[error("peer {0:?} is not connected on this protocol")]
    NotConnected(PeerId),
    /// The message id is beyond the protocol's message count.
    #[error("message id {msg_id} out of range (protocol has {message_count} messages)")]
    MessageIdOutOfRange {
        /// The refused id.
        msg_id: u64,
        /// The protocol's message count.
        message_count: u64,
    },
    /// This call already recorded the maximum number of actions.
    #[error("more than {0} actions in one call")]
    TooManyActions(usize),
}

/// What a protocol may do during one call: send to peers it is connected to, disconnect or
/// report peers, and emit application events. Everything is recorded as a
/// [`ProtocolAction`] for the host; nothing happens until the host drains them.
///
/// A context is bounded: after `max_actions` recorded actions every further command is refused
/// with [`ProtocolError::TooManyActions`].
pub struct ProtocolContext<'a> {
    now: Instant,
    protocol: ProtocolId,
    peers: &'a BTreeMap<PeerId, (CapId, u64)>,
    actions: &'a mut VecDeque<ProtocolAction>,
    recorded: usize,
    max_actions: usize,
}

impl<'a> ProtocolContext<'a> {
    /// A context for `protocol` whose negotiated peers are `peers` (with the message count
    /// of the version each negotiated), recording at most `max_actions` actions into
    /// `actions`.
    pub(crate) fn new(
        now: Instant,
        protocol: ProtocolId,
        peers: &'a BTreeMap<PeerId, (CapId, u64)>,
        actions: &'a mut VecDeque<ProtocolAction>,
        max_actions: usize,
    ) -> Self {
        Self {
            now,
            protocol,
            peers,
            actions,
            recorded: 0,
            max_actions,
        }
    }

    /// The current time, as given by the host.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// This protocol's id in the registry.
    pub fn protocol_id(&self) -> ProtocolId {
        self.protocol
    }

    /// True when `peer` has negotiated this protocol and is still connected.
    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.peers.contains_key(peer)
    }

    /// The peers connected on this protocol, in id order (e.g. to broadcast).
    pub fn peers(&self) -> impl Iterator<Item = &PeerId> + '_ {
        self.peers.keys()
    }

    /// How many more actions this call may record.
    pub fn remaining(&self) -> usize {
        self.max_actions.saturating_sub(self.recorded)
    }

    /// Sends message `msg_id` (relative to this protocol) to `peer`.
    ///
    /// Refused when the peer is not connected on this protocol, the id is out of range for
    /// the version it negotiated, or the call's action budget is spent.
    pub fn send(
        &mut self,
        peer: PeerId,
        msg_id: u64,
        payload: Vec<u8>,
    ) -> Result<(), ProtocolError> {
        let (cap, message_count) = *self
            .peers
            .get(&peer)
            .ok_or(ProtocolError::NotConnected(peer))?;
        if msg_id >= message_count {
            return Err(ProtocolError::MessageIdOutOfRange {
                msg_id,
                message_count,
            });
        }
        self.record(ProtocolAction::Send {
            protocol: self.protocol,
            peer,
            cap,
            msg_id,
            payload,
        })
    }

    /// Asks the host to close the session with `peer`, sending `reason`. The disconnect by
    /// itself costs the peer no reputation, whatever the reason: [`report`](Self::report)
    /// what the peer did.
    pub fn disconnect(
        &mut self,
        peer: PeerId,
        reason: DisconnectReason,
    ) -> Result<(), ProtocolError> {
        self.record(ProtocolAction::Disconnect {
            protocol: self.protocol,
            peer,
            reason,
        })
    }

    /// Reports `peer`'s behaviour to the peer manager's reputation.
    pub fn report(&mut self, peer: PeerId, change: ReputationChange) -> Result<(), ProtocolError> {
        self.record(ProtocolAction::Report {
            protocol: self.protocol,
            peer,
            change,
        })
    }

    /// Emits a protocol-specific event for the application, which downcasts it.
    pub fn emit(&mut self, event: Box<dyn Any + Send>) -> Result<(), ProtocolError> {
        self.record(ProtocolAction::Event {
            protocol: self.protocol,
            event,
        })
    }

    fn record(&mut self, action: ProtocolAction) -> Result<(), ProtocolError> {
        if self.recorded >= self.max_actions {
            return Err(ProtocolError::TooManyActions(self.max_actions));
        }
        self.recorded += 1;
        self.actions.push_back(action);
        Ok(())
    }
}
