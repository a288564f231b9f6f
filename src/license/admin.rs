//! The `clplcnsc` operations: register (a verified typed key or signed licence file, overlap
//! check, atomic write), list and delete, with the messages and exit statuses the command
//! prints. The applet only parses its command line and calls these.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done (`command was success.`) |
//! | 2 | usage: bad option, unknown product ID, bad menu choice, malformed serial/user/key, unreadable licence file or one for another product, end of input |
//! | 3 | licence refused: the key or file does not verify (or this build trusts no key), the file is bound to another server, the licence overlaps, a store file is corrupt |
//! | 6 | system error: the store cannot be read or written, the server identity cannot be read |
//! | 7 | not root |
//! | 8 | `-d`: no such licence on this server |
//! | 130 | interrupted (Ctrl-C) during the dialogue |

use std::fmt;
use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;

use super::catalog::{self, Product};
use super::dialogue::Request;
use super::key::{self, Kind, Serial};
use super::store::{Entry, Identity, Registered, Registration, Store, StoreError};
use super::{DateState, assess, licfile, trust};
use crate::alert::us_date;
use crate::exit::Exit;
use crate::paths::Paths;

/// The line that ends every successful command.
pub(crate) const SUCCESS: &str = "command was success.";
/// The overlap message of the original (event 56).
pub(crate) const OVERLAP: &str = "The registration license overlaps.";

/// A command that failed: its exit status and what to tell the administrator.
#[derive(Debug)]
pub(crate) struct Failure {
    /// Exit status.
    pub code: Exit,
    /// Message lines (without the `clplcnsc: ` prefix where the line is the original text).
    pub lines: Vec<String>,
}

impl Failure {
    /// One prefixed line.
    pub(crate) fn new(code: Exit, msg: impl fmt::Display) -> Self {
        Self {
            code,
            lines: vec![format!("clplcnsc: {msg}")],
        }
    }

    /// Prints the lines on stderr and returns the status.
    pub(crate) fn report(&self) -> Exit {
        for l in &self.lines {
            crate::errln!("{l}");
        }
        self.code
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Overlap { .. } => Self {
                code: Exit::License,
                lines: vec![
                    OVERLAP.to_string(),
                    format!("clplcnsc: {e}; nothing was written."),
                ],
            },
            StoreError::Corrupt { .. } => Self::new(Exit::License, e),
            StoreError::Identity(_) | StoreError::NoMachineId(_) | StoreError::Io { .. } => {
                Self::new(Exit::System, e)
            }
        }
    }
}

/// The product called `code`, or a usage failure naming the known ones.
pub(crate) fn product(code: &str) -> Result<&'static Product, Failure> {
    catalog::product(code).ok_or_else(|| {
        Failure::new(
            Exit::Usage,
            format!("unknown product ID {code:?} (known: {})", catalog::codes()),
        )
    })
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Verifies `req` for `product` and registers it on this server. Prints notes on stderr; the
/// caller prints [`SUCCESS`].
pub(crate) fn register(
    paths: &Paths,
    product: &Product,
    req: &Request,
    today: NaiveDate,
) -> Result<Registered, Failure> {
    let refuse = |e: key::KeyError| match e {
        key::KeyError::Malformed(_) => Failure::new(Exit::Usage, e),
        key::KeyError::NotValid(_) => Failure::new(Exit::License, e),
    };
    let (entry, dates) = match req {
        Request::Product { serial, key } => {
            let norm = key::verify_product(product, *serial, key).map_err(refuse)?;
            let e = Entry {
                product: product.code.clone(),
                kind: Kind::Product,
                holder: serial.to_string(),
                key: norm,
                file: None,
                licence_id: None,
                registered: now_secs(),
            };
            (e, None)
        }
        Request::Trial { user, key } => {
            key::check_user(user).map_err(|e| Failure::new(Exit::Usage, e))?;
            let (norm, from, until) = key::verify_trial(product, user, key).map_err(refuse)?;
            let e = Entry {
                product: product.code.clone(),
                kind: Kind::Trial,
                holder: user.clone(),
                key: norm,
                file: None,
                licence_id: None,
                registered: now_secs(),
            };
            (e, Some((from, until)))
        }
    };
    let (me, _) = Identity::detect_or_create(paths)?;
    let r = Store::new(paths).register(&me, entry)?;
    Ok(registered(&r, dates, today))
}

