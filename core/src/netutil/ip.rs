//! Address classification: LAN, special-purpose networks, relay checks and prefix equality.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are unmapped first everywhere, so a peer
//! cannot slip a LAN or special address past these rules by writing it in IPv6 form.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 special-purpose networks nobody should be told to dial, as `(network, prefix length)`.
///
/// From go-ethereum `p2p/netutil/net.go` (`special4`), itself taken from RFC 5735, RFC 5156 and
/// the IANA IPv4 special-purpose registry. Multicast is checked separately.
const SPECIAL_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),          // "This" network
    (Ipv4Addr::new(192, 0, 0, 0), 29),       // IPv4 Service Continuity
    (Ipv4Addr::new(192, 0, 0, 9), 32),       // PCP Anycast
    (Ipv4Addr::new(192, 0, 0, 170), 32),     // NAT64/DNS64 Discovery
    (Ipv4Addr::new(192, 0, 0, 171), 32),     // NAT64/DNS64 Discovery
    (Ipv4Addr::new(192, 0, 2, 0), 24),       // TEST-NET-1 (documentation)
    (Ipv4Addr::new(192, 31, 196, 0), 24),    // AS112
    (Ipv4Addr::new(192, 52, 193, 0), 24),    // AMT
    (Ipv4Addr::new(192, 88, 99, 0), 24),     // 6to4 Relay Anycast
    (Ipv4Addr::new(192, 175, 48, 0), 24),    // AS112
    (Ipv4Addr::new(198, 18, 0, 0), 15),      // Device Benchmark Testing
    (Ipv4Addr::new(198, 51, 100, 0), 24),    // TEST-NET-2 (documentation)
    (Ipv4Addr::new(203, 0, 113, 0), 24),     // TEST-NET-3 (documentation)
    (Ipv4Addr::new(255, 255, 255, 255), 32), // Limited Broadcast
];

/// IPv6 special-purpose networks, as `(network, prefix length)`.
///
/// From go-ethereum `p2p/netutil/net.go` (`special6`), after the IANA IPv6 special-purpose
/// registry. Multicast is checked separately.
const SPECIAL_V6: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64), // Discard-Only
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32), // TEREDO
    (Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 1), 128), // Port Control Protocol Anycast
    (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48), // Benchmarking
    (Ipv6Addr::new(0x2001, 3, 0, 0, 0, 0, 0, 0), 32), // AMT
    (Ipv6Addr::new(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48), // AS112-v6
    (Ipv6Addr::new(0x2001, 5, 0, 0, 0, 0, 0, 0), 32), // EID Space for LISP
    (Ipv6Addr::new(0x2001, 0x10, 0, 0, 0, 0, 0, 0), 28), // ORCHID (deprecated)
    (Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28), // ORCHIDv2
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // Documentation
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16), // 6to4
];

/// The mask keeping the first `bits` bits of an IPv4 address (`bits` ≥ 32 keeps all).
pub(crate) fn mask_v4(bits: u32) -> u32 {
    u32::MAX
        .checked_shl(32u32.saturating_sub(bits))
        .unwrap_or(0)
}

/// The mask keeping the first `bits` bits of an IPv6 address (`bits` ≥ 128 keeps all).
pub(crate) fn mask_v6(bits: u32) -> u128 {
    u128::MAX
        .checked_shl(128u32.saturating_sub(bits))
        .unwrap_or(0)
}

/// `ip` with only its first `bits` bits kept (after unmapping IPv4-mapped addresses); `bits`
/// beyond the address width keep the whole address.
pub(crate) fn truncate(ip: IpAddr, bits: u32) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from_bits(v4.to_bits() & mask_v4(bits))),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & mask_v6(bits))),
    }
}

fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, bits: u8) -> bool {
    let mask = mask_v4(u32::from(bits));
    ip.to_bits() & mask == net.to_bits() & mask
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, bits: u8) -> bool {
    let mask = mask_v6(u32::from(bits));
    ip.to_bits() & mask == net.to_bits() & mask
}

/// True for loopback and private (LAN) addresses: 10/8, 172.16/12, 192.168/16, 169.254/16,
/// fc00::/7, fe80::/10, loopback.
///
/// This is go-ethereum's `AddrIsLAN`: loopback, RFC 1918 / RFC 4193 private, or link-local
/// unicast. The deprecated site-local range fec0::/10 is *not* LAN.
pub fn is_lan(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || in_v4(v4, Ipv4Addr::new(10, 0, 0, 0), 8)
                || in_v4(v4, Ipv4Addr::new(172, 16, 0, 0), 12)
                || in_v4(v4, Ipv4Addr::new(192, 168, 0, 0), 16)
                || in_v4(v4, Ipv4Addr::new(169, 254, 0, 0), 16)
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || in_v6(v6, Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7)
                || in_v6(v6, Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10)
        }
    }
}

