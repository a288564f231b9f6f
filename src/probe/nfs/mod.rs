//! The NFS probe of `clp_nfsmon`: portmapper → MOUNT v3 → `NFSv3` `NULL`/`GETATTR`/`FSINFO` →
//! `UMNT`, or an `NFSv4` COMPOUND walk for servers that run no portmapper (SPEC §3); with
//! `--check read` (the default) or `write`, the operations that must reach the exported file
//! system and the canary follow on the same connection (`roads::levels`).
//!
//! The ONC RPC client is written here by hand rather than taken from a crate, because the probe
//! needs three things the available clients do not give together: plain sockets where every
//! wait is cut at the one probe deadline and the cancel token (no async runtime to carry
//! for a handful of round trips), the exact RPC/MOUNT/NFS status of whatever failed (the alert
//! texts are `clnt_sperror`'s and `mount error(MNT3ERR_…)`), and `AUTH_SYS` from a reserved port.
//! It never mounts anything in the kernel: a hung kernel mount would put the monitor itself in D
//! state, which is exactly the failure it must detect.
//!
//! Which road a probe takes: `--nfs4` always walks `NFSv4`; `--mount-port` always walks v3 (with
//! `-n` too it asks no portmapper at all, as `mount.nfs` with `mountport=` and `port=`). Otherwise
//! the probe asks the portmapper. While no probe has reached the server over v3, the server is
//! taken to be NFSv4-only, and the v4 walk is tried instead, when the portmapper refuses the
//! connection or answers without MOUNT v3 registered — asked afresh at every probe, so a v3
//! server whose rpcbind or mountd was late once is not watched as v4-only for good. If `NFSv4` is
//! not served either (refused, or NFS without version 4), the portmapper's answer is the
//! failure reported. A server that was once reached over v3 and then loses its portmapper or
//! MOUNT is a fault (`RPC: Port mapper failure - …`, `RPC: Program not registered.`), not a
//! reason to switch roads; so is a refusal of a portmapper named explicitly with `-a HOST:PORT`.
//!
//! The pieces: [`xdr`] and [`rpc`] (codec and client) under [`portmap`], [`mount`], [`nfs3`] and
//! [`nfs4`] (each protocol's messages and status names); `roads` runs the steps of one probe.
//! This module turns the arguments into a probe and holds what it learnt between probes.

pub mod mount;
pub mod nfs3;
pub mod nfs4;
pub mod portmap;
mod roads;
pub mod rpc;
pub mod xdr;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::Duration;

use crate::alert::Module;
use crate::probe::attempt;
use crate::probe::net::{Address, AddressError, Defaults, Host};
use crate::probe::{CheckLevel, Probe, ProbeCtx, ProbeFailure, ProbeReport};
use roads::alerts;
use rpc::Proto;

/// This server's own address for a default `-a`: the first non-loopback IPv4 address of an
/// interface that is up (in the kernel's interface order), else 127.0.0.1.
pub fn default_address() -> IpAddr {
    let found = nix::ifaddrs::getifaddrs()
        .ok()
        .and_then(|addrs| pick_default(addrs.filter_map(|a| Some((a.flags, ipv4_of(&a)?)))));
    let ip = IpAddr::V4(found.unwrap_or(Ipv4Addr::LOCALHOST));
    tracing::info!(address = %ip, "clp_nfsmon: no -a given, watching this server's address {ip}");
    ip
}

/// The IPv4 address of an interface address entry, if it has one.
fn ipv4_of(a: &nix::ifaddrs::InterfaceAddress) -> Option<Ipv4Addr> {
    a.address
        .and_then(|s| s.as_sockaddr_in().map(nix::sys::socket::SockaddrIn::ip))
}

/// The rule behind [`default_address`], apart from the system call: the first address of an
/// interface that is up that is neither loopback nor unspecified.
fn pick_default(
    addrs: impl IntoIterator<Item = (nix::net::if_::InterfaceFlags, Ipv4Addr)>,
) -> Option<Ipv4Addr> {
    addrs
        .into_iter()
        .filter(|(flags, _)| flags.contains(nix::net::if_::InterfaceFlags::IFF_UP))
        .map(|(_, ip)| ip)
        .find(|ip| !ip.is_loopback() && !ip.is_unspecified())
}

