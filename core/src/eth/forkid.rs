//! EIP-2124 fork identifiers: creation from a fork schedule and the validation filter.
//!
//! The fork hash is CRC-32 (IEEE) over the genesis hash, updated with each passed fork's
//! activation point as a big-endian `u64`; `next` is the first fork not yet passed (or 0).
//! Block-numbered forks come first, then timestamp forks (go-ethereum `core/forkid`).

use crate::eth::error::EthDecodeError;
use crate::eth::primitives::B256;
use crate::eth::rlp;

/// go-ethereum's `timestampThreshold`: a remote `next` above this is taken as a timestamp
/// (it is the mainnet genesis-era unix time, far above any block number then).
pub const TIMESTAMP_THRESHOLD: u64 = 1_438_269_973;

/// An EIP-2124 fork identifier `[hash, next]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ForkId {
    /// CRC-32 checksum of the genesis hash and passed forks.
    pub hash: [u8; 4],
    /// The next scheduled fork (block number or timestamp), 0 if none is known.
    pub next: u64,
}

impl ForkId {
    /// The RLP encoding `[hash, next]`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        self.put(&mut out);
        out
    }

    /// Appends the RLP encoding.
    pub(crate) fn put(&self, out: &mut Vec<u8>) {
        let mut p = Vec::with_capacity(14);
        rlp::put_bytes(&mut p, &self.hash);
        rlp::put_u64(&mut p, self.next);
        rlp::put_list(out, &p);
    }

    /// Decodes the RLP encoding (no trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<Self, EthDecodeError> {
        Self::from_item(rlp::single_item(bytes)?)
    }

    /// Decodes a fork id item.
    pub(crate) fn from_item(item: rlp::Item<'_>) -> Result<Self, EthDecodeError> {
        let mut f = item.list()?;
        let id = ForkId {
            hash: f.next_item()?.array()?,
            next: f.next_item()?.u64()?,
        };
        f.finish()?;
        Ok(id)
    }
}

/// Where the local chain is: what fork ids are computed and validated against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Head {
    /// Head block number.
    pub number: u64,
    /// Head block timestamp, unix seconds.
    pub timestamp: u64,
}

/// Why a remote fork id was rejected (EIP-2124 validation rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForkIdError {
    /// The remote is on our chain but has not upgraded for a fork we already passed.
    #[error("remote needs update")]
    RemoteStale,
    /// The remote is on another chain, or we are missing a fork it passed.
    #[error("local incompatible or needs update")]
    LocalIncompatibleOrStale,
}

/// The reflected CRC-32 (IEEE 802.3) polynomial.
const CRC32_IEEE_POLY: u32 = 0xedb8_8320;

/// Continues a CRC-32 (IEEE) over `data` (bitwise; fork ids hash a few dozen bytes).
pub fn crc32_update(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ CRC32_IEEE_POLY
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A chain's fork schedule reduced to what fork ids need, with the running checksums.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForkFilter {
    /// Activation blocks, sorted, deduplicated, without block 0.
    by_block: Vec<u64>,
    /// Activation timestamps, sorted, deduplicated, all after genesis.
    by_time: Vec<u64>,
    /// `sums[i]`: checksum after the first `i` forks (blocks then times).
    sums: Vec<u32>,
}

impl ForkFilter {
    /// Builds the schedule from the genesis hash and time and the configured forks. Forks
    /// are sorted and deduplicated; block forks at 0 and time forks at or before genesis are
    /// active from the start and so not part of the identifier.
    pub fn new(genesis_hash: &B256, genesis_time: u64, blocks: &[u64], times: &[u64]) -> Self {
        let mut by_block: Vec<u64> = blocks.iter().copied().filter(|&b| b > 0).collect();
        by_block.sort_unstable();
        by_block.dedup();
        let mut by_time: Vec<u64> = times
            .iter()
            .copied()
            .filter(|&t| t > genesis_time)
            .collect();
        by_time.sort_unstable();
        by_time.dedup();
        let mut sums = Vec::with_capacity(by_block.len() + by_time.len() + 1);
        let mut crc = crc32_update(0, genesis_hash);
        sums.push(crc);
        for f in by_block.iter().chain(&by_time) {
            crc = crc32_update(crc, &f.to_be_bytes());
            sums.push(crc);
        }
        ForkFilter {
            by_block,
            by_time,
            sums,
        }
    }

