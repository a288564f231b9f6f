//! The session driver of the SMB probe: one flow for SMB2/3 and SMB1 alike — connect,
//! NEGOTIATE, SESSION_SETUP, TREE_CONNECT, the share-type check, the steps of the `read` and
//! `write` levels on a disk share ([`super::storage`]), TREE_DISCONNECT and LOGOFF — with each
//! step's phase timed and named, so an alert says where a session failed whichever dialect the
//! server speaks.
//!
//! A dialect's client supplies the steps ([`Dialect`]); the order, the phase names, the facts
//! for the fault log and the summary line are this module's, once. SMB2 is tried first, so a
//! modern server costs one NEGOTIATE round trip. Only when the server drops the connection,
//! answers in SMB1, or refuses the SMB2 NEGOTIATE with an error status — what servers without
//! SMB2 do (impacket frames its NOT_SUPPORTED in SMB2) — is a second connection made with an
//! SMB1 NEGOTIATE offering `NT LM 0.12`, as smbclient with NT1 allowed reaches such a server.
//! When a refusal was the reason and SMB1 does not negotiate either (an SMB2 server with SMB1
//! off answers "no dialect"), the refusal is the failure: smbclient reports an SMB2 server's
//! negotiate error the same way. A multi-protocol SMB1 NEGOTIATE first would cost every modern
//! server an extra round trip instead.

use super::error::{Error, Result};
use super::ntlmssp::Identity;
use super::storage::{self, Storage};
use super::transport::Transport;
use super::{smb1, smb2, status};
use crate::probe::attempt::Attempt;
use crate::probe::net::{self, Address};
use crate::probe::{CheckLevel, ProbeCtx};

/// A step failed: its phase and why.
pub(crate) type Failed = (&'static str, Error);

/// What a dialect's client does for the session driver, once NEGOTIATE has succeeded.
pub(crate) trait Dialect {
    /// A tree connection.
    type Tree;

    /// The dialect as the fault log and the summary name it (`SMB 3.1.1`, `SMB1 NT LM 0.12`).
    fn dialect(&self) -> String;

    /// SESSION_SETUP as `id` (NTLMSSP).
    fn session_setup(&mut self, id: &Identity) -> Result<()>;

    /// Whether the server made the session a null (anonymous) one, or a guest one.
    fn null_or_guest(&self) -> (bool, bool);

    /// TREE_CONNECT to `unc` (`\\host\share`).
    fn tree_connect(&mut self, unc: &str) -> Result<Self::Tree>;

    /// The tree's share type: `disk`, `print`, `pipe`, `comm`, or `unknown` when the server names
    /// none of them.
    fn share_type(tree: &Self::Tree) -> &'static str;

    /// How the tree's messages are protected, for the summary: `, encrypted (AES-128-GCM)`,
    /// `, signed`, or nothing.
    fn protection(&self, tree: &Self::Tree) -> String;

    /// TREE_DISCONNECT.
    fn tree_disconnect(&mut self, tree: &Self::Tree) -> Result<()>;

    /// LOGOFF.
    fn logoff(&mut self) -> Result<()>;
}

/// What one session does: log on as `id`, connect to `\\server\share` (`unc`), and go as
/// deep as `level` (with the `canary` file at the share's root for `write`).
pub(crate) struct Plan<'a> {
    /// The logon.
    pub(crate) id: &'a Identity,
    /// `\\server\share`.
    pub(crate) unc: &'a str,
    /// `--check`.
    pub(crate) level: CheckLevel,
    /// `--canary`.
    pub(crate) canary: &'a str,
}

/// One complete session at `ep` as `plan` says: the summary line, or the phase that failed and
/// why.
pub(crate) fn run(
    ep: &Address,
    ctx: &ProbeCtx,
    a: &mut Attempt,
    plan: &Plan<'_>,
) -> std::result::Result<String, Failed> {
    let t = Transport::connect(ep, ctx).map_err(|e| ("connect", e))?;
    a.lap("connect");
    match smb2::Client::negotiate(t).map_err(|e| ("negotiate", e))? {
        smb2::Start::Smb2(mut c) => drive(&mut *c, a, plan),
        smb2::Start::NoSmb2(why) => {
            a.note("fallback", why);
            let mut c = Transport::connect(ep, ctx)
                .and_then(smb1::Client::negotiate)
                .map_err(|e| ("negotiate", e))?;
            drive(&mut c, a, plan)
        }
        smb2::Start::Refused(code) => {
            a.note(
                "fallback",
                format!("SMB2 NEGOTIATE refused: {}", status::describe(code)),
            );
            match Transport::connect(ep, ctx).and_then(smb1::Client::negotiate) {
                Ok(mut c) => drive(&mut c, a, plan),
                Err(e @ Error::Net(net::Error::Cancelled)) => Err(("negotiate", e)),
                Err(e) => {
                    a.note("smb1", format!("no SMB1 either: {e}"));
                    Err(("negotiate", Error::Status(code)))
                }
            }
        }
    }
}

/// The session on a negotiated connection, in the same phases for every dialect.
fn drive<D: Storage>(
    c: &mut D,
    a: &mut Attempt,
    plan: &Plan<'_>,
) -> std::result::Result<String, Failed> {
    let (id, unc) = (plan.id, plan.unc);
    let dialect = c.dialect();
    a.note("dialect", dialect.clone());
    a.lap("negotiate");
    c.session_setup(id).map_err(|e| ("session_setup", e))?;
    // Samba answers an anonymous logon with no session flags at all: what we sent counts.
    let (null, guest) = c.null_or_guest();
    let session = if null || id.is_anonymous() {
        "anonymous"
    } else if guest {
        "guest"
    } else {
        "user"
    };
    a.note("session", session);
    a.lap("session_setup");
    let tree = c.tree_connect(unc).map_err(|e| ("tree_connect", e))?;
    a.lap("tree_connect");
    let kind = D::share_type(&tree);
    a.note("share_type", kind);
    let protection = c.protection(&tree);
    // The file system is a disk share's: a print share's spool is smbd's own business. A share
    // whose type the server does not name (impacket's SMB1) is held to the level as a disk: the
    // server did not say it is not one, and a client writes to it as to a disk.
    let checked = if matches!(kind, "disk" | "unknown") {
        storage::check(c, &tree, a, plan.level, plan.canary)
    } else {
        Ok(())
    };
    if let Err((phase, e)) = checked {
        if matches!(e, Error::Status(_) | Error::Canary(_)) {
            // The server answered: leave politely. A lost or timed-out connection has nothing
            // to say goodbye on. Either way the level's failure is the probe's.
            let _ = c.tree_disconnect(&tree).and_then(|()| c.logoff());
        }
        return Err((phase, e));
    }
    let disconnect = c
        .tree_disconnect(&tree)
        .map_err(|e| ("tree_disconnect", e))
        .and_then(|()| c.logoff().map_err(|e| ("logoff", e)));
    // A share the server calls a pipe or a device is not one to watch (event 63). A type the
    // server does not name (impacket's SMB1 server puts the share's name where the service
    // belongs) is not held against the share: smbclient does not look, and the share works.
    if !matches!(kind, "disk" | "print" | "unknown") {
        return Err(("share_type", Error::ShareType(kind.into())));
    }
    disconnect?;
    a.lap("disconnect");
    Ok(format!("{dialect}, share {kind}, {session}{protection}"))
}