/// Where `clp_nfsmon` talks to without `-a`: this server's own address, and the portmapper's
/// well-known port.
const DEFAULTS: Defaults = Defaults {
    host: default_address,
    port: portmap::PORT,
};

/// Why `clp_nfsmon`'s arguments make no probe (an invalid parameter, event 11).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `-d` is empty or longer than `MNTPATHLEN`.
    #[error("invalid directory {0:?}")]
    Directory(String),
    /// `--udp` with `--nfs4`.
    #[error("--udp cannot be combined with --nfs4 (NFSv4 runs over TCP)")]
    UdpWithNfs4,
    /// `--mount-port` with `--nfs4`.
    #[error("--mount-port cannot be combined with --nfs4 (NFSv4 has no MOUNT)")]
    MountPortWithNfs4,
    /// `-a` breaks the address rule.
    #[error(transparent)]
    Address(#[from] AddressError),
}

/// What earlier probes learnt about the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Road {
    Unknown,
    V3,
    V4,
}

/// The NFS probe.
pub struct NfsProbe {
    target: String,
    /// The server (a name is looked up by every probe, see [`resolve`]).
    host: Host,
    pmap_port: u16,
    /// `-a HOST:PORT` named the portmapper: it must answer, no `NFSv4` fallback.
    pmap_explicit: bool,
    nfs_port: Option<u16>,
    /// `--mount-port`: MOUNT's port, not asked of the portmapper; keeps the probe on v3.
    mount_port: Option<u16>,
    nfs4: bool,
    proto: Proto,
    road: Mutex<Road>,
    check: CheckLevel,
    /// The canary's name at the export's root (`--check write`).
    canary: String,
    /// This probe's boot verifier as an `NFSv4.0` client (`--check write`): the same in every
    /// probe, so the server keeps one client record for the monitor (see `roads::levels`).
    v40_boot: [u8; 8],
}

/// What an NFS probe watches and how it talks to the server: built by `clp_nfsmon`'s front end
/// from its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NfsTarget {
    /// The exported directory (for `NFSv4`, the path a client mounts).
    pub export: String,
    /// `IP`, `HOST`, `HOST:PORT` (the portmapper's) or `[V6]:PORT`; `None`: this server.
    pub address: Option<String>,
    /// The NFS port, instead of asking the portmapper.
    pub nfs_port: Option<u16>,
    /// The MOUNT port, instead of asking the portmapper.
    pub mount_port: Option<u16>,
    /// `NFSv4` COMPOUNDs only (no portmapper, no MOUNT).
    pub nfs4: bool,
    /// Portmapper, MOUNT and NFS over UDP.
    pub udp: bool,
    /// How deep a probe goes (`--check`).
    pub check: CheckLevel,
    /// The canary's name at the export's root (`--check write`).
    pub canary: String,
}

impl NfsProbe {
    /// Builds the probe for `t`; `Err` is an invalid parameter (event 11).
    pub fn new(t: &NfsTarget) -> Result<Self, ConfigError> {
        if t.export.is_empty() || t.export.len() > mount::MNTPATHLEN as usize {
            return Err(ConfigError::Directory(t.export.clone()));
        }
        if t.nfs4 && t.udp {
            return Err(ConfigError::UdpWithNfs4);
        }
        if t.nfs4 && t.mount_port.is_some() {
            return Err(ConfigError::MountPortWithNfs4);
        }
        let address = Address::parse(t.address.as_deref(), &DEFAULTS)?;
        Ok(Self {
            target: t.export.clone(),
            host: address.host,
            pmap_port: address.port,
            pmap_explicit: address.port_given,
            nfs_port: t.nfs_port,
            mount_port: t.mount_port,
            nfs4: t.nfs4,
            proto: if t.udp { Proto::Udp } else { Proto::Tcp },
            road: Mutex::new(Road::Unknown),
            check: t.check,
            canary: t.canary.clone(),
            v40_boot: getrandom::u64().unwrap_or(1).to_be_bytes(),
        })
    }

