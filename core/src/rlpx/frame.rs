//! The RLPx frame codec (devp2p `rlpx.md`, "Framing"): AES-256-CTR with one continuous
//! keystream per direction and Keccak-based header/frame MACs. Header data is always
//! `rlp([0, 0])` = `c28080`; frame size is 24 bits, so at most 2^24−1 bytes.
//!
//! Reading is two steps because the body length is only known from the header:
//! [`FrameCodec::read_header`] on the first [`HEADER_LEN`] bytes, then
//! [`FrameCodec::read_body`] on the next [`body_len`]`(size)` bytes. Both decrypt in place and
//! check the MAC before decrypting.
//!
//! The MAC of one direction (`rlpx.md`, "MAC"), with `mac-secret` as an AES-256 block key:
//! - header: `seed = aes(mac-secret, mac.digest()[..16]) ^ header-ciphertext`,
//!   `mac.update(seed)`, `header-mac = mac.digest()[..16]`;
//! - body: `mac.update(frame-ciphertext)`,
//!   `seed = aes(mac-secret, mac.digest()[..16]) ^ mac.digest()[..16]`, `mac.update(seed)`,
//!   `frame-mac = mac.digest()[..16]`.
//!
//! Written that way it is four Keccak digests per frame. The header's first digest is of the
//! state exactly as the previous frame's MAC left it, so [`Mac`] keeps that digest instead of
//! recomputing it: three digests per frame (each a full Keccak-f permutation, the fixed cost
//! that dominates small frames).

use aes::cipher::{BlockEncrypt, KeyInit, KeyIvInit, StreamCipher};

use crate::crypto::keccak::KeccakState;
use crate::rlpx::secrets::Secrets;

/// Bytes of an encrypted header plus its MAC.
pub const HEADER_LEN: usize = 32;
/// Bytes of a MAC.
pub const MAC_LEN: usize = 16;
/// The largest frame size the 24-bit header field can carry.
pub const MAX_FRAME_SIZE: usize = (1 << 24) - 1;

/// AES block size; headers and bodies are padded to it.
const BLOCK: usize = 16;
/// Bytes of a body encrypted then absorbed into the MAC per step when sealing: a multiple of
/// the AES block and of Keccak-256's 136-byte rate, small enough to stay in L1.
const SEAL_CHUNK: usize = 16 * 136 * 4;
/// Header-data `rlp([0, 0])`: capability-id 0, context-id 0.
const HEADER_DATA: [u8; 3] = [0xc2, 0x80, 0x80];

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// Why a frame was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Header MAC mismatch.
    #[error("bad header mac")]
    HeaderMac,
    /// Frame MAC mismatch.
    #[error("bad frame mac")]
    FrameMac,
    /// A frame larger than 2^24−1 bytes was asked to be written (caller error).
    #[error("frame of {0} bytes exceeds the 24-bit limit")]
    TooLarge(usize),
    /// The buffer handed in has the wrong length (caller error).
    #[error("wrong buffer length")]
    BufferLength,
}

/// Bytes on the wire for the body of a frame of `frame_size` bytes: the size padded to 16,
/// plus the frame MAC. Saturates instead of overflowing for absurd sizes.
pub fn body_len(frame_size: usize) -> usize {
    padded_len(frame_size).saturating_add(MAC_LEN)
}

/// `len` rounded up to a multiple of the AES block size (saturating).
fn padded_len(len: usize) -> usize {
    len.saturating_add(BLOCK - 1) & !(BLOCK - 1)
}

/// The hash behind a MAC state. Private seam so tests can substitute the fake hash of
/// go-ethereum's golden frame vector; production always uses [`KeccakState`].
trait MacHash {
    /// Absorbs `data`.
    fn update(&mut self, data: &[u8]);
    /// The digest of everything absorbed so far, leaving the state untouched.
    fn digest(&self) -> [u8; 32];
}

impl MacHash for KeccakState {
    fn update(&mut self, data: &[u8]) {
        KeccakState::update(self, data);
    }

    fn digest(&self) -> [u8; 32] {
        KeccakState::digest(self)
    }
}

/// The first 16 bytes of a digest.
fn first16(d: &[u8; 32]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(d) {
        *o = *b;
    }
    out
}

