//! NT status codes: the name of every status a server answers the probe's requests with, and how
//! a status is shown to an administrator.
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

/// Every status a server may answer NEGOTIATE, SESSION_SETUP (with the logon's own failures,
/// MS-APDS / MS-NLMP), TREE_CONNECT, TREE_DISCONNECT or LOGOFF with (MS-SMB2 3.3.5, MS-CIFS
/// 3.3.5), what the read and write levels meet (storage that is full, read-only or in error, a
/// canary another client holds), and the client-side ones a probe reports (a broken connection, a bad signature): (code,
/// name), by code. The names are MS-ERREF's as Samba spells them, which smbclient prints with
/// an `NT_` in front (tests/smb_matrix.rs checks each against Samba's own table); the four
/// 0xc05d000x codes of SMB 3.1.1 negotiation are MS-ERREF's, which Samba 4.17 does not name.
static NAMES: &[(u32, &str)] = &[
    (0x0000_0000, "STATUS_SUCCESS"),
    (0x0000_0103, "STATUS_PENDING"),
    (0x0000_0104, "STATUS_REPARSE"),
    (0x8000_0005, "STATUS_BUFFER_OVERFLOW"),
    (0x8000_0006, "STATUS_NO_MORE_FILES"),
    (0xc000_0001, "STATUS_UNSUCCESSFUL"),
    (0xc000_0002, "STATUS_NOT_IMPLEMENTED"),
    (0xc000_0003, "STATUS_INVALID_INFO_CLASS"),
    (0xc000_0004, "STATUS_INFO_LENGTH_MISMATCH"),
    (0xc000_0005, "STATUS_ACCESS_VIOLATION"),
    (0xc000_0008, "STATUS_INVALID_HANDLE"),
    (0xc000_000d, "STATUS_INVALID_PARAMETER"),
    (0xc000_000e, "STATUS_NO_SUCH_DEVICE"),
    (0xc000_0010, "STATUS_INVALID_DEVICE_REQUEST"),
    (0xc000_0011, "STATUS_END_OF_FILE"),
    (0xc000_0016, "STATUS_MORE_PROCESSING_REQUIRED"),
    (0xc000_0017, "STATUS_NO_MEMORY"),
    (0xc000_0022, "STATUS_ACCESS_DENIED"),
    (0xc000_0023, "STATUS_BUFFER_TOO_SMALL"),
    (0xc000_0033, "STATUS_OBJECT_NAME_INVALID"),
    (0xc000_0034, "STATUS_OBJECT_NAME_NOT_FOUND"),
    (0xc000_0035, "STATUS_OBJECT_NAME_COLLISION"),
    (0xc000_0039, "STATUS_OBJECT_PATH_INVALID"),
    (0xc000_003a, "STATUS_OBJECT_PATH_NOT_FOUND"),
    (0xc000_003b, "STATUS_OBJECT_PATH_SYNTAX_BAD"),
    (0xc000_003e, "STATUS_DATA_ERROR"),
    (0xc000_0041, "STATUS_PORT_CONNECTION_REFUSED"),
    (0xc000_0043, "STATUS_SHARING_VIOLATION"),
    (0xc000_0044, "STATUS_QUOTA_EXCEEDED"),
    (0xc000_0056, "STATUS_DELETE_PENDING"),
    (0xc000_005e, "STATUS_NO_LOGON_SERVERS"),
    (0xc000_005f, "STATUS_NO_SUCH_LOGON_SESSION"),
    (0xc000_0061, "STATUS_PRIVILEGE_NOT_HELD"),
    (0xc000_0062, "STATUS_INVALID_ACCOUNT_NAME"),
    (0xc000_0064, "STATUS_NO_SUCH_USER"),
    (0xc000_006a, "STATUS_WRONG_PASSWORD"),
    (0xc000_006b, "STATUS_ILL_FORMED_PASSWORD"),
    (0xc000_006c, "STATUS_PASSWORD_RESTRICTION"),
    (0xc000_006d, "STATUS_LOGON_FAILURE"),
    (0xc000_006e, "STATUS_ACCOUNT_RESTRICTION"),
    (0xc000_006f, "STATUS_INVALID_LOGON_HOURS"),
    (0xc000_0070, "STATUS_INVALID_WORKSTATION"),
    (0xc000_0071, "STATUS_PASSWORD_EXPIRED"),
    (0xc000_0072, "STATUS_ACCOUNT_DISABLED"),
    (0xc000_007e, "STATUS_RANGE_NOT_LOCKED"),
    (0xc000_007f, "STATUS_DISK_FULL"),
    (0xc000_0080, "STATUS_SERVER_DISABLED"),
    (0xc000_009a, "STATUS_INSUFFICIENT_RESOURCES"),
    (0xc000_00a2, "STATUS_MEDIA_WRITE_PROTECTED"),
    (0xc000_00a3, "STATUS_DEVICE_NOT_READY"),
    (0xc000_00a5, "STATUS_BAD_IMPERSONATION_LEVEL"),
    (0xc000_00ab, "STATUS_INSTANCE_NOT_AVAILABLE"),
    (0xc000_00ac, "STATUS_PIPE_NOT_AVAILABLE"),
    (0xc000_00b0, "STATUS_PIPE_DISCONNECTED"),
    (0xc000_00b5, "STATUS_IO_TIMEOUT"),
    (0xc000_00b6, "STATUS_FILE_FORCED_CLOSED"),
    (0xc000_00ba, "STATUS_FILE_IS_A_DIRECTORY"),
    (0xc000_00bb, "STATUS_NOT_SUPPORTED"),
    (0xc000_00bc, "STATUS_REMOTE_NOT_LISTENING"),
    (0xc000_00bd, "STATUS_DUPLICATE_NAME"),
    (0xc000_00be, "STATUS_BAD_NETWORK_PATH"),
    (0xc000_00bf, "STATUS_NETWORK_BUSY"),
    (0xc000_00c0, "STATUS_DEVICE_DOES_NOT_EXIST"),
    (0xc000_00c1, "STATUS_TOO_MANY_COMMANDS"),
    (0xc000_00c2, "STATUS_ADAPTER_HARDWARE_ERROR"),
    (0xc000_00c3, "STATUS_INVALID_NETWORK_RESPONSE"),
    (0xc000_00c4, "STATUS_UNEXPECTED_NETWORK_ERROR"),
    (0xc000_00c5, "STATUS_BAD_REMOTE_ADAPTER"),
    (0xc000_00c6, "STATUS_PRINT_QUEUE_FULL"),
    (0xc000_00c7, "STATUS_NO_SPOOL_SPACE"),
    (0xc000_00c8, "STATUS_PRINT_CANCELLED"),
    (0xc000_00c9, "STATUS_NETWORK_NAME_DELETED"),
    (0xc000_00ca, "STATUS_NETWORK_ACCESS_DENIED"),
    (0xc000_00cb, "STATUS_BAD_DEVICE_TYPE"),
    (0xc000_00cc, "STATUS_BAD_NETWORK_NAME"),
    (0xc000_00cd, "STATUS_TOO_MANY_NAMES"),
    (0xc000_00ce, "STATUS_TOO_MANY_SESSIONS"),
    (0xc000_00cf, "STATUS_SHARING_PAUSED"),
    (0xc000_00d0, "STATUS_REQUEST_NOT_ACCEPTED"),
    (0xc000_00d1, "STATUS_REDIRECTOR_PAUSED"),
    (0xc000_00d2, "STATUS_NET_WRITE_FAULT"),
    (0xc000_00d4, "STATUS_NOT_SAME_DEVICE"),
    (0xc000_00d6, "STATUS_VIRTUAL_CIRCUIT_CLOSED"),
    (0xc000_00dc, "STATUS_INVALID_SERVER_STATE"),
    (0xc000_00dd, "STATUS_INVALID_DOMAIN_STATE"),
    (0xc000_00de, "STATUS_INVALID_DOMAIN_ROLE"),
    (0xc000_00df, "STATUS_NO_SUCH_DOMAIN"),
    (0xc000_00e5, "STATUS_INTERNAL_ERROR"),
    (0xc000_00e8, "STATUS_INVALID_USER_BUFFER"),
    (0xc000_00e9, "STATUS_UNEXPECTED_IO_ERROR"),
    (0xc000_00ed, "STATUS_NOT_LOGON_PROCESS"),
    (0xc000_00ee, "STATUS_LOGON_SESSION_EXISTS"),
    (0xc000_00fe, "STATUS_NO_SUCH_PACKAGE"),
    (0xc000_0101, "STATUS_DIRECTORY_NOT_EMPTY"),
    (0xc000_0103, "STATUS_NOT_A_DIRECTORY"),
    (0xc000_0104, "STATUS_BAD_LOGON_SESSION_STATE"),
    (0xc000_0105, "STATUS_LOGON_SESSION_COLLISION"),
    (0xc000_0106, "STATUS_NAME_TOO_LONG"),
    (0xc000_010a, "STATUS_PROCESS_IS_TERMINATING"),
    (0xc000_011f, "STATUS_TOO_MANY_OPENED_FILES"),
    (0xc000_0120, "STATUS_CANCELLED"),
    (0xc000_0121, "STATUS_CANNOT_DELETE"),
    (0xc000_0122, "STATUS_INVALID_COMPUTER_NAME"),
    (0xc000_0128, "STATUS_FILE_CLOSED"),
    (0xc000_0132, "STATUS_LOGON_SERVER_CONFLICT"),
    (0xc000_0133, "STATUS_TIME_DIFFERENCE_AT_DC"),
    (0xc000_013b, "STATUS_LOCAL_DISCONNECT"),
    (0xc000_013c, "STATUS_REMOTE_DISCONNECT"),
    (0xc000_013d, "STATUS_REMOTE_RESOURCES"),
    (0xc000_013e, "STATUS_LINK_FAILED"),
    (0xc000_013f, "STATUS_LINK_TIMEOUT"),
    (0xc000_0140, "STATUS_INVALID_CONNECTION"),
    (0xc000_0141, "STATUS_INVALID_ADDRESS"),
    (0xc000_0155, "STATUS_LOGON_NOT_GRANTED"),
    (0xc000_015b, "STATUS_LOGON_TYPE_NOT_GRANTED"),
    (0xc000_017e, "STATUS_TOO_MANY_SIDS"),
    (0xc000_0184, "STATUS_INVALID_DEVICE_STATE"),
    (0xc000_0185, "STATUS_IO_DEVICE_ERROR"),
    (0xc000_0189, "STATUS_TOO_LATE"),
    (0xc000_018b, "STATUS_NO_TRUST_SAM_ACCOUNT"),
    (0xc000_018c, "STATUS_TRUSTED_DOMAIN_FAILURE"),
    (0xc000_018d, "STATUS_TRUSTED_RELATIONSHIP_FAILURE"),
    (0xc000_0190, "STATUS_TRUST_FAILURE"),
    (0xc000_0192, "STATUS_NETLOGON_NOT_STARTED"),
    (0xc000_0193, "STATUS_ACCOUNT_EXPIRED"),
    (0xc000_0195, "STATUS_NETWORK_CREDENTIAL_CONFLICT"),
    (0xc000_0196, "STATUS_REMOTE_SESSION_LIMIT"),
    (0xc000_0198, "STATUS_NOLOGON_INTERDOMAIN_TRUST_ACCOUNT"),
    (0xc000_0199, "STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT"),
    (0xc000_019a, "STATUS_NOLOGON_SERVER_TRUST_ACCOUNT"),
    (0xc000_019b, "STATUS_DOMAIN_TRUST_INCONSISTENT"),
    (0xc000_0201, "STATUS_NETWORK_OPEN_RESTRICTION"),
    (0xc000_0202, "STATUS_NO_USER_SESSION_KEY"),
    (0xc000_0203, "STATUS_USER_SESSION_DELETED"),
    (0xc000_0204, "STATUS_RESOURCE_LANG_NOT_FOUND"),
    (0xc000_0205, "STATUS_INSUFF_SERVER_RESOURCES"),
    (0xc000_0206, "STATUS_INVALID_BUFFER_SIZE"),
    (0xc000_0207, "STATUS_INVALID_ADDRESS_COMPONENT"),
    (0xc000_020c, "STATUS_CONNECTION_DISCONNECTED"),
    (0xc000_020d, "STATUS_CONNECTION_RESET"),
    (0xc000_020f, "STATUS_TRANSACTION_ABORTED"),
    (0xc000_0210, "STATUS_TRANSACTION_TIMED_OUT"),
    (0xc000_0211, "STATUS_TRANSACTION_NO_RELEASE"),
    (0xc000_0212, "STATUS_TRANSACTION_NO_MATCH"),
    (0xc000_0213, "STATUS_TRANSACTION_RESPONDED"),
    (0xc000_0214, "STATUS_TRANSACTION_INVALID_ID"),
    (0xc000_0215, "STATUS_TRANSACTION_INVALID_TYPE"),
    (0xc000_0216, "STATUS_NOT_SERVER_SESSION"),
    (0xc000_0217, "STATUS_NOT_CLIENT_SESSION"),
    (0xc000_0224, "STATUS_PASSWORD_MUST_CHANGE"),
    (0xc000_0225, "STATUS_NOT_FOUND"),
    (0xc000_0233, "STATUS_DOMAIN_CONTROLLER_NOT_FOUND"),
    (0xc000_0234, "STATUS_ACCOUNT_LOCKED_OUT"),
    (0xc000_0236, "STATUS_CONNECTION_REFUSED"),
    (0xc000_0237, "STATUS_GRACEFUL_DISCONNECT"),
    (0xc000_023a, "STATUS_CONNECTION_INVALID"),
    (0xc000_023b, "STATUS_CONNECTION_ACTIVE"),
    (0xc000_023c, "STATUS_NETWORK_UNREACHABLE"),
    (0xc000_023d, "STATUS_HOST_UNREACHABLE"),
    (0xc000_023e, "STATUS_PROTOCOL_UNREACHABLE"),
    (0xc000_023f, "STATUS_PORT_UNREACHABLE"),
    (0xc000_0240, "STATUS_REQUEST_ABORTED"),
    (0xc000_0241, "STATUS_CONNECTION_ABORTED"),
    (0xc000_0246, "STATUS_CONNECTION_COUNT_LIMIT"),
    (0xc000_0257, "STATUS_PATH_NOT_COVERED"),
    (0xc000_0259, "STATUS_LICENSE_QUOTA_EXCEEDED"),
    (0xc000_026d, "STATUS_DFS_UNAVAILABLE"),
    (0xc000_026e, "STATUS_VOLUME_DISMOUNTED"),
    (0xc000_028a, "STATUS_ENCRYPTION_FAILED"),
    (0xc000_028b, "STATUS_DECRYPTION_FAILED"),
    (0xc000_02fa, "STATUS_SMARTCARD_LOGON_REQUIRED"),
    (0xc000_02ff, "STATUS_SERVER_SHUTDOWN_IN_PROGRESS"),
    (0xc000_035c, "STATUS_NETWORK_SESSION_EXPIRED"),
    (0xc000_0380, "STATUS_SMARTCARD_WRONG_PIN"),
    (0xc000_0388, "STATUS_DOWNGRADE_DETECTED"),
    (0xc000_0408, "STATUS_USER2USER_REQUIRED"),
    (0xc000_0413, "STATUS_AUTHENTICATION_FIREWALL_FAILED"),
    (0xc000_0418, "STATUS_NTLM_BLOCKED"),
    (0xc000_041c, "STATUS_INVALID_USER_PRINCIPAL_NAME"),
    (0xc000_042a, "STATUS_REQUEST_OUT_OF_SEQUENCE"),
    (0xc000_0466, "STATUS_SERVER_UNAVAILABLE"),
    (0xc000_0467, "STATUS_FILE_NOT_AVAILABLE"),
    (0xc000_a000, "STATUS_INVALID_SIGNATURE"),
    (0xc000_a001, "STATUS_HMAC_NOT_SUPPORTED"),
    (0xc000_a100, "STATUS_HASH_NOT_SUPPORTED"),
    (0xc000_a101, "STATUS_HASH_NOT_PRESENT"),
    (0xc05d_0000, "STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP"),
    (0xc05d_0001, "STATUS_SMB_BAD_CLUSTER_DIALECT"),
    (0xc05d_0002, "STATUS_SMB_GUEST_LOGON_BLOCKED"),
    (0xc05d_0003, "STATUS_SMB_NO_SIGNING_ALGORITHM_OVERLAP"),
];

