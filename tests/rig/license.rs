//! Licence rig: applet links, server identities and registrations made with the real binary.
//!
//! Every helper works on a sandbox root (`CLP_FSMON_ROOT`). Registrations run
//! `clplcnsc -i -p FSMON20 …` non-interactively through `<root>/bin/clplcnsc` and panic with the
//! command's output unless it printed `command was success.` and exited 0, so a test that calls
//! them starts from a known licence state.
//!
//! Keys come from `licenses/dev-keys.toml` (the published keys for the development secret) when
//! one matches; any other serial or trial period, and every key when the build has a vendor
//! secret (`CLP_FSMON_VENDOR_SECRET`), is issued with the library generator, which uses the same
//! secret the binary was built with.
//!
//! | helper | licence registered | monitor state |
//! |---|---|---|
//! | `register_product(root)` | product AB123456 | runs (product) |
//! | `register_trial(root, "2020-01-01", "2099-12-31")` | trial in force | 52, runs |
//! | `register_trial(root, "2020-01-01", "2020-12-31")` | trial expired | 53, refuses |
//! | `register_trial(root, "2099-01-01", "2099-12-31")` | trial not started | 55, refuses |
//! | nothing | — | 51, refuses |
//!
//! For two servers sharing one store (overlap, 56) see [`server`].
//!
//! Signed licence files ([`product_file`], [`trial_file`]) are signed with the published
//! development key (`licenses/dev-signing.key`), which the test build trusts (`test-probe`
//! implies `dev-keys`), using the library's body and signature layout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use clp_fsmon::license::{catalog, key, licfile, trust};
use ed25519_dalek::Signer;
use serde::Deserialize;

/// The product every helper registers.
pub const PRODUCT: &str = "FSMON20";
/// Serial of the published product key [`register_product`] uses.
pub const SERIAL: &str = "AB123456";
/// User name of the published trial keys.
pub const TRIAL_USER: &str = "clp-fsmon-test";

/// The published known-good keys (`licenses/dev-keys.toml`).
pub const DEV_KEYS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/licenses/dev-keys.toml"
));

/// One published product key.
#[derive(Clone, Debug, Deserialize)]
pub struct DevProduct {
    pub product: String,
    pub serial: String,
    pub key: String,
}

/// One published trial key.
#[derive(Clone, Debug, Deserialize)]
pub struct DevTrial {
    pub product: String,
    pub user: String,
    pub from: String,
    pub until: String,
    pub key: String,
}

/// `licenses/dev-keys.toml`, parsed.
#[derive(Clone, Debug, Deserialize)]
pub struct DevKeys {
    pub product: Vec<DevProduct>,
    pub trial: Vec<DevTrial>,
}

/// The published keys.
pub fn dev_keys() -> DevKeys {
    toml::from_str(DEV_KEYS).expect("licenses/dev-keys.toml parses")
}

fn date(s: &str) -> NaiveDate {
    s.parse()
        .unwrap_or_else(|e| panic!("date {s:?} (want YYYY-MM-DD): {e}"))
}

/// The product key for `serial`: the published one when there is one, else a fresh one.
pub fn product_key(serial: &str) -> String {
    if let Some(k) = dev_keys()
        .product
        .iter()
        .find(|k| k.serial == serial && key::is_dev_secret())
    {
        return k.key.clone();
    }
    let p = catalog::product(PRODUCT).unwrap();
    key::issue_product(p, key::Serial::parse(serial).expect("serial XX000000"))
}

/// The trial key for `user` from `from` to `until` (YYYY-MM-DD): published or fresh.
pub fn trial_key(user: &str, from: &str, until: &str) -> String {
    if let Some(k) = dev_keys()
        .trial
        .iter()
        .find(|k| k.user == user && k.from == from && k.until == until && key::is_dev_secret())
    {
        return k.key.clone();
    }
    let p = catalog::product(PRODUCT).unwrap();
    key::issue_trial(p, user, date(from), date(until)).expect("valid trial")
}

/// A command running `applet` through `<root>/bin/<applet>` (a symlink to the built binary,
/// made when missing) with `CLP_FSMON_ROOT=root`.
pub fn applet_cmd(root: &Path, applet: &str) -> assert_cmd::Command {
    let link = applet_link(root, applet);
    let mut c = assert_cmd::Command::new(link);
    c.env("CLP_FSMON_ROOT", root)
        .env_remove("CLP_FSMON_TEST_PROBE")
        .timeout(Duration::from_secs(60));
    c
}

/// `<root>/bin/<applet>`, a symlink to the built binary (made when missing).
pub fn applet_link(root: &Path, applet: &str) -> PathBuf {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join(applet);
    if std::fs::symlink_metadata(&link).is_err() {
        // Another thread may make the same link at the same moment.
        if let Err(e) = std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_clp-fsmon"), &link) {
            assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
        }
    }
    link
}

/// Gives `root` a server identity: `etc/hostname` and `etc/machine-id`. With `shared`, the
/// root's `var/lib` becomes a symlink to it, so several roots act as servers of one cluster
/// sharing one store, [`shared_store`] (two roots with the same host name and different machine
/// ids are a clone). The link is above the product's own directories, as a cluster's shared
/// disk mounted elsewhere would be: a link at the licence directory itself is refused. Call
/// before anything is registered under `root`.
pub fn server(root: &Path, host: &str, machine_id: &str, shared: Option<&Path>) {
    let etc = root.join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("hostname"), format!("{host}\n")).unwrap();
    std::fs::write(etc.join("machine-id"), format!("{machine_id}\n")).unwrap();
    if let Some(dir) = shared {
        share(root, dir);
    }
}