/// True for addresses that must never be relayed: unspecified, broadcast, multicast,
/// documentation and other reserved ranges (go-ethereum `IsSpecialNetwork`).
///
/// The IPv6 unspecified address `::` is not in go-ethereum's list; [`check_relay_ip`] rejects
/// it before asking this function.
pub fn is_special_network(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            v4.is_multicast() || SPECIAL_V4.iter().any(|&(net, bits)| in_v4(v4, net, bits))
        }
        IpAddr::V6(v6) => {
            v6.is_multicast() || SPECIAL_V6.iter().any(|&(net, bits)| in_v6(v6, net, bits))
        }
    }
}

/// Why a relayed address is unacceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// 0.0.0.0 or ::.
    #[error("zero address")]
    Unspecified,
    /// A special-purpose network.
    #[error("special network")]
    Special,
    /// Loopback relayed by a non-loopback host.
    #[error("loopback address from non-loopback host")]
    LoopbackFromNonLoopback,
    /// LAN address relayed by an Internet host.
    #[error("LAN address from WAN host")]
    LanFromWan,
}

/// Checks an address `addr` that `sender` told us about (go-ethereum `CheckRelayIP`).
///
/// Rules, in order: the zero address and special networks are never valid; loopback is valid
/// only when relayed by a loopback host; LAN only when relayed by a LAN host; anything else is
/// valid. This keeps Internet peers from steering us at our own machine or private network.
pub fn check_relay_ip(sender: IpAddr, addr: IpAddr) -> Result<(), RelayError> {
    let sender = sender.to_canonical();
    let addr = addr.to_canonical();
    if addr.is_unspecified() {
        return Err(RelayError::Unspecified);
    }
    if is_special_network(addr) {
        return Err(RelayError::Special);
    }
    if addr.is_loopback() && !sender.is_loopback() {
        return Err(RelayError::LoopbackFromNonLoopback);
    }
    if is_lan(addr) && !is_lan(sender) {
        return Err(RelayError::LanFromWan);
    }
    Ok(())
}

