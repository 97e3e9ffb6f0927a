//! The Merkle-Patricia root of an ordered list (yellow paper appendix D), as used for
//! `transactionsRoot`, `receiptsRoot` and `withdrawalsRoot`: item `i` is stored under the key
//! `rlp(i)`. The trie is built in one pass over the sorted keys; nothing is persisted.

use crate::crypto::keccak::keccak256;
use crate::eth::primitives::B256;
use crate::eth::rlp;

/// Root hash of the trie mapping `rlp(i)` to `items[i]` (each item already encoded).
pub fn ordered_trie_root<T: AsRef<[u8]>>(items: &[T]) -> B256 {
    let mut pairs: Vec<(Vec<u8>, &[u8])> = items
        .iter()
        .enumerate()
        .map(|(i, v)| (nibbles(&rlp::u64_rlp(i as u64)), v.as_ref()))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    trie_root(&pairs)
}

/// Root hash of a trie given `(key nibbles, value)` pairs sorted by key, keys unique.
pub(crate) fn trie_root(pairs: &[(Vec<u8>, &[u8])]) -> B256 {
    if pairs.is_empty() {
        return keccak256(&[0x80]);
    }
    keccak256(&node(pairs, 0))
}

/// Splits bytes into 4-bit nibbles, high half first.
fn nibbles(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().flat_map(|b| [b >> 4, b & 0x0f]).collect()
}

/// Hex-prefix encoding of a nibble path (yellow paper appendix C).
fn hex_prefix(path: &[u8], leaf: bool) -> Vec<u8> {
    let flag: u8 = if leaf { 2 } else { 0 };
    let mut out = Vec::with_capacity(path.len() / 2 + 1);
    let rest = if path.len() % 2 == 1 {
        out.push(((flag + 1) << 4) | path.first().copied().unwrap_or(0));
        path.get(1..).unwrap_or(&[])
    } else {
        out.push(flag << 4);
        path
    };
    for pair in rest.chunks(2) {
        let hi = pair.first().copied().unwrap_or(0);
        let lo = pair.get(1).copied().unwrap_or(0);
        out.push((hi << 4) | lo);
    }
    out
}

/// Appends how a parent refers to a child node: inline below 32 bytes, else by hash.
fn put_child_ref(out: &mut Vec<u8>, child: &[u8]) {
    if child.len() < 32 {
        out.extend_from_slice(child);
    } else {
        rlp::put_bytes(out, &keccak256(child));
    }
}

/// The RLP of the node holding `pairs` (non-empty, sorted), whose keys share `depth` nibbles
/// already consumed by the parents.
fn node(pairs: &[(Vec<u8>, &[u8])], depth: usize) -> Vec<u8> {
    let (Some(first), Some(last)) = (pairs.first(), pairs.last()) else {
        return vec![0x80];
    };
    let first_key = first.0.get(depth..).unwrap_or(&[]);
    if pairs.len() == 1 {
        let mut payload = hex_prefix(first_key, true);
        payload = {
            let mut p = Vec::with_capacity(payload.len() + first.1.len() + 8);
            rlp::put_bytes(&mut p, &payload);
            rlp::put_bytes(&mut p, first.1);
            p
        };
        return rlp::list(&payload);
    }
    // Sorted keys: the prefix shared by the first and the last is shared by all.
    let last_key = last.0.get(depth..).unwrap_or(&[]);
    let shared = first_key
        .iter()
        .zip(last_key)
        .take_while(|(a, b)| a == b)
        .count();
    if shared > 0 {
        let child = node(pairs, depth + shared);
        let mut payload = Vec::with_capacity(child.len().min(33) + shared / 2 + 4);
        rlp::put_bytes(
            &mut payload,
            &hex_prefix(first_key.get(..shared).unwrap_or(&[]), false),
        );
        put_child_ref(&mut payload, &child);
        return rlp::list(&payload);
    }
    // A branch: sixteen children by next nibble, plus the value of a key ending here.
    let mut payload = Vec::new();
    let mut value: &[u8] = &[];
    let mut rest = pairs;
    if first_key.is_empty() {
        value = first.1;
        rest = pairs.get(1..).unwrap_or(&[]);
    }
    for nibble in 0u8..16 {
        let n = rest
            .iter()
            .take_while(|(k, _)| k.get(depth) == Some(&nibble))
            .count();
        let (group, tail) = rest.split_at(n.min(rest.len()));
        if group.is_empty() {
            payload.push(0x80);
        } else {
            put_child_ref(&mut payload, &node(group, depth + 1));
        }
        rest = tail;
    }
    rlp::put_bytes(&mut payload, value);
    rlp::list(&payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eth::primitives::EMPTY_ROOT_HASH;

    fn root_of(pairs: &[(&[u8], &[u8])]) -> B256 {
        let mut v: Vec<(Vec<u8>, &[u8])> = pairs.iter().map(|(k, v)| (nibbles(k), *v)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        trie_root(&v)
    }

    #[test]
    fn empty_list_has_the_empty_root() {
        let none: [Vec<u8>; 0] = [];
        assert_eq!(ordered_trie_root(&none), EMPTY_ROOT_HASH);
    }

    #[test]
    fn hex_prefix_matches_the_yellow_paper_examples() {
        assert_eq!(hex_prefix(&[1, 2, 3, 4, 5], false), vec![0x11, 0x23, 0x45]);
        assert_eq!(
            hex_prefix(&[0, 1, 2, 3, 4, 5], false),
            vec![0x00, 0x01, 0x23, 0x45]
        );
        assert_eq!(
            hex_prefix(&[0, 0xf, 1, 0xc, 0xb, 8], true),
            vec![0x20, 0x0f, 0x1c, 0xb8]
        );
        assert_eq!(
            hex_prefix(&[0xf, 1, 0xc, 0xb, 8], true),
            vec![0x3f, 0x1c, 0xb8]
        );
    }

    // Known roots from the ethereum/tests `TrieTests/trietest.json` cases ("dogs", "puppy",
    // "foo"), which exercise leaves, extensions, branches with values and inlined nodes.
    #[test]
    fn dogs_trie_root_matches_the_ethereum_tests_value() {
        let root = root_of(&[
            (b"doe", b"reindeer"),
            (b"dog", b"puppy"),
            (b"dogglesworth", b"cat"),
        ]);
        assert_eq!(
            hex::encode(root),
            "8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3"
        );
    }

    #[test]
    fn puppy_trie_root_matches_the_ethereum_tests_value() {
        let root = root_of(&[
            (b"do", b"verb"),
            (b"horse", b"stallion"),
            (b"doge", b"coin"),
            (b"dog", b"puppy"),
        ]);
        assert_eq!(
            hex::encode(root),
            "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84"
        );
    }
}
