//! The per-session secrets derived at the end of the RLPx handshake (devp2p `rlpx.md`,
//! "Secrets"), consumed by the frame codec.

use crate::crypto::keccak::{keccak256_concat, KeccakState};
use crate::types::PeerId;

/// Keys and MAC states for one RLPx session, from the local node's point of view.
#[derive(Clone, Debug)]
pub struct Secrets {
    /// The remote node's static public key, authenticated by the handshake.
    pub remote: PeerId,
    /// AES-256-CTR key of both directions (each direction has its own keystream, IV zero).
    pub aes: [u8; 32],
    /// AES-256 key of the MAC construction.
    pub mac: [u8; 32],
    /// Keccak state of the MAC over frames we send.
    pub egress_mac: KeccakState,
    /// Keccak state of the MAC over frames we receive.
    pub ingress_mac: KeccakState,
}

/// Everything the secret derivation needs, named from the local node's point of view.
#[derive(Debug)]
pub struct SecretInputs<'a> {
    /// True when the local node sent the auth message.
    pub initiator: bool,
    /// X coordinate of ECDH(local ephemeral key, remote ephemeral key).
    pub ephemeral_shared: [u8; 32],
    /// The initiator's nonce (from the auth message).
    pub initiator_nonce: [u8; 32],
    /// The recipient's nonce (from the ack message).
    pub recipient_nonce: [u8; 32],
    /// The auth packet exactly as sent on the wire (with the EIP-8 size prefix if any).
    pub auth_packet: &'a [u8],
    /// The ack packet exactly as sent on the wire (with the EIP-8 size prefix if any).
    pub ack_packet: &'a [u8],
    /// The authenticated remote static key.
    pub remote: PeerId,
}

impl Secrets {
    /// Derives the session secrets:
    /// `shared = keccak(eph ‖ keccak(resp_nonce ‖ init_nonce))`, `aes = keccak(eph ‖ shared)`,
    /// `mac = keccak(eph ‖ aes)`; the initiator's egress MAC starts from
    /// `keccak.update(mac ^ resp_nonce ‖ auth)` and its ingress MAC from
    /// `keccak.update(mac ^ init_nonce ‖ ack)`, the recipient's the other way round.
    pub fn derive(input: &SecretInputs<'_>) -> Self {
        let nonce_hash = keccak256_concat(&[&input.recipient_nonce, &input.initiator_nonce]);
        let shared = keccak256_concat(&[&input.ephemeral_shared, &nonce_hash]);
        let aes = keccak256_concat(&[&input.ephemeral_shared, &shared]);
        let mac = keccak256_concat(&[&input.ephemeral_shared, &aes]);

        let mac_state = |nonce: &[u8; 32], packet: &[u8]| {
            let mut seed = [0u8; 32];
            for ((s, m), n) in seed.iter_mut().zip(&mac).zip(nonce) {
                *s = m ^ n;
            }
            let mut st = KeccakState::new();
            st.update(&seed);
            st.update(packet);
            st
        };
        // MAC of what the initiator sends: seeded with the recipient's nonce and the auth.
        let initiator_egress = mac_state(&input.recipient_nonce, input.auth_packet);
        // MAC of what the recipient sends: seeded with the initiator's nonce and the ack.
        let recipient_egress = mac_state(&input.initiator_nonce, input.ack_packet);
        let (egress_mac, ingress_mac) = if input.initiator {
            (initiator_egress, recipient_egress)
        } else {
            (recipient_egress, initiator_egress)
        };
        Secrets {
            remote: input.remote,
            aes,
            mac,
            egress_mac,
            ingress_mac,
        }
    }
}
