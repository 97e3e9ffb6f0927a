//! The RLPx auth/ack handshake (devp2p `rlpx.md`, EIP-8), as typed states that consume
//! themselves: the initiator is [`AuthSent`] until the ack arrives; the recipient is
//! [`ExpectAuth`] until the auth arrives. Both end in [`Secrets`].
//!
//! We send EIP-8 packets (2-byte size prefix used as ECIES MAC data, 100–199 bytes of random
//! padding). We accept EIP-8 packets with any version, extra list elements and trailing bytes,
//! and also the pre-EIP-8 fixed-size formats (auth 307 bytes, ack 210 bytes). Size prefixes
//! over [`MAX_HANDSHAKE_PACKET_BYTES`] and invalid curve points are rejected.
//!
//! Telling the two formats apart on a stream: a pre-EIP-8 packet starts with `0x04` (the
//! ECIES ephemeral key prefix). When the buffer starts with `0x04` and holds at least the
//! pre-EIP-8 length, that many bytes are tried as a pre-EIP-8 packet first; if they do not
//! decrypt, the buffer is read as an EIP-8 packet (whose size prefix then reads 1024–1279).

use rlp::{Rlp, RlpStream};
use secp256k1::{PublicKey, SecretKey};

use crate::crypto::ecies::{self, EciesError, ECIES_OVERHEAD};
use crate::crypto::keccak::keccak256;
use crate::crypto::keys::{
    ecdh_x, generate_secret_key, peer_id_of, public_key_bytes, public_key_from_bytes, recover,
    sign_recoverable, KeyError,
};
use crate::rlpx::secrets::{SecretInputs, Secrets};
use crate::rng::MachineRng;
use crate::types::PeerId;

/// Largest EIP-8 size prefix we accept (go-ethereum: 2 KiB).
pub const MAX_HANDSHAKE_PACKET_BYTES: usize = 2048;

/// Length of a pre-EIP-8 auth packet: ECIES over
/// `sig(65) ‖ keccak256(ephemeral-pubk)(32) ‖ pubk(64) ‖ nonce(32) ‖ 0x00`.
pub const LEGACY_AUTH_LEN: usize = 65 + 32 + 64 + 32 + 1 + ECIES_OVERHEAD;

/// Length of a pre-EIP-8 ack packet: ECIES over `ephemeral-pubk(64) ‖ nonce(32) ‖ 0x00`.
pub const LEGACY_ACK_LEN: usize = 64 + 32 + 1 + ECIES_OVERHEAD;

/// Smallest number of random padding bytes we append to an EIP-8 body.
pub const MIN_PADDING: usize = 100;

/// Largest number of random padding bytes we append to an EIP-8 body.
pub const MAX_PADDING: usize = 199;

/// The auth/ack version we send.
const HANDSHAKE_VERSION: u64 = 4;

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

impl From<KeyError> for HandshakeError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::InvalidSignature => HandshakeError::InvalidSignature,
            _ => HandshakeError::InvalidPublicKey,
        }
    }
}

impl From<EciesError> for HandshakeError {
    fn from(e: EciesError) -> Self {
        match e {
            EciesError::InvalidPublicKey => HandshakeError::InvalidPublicKey,
            _ => HandshakeError::Decrypt,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Message bodies.

/// A decoded auth message (either format).
#[derive(Debug, Clone, PartialEq, Eq)]
struct AuthMsg {
    /// `R ‖ S ‖ V` by the initiator's ephemeral key over `static-shared-secret ^ nonce`.
    signature: [u8; 65],
    /// The initiator's static public key.
    initiator: [u8; 64],
    /// The initiator's nonce.
    nonce: [u8; 32],
    /// The auth version (4 for pre-EIP-8 packets).
    version: u64,
    /// Pre-EIP-8 only: the initiator's commitment `keccak256(ephemeral-pubk)`.
    ephemeral_hash: Option<[u8; 32]>,
}

/// A decoded ack message (either format).
#[derive(Debug, Clone, PartialEq, Eq)]
struct AckMsg {
    /// The recipient's ephemeral public key.
    ephemeral: [u8; 64],
    /// The recipient's nonce.
    nonce: [u8; 32],
    /// The ack version (4 for pre-EIP-8 packets).
    version: u64,
}

/// The RLP list at the front of `plain`, cut to its own length (trailing padding ignored).
fn rlp_list(plain: &[u8]) -> Result<Rlp<'_>, HandshakeError> {
    let outer = Rlp::new(plain);
    if !outer.is_list() {
        return Err(HandshakeError::Malformed);
    }
    let info = outer
        .payload_info()
        .map_err(|_| HandshakeError::Malformed)?;
    let exact = plain.get(..info.total()).ok_or(HandshakeError::Malformed)?;
    Ok(Rlp::new(exact))
}

/// The byte string at `index` of `list`.
fn rlp_bytes<'a>(list: &Rlp<'a>, index: usize) -> Result<&'a [u8], HandshakeError> {
    let item = list.at(index).map_err(|_| HandshakeError::Malformed)?;
    if !item.is_data() {
        return Err(HandshakeError::Malformed);
    }
    item.data().map_err(|_| HandshakeError::Malformed)
}

