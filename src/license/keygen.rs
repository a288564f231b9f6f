//! `clp-fsmon keygen`: the vendor's licence generator, compiled only with `--features keygen`
//! (which implies `dev-keys`: a generator build is never a product build).
//!
//! ```text
//! clp-fsmon keygen --product FSMON20 --serial AB123456                       typed key
//! clp-fsmon keygen --product FSMON20 --trial --user NAME --from D --until D  typed trial key
//! clp-fsmon keygen --signing-key FILE --product FSMON20 --serial AB123456 \
//!     [--id ID] [--host NAME] [--machine-id ID] [--out F]                    signed licence file
//! clp-fsmon keygen --signing-key FILE --product FSMON20 --trial --user NAME --from D --until D …
//! clp-fsmon keygen --new-signing-key FILE                                    a vendor key pair
//! ```
//!
//! Typed keys are made with the build's issuing secret (`CLP_FSMON_VENDOR_SECRET`, else the
//! published development secret, with a warning). Licence files are signed with the Ed25519
//! private key read from `--signing-key FILE` (a key file: `ed25519-secret-key HEX`); it is
//! never compiled into anything. A key file others may read is refused, except the published
//! development key (`licenses/dev-signing.key`). `--new-signing-key` makes a key pair: the
//! private key file (mode 0600, never overwritten) and, on stdout, the public key to build the
//! product with (`CLP_FSMON_VENDOR_PUBKEY`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::Parser;

use super::trust::{self, PUBLIC_LABEL, SECRET_LABEL};
use super::{catalog, key, licfile};
use crate::exit::Exit;

#[derive(Parser, Debug)]
#[command(name = "clp-fsmon keygen", about = "Issue licences (vendor tool)")]
// Each bool is one clap flag.
#[allow(clippy::struct_excessive_bools)]
struct Args {
    /// Make a new Ed25519 signing key pair: the private key into FILE, the public key on stdout.
    #[arg(long, value_name = "FILE", exclusive = true)]
    new_signing_key: Option<PathBuf>,
    /// Product ID from the catalogue (e.g. FSMON20).
    #[arg(long, required_unless_present = "new_signing_key")]
    product: Option<String>,
    /// Serial number XX000000 (product licence).
    #[arg(long, conflicts_with = "trial", required_unless_present_any = ["trial", "new_signing_key"])]
    serial: Option<String>,
    /// Issue a trial licence.
    #[arg(long, requires_all = ["user", "from", "until"])]
    trial: bool,
    /// Trial user name (1 to 63 bytes).
    #[arg(long, requires = "trial")]
    user: Option<String>,
    /// First valid day of the trial.
    #[arg(long, requires = "trial")]
    from: Option<NaiveDate>,
    /// Last valid day of the trial.
    #[arg(long, requires = "trial")]
    until: Option<NaiveDate>,
    /// Sign a licence file with the Ed25519 private key in FILE (instead of a typed key).
    #[arg(long, value_name = "FILE")]
    signing_key: Option<PathBuf>,
    /// Licence ID of the file (default: 32 random hex digits).
    #[arg(long, requires = "signing_key")]
    id: Option<String>,
    /// Bind the file to this host name.
    #[arg(long, requires = "signing_key")]
    host: Option<String>,
    /// Bind the file to this machine id.
    #[arg(long, requires = "signing_key")]
    machine_id: Option<String>,
    /// Day of issue written in the file (default: today).
    #[arg(long, requires = "signing_key")]
    issued: Option<NaiveDate>,
    /// Write the file here (never over an existing file) instead of stdout.
    #[arg(long, requires = "signing_key")]
    out: Option<PathBuf>,
}

/// Entry point of `clp-fsmon keygen ARGS…`.
pub(crate) fn keygen_main(args: &[OsString]) -> Exit {
    let command_line =
        std::iter::once(OsString::from("clp-fsmon keygen")).chain(args.iter().cloned());
    let opts = match Args::try_parse_from(command_line) {
        Ok(o) => o,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
        }
    };
    match run(&opts) {
        Ok(()) => Exit::Ok,
        Err((code, msg)) => {
            crate::errln!("keygen: {msg}");
            code
        }
    }
}

type Fail = (Exit, String);

fn usage(msg: impl Into<String>) -> Fail {
    (Exit::Usage, msg.into())
}

