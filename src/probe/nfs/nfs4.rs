//! NFS version 4 for servers without portmapper or MOUNT: one `COMPOUND` of `PUTROOTFH`, a
//! `LOOKUP` per path component, `GETFH` and `GETATTR(type)`, sent after a `NULL`.
//!
//! `NFSv4` names the export by its place in the server's pseudo file system (for Ganesha its
//! `Pseudo` path), which is not necessarily the directory's real path.
//!
//! The minor version is negotiated as the Linux client does ([`MINOR_VERSIONS`]): 4.2 first,
//! then 4.1, then 4.0, the next one only when the server answers `NFS4ERR_MINOR_VERS_MISMATCH`.
//! For 4.1 and 4.2 the probe opens a session (RFC 8881: `EXCHANGE_ID`, `CREATE_SESSION`), sends
//! the walk behind `SEQUENCE`, and tears the session and client id down again
//! (`DESTROY_SESSION`, `DESTROY_CLIENTID`) so probes leave no state behind; 4.2 (RFC 7862) uses
//! the same operations. For 4.0 (RFC 7530) the walk needs no session.
//!
//! The deeper check levels add operations, not round trips where they can: `--check read` asks
//! the walk's `GETATTR` for the space attributes as well and appends a small `READDIR`, in the
//! same COMPOUND; `--check write` sends the canary's COMPOUNDs (`Compound`): `OPEN` (create),
//! `WRITE`/`COMMIT`/`READ`, `CLOSE`/`REMOVE`, with `SETCLIENTID` and `OPEN_CONFIRM` for v4.0
//! (RFC 7530 §16.16, §16.18, §16.33), behind `SEQUENCE` from 4.1 on (RFC 8881).

use super::rpc::{RpcClient, RpcError};
use super::xdr::{Decoder, Encoder, XdrError};

/// NFS program number.
pub(crate) const PROG: u32 = 100_003;
/// Version 4.
pub(crate) const VERS: u32 = 4;
/// `NFSPROC4_NULL`.
pub(crate) const NULL: u32 = 0;
/// `NFSPROC4_COMPOUND`.
pub(crate) const COMPOUND: u32 = 1;
/// `OP_CLOSE`.
pub(crate) const OP_CLOSE: u32 = 4;
/// `OP_COMMIT`.
pub(crate) const OP_COMMIT: u32 = 5;
/// `OP_GETATTR`.
pub(crate) const OP_GETATTR: u32 = 9;
/// `OP_GETFH`.
pub(crate) const OP_GETFH: u32 = 10;
/// `OP_LOOKUP`.
pub(crate) const OP_LOOKUP: u32 = 15;
/// `OP_OPEN`.
pub(crate) const OP_OPEN: u32 = 18;
/// `OP_OPEN_CONFIRM` (v4.0 only).
pub(crate) const OP_OPEN_CONFIRM: u32 = 20;
/// `OP_PUTFH`.
pub(crate) const OP_PUTFH: u32 = 22;
/// `OP_PUTROOTFH`.
pub(crate) const OP_PUTROOTFH: u32 = 24;
/// `OP_READ`.
pub(crate) const OP_READ: u32 = 25;
/// `OP_READDIR`.
pub(crate) const OP_READDIR: u32 = 26;
/// `OP_REMOVE`.
pub(crate) const OP_REMOVE: u32 = 28;
/// `OP_SETCLIENTID` (v4.0 only).
pub(crate) const OP_SETCLIENTID: u32 = 35;
/// `OP_SETCLIENTID_CONFIRM` (v4.0 only).
pub(crate) const OP_SETCLIENTID_CONFIRM: u32 = 36;
/// `OP_WRITE`.
pub(crate) const OP_WRITE: u32 = 38;
/// `OP_EXCHANGE_ID`.
pub(crate) const OP_EXCHANGE_ID: u32 = 42;
/// `OP_CREATE_SESSION`.
pub(crate) const OP_CREATE_SESSION: u32 = 43;
/// `OP_DESTROY_SESSION`.
pub(crate) const OP_DESTROY_SESSION: u32 = 44;
/// `OP_SEQUENCE`.
pub(crate) const OP_SEQUENCE: u32 = 53;
/// `OP_DESTROY_CLIENTID`.
pub(crate) const OP_DESTROY_CLIENTID: u32 = 57;
/// `OP_RECLAIM_COMPLETE` (v4.1+): no state to reclaim, so the server lets this client OPEN.
pub(crate) const OP_RECLAIM_COMPLETE: u32 = 58;
/// `EXCHGID4_FLAG_USE_NON_PNFS`.
const EXCHGID4_FLAG_USE_NON_PNFS: u32 = 0x0001_0000;
/// Longest opaque in the v4.1 results decoded here (`NFS4_OPAQUE_LIMIT`).
const NFS4_OPAQUE_LIMIT: u32 = 1024;
/// The minor versions tried, in order: the order of `mount.nfs` (nfs-utils `nfs_autonegotiate`),
/// which starts at the highest it knows and steps down only on `NFS4ERR_MINOR_VERS_MISMATCH`,
/// so the probe takes the road every Linux client of the server takes.
pub(crate) const MINOR_VERSIONS: [u32; 3] = [2, 1, 0];
/// `NFS4ERR_MINOR_VERS_MISMATCH`.
pub(crate) const NFS4ERR_MINOR_VERS_MISMATCH: u32 = 10021;
/// Longest v4 file handle (`NFS4_FHSIZE`).
pub(crate) const NFS4_FHSIZE: u32 = 128;
/// `FATTR4_TYPE` bit in word 0.
const FATTR4_TYPE: u32 = 1 << 1;
/// `FATTR4_MODE` (attribute 33): bit 1 of word 1.
const FATTR4_MODE_W1: u32 = 1 << 1;
/// `FATTR4_SPACE_AVAIL`, `_FREE`, `_TOTAL` (attributes 42, 43, 44): bits 10-12 of word 1.
const FATTR4_SPACE_W1: u32 = 0b111 << 10;
/// `NFS4ERR_NOENT`.
pub(crate) const NFS4ERR_NOENT: u32 = 2;
/// `NFS4ERR_EXIST`.
pub(crate) const NFS4ERR_EXIST: u32 = 17;
/// `OPEN4_RESULT_CONFIRM`: a v4.0 OPEN that must be confirmed before its state id is used.
pub(crate) const OPEN4_RESULT_CONFIRM: u32 = 2;
/// `FILE_SYNC4`: data and metadata on stable storage before the reply.
pub(crate) const FILE_SYNC4: u32 = 2;
/// `OPEN4_SHARE_ACCESS_BOTH`.
const SHARE_ACCESS_BOTH: u32 = 3;
/// `OPEN4_SHARE_WANT_NO_DELEG` (v4.1+): the canary wants no delegation to return.
const SHARE_WANT_NO_DELEG: u32 = 0x0400;
/// Longest name read back from a listing (`component4`, bounded as other opaques here).
const MAX_NAME: u32 = NFS4_OPAQUE_LIMIT;
/// Most directory entries decoded from one READDIR (the probe asks for a few hundred bytes).
const MAX_ENTRIES: usize = 4096;
/// Largest READ result decoded (the canary is a few dozen bytes).
const MAX_READ: u32 = 1 << 20;
/// Most results decoded (one per op sent; the probe sends a few).
const MAX_RESULTS: u32 = 1024;