/// Tells what a registration did besides adding the licence.
fn registered(
    r: &Registration,
    dates: Option<(NaiveDate, NaiveDate)>,
    today: NaiveDate,
) -> Registered {
    for n in &r.cleaned {
        crate::errln!("clplcnsc: note: removed {n}, a temp file left in the store by a crash.");
    }
    for e in &r.ignored {
        crate::errln!("clplcnsc: warning: {e}; the overlap check could not look into it.");
    }
    if r.outcome == Registered::AlreadyHeld {
        crate::errln!(
            "clplcnsc: this license is already registered on this server; nothing changed."
        );
    }
    if let Some((from, until)) = dates {
        if today < from {
            crate::errln!(
                "clplcnsc: note: this trial license is valid from {}.",
                us_date(from)
            );
        } else if today > until {
            crate::errln!(
                "clplcnsc: note: this trial license expired on {}.",
                us_date(until)
            );
        }
    }
    r.outcome
}

/// Largest licence file read: a licence file is a few lines.
pub const LICENCE_FILE_MAX: u64 = 64 * 1024;

/// Reads a licence file within bounds: a regular file (a symbolic link to one is followed) of
/// at most [`LICENCE_FILE_MAX`] bytes, within [`super::store::OP_LIMIT`] (a FIFO, a device or a
/// hung file system is refused, never waited for or read without end).
pub fn read_licence_file(path: &Path) -> Result<String, Failure> {
    let bad = |m: String| Failure::new(Exit::Usage, format!("{}: {m}", path.display()));
    let owned = path.to_path_buf();
    let data = crate::sys::within(super::store::OP_LIMIT, "licence file", move || {
        let real = std::fs::canonicalize(&owned)?;
        crate::sys::read_regular(&real, LICENCE_FILE_MAX)
    })
    .and_then(|r| r)
    .map_err(|e| match crate::sys::NotReadable::of(&e) {
        Some(n) => bad(n.why.clone()),
        None => bad(e.to_string()),
    })?;
    String::from_utf8(data).map_err(|_| bad("not UTF-8 text".into()))
}

/// Verifies the signed licence file at `path` for `product` and this server and registers it.
/// Nothing is written unless it verifies, is for `product`, and is bound to no other server.
pub(crate) fn register_file(
    paths: &Paths,
    product: &Product,
    path: &Path,
    today: NaiveDate,
) -> Result<Registered, Failure> {
    let text = read_licence_file(path)?;
    let refuse = |why: String| {
        Failure::new(
            Exit::License,
            format!("{}: {why}; nothing was registered.", path.display()),
        )
    };
    let v = licfile::verify(&text).map_err(refuse)?;
    let l = &v.licence;
    if l.product != product.code {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "{}: licence for product {}, not {}",
                path.display(),
                l.product,
                product.code
            ),
        ));
    }
    let (me, _) = Identity::detect_or_create(paths)?;
    l.check_binding(&me).map_err(refuse)?;
    if v.dev_signer {
        crate::errln!(
            "clplcnsc: note: this licence file is signed by the published development key."
        );
    }
    let entry = Entry {
        product: product.code.clone(),
        kind: l.kind,
        holder: l.holder().to_owned(),
        key: String::new(),
        file: Some(text.clone()),
        licence_id: Some(l.licence_id.clone()),
        registered: now_secs(),
    };
    let dates = l.from.zip(l.until);
    let r = Store::new(paths).register(&me, entry)?;
    Ok(registered(&r, dates, today))
}

/// A product request from command-line text.
pub(crate) fn request_product(serial: &str, key: &str) -> Result<Request, Failure> {
    let s = Serial::parse(serial).ok_or_else(|| {
        Failure::new(
            Exit::Usage,
            format!(
                "invalid serial number {serial:?}: expected two capital letters and six digits (XX000000)"
            ),
        )
    })?;
    Ok(Request::Product {
        serial: s,
        key: key.to_string(),
    })
}

