//! Alerts: the event catalogue of both monitors (event ID + exact text, one table), here, and the
//! sinks that deliver them — syslog, the alert log, the console, `clplogcmd` — in [`sinks`],
//! without ever making the caller wait for a slow one (see [`Alerter`]). Also the check that a
//! value may reach a log line at all ([`check_text`]).
//!
//! Texts are the original product's, with `{}` placeholders filled in order (`xxx`, `nn`, dates as
//! `mm/dd/yyyy`). A delivered line carries at most [`MAX_LINE`] bytes of message; longer messages
//! continue on further lines, split on character boundaries.

use std::fmt::Display;

mod sinks;

pub use sinks::*;

/// Longest message part of one alert line, in bytes.
pub(crate) const MAX_LINE: usize = 255;

/// Which monitor raises the alert (the original's module name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Module {
    /// `clp_sambamon`, module `sambamon`.
    Sambamon,
    /// `clp_nfsmon`, module `nfsmon`.
    Nfsmon,
}

impl Module {
    /// The applet name (`clp_sambamon`).
    pub fn applet(self) -> &'static str {
        match self {
            Self::Sambamon => "clp_sambamon",
            Self::Nfsmon => "clp_nfsmon",
        }
    }

    /// The module name shown in the alert view (`sambamon`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sambamon => "sambamon",
            Self::Nfsmon => "nfsmon",
        }
    }
}

/// Event IDs of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Event {
    /// 0: free text (nfsmon's `clp_nfsmon: …` detail lines).
    Detail = 0,
    /// 1: started.
    Started = 1,
    /// 2: first probe succeeded.
    Watching = 2,
    /// 3: ending on `-stop`.
    Stopping = 3,
    /// 6: ending because of a fault.
    Terminate = 6,
    /// 7: `-pause`.
    Paused = 7,
    /// 8: `-continue`.
    Resumed = 8,
    /// 11: malformed or out-of-range parameter.
    InvalidParameter = 11,
    /// 12: `-s` / `-d` missing.
    TargetMissing = 12,
    /// 13: no monitor ID.
    IdMissing = 13,
    /// 14: the ID is used by a live monitor.
    IdInUse = 14,
    /// 15: `-stop` could not end the monitor.
    StopFailed = 15,
    /// 42: system error (function, errno).
    SystemError = 42,
    /// 51: no licence.
    LicenseNotRegistered = 51,
    /// 52: trial licence in force until a date.
    TrialPeriod = 52,
    /// 53: trial expired.
    TrialExpired = 53,
    /// 54: licence store unreadable or corrupt.
    LicenseCheckFailed = 54,
    /// 55: trial not yet valid.
    TrialNotStarted = 55,
    /// 56: the key is registered on another server.
    LicenseOverlap = 56,
    /// 61: host name unavailable.
    ServerEnvError = 61,
    /// 62: tree connect failed.
    TreeConnectError = 62,
    /// 63: share is neither disk nor printer.
    ShareTypeError = 63,
    /// 64: session setup refused.
    ConnectError = 64,
    /// 65: negotiate failed.
    NegotiateError = 65,
    /// 66: NFS fault (nfsmon); I/O error on the share (sambamon).
    NfsError = 66,
    /// 71: socket creation failed.
    SocketError = 71,
    /// 72: connect failed.
    NetConnectError = 72,
    /// 73: send failed.
    SendError = 73,
    /// 74: no answer in time / wait failed.
    SelectError = 74,
    /// 75: receive failed.
    RecvError = 75,
    /// 81: a successful probe took more than `--warn` % of `-r`, three times in a row (a
    /// warning: it never counts toward `-c`).
    SlowResponse = 81,
    /// 82: after 81, a probe within the `--warn` limit again.
    ResponseNormal = 82,
}

impl Event {
    /// Every event, in ID order (the man pages and the README list the catalogue from it).
    pub const ALL: [Self; 32] = [
        Self::Detail,
        Self::Started,
        Self::Watching,
        Self::Stopping,
        Self::Terminate,
        Self::Paused,
        Self::Resumed,
        Self::InvalidParameter,
        Self::TargetMissing,
        Self::IdMissing,
        Self::IdInUse,
        Self::StopFailed,
        Self::SystemError,
        Self::LicenseNotRegistered,
        Self::TrialPeriod,
        Self::TrialExpired,
        Self::LicenseCheckFailed,
        Self::TrialNotStarted,
        Self::LicenseOverlap,
        Self::ServerEnvError,
        Self::TreeConnectError,
        Self::ShareTypeError,
        Self::ConnectError,
        Self::NegotiateError,
        Self::NfsError,
        Self::SocketError,
        Self::NetConnectError,
        Self::SendError,
        Self::SelectError,
        Self::RecvError,
        Self::SlowResponse,
        Self::ResponseNormal,
    ];