/// The whole table, by code (for the tests that hold it against Samba's).
pub fn table() -> &'static [(u32, &'static str)] {
    NAMES
}

/// The symbolic name of `code`, when the table has it.
pub(crate) fn name(code: u32) -> Option<&'static str> {
    NAMES
        .binary_search_by_key(&code, |(c, _)| *c)
        .ok()
        .map(|i| NAMES[i].1)
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
        assert_eq!(describe(0xc000_0418), "STATUS_NTLM_BLOCKED (0xc0000418)");
        assert_eq!(hex(0x16), "0x00000016");
    }

    #[test]
    fn table_is_by_code_without_duplicates() {
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        for (code, name) in NAMES {
            assert_eq!(super::name(*code), Some(*name));
            assert!(name.starts_with("STATUS_"), "{name}");
        }
    }

    #[test]
    fn statuses_servers_were_seen_to_answer_are_named() {
        for (code, name) in [
            (0xc000_003a, "STATUS_OBJECT_PATH_NOT_FOUND"), // impacket, no such share
            (0xc000_0418, "STATUS_NTLM_BLOCKED"),          // smbd, ntlm auth = disabled
            (0xc000_028a, "STATUS_ENCRYPTION_FAILED"),
            (0xc05d_0002, "STATUS_SMB_GUEST_LOGON_BLOCKED"),
        ] {
            assert_eq!(super::name(code), Some(name));
        }
    }
}
