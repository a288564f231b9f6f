//! One NFS probe attempt on the road it takes (see the parent module): the portmapper, MOUNT,
//! the `NFSv3` calls and UMNT on the v3 road; NULL and the COMPOUND walk on the v4 road, in the
//! highest minor version the server accepts of 4.2, 4.1 and 4.0 (a session for 4.1 and 4.2) —
//! each step timed as its phase, and a failed step turned into a [`Fail`] with `clnt_sperror`'s
//! or the protocol's status text. What `--check read` and
//! `write` add once the export's root handle is reached is [`levels`]'.
//!
//! This is the part of the probe that knows what the steps mean; the messages are those of
//! [`super::portmap`], [`super::mount`], [`super::nfs3`] and [`super::nfs4`], carried by
//! [`super::rpc`].

pub(super) mod levels;

use std::net::{IpAddr, SocketAddr};

use super::rpc::{AuthSys, Proto, RpcClient, RpcError};
use super::{NfsProbe, Road, mount, nfs3, nfs4, portmap};
use crate::alert::{Alert, Event, Module};
use crate::probe::attempt::Attempt;
use crate::probe::net::{self, Host};
use crate::probe::{CheckLevel, Deadline, ProbeCtx, ProbeFailure, ProbeReport};

/// Alerts for a failure whose detail text is `text` (event 0, then 66).
pub(super) fn alerts(text: &str) -> Vec<Alert> {
    vec![
        Alert::new(Module::Nfsmon, Event::Detail, &[&text]),
        Alert::plain(Module::Nfsmon, Event::NfsError),
    ]
}

/// One probe of `p`: the server's address (looked up when `-a` named a host), then its road.
pub(super) fn run(p: &NfsProbe, ctx: &ProbeCtx) -> Result<ProbeReport, ProbeFailure> {
    let mut a = Attempt::start(
        ctx,
        vec![
            ("address", p.host.to_string()),
            ("proto", p.proto.name().into()),
        ],
    );
    let ip = match &p.host {
        Host::Ip(ip) => Ok(*ip),
        Host::Name(name) => resolve(name, ctx.deadline).inspect(|ip| {
            a.lap("resolve");
            a.note("resolved", ip.to_string());
        }),
    };
    let (r, a) = match ip {
        Ok(ip) => {
            let mut run = Run {
                p,
                ctx,
                ip,
                a,
                levels: String::new(),
            };
            let r = run.walk().map(|s| s + &run.levels);
            (r, run.a)
        }
        Err(f) => (Err(f), a),
    };
    match r {
        Ok(summary) => Ok(a.succeed(summary)),
        Err(f) => Err(a.fail(f.phase, f.status, alerts(&f.text))),
    }
}

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

/// One probe in progress.
struct Run<'a> {
    p: &'a NfsProbe,
    ctx: &'a ProbeCtx,
    /// The server's address for this probe.
    ip: IpAddr,
    /// Its clock and fault-log facts.
    a: Attempt,
    /// What the levels beyond `connect` found, for the summary (`levels`).
    levels: String,
}

