//! The `-a` address rule of both monitors, with each probe's defaults as a parameter, and a
//! name lookup that keeps the probe's deadline.
//!
//! | `-a`                      | host                    | port                       |
//! |---------------------------|-------------------------|----------------------------|
//! | absent                    | the probe's default     | the probe's default        |
//! | `IP` (v4, or bare v6)     | that address            | the probe's default        |
//! | `HOST`                    | that name               | the probe's default        |
//! | `HOST:PORT`, `IPv4:PORT`  | that name or address    | PORT (1–65535)             |
//! | `[V6]`, `[V6]:PORT`       | that IPv6 address       | the default, or PORT       |
//!
//! HOST is letters, digits, `.`, `-` and `_`, at most 255 of them; surrounding blanks are
//! ignored. The defaults are each probe's ([`Defaults`]): `clp_sambamon` talks to 127.0.0.1 on
//! port 445, `clp_nfsmon` to this server's own address (see `probe::nfs::default_address`) and
//! asks the portmapper on port 111. One rule for both, because an administrator writes `-a` the
//! same way for either monitor and a cluster script may template it.
//!
//! A name is never looked up when `-a` is parsed but by every probe, within its deadline
//! ([`lookup`]): a DNS outage is then a failed probe, not a monitor that cannot start, and a
//! moved name is followed.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use crate::probe::Deadline;

/// Why `-a` is refused (an invalid parameter, event 11).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing was given.
    #[error("empty address")]
    Empty,
    /// The port is not 1–65535.
    #[error("bad port {0:?}")]
    Port(String),
    /// A `[` without its `]`.
    #[error("unclosed '[' in {0:?}")]
    Unclosed(String),
    /// Something other than `:PORT` after `]`.
    #[error("junk after ']' in {0:?}")]
    Junk(String),
    /// Between brackets, but no IPv6 address.
    #[error("bad IPv6 address {0:?}")]
    Ipv6(String),
    /// A host name with characters outside the rule, or too long.
    #[error("bad host {0:?}")]
    Host(String),
}

/// What a probe takes when `-a` leaves a part out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Defaults {
    /// The server when `-a` is absent (computed only then).
    pub(crate) host: fn() -> IpAddr,
    /// The port when `-a` names none.
    pub(crate) port: u16,
}

/// The server as `-a` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Host {
    /// An address.
    Ip(IpAddr),
    /// A host name, looked up by every probe.
    Name(String),
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Name(n) => f.write_str(n),
        }
    }
}

impl Host {
    /// The socket addresses of this host at `port`: an address at once, a name by [`lookup`]
    /// within `deadline`.
    pub(crate) fn resolve(&self, port: u16, deadline: Deadline) -> io::Result<Vec<SocketAddr>> {
        match self {
            Self::Ip(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
            Self::Name(name) => lookup(name, port, deadline),
        }
    }
}

/// Where a probe talks to: host and port, by the rule in the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Address {
    /// The server.
    pub(crate) host: Host,
    /// The port.
    pub(crate) port: u16,
    /// `-a` named the port (else it is the probe's default).
    pub(crate) port_given: bool,
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            _ => write!(f, "{}:{}", self.host, self.port),
        }
    }
}

impl Address {
    /// Parses `-a` (`None`: absent) by the rule in the module doc, filling in `defaults`.
    pub(crate) fn parse(a: Option<&str>, defaults: &Defaults) -> Result<Self, AddressError> {
        let Some(s) = a else {
            return Ok(Self {
                host: Host::Ip((defaults.host)()),
                port: defaults.port,
                port_given: false,
            });
        };
        let s = s.trim();
        let (host, port) = split_address(s)?;
        let port = port
            .map(|p| match p.parse::<u16>() {
                Ok(0) | Err(_) => Err(AddressError::Port(p.into())),
                Ok(n) => Ok(n),
            })
            .transpose()?;
        Ok(Self {
            host,
            port: port.unwrap_or(defaults.port),
            port_given: port.is_some(),
        })
    }

    /// The socket addresses to try, within `deadline` (see [`Host::resolve`]).
    pub(crate) fn resolve(&self, deadline: Deadline) -> io::Result<Vec<SocketAddr>> {
        self.host.resolve(self.port, deadline)
    }
}

/// Splits a trimmed `-a` into its host and the port text, if any.
fn split_address(s: &str) -> Result<(Host, Option<&str>), AddressError> {
    if s.is_empty() {
        return Err(AddressError::Empty);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (inner, tail) = rest
            .split_once(']')
            .ok_or_else(|| AddressError::Unclosed(s.into()))?;
        let ip = inner
            .parse::<Ipv6Addr>()
            .map_err(|_| AddressError::Ipv6(inner.into()))?;
        let port = match tail {
            "" => None,
            t => Some(
                t.strip_prefix(':')
                    .ok_or_else(|| AddressError::Junk(s.into()))?,
            ),
        };
        return Ok((Host::Ip(IpAddr::V6(ip)), port));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok((Host::Ip(ip), None));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    if host.is_empty()
        || host.len() > 255
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(AddressError::Host(host.into()));
    }
    Ok((
        host.parse::<IpAddr>()
            .map_or_else(|_| Host::Name(host.into()), Host::Ip),
        port,
    ))
}