    /// The numeric event ID.
    pub fn id(self) -> u16 {
        self as u16
    }

    /// Syslog severity: errors for faults and refusals, a warning for a slow service, notices
    /// otherwise.
    fn severity(self) -> u8 {
        match self {
            Self::Started
            | Self::Watching
            | Self::Stopping
            | Self::Paused
            | Self::Resumed
            | Self::TrialPeriod
            | Self::ResponseNormal => 5,
            Self::SlowResponse => 4,
            _ => 3,
        }
    }
}

use Event as E;
use Module::{Nfsmon as N, Sambamon as S};

/// The catalogue: the text of `event` for `module`, with `{}` placeholders. Total over
/// [`Module`] × [`Event`] by construction — the match has no catch-all arm, so an event cannot be
/// added without a text for each monitor, and rendering an alert can never fail at run time.
///
/// The texts are the original product's (SPEC §4, §9). A few pairs it never raises (an SMB
/// session step for nfsmon, event 0 for sambamon) follow the same pattern, so that whatever the
/// code raises reads right.
#[rustfmt::skip]
pub fn template(module: Module, event: Event) -> &'static str {
    match (module, event) {
        (S, E::Detail) => "clp_sambamon: {}",
        (S, E::Started) => "The clp_sambamon has started watching Samba.",
        (S, E::Watching) => "The clp_sambamon is going to watch share resource [{}].",
        (S, E::Stopping) => "The clp_sambamon will stop watching Samba [{}].",
        (S, E::Terminate) => "The clp_sambamon will terminate.",
        (S, E::Paused) => "The clp_sambamon is going to stop monitoring.",
        (S, E::Resumed) => "The clp_sambamon is going to monitor.",
        (S, E::InvalidParameter) => "Invalid parameter in the clp_sambamon.",
        (S, E::TargetMissing) => "'-s' parameter is not specified at the clp_sambamon command.",
        (S, E::IdMissing) => "The monitor id is not specified at the clp_sambamon command.",
        (_, E::IdInUse) => "The specified monitor id is already under use in other processes.",
        (S, E::StopFailed) => "The clp_sambamon has not performed end processing.",
        (S, E::SystemError) => "The clp_sambamon has detected system error ({} {}).",
        (S, E::LicenseNotRegistered) => "The license of clp_sambamon is not registered.",
        (S, E::TrialPeriod) => "Trial Period of clp_sambamon is till {}.",
        (_, E::TrialExpired) => "The license of trial expired by {}.",
        (S, E::LicenseCheckFailed) => "Failed to check license of the clp_sambamon.",
        (_, E::TrialNotStarted) => "The license of trial is valid from {}.",
        (_, E::LicenseOverlap) => "The registration license overlaps.",
        (S, E::ServerEnvError) => "The clp_sambamon could not get environment of server(error[{}]). The clp_sambamon will terminate.",
        (S, E::TreeConnectError) => "The clp_sambamon has detected an error in Samba [{}] (tree connect error[{}]).",
        (S, E::ShareTypeError) => "The clp_sambamon has detected an error in Samba [{}] (share type error).",
        (S, E::ConnectError) => "The clp_sambamon has detected an error in Samba [{}] (connect error[{}]).",
        (S, E::NegotiateError) => "The clp_sambamon has detected an error in Samba [{}] (negotiate error[{}]).",
        (S, E::NfsError) => "The clp_sambamon has detected an error in Samba [{}] (I/O error[{}]).",
        (S, E::SocketError) => "The clp_sambamon has detected network error(socket error[{}]).",
        (S, E::NetConnectError) => "The clp_sambamon has detected network error(connect error[{}]).",
        (S, E::SendError) => "The clp_sambamon has detected network error(send error[{}]).",
        (S, E::SelectError) => "The clp_sambamon has detected network error(select error[{}]).",
        (S, E::RecvError) => "The clp_sambamon has detected network error(recv error[{}]).",
        (S, E::SlowResponse) => "The clp_sambamon has detected slow response of Samba [{}] ({} ms, limit {} ms).",
        (S, E::ResponseNormal) => "The clp_sambamon has detected that Samba [{}] responds normally again.",
        (N, E::Detail) => "clp_nfsmon: {}",
        (N, E::Started) => "The clp_nfsmon has started watching NFS.",
        (N, E::Watching) => "The clp_nfsmon is going to watch shared directory '{}'.",
        (N, E::Stopping) => "The clp_nfsmon will stop watching NFS shared directory '{}'.",
        (N, E::Terminate) => "The clp_nfsmon will terminate.",
        (N, E::Paused) => "The clp_nfsmon is going to stop monitoring.",
        (N, E::Resumed) => "The clp_nfsmon is going to monitor.",
        (N, E::InvalidParameter) => "Invalid parameter in the clp_nfsmon.",
        (N, E::TargetMissing) => "'-d' parameter is not specified at the clp_nfsmon command.",
        (N, E::IdMissing) => "The monitor id is not specified at the clp_nfsmon command.",
        (N, E::StopFailed) => "The clp_nfsmon has not performed end processing.",
        (N, E::SystemError) => "The clp_nfsmon has detected system error ({} {}).",
        (N, E::LicenseNotRegistered) => "The license of clp_nfsmon is not registered.",
        (N, E::TrialPeriod) => "Trial Period of clp_nfsmon is till {}.",
        (N, E::LicenseCheckFailed) => "Failed to check license of the clp_nfsmon.",
        (N, E::ServerEnvError) => "The clp_nfsmon could not get environment of server(error[{}]). The clp_nfsmon will terminate.",
        // SMB session steps have no NFS counterpart: nfsmon's own error event text.
        (N, E::NfsError | E::TreeConnectError | E::ShareTypeError | E::ConnectError | E::NegotiateError) => "The clp_nfsmon has detected an error in NFS.",
        (N, E::SocketError) => "The clp_nfsmon has detected network error(socket error[{}]).",
        (N, E::NetConnectError) => "The clp_nfsmon has detected network error(connect error[{}]).",
        (N, E::SendError) => "The clp_nfsmon has detected network error(send error[{}]).",
        (N, E::SelectError) => "The clp_nfsmon has detected network error(select error[{}]).",
        (N, E::RecvError) => "The clp_nfsmon has detected network error(recv error[{}]).",
        (N, E::SlowResponse) => "The clp_nfsmon has detected slow response of NFS '{}' ({} ms, limit {} ms).",
        (N, E::ResponseNormal) => "The clp_nfsmon has detected that NFS '{}' responds normally again.",
    }
}

