//! Kerberos logons of the SMB probe (`--kerberos`, `--keytab`): the SPNEGO tokens of
//! SESSION_SETUP and the session key that then signs and seals the session, from MIT krb5's
//! GSSAPI.
//!
//! **Why GSSAPI through MIT krb5, and why its `-sys` binding.** Kerberos is not hand-written
//! here: MIT's library does the protocol (AS and TGS exchanges, the AP-REQ, the AP-REP of mutual
//! authentication, SPNEGO) and honours what administrators already configure — krb5.conf or
//! `KRB5_CONFIG` (realms, KDCs, `dns_canonicalize_hostname`, `rdns`, enctypes), keytabs and
//! credential caches (`KRB5CCNAME`, collections), with the error texts they know from kinit.
//! The pure-Rust alternative, the sspi crate, neither reads keytabs nor ccaches as MIT does, which
//! is what an HA cluster has. The libgssapi crate's safe types keep their GSS handles private,
//! so neither `gss_acquire_cred_from` (a keytab as a credential store, per call, no process-wide
//! environment variable) nor `gss_inquire_sec_context_by_oid(GSS_C_INQ_SSPI_SESSION_KEY)` (the
//! key SMB needs) can be reached through them: this module calls the same project's bindings,
//! libgssapi-sys (generated from MIT's own headers), behind a small owning wrapper.
//!
//! **The session key.** MS-SMB2 3.2.5.3.1: Session.SessionKey is the first 16 bytes of the GSS
//! context's key (right-padded with zeros if shorter); the full key is kept for the ciphers that
//! take it (AES-256). The key is the SSPI one (the acceptor's subkey when the server sent one in
//! its AP-REP, else the initiator's), which is what Windows and Samba sign with.
//!
//! **Credentials.** With `--keytab`, the credential store is `client_keytab` = the keytab and a
//! `MEMORY:` ccache private to this process and principal: tickets are got from the keytab when
//! needed, kept in memory only (never a file), reused by later probes and renewed from the keytab
//! when they expire. Without it, the running user's credential cache. Only Kerberos is negotiated
//! inside SPNEGO (`gss_set_neg_mechs`): no NTLM through a GSS NTLM module behind the user's back.
//!
//! **Every wait is bounded.** GSSAPI calls block: acquiring a keytab's tickets and the first
//! `gss_init_sec_context` may talk to one KDC after another, and MIT's own timeouts (a second or
//! more per KDC and pass, over UDP and TCP; krb5 1.20 has no setting for the total, and a
//! private `KRB5_CONFIG` would be a process-wide environment change that hides the
//! administrator's krb5.conf) are not the probe's `-r`. So each call runs on a thread of its
//! own that the probe waits for only until its deadline (or its cancel token): a KDC that does
//! not answer costs one timed-out probe in phase `kerberos`, and the thread, left behind, ends
//! when MIT gives up and releases what it holds. At most [`MAX_PENDING`] such
//! threads may be left at once; past that a probe fails at once rather than piling up threads
//! behind a dead KDC.
//!
//! **Failures** are [`Failure`]s: the library's message (the mechanism's minor status where it
//! has one, as kinit prints it) and an NT status for the alert, chosen from the Kerberos error
//! code as Windows' SSPI reports the same conditions (KDC unreachable, clock skew, unknown
//! principal, wrong or expired key, no credentials).

#![allow(unsafe_code)]

use std::ffi::{CString, c_void};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use libgssapi_sys as gss;

use super::error::{Error, Result};
use super::status;
use crate::probe::ProbeCtx;

/// How many abandoned GSSAPI calls (threads still waiting on a KDC) may exist at once.
pub(crate) const MAX_PENDING: usize = 4;

/// The GSSAPI calls running on their threads now, finished or abandoned.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// How the probe logs on with Kerberos: built from `--kerberos`, `-u` and `--keytab`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kerberos {
    /// The client principal (`user` or `user@REALM`); `None`: the ccache's or keytab's own.
    pub principal: Option<String>,
    /// `--keytab`.
    pub keytab: Option<PathBuf>,
}

/// A Kerberos failure: the library's words and the NT status an alert carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The library's message (or ours, for a wait that ran out).
    pub text: String,
    /// The NT status for the alert.
    pub nt: u32,
    /// The exchange did not finish within the probe's deadline.
    pub timed_out: bool,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// MIT krb5's com_err codes that this module names (their values in MIT's krb5.h).