/// Why the portmapper gave no ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PmapMiss {
    /// Port 111 refused the connection: maybe no rpcbind because the server is NFSv4-only.
    Refused,
    /// It answered, without MOUNT v3: maybe an NFSv4-only server behind a live rpcbind.
    NoMount,
    /// Any other failure: a fault of the v3 server.
    Other,
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

    /// Portmapper: (MOUNT port, NFS port); not asked at all when `--mount-port` and `-n` give
    /// both. A failure says whether it is one that may mean an NFSv4-only server.
    fn portmap(&mut self) -> Result<(u16, u16), (Fail, PmapMiss)> {
        let proto = self.p.proto;
        if let (Some(mport), Some(nport)) = (self.p.mount_port, self.p.nfs_port) {
            self.a.note("mount_port", mport.to_string());
            self.a.note("nfs_port", nport.to_string());
            return Ok((mport, nport));
        }
        let failed = |e: &RpcError| {
            let why = if e.is_refused() {
                PmapMiss::Refused
            } else {
                PmapMiss::Other
            };
            (Fail::rpc("portmap", e), why)
        };
        let mut c = self
            .client(self.p.pmap_port, proto, false)
            .map_err(|e| failed(&e))?;
        let not_registered = |what: &str, why| {
            (
                Fail {
                    phase: "portmap",
                    status: format!("{what} not registered"),
                    text: "RPC: Program not registered.".into(),
                },
                why,
            )
        };
        let mport = match self.p.mount_port {
            Some(p) => p,
            None => portmap::getport(&mut c, mount::PROG, mount::VERS, proto)
                .map_err(|e| failed(&e))?
                .ok_or_else(|| not_registered("MOUNT 100005 v3", PmapMiss::NoMount))?,
        };
        let nport = match self.p.nfs_port {
            Some(p) => p,
            None => portmap::getport(&mut c, nfs3::PROG, nfs3::VERS, proto)
                .map_err(|e| failed(&e))?
                .ok_or_else(|| not_registered("NFS 100003 v3", PmapMiss::Other))?,
        };
        self.a.lap("portmap");
        self.a.note("mount_port", mport.to_string());
        self.a.note("nfs_port", nport.to_string());
        Ok((mport, nport))
    }

    /// The v3 road, or the v4 road instead when the portmapper says the server may be
    /// NFSv4-only ([`Run::switches_to_v4`]).
    fn v3(&mut self, road: Road) -> Result<String, Fail> {
        let proto = self.p.proto;
        let (mport, nport) = match self.portmap() {
            Ok(p) => p,
            Err((f, why)) if self.switches_to_v4(road, why) => {
                tracing::info!(
                    "clp_nfsmon: {} at {}:{}, trying NFSv4",
                    f.status,
                    self.ip,
                    self.p.pmap_port
                );
                self.a.lap("portmap");
                self.a.note("portmap", f.status.clone());
                return self.v4_instead_of(f, road == Road::V4);
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
        self.v3_levels(&mut c, fh)?;
        Ok(info)
    }

    /// Whether a portmapper failure sends this probe to the v4 road. Only while no probe has
    /// reached the server over v3 (a v3 server that loses its portmapper or its MOUNT
    /// registration is a fault), never with `--mount-port` (the server has MOUNT); then when
    /// port 111 refuses (unless `-a HOST:PORT` named the portmapper, which must answer) or when
    /// the portmapper answers without MOUNT v3, as an NFSv4-only server behind a live rpcbind
    /// does.
    fn switches_to_v4(&self, road: Road, why: PmapMiss) -> bool {
        road != Road::V3
            && self.p.mount_port.is_none()
            && match why {
                PmapMiss::Refused => !self.p.pmap_explicit,
                PmapMiss::NoMount => true,
                PmapMiss::Other => false,
            }
    }

    /// The v4 road taken because of the portmapper failure `pmap`. When `NFSv4` is not served
    /// either (refused, or NFS answers without version 4) the portmapper's failure is the news,
    /// unless an earlier probe reached the server over v4 (`known_v4`).
    fn v4_instead_of(&mut self, pmap: Fail, known_v4: bool) -> Result<String, Fail> {
        match self.v4_null() {
            Ok(c) => self.v4_walk(c),
            Err(e) if e.not_served() && !known_v4 => Err(pmap),
            Err(e) => Err(Fail::rpc("nfs_null", &e)),
        }
    }

    fn v4(&mut self) -> Result<String, Fail> {
        let c = self.v4_null().map_err(|e| Fail::rpc("nfs_null", &e))?;
        self.v4_walk(c)
    }

    /// A connection to the `NFSv4` port (`-n`, else 2049) that has answered NULL.
    fn v4_null(&mut self) -> Result<RpcClient, RpcError> {
        let port = self.p.nfs_port.unwrap_or(nfs3::PORT);
        self.a.note("nfs_port", port.to_string());
        let mut c = self.client(port, Proto::Tcp, true)?;
        nfs4::null(&mut c)?;
        self.a.lap("nfs_null");
        Ok(c)
    }

    /// The walk, in the highest minor version the server takes, checked and timed, with what
    /// the levels beyond `connect` add (`after_walk`).
    fn v4_walk(&mut self, mut c: RpcClient) -> Result<String, Fail> {
        let port = self.p.nfs_port.unwrap_or(nfs3::PORT);
        let read = self.p.check.reaches(CheckLevel::Read);
        let mut refused = Vec::new();
        for minor in nfs4::MINOR_VERSIONS {
            let walk = if minor == 0 {
                nfs4::walk(&mut c, &self.p.target, 0, None, read)
                    .map_err(|e| Fail::rpc("nfs4_compound", &e))
                    .and_then(|r| {
                        if r.status == nfs4::NFS4ERR_MINOR_VERS_MISMATCH {
                            Ok(None)
                        } else {
                            self.after_walk(&mut c, 0, None, r).map(Some)
                        }
                    })
            } else {
                self.session_walk(&mut c, minor)
            };
            let walk = walk.inspect_err(|_| {
                self.note_refused(&refused);
            })?;
            let Some(r) = walk else {
                tracing::debug!("clp_nfsmon: NFSv4.{minor} refused (NFS4ERR_MINOR_VERS_MISMATCH)");
                refused.push(format!("4.{minor}"));
                continue;
            };
            let refused = self.note_refused(&refused);
            let fh = r.fh.unwrap_or_default();
            self.p.learn(Road::V4);
            return Ok(format!(
                "NFSv4.{minor} over TCP, port {port}, fh {} bytes{refused}",
                fh.len()
            ));
        }
        let name = nfs4::nfsstat4_name(nfs4::NFS4ERR_MINOR_VERS_MISMATCH).unwrap_or_default();
        Err(Fail {
            phase: "nfs4_compound",
            status: format!(
                "{name} ({}): minor versions {} refused",
                nfs4::NFS4ERR_MINOR_VERS_MISMATCH,
                refused.join(", ")
            ),
            text: name.to_owned(),
        })
    }

    /// The walk in minor version `minor` (1 or 2) behind a session: `EXCHANGE_ID`,
    /// `CREATE_SESSION`, the walk behind `SEQUENCE`, then `DESTROY_SESSION` and
    /// `DESTROY_CLIENTID` (best effort, while time is left). `Ok(None)`: the server refused the
    /// minor version (`NFS4ERR_MINOR_VERS_MISMATCH` to `EXCHANGE_ID`).
    fn session_walk(
        &mut self,
        c: &mut RpcClient,
        minor: u32,
    ) -> Result<Option<nfs4::CompoundRes>, Fail> {
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
            minor,
            nfs4::OP_EXCHANGE_ID,
            &nfs4::exchange_id_args(owner.as_bytes(), verifier),
        )
        .map_err(rpc)?;
        if r.status == nfs4::NFS4ERR_MINOR_VERS_MISMATCH {
            return Ok(None);
        }
        self.check_walk(phase, &r)?;
        let (clientid, seq) = r
            .client
            .ok_or_else(|| Fail::garbage(phase, "EXCHANGE_ID"))?;
        let r = nfs4::single(
            c,
            minor,
            nfs4::OP_CREATE_SESSION,
            &nfs4::create_session_args(clientid, seq),
        )
        .map_err(rpc)?;
        self.check_walk(phase, &r)?;
        let sid = r
            .session
            .ok_or_else(|| Fail::garbage(phase, "CREATE_SESSION"))?;
        self.a.lap(phase);
        let read = self.p.check.reaches(CheckLevel::Read);
        // The walk used sequence id 1 on slot 0; the canary's COMPOUNDs follow it.
        let mut slot = nfs4::Slot { id: sid, seq: 2 };
        let walk = nfs4::walk(c, &self.p.target, minor, Some(&sid), read)
            .map_err(|e| Fail::rpc("nfs4_compound", &e))
            .and_then(|r| self.after_walk(c, minor, Some(&mut slot), r));
        if !self.ctx.deadline.expired() && !self.ctx.cancel.is_cancelled() {
            let _ = nfs4::single(c, minor, nfs4::OP_DESTROY_SESSION, &sid);
            let _ = nfs4::single(c, minor, nfs4::OP_DESTROY_CLIENTID, &clientid.to_be_bytes());
        }
        walk.map(Some)
    }

    /// Notes the minor versions the server refused, if any; the summary's words for them.
    fn note_refused(&mut self, refused: &[String]) -> String {
        if refused.is_empty() {
            return String::new();
        }
        let r = refused.join(", ");
        self.a.note("nfs4_refused", r.clone());
        format!(" ({r} refused)")
    }

    /// The walk's answer checked (a failed op is its phase's failure) and timed, then what the
    /// levels beyond `connect` add (`levels`), in the walk's session when there is one.
    fn after_walk(
        &mut self,
        c: &mut RpcClient,
        minor: u32,
        slot: Option<&mut nfs4::Slot>,
        r: nfs4::CompoundRes,
    ) -> Result<nfs4::CompoundRes, Fail> {
        self.check_walk(levels::walk_phase(&r), &r)?;
        self.a.lap("nfs4_compound");
        self.v4_levels(c, minor, slot, &r)?;
        Ok(r)
    }

    /// Turns a COMPOUND's first failed op (or a failed overall status) into a failure.
    fn check_walk(&self, phase: &'static str, r: &nfs4::CompoundRes) -> Result<(), Fail> {
        let name =
            |s: u32| nfs4::nfsstat4_name(s).map_or_else(|| format!("nfsstat4 {s}"), str::to_owned);
        if let Some((i, op, s)) = r.failed_op() {
            let comps = nfs4::components(&self.p.target);
            let what = if op == nfs4::OP_LOOKUP {
                // The ops before the LOOKUPs: PUTROOTFH, and SEQUENCE from v4.1 on.
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

impl Run<'_> {
    /// The road this probe takes. Until a probe has reached the server through its portmapper,
    /// every probe asks it again (a refused connection costs well under a millisecond): a v3
    /// server whose rpcbind was still starting at the first probe must not be watched as
    /// NFSv4-only for good. `--mount-port` says the server has MOUNT: v3 only, as `mount.nfs`
    /// takes `mountport=` to mean.
    fn walk(&mut self) -> Result<String, Fail> {
        let p = self.p;
        if p.nfs4 {
            return self.v4();
        }
        let road = *p
            .road
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.v3(road).inspect(|s| {
            if s.starts_with("NFSv3") {
                p.learn(Road::V3);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    #[test]
    fn names_resolve_preferring_ipv4() {
        assert_eq!(
            resolve("localhost", Deadline::after(Duration::from_secs(10))).unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
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