    /// The fork id to announce at `head`.
    pub fn fork_id(&self, head: Head) -> ForkId {
        let mut crc = self.sums.first().copied().unwrap_or(0);
        for &f in &self.by_block {
            if f <= head.number {
                crc = crc32_update(crc, &f.to_be_bytes());
            } else {
                return ForkId {
                    hash: crc.to_be_bytes(),
                    next: f,
                };
            }
        }
        for &f in &self.by_time {
            if f <= head.timestamp {
                crc = crc32_update(crc, &f.to_be_bytes());
            } else {
                return ForkId {
                    hash: crc.to_be_bytes(),
                    next: f,
                };
            }
        }
        ForkId {
            hash: crc.to_be_bytes(),
            next: 0,
        }
    }

    /// Validates a remote fork id against our schedule at `head` (EIP-2124 rules 1–4).
    pub fn validate(&self, head: Head, remote: ForkId) -> Result<(), ForkIdError> {
        let remote_sum = u32::from_be_bytes(remote.hash);
        // All forks plus a sentinel that is never passed. With only block forks, the sentinel
        // counts as a block fork so a block head is compared against it.
        let forks: Vec<u64> = self
            .by_block
            .iter()
            .chain(&self.by_time)
            .copied()
            .chain([u64::MAX])
            .collect();
        let block_forks = if self.by_time.is_empty() {
            self.by_block.len() + 1
        } else {
            self.by_block.len()
        };
        for (i, &fork) in forks.iter().enumerate() {
            let local = if i >= block_forks {
                head.timestamp
            } else {
                head.number
            };
            if local >= fork {
                continue;
            }
            // `i` is the first fork we have not passed.
            if self.sums.get(i) == Some(&remote_sum) {
                // Rule 1: same state. Reject if the remote's next fork already passed here.
                let passed = remote.next > 0
                    && (local >= remote.next
                        || (remote.next > TIMESTAMP_THRESHOLD && head.timestamp >= remote.next));
                return if passed {
                    Err(ForkIdError::LocalIncompatibleOrStale)
                } else {
                    Ok(())
                };
            }
            // Rule 2: the remote is behind us on our chain; it must know our next fork.
            for j in 0..i {
                if self.sums.get(j) == Some(&remote_sum) {
                    return if forks.get(j) == Some(&remote.next) {
                        Ok(())
                    } else {
                        Err(ForkIdError::RemoteStale)
                    };
                }
            }
            // Rule 3: the remote is ahead of us on our chain (we are syncing).
            if self.sums.iter().skip(i + 1).any(|&s| s == remote_sum) {
                return Ok(());
            }
            // Rule 4: another chain.
            return Err(ForkIdError::LocalIncompatibleOrStale);
        }
        Err(ForkIdError::LocalIncompatibleOrStale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32/ISO-HDLC check value of "123456789".
        assert_eq!(crc32_update(0, b"123456789"), 0xcbf4_3926);
        let split = crc32_update(crc32_update(0, b"1234"), b"56789");
        assert_eq!(split, 0xcbf4_3926);
    }

    #[test]
    fn forks_at_genesis_and_duplicates_do_not_change_the_id() {
        let g = [7u8; 32];
        let plain = ForkFilter::new(&g, 100, &[5, 9], &[200]);
        let noisy = ForkFilter::new(&g, 100, &[0, 9, 5, 5, 0], &[200, 50, 100, 200]);
        assert_eq!(plain, noisy);
        let head = Head {
            number: 6,
            timestamp: 150,
        };
        assert_eq!(plain.fork_id(head).next, 9);
    }
}
