//! [`EnrBuilder`]: collects entries, then signs a record with the "v4" scheme.

use std::collections::BTreeMap;
use std::net::IpAddr;

use secp256k1::SecretKey;

use super::{item, record, Enr, EnrError, KEY_IP, KEY_IP6, KEY_TCP, KEY_TCP6, KEY_UDP, KEY_UDP6};

/// Sequence number of a builder that was not given one: 1, as in the EIP-778 example record,
/// so a first record is version 1. (go-ethereum's bare `enr.Record` starts at 0; both are
/// legal, and [`EnrBuilder::seq`] sets any value.)
pub const DEFAULT_SEQ: u64 = 1;

/// Builds and signs a record.
///
/// Order of calls does not matter: the IP family decides at signing time whether ports go to
/// `tcp`/`udp` (IPv4, or no IP) or `tcp6`/`udp6` (IPv6). Setting the IP again replaces it (a
/// built record holds one of `ip`/`ip6`). Ports are written as given, 0 included. The typed
/// setters win over [`EnrBuilder::raw`] entries of the same key, and signing always sets `id`
/// and `secp256k1`.
#[derive(Clone, Debug)]
pub struct EnrBuilder {
    /// Sequence number to sign at.
    seq: u64,
    /// The advertised IP, if any.
    ip: Option<IpAddr>,
    /// TCP port, keyed by the IP family at signing.
    tcp: Option<u16>,
    /// UDP port, keyed by the IP family at signing.
    udp: Option<u16>,
    /// Other entries: key → raw RLP value.
    raw: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Default for EnrBuilder {
    fn default() -> Self {
        Self {
            seq: DEFAULT_SEQ,
            ip: None,
            tcp: None,
            udp: None,
            raw: BTreeMap::new(),
        }
    }
}

/// The typed endpoint entries for `ip` and ports, keyed by the IP's family; a port of `None`
/// is left out.
pub(super) fn endpoint_entries(
    ip: Option<IpAddr>,
    tcp: Option<u16>,
    udp: Option<u16>,
) -> Vec<(&'static [u8], Vec<u8>)> {
    let mut out = Vec::with_capacity(3);
    let (tcp_key, udp_key) = match ip {
        Some(IpAddr::V6(_)) => (KEY_TCP6, KEY_UDP6),
        _ => (KEY_TCP, KEY_UDP),
    };
    match ip {
        Some(IpAddr::V4(v4)) => out.push((KEY_IP, item::bytes_item(&v4.octets()))),
        Some(IpAddr::V6(v6)) => out.push((KEY_IP6, item::bytes_item(&v6.octets()))),
        None => {}
    }
    if let Some(p) = tcp {
        out.push((tcp_key, item::uint_item(u64::from(p))));
    }
    if let Some(p) = udp {
        out.push((udp_key, item::uint_item(u64::from(p))));
    }
    out
}

impl EnrBuilder {
    /// Sets the sequence number (default [`DEFAULT_SEQ`]).
    pub fn seq(mut self, seq: u64) -> Self {
        self.seq = seq;
        self
    }

    /// Sets `ip`/`ip6` from the address family.
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Sets `tcp` (or `tcp6` if the ip set is IPv6).
    pub fn tcp(mut self, port: u16) -> Self {
        self.tcp = Some(port);
        self
    }

    /// Sets `udp` (or `udp6` if the ip set is IPv6).
    pub fn udp(mut self, port: u16) -> Self {
        self.udp = Some(port);
        self
    }

    /// Sets an arbitrary entry whose value is already RLP-encoded (e.g. `eth`).
    ///
    /// A later call with the same key replaces the value. The value must be exactly one RLP
    /// item, which [`EnrBuilder::sign`] checks.
    pub fn raw(mut self, key: &[u8], rlp_value: Vec<u8>) -> Self {
        self.raw.insert(key.to_vec(), rlp_value);
        self
    }

    /// Adds `id = "v4"` and `secp256k1` for `key`, signs, and checks the size limit.
    ///
    /// Errors: [`EnrError::Malformed`] if a raw value is not exactly one RLP item,
    /// [`EnrError::TooLarge`] if the record exceeds [`super::MAX_RECORD_BYTES`].
    pub fn sign(self, key: &SecretKey) -> Result<Enr, EnrError> {
        let mut entries = self.raw;
        for (k, v) in endpoint_entries(self.ip, self.tcp, self.udp) {
            entries.insert(k.to_vec(), v);
        }
        record::sign_checked(key, self.seq, entries)
    }
}
