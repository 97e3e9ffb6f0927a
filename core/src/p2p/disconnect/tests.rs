//! Disconnect reason tests. Vectors transcribed from `shared/vectors/p2p_base.json`:
//! go-ethereum `p2p/peer_error.go` (reasons and texts), `p2p/transport_test.go`
//! (`TestProtocolHandshakeErrors`) at 02b73d4e, plus the locally derived empty-payload case.

use super::*;
use proptest::prelude::*;

/// (code, geth name, our variant, geth text) for every defined reason.
const REASONS: &[(u8, &str, DisconnectReason, &str)] = &[
    (
        0x00,
        "DiscRequested",
        DisconnectReason::Requested,
        "disconnect requested",
    ),
    (
        0x01,
        "DiscNetworkError",
        DisconnectReason::NetworkError,
        "network error",
    ),
    (
        0x02,
        "DiscProtocolError",
        DisconnectReason::ProtocolError,
        "breach of protocol",
    ),
    (
        0x03,
        "DiscUselessPeer",
        DisconnectReason::UselessPeer,
        "useless peer",
    ),
    (
        0x04,
        "DiscTooManyPeers",
        DisconnectReason::TooManyPeers,
        "too many peers",
    ),
    (
        0x05,
        "DiscAlreadyConnected",
        DisconnectReason::AlreadyConnected,
        "already connected",
    ),
    (
        0x06,
        "DiscIncompatibleVersion",
        DisconnectReason::IncompatibleVersion,
        "incompatible p2p protocol version",
    ),
    (
        0x07,
        "DiscInvalidIdentity",
        DisconnectReason::InvalidIdentity,
        "invalid node identity",
    ),
    (
        0x08,
        "DiscQuitting",
        DisconnectReason::ClientQuitting,
        "client quitting",
    ),
    (
        0x09,
        "DiscUnexpectedIdentity",
        DisconnectReason::UnexpectedIdentity,
        "unexpected identity",
    ),
    (
        0x0a,
        "DiscSelf",
        DisconnectReason::SelfConnection,
        "connected to self",
    ),
    (
        0x0b,
        "DiscReadTimeout",
        DisconnectReason::ReadTimeout,
        "read timeout",
    ),
    (
        0x10,
        "DiscSubprotocolError",
        DisconnectReason::SubprotocolError,
        "subprotocol error",
    ),
];

#[test]
fn geth_reason_codes_and_texts() {
    for &(code, name, reason, text) in REASONS {
        assert_eq!(reason.code(), code, "{name}");
        assert_eq!(DisconnectReason::from_code(code), reason, "{name}");
        assert_eq!(reason.as_str(), text, "{name}");
        assert_eq!(reason.to_string(), text, "{name}");
        // Our encoding is rlp([code]) and reads back.
        let enc = reason.encode();
        assert_eq!(enc, rlp::encode_list::<u8, u8>(&[code]).to_vec(), "{name}");
        assert_eq!(DisconnectReason::decode(&enc), reason, "{name}");
    }
}

#[test]
fn geth_disc_invalid_is_unknown_ff() {
    // DiscInvalid (0xff) is local-only in geth: our Unknown(0xff).
    let r = DisconnectReason::from_code(0xff);
    assert_eq!(r, DisconnectReason::Unknown(0xff));
    assert_eq!(r.code(), 0xff);
    assert_eq!(r.to_string(), "unknown disconnect reason 0xff");
}

#[test]
fn geth_disconnect_encoding_cases() {
    let h = |s: &str| hex::decode(s).unwrap();
    // Canonical rlp([8]) and legacy bare 08: DiscQuitting.
    assert_eq!(
        DisconnectReason::decode(&h("c108")),
        DisconnectReason::ClientQuitting
    );
    assert_eq!(
        DisconnectReason::decode(&h("08")),
        DisconnectReason::ClientQuitting
    );
    // Empty payload: decoding fails, DiscInvalid (derived from decodeDisconnectMessage).
    assert_eq!(
        DisconnectReason::decode(&[]),
        DisconnectReason::Unknown(0xff)
    );
}

#[test]
fn other_payload_forms() {
    let h = |s: &str| hex::decode(s).unwrap();
    let cases: &[(&str, DisconnectReason)] = &[
        ("c0", DisconnectReason::Unknown(0xff)), // empty list: no reason
        ("80", DisconnectReason::Requested),     // rlp integer 0
        ("c180", DisconnectReason::Requested),   // [0]
        ("00", DisconnectReason::Requested),     // raw byte 0
        ("10", DisconnectReason::SubprotocolError), // raw byte
        ("c110", DisconnectReason::SubprotocolError), // [0x10]
        ("c20809", DisconnectReason::ClientQuitting), // extra list elements ignored
        ("c10c", DisconnectReason::Unknown(0x0c)), // undefined code kept
        ("81ff", DisconnectReason::Unknown(0xff)), // rlp integer 255
        ("820100", DisconnectReason::Unknown(0xff)), // 256 does not fit a reason
        ("c3820100", DisconnectReason::Unknown(0xff)),
        ("c100", DisconnectReason::Unknown(0xff)), // non-canonical integer in a list
        ("81", DisconnectReason::Unknown(0xff)),   // truncated
        ("c2", DisconnectReason::Unknown(0xff)),   // truncated list
        ("c1c0", DisconnectReason::Unknown(0xff)), // reason is a list
    ];
    for (hex, want) in cases {
        assert_eq!(DisconnectReason::decode(&h(hex)), *want, "{hex}");
    }
}

#[test]
fn unknown_codes_round_trip() {
    for code in 0..=u8::MAX {
        let r = DisconnectReason::from_code(code);
        assert_eq!(r.code(), code);
        assert_eq!(DisconnectReason::decode(&r.encode()), r);
    }
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = DisconnectReason::decode(&bytes);
    }
}
