//! Disconnect reasons of the devp2p base protocol and the Disconnect message codec.
//!
//! We send `[reason]`. We accept, as peers in the wild send them: the list form, a bare RLP
//! integer, and a single raw byte. Like go-ethereum's `decodeDisconnectMessage`, a payload
//! carrying no reason at all (empty, or an empty list) reads as `DiscInvalid` (0xff).

use std::fmt;

/// The reason carried by a devp2p Disconnect message (codes and texts as go-ethereum's
/// `p2p/peer_error.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// 0x00: the peer asked to disconnect.
    Requested,
    /// 0x01: TCP sub-system error.
    NetworkError,
    /// 0x02: breach of protocol, e.g. a malformed message or bad RLP.
    ProtocolError,
    /// 0x03: no shared capability, or otherwise useless.
    UselessPeer,
    /// 0x04: too many peers.
    TooManyPeers,
    /// 0x05: already connected.
    AlreadyConnected,
    /// 0x06: incompatible p2p protocol version.
    IncompatibleVersion,
    /// 0x07: invalid node identity.
    InvalidIdentity,
    /// 0x08: client quitting.
    ClientQuitting,
    /// 0x09: unexpected identity in handshake.
    UnexpectedIdentity,
    /// 0x0a: connected to self.
    SelfConnection,
    /// 0x0b: read timeout.
    ReadTimeout,
    /// 0x10: some other reason specific to a subprotocol.
    SubprotocolError,
    /// A code outside the known set, kept so it can be logged.
    Unknown(u8),
}

impl DisconnectReason {
    /// The wire code.
    pub fn code(self) -> u8 {
        use DisconnectReason::*;
        match self {
            Requested => 0x00,
            NetworkError => 0x01,
            ProtocolError => 0x02,
            UselessPeer => 0x03,
            TooManyPeers => 0x04,
            AlreadyConnected => 0x05,
            IncompatibleVersion => 0x06,
            InvalidIdentity => 0x07,
            ClientQuitting => 0x08,
            UnexpectedIdentity => 0x09,
            SelfConnection => 0x0a,
            ReadTimeout => 0x0b,
            SubprotocolError => 0x10,
            Unknown(c) => c,
        }
    }

    /// The reason for a wire code.
    pub fn from_code(code: u8) -> Self {
        use DisconnectReason::*;
        match code {
            0x00 => Requested,
            0x01 => NetworkError,
            0x02 => ProtocolError,
            0x03 => UselessPeer,
            0x04 => TooManyPeers,
            0x05 => AlreadyConnected,
            0x06 => IncompatibleVersion,
            0x07 => InvalidIdentity,
            0x08 => ClientQuitting,
            0x09 => UnexpectedIdentity,
            0x0a => SelfConnection,
            0x0b => ReadTimeout,
            0x10 => SubprotocolError,
            c => Unknown(c),
        }
    }

    /// go-ethereum's text for the reason, used in logs and CLI output.
    pub fn as_str(self) -> &'static str {
        use DisconnectReason::*;
        match self {
            Requested => "disconnect requested",
            NetworkError => "network error",
            ProtocolError => "breach of protocol",
            UselessPeer => "useless peer",
            TooManyPeers => "too many peers",
            AlreadyConnected => "already connected",
            IncompatibleVersion => "incompatible p2p protocol version",
            InvalidIdentity => "invalid node identity",
            ClientQuitting => "client quitting",
            UnexpectedIdentity => "unexpected identity",
            SelfConnection => "connected to self",
            ReadTimeout => "read timeout",
            SubprotocolError => "subprotocol error",
            Unknown(_) => "unknown disconnect reason",
        }
    }

    /// The Disconnect payload we send: `rlp([reason])`.
    pub fn encode(self) -> Vec<u8> {
        let mut s = rlp::RlpStream::new_list(1);
        s.append(&self.code());
        s.out().to_vec()
    }

    /// Reads a Disconnect payload in any of the forms peers send. Never fails: an
    /// unintelligible payload, including an empty one or an empty list, yields
    /// [`DisconnectReason::Unknown`] with code 0xff (go-ethereum's `DiscInvalid`), since the
    /// peer is leaving either way. Anything after the reason is ignored.
    pub fn decode(payload: &[u8]) -> Self {
        // A single raw byte below 0x80 is the code itself (also 0x00, which strict RLP
        // would reject as a non-canonical integer).
        if let [b] = payload {
            if *b < 0x80 {
                return Self::from_code(*b);
            }
        }
        let r = rlp::Rlp::new(payload);
        let code = if r.is_list() {
            r.val_at::<u8>(0).ok()
        } else {
            r.as_val::<u8>().ok()
        };
        code.map(Self::from_code)
            .unwrap_or(DisconnectReason::Unknown(0xff))
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::Unknown(c) => write!(f, "unknown disconnect reason {c:#04x}"),
            r => f.write_str(r.as_str()),
        }
    }
}

#[cfg(test)]
mod tests;
