//! The `clplcnsc` operations: register (verified key, overlap check, atomic write), list and
//! delete, with the messages and exit statuses the command prints. The applet only parses its
//! command line and calls these.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done (`command was success.`) |
//! | 2 | usage: bad option, unknown product ID, bad menu choice, malformed serial/user/key, bad licence file, end of input |
//! | 3 | licence refused: the key does not verify, the licence overlaps, a store file is corrupt |
//! | 6 | system error: the store cannot be read or written, the server identity cannot be read |
//! | 7 | not root |
//! | 8 | `-d`: no such licence on this server |
//! | 130 | interrupted (Ctrl-C) during the dialogue |

use std::fmt;
use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use super::catalog::{self, Product};
use super::dialogue::Request;
use super::key::{self, Kind, Serial};
use super::store::{Entry, Identity, Registered, Store, StoreError};
use super::{DateState, assess};
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
            StoreError::Identity(_) | StoreError::Io { .. } => Self::new(Exit::System, e),
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
                registered: now_secs(),
            };
            (e, Some((from, until)))
        }
    };
    let me = Identity::detect(paths)?;
    let r = Store::new(paths).register(&me, entry)?;
    if r == Registered::AlreadyHeld {
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
    Ok(r)
}

/// A licence file for non-interactive registration (`--file F`), TOML:
/// `kind = "product"`, `serial = "AB123456"`, `key = "…"`, or `kind = "trial"`, `user = "…"`,
/// `key = "…"`; an optional `product = "FSMON20"` must match `-p`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LicenceFile {
    /// Product ID (optional).
    pub product: Option<String>,
    /// `product` or `trial`.
    pub kind: Kind,
    /// Serial (product).
    pub serial: Option<String>,
    /// User (trial).
    pub user: Option<String>,
    /// The key.
    pub key: String,
}

/// Largest licence file read: a licence file is a few lines.
pub const LICENCE_FILE_MAX: u64 = 64 * 1024;

/// Reads a licence file into a request for `product`. The file is read within bounds: a
/// regular file (a symbolic link to one is followed) of at most [`LICENCE_FILE_MAX`] bytes,
/// within [`super::store::OP_LIMIT`] (a FIFO, a device or a hung file system is refused, never
/// waited for or read without end).
pub fn read_licence_file(path: &Path, product: &Product) -> Result<Request, Failure> {
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
    let text = String::from_utf8(data).map_err(|_| bad("not UTF-8 text".into()))?;
    let f: LicenceFile =
        toml::from_str(&text).map_err(|e| bad(e.to_string().trim().to_string()))?;
    if let Some(p) = &f.product
        && p != &product.code
    {
        return Err(bad(format!(
            "licence for product {p}, not {}",
            product.code
        )));
    }
    match (f.kind, f.serial, f.user) {
        (Kind::Product, Some(s), None) => request_product(&s, &f.key),
        (Kind::Trial, None, Some(u)) => Ok(Request::Trial {
            user: u,
            key: f.key,
        }),
        (Kind::Product, ..) => Err(bad(
            "a product licence needs `serial` (and no `user`)".into()
        )),
        (Kind::Trial, ..) => Err(bad("a trial licence needs `user` (and no `serial`)".into())),
    }
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
/// kind, serial or user, from, until, server, state (valid, expired, not-yet-valid, overlap,
/// invalid). A corrupt store file is reported after the list and makes the status 3.
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
    let me = Identity::detect(paths).ok();
    let mut rows = vec![
        [
            "PRODUCT",
            "KIND",
            "SERIAL/USER",
            "FROM",
            "UNTIL",
            "SERVER",
            "STATE",
        ]
        .map(String::from),
    ];
    let mut failures = Vec::new();
    let good: Vec<_> = files
        .into_iter()
        .filter_map(|f| f.map_err(|e| failures.push(Failure::from(e))).ok())
        .collect();
    for f in &good {
        for e in f.licenses.iter().filter(|e| e.product == product.code) {
            let shared = good
                .iter()
                .any(|g| g.path != f.path && g.licenses.iter().any(|x| x.key == e.key));
            let (from, until, state) = match assess(product, e, today) {
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
            if me.as_ref() == Some(&f.server) {
                server.push_str(" (this server)");
            }
            rows.push([
                e.product.clone(),
                e.kind.as_str().into(),
                e.holder.clone(),
                from,
                until,
                server,
                state.into(),
            ]);
        }
    }
    if rows.len() == 1 {
        let _ = writeln!(out, "No {} license is registered.", product.code);
    } else {
        let mut widths = [0usize; 7];
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