/// One direction's MAC state (the AES block cipher keyed by `mac-secret` is passed in).
struct Mac<H> {
    hash: H,
    /// `first16(hash.digest())`, kept in step with `hash`: every update of `hash` ends with
    /// [`Mac::absorb_seed`], which refreshes it, except the frame-ciphertext absorb, which is
    /// immediately followed by one.
    digest16: [u8; 16],
}

impl<H: MacHash> Mac<H> {
    /// A MAC continuing from `hash` (the state the handshake derived).
    fn new(hash: H) -> Self {
        let digest16 = first16(&hash.digest());
        Self { hash, digest16 }
    }

    /// Absorbs `aes(mac-secret, digest16) ^ xor` and returns the new digest's first 16 bytes.
    fn absorb_seed(
        &mut self,
        cipher: &aes::Aes256,
        digest16: [u8; 16],
        xor: &[u8; 16],
    ) -> [u8; 16] {
        let mut block = aes::Block::from(digest16);
        cipher.encrypt_block(&mut block);
        for (b, x) in block.iter_mut().zip(xor) {
            *b ^= *x;
        }
        self.hash.update(&block);
        self.digest16 = first16(&self.hash.digest());
        self.digest16
    }

    /// Updates the state with a header ciphertext and returns the header MAC.
    fn header(&mut self, cipher: &aes::Aes256, header_ct: &[u8; 16]) -> [u8; 16] {
        // The state has not changed since `digest16` was taken (previous frame or `new`).
        self.absorb_seed(cipher, self.digest16, header_ct)
    }

    /// Updates the state with a frame ciphertext and returns the frame MAC.
    fn frame(&mut self, cipher: &aes::Aes256, frame_ct: &[u8]) -> [u8; 16] {
        self.hash.update(frame_ct);
        self.finish_frame(cipher)
    }

    /// Returns the frame MAC once the whole frame ciphertext has been absorbed into `hash`.
    fn finish_frame(&mut self, cipher: &aes::Aes256) -> [u8; 16] {
        let d = first16(&self.hash.digest());
        self.absorb_seed(cipher, d, &d)
    }
}

/// Constant-time equality of a computed MAC and received bytes.
fn mac_eq(computed: &[u8; MAC_LEN], received: &[u8]) -> bool {
    if received.len() != MAC_LEN {
        return false;
    }
    let diff = computed
        .iter()
        .zip(received)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(diff) == 0
}

/// The codec over any MAC hash; [`FrameCodec`] is this over Keccak.
struct Codec<H> {
    /// AES-256 keyed by `mac-secret`, shared by both directions' MACs.
    mac_cipher: aes::Aes256,
    egress_aes: Aes256Ctr,
    ingress_aes: Aes256Ctr,
    egress_mac: Mac<H>,
    ingress_mac: Mac<H>,
}

impl<H: MacHash> Codec<H> {
    /// A codec from raw keys and the two MAC hash states.
    fn from_parts(aes: &[u8; 32], mac: &[u8; 32], egress: H, ingress: H) -> Self {
        let iv = [0u8; 16];
        Self {
            mac_cipher: aes::Aes256::new(mac.into()),
            egress_aes: Aes256Ctr::new(aes.into(), (&iv).into()),
            ingress_aes: Aes256Ctr::new(aes.into(), (&iv).into()),
            egress_mac: Mac::new(egress),
            ingress_mac: Mac::new(ingress),
        }
    }

