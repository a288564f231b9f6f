//! The check levels beyond `connect` (`--check read`, `--check write`): what a probe sends once
//! the connect part has reached the export's root handle, and what its failures mean.
//!
//! # Why these operations
//!
//! NFS-Ganesha answers `NULL`, `PUTROOTFH`/`LOOKUP`/`GETATTR` and MOUNT from its own caches
//! (MDCACHE): with the exported file system hung under it — a bindfs (FUSE) file system whose
//! daemon is stopped — the v4 connect part still passes in under a millisecond. The v3
//! connect part fails there only because Ganesha's `FSINFO` happens to reach the file system;
//! a server that answers `FSINFO` from what it knows (most do: it is static) would pass it too.
//! What was measured to reach the file system under Ganesha 4.3 (`tests/clp_nfsmon.rs`,
//! `nfsmon_hung_storage_is_caught_by_read`), and so what the levels send:
//!
//! - `read`, `NFSv3`: `FSSTAT` — Ganesha asks the file system (`statvfs`) every time, while
//!   `GETATTR` still answers — and a `READDIR` of a few hundred bytes of the root, which does
//!   not reach a hung file system on its own (Ganesha answers a listing it has read before from
//!   its directory cache) but fails on a root that can no longer be read. v3 has no COMPOUND,
//!   so the two calls are sent back to back on the connection the connect part used and their
//!   replies taken in any order ([`super::super::rpc::RpcClient::call_all`]): one round trip
//!   more than `connect`, each call still timed as its own phase (`fsstat`, `readdir`) by the
//!   arrival of its reply.
//! - `read`, `NFSv4`: the same questions inside the walk's COMPOUND — its `GETATTR` asks for
//!   `space_avail`/`space_free`/`space_total` as well (each of the two reaches the hung file
//!   system on its own), and a `READDIR` with a small `maxcount` follows — so `read` costs no
//!   round trip over `connect`. A failed `READDIR` is phase `readdir`; a COMPOUND with no answer
//!   is `nfs4_compound`, as at `connect`.
//! - `write`: a canary at the export's root, created `GUARDED` (a leftover of a probe cut at its
//!   deadline answers `EXIST`; it is removed and the create tried once more, so no probe leaves
//!   more than one file behind and the next one cleans it up), written with `FILE_SYNC` (data on
//!   stable storage before the reply: a full file system answers `NOSPC`/`DQUOT` here, a
//!   read-only one `ROFS` at the create, lost permission `ACCES`), committed when the server
//!   committed less than asked, read back and compared, and removed: v3 `CREATE`, `WRITE`,
//!   (`COMMIT`), `READ`, `REMOVE`, four round trips. v4 opens it with `OPEN(create)`, confirmed
//!   with `OPEN_CONFIRM` when a v4.0 server asks, writes, commits and reads it in one COMPOUND,
//!   then closes and removes it in one more; v4.0 first establishes its client id
//!   (`SETCLIENTID`, `SETCLIENTID_CONFIRM`: one id and boot verifier per probe object, so the
//!   server keeps one client record per monitor), v4.1 and later use the walk's session after
//!   a `RECLAIM_COMPLETE` (without it a server still in its grace period for this client
//!   answers `NFS4ERR_GRACE` to the OPEN). A canary that fails after it was created is removed
//!   before the failure is reported, while the deadline leaves time.
//!
//! # Credentials
//!
//! Every call carries `AUTH_SYS` uid 0, gid 0, as a root monitor is. On an export that squashes
//! root, the server maps that to its anonymous uid: the canary is then created by that uid, and
//! an export root it may not write into makes `--check write` fail with `ACCES` — exactly what
//! root on a client of that export sees (`touch` answers `Permission denied`). Give the
//! anonymous uid write access to the export's root, or watch such an export with `read`.
//!
//! A failure's phase names the call that failed (`fsstat`, `readdir`, `canary_create`,
//! `canary_write`, `canary_commit`, `canary_read`, `canary_close`, `canary_remove`), its status
//! the `nfsstat3`/`nfsstat4`, and its alert text both: `clp_nfsmon: NFS3ERR_ROFS
//! (canary_create)`, then event 66 as every NFS failure.