/// Every `nfsstat4` (RFC 7530, 8881, 7862 and 8276): code and name.
pub(crate) static NFSSTAT4: &[(u32, &str)] = &[
    // RFC 7530 (NFSv4.0).
    (0, "NFS4_OK"),
    (1, "NFS4ERR_PERM"),
    (2, "NFS4ERR_NOENT"),
    (5, "NFS4ERR_IO"),
    (6, "NFS4ERR_NXIO"),
    (13, "NFS4ERR_ACCESS"),
    (17, "NFS4ERR_EXIST"),
    (18, "NFS4ERR_XDEV"),
    (20, "NFS4ERR_NOTDIR"),
    (21, "NFS4ERR_ISDIR"),
    (22, "NFS4ERR_INVAL"),
    (27, "NFS4ERR_FBIG"),
    (28, "NFS4ERR_NOSPC"),
    (30, "NFS4ERR_ROFS"),
    (31, "NFS4ERR_MLINK"),
    (63, "NFS4ERR_NAMETOOLONG"),
    (66, "NFS4ERR_NOTEMPTY"),
    (69, "NFS4ERR_DQUOT"),
    (70, "NFS4ERR_STALE"),
    (10001, "NFS4ERR_BADHANDLE"),
    (10003, "NFS4ERR_BAD_COOKIE"),
    (10004, "NFS4ERR_NOTSUPP"),
    (10005, "NFS4ERR_TOOSMALL"),
    (10006, "NFS4ERR_SERVERFAULT"),
    (10007, "NFS4ERR_BADTYPE"),
    (10008, "NFS4ERR_DELAY"),
    (10009, "NFS4ERR_SAME"),
    (10010, "NFS4ERR_DENIED"),
    (10011, "NFS4ERR_EXPIRED"),
    (10012, "NFS4ERR_LOCKED"),
    (10013, "NFS4ERR_GRACE"),
    (10014, "NFS4ERR_FHEXPIRED"),
    (10015, "NFS4ERR_SHARE_DENIED"),
    (10016, "NFS4ERR_WRONGSEC"),
    (10017, "NFS4ERR_CLID_INUSE"),
    (10018, "NFS4ERR_RESOURCE"),
    (10019, "NFS4ERR_MOVED"),
    (10020, "NFS4ERR_NOFILEHANDLE"),
    (10021, "NFS4ERR_MINOR_VERS_MISMATCH"),
    (10022, "NFS4ERR_STALE_CLIENTID"),
    (10023, "NFS4ERR_STALE_STATEID"),
    (10024, "NFS4ERR_OLD_STATEID"),
    (10025, "NFS4ERR_BAD_STATEID"),
    (10026, "NFS4ERR_BAD_SEQID"),
    (10027, "NFS4ERR_NOT_SAME"),
    (10028, "NFS4ERR_LOCK_RANGE"),
    (10029, "NFS4ERR_SYMLINK"),
    (10030, "NFS4ERR_RESTOREFH"),
    (10031, "NFS4ERR_LEASE_MOVED"),
    (10032, "NFS4ERR_ATTRNOTSUPP"),
    (10033, "NFS4ERR_NO_GRACE"),
    (10034, "NFS4ERR_RECLAIM_BAD"),
    (10035, "NFS4ERR_RECLAIM_CONFLICT"),
    (10036, "NFS4ERR_BADXDR"),
    (10037, "NFS4ERR_LOCKS_HELD"),
    (10038, "NFS4ERR_OPENMODE"),
    (10039, "NFS4ERR_BADOWNER"),
    (10040, "NFS4ERR_BADCHAR"),
    (10041, "NFS4ERR_BADNAME"),
    (10042, "NFS4ERR_BAD_RANGE"),
    (10043, "NFS4ERR_LOCK_NOTSUPP"),
    (10044, "NFS4ERR_OP_ILLEGAL"),
    (10045, "NFS4ERR_DEADLOCK"),
    (10046, "NFS4ERR_FILE_OPEN"),
    (10047, "NFS4ERR_ADMIN_REVOKED"),
    (10048, "NFS4ERR_CB_PATH_DOWN"),
    // RFC 8881 (NFSv4.1, formerly RFC 5661); 10073 is unused.
    (10049, "NFS4ERR_BADIOMODE"),
    (10050, "NFS4ERR_BADLAYOUT"),
    (10051, "NFS4ERR_BAD_SESSION_DIGEST"),
    (10052, "NFS4ERR_BADSESSION"),
    (10053, "NFS4ERR_BADSLOT"),
    (10054, "NFS4ERR_COMPLETE_ALREADY"),
    (10055, "NFS4ERR_CONN_NOT_BOUND_TO_SESSION"),
    (10056, "NFS4ERR_DELEG_ALREADY_WANTED"),
    (10057, "NFS4ERR_BACK_CHAN_BUSY"),
    (10058, "NFS4ERR_LAYOUTTRYLATER"),
    (10059, "NFS4ERR_LAYOUTUNAVAILABLE"),
    (10060, "NFS4ERR_NOMATCHING_LAYOUT"),
    (10061, "NFS4ERR_RECALLCONFLICT"),
    (10062, "NFS4ERR_UNKNOWN_LAYOUTTYPE"),
    (10063, "NFS4ERR_SEQ_MISORDERED"),
    (10064, "NFS4ERR_SEQUENCE_POS"),
    (10065, "NFS4ERR_REQ_TOO_BIG"),
    (10066, "NFS4ERR_REP_TOO_BIG"),
    (10067, "NFS4ERR_REP_TOO_BIG_TO_CACHE"),
    (10068, "NFS4ERR_RETRY_UNCACHED_REP"),
    (10069, "NFS4ERR_UNSAFE_COMPOUND"),
    (10070, "NFS4ERR_TOO_MANY_OPS"),
    (10071, "NFS4ERR_OP_NOT_IN_SESSION"),
    (10072, "NFS4ERR_HASH_ALG_UNSUPP"),
    (10074, "NFS4ERR_CLIENTID_BUSY"),
    (10075, "NFS4ERR_PNFS_IO_HOLE"),
    (10076, "NFS4ERR_SEQ_FALSE_RETRY"),
    (10077, "NFS4ERR_BAD_HIGH_SLOT"),
    (10078, "NFS4ERR_DEADSESSION"),
    (10079, "NFS4ERR_ENCR_ALG_UNSUPP"),
    (10080, "NFS4ERR_PNFS_NO_LAYOUT"),
    (10081, "NFS4ERR_NOT_ONLY_OP"),
    (10082, "NFS4ERR_WRONG_CRED"),
    (10083, "NFS4ERR_WRONG_TYPE"),
    (10084, "NFS4ERR_DIRDELEG_UNAVAIL"),
    (10085, "NFS4ERR_REJECT_DELEG"),
    (10086, "NFS4ERR_RETURNCONFLICT"),
    (10087, "NFS4ERR_DELEG_REVOKED"),
    // RFC 7862 (NFSv4.2).
    (10088, "NFS4ERR_PARTNER_NOTSUPP"),
    (10089, "NFS4ERR_PARTNER_NO_AUTH"),
    (10090, "NFS4ERR_UNION_NOTSUPP"),
    (10091, "NFS4ERR_OFFLOAD_DENIED"),
    (10092, "NFS4ERR_WRONG_LFS"),
    (10093, "NFS4ERR_BADLABEL"),
    (10094, "NFS4ERR_OFFLOAD_NO_REQS"),
    // RFC 8276 (extended attributes, an NFSv4.2 extension).
    (10095, "NFS4ERR_NOXATTR"),
    (10096, "NFS4ERR_XATTR2BIG"),
];

