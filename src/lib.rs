//! clp-fsmon: a file-server monitor for HA clusters.
//!
//! One multi-call binary (`clp-fsmon`) reached through links named after its applets
//! (`clp_sambamon`, `clp_nfsmon`, `clplcnsc`). The applets are thin: they parse their command
//! line and wire up the shared runtime that lives in this library — the legacy argument grammar
//! ([`args`]), the monitor registry, control channel and probe loop ([`monitor`]), the alert
//! catalogue and sinks ([`alert`]), the licence store ([`license`]) and the wire-protocol probes
//! ([`probe`]).

// Output goes through `outln!`/`errln!`/`out!`/`err!` (src/sys.rs), which never panic on a
// closed or broken stdout/stderr: with panic = "abort" a failed print would kill a monitor.
// stderr goes through `console`, which a monitor detaches onto a thread of its own.
#![deny(clippy::print_stdout, clippy::print_stderr)]

#[path = "../applets/mod.rs"]
pub mod applets;

pub mod alert;
pub mod argv;
pub mod cli;
pub mod console;
pub mod dispatch;
pub mod exit;
pub mod license;
pub mod monitor;
pub mod paths;
pub mod probe;
pub mod sys;
