//! IP address rules of the discovery layer, as go-ethereum's `p2p/netutil`: LAN and special
//! networks, relay-IP checks for received neighbours, subnet limits, CIDR allow-lists
//! (netrestrict) and external endpoint prediction from peers' statements.
//!
//! Everywhere here an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is treated as the IPv4
//! address it maps, so the two spellings of one host can never be told apart.
//!
//! - `ip.rs`: [`is_lan`], [`is_special_network`], [`check_relay_ip`], [`same_net`].
//! - `netlist.rs`: [`Cidr`] and [`Netlist`].
//! - `distinct.rs`: [`DistinctNetSet`].
//! - `iptrack.rs`: [`IpTracker`].

mod distinct;
mod ip;
mod iptrack;
mod netlist;

pub use distinct::DistinctNetSet;
pub use ip::{check_relay_ip, is_lan, is_special_network, same_net, RelayError};
pub use iptrack::{IpTracker, MAX_TRACKED_CONTACTS, MAX_TRACKED_STATEMENTS};
pub use netlist::{Cidr, Netlist, NetlistError};
