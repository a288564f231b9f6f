//! Licences (product FSMON20): what a build trusts ([`trust`]), the typed key format ([`key`]),
//! signed licence files ([`licfile`]), product catalogue ([`catalog`]), the per-server store
//! ([`store`]), the registration dialogue ([`dialogue`]), the `clplcnsc` commands ([`admin`])
//! and the check every monitor runs before it probes ([`check_monitor`]).
//!
//! Monitor-side states and their events: no licence → 51, trial in force → 52, trial ended → 53,
//! own store file or licence unreadable or tampered → 54, trial not started → 55, licence also
//! registered on another server → 56. Another server's unreadable store file is reported (54,
//! naming it, in [`Checked::ignored`]) but does not stop a monitor whose own licence is valid:
//! in a shared store one bad file must not stop the cluster. The overlap check cannot see into
//! such a file, so while it is there it proves less (README, "Licences").

pub(crate) mod admin;
pub mod catalog;
pub(crate) mod dialogue;
pub mod key;
#[cfg(feature = "keygen")]
mod keygen;
pub mod licfile;
pub mod store;
pub mod trust;

use std::collections::HashSet;

use chrono::NaiveDate;

use crate::paths::Paths;
use catalog::Product;
use key::Kind;
use store::{Entry, Identity, Store};

#[cfg(feature = "keygen")]
pub(crate) use keygen::keygen_main;

/// Days left at or below which a trial warns in the log.
pub(crate) const TRIAL_WARN_DAYS: i64 = 7;

/// Longest a monitor waits for its start-up licence check: longer than a store operation may
/// take ([`store::OP_LIMIT`]), so a slow store reports its own, more precise error first.
pub const CHECK_LIMIT: std::time::Duration =
    std::time::Duration::from_secs(store::OP_LIMIT.as_secs() + 5);

/// [`check_monitor`] on a thread of its own, answered within [`CHECK_LIMIT`] whatever the file
/// system does (a hung NFS or FUSE server under the store or `/etc`): `--once` runs it so.
pub fn check_monitor_within(
    paths: &Paths,
    applet: &'static str,
    today: NaiveDate,
) -> Result<Grant, Refusal> {
    let paths = paths.clone();
    crate::sys::within(CHECK_LIMIT, "licence check", move || {
        check_monitor(&paths, applet, today)
    })
    .unwrap_or_else(|e| {
        Err(if e.kind() == std::io::ErrorKind::TimedOut {
            check_timed_out()
        } else {
            Refusal::Unreadable(format!("cannot start the licence check: {e}"))
        })
    })
}

/// The refusal (54) for a licence check that did not end within [`CHECK_LIMIT`].
pub fn check_timed_out() -> Refusal {
    Refusal::Unreadable(format!(
        "the licence check did not end within {} s",
        CHECK_LIMIT.as_secs()
    ))
}

/// A licence that lets a monitor run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// A product licence.
    Product {
        /// Its serial number.
        serial: String,
    },
    /// A trial licence in force.
    Trial {
        /// Last valid day.
        until: NaiveDate,
        /// Days left including today.
        days_left: i64,
    },
}

/// Why a monitor may not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 51: no licence for the applet's product.
    NotRegistered,
    /// 53: the trial ended on this day.
    Expired(NaiveDate),
    /// 55: the trial starts on this day.
    NotYetValid(NaiveDate),
    /// 56: the key is registered on another server too.
    Overlap,
    /// 54: the store cannot be read or fails its integrity check.
    Unreadable(String),
}

/// The date state of one registered licence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateState {
    /// In force (product licences always are).
    Valid,
    /// A trial whose last day was this one.
    Expired(NaiveDate),
    /// A trial that starts on this day.
    NotYetValid(NaiveDate),
}

/// A registered licence, its key verified again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Assessed {
    /// First valid day (trials).
    pub from: Option<NaiveDate>,
    /// Last valid day (trials).
    pub until: Option<NaiveDate>,
    /// State on the day asked.
    pub state: DateState,
}

/// A stored licence whose key does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored {product} licence {holder}: {why}")]
pub(crate) struct Unverified {
    /// Its product.
    pub product: String,
    /// Its serial number or trial user.
    pub holder: String,
    /// What is wrong with it.
    pub why: String,
}

