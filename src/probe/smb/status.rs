//! NT status codes: the names of the common ones, and how a status is shown to an administrator.
//!
//! Alerts carry the status as a number (`nn` in the catalogue). We print it in hex
//! (`0xc000006d`), the form Windows, Samba logs and every protocol document use, so an
//! administrator can search for it; the fault log adds the symbolic name
//! (`STATUS_LOGON_FAILURE (0xc000006d)`).

/// The operation succeeded.
pub(crate) const SUCCESS: u32 = 0x0000_0000;
/// An interim response; the real one follows.
pub(crate) const PENDING: u32 = 0x0000_0103;
/// NTLMSSP needs another leg.
pub(crate) const MORE_PROCESSING_REQUIRED: u32 = 0xc000_0016;
/// The reply could not be understood (used for malformed replies; the server never sent it).
pub(crate) const INVALID_NETWORK_RESPONSE: u32 = 0xc000_00c3;
/// The request is not supported.
pub(crate) const NOT_SUPPORTED: u32 = 0xc000_00bb;
/// A signed reply whose signature does not verify (SMB2 and SMB1 alike).
pub(crate) const INVALID_SIGNATURE: u32 = 0xc000_a000;
/// CREATE of a new file whose name is taken.
pub(crate) const OBJECT_NAME_COLLISION: u32 = 0xc000_0035;
/// A READ at or past the end of the file.
pub(crate) const END_OF_FILE: u32 = 0xc000_0011;
/// What the alert of a canary that reads back other than written carries (the server said
/// nothing: the probe compared).
pub(crate) const DATA_ERROR: u32 = 0xc000_003e;

