//! Capabilities and their negotiation, exactly as go-ethereum's `matchProtocols`: the remote
//! capabilities sorted by name then version, exact (name, version) matches only, the highest
//! shared version per name wins, offsets start at 0x10 and follow each negotiated protocol's
//! message count in name order.

use std::fmt;

use crate::p2p::BASE_PROTOCOL_LENGTH;

/// A capability as carried in Hello: a short ASCII name and a version.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Capability {
    /// Protocol name, e.g. `eth`.
    pub name: String,
    /// Protocol version, e.g. 68.
    pub version: u32,
}

impl Capability {
    /// Builds a capability.
    pub fn new(name: impl Into<String>, version: u32) -> Self {
        Self {
            name: name.into(),
            version,
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.name, self.version)
    }
}

/// Why a capability string like `eth/68` did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid capability {0:?} (want name/version)")]
pub struct ParseCapabilityError(pub String);

impl std::str::FromStr for Capability {
    type Err = ParseCapabilityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseCapabilityError(s.to_string());
        let (name, version) = s.split_once('/').ok_or_else(err)?;
        if name.is_empty() || !name.is_ascii() {
            return Err(err());
        }
        Ok(Capability::new(name, version.parse().map_err(|_| err())?))
    }
}

/// A locally supported protocol: its capability and how many message ids it uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolSpec {
    /// Name and version.
    pub cap: Capability,
    /// Number of message ids (e.g. 17 for eth/68).
    pub message_count: u64,
}

/// A typed handle for one negotiated capability of a session: its index in the session's
/// [`SharedCapabilities`] (name order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CapId(pub u8);

/// One negotiated capability with the message-id range it occupies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedCapability {
    /// Name and negotiated version.
    pub cap: Capability,
    /// First absolute message id.
    pub offset: u64,
    /// Number of message ids.
    pub message_count: u64,
}

/// The negotiated capabilities of a session, in offset order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedCapabilities {
    caps: Vec<SharedCapability>,
}

impl SharedCapabilities {
    /// Negotiates `local` protocols against the `remote` Hello's capabilities.
    ///
    /// The remote capabilities are walked in (name, version) order; each one equal to a local
    /// spec (the first such spec if several are) is kept, replacing an earlier match of the
    /// same name, so the highest shared version of each name wins. Offsets then start at
    /// [`BASE_PROTOCOL_LENGTH`] and each capability begins where the previous one's
    /// `message_count` ends, in name order. Two peers with the same local specs that offer
    /// each other their capabilities therefore agree on every offset.
    ///
    /// At most 256 capabilities (the range of [`CapId`]) are kept; the rest, last in name
    /// order, are dropped.
    pub fn negotiate(local: &[ProtocolSpec], remote: &[Capability]) -> Self {
        let mut sorted: Vec<&Capability> = remote.iter().collect();
        sorted.sort();
        // One entry per name, in name order; a later (higher) version replaces the earlier.
        let mut chosen: Vec<&ProtocolSpec> = Vec::new();
        for cap in sorted {
            let Some(spec) = local.iter().find(|s| s.cap == *cap) else {
                continue;
            };
            match chosen.last_mut() {
                Some(last) if last.cap.name == spec.cap.name => *last = spec,
                _ => chosen.push(spec),
            }
        }
        chosen.truncate(usize::from(u8::MAX) + 1);
        let mut offset = BASE_PROTOCOL_LENGTH;
        let caps = chosen
            .into_iter()
            .map(|spec| {
                let shared = SharedCapability {
                    cap: spec.cap.clone(),
                    offset,
                    message_count: spec.message_count,
                };
                offset = offset.saturating_add(spec.message_count);
                shared
            })
            .collect();
        Self { caps }
    }

    /// The negotiated capabilities, in offset order.
    pub fn iter(&self) -> impl Iterator<Item = (CapId, &SharedCapability)> {
        self.caps
            .iter()
            .enumerate()
            .map(|(i, c)| (CapId(i as u8), c))
    }

    /// True when nothing was negotiated (the peer is useless to us).
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty()
    }

    /// Number of negotiated capabilities.
    pub fn len(&self) -> usize {
        self.caps.len()
    }

    /// The capability behind a handle.
    pub fn get(&self, id: CapId) -> Option<&SharedCapability> {
        self.caps.get(usize::from(id.0))
    }

    /// The handle of a negotiated capability by name.
    pub fn find(&self, name: &str) -> Option<CapId> {
        self.iter()
            .find(|(_, c)| c.cap.name == name)
            .map(|(id, _)| id)
    }

    /// Maps an absolute message id (≥ 0x10) to (capability, id relative to it); `None` if
    /// it falls outside every negotiated range.
    pub fn route(&self, msg_id: u64) -> Option<(CapId, u64)> {
        self.iter().find_map(|(id, c)| {
            let rel = msg_id.checked_sub(c.offset)?;
            (rel < c.message_count).then_some((id, rel))
        })
    }

    /// The absolute message id of `rel_id` in capability `cap`; `None` if out of range.
    pub fn absolute(&self, cap: CapId, rel_id: u64) -> Option<u64> {
        let c = self.get(cap)?;
        if rel_id < c.message_count {
            c.offset.checked_add(rel_id)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests;

/// Message counts of well-known capabilities, so tools can advertise them by name:
/// eth/62 has 8 messages, eth/63–68 have 17 (ids 0x00–0x10), eth/69 has 18 (adds
/// BlockRangeUpdate), eth/70 has 18 too (it changes two messages' shapes), snap/1 has 8.
pub fn known_message_count(cap: &Capability) -> Option<u64> {
    match (cap.name.as_str(), cap.version) {
        ("eth", 62) => Some(8),
        ("eth", 63..=68) => Some(17),
        ("eth", 69 | 70) => Some(18),
        ("snap", 1) => Some(8),
        _ => None,
    }
}

/// Parses a comma-separated list like `eth/68,eth/69,foo/1:4` into protocol specs; the
/// message count is looked up for known capabilities or given after `:`.
pub fn parse_protocol_list(s: &str) -> Result<Vec<ProtocolSpec>, ParseCapabilityError> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|item| {
            let (cap_s, count) = match item.split_once(':') {
                Some((c, n)) => (
                    c,
                    Some(
                        n.parse::<u64>()
                            .map_err(|_| ParseCapabilityError(item.to_string()))?,
                    ),
                ),
                None => (item, None),
            };
            let cap: Capability = cap_s.parse()?;
            let message_count = count
                .or_else(|| known_message_count(&cap))
                .ok_or_else(|| ParseCapabilityError(item.to_string()))?;
            Ok(ProtocolSpec { cap, message_count })
        })
        .collect()
}
