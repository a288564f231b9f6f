//! The NFS probe of `clp_nfsmon`: portmapper → MOUNT v3 → `NFSv3` `NULL`/`GETATTR`/`FSINFO` →
//! `UMNT`, or an `NFSv4` COMPOUND walk for servers that run no portmapper (SPEC §3).
//!
//! The ONC RPC client is written here by hand rather than taken from a crate, because the probe
//! needs three things the available clients do not give together: plain blocking sockets where
//! every wait is cut at the one probe deadline and the cancel token (no async runtime to carry
//! for a handful of round trips), the exact RPC/MOUNT/NFS status of whatever failed (the alert
//! texts are `clnt_sperror`'s and `mount error(MNT3ERR_…)`), and `AUTH_SYS` from a reserved port.
//! It never mounts anything in the kernel: a hung kernel mount would put the monitor itself in D
//! state, which is exactly the failure it must detect.
//!
//! Which road a probe takes: `--nfs4` always walks `NFSv4`. Otherwise the probe asks the
//! portmapper; if the portmapper refuses the connection and this probe has never reached the
//! server through it, the server is taken to be NFSv4-only and the v4 walk is tried instead —
//! asked afresh at every probe, so a v3 server whose rpcbind was late once is not watched as
//! v4-only for good. A server that was once reached through the portmapper and then
//! loses it is a fault (`RPC: Port mapper failure - …`), not a reason to switch roads; so is a
//! portmapper named explicitly with `-a HOST:PORT`.

pub mod mount;
pub mod nfs3;
pub mod nfs4;
pub mod portmap;
pub mod rpc;
pub mod xdr;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use crate::alert::{Alert, Event, Module};
use crate::args::MonitorArgs;
use crate::probe::attempt::{self, Attempt};
use crate::probe::net::{self, Address, AddressError, Defaults, Host};
use crate::probe::{Deadline, Probe, ProbeCtx, ProbeFailure, ProbeReport};
use rpc::{AuthSys, Proto, RpcClient, RpcError};

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

