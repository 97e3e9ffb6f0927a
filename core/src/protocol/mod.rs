//! Pluggable sub-protocols (DESIGN §3): the [`Protocol`] trait a protocol implements, the
//! [`ProtocolContext`] through which it acts, and the [`ProtocolRegistry`] the host builds before
//! start and routes session traffic through.
//!
//! eth and snap are protocols like any other; a user's own protocol plugs in the same way. A
//! protocol never sees a socket, a clock or a session: it is told about peers and messages, is
//! given the time, and records what it wants done as [`ProtocolAction`]s the host drains.
//!
//! - `context.rs`: [`ProtocolContext`], [`ProtocolAction`], [`ProtocolError`].
//! - `registry.rs`: [`ProtocolRegistry`], [`ProtocolId`], [`RegistryError`].

mod context;
mod registry;

use std::time::Instant;

pub use context::{ProtocolAction, ProtocolContext, ProtocolError, MAX_ACTIONS_PER_CALL};
pub use registry::{ProtocolId, ProtocolRegistry, RegistryError};

use crate::p2p::{CapId, Capability, ProtocolSpec};
use crate::types::{Direction, PeerId};

/// What a protocol learns about a peer when its capability has been negotiated with it.
///
/// Not to be confused with [`crate::peers::PeerInfo`], the peer manager's bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer's identity.
    pub id: PeerId,
    /// Who opened the connection.
    pub direction: Direction,
    /// The negotiated capability (this protocol's name and version).
    pub cap: Capability,
    /// The session's handle of that capability (what [`ProtocolAction::Send`] carries).
    pub cap_id: CapId,
}

/// A devp2p sub-protocol, registered with a [`ProtocolRegistry`] before the host starts.
///
/// Methods are inputs (`on_*`, [`handle_timeout`](Self::handle_timeout)), called by the
/// registry with a [`ProtocolContext`] to act through, and getters
/// ([`spec`](Self::spec), [`enr_entries`](Self::enr_entries),
/// [`poll_timeout`](Self::poll_timeout)). The `Any` bound lets the application reach its
/// concrete protocol again through the host (`Host::protocol`). Message ids are relative to the capability
/// (0..`message_count`), never absolute wire ids. Like every machine of the core, an
/// implementation must not read the clock (use [`ProtocolContext::now`]) nor panic on peer
/// input: a bad message becomes a [`ProtocolContext::report`] and/or a
/// [`ProtocolContext::disconnect`].
pub trait Protocol: Send + std::any::Any {
    /// The capability this protocol serves and how many message ids it uses. Must not change
    /// after registration.
    fn spec(&self) -> ProtocolSpec;

    /// Every version this protocol serves, e.g. eth/68 and eth/69 from one instance (the
    /// peer negotiates the highest shared one; [`PeerInfo::cap`] says which). Defaults to
    /// [`spec`](Self::spec) alone; `spec` is always included.
    fn specs(&self) -> Vec<ProtocolSpec> {
        vec![self.spec()]
    }

    /// ENR entries (key, value already RLP-encoded) the host adds to the local record, e.g.
    /// eth's `eth` fork-id entry (EIP-2124). None by default.
    fn enr_entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        Vec::new()
    }

    /// The peer negotiated this protocol's capability; messages may be sent to it from now on.
    fn on_connected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, info: &PeerInfo);

    /// A message of this protocol arrived from `peer`; `msg_id` is relative to the capability.
    fn on_message(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        msg_id: u64,
        payload: &[u8],
    );

    /// The session with `peer` ended; sends to it are refused from now on.
    fn on_disconnected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId);

    /// The deadline from [`poll_timeout`](Self::poll_timeout) has passed (`ctx.now()` ≥ it).
    fn handle_timeout(&mut self, ctx: &mut ProtocolContext<'_>, now: Instant) {
        let _ = (ctx, now);
    }

    /// The protocol's next deadline, if any. None by default.
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

#[cfg(test)]
mod tests;