use super::{Fail, Run};
use crate::probe::CheckLevel;
use crate::probe::nfs::nfs3::{self, FsStat};
use crate::probe::nfs::nfs4::{self, Compound, CompoundRes, Slot, Stateid};
use crate::probe::nfs::rpc::{AuthSys, Call, RpcClient, RpcError};

/// READDIR `count` of the `read` level: a few entries' worth.
const READDIR_COUNT: u32 = 512;
/// The canary's permission bits.
const CANARY_MODE: u32 = 0o600;

/// The phase of a walk that failed: `readdir` for its READDIR (which only `--check read` sends),
/// else the walk's own.
pub(super) fn walk_phase(r: &CompoundRes) -> &'static str {
    match r.failed_op() {
        Some((_, nfs4::OP_READDIR, _)) => "readdir",
        _ => "nfs4_compound",
    }
}

/// A size for the summary: `9.8 GiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    #[expect(clippy::cast_precision_loss, reason = "one decimal is shown")]
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// What one canary holds: unique to this probe, so a stale read-back cannot pass.
fn canary_data() -> Vec<u8> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let salt = getrandom::u64().unwrap_or(0);
    format!(
        "clp_nfsmon canary, pid {}, {nanos}, {salt:016x}\n",
        std::process::id()
    )
    .into_bytes()
}

impl Fail {
    /// An `nfsstat3` of a level's call: the text names the phase, the status the code.
    fn level3(phase: &'static str, s: u32) -> Self {
        let name = nfs3::nfsstat3_name(s).map_or_else(|| format!("nfsstat3 {s}"), str::to_owned);
        Self {
            phase,
            status: format!("{name} ({s})"),
            text: format!("{name} ({phase})"),
        }
    }

    /// An `nfsstat4` of operation `op` in a level's COMPOUND.
    fn level4(phase: &'static str, op: u32, s: u32) -> Self {
        let name = nfs4::nfsstat4_name(s).map_or_else(|| format!("nfsstat4 {s}"), str::to_owned);
        Self {
            phase,
            status: format!("{name} ({s}) at {}", nfs4::op_name(op)),
            text: format!("{name} ({phase})"),
        }
    }

    /// The canary came back other than it was written (or shorter).
    fn mismatch(phase: &'static str, what: String) -> Self {
        Self {
            phase,
            text: format!("canary {what} ({phase})"),
            status: what,
        }
    }
}

/// The outcome of one `NFSv3` call of a level: its result, or why it failed in `phase`.
fn v3<T>(phase: &'static str, r: Result<Result<T, u32>, RpcError>) -> Result<T, Fail> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(s)) => Err(Fail::level3(phase, s)),
        Err(e) => Err(Fail::rpc(phase, &e)),
    }
}

