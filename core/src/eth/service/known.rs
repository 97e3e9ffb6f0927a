//! [`KnownSet`]: a bounded set of hashes that forgets the oldest first, for "this peer
//! already has it" bookkeeping (go-ethereum `eth/protocols/eth/peer.go` `knownCache`).

use std::collections::{BTreeSet, VecDeque};

use crate::eth::primitives::B256;

/// At most `cap` hashes; inserting into a full set evicts the oldest insertion.
#[derive(Clone, Debug)]
pub struct KnownSet {
    cap: usize,
    set: BTreeSet<B256>,
    order: VecDeque<B256>,
}

impl KnownSet {
    /// An empty set holding at most `cap` hashes (at least one).
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            set: BTreeSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Whether `hash` is remembered.
    pub fn contains(&self, hash: &B256) -> bool {
        self.set.contains(hash)
    }

    /// Remembers `hash`; returns false if it already was.
    pub fn insert(&mut self, hash: B256) -> bool {
        if !self.set.insert(hash) {
            return false;
        }
        self.order.push_back(hash);
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    /// How many hashes are remembered.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_set_forgets_the_oldest_first() {
        let mut k = KnownSet::new(2);
        assert!(k.insert([1; 32]));
        assert!(!k.insert([1; 32]));
        k.insert([2; 32]);
        k.insert([3; 32]);
        assert_eq!(k.len(), 2);
        assert!(!k.contains(&[1; 32]));
        assert!(k.contains(&[2; 32]) && k.contains(&[3; 32]));
    }
}
