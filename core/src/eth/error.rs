//! The one decoding error of the eth wire layer, and the item budget that bounds how much
//! memory a decoded message may take.

use crate::eth::rlp::RlpError;
use crate::p2p::disconnect::DisconnectReason;

/// Largest eth message payload we decode (go-ethereum `maxMessageSize`: 10 MiB).
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// Most decoded objects (transactions, headers, bodies, receipts, logs, withdrawals, access
/// list entries, authorizations) in one message. A small object can take ~10 bytes on the
/// wire but a few hundred in memory, so without a cap a 10 MiB message could expand ~30×;
/// with it the in-memory overhead stays under ~40 MiB. Chosen by us (go-ethereum has no
/// equivalent cap); real responses (≤ 2 MiB soft limit) stay far below it.
pub const MAX_OBJECTS_PER_MESSAGE: usize = 1 << 17;

/// Why an eth message or one of its parts could not be decoded. Every variant is the
/// sender's fault (a malformed or forbidden message): the protocol machine should disconnect
/// with [`EthDecodeError::disconnect_reason`] and apply the "bad message" penalty.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EthDecodeError {
    /// The payload is larger than [`MAX_MESSAGE_BYTES`].
    #[error("eth message of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// The message id is not defined for the negotiated version.
    #[error("message id {msg_id:#04x} is not defined in eth/{version}")]
    UnknownMessage {
        /// Negotiated version.
        version: u32,
        /// Relative message id.
        msg_id: u8,
    },
    /// Bad RLP shape.
    #[error("malformed rlp: {0}")]
    Rlp(#[from] RlpError),
    /// More than [`MAX_OBJECTS_PER_MESSAGE`] objects.
    #[error("message holds too many objects")]
    TooManyObjects,
    /// A typed transaction or receipt whose type we do not know.
    #[error("unknown transaction type {0:#04x}")]
    UnknownTxType(u8),
    /// Well-formed RLP whose content breaks a rule of the format.
    #[error("invalid message: {0}")]
    Invalid(&'static str),
}

impl EthDecodeError {
    /// The disconnect reason to send. go-ethereum ends the connection of a peer whose eth
    /// message fails to decode with `DiscSubprotocolError` (the protocol handler returns an
    /// error that is not a `DiscReason`, see `p2p/peer.go`), so we do the same.
    pub fn disconnect_reason(&self) -> DisconnectReason {
        DisconnectReason::SubprotocolError
    }
}

/// Counts decoded objects against [`MAX_OBJECTS_PER_MESSAGE`].
#[derive(Debug)]
pub(crate) struct Budget(usize);

impl Budget {
    /// A fresh budget for one message.
    pub fn new() -> Self {
        Budget(MAX_OBJECTS_PER_MESSAGE)
    }

    /// Spends `n` objects.
    pub fn take(&mut self, n: usize) -> Result<(), EthDecodeError> {
        self.0 = self
            .0
            .checked_sub(n)
            .ok_or(EthDecodeError::TooManyObjects)?;
        Ok(())
    }
}
