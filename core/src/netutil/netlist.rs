//! CIDR networks and lists of them (the operator's `--netrestrict`).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::ip::truncate;

/// Width of an IPv4 address in bits.
const V4_BITS: u8 = 32;
/// Width of an IPv6 address in bits.
const V6_BITS: u8 = 128;
/// Bits of `::ffff:0:0/96` in front of an IPv4-mapped address.
const MAPPED_PREFIX_BITS: u8 = 96;

/// One network in CIDR form, such as `10.0.0.0/8` or `fc00::/7`.
///
/// The address is kept as written (`23.23.23.23/24` stays so, like Go's `netip.Prefix`), but
/// membership only looks at the first `prefix_len` bits. An IPv4-mapped IPv6 network of at
/// least 96 bits is stored in its IPv4 form (`::ffff:10.0.0.0/104` is `10.0.0.0/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix_len: u8,
}

impl Cidr {
    /// The network of `addr` with a `prefix_len`-bit prefix; `None` if longer than the address.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Option<Self> {
        let (addr, prefix_len) = match addr {
            IpAddr::V4(_) if prefix_len <= V4_BITS => (addr, prefix_len),
            IpAddr::V6(v6) if prefix_len <= V6_BITS => match v6.to_ipv4_mapped() {
                Some(v4) if prefix_len >= MAPPED_PREFIX_BITS => {
                    (IpAddr::V4(v4), prefix_len - MAPPED_PREFIX_BITS)
                }
                _ => (addr, prefix_len),
            },
            _ => return None,
        };
        Some(Self { addr, prefix_len })
    }

    /// The address as written.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// Number of leading bits that define the network.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `ip` lies inside this network. IPv4-mapped addresses count as IPv4; an IPv4
    /// network never contains an IPv6 address and vice versa.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let bits = u32::from(self.prefix_len);
        truncate(ip, bits) == truncate(self.addr, bits)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for Cidr {
    type Err = NetlistError;

    /// Parses `addr/len` strictly: no whitespace, no zone, decimal length without sign or
    /// leading zeros, at most the address width (as Go's `netip.ParsePrefix`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || NetlistError(s.to_string());
        let (addr, len) = s.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let well_formed = !len.is_empty()
            && len.len() <= 3
            && len.bytes().all(|b| b.is_ascii_digit())
            && (len == "0" || !len.starts_with('0'));
        if !well_formed {
            return Err(bad());
        }
        let len: u8 = len.parse().map_err(|_| bad())?;
        Cidr::new(addr, len).ok_or_else(bad)
    }
}

/// A list of CIDR networks (the operator's `--netrestrict`).
///
/// An empty list contains nothing; discovery models "no restriction" as `Option::None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Netlist {
    nets: Vec<Cidr>,
}

/// Why a netlist did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CIDR {0:?}")]
pub struct NetlistError(pub String);

impl Netlist {
    /// Parses a comma-separated CIDR list (`"10.0.0.0/8, 192.168.0.0/16"`).
    ///
    /// As go-ethereum's `ParseNetlist`: whitespace anywhere is ignored and empty entries
    /// (`"a,,b,"`) are skipped. The error carries the first offending entry.
    pub fn parse(s: &str) -> Result<Self, NetlistError> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let nets = compact
            .split(',')
            .filter(|entry| !entry.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Cidr>, _>>()?;
        Ok(Self { nets })
    }

    /// Whether `ip` is inside any listed network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|net| net.contains(ip))
    }

    /// Appends a network.
    pub fn push(&mut self, net: Cidr) {
        self.nets.push(net);
    }

    /// The networks in the order they were given.
    pub fn networks(&self) -> &[Cidr] {
        &self.nets
    }

    /// Number of networks.
    pub fn len(&self) -> usize {
        self.nets.len()
    }

    /// True when no network is listed.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

impl FromStr for Netlist {
    type Err = NetlistError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Netlist {
    /// Comma-separated, parseable again by [`Netlist::parse`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, net) in self.nets.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn listed(l: &Netlist) -> Vec<String> {
        l.networks().iter().map(ToString::to_string).collect()
    }

    // Transcribed from /work/shared/vectors/netutil.json (`parse_netlist`), which comes from
    // go-ethereum p2p/netutil/net_test.go at 02b73d4ea7181464175e0a6cbecc0a3a2655a562.
    // (input, Ok(list) or Err(offending entry)). Go's error text is `netip.ParsePrefix(..)`
    // specific; we check that the same input fails and name the entry.
    const PARSE_CASES: &[(&str, Result<&[&str], &str>)] = &[
        ("", Ok(&[])),
        ("127.0.0.0/8", Ok(&["127.0.0.0/8"])),
        ("127.0.0.0/44", Err("127.0.0.0/44")),
        (
            "127.0.0.0/16, 23.23.23.23/24,",
            Ok(&["127.0.0.0/16", "23.23.23.23/24"]),
        ),
    ];

