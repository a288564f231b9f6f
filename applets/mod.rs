//! The applet table: every name the binary answers to. Dispatch, `--list`, `--install` and the
//! tests all read [`APPLETS`].

use std::ffi::OsString;

use crate::exit::Status;

pub mod clp_nfsmon;
pub mod clp_sambamon;
pub mod clplcnsc;
pub(crate) mod monitor;

/// One applet: the name it is installed under, a one-line description, its entry point.
pub struct Applet {
    /// Installed name (link name in /usr/sbin).
    pub name: &'static str,
    /// One line for `--list`.
    pub about: &'static str,
    /// Entry point: the arguments after the applet name; returns how the process ends.
    pub main: fn(&[OsString]) -> Status,
}

/// Every applet, in `--list` order.
pub static APPLETS: &[Applet] = &[
    Applet {
        name: "clp_sambamon",
        about: "watch a Samba share over SMB; exit when it fails -c times in a row",
        main: clp_sambamon::main,
    },
    Applet {
        name: "clp_nfsmon",
        about: "watch an NFS export over ONC RPC; exit when it fails -c times in a row",
        main: clp_nfsmon::main,
    },
    Applet {
        name: "clplcnsc",
        about: "register, list and delete FSMON20 licences",
        main: clplcnsc::main,
    },
];

/// The applet called `name`.
pub fn find(name: &str) -> Option<&'static Applet> {
    APPLETS.iter().find(|a| a.name == name)
}
