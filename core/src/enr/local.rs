//! [`LocalEnr`]: the node's own record, re-signed with a higher sequence number on every
//! change (EIP-778: "the sequence number … should be increased whenever the record changes").

use std::collections::BTreeMap;
use std::net::IpAddr;

use secp256k1::SecretKey;

use super::builder::endpoint_entries;
use super::record::{self, KEY_ID, KEY_SECP256K1};
use super::{item, Enr, KEY_IP, KEY_IP6, KEY_TCP, KEY_TCP6, KEY_UDP, KEY_UDP6};

/// The keys [`LocalEnr::set_endpoint`] owns.
const ENDPOINT_KEYS: [&[u8]; 6] = [KEY_IP, KEY_IP6, KEY_TCP, KEY_UDP, KEY_TCP6, KEY_UDP6];

/// The local node's record: changes bump the sequence number and re-sign.
///
/// Commands (`set_endpoint`, `set_entry`, `remove_entry`) return whether the record changed;
/// a call that leaves the entries as they were keeps the record and its sequence number. A
/// change is refused (returns `false`, record untouched) when it would make the record exceed
/// [`super::MAX_RECORD_BYTES`], when a value is not exactly one RLP item, when it targets the
/// identity entries `id`/`secp256k1` (managed here), or when the sequence number is already
/// `u64::MAX` (a newer record could not be told apart).
#[derive(Clone, Debug)]
pub struct LocalEnr {
    /// The signing key.
    key: SecretKey,
    /// Entries with identity: key → raw RLP value.
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The current record, signed over `entries`.
    record: Enr,
}

impl LocalEnr {
    /// A local record for `key` starting at sequence `seq` (the persisted sequence, or the
    /// current unix time in milliseconds when none is stored, so a wiped database never
    /// reuses a sequence number). Entries start empty except identity.
    pub fn new(key: SecretKey, seq: u64) -> Self {
        let mut entries = BTreeMap::new();
        record::add_identity(&key, &mut entries);
        // Identity alone is about 130 bytes, far below the limit, so no size check.
        let record = record::sign_v4(&key, seq, entries.clone());
        Self {
            key,
            entries,
            record,
        }
    }

    /// The current signed record.
    pub fn record(&self) -> &Enr {
        &self.record
    }

    /// Current sequence number.
    pub fn seq(&self) -> u64 {
        self.record.seq()
    }

    /// Sets the advertised endpoint; re-signs with seq+1 if anything changed. Returns whether
    /// it changed.
    ///
    /// Replaces all of `ip`, `ip6`, `tcp`, `udp`, `tcp6`, `udp6`: the IP goes to `ip` or
    /// `ip6` by family and the ports to the keys of that family; `None` removes the IP
    /// entries and leaves ports under the IPv4 keys `tcp`/`udp`; a port of 0 means no entry.
    pub fn set_endpoint(&mut self, ip: Option<IpAddr>, tcp: u16, udp: u16) -> bool {
        let mut next = self.entries.clone();
        for k in ENDPOINT_KEYS {
            next.remove(k);
        }
        let nonzero = |p: u16| (p != 0).then_some(p);
        for (k, v) in endpoint_entries(ip, nonzero(tcp), nonzero(udp)) {
            next.insert(k.to_vec(), v);
        }
        self.update(next)
    }

    /// Sets an entry (raw RLP value); re-signs with seq+1 if it changed.
    pub fn set_entry(&mut self, key: &[u8], rlp_value: Vec<u8>) -> bool {
        if is_identity(key) || item::single(&rlp_value).is_err() {
            return false;
        }
        let mut next = self.entries.clone();
        next.insert(key.to_vec(), rlp_value);
        self.update(next)
    }

    /// Removes an entry; re-signs with seq+1 if it was present.
    pub fn remove_entry(&mut self, key: &[u8]) -> bool {
        if is_identity(key) || !self.entries.contains_key(key) {
            return false;
        }
        let mut next = self.entries.clone();
        next.remove(key);
        self.update(next)
    }

    /// Re-signs over `next` at seq+1 if it differs from the current entries.
    fn update(&mut self, next: BTreeMap<Vec<u8>, Vec<u8>>) -> bool {
        if next == self.entries {
            return false;
        }
        let Some(seq) = self.record.seq().checked_add(1) else {
            return false;
        };
        match record::sign_checked(&self.key, seq, next.clone()) {
            Ok(record) => {
                self.entries = next;
                self.record = record;
                true
            }
            Err(_) => false,
        }
    }
}

/// Whether `key` names an identity entry, which only [`LocalEnr`] itself writes.
fn is_identity(key: &[u8]) -> bool {
    key == KEY_ID || key == KEY_SECP256K1
}