/// Known statuses: (code, name).
static NAMES: &[(u32, &str)] = &[
    (0x0000_0000, "STATUS_SUCCESS"),
    (0x0000_0103, "STATUS_PENDING"),
    (0x8000_0005, "STATUS_BUFFER_OVERFLOW"),
    (0xc000_0001, "STATUS_UNSUCCESSFUL"),
    (0xc000_0002, "STATUS_NOT_IMPLEMENTED"),
    (0xc000_000d, "STATUS_INVALID_PARAMETER"),
    (0xc000_0016, "STATUS_MORE_PROCESSING_REQUIRED"),
    (0xc000_0022, "STATUS_ACCESS_DENIED"),
    (0xc000_0034, "STATUS_OBJECT_NAME_NOT_FOUND"),
    (0xc000_005e, "STATUS_NO_LOGON_SERVERS"),
    (0xc000_0064, "STATUS_NO_SUCH_USER"),
    (0xc000_006a, "STATUS_WRONG_PASSWORD"),
    (0xc000_006d, "STATUS_LOGON_FAILURE"),
    (0xc000_006e, "STATUS_ACCOUNT_RESTRICTION"),
    (0xc000_006f, "STATUS_INVALID_LOGON_HOURS"),
    (0xc000_0070, "STATUS_INVALID_WORKSTATION"),
    (0xc000_0071, "STATUS_PASSWORD_EXPIRED"),
    (0xc000_0072, "STATUS_ACCOUNT_DISABLED"),
    (0xc000_009a, "STATUS_INSUFFICIENT_RESOURCES"),
    (0xc000_00a2, "STATUS_MEDIA_WRITE_PROTECTED"),
    (0xc000_00bb, "STATUS_NOT_SUPPORTED"),
    (0xc000_00c3, "STATUS_INVALID_NETWORK_RESPONSE"),
    (0xc000_00c9, "STATUS_NETWORK_NAME_DELETED"),
    (0xc000_00ca, "STATUS_NETWORK_ACCESS_DENIED"),
    (0xc000_00cb, "STATUS_BAD_DEVICE_TYPE"),
    (0xc000_00cc, "STATUS_BAD_NETWORK_NAME"),
    (0xc000_00d0, "STATUS_REQUEST_NOT_ACCEPTED"),
    (0xc000_0128, "STATUS_FILE_CLOSED"),
    (0xc000_015b, "STATUS_LOGON_TYPE_NOT_GRANTED"),
    (0xc000_0193, "STATUS_ACCOUNT_EXPIRED"),
    (0xc000_0199, "STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT"),
    (0xc000_0203, "STATUS_USER_SESSION_DELETED"),
    (0xc000_0224, "STATUS_PASSWORD_MUST_CHANGE"),
    (0xc000_0234, "STATUS_ACCOUNT_LOCKED_OUT"),
    (0xc000_035c, "STATUS_NETWORK_SESSION_EXPIRED"),
    (0xc000_0388, "STATUS_DOWNGRADE_DETECTED"),
    (0xc000_a000, "STATUS_INVALID_SIGNATURE"),
    (0xc000_a100, "STATUS_HASH_NOT_SUPPORTED"),
    (0xc000_a101, "STATUS_HASH_NOT_PRESENT"),
    (0xc000_00b5, "STATUS_IO_TIMEOUT"),
    (0xc000_020c, "STATUS_CONNECTION_DISCONNECTED"),
    (0xc000_0236, "STATUS_CONNECTION_REFUSED"),
    (0xc000_023c, "STATUS_NETWORK_UNREACHABLE"),
    (0xc000_0205, "STATUS_INSUFF_SERVER_RESOURCES"),
    (0xc000_00c4, "STATUS_UNEXPECTED_NETWORK_ERROR"),
    (0xc000_0120, "STATUS_CANCELLED"),
    (0xc000_0184, "STATUS_INVALID_DEVICE_STATE"),
    (0xc000_00ce, "STATUS_TOO_MANY_SESSIONS"),
    (0xc000_0207, "STATUS_INVALID_ADDRESS_COMPONENT"),
    // What the read and write levels meet (issue 13): storage that is full, read-only, in
    // error, or a canary another client holds.
    (0xc000_0011, "STATUS_END_OF_FILE"),
    (0xc000_0035, "STATUS_OBJECT_NAME_COLLISION"),
    (0xc000_003e, "STATUS_DATA_ERROR"),
    (0xc000_0043, "STATUS_SHARING_VIOLATION"),
    (0xc000_0044, "STATUS_QUOTA_EXCEEDED"),
    (0xc000_0056, "STATUS_DELETE_PENDING"),
    (0xc000_007f, "STATUS_DISK_FULL"),
    (0xc000_00ba, "STATUS_FILE_IS_A_DIRECTORY"),
    (0xc000_00e9, "STATUS_UNEXPECTED_IO_ERROR"),
    (0xc000_0121, "STATUS_CANNOT_DELETE"),
    (0xc000_0185, "STATUS_IO_DEVICE_ERROR"),
];

/// The symbolic name of `code`, when it is a common one.
pub(crate) fn name(code: u32) -> Option<&'static str> {
    NAMES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The number as alerts show it: `0xc00000cc`.
pub(crate) fn hex(code: u32) -> String {
    format!("{code:#010x}")
}

/// The status as the fault log shows it: `STATUS_BAD_NETWORK_NAME (0xc00000cc)`, or the bare
/// hex number for a code not in the table.
pub(crate) fn describe(code: u32) -> String {
    match name(code) {
        Some(n) => format!("{n} ({})", hex(code)),
        None => format!("NT status {}", hex(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_codes_are_shown() {
        assert_eq!(
            describe(0xc000_00cc),
            "STATUS_BAD_NETWORK_NAME (0xc00000cc)"
        );
        assert_eq!(describe(0xc000_006d), "STATUS_LOGON_FAILURE (0xc000006d)");
        assert_eq!(describe(0xc0de_0001), "NT status 0xc0de0001");
        assert_eq!(hex(0x16), "0x00000016");
    }

    #[test]
    fn table_has_no_duplicate_codes() {
        let mut codes: Vec<u32> = NAMES.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), NAMES.len());
    }
}
