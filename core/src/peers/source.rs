//! Which inbound connections count as one source for the share of pending-handshake slots
//! a single source may hold.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::netutil::is_lan;

/// Public IPv4 addresses in one /24 are one source: what one operator usually holds, and the
/// subnet go-ethereum groups IPs by when limiting them (`p2p/discover/table.go`
/// `tableSubnet`).
pub const SOURCE_PREFIX_V4_BITS: u32 = 24;
/// Public IPv6 addresses in one /64 are one source: the smallest subnet an end site is
/// assigned (RFC 4291 interface identifiers), so one host can pick any address in it.
pub const SOURCE_PREFIX_V6_BITS: u32 = 64;

/// The source an inbound connection from `ip` counts against: the address itself on the
/// LAN (where distinct hosts of a test network share a subnet), else its /24 (IPv4) or /64
/// (IPv6) network address. IPv4-mapped IPv6 addresses count as IPv4.
pub fn pending_source(ip: IpAddr) -> IpAddr {
    let ip = ip.to_canonical();
    if is_lan(ip) {
        return ip;
    }
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX << (32 - SOURCE_PREFIX_V4_BITS);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX << (128 - SOURCE_PREFIX_V6_BITS);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn public_addresses_group_by_subnet_lan_ones_do_not() {
        assert_eq!(pending_source(ip("8.1.2.3")), ip("8.1.2.0"));
        assert_eq!(pending_source(ip("8.1.2.250")), ip("8.1.2.0"));
        assert_ne!(pending_source(ip("8.1.3.3")), pending_source(ip("8.1.2.3")));
        assert_eq!(pending_source(ip("::ffff:8.1.2.3")), ip("8.1.2.0"));
        assert_eq!(
            pending_source(ip("2001:db8:1:2:aaaa::1")),
            ip("2001:db8:1:2::")
        );
        assert_ne!(
            pending_source(ip("2001:db8:1:3::1")),
            pending_source(ip("2001:db8:1:2::1"))
        );
        // LAN and loopback: each address is its own source.
        assert_eq!(pending_source(ip("127.0.0.1")), ip("127.0.0.1"));
        assert_ne!(
            pending_source(ip("192.168.1.7")),
            pending_source(ip("192.168.1.8"))
        );
        assert_eq!(pending_source(ip("::1")), ip("::1"));
    }
}