    fn read_header(&mut self, header: &mut [u8]) -> Result<usize, FrameError> {
        let header: &mut [u8; HEADER_LEN] =
            header.try_into().map_err(|_| FrameError::BufferLength)?;
        let (ct, mac) = header.split_at_mut(BLOCK);
        let ct: &mut [u8; BLOCK] = ct.try_into().map_err(|_| FrameError::BufferLength)?;
        let expected = self.ingress_mac.header(&self.mac_cipher, ct);
        if !mac_eq(&expected, mac) {
            return Err(FrameError::HeaderMac);
        }
        self.ingress_aes.apply_keystream(ct);
        let [a, b, c, ..] = *ct;
        Ok(usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c))
    }

    fn read_body<'a>(
        &mut self,
        body: &'a mut [u8],
        frame_size: usize,
    ) -> Result<&'a [u8], FrameError> {
        if frame_size > MAX_FRAME_SIZE || body.len() != body_len(frame_size) {
            return Err(FrameError::BufferLength);
        }
        let (ct, mac) = body.split_at_mut(padded_len(frame_size));
        let expected = self.ingress_mac.frame(&self.mac_cipher, ct);
        if !mac_eq(&expected, mac) {
            return Err(FrameError::FrameMac);
        }
        self.ingress_aes.apply_keystream(ct);
        let ct: &'a [u8] = ct;
        ct.get(..frame_size).ok_or(FrameError::BufferLength)
    }

    fn write_frame(&mut self, parts: &[&[u8]], out: &mut Vec<u8>) -> Result<(), FrameError> {
        let size = parts
            .iter()
            .fold(0usize, |acc, p| acc.saturating_add(p.len()));
        if size > MAX_FRAME_SIZE {
            return Err(FrameError::TooLarge(size));
        }
        let padded = padded_len(size);
        out.reserve(HEADER_LEN + padded + MAC_LEN);

        // Header: size (24-bit BE) ‖ header-data ‖ zero padding, encrypted, then its MAC.
        let [_, s0, s1, s2] = u32::try_from(size)
            .map_err(|_| FrameError::TooLarge(size))?
            .to_be_bytes();
        let [h0, h1, h2] = HEADER_DATA;
        let mut header = [s0, s1, s2, h0, h1, h2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        self.egress_aes.apply_keystream(&mut header);
        let header_mac = self.egress_mac.header(&self.mac_cipher, &header);
        out.extend_from_slice(&header);
        out.extend_from_slice(&header_mac);

        // Body: content ‖ zero padding, encrypted in place in `out`, then its MAC.
        let body_start = out.len();
        for p in parts {
            out.extend_from_slice(p);
        }
        out.resize(body_start + padded, 0);
        let (_, body) = out.split_at_mut(body_start);
        // Encrypt and absorb a chunk at a time, so the MAC reads each ciphertext byte while it
        // is still in L1 instead of a second pass over the whole body.
        for chunk in body.chunks_mut(SEAL_CHUNK) {
            self.egress_aes.apply_keystream(chunk);
            self.egress_mac.hash.update(chunk);
        }
        let frame_mac = self.egress_mac.finish_frame(&self.mac_cipher);
        out.extend_from_slice(&frame_mac);
        Ok(())
    }
}

/// Encrypts and MACs frames in one direction and decrypts and checks them in the other.
///
/// A MAC failure leaves the codec in an unspecified state: the session must be closed.
pub struct FrameCodec {
    inner: Codec<KeccakState>,
}

impl FrameCodec {
    /// A codec keyed by the handshake's secrets.
    pub fn new(secrets: &Secrets) -> Self {
        Self {
            inner: Codec::from_parts(
                &secrets.aes,
                &secrets.mac,
                secrets.egress_mac.clone(),
                secrets.ingress_mac.clone(),
            ),
        }
    }

    /// Checks the MAC of and decrypts a header in place (`header.len() == HEADER_LEN`),
    /// returning the frame size it announces.
    pub fn read_header(&mut self, header: &mut [u8]) -> Result<usize, FrameError> {
        self.inner.read_header(header)
    }

    /// Checks the MAC of and decrypts a body in place (`body.len() == body_len(frame_size)`),
    /// returning the `frame_size` bytes of frame content (`rlp(msg_id) ‖ payload`).
    pub fn read_body<'a>(
        &mut self,
        body: &'a mut [u8],
        frame_size: usize,
    ) -> Result<&'a [u8], FrameError> {
        self.inner.read_body(body, frame_size)
    }

    /// Seals one frame whose content is the concatenation of `parts` and appends it to `out`.
    pub fn write_frame(&mut self, parts: &[&[u8]], out: &mut Vec<u8>) -> Result<(), FrameError> {
        self.inner.write_frame(parts, out)
    }
}

impl std::fmt::Debug for FrameCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FrameCodec(..)")
    }
}

#[cfg(test)]
mod tests;