/// Name of an `nfsstat4` (`NFS4ERR_NOENT`), or `None` for a code no RFC defines.
pub(crate) fn nfsstat4_name(s: u32) -> Option<&'static str> {
    super::xdr::name_of(NFSSTAT4, s)
}

/// Name of an operation number.
pub(crate) fn op_name(op: u32) -> &'static str {
    match op {
        OP_GETATTR => "GETATTR",
        OP_GETFH => "GETFH",
        OP_LOOKUP => "LOOKUP",
        OP_PUTROOTFH => "PUTROOTFH",
        OP_EXCHANGE_ID => "EXCHANGE_ID",
        OP_CREATE_SESSION => "CREATE_SESSION",
        OP_DESTROY_SESSION => "DESTROY_SESSION",
        OP_SEQUENCE => "SEQUENCE",
        OP_DESTROY_CLIENTID => "DESTROY_CLIENTID",
        OP_CLOSE => "CLOSE",
        OP_COMMIT => "COMMIT",
        OP_OPEN => "OPEN",
        OP_OPEN_CONFIRM => "OPEN_CONFIRM",
        OP_PUTFH => "PUTFH",
        OP_READ => "READ",
        OP_READDIR => "READDIR",
        OP_REMOVE => "REMOVE",
        OP_SETCLIENTID => "SETCLIENTID",
        OP_SETCLIENTID_CONFIRM => "SETCLIENTID_CONFIRM",
        OP_WRITE => "WRITE",
        OP_RECLAIM_COMPLETE => "RECLAIM_COMPLETE",
        _ => "op",
    }
}

/// The path components LOOKUP walks (`/srv/nfs/` → `srv`, `nfs`). `.` and `..` are resolved
/// here, as a client resolves them before it looks anything up (the Linux client walks the
/// mount path in its own name cache, libnfs normalises it; `..` at the root stays there): sent
/// to the server, LOOKUP `..` is `NFS4ERR_BADNAME`, which no client using the export would see.
pub(crate) fn components(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// Encodes `COMPOUND4args` (minor version `minor`) for the probe's walk to `path`; with a
/// session (v4.1), the walk goes behind `SEQUENCE` on slot 0 with sequence id 1. With `read`
/// (`--check read`) its `GETATTR` asks for the space attributes as well and a `READDIR` of at
/// most [`READDIR_MAXCOUNT`] bytes follows: operations that reach the exported file system, in
/// the same round trip.
pub(crate) fn encode_walk(
    path: &str,
    minor: u32,
    session: Option<&[u8; 16]>,
    read: bool,
) -> Vec<u8> {
    let comps = components(path);
    let mut e = Encoder::new();
    e.string("clp_nfsmon").u32(minor);
    let ops = comps.len() + 3 + usize::from(session.is_some()) + usize::from(read);
    e.u32(u32::try_from(ops).unwrap_or(u32::MAX));
    if let Some(sid) = session {
        e.u32(OP_SEQUENCE)
            .fixed(sid)
            .u32(1)
            .u32(0)
            .u32(0)
            .bool(false);
    }
    e.u32(OP_PUTROOTFH);
    for c in comps {
        e.u32(OP_LOOKUP).string(c);
    }
    e.u32(OP_GETFH);
    if read {
        e.u32(OP_GETATTR)
            .u32(2)
            .u32(FATTR4_TYPE)
            .u32(FATTR4_SPACE_W1);
        e.u32(OP_READDIR).raw(&readdir_args(READDIR_MAXCOUNT));
    } else {
        e.u32(OP_GETATTR).u32(1).u32(FATTR4_TYPE);
    }
    e.finish()
}

/// The `maxcount` of the probe's READDIR: room for a few entries without attributes.
pub(crate) const READDIR_MAXCOUNT: u32 = 512;

/// Arguments of `READDIR` from the start of the directory, no attributes per entry.
pub(crate) fn readdir_args(maxcount: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u64(0)
        .fixed(&[0; 8])
        .u32(maxcount / 2)
        .u32(maxcount)
        .u32(0);
    e.finish()
}

/// A state id (`stateid4`: sequence id and 12 opaque bytes), kept as its 16 wire bytes.
pub type Stateid = [u8; 16];

/// A COMPOUND of any operations, behind `SEQUENCE` when it runs in a session (v4.1+).
#[derive(Clone, Debug)]
pub(crate) struct Compound {
    minor: u32,
    count: u32,
    ops: Encoder,
}

/// A v4.1+ session as a COMPOUND uses it: its id and the sequence id of the next request on
/// slot 0 (the walk used 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Session id.
    pub(crate) id: [u8; 16],
    /// Sequence id of the next COMPOUND.
    pub(crate) seq: u32,
}