mod code {
    pub(super) const C_PRINCIPAL_UNKNOWN: i64 = -1_765_328_378;
    pub(super) const S_PRINCIPAL_UNKNOWN: i64 = -1_765_328_377;
    pub(super) const CLIENT_REVOKED: i64 = -1_765_328_366;
    pub(super) const KEY_EXPIRED: i64 = -1_765_328_361;
    pub(super) const PREAUTH_FAILED: i64 = -1_765_328_360;
    pub(super) const AP_BAD_INTEGRITY: i64 = -1_765_328_353;
    pub(super) const AP_TKT_EXPIRED: i64 = -1_765_328_352;
    pub(super) const AP_SKEW: i64 = -1_765_328_347;
    pub(super) const AP_MODIFIED: i64 = -1_765_328_343;
    pub(super) const CC_NOTFOUND: i64 = -1_765_328_243;
    pub(super) const REALM_UNKNOWN: i64 = -1_765_328_230;
    pub(super) const KDC_UNREACH: i64 = -1_765_328_228;
    pub(super) const KT_NOTFOUND: i64 = -1_765_328_203;
    pub(super) const FCC_NOFILE: i64 = -1_765_328_189;
    pub(super) const PREAUTH_FAILED_CLIENT: i64 = -1_765_328_174;
    pub(super) const REALM_CANT_RESOLVE: i64 = -1_765_328_164;
}

/// The NT status a GSS failure is reported with: the one Windows' SSPI gives for the same
/// condition, by the mechanism's code first, else by the GSS routine error.
fn nt_status(major: u32, minor: u32) -> u32 {
    // com_err codes are signed 32-bit numbers carried in an unsigned minor status.
    let minor = i64::from(minor.cast_signed());
    match minor {
        code::KDC_UNREACH | code::REALM_CANT_RESOLVE | code::REALM_UNKNOWN => {
            status::NO_LOGON_SERVERS
        }
        code::AP_SKEW => status::TIME_DIFFERENCE_AT_DC,
        code::C_PRINCIPAL_UNKNOWN => status::NO_SUCH_USER,
        code::KEY_EXPIRED => status::PASSWORD_EXPIRED,
        code::CLIENT_REVOKED => status::ACCOUNT_DISABLED,
        code::CC_NOTFOUND | code::FCC_NOFILE | code::AP_TKT_EXPIRED => {
            status::NO_SUCH_LOGON_SESSION
        }
        code::PREAUTH_FAILED
        | code::PREAUTH_FAILED_CLIENT
        | code::AP_BAD_INTEGRITY
        | code::AP_MODIFIED
        | code::KT_NOTFOUND
        | code::S_PRINCIPAL_UNKNOWN => status::LOGON_FAILURE,
        _ if major & gss::_GSS_C_ROUTINE_ERROR_MASK << gss::GSS_C_ROUTINE_ERROR_OFFSET
            == gss::_GSS_S_NO_CRED =>
        {
            status::NO_SUCH_LOGON_SESSION
        }
        _ => status::LOGON_FAILURE,
    }
}

/// `gss_display_status` of one code, all its messages joined.
fn display(code: u32, kind: i32) -> String {
    let mut out = Vec::new();
    let mut more = 0u32;
    loop {
        let mut minor = 0u32;
        let mut buf = gss::gss_buffer_desc {
            length: 0,
            value: ptr::null_mut(),
        };
        // A mechanism's code is looked up in that mechanism: Kerberos is the one used.
        let mut krb5 = oid(KRB5);
        let mech: gss::gss_OID = if kind == gss::GSS_C_MECH_CODE.cast_signed() {
            &raw mut krb5
        } else {
            ptr::null_mut()
        };
        // SAFETY: every pointer is to a live local; the buffer is released below.
        let major = unsafe {
            gss::gss_display_status(
                &raw mut minor,
                code,
                kind,
                mech,
                &raw mut more,
                &raw mut buf,
            )
        };
        if major != gss::GSS_S_COMPLETE {
            break;
        }
        if !buf.value.is_null() {
            // SAFETY: the library wrote `length` bytes at `value`.
            let bytes = unsafe { std::slice::from_raw_parts(buf.value.cast::<u8>(), buf.length) };
            out.push(String::from_utf8_lossy(bytes).trim().to_owned());
            // SAFETY: a buffer the library allocated, released once.
            unsafe { gss::gss_release_buffer(&raw mut minor, &raw mut buf) };
        }
        if more == 0 {
            break;
        }
    }
    out.retain(|s| !s.is_empty());
    out.join("; ")
}

