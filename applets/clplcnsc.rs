//! `clplcnsc`: register, list and delete licences (root only).
//!
//! ```text
//! clplcnsc -i -p FSMON20                                   interactive dialogue (SPEC §5)
//! clplcnsc -i -p FSMON20 --serial AB123456 --key KEY       product licence, for scripts
//! clplcnsc -i -p FSMON20 --trial --user NAME --key KEY     trial licence, for scripts
//! clplcnsc -i -p FSMON20 --file LICENCE                    signed licence file (license::licfile)
//! clplcnsc -l -p FSMON20                                   list every server's licences
//! clplcnsc -d -p FSMON20 [SERIAL|USER]                     delete this server's licence(s)
//! ```
//!
//! Exit statuses: see [`clp_fsmon::license::admin`](crate::license::admin).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{ArgGroup, Parser};

use crate::exit::{Exit, Status};
use crate::license::admin::{self, Failure, SUCCESS};
use crate::license::dialogue::{self, DialogueError, Request};
use crate::paths::Paths;

/// The command line of `clplcnsc`: the parser, its `--help`, and (through [`command`]) the man
/// page and completions, all from this one description.
// Each bool is one clap flag (-i, -l, -d, --trial).
#[allow(clippy::struct_excessive_bools)]
#[derive(Parser, Debug)]
#[command(
    name = "clplcnsc",
    long_about = "clplcnsc registers, lists and deletes the licences of a product (FSMON20) in \
this server's licence store. Every server that runs a monitor needs its own licence: a product \
licence (serial number and key) or a trial licence (user name and a key that carries its start and \
end dates), given as a typed key or as a signed licence file. A licence registered on two servers \
of the cluster is refused as an overlap. The monitors refuse to start without a valid licence \
(exit status 3).\n\n\
With -i alone, registration is an interactive dialogue on the terminal: product or trial, then the \
serial number (XX000000) or user name, then the key (XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX; keys are \
case-sensitive and never contain I, L, O or U). --serial, --trial, --user and --key do the same \
without a dialogue, for scripts. --file registers a licence file signed by the vendor (Ed25519): \
it names the product, kind, serial or user, dates and a licence ID, and may be bound to one host \
name and machine id; a file changed in any byte, signed by a key this binary does not trust, or \
bound to another server is refused and nothing is written. A typed key is only as strong as the \
secrecy of the binary that checks it; a licence file cannot be forged without the vendor's private \
key. -l also says which keys this binary trusts and where this server's machine id comes from \
(/etc/machine-id, else /var/lib/dbus/machine-id, else one clp-fsmon makes in \
/var/lib/clp-fsmon/machine-id). Every successful command ends with the line \
\"command was success.\". Only root may manage licences.",
    override_usage = "clplcnsc -i -p PRODUCT_ID\n\
clplcnsc -i -p PRODUCT_ID --serial SERIAL --key KEY\n\
clplcnsc -i -p PRODUCT_ID --trial --user USER --key KEY\n\
clplcnsc -i -p PRODUCT_ID --file FILE\n\
clplcnsc -l -p PRODUCT_ID\n\
clplcnsc -d -p PRODUCT_ID [SERIAL]",
    version,
    group(ArgGroup::new("mode").required(true).args(["register", "list", "delete"]))
)]
pub(crate) struct Cli {
    /// Register a licence (interactively unless --serial, --trial or --file is given)
    #[arg(short = 'i')]
    register: bool,
    /// List the licences of every server in the store
    #[arg(short = 'l')]
    list: bool,
    /// Delete this server's licences of the product (only SERIAL's, when given)
    #[arg(short = 'd')]
    delete: bool,
    /// Product ID: FSMON20
    #[arg(short = 'p', value_name = "PRODUCT_ID", required = true)]
    product: String,
    /// Serial number of a product licence, XX000000 (with -i and --key)
    #[arg(long, value_name = "SERIAL", requires_all = ["register", "key"], conflicts_with = "trial")]
    serial: Option<String>,
    /// Register a trial licence (with -i, --user and --key)
    #[arg(long, requires_all = ["register", "user", "key"])]
    trial: bool,
    /// Trial user name (with --trial)
    #[arg(long, value_name = "USER", requires = "trial")]
    user: Option<String>,
    /// Licence key, XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX
    #[arg(long, value_name = "KEY")]
    key: Option<String>,
    /// Signed licence file (Ed25519, from the vendor), with -i
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath, requires = "register", conflicts_with_all = ["serial", "trial", "key"])]
    file: Option<PathBuf>,
    /// With -d: the serial number (or trial user name) whose licence to delete
    #[arg(value_name = "SERIAL", requires = "delete")]
    holder: Option<String>,
}

