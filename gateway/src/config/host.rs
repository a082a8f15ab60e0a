//! A `Host` value or a `console.allowed_hosts` entry, parsed: what config
//! validation accepts in `console.allowed_hosts` and what the console
//! compares a request's `Host` and `Origin` with.

use std::net::IpAddr;

/// A `Host` value or a `console.allowed_hosts` entry: a name (lowercase,
/// without a trailing dot) or an IP address, and maybe a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostName {
    /// The name or address.
    pub(crate) name: Name,
    /// The port, when one is given.
    pub(crate) port: Option<u16>,
}

/// A host's name: an IP address, or a DNS name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Name {
    /// An IP address.
    Ip(IpAddr),
    /// A DNS name, lowercase, without a trailing dot.
    Dns(String),
}

impl HostName {
    /// Parses `name`, `name:port`, `1.2.3.4[:port]` or `[v6][:port]`;
    /// `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (name, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest.split_once(']')?;
            let ip: std::net::Ipv6Addr = inside.parse().ok()?;
            (Name::Ip(IpAddr::V6(ip)), after)
        } else {
            let (name, after) = match text.find(':') {
                Some(at) => text.split_at(at),
                None => (text, ""),
            };
            (dns_or_ip(name)?, after)
        };
        let port = match port {
            "" => None,
            colon_port => Some(colon_port.strip_prefix(':')?.parse::<u16>().ok()?),
        };
        Some(Self { name, port })
    }

    /// Whether it names this machine (a loopback address or `localhost`).
    pub(crate) fn is_loopback(&self) -> bool {
        match &self.name {
            Name::Ip(ip) => ip.is_loopback(),
            Name::Dns(name) => name == "localhost",
        }
    }

    /// The port, the scheme's default when absent.
    pub(crate) fn port_or(&self, default: u16) -> u16 {
        self.port.unwrap_or(default)
    }
}

fn dns_or_ip(name: &str) -> Option<Name> {
    if let Ok(ip) = name.parse::<std::net::Ipv4Addr>() {
        return Some(Name::Ip(IpAddr::V4(ip)));
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    valid.then_some(Name::Dns(name))
}
