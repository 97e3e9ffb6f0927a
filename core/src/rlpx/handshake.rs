//! The RLPx auth/ack handshake (devp2p `rlpx.md`, EIP-8), as typed states that consume
//! themselves: the initiator is [`AuthSent`] until the ack arrives; the recipient is
//! [`ExpectAuth`] until the auth arrives. Both end in [`Secrets`].
//!
//! We send EIP-8 packets (2-byte size prefix used as ECIES MAC data, 100–199 bytes of random
//! padding). We accept EIP-8 packets with any version, extra list elements and trailing bytes,
//! and also the pre-EIP-8 fixed-size formats (auth 307 bytes, ack 210 bytes). Size prefixes
//! over [`MAX_HANDSHAKE_PACKET_BYTES`] and invalid curve points are rejected.

use secp256k1::SecretKey;

use crate::rlpx::secrets::Secrets;
use crate::rng::MachineRng;
use crate::types::PeerId;

/// Largest EIP-8 size prefix we accept (go-ethereum: 2 KiB).
pub const MAX_HANDSHAKE_PACKET_BYTES: usize = 2048;

/// Why a handshake failed. None of these is caused by the local caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The EIP-8 size prefix exceeds [`MAX_HANDSHAKE_PACKET_BYTES`].
    #[error("handshake packet size {0} exceeds the limit")]
    TooLarge(usize),
    /// ECIES decryption failed (wrong key or corrupted bytes).
    #[error("handshake packet could not be decrypted")]
    Decrypt,
    /// The decrypted body is not a valid auth/ack message.
    #[error("malformed handshake message")]
    Malformed,
    /// A public key in the message is not on the curve.
    #[error("invalid public key in handshake")]
    InvalidPublicKey,
    /// The auth signature does not recover to a valid key.
    #[error("invalid auth signature")]
    InvalidSignature,
}

/// Initiator state after sending auth: waiting for the recipient's ack.
pub struct AuthSent {
    _private: (),
}

/// What the initiator learns when the ack arrives.
#[derive(Debug)]
pub struct AckReceived {
    /// How many bytes of the input the ack occupied.
    pub consumed: usize,
    /// The session secrets.
    pub secrets: Secrets,
    /// The version number in the ack (4 in practice; ignored beyond logging).
    pub remote_version: u64,
    /// Whether the ack was EIP-8 (false: pre-EIP-8 fixed size).
    pub eip8: bool,
}

impl AuthSent {
    /// Starts a handshake to `remote`: fresh ephemeral key and nonce from `rng`; returns the
    /// state and the EIP-8 auth packet to write.
    pub fn new(
        local: &SecretKey,
        remote: &PeerId,
        rng: &mut MachineRng,
    ) -> Result<(Self, Vec<u8>), HandshakeError> {
        let _ = (local, remote, rng);
        todo!("helper A")
    }

    /// As [`AuthSent::new`] with explicit ephemeral key and nonce (for vectors). `eip8 =
    /// false` writes the pre-EIP-8 307-byte format.
    pub fn with_keys(
        local: &SecretKey,
        remote: &PeerId,
        ephemeral: SecretKey,
        nonce: [u8; 32],
        eip8: bool,
        rng: &mut MachineRng,
    ) -> Result<(Self, Vec<u8>), HandshakeError> {
        let _ = (local, remote, ephemeral, nonce, eip8, rng);
        todo!("helper A")
    }

    /// Reads the ack from the front of `buf`. `Ok(None)`: more bytes are needed (nothing is
    /// consumed). `Ok(Some(_))`: the handshake is complete.
    pub fn read_ack(&self, buf: &[u8]) -> Result<Option<AckReceived>, HandshakeError> {
        let _ = buf;
        todo!("helper A")
    }
}

/// Recipient state: waiting for the initiator's auth.
pub struct ExpectAuth {
    _private: (),
}

/// What the recipient learns when the auth arrives.
#[derive(Debug)]
pub struct AuthReceived {
    /// How many bytes of the input the auth occupied.
    pub consumed: usize,
    /// The ack packet to write (EIP-8 if the auth was EIP-8, else pre-EIP-8).
    pub ack: Vec<u8>,
    /// The session secrets.
    pub secrets: Secrets,
    /// The version number in the auth.
    pub remote_version: u64,
    /// Whether the auth was EIP-8.
    pub eip8: bool,
}

impl ExpectAuth {
    /// A recipient with fresh ephemeral key and nonce from `rng`.
    pub fn new(local: SecretKey, rng: &mut MachineRng) -> Self {
        let _ = (local, rng);
        todo!("helper A")
    }

    /// A recipient with explicit ephemeral key and nonce (for vectors).
    pub fn with_keys(local: SecretKey, ephemeral: SecretKey, nonce: [u8; 32]) -> Self {
        let _ = (local, ephemeral, nonce);
        todo!("helper A")
    }

    /// Reads the auth from the front of `buf`. `Ok(None)`: more bytes are needed.
    /// `Ok(Some(_))`: the ack to send and the secrets. `rng` draws the ack's ECIES key, IV and
    /// padding.
    pub fn read_auth(
        &self,
        buf: &[u8],
        rng: &mut MachineRng,
    ) -> Result<Option<AuthReceived>, HandshakeError> {
        let _ = (buf, rng);
        todo!("helper A")
    }
}