impl Compound {
    /// An empty COMPOUND of minor version `minor`; with `slot`, it starts with `SEQUENCE` on
    /// slot 0 with the slot's sequence id, which is then advanced.
    pub(crate) fn new(minor: u32, slot: Option<&mut Slot>) -> Self {
        let mut c = Self {
            minor,
            count: 0,
            ops: Encoder::new(),
        };
        if let Some(s) = slot {
            let mut a = Encoder::new();
            a.fixed(&s.id).u32(s.seq).u32(0).u32(0).bool(false);
            s.seq = s.seq.wrapping_add(1);
            c = c.op(OP_SEQUENCE, &a.finish());
        }
        c
    }

    /// Appends operation `op` with its encoded arguments.
    pub(crate) fn op(mut self, op: u32, args: &[u8]) -> Self {
        self.ops.u32(op).raw(args);
        self.count += 1;
        self
    }

    /// `COMPOUND4args`.
    pub(crate) fn encode(self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.string("clp_nfsmon").u32(self.minor).u32(self.count);
        e.raw(&self.ops.finish());
        e.finish()
    }

    /// Sends it and decodes the result.
    pub(crate) fn send(self, client: &mut RpcClient) -> Result<CompoundRes, RpcError> {
        Ok(decode_compound(&client.call(
            PROG,
            VERS,
            COMPOUND,
            &self.encode(),
        )?)?)
    }
}

/// Arguments of `PUTFH`.
pub(crate) fn putfh_args(fh: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.opaque(fh);
    e.finish()
}

/// Arguments of `REMOVE` (and of any op whose argument is one name).
pub(crate) fn name_args(name: &str) -> Vec<u8> {
    let mut e = Encoder::new();
    e.string(name);
    e.finish()
}

/// Arguments of `SETCLIENTID` for client `id` with boot `verifier`, with a callback address
/// nobody listens on (the canary wants no delegation, so the server has nothing to call back).
pub(crate) fn setclientid_args(id: &[u8], verifier: [u8; 8]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.fixed(&verifier).opaque(id);
    e.u32(0x4000_0000)
        .string("tcp")
        .string("0.0.0.0.0.0")
        .u32(0);
    e.finish()
}

/// Arguments of `SETCLIENTID_CONFIRM`.
pub(crate) fn setclientid_confirm_args(clientid: u64, confirm: [u8; 8]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u64(clientid).fixed(&confirm);
    e.finish()
}

/// Arguments of `OPEN` creating `name` (`GUARDED4`: `NFS4ERR_EXIST` when it exists) with
/// permission bits `mode`, for reading and writing, by open owner `owner` of `clientid` with
/// `seqid` (v4.0; ignored by v4.1+, where `minor` > 0 also declines a delegation).
pub(crate) fn open_create_args(
    minor: u32,
    clientid: u64,
    owner: &[u8],
    name: &str,
    mode: u32,
) -> Vec<u8> {
    let access = if minor > 0 {
        SHARE_ACCESS_BOTH | SHARE_WANT_NO_DELEG
    } else {
        SHARE_ACCESS_BOTH
    };
    let mut e = Encoder::new();
    e.u32(0).u32(access).u32(0); // seqid 0 (a fresh owner), deny none
    e.u64(clientid).opaque(owner);
    e.u32(1).u32(1); // OPEN4_CREATE, GUARDED4
    let mut attr = Encoder::new();
    attr.u32(mode);
    e.u32(2).u32(0).u32(FATTR4_MODE_W1).opaque(&attr.finish());
    e.u32(0).string(name); // CLAIM_NULL
    e.finish()
}

/// Arguments of `OPEN_CONFIRM`: the state id OPEN gave and the owner's next `seqid`.
pub(crate) fn open_confirm_args(stateid: &Stateid, seqid: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.fixed(stateid).u32(seqid);
    e.finish()
}

/// Arguments of `CLOSE`.
pub(crate) fn close_args(seqid: u32, stateid: &Stateid) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u32(seqid).fixed(stateid);
    e.finish()
}

/// Arguments of `WRITE` of `data` at offset 0, `FILE_SYNC4`.
pub(crate) fn write_args(stateid: &Stateid, data: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.fixed(stateid).u64(0).u32(FILE_SYNC4).opaque(data);
    e.finish()
}

/// Arguments of `COMMIT` of the whole file.
pub(crate) fn commit_args() -> Vec<u8> {
    let mut e = Encoder::new();
    e.u64(0).u32(0);
    e.finish()
}

/// Arguments of `READ` of `count` bytes at offset 0.
pub(crate) fn read_args(stateid: &Stateid, count: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.fixed(stateid).u64(0).u32(count);
    e.finish()
}

/// Encodes a COMPOUND of minor version `minor` holding the single operation `op` with encoded
/// `args`.
pub(crate) fn encode_single(minor: u32, op: u32, args: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.string("clp_nfsmon").u32(minor).u32(1).u32(op).raw(args);
    e.finish()
}

/// Arguments of `EXCHANGE_ID` for client `owner` with boot `verifier`.
pub(crate) fn exchange_id_args(owner: &[u8], verifier: [u8; 8]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.fixed(&verifier).opaque(owner);
    e.u32(EXCHGID4_FLAG_USE_NON_PNFS).u32(0).u32(0); // SP4_NONE, no impl id
    e.finish()
}

