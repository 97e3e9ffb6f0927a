//! Session configuration: identity, advertised protocols and every limit and timeout, with
//! go-ethereum's defaults.

use std::time::Duration;

use secp256k1::SecretKey;

use crate::crypto::keys::peer_id_of;
use crate::p2p::hello::MAX_HELLO_BYTES;
use crate::p2p::{ProtocolSpec, P2P_VERSION};
use crate::rlpx::frame::MAX_FRAME_SIZE;
use crate::types::PeerId;

/// RLPx handshake plus Hello exchange must finish within this (go-ethereum `handshakeTimeout`).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Interval between our p2p Pings (go-ethereum `pingInterval`).
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
/// A session that receives nothing for this long is closed (go-ethereum `frameReadTimeout`).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// A Ping left unanswered for this long closes the session.
pub const PONG_TIMEOUT: Duration = Duration::from_secs(20);
/// After sending Disconnect we keep the connection open this long so it can be read.
pub const DISCONNECT_LINGER: Duration = Duration::from_secs(1);
/// Default cap on bytes queued for sending but not yet handed to the driver.
pub const MAX_QUEUED_SEND_BYTES: usize = 32 * 1024 * 1024;
/// Default cap on events waiting to be polled before input reading pauses.
pub const MAX_PENDING_EVENTS: usize = 256;

/// Everything a [`super::Session`] needs to know about the local node and its limits.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// The local node's static key.
    pub secret_key: SecretKey,
    /// Client id sent in Hello, e.g. `paxeer-p2p/v0.1.0/linux-x86_64`.
    pub client_id: String,
    /// Locally supported sub-protocols, advertised in Hello and negotiated against the peer.
    pub protocols: Vec<ProtocolSpec>,
    /// Listening port announced in Hello (0 if none).
    pub listen_port: u16,
    /// Base protocol version we announce; snappy is used when both sides announce ≥ 5.
    pub p2p_version: u64,
    /// Close the session as a useless peer when no capability is shared.
    pub require_shared_capability: bool,
    /// Time allowed for the RLPx handshake and the Hello exchange.
    pub handshake_timeout: Duration,
    /// Interval between Pings once established.
    pub ping_interval: Duration,
    /// Time a Ping may stay unanswered.
    pub pong_timeout: Duration,
    /// Time without any received frame after which the session is closed.
    pub idle_timeout: Duration,
    /// How long a locally initiated close keeps the connection open after Disconnect.
    pub disconnect_linger: Duration,
    /// Largest Hello payload accepted.
    pub max_hello_bytes: usize,
    /// Largest frame and largest decompressed message accepted (≤ 2^24−1).
    pub max_message_bytes: usize,
    /// Cap on queued outgoing bytes; beyond it `send` refuses and reading pauses.
    pub max_queued_send_bytes: usize,
    /// Cap on unpolled events; beyond it reading pauses.
    pub max_pending_events: usize,
}

impl SessionConfig {
    /// A configuration with go-ethereum's defaults for `secret_key`, advertising `protocols`.
    pub fn new(
        secret_key: SecretKey,
        client_id: impl Into<String>,
        protocols: Vec<ProtocolSpec>,
    ) -> Self {
        Self {
            secret_key,
            client_id: client_id.into(),
            protocols,
            listen_port: 0,
            p2p_version: P2P_VERSION,
            require_shared_capability: true,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            ping_interval: PING_INTERVAL,
            pong_timeout: PONG_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            disconnect_linger: DISCONNECT_LINGER,
            max_hello_bytes: MAX_HELLO_BYTES,
            max_message_bytes: MAX_FRAME_SIZE,
            max_queued_send_bytes: MAX_QUEUED_SEND_BYTES,
            max_pending_events: MAX_PENDING_EVENTS,
        }
    }

    /// The local node's public identity.
    pub fn local_id(&self) -> PeerId {
        peer_id_of(&self.secret_key)
    }
}