/// The failure of a GSS call: the mechanism's message when it gave one (what kinit prints:
/// "Cannot contact any KDC for realm …"), else the GSS routine's.
fn failure(what: &str, major: u32, minor: u32) -> Failure {
    let mech = if minor == 0 {
        String::new()
    } else {
        display(minor, gss::GSS_C_MECH_CODE.cast_signed())
    };
    let text = if mech.is_empty() {
        display(major, gss::GSS_C_GSS_CODE.cast_signed())
    } else {
        mech
    };
    Failure {
        text: format!("{what}: {text}"),
        nt: nt_status(major, minor),
        timed_out: false,
    }
}

fn is_error(major: u32) -> bool {
    let mask = (gss::_GSS_C_CALLING_ERROR_MASK << gss::GSS_C_CALLING_ERROR_OFFSET)
        | (gss::_GSS_C_ROUTINE_ERROR_MASK << gss::GSS_C_ROUTINE_ERROR_OFFSET);
    major & mask != 0
}

/// An OID of static bytes.
fn oid(bytes: &'static [u8]) -> gss::gss_OID_desc {
    gss::gss_OID_desc {
        length: u32::try_from(bytes.len()).expect("short OID"),
        elements: bytes.as_ptr().cast::<c_void>().cast_mut(),
    }
}

/// 1.3.6.1.5.5.2, SPNEGO.
const SPNEGO: &[u8] = b"\x2b\x06\x01\x05\x05\x02";
/// 1.2.840.113554.1.2.2, Kerberos 5.
const KRB5: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02";
/// 1.2.840.113554.1.2.2.1, GSS_KRB5_NT_PRINCIPAL_NAME.
const KRB5_PRINCIPAL: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01";

/// The GSS objects of one exchange, released when dropped (on whichever thread has them then).
struct Handles {
    cred: gss::gss_cred_id_t,
    target: gss::gss_name_t,
    ctx: gss::gss_ctx_id_t,
}

// SAFETY: GSS handles may be used from any thread, one thread at a time; `Handles` is owned by
// exactly one thread at a time (moved to the worker and back).
unsafe impl Send for Handles {}

impl Drop for Handles {
    fn drop(&mut self) {
        let mut minor = 0u32;
        // SAFETY: each handle is null or owned by us, and released once.
        unsafe {
            if !self.ctx.is_null() {
                gss::gss_delete_sec_context(&raw mut minor, &raw mut self.ctx, ptr::null_mut());
            }
            if !self.target.is_null() {
                gss::gss_release_name(&raw mut minor, &raw mut self.target);
            }
            if !self.cred.is_null() {
                gss::gss_release_cred(&raw mut minor, &raw mut self.cred);
            }
        }
    }
}

/// Imports `name` as a name of type `kind`.
fn import_name(name: &str, kind: gss::gss_OID) -> std::result::Result<gss::gss_name_t, Failure> {
    let mut minor = 0u32;
    let mut out: gss::gss_name_t = ptr::null_mut();
    let mut buf = gss::gss_buffer_desc {
        length: name.len(),
        value: name.as_ptr().cast::<c_void>().cast_mut(),
    };
    // SAFETY: the buffer points into `name`, alive for the call; `out` is ours afterwards.
    let major = unsafe { gss::gss_import_name(&raw mut minor, &raw mut buf, kind, &raw mut out) };
    if is_error(major) {
        return Err(failure(&format!("name {name:?}"), major, minor));
    }
    Ok(out)
}

/// An imported name, released when dropped.
struct Name(gss::gss_name_t);

impl Drop for Name {
    fn drop(&mut self) {
        if !self.0.is_null() {
            let mut minor = 0u32;
            // SAFETY: an imported name, released once.
            unsafe { gss::gss_release_name(&raw mut minor, &raw mut self.0) };
        }
    }
}