/// Arguments of `CREATE_SESSION`: one slot, small fore channel, no back channel use.
pub(crate) fn create_session_args(clientid: u64, sequence: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u64(clientid).u32(sequence).u32(0);
    for _ in 0..2 {
        // headerpadsize, maxrequestsize, maxresponsesize, maxresponsesize_cached,
        // maxoperations, maxrequests, rdma_ird<1>
        e.u32(0)
            .u32(64 * 1024)
            .u32(64 * 1024)
            .u32(4096)
            .u32(16)
            .u32(1)
            .u32(0);
    }
    e.u32(0x4000_0000).u32(1).u32(0); // cb_program, one AUTH_NONE callback flavor
    e.finish()
}

/// What a COMPOUND answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompoundRes {
    /// Overall status (that of the last op evaluated).
    pub status: u32,
    /// Per op evaluated: (opcode, status).
    pub ops: Vec<(u32, u32)>,
    /// The handle from GETFH.
    pub fh: Option<Vec<u8>>,
    /// `nfs_ftype4` from GETATTR (2 = directory).
    pub ftype: Option<u32>,
    /// From `EXCHANGE_ID`: client id and the sequence id for `CREATE_SESSION`.
    pub client: Option<(u64, u32)>,
    /// From `CREATE_SESSION`: the session id.
    pub session: Option<[u8; 16]>,
    /// From `GETATTR`: the space attributes (`--check read`).
    pub space: Option<Space>,
    /// From `READDIR`: (entries, eof).
    pub listing: Option<(usize, bool)>,
    /// From `SETCLIENTID`: client id and the confirm verifier.
    pub setclientid: Option<(u64, [u8; 8])>,
    /// From `OPEN`: its state id and `rflags`.
    pub opened: Option<(Stateid, u32)>,
    /// From `OPEN_CONFIRM` or `CLOSE`: the new state id.
    pub stateid: Option<Stateid>,
    /// From `WRITE`: (bytes written, `stable_how4` committed).
    pub written: Option<(u32, u32)>,
    /// From `READ`: the bytes read.
    pub data: Option<Vec<u8>>,
}

/// The space attributes of a file system (`space_avail`, `space_free`, `space_total`), those
/// the server sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Space {
    /// Bytes available to the caller.
    pub avail: Option<u64>,
    /// Bytes free.
    pub free: Option<u64>,
    /// Bytes in all.
    pub total: Option<u64>,
}

impl CompoundRes {
    /// The first failed op: (index, opcode, status).
    pub fn failed_op(&self) -> Option<(usize, u32, u32)> {
        self.ops
            .iter()
            .enumerate()
            .find(|(_, (_, s))| *s != 0)
            .map(|(i, (op, s))| (i, *op, *s))
    }
}

/// Decodes `COMPOUND4res` of the walk (only the ops `encode_walk` sends have bodies).
pub fn decode_compound(res: &[u8]) -> Result<CompoundRes, XdrError> {
    let mut d = Decoder::new(res);
    let mut out = CompoundRes {
        status: d.u32()?,
        ..CompoundRes::default()
    };
    d.opaque(1024)?; // tag
    let n = d.u32()?;
    if n > MAX_RESULTS {
        return Err(XdrError::TooLong {
            len: n,
            max: MAX_RESULTS,
        });
    }
    for _ in 0..n {
        let op = d.u32()?;
        let status = d.u32()?;
        out.ops.push((op, status));
        if status != 0 {
            break;
        }
        match op {
            OP_GETFH => out.fh = Some(d.opaque(NFS4_FHSIZE)?.to_vec()),
            OP_GETATTR => {
                let mask = bitmap(&mut d)?;
                let attrs = d.opaque(64 * 1024)?;
                decode_attrs(&mask, attrs, &mut out)?;
            }
            OP_READDIR => {
                d.fixed(8)?; // cookieverf
                let mut n = 0;
                while d.bool()? {
                    if n >= MAX_ENTRIES {
                        return Err(XdrError::BadValue("READDIR entries", 4096));
                    }
                    d.u64()?; // cookie
                    d.opaque(MAX_NAME)?;
                    bitmap(&mut d)?;
                    d.opaque(64 * 1024)?;
                    n += 1;
                }
                out.listing = Some((n, d.bool()?));
            }
            OP_SETCLIENTID => {
                let clientid = d.u64()?;
                let mut confirm = [0u8; 8];
                confirm.copy_from_slice(d.fixed(8)?);
                out.setclientid = Some((clientid, confirm));
            }
            OP_OPEN => {
                let sid = stateid(&mut d)?;
                d.bool()?; // change_info4: atomic, before, after
                d.skip(16)?;
                let rflags = d.u32()?;
                bitmap(&mut d)?; // attrset
                delegation(&mut d)?;
                out.opened = Some((sid, rflags));
            }
            OP_OPEN_CONFIRM | OP_CLOSE => out.stateid = Some(stateid(&mut d)?),
            OP_WRITE => {
                let count = d.u32()?;
                let committed = d.u32()?;
                d.fixed(8)?; // writeverf
                out.written = Some((count, committed));
            }
            OP_COMMIT => {
                d.fixed(8)?;
            }
            OP_READ => {
                d.bool()?; // eof
                out.data = Some(d.opaque(MAX_READ)?.to_vec());
            }
            OP_REMOVE => {
                d.bool()?;
                d.skip(16)?;
            }
            OP_SEQUENCE => d.skip(16 + 20)?,
            OP_EXCHANGE_ID => {
                let clientid = d.u64()?;
                let seq = d.u32()?;
                let _flags = d.u32()?;
                match d.u32()? {
                    0 => {}
                    sp => return Err(XdrError::BadValue("state_protect4_r", sp)),
                }
                d.u64()?; // so_minor_id
                d.opaque(NFS4_OPAQUE_LIMIT)?; // so_major_id
                d.opaque(NFS4_OPAQUE_LIMIT)?; // server scope
                // server impl id<1>: ignored.
                out.client = Some((clientid, seq));
            }
            OP_CREATE_SESSION => {
                let mut sid = [0u8; 16];
                sid.copy_from_slice(d.fixed(16)?);
                out.session = Some(sid);
                // sequence, flags and channel attributes: not needed.
            }
            OP_PUTROOTFH
            | OP_PUTFH
            | OP_LOOKUP
            | OP_DESTROY_SESSION
            | OP_DESTROY_CLIENTID
            | OP_SETCLIENTID_CONFIRM
            | OP_RECLAIM_COMPLETE => {}
            other => return Err(XdrError::BadValue("resop", other)),
        }
    }
    Ok(out)
}

