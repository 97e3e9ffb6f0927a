//! The EIP-2124 `eth` ENR entry: what we put in our record and how discovered records are
//! filtered by it (go-ethereum `eth/protocols/eth/discovery.go`).

use crate::discv4::NodeEntry;
use crate::eth::chainspec::ChainSpec;
use crate::eth::forkid::{ForkFilter, ForkId, Head};
use crate::eth::rlp;

/// The ENR key of the entry.
pub const ENR_KEY: &[u8] = b"eth";

/// Our `eth` ENR entry at `head`: key `"eth"`, value `rlp([[fork_hash, fork_next]])` (a list
/// whose first element is the fork id; later elements are reserved and ignored by readers).
pub fn enr_entry(spec: &ChainSpec, head: Head) -> (Vec<u8>, Vec<u8>) {
    (ENR_KEY.to_vec(), rlp::list(&spec.fork_id(head).encode()))
}

/// Decodes the fork id of an `eth` entry value, tolerating extra trailing elements (EIP-2124
/// leaves room for them); `None` when malformed.
pub fn decode_enr_entry(value: &[u8]) -> Option<ForkId> {
    let item = rlp::single_item(value).ok()?;
    let mut l = item.list().ok()?;
    ForkId::from_item(l.next_item().ok()?).ok()
}

/// A discovery filter: accepts nodes without an ENR or an `eth` entry (we learn their chain
/// at the Status), and nodes whose fork id is compatible with our schedule. Without our
/// live head the check accepts an id that some head of our schedule would accept (the
/// genesis, each block fork, each time fork), so it only drops other chains and peers
/// that passed forks we do not know of; the Status handshake makes the exact check.
pub fn node_filter(spec: &ChainSpec) -> impl Fn(&NodeEntry) -> bool + Send {
    let filter: ForkFilter = spec.fork_filter();
    let heads = schedule_heads(spec);
    move |node: &NodeEntry| {
        let Some(enr) = &node.enr else {
            return true;
        };
        let Some(value) = enr.get_raw(ENR_KEY) else {
            return true;
        };
        decode_enr_entry(value).is_some_and(|id| accepts(&filter, &heads, id))
    }
}

/// One head per stage of the schedule: genesis, each block fork, each time fork.
fn schedule_heads(spec: &ChainSpec) -> Vec<Head> {
    let last_block = spec.fork_blocks.iter().map(|f| f.at).max().unwrap_or(0);
    let mut heads = vec![Head {
        number: 0,
        timestamp: spec.genesis_timestamp,
    }];
    heads.extend(spec.fork_blocks.iter().map(|f| Head {
        number: f.at,
        timestamp: spec.genesis_timestamp,
    }));
    heads.extend(spec.fork_times.iter().map(|f| Head {
        number: last_block,
        timestamp: f.at.max(spec.genesis_timestamp),
    }));
    heads
}

/// Whether some head of the schedule accepts `id`.
fn accepts(filter: &ForkFilter, heads: &[Head], id: ForkId) -> bool {
    heads.iter().any(|h| filter.validate(*h, id).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_round_trips_and_ignores_extra_elements() {
        let spec = ChainSpec::paxeer_devnet();
        let (k, v) = enr_entry(&spec, Head::default());
        assert_eq!(k, b"eth");
        let id = decode_enr_entry(&v).unwrap();
        assert_eq!(id, spec.fork_id(Head::default()));
        let mut payload = id.encode();
        rlp::put_u64(&mut payload, 7);
        assert_eq!(decode_enr_entry(&rlp::list(&payload)), Some(id));
        assert_eq!(decode_enr_entry(&[0xc0]), None);
        assert_eq!(decode_enr_entry(b"junk"), None);
    }

    #[test]
    fn ids_of_any_stage_of_our_schedule_pass_and_other_chains_fail() {
        let spec = ChainSpec::mainnet();
        let (filter, heads) = (spec.fork_filter(), schedule_heads(&spec));
        for h in [
            Head::default(),
            Head {
                number: 1_150_000,
                timestamp: 0,
            },
            Head {
                number: 20_000_000,
                timestamp: 1_800_000_000,
            },
        ] {
            assert!(accepts(&filter, &heads, spec.fork_id(h)), "{h:?}");
        }
        let sepolia = ChainSpec::sepolia().fork_id(Head::default());
        assert!(!accepts(&filter, &heads, sepolia));
    }
}