/// False for the few pairs of the catalogue that `module` never raises (event 0 for sambamon,
/// the SMB session steps for nfsmon): the documentation leaves them out.
pub fn raised_by(module: Module, event: Event) -> bool {
    !matches!(
        (module, event),
        (S, E::Detail)
            | (
                N,
                E::TreeConnectError | E::ShareTypeError | E::ConnectError | E::NegotiateError
            )
    )
}

/// The text of `event` for `module` as the documentation prints it: each placeholder shown as
/// `xxx` (SPEC §4's way of writing them).
pub fn documented_text(module: Module, event: Event) -> String {
    template(module, event).replace("{}", "xxx")
}

/// One alert: module, event and the rendered text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// Raising module.
    pub module: Module,
    /// Event ID.
    pub event: Event,
    /// Rendered message.
    pub text: String,
}

impl Alert {
    /// Renders `event` of `module` with `args` filling the `{}` placeholders in order (missing
    /// arguments render empty, extra ones are ignored).
    pub(crate) fn new(module: Module, event: Event, args: &[&dyn Display]) -> Self {
        let tpl = template(module, event);
        let mut text = String::with_capacity(tpl.len() + 32);
        let mut args = args.iter();
        let mut rest = tpl;
        while let Some(pos) = rest.find("{}") {
            text.push_str(&rest[..pos]);
            if let Some(a) = args.next() {
                text.push_str(&a.to_string());
            }
            rest = &rest[pos + 2..];
        }
        text.push_str(rest);
        Self {
            module,
            event,
            text,
        }
    }