/// A `bitmap4` of at most 8 words.
fn bitmap(d: &mut Decoder<'_>) -> Result<Vec<u32>, XdrError> {
    let words = d.u32()?;
    if words > 8 {
        return Err(XdrError::TooLong { len: words, max: 8 });
    }
    (0..words).map(|_| d.u32()).collect()
}

/// A `stateid4`.
fn stateid(d: &mut Decoder<'_>) -> Result<Stateid, XdrError> {
    let mut s = [0u8; 16];
    s.copy_from_slice(d.fixed(16)?);
    Ok(s)
}

/// Skips an `nfsace4`.
fn nfsace(d: &mut Decoder<'_>) -> Result<(), XdrError> {
    d.skip(12)?; // type, flag, access mask
    d.opaque(NFS4_OPAQUE_LIMIT).map(drop)
}

/// Skips an `open_delegation4` (RFC 7530 §16.16, RFC 8881 §18.16).
fn delegation(d: &mut Decoder<'_>) -> Result<(), XdrError> {
    match d.u32()? {
        0 => {}
        1 => {
            stateid(d)?;
            d.bool()?;
            nfsace(d)?;
        }
        2 => {
            stateid(d)?;
            d.bool()?;
            match d.u32()? {
                // NFS_LIMIT_SIZE: a hyper; NFS_LIMIT_BLOCKS: two words.
                1 | 2 => d.skip(8)?,
                l => return Err(XdrError::BadValue("limit_by4", l)),
            }
            nfsace(d)?;
        }
        3 => {
            if matches!(d.u32()?, 1 | 2) {
                d.bool()?;
            }
        }
        t => return Err(XdrError::BadValue("open_delegation_type4", t)),
    }
    Ok(())
}

/// The attributes of a `GETATTR` the probe asks for, in bit order: `type` (word 0) and the
/// space attributes (word 1). Attributes after one of unknown size are not read.
fn decode_attrs(mask: &[u32], attrs: &[u8], out: &mut CompoundRes) -> Result<(), XdrError> {
    let mut a = Decoder::new(attrs);
    let w0 = mask.first().copied().unwrap_or(0);
    let w1 = mask.get(1).copied().unwrap_or(0);
    if w0 & !FATTR4_TYPE != 0 {
        return Ok(()); // an attribute the probe did not ask for, of a size it does not know
    }
    if w0 & FATTR4_TYPE != 0 {
        out.ftype = Some(a.u32()?);
    }
    if w1 & ((1 << 10) - 1) != 0 {
        return Ok(()); // likewise, before the space attributes
    }
    if w1 & FATTR4_SPACE_W1 != 0 {
        let mut space = Space::default();
        for (bit, slot) in [
            (10, &mut space.avail),
            (11, &mut space.free),
            (12, &mut space.total),
        ] {
            if w1 & (1 << bit) != 0 {
                *slot = Some(a.u64()?);
            }
        }
        out.space = Some(space);
    }
    Ok(())
}

/// `NULL`.
pub fn null(client: &mut RpcClient) -> Result<(), RpcError> {
    client.call(PROG, VERS, NULL, &[]).map(drop)
}

/// The walk to `path` as one COMPOUND with minor version `minor` (and a session, from 4.1 on),
/// with the operations of `--check read` when `read` (see [`encode_walk`]).
pub(crate) fn walk(
    client: &mut RpcClient,
    path: &str,
    minor: u32,
    session: Option<&[u8; 16]>,
    read: bool,
) -> Result<CompoundRes, RpcError> {
    Ok(decode_compound(&client.call(
        PROG,
        VERS,
        COMPOUND,
        &encode_walk(path, minor, session, read),
    )?)?)
}

