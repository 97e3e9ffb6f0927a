//! The RLPx frame codec (devp2p `rlpx.md`, "Framing"): AES-256-CTR with one continuous
//! keystream per direction and Keccak-based header/frame MACs. Header data is always
//! `rlp([0, 0])` = `c28080`; frame size is 24 bits, so at most 2^24−1 bytes.
//!
//! Reading is two steps because the body length is only known from the header:
//! [`FrameCodec::read_header`] on the first [`HEADER_LEN`] bytes, then
//! [`FrameCodec::read_body`] on the next [`body_len`]`(size)` bytes. Both decrypt in place and
//! check the MAC before decrypting.

use crate::rlpx::secrets::Secrets;

/// Bytes of an encrypted header plus its MAC.
pub const HEADER_LEN: usize = 32;
/// Bytes of a MAC.
pub const MAC_LEN: usize = 16;
/// The largest frame size the 24-bit header field can carry.
pub const MAX_FRAME_SIZE: usize = (1 << 24) - 1;

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
/// plus the frame MAC.
pub fn body_len(frame_size: usize) -> usize {
    let _ = frame_size;
    todo!("helper B")
}

/// Encrypts and MACs frames in one direction and decrypts and checks them in the other.
pub struct FrameCodec {
    _private: (),
}

impl FrameCodec {
    /// A codec keyed by the handshake's secrets.
    pub fn new(secrets: &Secrets) -> Self {
        let _ = secrets;
        todo!("helper B")
    }

    /// Checks the MAC of and decrypts a header in place (`header.len() == HEADER_LEN`),
    /// returning the frame size it announces.
    pub fn read_header(&mut self, header: &mut [u8]) -> Result<usize, FrameError> {
        let _ = header;
        todo!("helper B")
    }

    /// Checks the MAC of and decrypts a body in place (`body.len() == body_len(frame_size)`),
    /// returning the `frame_size` bytes of frame content (`rlp(msg_id) ‖ payload`).
    pub fn read_body<'a>(
        &mut self,
        body: &'a mut [u8],
        frame_size: usize,
    ) -> Result<&'a [u8], FrameError> {
        let _ = (body, frame_size);
        todo!("helper B")
    }

    /// Seals one frame whose content is the concatenation of `parts` and appends it to `out`.
    pub fn write_frame(&mut self, parts: &[&[u8]], out: &mut Vec<u8>) -> Result<(), FrameError> {
        let _ = (parts, out);
        todo!("helper B")
    }
}
