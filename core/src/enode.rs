//! `enode://` URLs: a node's public key with its IP, TCP port and optional discovery port
//! (`enode://<128 hex>@<ip>:<tcp>?discport=<udp>`), as go-ethereum prints and parses them.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::types::PeerId;

/// A parsed enode URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Enode {
    /// The node's public key.
    pub id: PeerId,
    /// IP address.
    pub ip: IpAddr,
    /// TCP (RLPx) port.
    pub tcp_port: u16,
    /// UDP (discovery) port; equals `tcp_port` unless `?discport=` says otherwise.
    pub udp_port: u16,
}

/// Why a string is not an enode URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnodeError {
    /// Missing the `enode://` scheme.
    #[error("missing enode:// scheme")]
    Scheme,
    /// The id is not 128 hex characters.
    #[error("invalid node id (want 128 hex characters)")]
    Id,
    /// The id is not a point on the curve.
    #[error("node id is not a valid secp256k1 public key")]
    NotOnCurve,
    /// Missing or invalid `ip:port`.
    #[error("invalid host or port")]
    Address,
    /// A malformed `discport` query.
    #[error("invalid discport")]
    DiscPort,
}

impl Enode {
    /// The TCP address to dial.
    pub fn tcp_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.tcp_port)
    }

    /// The UDP address for discovery.
    pub fn udp_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.udp_port)
    }
}

impl FromStr for Enode {
    type Err = EnodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s
            .trim()
            .strip_prefix("enode://")
            .ok_or(EnodeError::Scheme)?;
        // The id is checked before the address so that `enode://<bad id>` reports the id,
        // as go-ethereum's `ParseV4` does.
        let (id_hex, addr_part) = match rest.split_once('@') {
            Some((id, addr)) => (id, Some(addr)),
            None => (rest, None),
        };
        if id_hex.len() != 128 {
            return Err(EnodeError::Id);
        }
        let id = PeerId::from_hex(id_hex).ok_or(EnodeError::Id)?;
        id.public_key().map_err(|_| EnodeError::NotOnCurve)?;
        let addr_part = addr_part.ok_or(EnodeError::Address)?;
        let (hostport, query) = match addr_part.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (addr_part, None),
        };
        let sock: SocketAddr = hostport.parse().map_err(|_| EnodeError::Address)?;
        let mut udp_port = sock.port();
        if let Some(q) = query {
            for pair in q.split('&') {
                if let Some(v) = pair.strip_prefix("discport=") {
                    udp_port = v.parse().map_err(|_| EnodeError::DiscPort)?;
                }
            }
        }
        Ok(Enode {
            id,
            ip: sock.ip(),
            tcp_port: sock.port(),
            udp_port,
        })
    }
}

impl fmt::Display for Enode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enode://{}@{}", self.id.to_hex(), self.tcp_addr())?;
        if self.udp_port != self.tcp_port {
            write!(f, "?discport={}", self.udp_port)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877";

    #[test]
    fn parses_and_formats_with_discport() {
        let s = format!("enode://{ID}@10.3.58.6:30303?discport=30301");
        let e: Enode = s.parse().unwrap();
        assert_eq!(e.tcp_port, 30303);
        assert_eq!(e.udp_port, 30301);
        assert_eq!(e.to_string(), s);
    }

    #[test]
    fn ipv6_round_trips() {
        let s = format!("enode://{ID}@[::1]:30303");
        let e: Enode = s.parse().unwrap();
        assert_eq!(e.udp_port, 30303);
        assert_eq!(e.to_string(), s);
    }

    #[test]
    fn rejects_bad_inputs() {
        assert_eq!("http://x".parse::<Enode>(), Err(EnodeError::Scheme));
        assert_eq!(
            format!("enode://{}@1.2.3.4:1", &ID[..126]).parse::<Enode>(),
            Err(EnodeError::Id)
        );
        assert_eq!(
            format!("enode://{}@1.2.3.4:1", "11".repeat(64)).parse::<Enode>(),
            Err(EnodeError::NotOnCurve)
        );
        assert_eq!(
            format!("enode://{ID}@1.2.3.4").parse::<Enode>(),
            Err(EnodeError::Address)
        );
    }
}