/// Sends a COMPOUND of minor version `minor` holding the single operation `op`.
pub(crate) fn single(
    client: &mut RpcClient,
    minor: u32,
    op: u32,
    args: &[u8],
) -> Result<CompoundRes, RpcError> {
    Ok(decode_compound(&client.call(
        PROG,
        VERS,
        COMPOUND,
        &encode_single(minor, op, args),
    )?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dot_and_dot_dot_are_resolved_before_the_walk() {
        assert_eq!(components("/srv/nfs/"), ["srv", "nfs"]);
        assert_eq!(components("/a/./c/../b"), ["a", "b"]);
        assert_eq!(components("/tmp/../x"), ["x"]);
        assert_eq!(components("/../../x/.."), Vec::<&str>::new());
        assert_eq!(components("/"), Vec::<&str>::new());
    }

    #[test]
    fn walk_layout() {
        let b = encode_walk("/a//b/", 0, None, false);
        let mut d = Decoder::new(&b);
        assert_eq!(d.string(64).unwrap(), "clp_nfsmon");
        assert_eq!((d.u32().unwrap(), d.u32().unwrap()), (0, 5));
        assert_eq!(d.u32().unwrap(), OP_PUTROOTFH);
        assert_eq!(
            (d.u32().unwrap(), d.string(9).unwrap().as_str()),
            (OP_LOOKUP, "a")
        );
        assert_eq!(
            (d.u32().unwrap(), d.string(9).unwrap().as_str()),
            (OP_LOOKUP, "b")
        );
        assert_eq!(d.u32().unwrap(), OP_GETFH);
        assert_eq!(
            [d.u32().unwrap(), d.u32().unwrap(), d.u32().unwrap()],
            [OP_GETATTR, 1, 2]
        );
        assert_eq!(d.remaining(), 0);
    }

    #[test]
    fn decodes_ok_and_failed_walks() {
        let mut e = Encoder::new();
        e.u32(0).string("t").u32(4);
        e.u32(OP_PUTROOTFH).u32(0).u32(OP_LOOKUP).u32(0);
        e.u32(OP_GETFH).u32(0).opaque(&[1; 20]);
        e.u32(OP_GETATTR)
            .u32(0)
            .u32(1)
            .u32(FATTR4_TYPE)
            .opaque(&[0, 0, 0, 2]);
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!(
            (r.fh.as_deref(), r.ftype, r.failed_op()),
            (Some(&[1u8; 20][..]), Some(2), None)
        );

        let mut e = Encoder::new();
        e.u32(2)
            .string("")
            .u32(2)
            .u32(OP_PUTROOTFH)
            .u32(0)
            .u32(OP_LOOKUP)
            .u32(2);
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!(r.failed_op(), Some((1, OP_LOOKUP, 2)));
        assert_eq!(nfsstat4_name(2), Some("NFS4ERR_NOENT"));

        let mut e = Encoder::new();
        e.u32(NFS4ERR_MINOR_VERS_MISMATCH).string("").u32(0);
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!((r.status, r.ops.len()), (NFS4ERR_MINOR_VERS_MISMATCH, 0));
    }

    #[test]
    fn decodes_session_setup() {
        let mut e = Encoder::new();
        e.u32(0).string("").u32(1).u32(OP_EXCHANGE_ID).u32(0);
        e.u64(0x1122)
            .u32(7)
            .u32(0)
            .u32(0)
            .u64(1)
            .opaque(b"major")
            .opaque(b"scope")
            .u32(0);
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!(r.client, Some((0x1122, 7)));
        let mut e = Encoder::new();
        e.u32(0)
            .string("")
            .u32(1)
            .u32(OP_CREATE_SESSION)
            .u32(0)
            .fixed(&[9; 16])
            .u32(7);
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!(r.session, Some([9; 16]));
        // SEQUENCE's result is skipped before the walk's.
        let mut e = Encoder::new();
        e.u32(0)
            .string("")
            .u32(2)
            .u32(OP_SEQUENCE)
            .u32(0)
            .fixed(&[9; 16]);
        e.u32(1).u32(0).u32(0).u32(0).u32(0);
        e.u32(OP_PUTROOTFH).u32(0);
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!(r.ops, [(OP_SEQUENCE, 0), (OP_PUTROOTFH, 0)]);
        let w = encode_walk("/x", 1, Some(&[9; 16]), false);
        let mut d = Decoder::new(&w);
        d.string(64).unwrap();
        assert_eq!(
            [d.u32().unwrap(), d.u32().unwrap(), d.u32().unwrap()],
            [1, 5, OP_SEQUENCE]
        );
        assert_eq!(d.fixed(16).unwrap(), &[9; 16]);
        assert_eq!(exchange_id_args(b"o", [1; 8]).len(), 8 + 8 + 12);
        let one = encode_single(2, OP_EXCHANGE_ID, &[7; 4]);
        let mut d = Decoder::new(&one);
        d.string(64).unwrap();
        assert_eq!(
            [d.u32().unwrap(), d.u32().unwrap(), d.u32().unwrap()],
            [2, 1, OP_EXCHANGE_ID]
        );
        assert_eq!(MINOR_VERSIONS, [2, 1, 0]);
        assert_eq!(create_session_args(1, 2).len(), 16 + 2 * 28 + 12);
    }

    /// `read`: the walk asks GETATTR for the space attributes and lists the directory, in the
    /// same COMPOUND; the answers are read back.
    #[test]
    fn read_level_walk_layout_and_results() {
        let b = encode_walk("/x", 0, None, true);
        let mut d = Decoder::new(&b);
        d.string(64).unwrap();
        assert_eq!((d.u32().unwrap(), d.u32().unwrap()), (0, 5));
        assert_eq!(d.u32().unwrap(), OP_PUTROOTFH);
        assert_eq!(
            (d.u32().unwrap(), d.string(9).unwrap().as_str()),
            (OP_LOOKUP, "x")
        );
        assert_eq!(d.u32().unwrap(), OP_GETFH);
        let getattr: Vec<u32> = (0..4).map(|_| d.u32().unwrap()).collect();
        assert_eq!(getattr, [OP_GETATTR, 2, FATTR4_TYPE, 0b111 << 10]);
        assert_eq!(d.u32().unwrap(), OP_READDIR);
        assert_eq!((d.u64().unwrap(), d.fixed(8).unwrap()), (0, &[0u8; 8][..]));
        let counts: Vec<u32> = (0..3).map(|_| d.u32().unwrap()).collect();
        assert_eq!(counts, [READDIR_MAXCOUNT / 2, READDIR_MAXCOUNT, 0]);
        assert_eq!(d.remaining(), 0);

        let mut e = Encoder::new();
        e.u32(0).string("").u32(2);
        let mut attrs = Encoder::new();
        attrs.u32(2).u64(50).u64(60).u64(100);
        e.u32(OP_GETATTR)
            .u32(0)
            .u32(2)
            .u32(FATTR4_TYPE)
            .u32(0b111 << 10);
        e.opaque(&attrs.finish());
        e.u32(OP_READDIR).u32(0).fixed(&[0; 8]);
        for name in ["a", "b"] {
            e.bool(true).u64(1).string(name).u32(0).opaque(&[]);
        }
        e.bool(false).bool(true);
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!(r.ftype, Some(2));
        assert_eq!(
            r.space,
            Some(Space {
                avail: Some(50),
                free: Some(60),
                total: Some(100)
            })
        );
        assert_eq!(r.listing, Some((2, true)));
        // A server without space_free: the others are still read.
        let mut e = Encoder::new();
        e.u32(0).string("").u32(1);
        let mut attrs = Encoder::new();
        attrs.u64(5).u64(9);
        e.u32(OP_GETATTR).u32(0).u32(2).u32(0).u32(0b101 << 10);
        e.opaque(&attrs.finish());
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!(
            r.space,
            Some(Space {
                avail: Some(5),
                free: None,
                total: Some(9)
            })
        );
    }

    /// The canary's COMPOUNDs: SEQUENCE first in a session (its sequence id advancing), and
    /// every result the canary reads back.
    #[test]
    fn canary_compounds_and_results() {
        let mut slot = Slot {
            id: [7; 16],
            seq: 2,
        };
        let b = Compound::new(1, Some(&mut slot))
            .op(OP_PUTFH, &putfh_args(&[1; 8]))
            .op(OP_REMOVE, &name_args("c"))
            .encode();
        assert_eq!(slot.seq, 3);
        let mut d = Decoder::new(&b);
        d.string(64).unwrap();
        assert_eq!(
            [d.u32().unwrap(), d.u32().unwrap(), d.u32().unwrap()],
            [1, 3, OP_SEQUENCE]
        );
        assert_eq!(d.fixed(16).unwrap(), &[7; 16]);
        assert_eq!(d.u32().unwrap(), 2);
        let open = open_create_args(1, 9, b"own", "c", 0o600);
        let mut d = Decoder::new(&open);
        assert_eq!(
            [d.u32().unwrap(), d.u32().unwrap(), d.u32().unwrap()],
            [0, SHARE_ACCESS_BOTH | SHARE_WANT_NO_DELEG, 0]
        );
        assert_eq!((d.u64().unwrap(), d.opaque(9).unwrap()), (9, &b"own"[..]));
        let how: Vec<u32> = (0..5).map(|_| d.u32().unwrap()).collect();
        assert_eq!(how, [1, 1, 2, 0, FATTR4_MODE_W1]);
        assert_eq!(d.opaque(9).unwrap(), &0o600u32.to_be_bytes());
        assert_eq!((d.u32().unwrap(), d.string(9).unwrap().as_str()), (0, "c"));
        assert_eq!(d.remaining(), 0);

        for (deleg, body) in [
            (0u32, Encoder::new()),
            (1, {
                let mut b = Encoder::new();
                b.fixed(&[2; 16])
                    .bool(false)
                    .u32(0)
                    .u32(0)
                    .u32(0)
                    .string("who");
                b
            }),
            (2, {
                let mut b = Encoder::new();
                b.fixed(&[2; 16]).bool(false).u32(1).u64(4096);
                b.u32(0).u32(0).u32(0).string("who");
                b
            }),
            (3, {
                let mut b = Encoder::new();
                b.u32(1).bool(false);
                b
            }),
        ] {
            let mut e = Encoder::new();
            e.u32(0).string("").u32(3);
            e.u32(OP_OPEN)
                .u32(0)
                .fixed(&[5; 16])
                .bool(true)
                .u64(1)
                .u64(2);
            e.u32(OPEN4_RESULT_CONFIRM)
                .u32(1)
                .u32(0)
                .u32(deleg)
                .raw(&body.finish());
            e.u32(OP_GETFH).u32(0).opaque(&[6; 20]);
            e.u32(OP_OPEN_CONFIRM).u32(0).fixed(&[8; 16]);
            let r = decode_compound(&e.finish()).unwrap();
            assert_eq!(r.opened, Some(([5; 16], OPEN4_RESULT_CONFIRM)), "{deleg}");
            assert_eq!(r.fh.as_deref(), Some(&[6; 20][..]), "{deleg}");
            assert_eq!(r.stateid, Some([8; 16]), "{deleg}");
        }

        let mut e = Encoder::new();
        e.u32(0).string("").u32(5);
        e.u32(OP_PUTFH).u32(0);
        e.u32(OP_WRITE).u32(0).u32(4).u32(FILE_SYNC4).fixed(&[0; 8]);
        e.u32(OP_COMMIT).u32(0).fixed(&[0; 8]);
        e.u32(OP_READ).u32(0).bool(true).opaque(b"data");
        e.u32(OP_CLOSE).u32(0).fixed(&[3; 16]);
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!(r.written, Some((4, FILE_SYNC4)));
        assert_eq!(r.data.as_deref(), Some(&b"data"[..]));
        assert_eq!(r.stateid, Some([3; 16]));

        let mut e = Encoder::new();
        e.u32(0).string("").u32(2);
        e.u32(OP_SETCLIENTID).u32(0).u64(0x77).fixed(&[1; 8]);
        e.u32(OP_REMOVE).u32(0).bool(true).u64(1).u64(2);
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!(r.setclientid, Some((0x77, [1; 8])));
        assert_eq!(r.failed_op(), None);
        // A failed op ends the results: NOSPC at WRITE.
        let mut e = Encoder::new();
        e.u32(28)
            .string("")
            .u32(2)
            .u32(OP_PUTFH)
            .u32(0)
            .u32(OP_WRITE)
            .u32(28);
        let r = decode_compound(&e.finish()).unwrap();
        assert_eq!(r.failed_op(), Some((1, OP_WRITE, 28)));
    }

    /// The table is the RFCs': `NFS4_OK`, 18 codes below 10000, 10001 and 10003-10096 but 10073.
    #[test]
    fn nfsstat4_table_is_the_rfcs() {
        super::super::xdr::check_names("nfsstat4", NFSSTAT4, "NFS4");
        let want: Vec<u32> = [
            1, 2, 5, 6, 13, 17, 18, 20, 21, 22, 27, 28, 30, 31, 63, 66, 69, 70,
        ]
        .into_iter()
        .chain([10001])
        .chain((10003..=10096).filter(|c| *c != 10073))
        .collect();
        let got: Vec<u32> = NFSSTAT4
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| *c != 0)
            .collect();
        assert_eq!(got, want);
        for (c, n) in [
            (10016, "NFS4ERR_WRONGSEC"),
            (10021, "NFS4ERR_MINOR_VERS_MISMATCH"),
            (10029, "NFS4ERR_SYMLINK"),
            (10030, "NFS4ERR_RESTOREFH"),
            (10040, "NFS4ERR_BADCHAR"),
            (10041, "NFS4ERR_BADNAME"),
            (10052, "NFS4ERR_BADSESSION"),
            (10071, "NFS4ERR_OP_NOT_IN_SESSION"),
            (10087, "NFS4ERR_DELEG_REVOKED"),
            (10094, "NFS4ERR_OFFLOAD_NO_REQS"),
        ] {
            assert_eq!(nfsstat4_name(c), Some(n), "{c}");
        }
        assert_eq!(nfsstat4_name(10073), None);
        assert_eq!(nfsstat4_name(10097), None);
    }

    proptest! {
        #[test]
        fn decoder_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_compound(&b);
        }

        #[test]
        fn fh_round_trip(fh in proptest::collection::vec(any::<u8>(), 0..=128), t in any::<u32>()) {
            let mut e = Encoder::new();
            e.u32(0).string("x").u32(3).u32(OP_PUTROOTFH).u32(0);
            e.u32(OP_GETFH).u32(0).opaque(&fh);
            let mut a = Encoder::new();
            a.u32(t);
            e.u32(OP_GETATTR).u32(0).u32(1).u32(FATTR4_TYPE).opaque(&a.finish());
            let r = decode_compound(&e.finish()).unwrap();
            prop_assert_eq!(r.fh, Some(fh));
            prop_assert_eq!(r.ftype, Some(t));
        }
    }
}