/// The phase of a canary COMPOUND's failed op: `phase` unless the op has a phase of its own.
fn op_phase(op: u32, phase: &'static str) -> &'static str {
    match op {
        nfs4::OP_OPEN => "canary_create",
        nfs4::OP_OPEN_CONFIRM => "canary_confirm",
        nfs4::OP_WRITE => "canary_write",
        nfs4::OP_COMMIT => "canary_commit",
        nfs4::OP_READ => "canary_read",
        nfs4::OP_CLOSE => "canary_close",
        nfs4::OP_REMOVE => "canary_remove",
        _ => phase,
    }
}

/// A canary COMPOUND's answer: its result when every op succeeded, else its first failure.
fn v4(phase: &'static str, r: Result<CompoundRes, RpcError>) -> Result<CompoundRes, Fail> {
    let r = r.map_err(|e| Fail::rpc(phase, &e))?;
    if let Some((_, op, s)) = r.failed_op() {
        return Err(Fail::level4(op_phase(op, phase), op, s));
    }
    if r.status != 0 {
        return Err(Fail::level4(phase, 0, r.status));
    }
    Ok(r)
}

/// An open canary (v4): its handle, state id and the open owner's next seqid (v4.0).
struct Open {
    fh: Vec<u8>,
    stateid: Stateid,
    seqid: u32,
}

impl Run<'_> {
    /// True when this probe's level includes `level`.
    fn reaches(&self, level: CheckLevel) -> bool {
        self.p.check.reaches(level)
    }

    /// Appends what a level found to the summary.
    fn tell(&mut self, what: &str) {
        self.levels.push_str(", ");
        self.levels.push_str(what);
    }

    /// True while the probe may still send a call (for the clean-up of a failed canary).
    fn time_left(&self) -> bool {
        !self.ctx.deadline.expired() && !self.ctx.cancel.is_cancelled()
    }

    /// `NFSv3`, after `FSINFO` on the export's handle `fh`: `FSSTAT` and `READDIR` in one round
    /// trip (`read`), then the canary (`write`).
    pub(super) fn v3_levels(&mut self, c: &mut RpcClient, fh: &[u8]) -> Result<(), Fail> {
        if !self.reaches(CheckLevel::Read) {
            return Ok(());
        }
        let st = self.v3_read(c, fh)?;
        self.tell(&format!("{} available", human(st.avail)));
        if self.reaches(CheckLevel::Write) {
            self.v3_canary(c, fh)?;
            self.tell("canary written and read back");
        }
        Ok(())
    }

    fn v3_read(&mut self, c: &mut RpcClient, fh: &[u8]) -> Result<FsStat, Fail> {
        const PHASES: [&str; 2] = ["fsstat", "readdir"];
        let fsstat = nfs3::encode_fh(fh);
        let readdir = nfs3::encode_readdir(fh, READDIR_COUNT);
        let call = |proc_, args| Call {
            prog: nfs3::PROG,
            vers: nfs3::VERS,
            proc_,
            args,
        };
        let calls = [call(nfs3::FSSTAT, &fsstat), call(nfs3::READDIR, &readdir)];
        let a = &mut self.a;
        let mut res = c
            .call_all(&calls, |i| a.lap(PHASES[i]))
            .map_err(|(i, e)| Fail::rpc(PHASES[i], &e))?
            .into_iter();
        let mut decoded = |phase| -> Result<Vec<u8>, Fail> {
            res.next()
                .unwrap_or(Err(RpcError::Garbage("no reply")))
                .map_err(|e| Fail::rpc(phase, &e))
        };
        let st = decoded("fsstat")?;
        let rd = decoded("readdir")?;
        let (st, _) = v3("fsstat", nfs3::decode_fsstat(&st).map_err(RpcError::from))?;
        let listing = v3("readdir", nfs3::decode_readdir(&rd).map_err(RpcError::from))?;
        self.a.note("avail_bytes", st.avail.to_string());
        self.a
            .note("readdir_entries", listing.names.len().to_string());
        Ok(st)
    }

    /// Creates the canary in `dir` (removing a leftover first), writes, reads back and removes
    /// it; a failure after the create removes it too, while time is left.
    fn v3_canary(&mut self, c: &mut RpcClient, dir: &[u8]) -> Result<(), Fail> {
        let name = self.p.canary.clone();
        let fh = self.v3_create(c, dir, &name)?;
        self.a.lap("canary_create");
        let io = self.v3_io(c, &fh);
        if io.is_err() {
            if self.time_left() {
                let _ = nfs3::call(
                    c,
                    nfs3::REMOVE,
                    &nfs3::encode_dirop(dir, &name),
                    nfs3::decode_remove,
                );
            }
            return io;
        }
        let removed = nfs3::call(
            c,
            nfs3::REMOVE,
            &nfs3::encode_dirop(dir, &name),
            nfs3::decode_remove,
        );
        v3("canary_remove", removed)?;
        self.a.lap("canary_remove");
        Ok(())
    }

    /// `CREATE` `GUARDED`; on `NFS3ERR_EXIST` the leftover is removed and the create sent once
    /// more. The handle comes from the reply, or from a `LOOKUP` when the server sent none.
    fn v3_create(&mut self, c: &mut RpcClient, dir: &[u8], name: &str) -> Result<Vec<u8>, Fail> {
        let phase = "canary_create";
        let args = nfs3::encode_create(dir, name, CANARY_MODE);
        let mut created = nfs3::call(c, nfs3::CREATE, &args, nfs3::decode_create);
        if matches!(created, Ok(Err(nfs3::NFS3ERR_EXIST))) {
            tracing::info!("clp_nfsmon: removing the canary {name:?} a cut probe left behind");
            self.a.note("leftover", "removed");
            let removed = nfs3::call(
                c,
                nfs3::REMOVE,
                &nfs3::encode_dirop(dir, name),
                nfs3::decode_remove,
            );
            match removed {
                Ok(Ok(()) | Err(nfs3::NFS3ERR_NOENT)) => {}
                other => {
                    v3(phase, other)?;
                }
            }
            created = nfs3::call(c, nfs3::CREATE, &args, nfs3::decode_create);
        }
        match v3(phase, created)? {
            Some(fh) => Ok(fh),
            None => v3(
                phase,
                nfs3::call(
                    c,
                    nfs3::LOOKUP,
                    &nfs3::encode_dirop(dir, name),
                    nfs3::decode_lookup,
                ),
            ),
        }
    }

    /// `WRITE` `FILE_SYNC` (then `COMMIT` when the server committed less), `READ` and compare.
    fn v3_io(&mut self, c: &mut RpcClient, fh: &[u8]) -> Result<(), Fail> {
        let data = canary_data();
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let w = v3(
            "canary_write",
            nfs3::call(
                c,
                nfs3::WRITE,
                &nfs3::encode_write(fh, &data, nfs3::FILE_SYNC),
                nfs3::decode_write,
            ),
        )?;
        if w.count != len {
            return Err(Fail::mismatch(
                "canary_write",
                format!("short write: {} of {len} bytes", w.count),
            ));
        }
        self.a.lap("canary_write");
        if w.committed < nfs3::FILE_SYNC {
            v3(
                "canary_commit",
                nfs3::call(
                    c,
                    nfs3::COMMIT,
                    &nfs3::encode_range(fh, 0),
                    nfs3::decode_commit,
                ),
            )?;
            self.a.lap("canary_commit");
        }
        let back = v3(
            "canary_read",
            nfs3::call(
                c,
                nfs3::READ,
                &nfs3::encode_range(fh, len),
                nfs3::decode_read,
            ),
        )?;
        if back != data {
            return Err(Fail::mismatch(
                "canary_read",
                format!(
                    "read back {} bytes that differ from the {len} written",
                    back.len()
                ),
            ));
        }
        self.a.lap("canary_read");
        Ok(())
    }

    /// `NFSv4`, after the walk (checked and timed): what `read` found in it, then the canary
    /// (`write`) in the walk's session (`slot`, v4.1+) or with a v4.0 client id.
    pub(super) fn v4_levels(
        &mut self,
        c: &mut RpcClient,
        minor: u32,
        slot: Option<&mut Slot>,
        walk: &CompoundRes,
    ) -> Result<(), Fail> {
        if !self.reaches(CheckLevel::Read) {
            return Ok(());
        }
        if let Some((n, _)) = walk.listing {
            self.a.note("readdir_entries", n.to_string());
        }
        if let Some(avail) = walk.space.and_then(|s| s.avail) {
            self.a.note("avail_bytes", avail.to_string());
            self.tell(&format!("{} available", human(avail)));
        }
        if self.reaches(CheckLevel::Write) {
            let root = walk.fh.clone().unwrap_or_default();
            self.v4_canary(c, minor, slot, &root)?;
            self.tell("canary written and read back");
        }
        Ok(())
    }

    /// The v4 canary at `root` (see the module doc).
    fn v4_canary(
        &mut self,
        c: &mut RpcClient,
        minor: u32,
        mut slot: Option<&mut Slot>,
        root: &[u8],
    ) -> Result<(), Fail> {
        let clientid = if minor == 0 {
            self.v40_client(c)?
        } else {
            // RFC 8881 §18.51: a client with nothing to reclaim says so before its first
            // OPEN, or the server answers NFS4ERR_GRACE to it.
            let r = Compound::new(minor, slot.as_deref_mut())
                .op(nfs4::OP_RECLAIM_COMPLETE, &[0, 0, 0, 0])
                .send(c);
            v4("nfs4_client", r)?;
            self.a.lap("nfs4_client");
            0
        };
        let open = self.v4_create(c, minor, &mut slot, clientid, root)?;
        if let Err(f) = self.v4_io(c, minor, &mut slot, &open) {
            if self.time_left() {
                // Best effort: the canary must not outlive a failed probe.
                let _ = self.v4_close_remove(c, minor, &mut slot, &open, root);
            }
            return Err(f);
        }
        let r = self.v4_close_remove(c, minor, &mut slot, &open, root);
        v4("canary_remove", r)?;
        self.a.lap("canary_remove");
        Ok(())
    }

    /// `SETCLIENTID` and `SETCLIENTID_CONFIRM` (v4.0): the client id the canary's OPEN needs.
    fn v40_client(&mut self, c: &mut RpcClient) -> Result<u64, Fail> {
        let phase = "nfs4_client";
        let verifier = self.p.v40_boot;
        let id = format!(
            "clp_nfsmon:{}:{}:{:016x}",
            AuthSys::root().machine,
            std::process::id(),
            u64::from_be_bytes(verifier)
        );
        let r = v4(
            phase,
            Compound::new(0, None)
                .op(
                    nfs4::OP_SETCLIENTID,
                    &nfs4::setclientid_args(id.as_bytes(), verifier),
                )
                .send(c),
        )?;
        let (clientid, confirm) = r
            .setclientid
            .ok_or_else(|| Fail::garbage(phase, "SETCLIENTID"))?;
        v4(
            phase,
            Compound::new(0, None)
                .op(
                    nfs4::OP_SETCLIENTID_CONFIRM,
                    &nfs4::setclientid_confirm_args(clientid, confirm),
                )
                .send(c),
        )?;
        self.a.lap(phase);
        Ok(clientid)
    }

    /// `OPEN` (create, `GUARDED4`) and `GETFH` at `root`; a leftover (`NFS4ERR_EXIST`) is removed
    /// and the open sent once more; a v4.0 open that asks for it is confirmed.
    fn v4_create(
        &mut self,
        c: &mut RpcClient,
        minor: u32,
        slot: &mut Option<&mut Slot>,
        clientid: u64,
        root: &[u8],
    ) -> Result<Open, Fail> {
        let phase = "canary_create";
        let name = self.p.canary.clone();
        let open = |c: &mut RpcClient, slot: &mut Option<&mut Slot>| {
            let owner = format!("clp_nfsmon canary {:016x}", getrandom::u64().unwrap_or(0));
            Compound::new(minor, slot.as_deref_mut())
                .op(nfs4::OP_PUTFH, &nfs4::putfh_args(root))
                .op(
                    nfs4::OP_OPEN,
                    &nfs4::open_create_args(minor, clientid, owner.as_bytes(), &name, CANARY_MODE),
                )
                .op(nfs4::OP_GETFH, &[])
                .send(c)
        };
        let mut r = open(c, slot);
        if matches!(&r, Ok(r) if r.failed_op().is_some_and(|(_, op, s)| op == nfs4::OP_OPEN && s == nfs4::NFS4ERR_EXIST))
        {
            tracing::info!("clp_nfsmon: removing the canary {name:?} a cut probe left behind");
            self.a.note("leftover", "removed");
            let removed = Compound::new(minor, slot.as_deref_mut())
                .op(nfs4::OP_PUTFH, &nfs4::putfh_args(root))
                .op(nfs4::OP_REMOVE, &nfs4::name_args(&name))
                .send(c);
            match removed {
                Ok(rm)
                    if rm.failed_op().is_none_or(|(_, op, s)| {
                        op == nfs4::OP_REMOVE && s == nfs4::NFS4ERR_NOENT
                    }) => {}
                other => {
                    return Err(v4(phase, other)
                        .err()
                        .unwrap_or_else(|| Fail::garbage(phase, "REMOVE")));
                }
            }
            r = open(c, slot);
        }
        let r = v4(phase, r)?;
        let (stateid, rflags) = r.opened.ok_or_else(|| Fail::garbage(phase, "OPEN"))?;
        let fh = r.fh.ok_or_else(|| Fail::garbage(phase, "GETFH"))?;
        self.a.lap(phase);
        let mut open = Open {
            fh,
            stateid,
            seqid: 1,
        };
        if minor == 0 && rflags & nfs4::OPEN4_RESULT_CONFIRM != 0 {
            let phase = "canary_confirm";
            let r = Compound::new(0, None)
                .op(nfs4::OP_PUTFH, &nfs4::putfh_args(&open.fh))
                .op(
                    nfs4::OP_OPEN_CONFIRM,
                    &nfs4::open_confirm_args(&open.stateid, open.seqid),
                )
                .send(c);
            let r = v4(phase, r)?;
            open.stateid = r
                .stateid
                .ok_or_else(|| Fail::garbage(phase, "OPEN_CONFIRM"))?;
            open.seqid += 1;
            self.a.lap(phase);
        }
        Ok(open)
    }

    /// `WRITE` (`FILE_SYNC4`), `COMMIT` and `READ` of the open canary in one COMPOUND, and the
    /// bytes read compared with those written.
    fn v4_io(
        &mut self,
        c: &mut RpcClient,
        minor: u32,
        slot: &mut Option<&mut Slot>,
        open: &Open,
    ) -> Result<(), Fail> {
        let data = canary_data();
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let r = Compound::new(minor, slot.as_deref_mut())
            .op(nfs4::OP_PUTFH, &nfs4::putfh_args(&open.fh))
            .op(nfs4::OP_WRITE, &nfs4::write_args(&open.stateid, &data))
            .op(nfs4::OP_COMMIT, &nfs4::commit_args())
            .op(nfs4::OP_READ, &nfs4::read_args(&open.stateid, len))
            .send(c);
        let r = v4("canary_write", r)?;
        match r.written {
            Some((n, _)) if n == len => {}
            Some((n, _)) => {
                return Err(Fail::mismatch(
                    "canary_write",
                    format!("short write: {n} of {len} bytes"),
                ));
            }
            None => return Err(Fail::garbage("canary_write", "WRITE")),
        }
        match r.data {
            Some(back) if back == data => {}
            Some(back) => {
                return Err(Fail::mismatch(
                    "canary_read",
                    format!(
                        "read back {} bytes that differ from the {len} written",
                        back.len()
                    ),
                ));
            }
            None => return Err(Fail::garbage("canary_read", "READ")),
        }
        self.a.lap("canary_io");
        Ok(())
    }

    /// `CLOSE` of the open canary and `REMOVE` of its name at `root`, in one COMPOUND.
    fn v4_close_remove(
        &self,
        c: &mut RpcClient,
        minor: u32,
        slot: &mut Option<&mut Slot>,
        open: &Open,
        root: &[u8],
    ) -> Result<CompoundRes, RpcError> {
        let seqid = if minor == 0 { open.seqid } else { 0 };
        Compound::new(minor, slot.as_deref_mut())
            .op(nfs4::OP_PUTFH, &nfs4::putfh_args(&open.fh))
            .op(nfs4::OP_CLOSE, &nfs4::close_args(seqid, &open.stateid))
            .op(nfs4::OP_PUTFH, &nfs4::putfh_args(root))
            .op(nfs4::OP_REMOVE, &nfs4::name_args(&self.p.canary))
            .send(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(512), "512 bytes");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(10 * (1 << 30)), "10.0 GiB");
    }

    #[test]
    fn failures_name_their_phase_and_status() {
        let f = Fail::level3("canary_create", 30);
        assert_eq!(
            (f.phase, f.status.as_str(), f.text.as_str()),
            (
                "canary_create",
                "NFS3ERR_ROFS (30)",
                "NFS3ERR_ROFS (canary_create)"
            )
        );
        let f = Fail::level4(op_phase(nfs4::OP_WRITE, "x"), nfs4::OP_WRITE, 28);
        assert_eq!(
            (f.phase, f.status.as_str(), f.text.as_str()),
            (
                "canary_write",
                "NFS4ERR_NOSPC (28) at WRITE",
                "NFS4ERR_NOSPC (canary_write)"
            )
        );
        let mut r = CompoundRes {
            ops: vec![(nfs4::OP_PUTROOTFH, 0), (nfs4::OP_READDIR, 13)],
            ..CompoundRes::default()
        };
        assert_eq!(walk_phase(&r), "readdir");
        r.ops = vec![(nfs4::OP_LOOKUP, 2)];
        assert_eq!(walk_phase(&r), "nfs4_compound");
    }

    #[test]
    fn every_canary_is_new() {
        assert_ne!(canary_data(), canary_data());
    }
}
