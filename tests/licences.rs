//! Signed licence files and what a binary trusts, through the real binary: a file signed by
//! another key or changed in one byte is refused and leaves the store as it was; a file bound to
//! another server is refused; the overlap check compares licence IDs across servers; the
//! binary's data holds no private key that signs a file it accepts (an exhaustive scan); the
//! binary says which keys it trusts; a server without /etc/machine-id gets a documented
//! fallback identity and clones are still told apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clp_fsmon::license::{self, Grant, licfile, trust};
use clp_fsmon::paths::Paths;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

use crate::rig::license::{
    self as lic, PRODUCT, applet_cmd, dev_signing_key, product_licence, server, sign, store_dir,
    write_file,
};

fn sandbox() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("clplicf-")
        .tempdir()
        .unwrap()
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    rd.map(Result::unwrap)
        .filter(|e| e.file_name() != ".lock")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// `clplcnsc -i -p FSMON20 --file F` under `root` must be refused with status 3, a message
/// containing `why`, and no change to the store.
fn refused(root: &Path, file: &Path, why: &str) {
    let before = snapshot(&store_dir(root));
    applet_cmd(root, "clplcnsc")
        .args(["-i", "-p", PRODUCT, "--file"])
        .arg(file)
        .assert()
        .code(3)
        .stderr(contains(why).and(contains("nothing was registered")));
    assert_eq!(snapshot(&store_dir(root)), before, "store changed");
}

