//! The Hello message: `[version, client_id, [[cap_name, cap_version], …], listen_port,
//! node_id, …]`. Decoding is forward-compatible (extra elements ignored, any version) and
//! bounded ([`MAX_HELLO_BYTES`]).

use crate::p2p::caps::Capability;
use crate::types::PeerId;

/// Largest Hello payload we accept (go-ethereum: 2 KiB).
pub const MAX_HELLO_BYTES: usize = 2048;

/// A decoded Hello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Base protocol version the sender speaks.
    pub protocol_version: u64,
    /// Free-form client identifier, e.g. `Geth/v1.14.0/linux-amd64/go1.22`.
    pub client_id: String,
    /// Capabilities the sender offers.
    pub capabilities: Vec<Capability>,
    /// The sender's listening port (0 if none; ignored by most clients).
    pub listen_port: u16,
    /// The sender's node id (64-byte public key).
    pub id: PeerId,
}

/// Why a Hello was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HelloError {
    /// Larger than [`MAX_HELLO_BYTES`].
    #[error("hello of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// Not the RLP shape of a Hello.
    #[error("malformed hello: {0}")]
    Malformed(&'static str),
    /// The id is not 64 bytes or is all zero.
    #[error("invalid node id in hello")]
    InvalidId,
}

impl Hello {
    /// Encodes the Hello payload (RLP list, no message id).
    pub fn encode(&self) -> Vec<u8> {
        let mut s = rlp::RlpStream::new_list(5);
        s.append(&self.protocol_version);
        s.append(&self.client_id.as_str());
        s.begin_list(self.capabilities.len());
        for cap in &self.capabilities {
            s.begin_list(2);
            s.append(&cap.name.as_str());
            s.append(&cap.version);
        }
        s.append(&self.listen_port);
        s.append(&&self.id.0[..]);
        s.out().to_vec()
    }

    /// Decodes a Hello payload.
    ///
    /// Forward-compatible: any protocol version is accepted, list elements after the node id
    /// and elements after `[name, version]` in a capability entry are ignored (but must be
    /// well-formed RLP). A client id or capability name that is not UTF-8 is decoded lossily.
    /// A capability whose version does not fit in 32 bits cannot match any local protocol and
    /// is dropped. Bytes after the Hello list are rejected.
    pub fn decode(payload: &[u8]) -> Result<Self, HelloError> {
        if payload.len() > MAX_HELLO_BYTES {
            return Err(HelloError::TooLarge(payload.len()));
        }
        let outer = rlp::Rlp::new(payload);
        let info = outer
            .payload_info()
            .map_err(|_| HelloError::Malformed("truncated rlp"))?;
        if info.total() != payload.len() {
            return Err(HelloError::Malformed("trailing bytes after hello"));
        }
        let fields = list_items(&outer)?;
        let [version, client_id, caps, port, id, ..] = fields.as_slice() else {
            return Err(HelloError::Malformed("too few elements"));
        };

        let protocol_version: u64 = uint(version)?;
        let client_id = String::from_utf8_lossy(bytes(client_id)?).into_owned();
        let mut capabilities = Vec::new();
        for entry in list_items(caps)? {
            let parts = list_items(&entry)?;
            let [name, version, ..] = parts.as_slice() else {
                return Err(HelloError::Malformed(
                    "capability needs a name and a version",
                ));
            };
            let name = String::from_utf8_lossy(bytes(name)?).into_owned();
            let version: u64 = uint(version)?;
            if let Ok(version) = u32::try_from(version) {
                capabilities.push(Capability { name, version });
            }
        }
        let listen_port: u64 = uint(port)?;
        let listen_port =
            u16::try_from(listen_port).map_err(|_| HelloError::Malformed("listen port"))?;
        let id: [u8; 64] = bytes(id)?.try_into().map_err(|_| HelloError::InvalidId)?;
        if id.iter().all(|&b| b == 0) {
            return Err(HelloError::InvalidId);
        }
        Ok(Hello {
            protocol_version,
            client_id,
            capabilities,
            listen_port,
            id: PeerId(id),
        })
    }
}

/// The items of an RLP list, requiring them to cover the list payload exactly (the `rlp`
/// crate's iterator silently stops at the first malformed item).
fn list_items<'a>(r: &rlp::Rlp<'a>) -> Result<Vec<rlp::Rlp<'a>>, HelloError> {
    if !r.is_list() {
        return Err(HelloError::Malformed("expected a list"));
    }
    let info = r
        .payload_info()
        .map_err(|_| HelloError::Malformed("truncated rlp"))?;
    let items: Vec<rlp::Rlp<'a>> = r.iter().collect();
    let covered = items
        .iter()
        .fold(0usize, |acc, i| acc.saturating_add(i.as_raw().len()));
    if covered != info.value_len {
        return Err(HelloError::Malformed("invalid rlp list item"));
    }
    Ok(items)
}

/// The bytes of an RLP string (not a list).
fn bytes<'a>(r: &rlp::Rlp<'a>) -> Result<&'a [u8], HelloError> {
    if !r.is_data() {
        return Err(HelloError::Malformed("expected a string"));
    }
    r.data().map_err(|_| HelloError::Malformed("truncated rlp"))
}

/// A canonical RLP unsigned integer.
fn uint(r: &rlp::Rlp<'_>) -> Result<u64, HelloError> {
    if !r.is_data() {
        return Err(HelloError::Malformed("expected an integer"));
    }
    r.as_val::<u64>()
        .map_err(|_| HelloError::Malformed("invalid integer"))
}

#[cfg(test)]
mod tests;
