//! The status names of ONC RPC version 2 (RFC 5531 §9): `accept_stat`, `reject_stat` and
//! `auth_stat`, one table each, with the text `clnt_sperror(3)` prints for it where it prints
//! one (libtirpc's and glibc's wording, which the original product's alerts carry).
//!
//! A status is written as its name and number (`AUTH_TOOWEAK (5)`) in the fault log and
//! `--json`, so an operator never has to look a number up; a code the RFC does not define keeps
//! its number (`accept_stat 9`). The tables are the only place these names are spelled.

/// `accept_stat`: code, name, `clnt_sperror` text (`PROG_MISMATCH` adds the versions).
pub(crate) static ACCEPT_STAT: &[(u32, &str, &str)] = &[
    (0, "SUCCESS", "RPC: Success"),
    (1, "PROG_UNAVAIL", "RPC: Program unavailable"),
    (2, "PROG_MISMATCH", "RPC: Program/version mismatch"),
    (3, "PROC_UNAVAIL", "RPC: Procedure unavailable"),
    (4, "GARBAGE_ARGS", "RPC: Server can't decode arguments"),
    (5, "SYSTEM_ERR", "RPC: Remote system error"),
];

/// `reject_stat`: code, name, `clnt_sperror` text (both add what follows in the reply).
pub(crate) static REJECT_STAT: &[(u32, &str, &str)] = &[
    (0, "RPC_MISMATCH", "RPC: Incompatible versions of RPC"),
    (1, "AUTH_ERROR", "RPC: Authentication error"),
];

/// `auth_stat`: code, name, and the reason `clnt_sperror` gives after `why = ` (`None`: it has
/// none; the Kerberos and `RPCSEC_GSS` codes 8 to 14 are not in its list).
pub(crate) static AUTH_STAT: &[(u32, &str, Option<&str>)] = &[
    (0, "AUTH_OK", Some("Authentication OK")),
    (1, "AUTH_BADCRED", Some("Invalid client credential")),
    (2, "AUTH_REJECTEDCRED", Some("Server rejected credential")),
    (3, "AUTH_BADVERF", Some("Invalid client verifier")),
    (4, "AUTH_REJECTEDVERF", Some("Server rejected verifier")),
    (5, "AUTH_TOOWEAK", Some("Client credential too weak")),
    (6, "AUTH_INVALIDRESP", Some("Invalid server verifier")),
    (7, "AUTH_FAILED", Some("Failed (unspecified error)")),
    (8, "AUTH_KERB_GENERIC", None),
    (9, "AUTH_TIMEEXPIRE", None),
    (10, "AUTH_TKT_FILE", None),
    (11, "AUTH_DECODE", None),
    (12, "AUTH_NET_ADDR", None),
    (13, "RPCSEC_GSS_CREDPROBLEM", None),
    (14, "RPCSEC_GSS_CTXPROBLEM", None),
];

/// The row of `code` in a table whose rows start with the code.
fn row<T: Copy>(table: &[(u32, &'static str, T)], code: u32) -> Option<(&'static str, T)> {
    table
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|&(_, name, text)| (name, text))
}

/// Name and `clnt_sperror` text of an `accept_stat`.
pub(crate) fn accept_stat(code: u32) -> Option<(&'static str, &'static str)> {
    row(ACCEPT_STAT, code)
}

/// Name and `clnt_sperror` text of a `reject_stat`.
pub(crate) fn reject_stat(code: u32) -> Option<(&'static str, &'static str)> {
    row(REJECT_STAT, code)
}

/// Name of an `auth_stat`.
pub(crate) fn auth_stat_name(code: u32) -> Option<&'static str> {
    row(AUTH_STAT, code).map(|(name, _)| name)
}

/// What `clnt_sperror` prints after `why = ` for an `auth_stat`.
pub(crate) fn auth_stat_text(code: u32) -> String {
    match row(AUTH_STAT, code) {
        Some((_, Some(text))) => text.to_owned(),
        _ => format!("(unknown authentication error - {code})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes and names are unique and in order in every table, and every name is the RFC's
    /// spelling (upper case, digits and `_`).
    #[test]
    fn tables_are_consistent() {
        fn check<T>(what: &str, t: &[(u32, &str, T)]) {
            for w in t.windows(2) {
                assert!(w[0].0 < w[1].0, "{what}: {} before {}", w[0].0, w[1].0);
            }
            for (i, (_, name, _)) in t.iter().enumerate() {
                assert!(
                    name.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                    "{what}: {name}"
                );
                assert!(!t[i + 1..].iter().any(|(_, n, _)| n == name), "{name}");
            }
        }
        check("accept_stat", ACCEPT_STAT);
        check("reject_stat", REJECT_STAT);
        check("auth_stat", AUTH_STAT);
        // RFC 5531 §9 defines accept_stat 0-5, reject_stat 0-1 and auth_stat 0-14, no gaps.
        assert_eq!(ACCEPT_STAT.len(), 6);
        assert_eq!(REJECT_STAT.len(), 2);
        assert_eq!(AUTH_STAT.len(), 15);
        assert_eq!(AUTH_STAT.last().map(|r| r.0), Some(14));
    }

    #[test]
    fn names_and_texts() {
        assert_eq!(
            accept_stat(4),
            Some(("GARBAGE_ARGS", "RPC: Server can't decode arguments"))
        );
        assert_eq!(accept_stat(6), None);
        assert_eq!(reject_stat(1).map(|r| r.0), Some("AUTH_ERROR"));
        assert_eq!(auth_stat_name(5), Some("AUTH_TOOWEAK"));
        assert_eq!(auth_stat_name(13), Some("RPCSEC_GSS_CREDPROBLEM"));
        assert_eq!(auth_stat_name(15), None);
        assert_eq!(auth_stat_text(5), "Client credential too weak");
        assert_eq!(auth_stat_text(13), "(unknown authentication error - 13)");
    }
}