/// The fixed-length byte string at `index` of `list`.
fn rlp_fixed<const N: usize>(list: &Rlp<'_>, index: usize) -> Result<[u8; N], HandshakeError> {
    rlp_bytes(list, index)?
        .try_into()
        .map_err(|_| HandshakeError::Malformed)
}

/// The version number at `index` of `list`. Any byte string is accepted (leading zeros
/// ignored); values beyond 64 bits saturate, as the version only matters for logging.
fn rlp_version(list: &Rlp<'_>, index: usize) -> Result<u64, HandshakeError> {
    let bytes = rlp_bytes(list, index)?;
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let significant = bytes.get(start..).unwrap_or(&[]);
    if significant.len() > 8 {
        return Ok(u64::MAX);
    }
    Ok(significant
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Splits `N` bytes off the front of `bytes`.
fn take<const N: usize>(bytes: &mut &[u8]) -> Result<[u8; N], HandshakeError> {
    let (head, tail) = bytes.split_at_checked(N).ok_or(HandshakeError::Malformed)?;
    *bytes = tail;
    head.try_into().map_err(|_| HandshakeError::Malformed)
}

/// Decodes an EIP-8 auth body: `[sig, initiator-pubk, initiator-nonce, auth-vsn, ...]`
/// followed by anything.
fn decode_auth_eip8(plain: &[u8]) -> Result<AuthMsg, HandshakeError> {
    let list = rlp_list(plain)?;
    Ok(AuthMsg {
        signature: rlp_fixed(&list, 0)?,
        initiator: rlp_fixed(&list, 1)?,
        nonce: rlp_fixed(&list, 2)?,
        version: rlp_version(&list, 3)?,
        ephemeral_hash: None,
    })
}

/// Decodes a pre-EIP-8 auth body:
/// `sig(65) ‖ keccak256(ephemeral-pubk)(32) ‖ pubk(64) ‖ nonce(32) ‖ token-flag(1)`.
fn decode_auth_legacy(plain: &[u8]) -> Result<AuthMsg, HandshakeError> {
    let mut rest = plain;
    let signature = take::<65>(&mut rest)?;
    let ephemeral_hash = take::<32>(&mut rest)?;
    let initiator = take::<64>(&mut rest)?;
    let nonce = take::<32>(&mut rest)?;
    // The token flag (0: no session token) is ignored: nobody resumes sessions.
    let _flag = take::<1>(&mut rest)?;
    Ok(AuthMsg {
        signature,
        initiator,
        nonce,
        version: HANDSHAKE_VERSION,
        ephemeral_hash: Some(ephemeral_hash),
    })
}

/// Decodes an EIP-8 ack body: `[recipient-ephemeral-pubk, recipient-nonce, ack-vsn, ...]`
/// followed by anything.
fn decode_ack_eip8(plain: &[u8]) -> Result<AckMsg, HandshakeError> {
    let list = rlp_list(plain)?;
    Ok(AckMsg {
        ephemeral: rlp_fixed(&list, 0)?,
        nonce: rlp_fixed(&list, 1)?,
        version: rlp_version(&list, 2)?,
    })
}

/// Decodes a pre-EIP-8 ack body: `ephemeral-pubk(64) ‖ nonce(32) ‖ token-flag(1)`.
fn decode_ack_legacy(plain: &[u8]) -> Result<AckMsg, HandshakeError> {
    let mut rest = plain;
    let ephemeral = take::<64>(&mut rest)?;
    let nonce = take::<32>(&mut rest)?;
    let _flag = take::<1>(&mut rest)?;
    Ok(AckMsg {
        ephemeral,
        nonce,
        version: HANDSHAKE_VERSION,
    })
}

// ---------------------------------------------------------------------------------------------
// Packets.

/// A decrypted handshake packet.
struct Opened {
    /// The ECIES plaintext.
    plain: Vec<u8>,
    /// Bytes of the input the packet occupied (with the size prefix, if any).
    consumed: usize,
    /// Whether the packet was EIP-8.
    eip8: bool,
}

/// Finds and decrypts the handshake packet at the front of `buf`; `legacy_len` is the size
/// of the pre-EIP-8 form. `Ok(None)`: more bytes are needed.
fn open_packet(
    sk: &SecretKey,
    buf: &[u8],
    legacy_len: usize,
) -> Result<Option<Opened>, HandshakeError> {
    if buf.first() == Some(&0x04) {
        if let Some(legacy) = buf.get(..legacy_len) {
            if let Ok(plain) = ecies::decrypt(sk, legacy, &[]) {
                return Ok(Some(Opened {
                    plain,
                    consumed: legacy_len,
                    eip8: false,
                }));
            }
        }
    }
    let Some(&[hi, lo]) = buf.get(..2) else {
        return Ok(None);
    };
    let size = usize::from(u16::from_be_bytes([hi, lo]));
    if size > MAX_HANDSHAKE_PACKET_BYTES {
        return Err(HandshakeError::TooLarge(size));
    }
    let Some(packet) = buf.get(..2 + size) else {
        return Ok(None);
    };
    let (prefix, body) = packet
        .split_at_checked(2)
        .ok_or(HandshakeError::Malformed)?;
    let plain = ecies::decrypt(sk, body, prefix)?;
    Ok(Some(Opened {
        plain,
        consumed: 2 + size,
        eip8: true,
    }))
}

/// Finds, decrypts and decodes the auth packet at the front of `buf`.
fn open_auth(sk: &SecretKey, buf: &[u8]) -> Result<Option<(AuthMsg, usize, bool)>, HandshakeError> {
    let Some(opened) = open_packet(sk, buf, LEGACY_AUTH_LEN)? else {
        return Ok(None);
    };
    let msg = if opened.eip8 {
        decode_auth_eip8(&opened.plain)?
    } else {
        decode_auth_legacy(&opened.plain)?
    };
    Ok(Some((msg, opened.consumed, opened.eip8)))
}

/// Finds, decrypts and decodes the ack packet at the front of `buf`.
fn open_ack(sk: &SecretKey, buf: &[u8]) -> Result<Option<(AckMsg, usize, bool)>, HandshakeError> {
    let Some(opened) = open_packet(sk, buf, LEGACY_ACK_LEN)? else {
        return Ok(None);
    };
    let msg = if opened.eip8 {
        decode_ack_eip8(&opened.plain)?
    } else {
        decode_ack_legacy(&opened.plain)?
    };
    Ok(Some((msg, opened.consumed, opened.eip8)))
}

/// Seals `body` to `remote` as an EIP-8 packet: `size ‖ ecies(body ‖ padding)`, with the
/// size prefix as ECIES MAC data and 100–199 random padding bytes.
fn seal_eip8(
    remote: &PublicKey,
    mut body: Vec<u8>,
    rng: &mut MachineRng,
) -> Result<Vec<u8>, HandshakeError> {
    let pad_len = usize::try_from(rng.range_inclusive(MIN_PADDING as u64, MAX_PADDING as u64))
        .unwrap_or(MIN_PADDING);
    let start = body.len();
    body.resize(start + pad_len, 0);
    if let Some(padding) = body.get_mut(start..) {
        rng.fill(padding);
    }
    let size = body.len() + ECIES_OVERHEAD;
    let prefix = u16::try_from(size)
        .map_err(|_| HandshakeError::TooLarge(size))?
        .to_be_bytes();
    let mut packet = Vec::with_capacity(2 + size);
    packet.extend_from_slice(&prefix);
    ecies::encrypt(remote, &body, &prefix, rng, &mut packet);
    Ok(packet)
}

/// Seals `body` to `remote` as a pre-EIP-8 packet: bare ECIES, no MAC data.
fn seal_legacy(remote: &PublicKey, body: &[u8], rng: &mut MachineRng) -> Vec<u8> {
    let mut packet = Vec::with_capacity(body.len() + ECIES_OVERHEAD);
    ecies::encrypt(remote, body, &[], rng, &mut packet);
    packet
}

/// `a ^ b`, bytewise.
fn xor32(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for ((o, x), y) in out.iter_mut().zip(a.iter()).zip(b.iter()) {
        *o = x ^ y;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Initiator.

/// Initiator state after sending auth: waiting for the recipient's ack.
pub struct AuthSent {
    /// Our static key (to open the ack).
    local: SecretKey,
    /// The recipient's static key.
    remote: PeerId,
    /// Our ephemeral key.
    ephemeral: SecretKey,
    /// Our nonce.
    nonce: [u8; 32],
    /// The auth packet exactly as written (MAC seed).
    auth_packet: Vec<u8>,
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
        let ephemeral = generate_secret_key(rng);
        let nonce = rng.bytes32();
        Self::with_keys(local, remote, ephemeral, nonce, true, rng)
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
        let remote_pk = remote
            .public_key()
            .map_err(|_| HandshakeError::InvalidPublicKey)?;
        let static_shared = ecdh_x(&remote_pk, local);
        let signature = sign_recoverable(&xor32(&static_shared, &nonce), &ephemeral);
        let local_id = peer_id_of(local);

        let auth_packet = if eip8 {
            let mut s = RlpStream::new_list(4);
            s.append(&&signature[..]);
            s.append(&&local_id.0[..]);
            s.append(&&nonce[..]);
            s.append(&HANDSHAKE_VERSION);
            seal_eip8(&remote_pk, s.out().to_vec(), rng)?
        } else {
            let ephemeral_id = peer_id_of(&ephemeral);
            let mut body = Vec::with_capacity(LEGACY_AUTH_LEN - ECIES_OVERHEAD);
            body.extend_from_slice(&signature);
            body.extend_from_slice(&keccak256(&ephemeral_id.0));
            body.extend_from_slice(&local_id.0);
            body.extend_from_slice(&nonce);
            body.push(0x00);
            seal_legacy(&remote_pk, &body, rng)
        };
        let state = AuthSent {
            local: *local,
            remote: *remote,
            ephemeral,
            nonce,
            auth_packet: auth_packet.clone(),
        };
        Ok((state, auth_packet))
    }

    /// Reads the ack from the front of `buf`. `Ok(None)`: more bytes are needed (nothing is
    /// consumed). `Ok(Some(_))`: the handshake is complete.
    pub fn read_ack(&self, buf: &[u8]) -> Result<Option<AckReceived>, HandshakeError> {
        let Some((ack, consumed, eip8)) = open_ack(&self.local, buf)? else {
            return Ok(None);
        };
        let ack_packet = buf.get(..consumed).ok_or(HandshakeError::Malformed)?;
        let remote_ephemeral = public_key_from_bytes(&ack.ephemeral)?;
        let secrets = Secrets::derive(&SecretInputs {
            initiator: true,
            ephemeral_shared: ecdh_x(&remote_ephemeral, &self.ephemeral),
            initiator_nonce: self.nonce,
            recipient_nonce: ack.nonce,
            auth_packet: &self.auth_packet,
            ack_packet,
            remote: self.remote,
        });
        Ok(Some(AckReceived {
            consumed,
            secrets,
            remote_version: ack.version,
            eip8,
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// Recipient.

/// Recipient state: waiting for the initiator's auth.
pub struct ExpectAuth {
    /// Our static key (to open the auth).
    local: SecretKey,
    /// Our ephemeral key.
    ephemeral: SecretKey,
    /// Our nonce.
    nonce: [u8; 32],
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
        let ephemeral = generate_secret_key(rng);
        let nonce = rng.bytes32();
        Self::with_keys(local, ephemeral, nonce)
    }

    /// A recipient with explicit ephemeral key and nonce (for vectors).
    pub fn with_keys(local: SecretKey, ephemeral: SecretKey, nonce: [u8; 32]) -> Self {
        ExpectAuth {
            local,
            ephemeral,
            nonce,
        }
    }

    /// Reads the auth from the front of `buf`. `Ok(None)`: more bytes are needed.
    /// `Ok(Some(_))`: the ack to send and the secrets. `rng` draws the ack's ECIES key, IV and
    /// padding.
    pub fn read_auth(
        &self,
        buf: &[u8],
        rng: &mut MachineRng,
    ) -> Result<Option<AuthReceived>, HandshakeError> {
        let Some((auth, consumed, eip8)) = open_auth(&self.local, buf)? else {
            return Ok(None);
        };
        let auth_packet = buf.get(..consumed).ok_or(HandshakeError::Malformed)?;

        let initiator_pk = public_key_from_bytes(&auth.initiator)?;
        let static_shared = ecdh_x(&initiator_pk, &self.local);
        let remote_ephemeral = recover(&xor32(&static_shared, &auth.nonce), &auth.signature)
            .map_err(|_| HandshakeError::InvalidSignature)?;
        let remote_ephemeral_bytes = public_key_bytes(&remote_ephemeral);
        if let Some(hash) = auth.ephemeral_hash {
            if keccak256(&remote_ephemeral_bytes) != hash {
                return Err(HandshakeError::InvalidSignature);
            }
        }

        let our_ephemeral = peer_id_of(&self.ephemeral);
        let ack = if eip8 {
            let mut s = RlpStream::new_list(3);
            s.append(&&our_ephemeral.0[..]);
            s.append(&&self.nonce[..]);
            s.append(&HANDSHAKE_VERSION);
            seal_eip8(&initiator_pk, s.out().to_vec(), rng)?
        } else {
            let mut body = Vec::with_capacity(LEGACY_ACK_LEN - ECIES_OVERHEAD);
            body.extend_from_slice(&our_ephemeral.0);
            body.extend_from_slice(&self.nonce);
            body.push(0x00);
            seal_legacy(&initiator_pk, &body, rng)
        };

        let secrets = Secrets::derive(&SecretInputs {
            initiator: false,
            ephemeral_shared: ecdh_x(&remote_ephemeral, &self.ephemeral),
            initiator_nonce: auth.nonce,
            recipient_nonce: self.nonce,
            auth_packet,
            ack_packet: &ack,
            remote: PeerId(auth.initiator),
        });
        Ok(Some(AuthReceived {
            consumed,
            ack,
            secrets,
            remote_version: auth.version,
            eip8,
        }))
    }
}

#[cfg(test)]
#[path = "handshake_vectors.rs"]
mod vectors;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::types::Seed;

    struct Pair {
        a: SecretKey,
        b: SecretKey,
    }

    fn pair(rng: &mut MachineRng) -> Pair {
        Pair {
            a: generate_secret_key(rng),
            b: generate_secret_key(rng),
        }
    }

    /// Runs a full handshake A → B and checks both sides agree.
    fn run_handshake(seed: [u8; 32], eip8: bool) -> (AckReceived, AuthReceived) {
        let mut rng = MachineRng::new(Seed(seed));
        let keys = pair(&mut rng);
        let b_id = peer_id_of(&keys.b);
        let (initiator, auth) = if eip8 {
            AuthSent::new(&keys.a, &b_id, &mut rng).unwrap()
        } else {
            let eph = generate_secret_key(&mut rng);
            let nonce = rng.bytes32();
            AuthSent::with_keys(&keys.a, &b_id, eph, nonce, false, &mut rng).unwrap()
        };
        let recipient = ExpectAuth::new(keys.b, &mut rng);
        let at_b = recipient.read_auth(&auth, &mut rng).unwrap().unwrap();
        assert_eq!(at_b.consumed, auth.len());
        assert_eq!(at_b.eip8, eip8);
        assert_eq!(at_b.remote_version, HANDSHAKE_VERSION);
        let at_a = initiator.read_ack(&at_b.ack).unwrap().unwrap();
        assert_eq!(at_a.consumed, at_b.ack.len());
        assert_eq!(at_a.eip8, eip8);
        assert_eq!(at_a.remote_version, HANDSHAKE_VERSION);

        let (sa, sb) = (&at_a.secrets, &at_b.secrets);
        assert_eq!(sa.remote, b_id);
        assert_eq!(sb.remote, peer_id_of(&keys.a));
        assert_eq!(sa.aes, sb.aes);
        assert_eq!(sa.mac, sb.mac);
        assert_eq!(sa.egress_mac.digest(), sb.ingress_mac.digest());
        assert_eq!(sa.ingress_mac.digest(), sb.egress_mac.digest());
        assert_ne!(sa.egress_mac.digest(), sa.ingress_mac.digest());
        (at_a, at_b)
    }

    /// Padding bytes after the RLP list of an EIP-8 packet we wrote.
    fn padding_of(sk: &SecretKey, packet: &[u8]) -> usize {
        let plain = ecies::decrypt(sk, &packet[2..], &packet[..2]).unwrap();
        let list = rlp_list(&plain).unwrap();
        plain.len() - list.as_raw().len()
    }

    #[test]
    fn eip8_round_trip_derives_matching_secrets() {
        for i in 0..8u8 {
            run_handshake([i; 32], true);
        }
    }

    #[test]
    fn legacy_round_trip_derives_matching_secrets() {
        for i in 0..4u8 {
            let (_, at_b) = run_handshake([i; 32], false);
            assert_eq!(at_b.ack.len(), LEGACY_ACK_LEN);
        }
    }

    #[test]
    fn legacy_auth_is_307_bytes_without_prefix() {
        let mut rng = MachineRng::new(Seed([9; 32]));
        let keys = pair(&mut rng);
        let eph = generate_secret_key(&mut rng);
        let (_, auth) =
            AuthSent::with_keys(&keys.a, &peer_id_of(&keys.b), eph, [1; 32], false, &mut rng)
                .unwrap();
        assert_eq!(auth.len(), 307);
        assert_eq!(auth[0], 0x04);
        assert_eq!(ecies::decrypt(&keys.b, &auth, &[]).unwrap().len(), 194);
    }

    #[test]
    fn padding_of_our_auth_and_ack_is_100_to_199_bytes() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..40u8 {
            let mut rng = MachineRng::new(Seed([i.wrapping_mul(7); 32]));
            let keys = pair(&mut rng);
            let (_, auth) = AuthSent::new(&keys.a, &peer_id_of(&keys.b), &mut rng).unwrap();
            let auth_pad = padding_of(&keys.b, &auth);
            assert!(
                (MIN_PADDING..=MAX_PADDING).contains(&auth_pad),
                "{auth_pad}"
            );
            // Body 169 bytes (rlp list of 65 + 64 + 32 byte strings and version 4).
            assert_eq!(auth.len(), 2 + ECIES_OVERHEAD + 169 + auth_pad);
            assert_eq!(
                usize::from(u16::from_be_bytes([auth[0], auth[1]])),
                auth.len() - 2
            );
            let got = ExpectAuth::new(keys.b, &mut rng)
                .read_auth(&auth, &mut rng)
                .unwrap()
                .unwrap();
            let ack_pad = padding_of(&keys.a, &got.ack);
            assert!((MIN_PADDING..=MAX_PADDING).contains(&ack_pad), "{ack_pad}");
            // Body 102 bytes (rlp list of 64 + 32 byte strings and version 4).
            assert_eq!(got.ack.len(), 2 + ECIES_OVERHEAD + 102 + ack_pad);
            seen.insert(auth_pad);
            seen.insert(ack_pad);
        }
        // The length varies.
        assert!(seen.len() > 10);
    }

    #[test]
    fn our_packets_stream_and_leave_trailing_bytes() {
        let mut rng = MachineRng::new(Seed([11; 32]));
        let keys = pair(&mut rng);
        let (initiator, auth) = AuthSent::new(&keys.a, &peer_id_of(&keys.b), &mut rng).unwrap();
        let recipient = ExpectAuth::new(keys.b, &mut rng);
        for n in 0..auth.len() {
            assert!(recipient.read_auth(&auth[..n], &mut rng).unwrap().is_none());
        }
        let mut more = auth.clone();
        more.extend_from_slice(b"next frame");
        let got = recipient.read_auth(&more, &mut rng).unwrap().unwrap();
        assert_eq!(got.consumed, auth.len());
        for n in 0..got.ack.len() {
            assert!(initiator.read_ack(&got.ack[..n]).unwrap().is_none());
        }
        let mut more = got.ack.clone();
        more.extend_from_slice(b"next frame");
        assert_eq!(
            initiator.read_ack(&more).unwrap().unwrap().consumed,
            got.ack.len()
        );
    }

    #[test]
    fn size_prefix_over_the_limit_is_too_large() {
        let mut rng = MachineRng::new(Seed([12; 32]));
        let keys = pair(&mut rng);
        let (initiator, _) = AuthSent::new(&keys.a, &peer_id_of(&keys.b), &mut rng).unwrap();
        let recipient = ExpectAuth::new(keys.b, &mut rng);
        // 2049 = 0x0801.
        assert_eq!(
            recipient.read_auth(&[0x08, 0x01], &mut rng).unwrap_err(),
            HandshakeError::TooLarge(2049)
        );
        assert_eq!(
            initiator.read_ack(&[0x08, 0x01, 0, 0]).unwrap_err(),
            HandshakeError::TooLarge(2049)
        );
        assert_eq!(
            initiator.read_ack(&[0xff, 0xff]).unwrap_err(),
            HandshakeError::TooLarge(65535)
        );
        // 2048 is allowed: wait for it.
        assert!(recipient
            .read_auth(&[0x08, 0x00], &mut rng)
            .unwrap()
            .is_none());
        assert!(initiator
            .read_ack(&[0x08, 0x00, 1, 2, 3])
            .unwrap()
            .is_none());
        // A single byte is not enough to tell.
        assert!(recipient.read_auth(&[0x08], &mut rng).unwrap().is_none());
        assert!(initiator.read_ack(&[]).unwrap().is_none());
    }

    #[test]
    fn flipped_byte_is_a_decrypt_error() {
        let mut rng = MachineRng::new(Seed([13; 32]));
        let keys = pair(&mut rng);
        let (initiator, auth) = AuthSent::new(&keys.a, &peer_id_of(&keys.b), &mut rng).unwrap();
        let recipient = ExpectAuth::new(keys.b, &mut rng);
        let ok = recipient.read_auth(&auth, &mut rng).unwrap().unwrap();
        // IV, ciphertext, tag; the size prefix too (it is MAC data).
        for i in [
            0usize,
            1,
            2 + 65,
            2 + 65 + 16,
            auth.len() / 2,
            auth.len() - 1,
        ] {
            let mut bad = auth.clone();
            bad[i] ^= 0x01;
            let res = recipient.read_auth(&bad, &mut rng);
            if i < 2 {
                // A changed prefix changes the length too: wait for more, or too short.
                assert!(
                    matches!(res, Ok(None) | Err(HandshakeError::Decrypt)),
                    "{i}"
                );
                continue;
            }
            assert_eq!(res.unwrap_err(), HandshakeError::Decrypt, "byte {i}");
        }
        let mut bad = ok.ack.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x01;
        assert_eq!(
            initiator.read_ack(&bad).unwrap_err(),
            HandshakeError::Decrypt
        );
        // The ack is not for B.
        let mut rng2 = MachineRng::new(Seed([14; 32]));
        let stranger = ExpectAuth::new(generate_secret_key(&mut rng2), &mut rng2);
        assert_eq!(
            stranger.read_auth(&auth, &mut rng2).unwrap_err(),
            HandshakeError::Decrypt
        );
    }

    #[test]
    fn tiny_eip8_packet_is_a_decrypt_error() {
        let mut rng = MachineRng::new(Seed([15; 32]));
        let recipient = ExpectAuth::new(generate_secret_key(&mut rng), &mut rng);
        assert_eq!(
            recipient
                .read_auth(&[0x00, 0x03, 1, 2, 3], &mut rng)
                .unwrap_err(),
            HandshakeError::Decrypt
        );
        assert_eq!(
            recipient.read_auth(&[0x00, 0x00], &mut rng).unwrap_err(),
            HandshakeError::Decrypt
        );
    }

    /// Seals an arbitrary EIP-8 body to `to`.
    fn sealed(to: &SecretKey, body: Vec<u8>, rng: &mut MachineRng) -> Vec<u8> {
        let to_pk = PublicKey::from_secret_key(crate::crypto::keys::secp(), to);
        seal_eip8(&to_pk, body, rng).unwrap()
    }

    fn auth_body(sig: &[u8], pubk: &[u8], nonce: &[u8], extra: &[&[u8]]) -> Vec<u8> {
        let mut s = RlpStream::new_list(4 + extra.len());
        s.append(&sig);
        s.append(&pubk);
        s.append(&nonce);
        s.append(&4u64);
        for e in extra {
            s.append(e);
        }
        s.out().to_vec()
    }

    #[test]
    fn off_curve_keys_are_rejected() {
        let mut rng = MachineRng::new(Seed([16; 32]));
        let keys = pair(&mut rng);
        // Initiator static key off the curve.
        let recipient = ExpectAuth::new(keys.b, &mut rng);
        let packet = sealed(
            &keys.b,
            auth_body(&[0; 65], &[1; 64], &[2; 32], &[]),
            &mut rng,
        );
        assert_eq!(
            recipient.read_auth(&packet, &mut rng).unwrap_err(),
            HandshakeError::InvalidPublicKey
        );
        // Recipient ephemeral key off the curve.
        let (initiator, _) = AuthSent::new(&keys.a, &peer_id_of(&keys.b), &mut rng).unwrap();
        let mut s = RlpStream::new_list(3);
        s.append(&&[1u8; 64][..]);
        s.append(&&[2u8; 32][..]);
        s.append(&4u64);
        let ack = sealed(&keys.a, s.out().to_vec(), &mut rng);
        assert_eq!(
            initiator.read_ack(&ack).unwrap_err(),
            HandshakeError::InvalidPublicKey
        );
        // Dialing an off-curve identity.
        assert_eq!(
            AuthSent::new(&keys.a, &PeerId([1; 64]), &mut rng).err(),
            Some(HandshakeError::InvalidPublicKey)
        );
        // ECIES ephemeral key off the curve inside an EIP-8 frame.
        let mut bogus = vec![0x01, 0x00, 0x04];
        bogus.resize(2 + 256, 0x01);
        assert_eq!(
            recipient.read_auth(&bogus, &mut rng).unwrap_err(),
            HandshakeError::InvalidPublicKey
        );
    }

    #[test]
    fn bad_signatures_are_rejected() {
        let mut rng = MachineRng::new(Seed([17; 32]));
        let keys = pair(&mut rng);
        let a_id = peer_id_of(&keys.a);
        let recipient = ExpectAuth::new(keys.b, &mut rng);
        let mut bad_v = [7u8; 65];
        bad_v[64] = 9;
        for sig in [[0u8; 65], bad_v] {
            let packet = sealed(&keys.b, auth_body(&sig, &a_id.0, &[2; 32], &[]), &mut rng);
            assert_eq!(
                recipient.read_auth(&packet, &mut rng).unwrap_err(),
                HandshakeError::InvalidSignature
            );
        }
    }

    #[test]
    fn legacy_auth_with_a_wrong_ephemeral_hash_is_rejected() {
        let mut rng = MachineRng::new(Seed([18; 32]));
        let keys = pair(&mut rng);
        let b_pk = PublicKey::from_secret_key(crate::crypto::keys::secp(), &keys.b);
        let eph = generate_secret_key(&mut rng);
        let nonce = [3u8; 32];
        let sig = sign_recoverable(&xor32(&ecdh_x(&b_pk, &keys.a), &nonce), &eph);
        let mut body = Vec::new();
        body.extend_from_slice(&sig);
        body.extend_from_slice(&[0u8; 32]); // not keccak256(ephemeral pubk)
        body.extend_from_slice(&peer_id_of(&keys.a).0);
        body.extend_from_slice(&nonce);
        body.push(0);
        let packet = seal_legacy(&b_pk, &body, &mut rng);
        let recipient = ExpectAuth::new(keys.b, &mut rng);
        assert_eq!(
            recipient.read_auth(&packet, &mut rng).unwrap_err(),
            HandshakeError::InvalidSignature
        );
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        let mut rng = MachineRng::new(Seed([19; 32]));
        let keys = pair(&mut rng);
        let recipient = ExpectAuth::new(keys.b, &mut rng);
        let a_id = peer_id_of(&keys.a);
        let mut three = RlpStream::new_list(3);
        three.append(&&[0u8; 65][..]);
        three.append(&&a_id.0[..]);
        three.append(&&[0u8; 32][..]);
        let mut nested = RlpStream::new_list(4);
        nested.begin_list(0);
        nested.append(&&a_id.0[..]);
        nested.append(&&[0u8; 32][..]);
        nested.append(&4u64);
        let bodies: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x80],
            b"not rlp at all".to_vec(),
            vec![0xf8, 0xff, 0x00], // list longer than the plaintext
            three.out().to_vec(),
            nested.out().to_vec(),
            auth_body(&[0; 64], &a_id.0, &[0; 32], &[]),
            auth_body(&[0; 65], &a_id.0[..63], &[0; 32], &[]),
            auth_body(&[0; 65], &a_id.0, &[0; 33], &[]),
        ];
        for (i, body) in bodies.into_iter().enumerate() {
            let packet = sealed(&keys.b, body, &mut rng);
            assert_eq!(
                recipient.read_auth(&packet, &mut rng).unwrap_err(),
                HandshakeError::Malformed,
                "body {i}"
            );
        }
    }

    #[test]
    fn decoders_accept_any_version_extra_elements_and_trailing_bytes() {
        let sig = [5u8; 65];
        let pubk = [6u8; 64];
        let nonce = [7u8; 32];
        let cases: [(&[u8], u64); 5] = [
            (&[], 0),
            (&[4], 4),
            (&[0, 0, 1, 2], 0x102),
            (&[0xff; 8], u64::MAX),
            (&[1; 20], u64::MAX),
        ];
        for (version, expected) in cases {
            let mut s = RlpStream::new_list(6);
            s.append(&&sig[..]);
            s.append(&&pubk[..]);
            s.append(&&nonce[..]);
            s.append(&version);
            s.begin_list(2).append(&1u8).append(&2u8);
            s.append(&"extra");
            let mut plain = s.out().to_vec();
            plain.extend_from_slice(&[0xc0; 33]); // trailing bytes that look like RLP
            let msg = decode_auth_eip8(&plain).unwrap();
            assert_eq!(msg.version, expected);
            assert_eq!(
                (msg.signature, msg.initiator, msg.nonce),
                (sig, pubk, nonce)
            );

            let mut s = RlpStream::new_list(4);
            s.append(&&pubk[..]);
            s.append(&&nonce[..]);
            s.append(&version);
            s.append(&0u8);
            let mut plain = s.out().to_vec();
            plain.extend_from_slice(&[0xff; 5]);
            let msg = decode_ack_eip8(&plain).unwrap();
            assert_eq!(
                (msg.ephemeral, msg.nonce, msg.version),
                (pubk, nonce, expected)
            );
        }
        // A version that is a list is not a version.
        let mut s = RlpStream::new_list(3);
        s.append(&&pubk[..]);
        s.append(&&nonce[..]);
        s.begin_list(0);
        assert_eq!(
            decode_ack_eip8(&s.out()).unwrap_err(),
            HandshakeError::Malformed
        );
    }

    #[test]
    fn legacy_decoders_need_the_full_layout() {
        assert_eq!(
            decode_auth_legacy(&[0; 193]),
            Err(HandshakeError::Malformed)
        );
        assert!(decode_auth_legacy(&[0; 194]).is_ok());
        assert_eq!(decode_ack_legacy(&[0; 96]), Err(HandshakeError::Malformed));
        assert!(decode_ack_legacy(&[0; 97]).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn random_seeds_always_complete(seed in any::<[u8; 32]>(), eip8 in any::<bool>()) {
            run_handshake(seed, eip8);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(
            mut data in proptest::collection::vec(any::<u8>(), 0..2200),
            shape in 0u8..4,
            cut in any::<prop::sample::Index>(),
        ) {
            // Steer some inputs into each detection branch.
            match shape {
                1 if !data.is_empty() => data[0] = 0x04,
                2 if data.len() >= 2 => {
                    let size = (data.len() - 2) as u16;
                    data[..2].copy_from_slice(&size.to_be_bytes());
                }
                3 if data.len() >= 2 => data[0] &= 0x07,
                _ => {}
            }
            let mut rng = MachineRng::new(Seed([20; 32]));
            let keys = pair(&mut rng);
            let recipient = ExpectAuth::with_keys(keys.b, keys.a, [0; 32]);
            let (initiator, _) = AuthSent::new(&keys.a, &peer_id_of(&keys.b), &mut rng).unwrap();
            let prefix = &data[..cut.index(data.len() + 1)];
            for buf in [&data[..], prefix] {
                match recipient.read_auth(buf, &mut rng) {
                    Ok(None) | Err(_) => {}
                    Ok(Some(got)) => prop_assert!(got.consumed <= buf.len()),
                }
                match initiator.read_ack(buf) {
                    Ok(None) | Err(_) => {}
                    Ok(Some(got)) => prop_assert!(got.consumed <= buf.len()),
                }
            }
        }

        #[test]
        fn arbitrary_plaintexts_never_panic(
            body in proptest::collection::vec(any::<u8>(), 0..400),
            list_header in any::<bool>(),
        ) {
            let mut body = body;
            if list_header && body.len() < 56 {
                body.insert(0, 0xc0 + body.len() as u8);
            }
            let _ = decode_auth_eip8(&body);
            let _ = decode_ack_eip8(&body);
            let _ = decode_auth_legacy(&body);
            let _ = decode_ack_legacy(&body);
            // And through the whole recipient/initiator path.
            let mut rng = MachineRng::new(Seed([21; 32]));
            let keys = pair(&mut rng);
            let recipient = ExpectAuth::new(keys.b, &mut rng);
            let packet = sealed(&keys.b, body.clone(), &mut rng);
            prop_assert!(recipient.read_auth(&packet, &mut rng).is_err());
            let (initiator, _) = AuthSent::new(&keys.a, &peer_id_of(&keys.b), &mut rng).unwrap();
            let packet = sealed(&keys.a, body, &mut rng);
            let _ = initiator.read_ack(&packet);
        }
    }
}