    /// An event without placeholders.
    pub(crate) fn plain(module: Module, event: Event) -> Self {
        Self::new(module, event, &[])
    }

    /// The message split into lines of at most [`MAX_LINE`] bytes.
    pub(crate) fn lines(&self) -> Vec<&str> {
        split_lines(&self.text, MAX_LINE)
    }
}

/// Formats a date as the alert texts show it: `mm/dd/yyyy`.
pub(crate) fn us_date(d: chrono::NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

/// Splits `s` into pieces of at most `max` bytes, never inside a UTF-8 character.
pub(crate) fn split_lines(s: &str, max: usize) -> Vec<&str> {
    assert!(max >= 4, "a line must hold one character");
    let mut out = Vec::new();
    let mut rest = s;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest);
    }
    out
}

/// Longest value (an ID, a share, a user name …) that may reach a log line, in bytes.
pub(crate) const MAX_VALUE: usize = 255;

/// True for a character no logged value may hold: a control character (C0 — NUL, tab, newline,
/// carriage return … —, DEL and C1) or a Unicode line or paragraph separator. In a share name it
/// would forge or break lines of the alert log, syslog, the fault log or a plugin's output.
pub(crate) fn unloggable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Checks a value that can reach a log line: 1 to [`MAX_VALUE`] bytes and no [`unloggable`]
/// character. The message names `what`, never the value. Used for the options here and for
/// what a credentials file gives in their place.
pub(crate) fn check_text(what: &str, v: &str) -> Result<(), TextError> {
    if v.is_empty() || v.len() > MAX_VALUE {
        return Err(TextError::Length(what.to_owned()));
    }
    if v.chars().any(unloggable) {
        return Err(TextError::Control(what.to_owned()));
    }
    Ok(())
}