/// The credential for `k`: from its keytab (into a private memory ccache), or the default
/// credential cache; SPNEGO offering Kerberos only.
fn acquire(k: &Kerberos) -> std::result::Result<gss::gss_cred_id_t, Failure> {
    let mut krb5_oid = oid(KRB5_PRINCIPAL);
    let mut spnego = oid(SPNEGO);
    let mut krb5 = oid(KRB5);
    let name = match &k.principal {
        Some(p) => import_name(p, &raw mut krb5_oid)?,
        None => ptr::null_mut(),
    };
    let name = Name(name);
    // Kerberos first, then SPNEGO: MIT's SPNEGO answers a Kerberos credential it cannot get
    // (a stale keytab, an unknown principal, a skewed clock: the keytab's tickets are got here)
    // with "SPNEGO cannot find mechanisms to negotiate", hiding the KDC's words. The second
    // call finds the tickets the first put in the cache.
    let mut cred = acquire_for(k, name.0, &raw mut krb5)?;
    let mut m2 = 0u32;
    // SAFETY: ours, released once.
    unsafe { gss::gss_release_cred(&raw mut m2, &raw mut cred) };
    let mut cred = acquire_for(k, name.0, &raw mut spnego)?;
    let mut minor = 0u32;
    let mut only_krb5 = gss::gss_OID_set_desc {
        count: 1,
        elements: &raw mut krb5,
    };
    // SAFETY: `cred` is ours; the set points to a live local.
    let major = unsafe { gss::gss_set_neg_mechs(&raw mut minor, cred, &raw mut only_krb5) };
    if is_error(major) {
        let mut m2 = 0u32;
        // SAFETY: ours, released once.
        unsafe { gss::gss_release_cred(&raw mut m2, &raw mut cred) };
        return Err(failure("SPNEGO", major, minor));
    }
    Ok(cred)
}