/// Verifies a stored entry's licence again (a typed key for its product and serial or user; a
/// licence file's signature, its fields against the entry's, and its binding to `server`, the
/// server whose store file holds it) and tells its state on `today`. An entry that does not
/// verify is an error: the store was edited, or it was written by a build with other keys.
pub(crate) fn assess(
    product: &Product,
    e: &Entry,
    server: &Identity,
    today: NaiveDate,
) -> Result<Assessed, Unverified> {
    let bad = |why: String| Unverified {
        product: e.product.clone(),
        holder: e.holder.clone(),
        why,
    };
    let dated = |from: Option<NaiveDate>, until: Option<NaiveDate>| {
        let state = match (from, until) {
            (Some(a), _) if today < a => DateState::NotYetValid(a),
            (_, Some(z)) if today > z => DateState::Expired(z),
            _ => DateState::Valid,
        };
        Assessed { from, until, state }
    };
    if let Some(text) = &e.file {
        let v = licfile::verify(text).map_err(bad)?;
        let l = &v.licence;
        if l.product != product.code
            || l.product != e.product
            || l.kind != e.kind
            || l.holder() != e.holder
            || Some(&l.licence_id) != e.licence_id.as_ref()
        {
            return Err(bad(
                "the stored entry does not match its signed licence file".into(),
            ));
        }
        l.check_binding(server).map_err(bad)?;
        return Ok(dated(l.from, l.until));
    }
    match e.kind {
        Kind::Product => {
            let serial = key::Serial::parse(&e.holder)
                .ok_or_else(|| bad("malformed serial number".into()))?;
            key::verify_product(product, serial, &e.key).map_err(|x| bad(x.to_string()))?;
            Ok(dated(None, None))
        }
        Kind::Trial => {
            let (_, from, until) =
                key::verify_trial(product, &e.holder, &e.key).map_err(|x| bad(x.to_string()))?;
            Ok(dated(Some(from), Some(until)))
        }
    }
}

/// The outcome of a monitor's licence check, with the store files and licences it had to
/// leave out.
#[derive(Debug)]
pub struct Checked {
    /// Run, or why not.
    pub result: Result<Grant, Refusal>,
    /// What was left out, one line each (the file and why): the monitor reports each as 54.
    pub ignored: Vec<String>,
}

/// Checks the store for a licence that unlocks `applet` on this server on `today`.
pub fn check_monitor(paths: &Paths, applet: &str, today: NaiveDate) -> Result<Grant, Refusal> {
    check_monitor_full(paths, applet, today).result
}

/// [`check_monitor`] with what it left out.
///
/// A product licence wins over a trial; among trials in force the one lasting longest wins. When
/// nothing grants, the refusal is, in order: this server's own store file or one of its
/// licences unreadable or tampered (54), overlap (56) if an otherwise usable licence is also
/// held by another server, not yet valid (55, earliest start), expired (53, latest end), else
/// not registered (51). Another server's unreadable file is left out (and listed in
/// [`Checked::ignored`]); so is a licence of this server that does not verify, when another
/// one grants.
pub fn check_monitor_full(paths: &Paths, applet: &str, today: NaiveDate) -> Checked {
    let mut ignored = Vec::new();
    let result = check(paths, applet, today, &mut ignored);
    Checked { result, ignored }
}