#[test]
fn signed_files_register_and_forgeries_are_refused() {
    let root = sandbox();
    let r = root.path();
    server(r, "node1", "11111111111111111111111111111111", None);
    let good = sign(&product_licence("AB123456", "good-1"), &dev_signing_key());
    // first a licence that works, so every refusal below is of a store that holds one
    let f = write_file(r, "good.lic", &good);
    lic::register_file(r, &f);
    assert_eq!(
        license::check_monitor(&Paths::with_root(r), "clp_sambamon", today()),
        Ok(Grant::Product {
            serial: "AB123456".into()
        })
    );
    // signed by another key: not trusted
    let other = ed25519_dalek::SigningKey::from_bytes(&[0x42; 32]);
    let f = write_file(
        r,
        "other.lic",
        &sign(&product_licence("CD000001", "other-1"), &other),
    );
    refused(r, &f, "does not trust");
    // another key's signature under the trusted key's ID
    let stolen_id = sign(&product_licence("CD000001", "other-2"), &other).replace(
        &trust::key_id(&other.verifying_key().to_bytes()),
        &trust::key_id(&dev_signing_key().verifying_key().to_bytes()),
    );
    let f = write_file(r, "stolen.lic", &stolen_id);
    refused(r, &f, "does not verify");
    // one byte changed, at positions spread over the whole file (the unit test tries every one)
    let template = sign(&product_licence("CD000001", "edit-1"), &dev_signing_key());
    let mut tried = 0;
    for i in (0..template.len() - 1).step_by(29) {
        let mut b = template.clone().into_bytes();
        b[i] = if b[i] == b'0' { b'1' } else { b'0' };
        if b[i] == template.as_bytes()[i] {
            continue;
        }
        let f = write_file(r, "edited.lic", std::str::from_utf8(&b).unwrap());
        let before = snapshot(&store_dir(r));
        let out = applet_cmd(r, "clplcnsc")
            .args(["-i", "-p", PRODUCT, "--file"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "byte {i}: {out:?}");
        assert_eq!(snapshot(&store_dir(r)), before, "byte {i}: store changed");
        tried += 1;
    }
    assert!(tried >= 10, "{tried}");
    // a changed serial, the obvious forgery, says why
    let f = write_file(r, "serial.lic", &template.replace("CD000001", "CD000009"));
    refused(r, &f, "was changed after it was signed");
    // the unchanged file registers
    let f = write_file(r, "edit.lic", &template);
    lic::register_file(r, &f);
}

#[test]
fn files_bound_to_another_server_are_refused() {
    let root = sandbox();
    let r = root.path();
    server(r, "node1", "11111111111111111111111111111111", None);
    let bound = |host: Option<&str>, mid: Option<&str>, id: &str| {
        let mut l = product_licence("AB123456", id);
        l.host = host.map(Into::into);
        l.machine_id = mid.map(Into::into);
        write_file(r, &format!("{id}.lic"), &sign(&l, &dev_signing_key()))
    };
    refused(r, &bound(Some("node2"), None, "b1"), "bound to host node2");
    refused(
        r,
        &bound(None, Some("22222222222222222222222222222222"), "b2"),
        "bound to machine id 22222222222222222222222222222222",
    );
    refused(
        r,
        &bound(
            Some("node1"),
            Some("22222222222222222222222222222222"),
            "b3",
        ),
        "this server is host node1 with machine id 11111111111111111111111111111111",
    );
    lic::register_file(
        r,
        &bound(
            Some("node1"),
            Some("11111111111111111111111111111111"),
            "b4",
        ),
    );
    // copied with its store file to a clone (same host, other machine id): not valid there
    let clone = sandbox();
    server(
        clone.path(),
        "node1",
        "33333333333333333333333333333333",
        None,
    );
    let from = store_dir(r).join("node1@11111111111111111111111111111111.lic");
    std::fs::create_dir_all(store_dir(clone.path())).unwrap();
    let text = std::fs::read_to_string(&from).unwrap();
    // The clone's own file name (the store refuses a file whose name is another server's).
    let fake = text.replace(
        "11111111111111111111111111111111",
        "33333333333333333333333333333333",
    );
    std::fs::write(
        store_dir(clone.path()).join("node1@33333333333333333333333333333333.lic"),
        fake,
    )
    .unwrap();
    assert!(
        license::check_monitor(&Paths::with_root(clone.path()), "clp_nfsmon", today()).is_err()
    );
}

#[test]
fn the_overlap_check_compares_licence_ids_across_servers() {
    let shared = sandbox();
    let (a, b) = (sandbox(), sandbox());
    server(
        a.path(),
        "node1",
        "11111111111111111111111111111111",
        Some(shared.path()),
    );
    server(
        b.path(),
        "node2",
        "22222222222222222222222222222222",
        Some(shared.path()),
    );
    let files = sandbox();
    let first = lic::product_file(files.path(), "AB123456", "same-id");
    lic::register_file(a.path(), &first);
    // the very file, and another file with the same licence ID, on another server: 56
    let second = lic::product_file(&files.path().join("g"), "CD000001", "same-id");
    for file in [&first, &second] {
        let before = snapshot(&lic::shared_store(shared.path()));
        applet_cmd(b.path(), "clplcnsc")
            .args(["-i", "-p", PRODUCT, "--file"])
            .arg(file)
            .assert()
            .code(3)
            .stderr(contains("The registration license overlaps.").and(contains("node1/11111111")));
        assert_eq!(snapshot(&lic::shared_store(shared.path())), before);
    }
    // registering it again on the same server changes nothing
    applet_cmd(a.path(), "clplcnsc")
        .args(["-i", "-p", PRODUCT, "--file"])
        .arg(&first)
        .assert()
        .success()
        .stderr(contains("already registered"));
    // a trial file registers with its dates, and lists as a file
    let trial = lic::trial_file(files.path(), "eve", "2020-01-01", "2099-12-31", "trial-1");
    lic::register_file(b.path(), &trial);
    let out = applet_cmd(b.path(), "clplcnsc")
        .args(["-l", "-p", PRODUCT])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let row = text.lines().find(|l| l.contains("eve")).unwrap();
    assert!(
        row.contains("trial") && row.contains(" file ") && row.contains("12/31/2099"),
        "{text}"
    );
    assert!(row.ends_with("valid"), "{text}");
}

/// The ELF sections of `bin` that hold constants and static data (`.rodata*`, `.data*`,
/// `.tdata`: allocated, not code): where a key compiled into the binary is (the positive
/// control below finds the public key there). Unwind tables and code are left out: a constant
/// is never laid out there as 32 contiguous bytes.
fn data_sections(bin: &[u8]) -> Vec<(String, Vec<u8>)> {
    use object::{Object, ObjectSection, SectionFlags};
    let file = object::File::parse(bin).expect("an ELF binary");
    file.sections()
        .filter(|s| {
            let SectionFlags::Elf { sh_flags } = s.flags() else {
                return false;
            };
            let alloc = sh_flags & u64::from(object::elf::SHF_ALLOC) != 0;
            let exec = sh_flags & u64::from(object::elf::SHF_EXECINSTR) != 0;
            let name = s.name().unwrap_or("");
            let constants = [".rodata", ".data", ".tdata"]
                .iter()
                .any(|p| name.starts_with(p));
            alloc && !exec && constants && s.file_range().is_some()
        })
        .map(|s| {
            (
                s.name().unwrap_or("?").to_owned(),
                s.data().unwrap().to_vec(),
            )
        })
        .collect()
}

/// Every offset of `data` whose 32 bytes are an Ed25519 private key of `public`: as a seed
/// (what a key file holds), as the clamped scalar of the expanded key, or as the reduced scalar.
fn secret_offsets(data: &[u8], public: &[u8; 32]) -> Vec<usize> {
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::scalar::Scalar;
    use sha2::Digest;
    let target = CompressedEdwardsY(*public).decompress().unwrap();
    let scan = |range: std::ops::Range<usize>| -> Vec<usize> {
        range
            .filter(|&i| {
                let w: [u8; 32] = data[i..i + 32].try_into().unwrap();
                let h = sha2::Sha512::digest(w);
                let seeded: [u8; 32] = h[..32].try_into().unwrap();
                EdwardsPoint::mul_base_clamped(seeded) == target
                    || EdwardsPoint::mul_base_clamped(w) == target
                    || Option::<Scalar>::from(Scalar::from_canonical_bytes(w))
                        .is_some_and(|s| EdwardsPoint::mul_base(&s) == target)
            })
            .collect()
    };
    let n = data.len().saturating_sub(31);
    let half = n / 2;
    std::thread::scope(|s| {
        let lo = s.spawn(|| scan(0..half));
        let mut v = scan(half..n);
        v.extend(lo.join().unwrap());
        v.sort_unstable();
        v
    })
}

#[test]
fn the_binary_holds_no_key_that_signs_files_it_accepts() {
    let bin = std::fs::read(env!("CARGO_BIN_EXE_clp-fsmon")).unwrap();
    let sections = data_sections(&bin);
    let public = dev_signing_key().verifying_key().to_bytes();
    let seed = dev_signing_key().to_bytes();
    let total: usize = sections.iter().map(|s| s.1.len()).sum();
    let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    // Positive controls: the scan covers where key material lives, and it finds a key.
    assert!(
        sections.iter().any(|s| has(&s.1, &public)),
        "the trusted public key is in the scanned data"
    );
    assert!(
        sections
            .iter()
            .any(|s| has(&s.1, trust::DEV_SECRET.as_bytes())),
        "the typed-key secret is in the binary, as every symmetric secret is"
    );
    let mut planted = vec![0x5au8; 4096];
    planted[1000..1032].copy_from_slice(&seed);
    let scalar = dev_signing_key().to_scalar_bytes();
    planted[3000..3032].copy_from_slice(&scalar);
    assert_eq!(secret_offsets(&planted, &public), vec![1000, 3000]);
    // A found key would be usable: it signs a changed licence that the binary accepts.
    let found = ed25519_dalek::SigningKey::from_bytes(&planted[1000..1032].try_into().unwrap());
    let forged = sign(&product_licence("ZZ999999", "forged"), &found);
    assert!(licfile::verify(&forged).is_ok());
    // The scan of the binary itself: every offset of every data section.
    let t = Instant::now();
    let mut found = Vec::new();
    for (name, data) in &sections {
        for off in secret_offsets(data, &public) {
            found.push(format!("{name}+{off:#x}"));
        }
    }
    let took = t.elapsed();
    eprintln!(
        "scanned {total} bytes of data ({} sections) of a {} byte binary for a private key of \
         the trusted licence-file key: {} found in {took:.1?}",
        sections.len(),
        bin.len(),
        found.len()
    );
    assert!(total > 100_000, "{total}");
    assert!(
        found.is_empty(),
        "private key material in the binary: {found:?}"
    );
}

#[test]
fn the_binary_says_which_keys_it_trusts() {
    let v = Command::new(env!("CARGO_BIN_EXE_clp-fsmon"))
        .arg("--version")
        .output()
        .unwrap();
    let v = String::from_utf8(v.stdout).unwrap();
    let dev_id = trust::key_id(&dev_signing_key().verifying_key().to_bytes());
    assert!(
        v.contains(&format!(
            "trusts: licence files signed by the development key {dev_id}"
        )),
        "{v}"
    );
    assert!(
        v.contains("trusts: typed keys of the development secret"),
        "{v}"
    );
    let root = sandbox();
    server(
        root.path(),
        "node1",
        "11111111111111111111111111111111",
        None,
    );
    let out = applet_cmd(root.path(), "clplcnsc")
        .args(["-l", "-p", PRODUCT])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for l in trust::describe() {
        assert!(text.contains(&l), "{l} in {text}");
    }
    assert!(
        text.contains(&format!(
            "this server: node1/11111111 (machine id from {})",
            root.path().join("etc/machine-id").display()
        )),
        "{text}"
    );
}

/// `clplcnsc ARGS` under `root` in a mount namespace of its own where `shared` is bind-mounted
/// on the root's licence directory: how a cluster shares only the store (the rest of
/// `var/lib/clp-fsmon`, with the machine id clp-fsmon makes, stays the server's own). The mount
/// goes with the process.
fn clplcnsc_sharing(root: &Path, shared: &Path, args: &[&str]) -> std::process::Output {
    crate::rig::require_root("bind-mounting a shared licence store");
    let unshare = crate::rig::require_tool("unshare", "util-linux");
    let dir = store_dir(root);
    std::fs::create_dir_all(&dir).unwrap();
    Command::new(unshare)
        .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(r#"mount --bind "$1" "$2" && shift 2 && exec "$@""#)
        .arg("sh")
        .arg(shared)
        .arg(&dir)
        .arg(env!("CARGO_BIN_EXE_clp-fsmon"))
        .arg("clplcnsc")
        .args(args)
        .env("CLP_FSMON_ROOT", root)
        .output()
        .unwrap()
}

fn no_machine_id(root: &Path, host: &str) {
    // An empty /etc/machine-id (systemd's first-boot state) and no D-Bus id: none of its own.
    server(root, host, "", None);
}

#[test]
fn without_a_machine_id_the_identity_falls_back_and_clones_are_told_apart() {
    let shared = sandbox();
    let (a, b, c) = (sandbox(), sandbox(), sandbox());
    for s in [&a, &b] {
        no_machine_id(s.path(), "node1");
    }
    // D-Bus's machine id is the first fallback
    no_machine_id(c.path(), "node3");
    let dbus = c.path().join("var/lib/dbus/machine-id");
    std::fs::create_dir_all(dbus.parent().unwrap()).unwrap();
    std::fs::write(&dbus, "dddddddddddddddddddddddddddddddd\n").unwrap();
    lic::register_product_serial(c.path(), "EF000002");
    let out = applet_cmd(c.path(), "clplcnsc")
        .args(["-l", "-p", PRODUCT])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("(machine id from {})", dbus.display())),
        "{text}"
    );
    // with none at all, the first registration makes one; -l says so
    let key = lic::product_key("AB123456");
    let reg = |root: &Path, serial: &str, key: &str| {
        clplcnsc_sharing(
            root,
            shared.path(),
            &["-i", "-p", PRODUCT, "--serial", serial, "--key", key],
        )
    };
    let out = reg(a.path(), "AB123456", &key);
    assert!(out.status.success(), "{out:?}");
    let made: PathBuf = a.path().join("var/lib/clp-fsmon/machine-id");
    let id_a = std::fs::read_to_string(&made).unwrap();
    assert_eq!(id_a.trim().len(), 32, "{id_a:?}");
    let out = clplcnsc_sharing(a.path(), shared.path(), &["-l", "-p", PRODUCT]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "machine id made by clp-fsmon in {}",
            made.display()
        )),
        "{text}"
    );
    // the clone (same host name, no machine id either) gets an id of its own: the same key
    // there is an overlap, another key is fine, and both files are in the shared store
    let out = reg(b.path(), "AB123456", &key);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("The registration license overlaps."),
        "{out:?}"
    );
    let out = reg(b.path(), "CD000001", &lic::product_key("CD000001"));
    assert!(out.status.success(), "{out:?}");
    let id_b = std::fs::read_to_string(b.path().join("var/lib/clp-fsmon/machine-id")).unwrap();
    assert_ne!(id_a, id_b);
    let names: Vec<String> = snapshot(shared.path()).into_keys().collect();
    assert_eq!(
        names,
        vec![
            format!("node1@{}.lic", id_a.trim()),
            format!("node1@{}.lic", id_b.trim())
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    // the id is made once and kept
    let out = reg(a.path(), "GH000003", &lic::product_key("GH000003"));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_to_string(&made).unwrap(), id_a);
}