/// `gss_acquire_cred_from` of `name` (null: the default) for `mech`, from the keytab of `k`
/// into a private memory cache, or from the default credential cache.
fn acquire_for(
    k: &Kerberos,
    name: gss::gss_name_t,
    mech: gss::gss_OID,
) -> std::result::Result<gss::gss_cred_id_t, Failure> {
    let mut mechs = gss::gss_OID_set_desc {
        count: 1,
        elements: mech,
    };
    let mut minor = 0u32;
    let mut cred: gss::gss_cred_id_t = ptr::null_mut();
    let major = match &k.keytab {
        Some(keytab) => {
            let bad = |_| Failure {
                text: "keytab path holds a NUL byte".into(),
                nt: status::LOGON_FAILURE,
                timed_out: false,
            };
            let kt = CString::new(keytab.as_os_str().as_encoded_bytes()).map_err(bad)?;
            // One memory cache per process and principal: later probes reuse its tickets.
            let cc = CString::new(format!(
                "MEMORY:clp-fsmon-{}-{}",
                std::process::id(),
                k.principal.as_deref().unwrap_or("").replace(':', "_")
            ))
            .map_err(bad)?;
            let elements = [
                gss::gss_key_value_element_desc {
                    key: c"client_keytab".as_ptr(),
                    value: kt.as_ptr(),
                },
                gss::gss_key_value_element_desc {
                    key: c"ccache".as_ptr(),
                    value: cc.as_ptr(),
                },
            ];
            let store = gss::gss_key_value_set_desc {
                count: 2,
                elements: elements.as_ptr().cast_mut(),
            };
            // SAFETY: every pointer is to a live local for the call; `cred` is ours after.
            unsafe {
                gss::gss_acquire_cred_from(
                    &raw mut minor,
                    name,
                    gss::_GSS_C_INDEFINITE,
                    &raw mut mechs,
                    gss::GSS_C_INITIATE.cast_signed(),
                    &raw const store,
                    &raw mut cred,
                    ptr::null_mut(),
                    ptr::null_mut(),
                )
            }
        }
        // SAFETY: as above, with the default store (the user's credential cache).
        None => unsafe {
            gss::gss_acquire_cred_from(
                &raw mut minor,
                name,
                gss::_GSS_C_INDEFINITE,
                &raw mut mechs,
                gss::GSS_C_INITIATE.cast_signed(),
                ptr::null(),
                &raw mut cred,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        },
    };
    if is_error(major) {
        let mut f = failure("no Kerberos credentials", major, minor);
        if let Some(kt) = &k.keytab
            && f.nt == status::NO_SUCH_LOGON_SESSION
        {
            // MIT looks for a cache only when the keytab cannot give the principal's tickets.
            let who = k.principal.as_deref().unwrap_or("the principal");
            let _ = write!(
                f.text,
                " (the keytab {} holds no key of {who})",
                kt.display()
            );
        }
        return Err(f);
    }
    Ok(cred)
}

/// One `gss_init_sec_context` step: the token to send, and whether the context is complete.
fn init_step(
    h: &mut Handles,
    input: Option<&[u8]>,
) -> std::result::Result<(Vec<u8>, bool), Failure> {
    let mut spnego = oid(SPNEGO);
    let mut minor = 0u32;
    let mut out = gss::gss_buffer_desc {
        length: 0,
        value: ptr::null_mut(),
    };
    let mut inbuf = input.map(|t| gss::gss_buffer_desc {
        length: t.len(),
        value: t.as_ptr().cast::<c_void>().cast_mut(),
    });
    let flags = gss::GSS_C_MUTUAL_FLAG | gss::GSS_C_INTEG_FLAG;
    // SAFETY: handles are ours; buffers point to live data for the call; `out` is released.
    let major = unsafe {
        gss::gss_init_sec_context(
            &raw mut minor,
            h.cred,
            &raw mut h.ctx,
            h.target,
            &raw mut spnego,
            flags,
            0,
            ptr::null_mut(),
            inbuf.as_mut().map_or(ptr::null_mut(), |b| &raw mut *b),
            ptr::null_mut(),
            &raw mut out,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    let token = if out.value.is_null() {
        Vec::new()
    } else {
        // SAFETY: the library wrote `length` bytes at `value`; released right after.
        let t = unsafe { std::slice::from_raw_parts(out.value.cast::<u8>(), out.length) }.to_vec();
        let mut m2 = 0u32;
        // SAFETY: a buffer the library allocated, released once.
        unsafe { gss::gss_release_buffer(&raw mut m2, &raw mut out) };
        t
    };
    if is_error(major) {
        return Err(failure("Kerberos", major, minor));
    }
    Ok((token, major & gss::_GSS_S_CONTINUE_NEEDED == 0))
}

/// The session key of an established context (GSS_C_INQ_SSPI_SESSION_KEY).
fn session_key(h: &Handles) -> std::result::Result<Vec<u8>, Failure> {
    let mut minor = 0u32;
    let mut set: gss::gss_buffer_set_t = ptr::null_mut();
    // SAFETY: the context is ours and established; the OID is the library's own static.
    let major = unsafe {
        gss::gss_inquire_sec_context_by_oid(
            &raw mut minor,
            h.ctx,
            gss::GSS_C_INQ_SSPI_SESSION_KEY,
            &raw mut set,
        )
    };
    if is_error(major) || set.is_null() {
        return Err(failure("session key", major, minor));
    }
    // SAFETY: a buffer set the library filled; its first element is the key.
    let key = unsafe {
        let s = &*set;
        if s.count == 0 || (*s.elements).value.is_null() {
            Vec::new()
        } else {
            let b = &*s.elements;
            std::slice::from_raw_parts(b.value.cast::<u8>(), b.length).to_vec()
        }
    };
    let mut m2 = 0u32;
    // SAFETY: released once.
    unsafe { gss::gss_release_buffer_set(&raw mut m2, &raw mut set) };
    if key.is_empty() {
        return Err(Failure {
            text: "Kerberos: the context has no session key".into(),
            nt: status::LOGON_FAILURE,
            timed_out: false,
        });
    }
    Ok(key)
}

/// Counts a worker thread from spawn to end.
struct PendingGuard;

impl Drop for PendingGuard {
    fn drop(&mut self) {
        PENDING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `f` on a thread of its own and waits for it until the probe's deadline or cancel.
fn bounded<T: Send + 'static>(
    ctx: &ProbeCtx,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    if PENDING.fetch_add(1, Ordering::SeqCst) >= MAX_PENDING {
        PENDING.fetch_sub(1, Ordering::SeqCst);
        return Err(Error::Kerberos(Failure {
            text: format!(
                "{MAX_PENDING} earlier Kerberos exchanges are still waiting for the KDC; \
                 not starting another"
            ),
            nt: status::NO_LOGON_SERVERS,
            timed_out: false,
        }));
    }
    let guard = PendingGuard;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("kerberos".into())
        .spawn(move || {
            let _guard = guard;
            let _ = tx.send(f());
        })
        .map_err(|e| {
            Error::Kerberos(Failure {
                text: format!("cannot start the Kerberos thread: {e}"),
                nt: status::LOGON_FAILURE,
                timed_out: false,
            })
        })?;
    let started = std::time::Instant::now();
    loop {
        if ctx.cancel.is_cancelled() {
            return Err(Error::Net(crate::probe::net::Error::Cancelled));
        }
        let Some(left) = ctx.deadline.remaining() else {
            return Err(Error::Kerberos(Failure {
                text: format!(
                    "ETIMEDOUT (110): {what} did not finish within {:.3} s",
                    started.elapsed().as_secs_f64()
                ),
                nt: status::NO_LOGON_SERVERS,
                timed_out: true,
            }));
        };
        match rx.recv_timeout(left.min(Duration::from_millis(50))) {
            Ok(v) => return Ok(v),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::Kerberos(Failure {
                    text: format!("{what}: the Kerberos thread ended without an answer"),
                    nt: status::LOGON_FAILURE,
                    timed_out: false,
                }));
            }
        }
    }
}

/// One Kerberos exchange of a SESSION_SETUP: the client's context toward `cifs@host`.
pub(crate) struct Exchange {
    handles: Option<Handles>,
    complete: bool,
    ctx: ProbeCtx,
}

type Step = std::result::Result<(Vec<u8>, bool), Failure>;

impl Exchange {
    /// Acquires the credentials of `k` and makes the first token for the server `host` (the
    /// KDC exchange, if any, happens here), within the deadline of `ctx`.
    pub(crate) fn start(k: &Kerberos, host: &str, ctx: &ProbeCtx) -> Result<(Self, Vec<u8>)> {
        let k = k.clone();
        let service = format!("cifs@{host}");
        let (handles, step): (Option<Handles>, Step) =
            bounded(ctx, "the KDC exchange", move || {
                let cred = match acquire(&k) {
                    Ok(c) => c,
                    Err(e) => return (None, Err(e)),
                };
                let mut h = Handles {
                    cred,
                    target: ptr::null_mut(),
                    ctx: ptr::null_mut(),
                };
                // SAFETY: the library's own static OID, read once.
                let kind = unsafe { gss::GSS_C_NT_HOSTBASED_SERVICE };
                match import_name(&service, kind) {
                    Ok(n) => h.target = n,
                    Err(e) => return (Some(h), Err(e)),
                }
                let step = init_step(&mut h, None);
                (Some(h), step)
            })?;
        let (token, complete) = step.map_err(Error::Kerberos)?;
        Ok((
            Self {
                handles,
                complete,
                ctx: ctx.clone(),
            },
            token,
        ))
    }

    /// Feeds the server's token: the next token to send (empty when there is none).
    pub(crate) fn step(&mut self, token: &[u8]) -> Result<Vec<u8>> {
        if self.complete {
            return if token.is_empty() {
                Ok(Vec::new())
            } else {
                Err(Error::protocol(
                    "a SPNEGO token after the context completed",
                ))
            };
        }
        let mut h = self
            .handles
            .take()
            .ok_or_else(|| Error::protocol("no Kerberos context"))?;
        let input = token.to_vec();
        let (h, step): (Handles, Step) = bounded(&self.ctx, "the Kerberos step", move || {
            let s = init_step(&mut h, Some(&input));
            (h, s)
        })?;
        self.handles = Some(h);
        let (out, complete) = step.map_err(Error::Kerberos)?;
        self.complete = complete;
        Ok(out)
    }

    /// Whether the context is established.
    pub(crate) fn complete(&self) -> bool {
        self.complete
    }

    /// The established context's session key, in full.
    pub(crate) fn session_key(&self) -> Result<Vec<u8>> {
        let h = self
            .handles
            .as_ref()
            .ok_or_else(|| Error::protocol("no Kerberos context"))?;
        if !self.complete {
            return Err(Error::protocol("the Kerberos context is not established"));
        }
        session_key(h).map_err(Error::Kerberos)
    }
}

/// MS-SMB2 3.2.5.3.1's Session.SessionKey: the first 16 bytes of the GSS key, right-padded
/// with zeros.
pub(crate) fn smb_session_key(full: &[u8]) -> [u8; 16] {
    let mut k = [0u8; 16];
    let n = full.len().min(16);
    k[..n].copy_from_slice(&full[..n]);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_for(limit: Duration, f: impl Fn() -> bool) -> bool {
        let end = std::time::Instant::now() + limit;
        while std::time::Instant::now() < end {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        f()
    }

    #[test]
    fn session_key_is_the_first_16_bytes_right_padded() {
        let long: Vec<u8> = (0..32).collect();
        assert_eq!(
            smb_session_key(&long).to_vec(),
            (0..16).collect::<Vec<u8>>()
        );
        let mut short = [0u8; 16];
        short[..8].copy_from_slice(&[9; 8]);
        assert_eq!(smb_session_key(&[9; 8]), short);
    }

    #[test]
    fn a_call_that_hangs_is_abandoned_at_the_deadline_and_few_are_left_behind() {
        // A GSSAPI call stands in: one that blocks for 3 s, as a KDC that does not answer.
        let hang = || std::thread::sleep(Duration::from_secs(3));
        let mut took = Vec::new();
        for _ in 0..MAX_PENDING {
            let ctx = ProbeCtx::new(Duration::from_millis(200));
            let t = std::time::Instant::now();
            match bounded(&ctx, "the KDC exchange", hang) {
                Err(Error::Kerberos(f)) => {
                    assert!(f.timed_out, "{f:?}");
                    assert!(
                        f.text.starts_with("ETIMEDOUT (110): the KDC exchange"),
                        "{f:?}"
                    );
                }
                other => panic!("{:?}", other.map(|()| "finished")),
            }
            took.push(t.elapsed());
        }
        assert!(
            took.iter()
                .all(|t| *t >= Duration::from_millis(190) && *t < Duration::from_millis(700)),
            "{took:?}"
        );
        // MAX_PENDING calls are still blocked: the next is refused at once, not started.
        let t = std::time::Instant::now();
        let ctx = ProbeCtx::new(Duration::from_secs(5));
        match bounded(&ctx, "the KDC exchange", || ()) {
            Err(Error::Kerberos(f)) => {
                assert!(!f.timed_out && f.text.contains("still waiting"), "{f:?}");
            }
            other => panic!("{:?}", other.map(|()| "finished")),
        }
        assert!(t.elapsed() < Duration::from_millis(100));
        // Once they end, calls run again; a cancelled probe stops waiting at once.
        assert!(wait_for(Duration::from_secs(5), || {
            PENDING.load(Ordering::SeqCst) == 0
        }));
        assert!(bounded(&ctx, "the KDC exchange", || 7).is_ok_and(|v| v == 7));
        let ctx = ProbeCtx::new(Duration::from_secs(5));
        ctx.cancel.cancel();
        assert!(matches!(
            bounded(&ctx, "x", hang),
            Err(Error::Net(crate::probe::net::Error::Cancelled))
        ));
    }

    #[test]
    fn kerberos_codes_name_their_condition() {
        let c = |n: i64| u32::try_from(n & 0xffff_ffff).unwrap();
        assert_eq!(
            nt_status(0xd_0000, c(code::KDC_UNREACH)),
            status::NO_LOGON_SERVERS
        );
        assert_eq!(
            nt_status(0xd_0000, c(code::AP_SKEW)),
            status::TIME_DIFFERENCE_AT_DC
        );
        assert_eq!(
            nt_status(0xd_0000, c(code::C_PRINCIPAL_UNKNOWN)),
            status::NO_SUCH_USER
        );
        assert_eq!(
            nt_status(0xd_0000, c(code::PREAUTH_FAILED)),
            status::LOGON_FAILURE
        );
        assert_eq!(
            nt_status(gss::_GSS_S_NO_CRED, 0),
            status::NO_SUCH_LOGON_SESSION
        );
    }
}