fn check(
    paths: &Paths,
    applet: &str,
    today: NaiveDate,
    ignored: &mut Vec<String>,
) -> Result<Grant, Refusal> {
    let products: Vec<&Product> = catalog::catalogue()
        .iter()
        .filter(|p| p.unlocks(applet))
        .collect();
    if products.is_empty() {
        return Err(Refusal::NotRegistered);
    }
    // Everything that touches the store's file system is in the bounded read (a missing
    // directory is an empty store).
    let store = Store::new(paths);
    let each = store
        .read_each()
        .map_err(|e| Refusal::Unreadable(e.to_string()))?;
    if each.is_empty() {
        return Err(Refusal::NotRegistered);
    }
    let me = match Identity::detect(paths) {
        Ok(me) => me,
        // No machine id anywhere: nothing was ever registered as this server.
        Err(store::StoreError::NoMachineId(_)) => return Err(Refusal::NotRegistered),
        Err(e) => return Err(Refusal::Unreadable(e.to_string())),
    };
    let mine = store.file_of(&me);
    let mut files = Vec::new();
    for r in each {
        match r {
            Ok(f) => files.push(f),
            Err(e) if e.path() == Some(mine.as_path()) => {
                return Err(Refusal::Unreadable(e.to_string()));
            }
            Err(e) => ignored.push(format!(
                "{e} (left out: this server's licence is checked without it)"
            )),
        }
    }
    let Some(own) = files.iter().find(|f| f.path == mine) else {
        return Err(Refusal::NotRegistered);
    };
    let elsewhere: HashSet<String> = files
        .iter()
        .filter(|f| f.path != mine)
        .flat_map(|f| f.licenses.iter().map(Entry::overlap_id))
        .collect();

    let mut trial: Option<NaiveDate> = None;
    let mut overlap = false;
    let mut not_yet: Option<NaiveDate> = None;
    let mut expired: Option<NaiveDate> = None;
    let mut unverified: Option<String> = None;
    for e in &own.licenses {
        let Some(p) = products.iter().find(|p| p.code == e.product) else {
            continue;
        };
        let a = match assess(p, e, &own.server, today) {
            Ok(a) => a,
            Err(u) => {
                let why = format!("{}: {u}", own.path.display());
                ignored.push(why.clone());
                unverified.get_or_insert(why);
                continue;
            }
        };
        match a.state {
            DateState::Valid if elsewhere.contains(&e.overlap_id()) => overlap = true,
            DateState::Valid if e.kind == Kind::Product => {
                return Ok(Grant::Product {
                    serial: e.holder.clone(),
                });
            }
            DateState::Valid => trial = trial.max(a.until),
            DateState::NotYetValid(d) => not_yet = Some(not_yet.map_or(d, |x| x.min(d))),
            DateState::Expired(d) => expired = expired.max(Some(d)),
        }
    }
    if let Some(until) = trial {
        let days_left = (until - today).num_days() + 1;
        if days_left <= TRIAL_WARN_DAYS {
            tracing::warn!(
                applet,
                days_left,
                "trial licence ends on {}",
                crate::alert::us_date(until)
            );
        }
        return Ok(Grant::Trial { until, days_left });
    }
    if let Some(why) = unverified {
        // The licence it would have used is among those left out: 54, not "none".
        ignored.retain(|i| *i != why);
        return Err(Refusal::Unreadable(why));
    }
    if overlap {
        return Err(Refusal::Overlap);
    }
    if let Some(d) = not_yet {
        return Err(Refusal::NotYetValid(d));
    }
    if let Some(d) = expired {
        return Err(Refusal::Expired(d));
    }
    Err(Refusal::NotRegistered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use key::Serial;
    use store::Registered;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn fsmon() -> &'static Product {
        catalog::product("FSMON20").unwrap()
    }

    /// A sandbox server: root with etc/hostname and etc/machine-id; `lic` (if given) becomes
    /// its `var/lib` via a symlink, so two servers can share one store (a link at the licence
    /// directory itself would be refused for writing).
    fn server(host: &str, mid: &str, lic: Option<&std::path::Path>) -> (tempfile::TempDir, Paths) {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("etc")).unwrap();
        std::fs::write(t.path().join("etc/hostname"), format!("{host}\n")).unwrap();
        std::fs::write(t.path().join("etc/machine-id"), format!("{mid}\n")).unwrap();
        let p = Paths::with_root(t.path());
        if let Some(l) = lic {
            let lib = p
                .license_dir()
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .to_path_buf();
            std::fs::create_dir_all(lib.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(l, lib).unwrap();
        }
        (t, p)
    }

    fn add(p: &Paths, kind: Kind, holder: &str, key: &str) -> Registered {
        let me = Identity::detect(p).unwrap();
        Store::new(p)
            .register(
                &me,
                Entry {
                    product: "FSMON20".into(),
                    kind,
                    holder: holder.into(),
                    key: key::normalize(key).unwrap(),
                    file: None,
                    licence_id: None,
                    registered: 0,
                },
            )
            .unwrap()
            .outcome
    }

    fn trial(p: &Paths, user: &str, a: &str, z: &str) {
        let k = key::issue_trial(fsmon(), user, d(a), d(z)).unwrap();
        add(p, Kind::Trial, user, &k);
    }

    fn product(p: &Paths, serial: &str) {
        let k = key::issue_product(fsmon(), Serial::parse(serial).unwrap());
        add(p, Kind::Product, serial, &k);
    }

    const TODAY: &str = "2026-11-24";

    #[test]
    fn none_is_not_registered() {
        let (_t, p) = server("a", "m1", None);
        assert_eq!(
            check_monitor(&p, "clp_sambamon", d(TODAY)),
            Err(Refusal::NotRegistered)
        );
        std::fs::create_dir_all(p.license_dir()).unwrap();
        assert_eq!(
            check_monitor(&p, "clp_nfsmon", d(TODAY)),
            Err(Refusal::NotRegistered)
        );
    }

    #[test]
    fn product_grants_both_applets_only() {
        let (_t, p) = server("a", "m1", None);
        product(&p, "AB123456");
        for applet in ["clp_sambamon", "clp_nfsmon"] {
            assert_eq!(
                check_monitor(&p, applet, d(TODAY)),
                Ok(Grant::Product {
                    serial: "AB123456".into()
                })
            );
        }
        assert_eq!(
            check_monitor(&p, "clplcnsc", d(TODAY)),
            Err(Refusal::NotRegistered)
        );
    }

    #[test]
    fn trial_states() {
        let (_t, p) = server("a", "m1", None);
        trial(&p, "eve", "2026-12-01", "2026-12-31");
        assert_eq!(
            check_monitor(&p, "clp_nfsmon", d(TODAY)),
            Err(Refusal::NotYetValid(d("2026-12-01")))
        );
        assert_eq!(
            check_monitor(&p, "clp_nfsmon", d("2026-12-01")),
            Ok(Grant::Trial {
                until: d("2026-12-31"),
                days_left: 31
            })
        );
        assert_eq!(
            check_monitor(&p, "clp_nfsmon", d("2026-12-25")),
            Ok(Grant::Trial {
                until: d("2026-12-31"),
                days_left: 7
            })
        );
        assert_eq!(
            check_monitor(&p, "clp_nfsmon", d("2026-12-31")),
            Ok(Grant::Trial {
                until: d("2026-12-31"),
                days_left: 1
            })
        );
        assert_eq!(
            check_monitor(&p, "clp_nfsmon", d("2027-01-01")),
            Err(Refusal::Expired(d("2026-12-31")))
        );
        // a product licence wins over the trial
        product(&p, "AB000001");
        assert!(matches!(
            check_monitor(&p, "clp_nfsmon", d("2027-01-01")),
            Ok(Grant::Product { .. })
        ));
    }

    #[test]
    fn overlap_with_another_server_or_clone() {
        let shared = tempfile::tempdir().unwrap();
        let (_a, pa) = server("node1", "m1", Some(shared.path()));
        let (_b, pb) = server("node1", "m2", Some(shared.path()));
        product(&pa, "AB123456");
        // a copied file (same key held by two servers) refuses at start
        let k = key::issue_product(fsmon(), Serial::parse("AB123456").unwrap());
        let me = Identity::detect(&pb).unwrap();
        let text = store::encode(
            &me,
            &[Entry {
                product: "FSMON20".into(),
                kind: Kind::Product,
                holder: "AB123456".into(),
                key: key::normalize(&k).unwrap(),
                file: None,
                licence_id: None,
                registered: 0,
            }],
        );
        std::fs::write(Store::new(&pb).file_of(&me), text).unwrap();
        assert_eq!(
            check_monitor(&pa, "clp_sambamon", d(TODAY)),
            Err(Refusal::Overlap)
        );
        assert_eq!(
            check_monitor(&pb, "clp_sambamon", d(TODAY)),
            Err(Refusal::Overlap)
        );
    }

    #[test]
    fn unreadable_store_is_reported() {
        let (_t, p) = server("a", "m1", None);
        product(&p, "AB123456");
        let me = Identity::detect(&p).unwrap();
        let f = Store::new(&p).file_of(&me);
        let text = std::fs::read(&f).unwrap();
        std::fs::write(&f, &text[..text.len() / 2]).unwrap();
        assert!(matches!(
            check_monitor(&p, "clp_sambamon", d(TODAY)),
            Err(Refusal::Unreadable(m)) if m.contains("corrupt")
        ));
        // a stored key that does not verify (edited with a valid MAC) is unreadable too
        let forged = store::encode(
            &me,
            &[Entry {
                product: "FSMON20".into(),
                kind: Kind::Product,
                holder: "AB123457".into(),
                key: key::normalize(&key::issue_product(
                    fsmon(),
                    Serial::parse("AB123456").unwrap(),
                ))
                .unwrap(),
                file: None,
                licence_id: None,
                registered: 0,
            }],
        );
        std::fs::write(&f, forged).unwrap();
        assert!(matches!(
            check_monitor(&p, "clp_sambamon", d(TODAY)),
            Err(Refusal::Unreadable(m)) if m.contains("AB123457")
        ));
    }

    fn file_entry(p: &Paths, l: &licfile::Licence) -> Entry {
        let _ = p;
        Entry {
            product: "FSMON20".into(),
            kind: l.kind,
            holder: l.holder().into(),
            key: String::new(),
            file: Some(licfile::sign(l, &licfile::tests::dev_signing_key())),
            licence_id: Some(l.licence_id.clone()),
            registered: 0,
        }
    }

    #[test]
    fn another_servers_bad_file_does_not_stop_this_one() {
        let shared = tempfile::tempdir().unwrap();
        let (_a, pa) = server("node1", "m1", Some(shared.path()));
        let (_b, pb) = server("node2", "m2", Some(shared.path()));
        product(&pa, "AB123456");
        product(&pb, "CD000001");
        let fb = Store::new(&pb).file_of(&Identity::detect(&pb).unwrap());
        std::fs::write(&fb, b"{ damaged").unwrap();
        let c = check_monitor_full(&pa, "clp_sambamon", d(TODAY));
        assert!(matches!(c.result, Ok(Grant::Product { .. })), "{c:?}");
        assert_eq!(c.ignored.len(), 1, "{c:?}");
        let name = fb.file_name().unwrap().to_string_lossy().into_owned();
        assert!(c.ignored[0].contains(&format!("licenses/{name}")), "{c:?}");
        // the damaged server's own check is 54, naming its file
        let c = check_monitor_full(&pb, "clp_sambamon", d(TODAY));
        assert!(
            matches!(&c.result, Err(Refusal::Unreadable(m)) if m.contains("corrupt")),
            "{c:?}"
        );
    }

    #[test]
    fn licence_files_grant_overlap_by_id_and_keep_their_binding() {
        let shared = tempfile::tempdir().unwrap();
        let (_a, pa) = server("node1", "m1", Some(shared.path()));
        let (_b, pb) = server("node2", "m2", Some(shared.path()));
        let me_a = Identity::detect(&pa).unwrap();
        let me_b = Identity::detect(&pb).unwrap();
        let store = Store::new(&pa);
        let mut l = licfile::tests::product_licence("AB123456", "id-1");
        l.host = Some("node1".into());
        store.register(&me_a, file_entry(&pa, &l)).unwrap();
        assert_eq!(
            check_monitor(&pa, "clp_nfsmon", d(TODAY)),
            Ok(Grant::Product {
                serial: "AB123456".into()
            })
        );
        // the same licence ID on another server is an overlap, at registration
        let mut same_id = licfile::tests::product_licence("CD000001", "id-1");
        same_id.host = None;
        assert!(matches!(
            store.register(&me_b, file_entry(&pb, &same_id)),
            Err(store::StoreError::Overlap { .. })
        ));
        // a file bound to node1 copied into node2's store file does not grant there (54)
        let text = store::encode(&me_b, &[file_entry(&pb, &l)]);
        std::fs::write(store.file_of(&me_b), text).unwrap();
        let c = check_monitor_full(&pb, "clp_nfsmon", d(TODAY));
        assert!(
            matches!(&c.result, Err(Refusal::Unreadable(m)) if m.contains("bound to host node1")),
            "{c:?}"
        );
        // an edited signed file in the store does not grant either
        let mut e = file_entry(&pb, &same_id);
        e.file = e.file.map(|t| t.replace("CD000001", "CD000002"));
        e.holder = "CD000002".into();
        std::fs::write(store.file_of(&me_b), store::encode(&me_b, &[e])).unwrap();
        assert!(matches!(
            check_monitor(&pb, "clp_nfsmon", d(TODAY)),
            Err(Refusal::Unreadable(m)) if m.contains("does not verify")
        ));
        // a trial file has its dates
        let t = licfile::Licence {
            kind: Kind::Trial,
            serial: None,
            user: Some("eve".into()),
            from: Some(d("2026-12-01")),
            until: Some(d("2026-12-31")),
            ..licfile::tests::product_licence("AB000000", "trial-1")
        };
        std::fs::remove_file(store.file_of(&me_b)).unwrap();
        store.register(&me_b, file_entry(&pb, &t)).unwrap();
        assert_eq!(
            check_monitor(&pb, "clp_nfsmon", d(TODAY)),
            Err(Refusal::NotYetValid(d("2026-12-01")))
        );
        assert!(matches!(
            check_monitor(&pb, "clp_nfsmon", d("2026-12-30")),
            Ok(Grant::Trial { days_left: 2, .. })
        ));
    }

    #[test]
    fn machine_id_falls_back_and_is_made_once() {
        let (t, p) = server("h", "", None);
        // empty /etc/machine-id (systemd's first boot): no id yet, nothing registered
        assert!(matches!(
            Identity::detect(&p),
            Err(store::StoreError::NoMachineId(_))
        ));
        assert_eq!(
            check_monitor(&p, "clp_nfsmon", d(TODAY)),
            Err(Refusal::NotRegistered)
        );
        // D-Bus's id comes next
        let dbus = t.path().join("var/lib/dbus/machine-id");
        std::fs::create_dir_all(dbus.parent().unwrap()).unwrap();
        std::fs::write(&dbus, "dbus0000\n").unwrap();
        let (me, src) = Identity::detect_with_source(&p).unwrap();
        assert_eq!(
            (me.machine_id.as_str(), src.path.as_path(), src.made),
            ("dbus0000", dbus.as_path(), false)
        );
        std::fs::remove_file(&dbus).unwrap();
        // then one made once, kept, by parallel registrations alike
        let made: Vec<Identity> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(|| Identity::detect_or_create(&p).unwrap()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap().0).collect()
        });
        assert!(made.iter().all(|m| *m == made[0]), "{made:?}");
        assert_eq!(made[0].machine_id.len(), 32);
        let (again, src) = Identity::detect_with_source(&p).unwrap();
        assert_eq!(again, made[0]);
        assert!(
            src.made && src.to_string().contains("made by clp-fsmon"),
            "{src}"
        );
        assert_eq!(src.path, p.own_machine_id());
        product(&p, "AB123456");
        assert!(check_monitor(&p, "clp_nfsmon", d(TODAY)).is_ok());
        // another server without a machine id gets another one: a clone is told apart
        let (_u, q) = server("h", "", None);
        let (other, _) = Identity::detect_or_create(&q).unwrap();
        assert_ne!(other.machine_id, made[0].machine_id);
        assert_ne!(other.file_name(), made[0].file_name());
    }

    #[test]
    #[allow(clippy::print_stdout)] // figures for --nocapture
    fn key_check_timing() {
        // One key check = normalise + decode + HMAC-SHA256 verify. Printed with --nocapture.
        let serial = Serial::parse("AB123456").unwrap();
        let issued = key::issue_product(fsmon(), serial);
        let rounds = 20_000u32;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            assert!(key::verify_product(fsmon(), serial, std::hint::black_box(&issued)).is_ok());
        }
        let per = start.elapsed() / rounds;
        println!("key check: {per:?} per key ({rounds} checks)");
        assert!(per < std::time::Duration::from_millis(1));

        // The whole monitor-side check: identity, lock, read + MAC of the store, key verify.
        let (_root, paths) = server("a", "m1", None);
        product(&paths, "AB123456");
        trial(&paths, "eve", "2020-01-01", "2020-12-31");
        let rounds = 2_000u32;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            assert!(check_monitor(&paths, "clp_sambamon", d(TODAY)).is_ok());
        }
        let per = start.elapsed() / rounds;
        println!("check_monitor: {per:?} per check ({rounds} checks, 2 licences in the store)");
        assert!(per < std::time::Duration::from_millis(50));
    }
}