    #[test]
    fn parse_matches_geth_vectors() {
        for &(input, want) in PARSE_CASES {
            match want {
                Ok(list) => {
                    let got = Netlist::parse(input).unwrap();
                    assert_eq!(listed(&got), list, "{input:?}");
                }
                Err(entry) => {
                    let err = Netlist::parse(input).unwrap_err();
                    assert_eq!(err, NetlistError(entry.to_string()), "{input:?}");
                    assert!(err.to_string().contains(entry));
                }
            }
        }
    }

    #[test]
    fn parse_keeps_order_and_handles_ipv6() {
        let l = Netlist::parse(" fc00::/7,\n10.0.0.0/8 ,\t2001:db8::/32 ,, ").unwrap();
        assert_eq!(listed(&l), ["fc00::/7", "10.0.0.0/8", "2001:db8::/32"]);
        assert_eq!(l.len(), 3);
        assert!(l.contains(ip("fd12::1")));
        assert!(l.contains(ip("10.9.8.7")));
        assert!(l.contains(ip("2001:db8:ffff::1")));
        assert!(!l.contains(ip("2001:db9::1")));
        assert!(!l.contains(ip("11.0.0.1")));
        assert_eq!(Netlist::parse(&l.to_string()).unwrap(), l);
    }

    #[test]
    fn parse_rejects_malformed_entries() {
        for bad in [
            "10.0.0.0",
            "10.0.0.0/",
            "/8",
            "10.0.0/8",
            "10.0.0.0/08",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.0/0x8",
            "10.0.0.0/8/8",
            "::/129",
            "fe80::1%eth0/64",
            "256.0.0.0/8",
            "10.0.0.0/0008",
            "10.0.0.0/99999999999999999999",
        ] {
            let input = format!("1.2.3.0/24,{bad}");
            assert_eq!(
                Netlist::parse(&input),
                Err(NetlistError(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn ipv4_mapped_addresses_and_networks_are_ipv4() {
        let l = Netlist::parse("10.0.0.0/8,::ffff:192.168.0.0/112").unwrap();
        assert_eq!(listed(&l), ["10.0.0.0/8", "192.168.0.0/16"]);
        assert!(l.contains(ip("::ffff:10.1.2.3")));
        assert!(l.contains(ip("192.168.4.4")));
        assert!(!l.contains(ip("::ffff:11.1.2.3")));
    }

    #[test]
    fn families_do_not_mix() {
        let all4 = Netlist::parse("0.0.0.0/0").unwrap();
        let all6 = Netlist::parse("::/0").unwrap();
        assert!(all4.contains(ip("8.8.8.8")));
        assert!(!all4.contains(ip("2a00::1")));
        assert!(all6.contains(ip("2a00::1")));
        assert!(!all6.contains(ip("8.8.8.8")));
        assert!(!Netlist::default().contains(ip("8.8.8.8")));
    }

    fn reference_contains(nets: &[(u32, u8)], probe: u32) -> bool {
        nets.iter().any(|&(net, len)| {
            let shift = 32 - u32::from(len);
            u64::from(net) >> shift == u64::from(probe) >> shift
        })
    }

    proptest! {
        #[test]
        fn parse_then_contains_agrees_with_reference(
            nets in prop::collection::vec((any::<u32>(), 0u8..=32), 0..6),
            noise in prop::collection::vec(any::<u32>(), 8),
            pick in any::<prop::sample::Index>(),
        ) {
            let text = nets
                .iter()
                .map(|&(net, len)| format!("{}/{len}", Ipv4Addr::from_bits(net)))
                .collect::<Vec<_>>()
                .join(", ");
            let list = Netlist::parse(&text).unwrap();
            prop_assert_eq!(list.len(), nets.len());
            // Probe random addresses and, to hit the lists often, addresses inside a listed
            // network with random host bits.
            let mut probes = noise.clone();
            if !nets.is_empty() {
                let (net, len) = nets[pick.index(nets.len())];
                let host_mask = u32::MAX.checked_shr(u32::from(len)).unwrap_or(0);
                probes.extend(noise.iter().map(|n| (net & !host_mask) | (n & host_mask)));
            }
            for p in probes {
                let want = reference_contains(&nets, p);
                prop_assert_eq!(list.contains(IpAddr::V4(Ipv4Addr::from_bits(p))), want);
                let mapped = IpAddr::V6(Ipv4Addr::from_bits(p).to_ipv6_mapped());
                prop_assert_eq!(list.contains(mapped), want);
            }
        }
    }
}