/// True when `a` and `b` share the first `bits` bits (IPv4 compared as 4 bytes).
///
/// Addresses of different families never share a network. `bits` beyond the address width
/// compare the whole address (go-ethereum instead answers false from 40 bits up for IPv4).
pub fn same_net(bits: u32, a: IpAddr, b: IpAddr) -> bool {
    match (truncate(a, bits), truncate(b, bits)) {
        (x @ IpAddr::V4(_), y @ IpAddr::V4(_)) | (x @ IpAddr::V6(_), y @ IpAddr::V6(_)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // Transcribed from /work/shared/vectors/netutil.json (`is_lan`), which comes from
    // go-ethereum p2p/netutil/net_test.go at 02b73d4ea7181464175e0a6cbecc0a3a2655a562.
    const LAN_INCLUDED: &[&str] = &[
        "127.0.0.1",
        "10.0.1.1",
        "10.22.0.3",
        "172.31.252.251",
        "192.168.1.4",
        "fe80::f4a1:8eff:fec5:9d9d",
        "febf::ab32:2233",
        "fc00::4",
        "::ffff:127.0.0.1",
        "::ffff:10.10.0.2",
    ];
    const LAN_EXCLUDED: &[&str] = &[
        "192.0.2.1",
        "1.0.0.0",
        "172.32.0.1",
        "fec0::2233",
        "::ffff:88.99.100.2",
    ];

    // Same origin (`is_special_network`).
    const SPECIAL_INCLUDED: &[&str] = &[
        "0.0.0.0",
        "0.2.0.8",
        "192.0.2.1",
        "192.0.2.44",
        "2001:db8:85a3:8d3:1319:8a2e:370:7348",
        "255.255.255.255",
        "224.0.0.22",
        "ff05::1:3",
        "::ffff:255.255.255.255",
        "::ffff:192.0.2.1",
    ];
    const SPECIAL_EXCLUDED: &[&str] = &["192.0.3.1", "1.0.0.0", "172.32.0.1", "fec0::2233"];

    // Same origin (`check_relay_ip.cases`): (sender, addr, expected error text).
    const RELAY_CASES: &[(&str, &str, Option<&str>)] = &[
        ("127.0.0.1", "0.0.0.0", Some("zero address")),
        ("192.168.0.1", "0.0.0.0", Some("zero address")),
        ("23.55.1.242", "0.0.0.0", Some("zero address")),
        ("127.0.0.1", "255.255.255.255", Some("special network")),
        ("192.168.0.1", "255.255.255.255", Some("special network")),
        ("23.55.1.242", "255.255.255.255", Some("special network")),
        (
            "192.168.0.1",
            "127.0.2.19",
            Some("loopback address from non-loopback host"),
        ),
        (
            "23.55.1.242",
            "192.168.0.1",
            Some("LAN address from WAN host"),
        ),
        ("127.0.0.1", "127.0.2.19", None),
        ("127.0.0.1", "192.168.0.1", None),
        ("127.0.0.1", "23.55.1.242", None),
        ("192.168.0.1", "192.168.0.1", None),
        ("192.168.0.1", "23.55.1.242", None),
        ("23.55.1.242", "23.55.1.242", None),
    ];

    // Same origin (`same_net`): (a, b, bits, want).
    const SAME_NET_CASES: &[(&str, &str, u32, bool)] = &[
        ("0.0.0.0", "0.0.0.0", 32, true),
        ("0.0.0.0", "0.0.0.1", 0, true),
        ("0.0.0.0", "0.0.0.1", 31, true),
        ("0.0.0.0", "0.0.0.1", 32, false),
        ("0.33.0.1", "0.34.0.2", 8, true),
        ("0.33.0.1", "0.34.0.2", 13, true),
        ("0.33.0.1", "0.34.0.2", 15, false),
    ];

    #[test]
    fn is_lan_matches_geth_vectors() {
        for s in LAN_INCLUDED {
            assert!(is_lan(ip(s)), "{s} should be LAN");
        }
        for s in LAN_EXCLUDED {
            assert!(!is_lan(ip(s)), "{s} should not be LAN");
        }
    }

    #[test]
    fn link_local_ipv4_and_ipv6_loopback_are_lan() {
        assert!(is_lan(ip("169.254.10.1")));
        assert!(is_lan(ip("::1")));
        assert!(!is_lan(ip("169.255.0.1")));
        assert!(!is_lan(ip("0.0.0.0")));
    }

    #[test]
    fn is_special_network_matches_geth_vectors() {
        for s in SPECIAL_INCLUDED {
            assert!(is_special_network(ip(s)), "{s} should be special");
        }
        for s in SPECIAL_EXCLUDED {
            assert!(!is_special_network(ip(s)), "{s} should not be special");
        }
    }

    #[test]
    fn every_listed_special_range_is_special_at_both_ends() {
        for &(net, bits) in SPECIAL_V4 {
            let first = net.to_bits() & mask_v4(bits.into());
            let last = first | !mask_v4(bits.into());
            assert!(is_special_network(IpAddr::V4(Ipv4Addr::from_bits(first))));
            assert!(is_special_network(IpAddr::V4(Ipv4Addr::from_bits(last))));
        }
        for &(net, bits) in SPECIAL_V6 {
            let first = net.to_bits() & mask_v6(bits.into());
            let last = first | !mask_v6(bits.into());
            assert!(is_special_network(IpAddr::V6(Ipv6Addr::from_bits(first))));
            assert!(is_special_network(IpAddr::V6(Ipv6Addr::from_bits(last))));
        }
        assert!(!is_special_network(ip("198.20.0.0")));
        assert!(!is_special_network(ip("2003::1")));
    }

    #[test]
    fn check_relay_ip_matches_geth_vectors_and_error_text() {
        for &(sender, addr, want) in RELAY_CASES {
            let got = check_relay_ip(ip(sender), ip(addr)).map_err(|e| e.to_string());
            match want {
                None => assert_eq!(got, Ok(()), "{sender} relaying {addr}"),
                Some(text) => assert_eq!(got, Err(text.to_string()), "{sender} relaying {addr}"),
            }
        }
    }

    #[test]
    fn check_relay_ip_unmaps_ipv4_mapped_addresses() {
        assert_eq!(
            check_relay_ip(ip("23.55.1.242"), ip("::ffff:0.0.0.0")),
            Err(RelayError::Unspecified)
        );
        assert_eq!(
            check_relay_ip(ip("23.55.1.242"), ip("::ffff:127.0.0.1")),
            Err(RelayError::LoopbackFromNonLoopback)
        );
        assert_eq!(
            check_relay_ip(ip("23.55.1.242"), ip("::ffff:10.0.0.1")),
            Err(RelayError::LanFromWan)
        );
        assert_eq!(
            check_relay_ip(ip("::ffff:127.0.0.1"), ip("127.0.0.2")),
            Ok(())
        );
        assert_eq!(
            check_relay_ip(ip("1.2.3.4"), ip("::")),
            Err(RelayError::Unspecified)
        );
        assert_eq!(
            check_relay_ip(ip("2a00::1"), ip("fd00::1")),
            Err(RelayError::LanFromWan)
        );
    }

    #[test]
    fn same_net_matches_geth_vectors() {
        for &(a, b, bits, want) in SAME_NET_CASES {
            assert_eq!(same_net(bits, ip(a), ip(b)), want, "{a} {b} /{bits}");
        }
    }

    #[test]
    fn same_net_handles_families_and_wide_prefixes() {
        assert!(!same_net(0, ip("1.2.3.4"), ip("::1")));
        assert!(same_net(96, ip("::ffff:1.2.3.4"), ip("1.2.3.4")));
        assert!(same_net(24, ip("::ffff:1.2.3.4"), ip("1.2.3.99")));
        assert!(same_net(64, ip("2001:db8::1"), ip("2001:db8::2")));
        assert!(!same_net(128, ip("2001:db8::1"), ip("2001:db8::2")));
        assert!(same_net(200, ip("1.2.3.4"), ip("1.2.3.4")));
        assert!(!same_net(200, ip("1.2.3.4"), ip("1.2.3.5")));
    }
}
