//! Licences (product FSMON20): key format ([`key`]), product catalogue ([`catalog`]), the
//! per-server store ([`store`]), the registration dialogue ([`dialogue`]), the `clplcnsc`
//! commands ([`admin`]) and the check every monitor runs before it probes ([`check_monitor`]).
//!
//! Monitor-side states and their events: no licence → 51, trial in force → 52, trial ended → 53,
//! store unreadable or tampered → 54, trial not started → 55, key also registered on another
//! server → 56.

pub(crate) mod admin;
pub mod catalog;
pub(crate) mod dialogue;
pub mod key;
#[cfg(feature = "keygen")]
mod keygen;
pub mod store;

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

/// Verifies a stored entry's key again (for its product and serial or user) and tells its state
/// on `today`. An entry whose key does not verify is an error: the store was edited, or it was
/// written by a build with another vendor secret.
pub(crate) fn assess(
    product: &Product,
    e: &Entry,
    today: NaiveDate,
) -> Result<Assessed, Unverified> {
    let bad = |why: String| Unverified {
        product: e.product.clone(),
        holder: e.holder.clone(),
        why,
    };
    match e.kind {
        Kind::Product => {
            let serial = key::Serial::parse(&e.holder)
                .ok_or_else(|| bad("malformed serial number".into()))?;
            key::verify_product(product, serial, &e.key).map_err(|x| bad(x.to_string()))?;
            Ok(Assessed {
                from: None,
                until: None,
                state: DateState::Valid,
            })
        }
        Kind::Trial => {
            let (_, from, until) =
                key::verify_trial(product, &e.holder, &e.key).map_err(|x| bad(x.to_string()))?;
            let state = if today < from {
                DateState::NotYetValid(from)
            } else if today > until {
                DateState::Expired(until)
            } else {
                DateState::Valid
            };
            Ok(Assessed {
                from: Some(from),
                until: Some(until),
                state,
            })
        }
    }
}

/// Checks the store for a licence that unlocks `applet` on this server on `today`.
///
/// A product licence wins over a trial; among trials in force the one lasting longest wins. When
/// nothing grants, the refusal is, in order: overlap (56) if an otherwise usable key is also held
/// by another server, not yet valid (55, earliest start), expired (53, latest end), else not
/// registered (51). Any unreadable or tampered store file in the directory is 54: the overlap
/// check cannot be trusted without it.
pub fn check_monitor(paths: &Paths, applet: &str, today: NaiveDate) -> Result<Grant, Refusal> {
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
    let files = store
        .read_all()
        .map_err(|e| Refusal::Unreadable(e.to_string()))?;
    if files.is_empty() {
        return Err(Refusal::NotRegistered);
    }
    let me = Identity::detect(paths).map_err(|e| Refusal::Unreadable(e.to_string()))?;
    let mine = store.file_of(&me);
    let Some(own) = files.iter().find(|f| f.path == mine) else {
        return Err(Refusal::NotRegistered);
    };
    let elsewhere: HashSet<&str> = files
        .iter()
        .filter(|f| f.path != mine)
        .flat_map(|f| f.licenses.iter().map(|e| e.key.as_str()))
        .collect();

    let mut trial: Option<NaiveDate> = None;
    let mut overlap = false;
    let mut not_yet: Option<NaiveDate> = None;
    let mut expired: Option<NaiveDate> = None;
    for e in &own.licenses {
        let Some(p) = products.iter().find(|p| p.code == e.product) else {
            continue;
        };
        let a = assess(p, e, today).map_err(|u| Refusal::Unreadable(u.to_string()))?;
        match a.state {
            DateState::Valid if elsewhere.contains(e.key.as_str()) => overlap = true,
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
                    registered: 0,
                },
            )
            .unwrap()
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
                registered: 0,
            }],
        );
        std::fs::write(&f, forged).unwrap();
        assert!(matches!(
            check_monitor(&p, "clp_sambamon", d(TODAY)),
            Err(Refusal::Unreadable(m)) if m.contains("AB123457")
        ));
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