/// Looks `host` up with the system resolver, which has no deadline of its own: the lookup runs
/// on a thread of its own and is waited for only until `deadline` (`Err(TimedOut)` then; the
/// thread ends whenever the resolver does). Literal addresses should be parsed before calling.
pub(crate) fn lookup(host: &str, port: u16, deadline: Deadline) -> io::Result<Vec<SocketAddr>> {
    use std::net::ToSocketAddrs;
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("resolve".into())
        .spawn(move || {
            let _ = tx.send(
                (name.as_str(), port)
                    .to_socket_addrs()
                    .map(Iterator::collect::<Vec<_>>),
            );
        })?;
    match rx.recv_timeout(deadline.remaining().unwrap_or_default()) {
        Ok(Ok(v)) if v.is_empty() => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} has no address"),
        )),
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("looking up {host} took longer than the deadline"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    const SMB: Defaults = Defaults {
        host: || IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 445,
    };
    const PMAP: Defaults = Defaults {
        host: || IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        port: 111,
    };

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    #[test]
    fn addresses_parse() {
        let p = |s| Address::parse(Some(s), &SMB);
        assert_eq!(
            p("127.0.0.1").unwrap(),
            Address {
                host: ip("127.0.0.1"),
                port: 445,
                port_given: false,
            }
        );
        assert_eq!(p("10.0.0.1:139").unwrap().port, 139);
        assert_eq!(
            p("fs01.example").unwrap().host,
            Host::Name("fs01.example".into())
        );
        assert_eq!(
            p("[::1]:4450").unwrap(),
            Address {
                host: ip("::1"),
                port: 4450,
                port_given: true,
            }
        );
        assert_eq!(p("[fe80::1]").unwrap().port, 445);
        assert_eq!(
            p("::1").unwrap(),
            Address {
                host: ip("::1"),
                port: 445,
                port_given: false,
            }
        );
        for bad in [
            "",
            "host:0",
            "host:99999",
            "[::1",
            "[::1]x",
            "[nothost]:1",
            "a b",
            "h:",
        ] {
            assert!(p(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(p("[::1]:4450").unwrap().to_string(), "[::1]:4450");
        assert_eq!(p(" fs01:1445 ").unwrap().to_string(), "fs01:1445");
        assert_eq!(
            p(&"a".repeat(256)),
            Err(AddressError::Host("a".repeat(256)))
        );
    }

    #[test]
    fn the_defaults_are_the_probes_own() {
        assert_eq!(
            Address::parse(None, &SMB).unwrap().to_string(),
            "127.0.0.1:445"
        );
        let nfs = Address::parse(None, &PMAP).unwrap();
        assert_eq!(
            (nfs.host, nfs.port, nfs.port_given),
            (ip("192.0.2.1"), 111, false)
        );
    }

    #[test]
    fn portmapper_addresses_parse() {
        let p = |s| {
            let a = Address::parse(Some(s), &PMAP).map_err(|e| e.to_string())?;
            Ok::<_, String>((a.host, a.port_given.then_some(a.port)))
        };
        assert_eq!(p("10.0.0.1").unwrap(), (ip("10.0.0.1"), None));
        assert_eq!(p("10.0.0.1:1111").unwrap(), (ip("10.0.0.1"), Some(1111)));
        assert_eq!(p("[::1]:111").unwrap(), (ip("::1"), Some(111)));
        // A name is looked up by each probe, not at start.
        assert_eq!(
            p("localhost").unwrap(),
            (Host::Name("localhost".into()), None)
        );
        assert_eq!(
            p("nfs.example:1111").unwrap(),
            (Host::Name("nfs.example".into()), Some(1111))
        );
        assert!(p("10.0.0.1:0").is_err());
        assert!(p("10.0.0.1:x").is_err());
        assert!(p("").is_err());
    }

    #[test]
    fn literals_resolve_without_a_lookup_and_names_within_the_deadline() {
        let expired = Deadline::after(Duration::ZERO);
        assert_eq!(
            ip("::1").resolve(7, expired).unwrap(),
            ["[::1]:7".parse().unwrap()]
        );
        let named = Host::Name("localhost".into())
            .resolve(7, Deadline::after(Duration::from_secs(5)))
            .unwrap();
        assert!(
            named.iter().all(|a| a.port() == 7 && a.ip().is_loopback()),
            "{named:?}"
        );
    }
}