    /// The server address probed; `None` when `-a` named a host, looked up at every probe.
    pub fn host(&self) -> Option<IpAddr> {
        match &self.host {
            Host::Ip(ip) => Some(*ip),
            Host::Name(_) => None,
        }
    }

    fn learn(&self, road: Road) {
        *self
            .road
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = road;
    }
}

impl Probe for NfsProbe {
    fn module(&self) -> Module {
        Module::Nfsmon
    }

    fn target(&self) -> &str {
        &self.target
    }

    fn check(&self) -> CheckLevel {
        self.check
    }

    fn run(&self, ctx: &ProbeCtx) -> Result<ProbeReport, ProbeFailure> {
        roads::run(self, ctx)
    }

    fn timeout_failure(&self, timeout: Duration) -> ProbeFailure {
        attempt::abandoned(
            timeout,
            format!("RPC_TIMEDOUT after {:.3} s", timeout.as_secs_f64()),
            alerts("RPC: Timed out"),
            vec![("address", self.host.to_string())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Event;

    #[test]
    fn default_address_skips_loopback_down_and_unspecified() {
        use nix::net::if_::InterfaceFlags as F;
        let lo = (F::IFF_UP | F::IFF_LOOPBACK, Ipv4Addr::LOCALHOST);
        let down = (F::empty(), Ipv4Addr::new(192, 0, 2, 7));
        let any = (F::IFF_UP, Ipv4Addr::UNSPECIFIED);
        let eth0 = (F::IFF_UP, Ipv4Addr::new(192, 0, 2, 1));
        let eth1 = (F::IFF_UP, Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(pick_default([lo, down, any, eth0, eth1]), Some(eth0.1));
        assert_eq!(
            pick_default([eth1, eth0]),
            Some(eth1.1),
            "the first one, in order"
        );
        assert_eq!(pick_default([lo, down, any]), None);
        assert_eq!(pick_default([]), None);
    }

    #[test]
    fn default_address_is_the_rule_applied_to_this_host() {
        let want = pick_default(
            nix::ifaddrs::getifaddrs()
                .unwrap()
                .filter_map(|a| Some((a.flags, ipv4_of(&a)?))),
        )
        .unwrap_or(Ipv4Addr::LOCALHOST);
        assert_eq!(default_address(), IpAddr::V4(want));
    }

    /// A name that does not resolve (RFC 2606 `.invalid`) starts a monitor; each probe then
    /// fails in phase `resolve` with `clnt_sperror`'s text, within its deadline.
    #[test]
    fn an_unresolvable_name_is_a_failed_probe_not_a_usage_error() {
        let parsed = crate::cli::parse(
            Module::Nfsmon,
            &["n1", "-d", "/export", "-a", "nosuch.invalid"].map(String::from),
        );
        let Ok(crate::cli::Parsed::Run {
            command: crate::cli::Command::Monitor(args),
            ..
        }) = parsed
        else {
            panic!("{parsed:?}");
        };
        let probe = crate::applets::clp_nfsmon::probe(&args).unwrap();
        assert_eq!(probe.host(), None);
        let started = std::time::Instant::now();
        let f = probe
            .run(&ProbeCtx::new(Duration::from_secs(3)))
            .unwrap_err();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(4), "{took:?}");
        assert_eq!(f.phase, "resolve", "{f:?}");
        assert!(
            f.status.starts_with("RPC_UNKNOWNHOST") || f.status.starts_with("RPC_TIMEDOUT"),
            "{f:?}"
        );
        assert_eq!(f.alerts.len(), 2);
        assert!(f.alerts[0].text.starts_with("clp_nfsmon: RPC: "), "{f:?}");
        assert_eq!(f.alerts[1].event, Event::NfsError);
        assert!(f.detail.contains(&("address", "nosuch.invalid".into())));
    }
}