/// Makes `root`'s `var/lib` a symlink to `shared` (see [`server`]), replacing what was there.
pub fn share(root: &Path, shared: &Path) {
    std::fs::create_dir_all(shared).unwrap();
    let lib = root.join("var/lib");
    if std::fs::symlink_metadata(&lib).is_ok() {
        std::fs::remove_dir_all(&lib).unwrap();
    }
    std::fs::create_dir_all(lib.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(shared, &lib).unwrap();
}

/// The licence directory of the servers sharing `shared` (see [`server`]).
pub fn shared_store(shared: &Path) -> PathBuf {
    shared.join("clp-fsmon/licenses")
}

/// The licence directory of `root`.
pub fn store_dir(root: &Path) -> PathBuf {
    root.join("var/lib/clp-fsmon/licenses")
}

/// Without `/etc/machine-id` on the test host, gives the sandbox one of its own.
fn ensure_identity(root: &Path) {
    let mine = root.join("etc/machine-id");
    if !mine.exists() && !Path::new("/etc/machine-id").exists() {
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(mine, "0123456789abcdef0123456789abcdef\n").unwrap();
    }
}

fn run_ok(root: &Path, args: &[&str]) {
    ensure_identity(root);
    let out = applet_cmd(root, "clplcnsc").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("command was success."),
        "clplcnsc {args:?} under {}: {:?}\nstdout: {stdout}\nstderr: {}",
        root.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Registers the published product licence AB123456 under `root` with the real binary.
pub fn register_product(root: &Path) {
    register_product_serial(root, SERIAL);
}

/// Registers a product licence for `serial` (XX000000) under `root` with the real binary.
pub fn register_product_serial(root: &Path, serial: &str) {
    let k = product_key(serial);
    run_ok(
        root,
        &["-i", "-p", PRODUCT, "--serial", serial, "--key", &k],
    );
}

/// Registers a trial licence of user [`TRIAL_USER`] valid `from`..=`until` (YYYY-MM-DD) under
/// `root` with the real binary. The three published periods are in force (2020-01-01..2099-12-31),
/// expired (2020-01-01..2020-12-31) and not yet valid (2099-01-01..2099-12-31); any other period
/// works too (e.g. one ending in three days, for the ≤ 7 days warning).
pub fn register_trial(root: &Path, from: &str, until: &str) {
    let k = trial_key(TRIAL_USER, from, until);
    run_ok(
        root,
        &[
            "-i", "-p", PRODUCT, "--trial", "--user", TRIAL_USER, "--key", &k,
        ],
    );
}

/// The published development signing key (`licenses/dev-signing.key`).
pub fn dev_signing_key() -> ed25519_dalek::SigningKey {
    let seed = trust::key_line(
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/licenses/dev-signing.key"
        )),
        trust::SECRET_LABEL.as_bytes(),
    )
    .expect("licenses/dev-signing.key parses");
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

/// `licence` signed with `key`: the text of a licence file.
pub fn sign(licence: &licfile::Licence, key: &ed25519_dalek::SigningKey) -> String {
    let body = licence.body();
    let sig = key.sign(&licfile::signing_input(&body));
    licfile::assemble(
        &body,
        &trust::key_id(&key.verifying_key().to_bytes()),
        &sig.to_bytes(),
    )
}

/// An unsigned product licence for `serial` with licence ID `id`.
pub fn product_licence(serial: &str, id: &str) -> licfile::Licence {
    licfile::Licence {
        format: licfile::FORMAT,
        product: PRODUCT.into(),
        kind: key::Kind::Product,
        serial: Some(serial.into()),
        user: None,
        licence_id: id.into(),
        issued: date("2026-01-01"),
        from: None,
        until: None,
        host: None,
        machine_id: None,
    }
}

/// An unsigned trial licence of `user` from `from` to `until` (YYYY-MM-DD), licence ID `id`.
pub fn trial_licence(user: &str, from: &str, until: &str, id: &str) -> licfile::Licence {
    licfile::Licence {
        kind: key::Kind::Trial,
        serial: None,
        user: Some(user.into()),
        from: Some(date(from)),
        until: Some(date(until)),
        ..product_licence("AA000000", id)
    }
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A product licence file for `serial` (licence ID `id`) signed with the development key,
/// written below `root`.
pub fn product_file(root: &Path, serial: &str, id: &str) -> PathBuf {
    let text = sign(&product_licence(serial, id), &dev_signing_key());
    std::fs::create_dir_all(root).unwrap();
    write_file(root, &format!("{id}.lic"), &text)
}

/// A trial licence file signed with the development key, written below `root`.
pub fn trial_file(root: &Path, user: &str, from: &str, until: &str, id: &str) -> PathBuf {
    let text = sign(&trial_licence(user, from, until, id), &dev_signing_key());
    std::fs::create_dir_all(root).unwrap();
    write_file(root, &format!("{id}.lic"), &text)
}

/// Registers the licence file `file` under `root` with the real binary.
pub fn register_file(root: &Path, file: &Path) {
    run_ok(
        root,
        &["-i", "-p", PRODUCT, "--file", &file.to_string_lossy()],
    );
}