/// The clap description of `clplcnsc`, with its line from the applet table.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command().about(super::find("clplcnsc").map_or("", |a| a.about))
}

/// Entry point.
pub(crate) fn main(args: &[OsString]) -> Status {
    execute(args).into()
}

fn execute(args: &[OsString]) -> Exit {
    let command_line = std::iter::once(OsString::from("clplcnsc")).chain(args.iter().cloned());
    let parsed = command()
        .try_get_matches_from(command_line)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
        }
    };
    if !crate::sys::is_root() {
        return Failure::new(
            Exit::Permission,
            "permission denied: licences can only be managed by root",
        )
        .report();
    }
    match run(&cli) {
        Ok(None) => {
            crate::outln!("{SUCCESS}");
            Exit::Ok
        }
        Ok(Some(code)) => code,
        Err(f) => f.report(),
    }
}

/// Runs the command: `None` when it ends with the success line, `Some(status)` when it has
/// printed its own output (the listing).
fn run(cli: &Cli) -> Result<Option<Exit>, Failure> {
    let paths = Paths::from_env();
    let product = admin::product(&cli.product)?;
    let today = chrono::Local::now().date_naive();
    // clap counts on/off flags as always present, so `requires` cannot refuse these: do it here.
    if cli.list
        && (cli.serial.is_some()
            || cli.trial
            || cli.user.is_some()
            || cli.key.is_some()
            || cli.file.is_some()
            || cli.holder.is_some())
    {
        return Err(Failure::new(
            Exit::Usage,
            "-l takes no serial, key, user, file or holder: it lists every licence of the product",
        ));
    }
    if cli.delete
        && (cli.serial.is_some()
            || cli.trial
            || cli.user.is_some()
            || cli.key.is_some()
            || cli.file.is_some())
    {
        return Err(Failure::new(
            Exit::Usage,
            "-d takes only the serial number (or trial user) to delete",
        ));
    }
    if cli.list {
        return Ok(Some(admin::list(
            &paths,
            product,
            today,
            &mut std::io::stdout(),
        )));
    }
    if cli.delete {
        admin::delete(&paths, product, cli.holder.as_deref())?;
        return Ok(None);
    }
    if cli.key.is_some() && cli.serial.is_none() && !cli.trial {
        return Err(Failure::new(
            Exit::Usage,
            "--key needs --serial SERIAL or --trial --user NAME",
        ));
    }
    if let Some(f) = &cli.file {
        let _ = dialogue::ignore_interrupts();
        admin::register_file(&paths, product, f, today)?;
        return Ok(None);
    }
    let req = if let (Some(s), Some(k)) = (&cli.serial, &cli.key) {
        admin::request_product(s, k)?
    } else if let (true, Some(u), Some(k)) = (cli.trial, &cli.user, &cli.key) {
        Request::Trial {
            user: u.clone(),
            key: k.clone(),
        }
    } else {
        interactive()?
    };
    // From here the registration runs to its end: Ctrl-C no longer interrupts it.
    let _ = dialogue::ignore_interrupts();
    admin::register(&paths, product, &req, today)?;
    Ok(None)
}

fn interactive() -> Result<Request, Failure> {
    if let Err(e) = dialogue::on_interrupt_exit() {
        return Err(Failure::new(Exit::System, format!("sigaction: {e}")));
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        tracing::debug!("clplcnsc: dialogue on a non-terminal stdin");
    }
    let mut out = std::io::stdout();
    dialogue::run(&mut stdin.lock(), &mut out).map_err(|e| {
        let code = match e {
            DialogueError::Io(_) => Exit::System,
            _ => Exit::Usage,
        };
        Failure::new(code, e)
    })
}