fn run(opts: &Args) -> Result<(), Fail> {
    if let Some(file) = &opts.new_signing_key {
        return new_signing_key(file);
    }
    let code = opts.product.as_deref().unwrap_or_default();
    let product = catalog::product(code).ok_or_else(|| {
        usage(format!(
            "unknown product ID {code:?} (known: {})",
            catalog::codes()
        ))
    })?;
    let serial =
        match &opts.serial {
            Some(text) => Some(key::Serial::parse(text).ok_or_else(|| {
                usage(format!("invalid serial number {text:?}: expected XX000000"))
            })?),
            None => None,
        };
    if let Some(kf) = &opts.signing_key {
        return sign_file(opts, product, serial, kf);
    }
    if key::is_dev_secret() {
        crate::errln!("keygen: warning: built with the published development secret");
    }
    let issued = match (serial, &opts.user, opts.from, opts.until) {
        (Some(serial), ..) => key::issue_product(product, serial),
        (None, Some(user), Some(from), Some(until)) => {
            key::issue_trial(product, user, from, until).map_err(|e| usage(e.to_string()))?
        }
        _ => return Err(usage("give --serial, or --trial --user --from --until")),
    };
    crate::outln!("{issued}");
    Ok(())
}

/// Reads an Ed25519 private key file; one that group or others may read is refused unless it
/// is the published development key.
fn read_signing_key(path: &Path) -> Result<ed25519_dalek::SigningKey, Fail> {
    use std::os::unix::fs::MetadataExt;
    let bad = |m: String| (Exit::Usage, format!("{}: {m}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    let data = crate::sys::read_regular(
        &std::fs::canonicalize(path).map_err(|e| bad(e.to_string()))?,
        4096,
    )
    .map_err(|e| bad(e.to_string()))?;
    let seed = trust::key_line(&data, SECRET_LABEL.as_bytes()).ok_or_else(|| {
        bad(format!(
            "no single `{SECRET_LABEL} HEX` line (64 hex digits)"
        ))
    })?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let id = trust::key_id(&key.verifying_key().to_bytes());
    let dev = trust::Trust::compiled()
        .file_key(&id)
        .is_some_and(|k| k.dev);
    if meta.mode() & 0o077 != 0 && !dev {
        return Err(bad(format!(
            "a private key that group or others may read (mode {:o}): chmod 600 it",
            meta.mode() & 0o7777
        )));
    }
    if dev {
        crate::errln!("keygen: warning: signing with the published development key");
    }
    Ok(key)
}

fn sign_file(
    opts: &Args,
    product: &catalog::Product,
    serial: Option<key::Serial>,
    key_file: &Path,
) -> Result<(), Fail> {
    let key = read_signing_key(key_file)?;
    let licence = licfile::Licence {
        format: licfile::FORMAT,
        product: product.code.clone(),
        kind: if opts.trial {
            key::Kind::Trial
        } else {
            key::Kind::Product
        },
        serial: serial.map(|s| s.to_string()),
        user: opts.user.clone(),
        licence_id: match &opts.id {
            Some(id) => id.clone(),
            None => licfile::new_id().map_err(|e| (Exit::System, e))?,
        },
        issued: opts
            .issued
            .unwrap_or_else(|| chrono::Local::now().date_naive()),
        from: opts.from,
        until: opts.until,
        host: opts.host.clone(),
        machine_id: opts.machine_id.clone(),
    };
    licence.check().map_err(usage)?;
    let text = licfile::sign(&licence, &key);
    match &opts.out {
        None => crate::out!("{text}"),
        Some(out) => write_new(out, text.as_bytes(), 0o644)?,
    }
    Ok(())
}

fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), Fail> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| (Exit::System, format!("{}: {e}", path.display())))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .map_err(|e| (Exit::System, format!("{}: {e}", path.display())))
}

fn new_signing_key(file: &Path) -> Result<(), Fail> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| (Exit::System, format!("no random numbers: {e}")))?;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let public = key.verifying_key().to_bytes();
    let hex = crate::license::store::hex;
    let text = format!(
        "# clp-fsmon licence signing key (Ed25519, private): keep it off every build machine.\n\
         # Public key {} (build the product with CLP_FSMON_VENDOR_PUBKEY={}).\n\
         {SECRET_LABEL} {}\n",
        trust::key_id(&public),
        hex(&public),
        hex(&seed)
    );
    write_new(file, text.as_bytes(), 0o600)?;
    crate::outln!("{PUBLIC_LABEL} {}", hex(&public));
    crate::errln!(
        "keygen: wrote the private key to {}; build the product with \
         CLP_FSMON_VENDOR_PUBKEY={} (key {})",
        file.display(),
        hex(&public),
        trust::key_id(&public)
    );
    Ok(())
}