/// Lists the licences of `product` held in the store, every server's, one line each: product,
/// kind, form (typed key or signed file), serial or user, from, until, server, state (valid,
/// expired, not-yet-valid, overlap, invalid); a store file that cannot be read is a line of its
/// own (state unreadable) and is reported after the list, which makes the status 3. Below the
/// table: this server's identity and where its machine id came from, and the keys this binary
/// trusts.
pub(crate) fn list(
    paths: &Paths,
    product: &Product,
    today: NaiveDate,
    out: &mut dyn Write,
) -> Exit {
    let store = Store::new(paths);
    let files = match store.read_each() {
        Ok(f) => f,
        Err(e) => return Failure::from(e).report(),
    };
    let me = Identity::detect_with_source(paths);
    let mut rows = vec![
        [
            "PRODUCT",
            "KIND",
            "FORM",
            "SERIAL/USER",
            "FROM",
            "UNTIL",
            "SERVER",
            "STATE",
        ]
        .map(String::from),
    ];
    let mut failures = Vec::new();
    let mut unreadable = Vec::new();
    let good: Vec<_> = files
        .into_iter()
        .filter_map(|f| {
            f.map_err(|e| {
                if let Some(p) = e.path() {
                    unreadable.push(p.file_name().map_or_else(
                        || p.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    ));
                }
                failures.push(Failure::from(e));
            })
            .ok()
        })
        .collect();
    for f in &good {
        for e in f.licenses.iter().filter(|e| e.product == product.code) {
            let id = e.overlap_id();
            let shared = good
                .iter()
                .any(|g| g.path != f.path && g.licenses.iter().any(|x| x.overlap_id() == id));
            let (from, until, state) = match assess(product, e, &f.server, today) {
                Ok(a) => (
                    a.from.map_or("-".into(), us_date),
                    a.until.map_or("-".into(), us_date),
                    match a.state {
                        _ if shared => "overlap",
                        DateState::Valid => "valid",
                        DateState::Expired(_) => "expired",
                        DateState::NotYetValid(_) => "not-yet-valid",
                    },
                ),
                Err(_) => ("-".into(), "-".into(), "invalid"),
            };
            let mut server = f.server.short();
            if me.as_ref().is_ok_and(|(m, _)| *m == f.server) {
                server.push_str(" (this server)");
            }
            rows.push([
                e.product.clone(),
                e.kind.as_str().into(),
                if e.file.is_some() { "file" } else { "key" }.into(),
                e.holder.clone(),
                from,
                until,
                server,
                state.into(),
            ]);
        }
    }
    let listed = rows.len() > 1;
    for name in unreadable {
        rows.push(["-", "-", "-", "-", "-", "-", name.as_str(), "unreadable"].map(String::from));
    }
    if rows.len() == 1 {
        let _ = writeln!(out, "No {} license is registered.", product.code);
    } else {
        if !listed {
            let _ = writeln!(out, "No {} license is registered.", product.code);
        }
        let mut widths = [0usize; 8];
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        for r in &rows {
            let line: Vec<String> = r
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", line.join("  ").trim_end());
        }
    }
    let _ = writeln!(out);
    match &me {
        Ok((m, source)) => {
            let _ = writeln!(out, "this server: {} ({source})", m.short());
        }
        Err(e) => {
            let _ = writeln!(out, "this server: {e}");
        }
    }
    for l in trust::describe() {
        let _ = writeln!(out, "{l}");
    }
    let _ = out.flush();
    let mut code = Exit::Ok;
    for f in failures {
        code = f.report();
    }
    code
}

/// Deletes this server's licences of `product` (only the one for serial or user `holder` when
/// given).
pub(crate) fn delete(
    paths: &Paths,
    product: &Product,
    holder: Option<&str>,
) -> Result<usize, Failure> {
    let me = Identity::detect(paths)?;
    let n = Store::new(paths).delete(&me, &product.code, holder)?;
    if n == 0 {
        let what = holder.map_or_else(String::new, |h| format!(" for {h:?}"));
        return Err(Failure::new(
            Exit::NotFound,
            format!(
                "no {} license{what} is registered on this server",
                product.code
            ),
        ));
    }
    Ok(n)
}