/// Why [`check_text`] refused a value (naming the option or field, never the value).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TextError {
    /// Empty or longer than [`MAX_VALUE`] bytes.
    #[error("{0} needs a value of 1 to {MAX_VALUE} bytes")]
    Length(String),
    /// An [`unloggable`] character.
    #[error("{0} must not contain control characters (newline, tab, NUL …)")]
    Control(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_in_order() {
        let a = Alert::new(S, E::TreeConnectError, &[&"share", &67]);
        assert_eq!(
            a.text,
            "The clp_sambamon has detected an error in Samba [share] (tree connect error[67])."
        );
        let d = Alert::new(N, E::Detail, &[&"RPC: Program not registered."]);
        assert_eq!(d.text, "clp_nfsmon: RPC: Program not registered.");
    }

    /// The original product's catalogue (SPEC §4), as the guide prints it.
    #[rustfmt::skip]
    const PRODUCT: &[(Module, Event, &str)] = &[
        (S, E::Started, "The clp_sambamon has started watching Samba."),
        (S, E::Watching, "The clp_sambamon is going to watch share resource [{}]."),
        (S, E::Stopping, "The clp_sambamon will stop watching Samba [{}]."),
        (S, E::Terminate, "The clp_sambamon will terminate."),
        (S, E::Paused, "The clp_sambamon is going to stop monitoring."),
        (S, E::Resumed, "The clp_sambamon is going to monitor."),
        (S, E::InvalidParameter, "Invalid parameter in the clp_sambamon."),
        (S, E::TargetMissing, "'-s' parameter is not specified at the clp_sambamon command."),
        (S, E::IdMissing, "The monitor id is not specified at the clp_sambamon command."),
        (S, E::IdInUse, "The specified monitor id is already under use in other processes."),
        (S, E::StopFailed, "The clp_sambamon has not performed end processing."),
        (S, E::SystemError, "The clp_sambamon has detected system error ({} {})."),
        (S, E::LicenseNotRegistered, "The license of clp_sambamon is not registered."),
        (S, E::TrialPeriod, "Trial Period of clp_sambamon is till {}."),
        (S, E::TrialExpired, "The license of trial expired by {}."),
        (S, E::LicenseCheckFailed, "Failed to check license of the clp_sambamon."),
        (S, E::TrialNotStarted, "The license of trial is valid from {}."),
        (S, E::LicenseOverlap, "The registration license overlaps."),
        (S, E::ServerEnvError, "The clp_sambamon could not get environment of server(error[{}]). The clp_sambamon will terminate."),
        (S, E::TreeConnectError, "The clp_sambamon has detected an error in Samba [{}] (tree connect error[{}])."),
        (S, E::ShareTypeError, "The clp_sambamon has detected an error in Samba [{}] (share type error)."),
        (S, E::ConnectError, "The clp_sambamon has detected an error in Samba [{}] (connect error[{}])."),
        (S, E::NegotiateError, "The clp_sambamon has detected an error in Samba [{}] (negotiate error[{}])."),
        (S, E::SocketError, "The clp_sambamon has detected network error(socket error[{}])."),
        (S, E::NetConnectError, "The clp_sambamon has detected network error(connect error[{}])."),
        (S, E::SendError, "The clp_sambamon has detected network error(send error[{}])."),
        (S, E::SelectError, "The clp_sambamon has detected network error(select error[{}])."),
        (S, E::RecvError, "The clp_sambamon has detected network error(recv error[{}])."),
        (N, E::Detail, "clp_nfsmon: {}"),
        (N, E::Started, "The clp_nfsmon has started watching NFS."),
        (N, E::Watching, "The clp_nfsmon is going to watch shared directory '{}'."),
        (N, E::Stopping, "The clp_nfsmon will stop watching NFS shared directory '{}'."),
        (N, E::Terminate, "The clp_nfsmon will terminate."),
        (N, E::Paused, "The clp_nfsmon is going to stop monitoring."),
        (N, E::Resumed, "The clp_nfsmon is going to monitor."),
        (N, E::InvalidParameter, "Invalid parameter in the clp_nfsmon."),
        (N, E::TargetMissing, "'-d' parameter is not specified at the clp_nfsmon command."),
        (N, E::IdMissing, "The monitor id is not specified at the clp_nfsmon command."),
        (N, E::IdInUse, "The specified monitor id is already under use in other processes."),
        (N, E::StopFailed, "The clp_nfsmon has not performed end processing."),
        (N, E::SystemError, "The clp_nfsmon has detected system error ({} {})."),
        (N, E::LicenseNotRegistered, "The license of clp_nfsmon is not registered."),
        (N, E::TrialPeriod, "Trial Period of clp_nfsmon is till {}."),
        (N, E::TrialExpired, "The license of trial expired by {}."),
        (N, E::LicenseCheckFailed, "Failed to check license of the clp_nfsmon."),
        (N, E::TrialNotStarted, "The license of trial is valid from {}."),
        (N, E::LicenseOverlap, "The registration license overlaps."),
        (N, E::ServerEnvError, "The clp_nfsmon could not get environment of server(error[{}]). The clp_nfsmon will terminate."),
        (N, E::NfsError, "The clp_nfsmon has detected an error in NFS."),
    ];

    /// `position` makes the compiler insist that a new event is placed in [`Event::ALL`] too.
    const ALL: [Event; 32] = Event::ALL;

    fn position(e: Event) -> usize {
        match e {
            E::Detail => 0,
            E::Started => 1,
            E::Watching => 2,
            E::Stopping => 3,
            E::Terminate => 4,
            E::Paused => 5,
            E::Resumed => 6,
            E::InvalidParameter => 7,
            E::TargetMissing => 8,
            E::IdMissing => 9,
            E::IdInUse => 10,
            E::StopFailed => 11,
            E::SystemError => 12,
            E::LicenseNotRegistered => 13,
            E::TrialPeriod => 14,
            E::TrialExpired => 15,
            E::LicenseCheckFailed => 16,
            E::TrialNotStarted => 17,
            E::LicenseOverlap => 18,
            E::ServerEnvError => 19,
            E::TreeConnectError => 20,
            E::ShareTypeError => 21,
            E::ConnectError => 22,
            E::NegotiateError => 23,
            E::NfsError => 24,
            E::SocketError => 25,
            E::NetConnectError => 26,
            E::SendError => 27,
            E::SelectError => 28,
            E::RecvError => 29,
            E::SlowResponse => 30,
            E::ResponseNormal => 31,
        }
    }

    #[test]
    fn every_event_of_every_module_renders_with_its_own_name() {
        for (i, e) in ALL.iter().enumerate() {
            assert_eq!(position(*e), i, "{e:?} listed out of place");
        }
        for (m, other) in [(S, N), (N, S)] {
            for e in ALL {
                let a = Alert::new(m, e, &[&"x", &1]);
                assert!(!a.text.is_empty() && !a.text.contains("{}"), "{m:?} {e:?}");
                assert!(!a.text.contains(other.applet()), "{m:?} {e:?}: {}", a.text);
                let neutral = matches!(
                    e,
                    E::IdInUse | E::TrialExpired | E::TrialNotStarted | E::LicenseOverlap
                );
                assert!(neutral || a.text.contains(m.applet()), "{m:?} {e:?}");
            }
        }
        // SPEC §9: sambamon's 66.
        assert_eq!(
            Alert::new(S, E::NfsError, &[&"data", &5]).text,
            "The clp_sambamon has detected an error in Samba [data] (I/O error[5])."
        );
    }

    /// SPEC §9 and issue 15: the slow-response warning and its all-clear.
    #[test]
    fn slow_response_texts_are_exact() {
        assert_eq!(
            Alert::new(S, E::SlowResponse, &[&"data", &1843, &1500]).text,
            "The clp_sambamon has detected slow response of Samba [data] (1843 ms, limit 1500 ms)."
        );
        assert_eq!(
            Alert::new(N, E::SlowResponse, &[&"/export", &2400, &2000]).text,
            "The clp_nfsmon has detected slow response of NFS '/export' (2400 ms, limit 2000 ms)."
        );
        assert_eq!(
            Alert::new(S, E::ResponseNormal, &[&"data"]).text,
            "The clp_sambamon has detected that Samba [data] responds normally again."
        );
        assert_eq!(
            Alert::new(N, E::ResponseNormal, &[&"/export"]).text,
            "The clp_nfsmon has detected that NFS '/export' responds normally again."
        );
        assert_eq!(E::SlowResponse.id(), 81);
        assert_eq!(E::ResponseNormal.id(), 82);
        assert_eq!(
            documented_text(S, E::SlowResponse),
            "The clp_sambamon has detected slow response of Samba [xxx] (xxx ms, limit xxx ms)."
        );
        // IDs in order, each once
        assert!(Event::ALL.windows(2).all(|w| w[0].id() < w[1].id()));
    }

    #[test]
    fn product_texts_are_exact() {
        for (m, e, text) in PRODUCT {
            assert_eq!(template(*m, *e), *text, "{m:?} {e:?}");
        }
    }

    #[test]
    fn every_common_event_exists_for_both_modules() {
        let defined = |m: Module, e: Event| PRODUCT.iter().any(|(m2, e2, _)| *m2 == m && *e2 == e);
        for e in [
            E::Started,
            E::Watching,
            E::Stopping,
            E::Terminate,
            E::Paused,
            E::Resumed,
            E::InvalidParameter,
            E::TargetMissing,
            E::IdMissing,
            E::IdInUse,
            E::StopFailed,
            E::SystemError,
            E::LicenseNotRegistered,
            E::TrialPeriod,
            E::TrialExpired,
            E::LicenseCheckFailed,
            E::TrialNotStarted,
            E::LicenseOverlap,
            E::ServerEnvError,
        ] {
            assert!(defined(S, e), "sambamon {e:?}");
            assert!(defined(N, e), "nfsmon {e:?}");
        }
    }

    #[test]
    fn catalogue_has_each_event_once_per_module() {
        for (i, (m, e, _)) in PRODUCT.iter().enumerate() {
            assert!(
                !PRODUCT[..i].iter().any(|(m2, e2, _)| m2 == m && e2 == e),
                "{m:?} {e:?} twice"
            );
        }
        assert_eq!(PRODUCT.iter().filter(|c| c.0 == S).count(), 28);
        assert_eq!(PRODUCT.iter().filter(|c| c.0 == N).count(), 21);
    }

    #[test]
    fn split_respects_char_boundaries() {
        let s = "あ".repeat(100); // 300 bytes, 3 bytes a char
        let parts = split_lines(&s, 255);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].len(), 255);
        assert_eq!(parts[1].len(), 45);
        let s = format!("a{}", "あ".repeat(100));
        let parts = split_lines(&s, 255);
        assert_eq!(parts[0].len(), 253);
        assert_eq!(parts.concat(), s);
        assert_eq!(split_lines("", 255), vec![""]);
    }

    #[test]
    fn us_date_format() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 1, 9).unwrap();
        assert_eq!(us_date(d), "01/09/2026");
    }
}