/// Looks `name` up within `deadline`, preferring IPv4 as the portmapper registrations of most
/// servers are. A failure is phase `resolve` with `clnt_sperror`'s text.
fn resolve(name: &str, deadline: Deadline) -> Result<IpAddr, Fail> {
    let fail = |status: String, text: &str| Fail {
        phase: "resolve",
        status,
        text: text.into(),
    };
    match net::lookup(name, 0, deadline) {
        Ok(addrs) => {
            let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
            ips.iter()
                .find(|ip| ip.is_ipv4())
                .or(ips.first())
                .copied()
                .ok_or_else(|| {
                    fail(
                        format!("RPC_UNKNOWNHOST: {name} has no address"),
                        "RPC: Unknown host",
                    )
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            Err(fail(format!("RPC_TIMEDOUT: {e}"), "RPC: Timed out"))
        }
        Err(e) => Err(fail(
            format!("RPC_UNKNOWNHOST: cannot resolve {name}: {e}"),
            "RPC: Unknown host",
        )),
    }
}

/// Why `clp_nfsmon`'s arguments make no probe (an invalid parameter, event 11).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `-d` is empty or longer than `MNTPATHLEN`.
    #[error("invalid directory {0:?}")]
    Directory(String),
    /// `--udp` with `--nfs4`.
    #[error("--udp cannot be combined with --nfs4 (NFSv4 runs over TCP)")]
    UdpWithNfs4,
    /// `-a` breaks the address rule.
    #[error(transparent)]
    Address(#[from] AddressError),
}

/// The applets' probe factories report an invalid parameter as text.
impl From<ConfigError> for String {
    fn from(e: ConfigError) -> Self {
        e.to_string()
    }
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
    nfs4: bool,
    proto: Proto,
    road: Mutex<Road>,
}

impl NfsProbe {
    /// Builds the probe from `clp_nfsmon`'s options; `Err` is an invalid parameter (event 11).
    pub fn from_args(a: &MonitorArgs) -> Result<Self, ConfigError> {
        if a.target.is_empty() || a.target.len() > mount::MNTPATHLEN as usize {
            return Err(ConfigError::Directory(a.target.clone()));
        }
        if a.nfs4 && a.udp {
            return Err(ConfigError::UdpWithNfs4);
        }
        let address = Address::parse(a.address.as_deref(), &DEFAULTS)?;
        Ok(Self {
            target: a.target.clone(),
            host: address.host,
            pmap_port: address.port,
            pmap_explicit: address.port_given,
            nfs_port: a.nfs_port,
            nfs4: a.nfs4,
            proto: if a.udp { Proto::Udp } else { Proto::Tcp },
            road: Mutex::new(Road::Unknown),
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

/// Alerts for a failure whose detail text is `text` (event 0, then 66).
fn alerts(text: &str) -> Vec<Alert> {
    vec![
        Alert::new(Module::Nfsmon, Event::Detail, &[&text]),
        Alert::plain(Module::Nfsmon, Event::NfsError),
    ]
}

/// One probe in progress.
struct Run<'a> {
    p: &'a NfsProbe,
    ctx: &'a ProbeCtx,
    /// The server's address for this probe.
    ip: IpAddr,
    /// Its clock and fault-log facts.
    a: Attempt,
}

/// A failed step: phase, status, alert text.
#[derive(Debug)]
struct Fail {
    phase: &'static str,
    status: String,
    text: String,
}

impl Fail {
    fn rpc(phase: &'static str, e: &RpcError) -> Self {
        let text = if phase == "portmap" {
            let t = e.to_string();
            format!(
                "RPC: Port mapper failure - {}",
                t.strip_prefix("RPC: ").unwrap_or(&t)
            )
        } else {
            e.to_string()
        };
        Self {
            phase,
            status: e.status(),
            text,
        }
    }

    fn garbage(phase: &'static str, what: &str) -> Self {
        Self {
            phase,
            status: "RPC_CANTDECODERES".into(),
            text: format!("RPC: Can't decode result ({what} without its result)"),
        }
    }

    fn nfs3(phase: &'static str, s: u32) -> Self {
        let name = nfs3::nfsstat3_name(s).map_or_else(|| format!("nfsstat3 {s}"), str::to_owned);
        Self {
            phase,
            status: format!("{name} ({s})"),
            text: name,
        }
    }
}

impl Run<'_> {
    fn client(&self, port: u16, proto: Proto, auth: bool) -> Result<RpcClient, RpcError> {
        if self.ctx.cancel.is_cancelled() {
            return Err(RpcError::Net(net::Error::Cancelled));
        }
        let cred = auth.then(AuthSys::root);
        RpcClient::connect(
            SocketAddr::new(self.ip, port),
            proto,
            auth,
            cred,
            self.ctx.deadline,
            &self.ctx.cancel,
        )
    }

    /// Portmapper: (MOUNT port, NFS port).
    fn portmap(&mut self) -> Result<(u16, u16), (Fail, bool)> {
        let proto = self.p.proto;
        let refused = |e: &RpcError| (Fail::rpc("portmap", e), e.is_refused());
        let mut c = self
            .client(self.p.pmap_port, proto, false)
            .map_err(|e| refused(&e))?;
        let not_registered = |what: &str| {
            (
                Fail {
                    phase: "portmap",
                    status: format!("{what} not registered"),
                    text: "RPC: Program not registered.".into(),
                },
                false,
            )
        };
        let mport = portmap::getport(&mut c, mount::PROG, mount::VERS, proto)
            .map_err(|e| refused(&e))?
            .ok_or_else(|| not_registered("MOUNT 100005 v3"))?;
        let nport = match self.p.nfs_port {
            Some(p) => p,
            None => portmap::getport(&mut c, nfs3::PROG, nfs3::VERS, proto)
                .map_err(|e| refused(&e))?
                .ok_or_else(|| not_registered("NFS 100003 v3"))?,
        };
        self.a.lap("portmap");
        self.a.note("mount_port", mport.to_string());
        self.a.note("nfs_port", nport.to_string());
        Ok((mport, nport))
    }

    /// `known_v4`: an earlier probe reached the server over `NFSv4`, so when both the portmapper
    /// and port 2049 refuse, the NFS service's own refusal is the news, not the portmapper's.
    fn v3(&mut self, may_fall_back: bool, known_v4: bool) -> Result<String, Fail> {
        let proto = self.p.proto;
        let (mport, nport) = match self.portmap() {
            Ok(p) => p,
            Err((f, true)) if may_fall_back => {
                tracing::info!(
                    "clp_nfsmon: no portmapper at {}:{}, trying NFSv4",
                    self.ip,
                    self.p.pmap_port
                );
                self.a.lap("portmap");
                self.a.note("portmap", f.text.clone());
                return match self.v4() {
                    Err(v4) if v4.status.starts_with("ECONNREFUSED") && !known_v4 => Err(f),
                    r => r,
                };
            }
            Err((f, _)) => return Err(f),
        };
        let dir = self.p.target.clone();
        let mut mc = self
            .client(mport, proto, true)
            .map_err(|e| Fail::rpc("mount", &e))?;
        let fh = match mount::mnt(&mut mc, &dir) {
            Ok(Ok(m)) => m.fh,
            Ok(Err(s)) => {
                let name = mount::mountstat_name(s).map_or_else(|| s.to_string(), str::to_owned);
                return Err(Fail {
                    phase: "mount",
                    status: format!("{name} ({s})"),
                    text: format!("mount error({name})"),
                });
            }
            Err(e) => return Err(Fail::rpc("mount", &e)),
        };
        self.a.lap("mount");
        let nfs = self.nfs3_calls(nport, proto, &fh);
        // UMNT even when the NFS calls failed, as long as there is time left.
        let um = if self.ctx.deadline.expired() || self.ctx.cancel.is_cancelled() {
            Err(RpcError::Net(net::Error::TimedOut))
        } else {
            mount::umnt(&mut mc, &dir)
        };
        let fsinfo = nfs?;
        um.map_err(|e| Fail::rpc("umount", &e))?;
        self.a.lap("umount");
        Ok(format!(
            "NFSv3 over {}, port {nport}, fh {} bytes, rtmax {} wtmax {}",
            proto.name(),
            fh.len(),
            fsinfo.rtmax,
            fsinfo.wtmax
        ))
    }

    fn nfs3_calls(&mut self, port: u16, proto: Proto, fh: &[u8]) -> Result<nfs3::FsInfo, Fail> {
        let mut c = self
            .client(port, proto, true)
            .map_err(|e| Fail::rpc("nfs_null", &e))?;
        nfs3::null(&mut c).map_err(|e| Fail::rpc("nfs_null", &e))?;
        self.a.lap("nfs_null");
        match nfs3::getattr(&mut c, fh) {
            Ok(Ok(a)) => self.a.note("ftype", a.ftype.to_string()),
            Ok(Err(s)) => return Err(Fail::nfs3("getattr", s)),
            Err(e) => return Err(Fail::rpc("getattr", &e)),
        }
        self.a.lap("getattr");
        let info = match nfs3::fsinfo(&mut c, fh) {
            Ok(Ok(i)) => i,
            Ok(Err(s)) => return Err(Fail::nfs3("fsinfo", s)),
            Err(e) => return Err(Fail::rpc("fsinfo", &e)),
        };
        self.a.lap("fsinfo");
        Ok(info)
    }

    fn v4(&mut self) -> Result<String, Fail> {
        let port = self.p.nfs_port.unwrap_or(nfs3::PORT);
        self.a.note("nfs_port", port.to_string());
        let mut c = self
            .client(port, Proto::Tcp, true)
            .map_err(|e| Fail::rpc("nfs_null", &e))?;
        nfs4::null(&mut c).map_err(|e| Fail::rpc("nfs_null", &e))?;
        self.a.lap("nfs_null");
        let r = nfs4::walk(&mut c, &self.p.target, 0, None)
            .map_err(|e| Fail::rpc("nfs4_compound", &e))?;
        let (minor, r) = if r.status == nfs4::NFS4ERR_MINOR_VERS_MISMATCH {
            tracing::debug!("clp_nfsmon: NFSv4.0 refused, opening an NFSv4.1 session");
            (1, self.v41_walk(&mut c)?)
        } else {
            (0, r)
        };
        self.check_walk("nfs4_compound", &r)?;
        let fh = r.fh.unwrap_or_default();
        self.a.lap("nfs4_compound");
        self.p.learn(Road::V4);
        Ok(format!(
            "NFSv4.{minor} over TCP, port {port}, fh {} bytes",
            fh.len()
        ))
    }

    /// `EXCHANGE_ID`, `CREATE_SESSION`, the walk behind `SEQUENCE`, then `DESTROY_SESSION` and
    /// `DESTROY_CLIENTID` (best effort, while time is left).
    fn v41_walk(&mut self, c: &mut RpcClient) -> Result<nfs4::CompoundRes, Fail> {
        let phase = "nfs4_session";
        let rpc = |e: RpcError| Fail::rpc(phase, &e);
        let owner = format!(
            "clp_nfsmon:{}:{}",
            AuthSys::root().machine,
            std::process::id()
        );
        let mut verifier = [0u8; 8];
        getrandom::fill(&mut verifier).ok();
        let r = nfs4::single(
            c,
            nfs4::OP_EXCHANGE_ID,
            &nfs4::exchange_id_args(owner.as_bytes(), verifier),
        )
        .map_err(rpc)?;
        self.check_walk(phase, &r)?;
        let (clientid, seq) = r
            .client
            .ok_or_else(|| Fail::garbage(phase, "EXCHANGE_ID"))?;
        let r = nfs4::single(
            c,
            nfs4::OP_CREATE_SESSION,
            &nfs4::create_session_args(clientid, seq),
        )
        .map_err(rpc)?;
        self.check_walk(phase, &r)?;
        let sid = r
            .session
            .ok_or_else(|| Fail::garbage(phase, "CREATE_SESSION"))?;
        self.a.lap(phase);
        let walk = nfs4::walk(c, &self.p.target, 1, Some(&sid))
            .map_err(|e| Fail::rpc("nfs4_compound", &e));
        if !self.ctx.deadline.expired() && !self.ctx.cancel.is_cancelled() {
            let _ = nfs4::single(c, nfs4::OP_DESTROY_SESSION, &sid);
            let _ = nfs4::single(c, nfs4::OP_DESTROY_CLIENTID, &clientid.to_be_bytes());
        }
        walk
    }

    /// Turns a COMPOUND's first failed op (or a failed overall status) into a failure.
    fn check_walk(&self, phase: &'static str, r: &nfs4::CompoundRes) -> Result<(), Fail> {
        let name =
            |s: u32| nfs4::nfsstat4_name(s).map_or_else(|| format!("nfsstat4 {s}"), str::to_owned);
        if let Some((i, op, s)) = r.failed_op() {
            let comps = nfs4::components(&self.p.target);
            let what = if op == nfs4::OP_LOOKUP {
                // The ops before the LOOKUPs: PUTROOTFH, and SEQUENCE in v4.1.
                let first = r
                    .ops
                    .iter()
                    .position(|(o, _)| *o == nfs4::OP_LOOKUP)
                    .unwrap_or(i);
                format!("LOOKUP {:?}", comps.get(i - first).copied().unwrap_or(""))
            } else {
                nfs4::op_name(op).to_owned()
            };
            return Err(Fail {
                phase,
                status: format!("{} ({s}) at {what}", name(s)),
                text: name(s),
            });
        }
        if r.status != 0 {
            return Err(Fail {
                phase,
                status: format!("{} ({})", name(r.status), r.status),
                text: name(r.status),
            });
        }
        Ok(())
    }
}

impl Probe for NfsProbe {
    fn module(&self) -> Module {
        Module::Nfsmon
    }

    fn target(&self) -> &str {
        &self.target
    }

    fn run(&self, ctx: &ProbeCtx) -> Result<ProbeReport, ProbeFailure> {
        let mut a = Attempt::start(
            ctx,
            vec![
                ("address", self.host.to_string()),
                ("proto", self.proto.name().into()),
            ],
        );
        let ip = match &self.host {
            Host::Ip(ip) => Ok(*ip),
            Host::Name(name) => resolve(name, ctx.deadline).inspect(|ip| {
                a.lap("resolve");
                a.note("resolved", ip.to_string());
            }),
        };
        let (r, a) = match ip {
            Ok(ip) => {
                let mut run = Run {
                    p: self,
                    ctx,
                    ip,
                    a,
                };
                let r = run.walk();
                (r, run.a)
            }
            Err(f) => (Err(f), a),
        };
        match r {
            Ok(summary) => Ok(a.succeed(summary)),
            Err(f) => Err(a.fail(f.phase, f.status, alerts(&f.text))),
        }
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

impl Run<'_> {
    /// The road this probe takes. Until a probe has reached the server through its portmapper,
    /// every probe asks it again (a refused connection costs well under a millisecond): a v3
    /// server whose rpcbind was still starting at the first probe must not be watched as
    /// NFSv4-only for good.
    fn walk(&mut self) -> Result<String, Fail> {
        let p = self.p;
        if p.nfs4 {
            return self.v4();
        }
        let road = *p
            .road
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.v3(road != Road::V3 && !p.pmap_explicit, road == Road::V4)
            .inspect(|s| {
                if s.starts_with("NFSv3") {
                    p.learn(Road::V3);
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_preferring_ipv4() {
        assert_eq!(
            resolve("localhost", Deadline::after(Duration::from_secs(10))).unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
    }

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
        let parsed = crate::args::parse(
            Module::Nfsmon,
            &["n1", "-d", "/export", "-a", "nosuch.invalid"].map(String::from),
        );
        let Ok(crate::args::Parsed::Run {
            command: crate::args::Command::Monitor(args),
            ..
        }) = parsed
        else {
            panic!("{parsed:?}");
        };
        let probe = NfsProbe::from_args(&args).unwrap();
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

    #[test]
    fn refused_portmapper_alert_texts() {
        let e = RpcError::Net(net::Error::Io(
            net::Op::Connect,
            std::io::Error::from_raw_os_error(nix::libc::ECONNREFUSED),
        ));
        let f = Fail::rpc("portmap", &e);
        assert_eq!(
            f.text,
            "RPC: Port mapper failure - Unable to receive: errno = Connection refused."
        );
        let a = alerts(&f.text);
        assert_eq!(
            a[0].text,
            "clp_nfsmon: RPC: Port mapper failure - Unable to receive: errno = Connection refused."
        );
        assert_eq!(a[1].event, Event::NfsError);
        assert_eq!(
            Fail::rpc("portmap", &RpcError::Net(net::Error::TimedOut)).text,
            "RPC: Port mapper failure - Timed out"
        );
        assert_eq!(Fail::nfs3("getattr", 70).text, "NFS3ERR_STALE");
    }
}
