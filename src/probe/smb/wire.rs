//! Little-endian field access for parsing replies — every read is bounds-checked and fails with
//! [`Error::Protocol`] instead of panicking, whatever the server sends — and the UTF-16 strings
//! requests carry, upper-cased the way Windows and Samba upper-case them.

use super::error::{Error, Result};

/// A bounds-checked view of a reply.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bytes<'a>(pub &'a [u8]);

impl<'a> Bytes<'a> {
    /// `len` bytes at `off`.
    pub(crate) fn slice(self, off: usize, len: usize) -> Result<&'a [u8]> {
        off.checked_add(len)
            .and_then(|end| self.0.get(off..end))
            .ok_or_else(|| {
                Error::protocol(format!(
                    "reply too short ({} bytes, need {off}+{len})",
                    self.0.len()
                ))
            })
    }

    /// Byte at `off`.
    pub(crate) fn u8(self, off: usize) -> Result<u8> {
        Ok(self.slice(off, 1)?[0])
    }

    /// `u16` at `off`.
    pub(crate) fn u16(self, off: usize) -> Result<u16> {
        let s = self.slice(off, 2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }

    /// `u32` at `off`.
    pub(crate) fn u32(self, off: usize) -> Result<u32> {
        let s = self.slice(off, 4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// `u64` at `off`.
    pub(crate) fn u64(self, off: usize) -> Result<u64> {
        let s = self.slice(off, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }

    /// A fixed-size array at `off`.
    pub(crate) fn array<const N: usize>(self, off: usize) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.slice(off, N)?);
        Ok(a)
    }
}

/// Appends little-endian fields to a message being built.
pub(crate) trait Put {
    /// Appends a `u16`.
    fn u16(&mut self, v: u16);
    /// Appends a `u32`.
    fn u32(&mut self, v: u32);
    /// Appends a `u64`.
    fn u64(&mut self, v: u64);
    /// Pads with zeros to a multiple of `n`.
    fn pad_to(&mut self, n: usize);
}

impl Put for Vec<u8> {
    fn u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn pad_to(&mut self, n: usize) {
        while !self.len().is_multiple_of(n) {
            self.push(0);
        }
    }
}

/// UTF-16LE bytes of `s`.
pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// `s` in UTF-16, upper-cased one code unit at a time, as Windows (`RtlUpcaseUnicodeString`)
/// and Samba (`toupper_m` on each unit) do (NTOWFv2's user, smbclient's SMB1 tree connect
/// path): a unit whose upper case is not a single unit stays as it is (`ß` stays `ß`, where
/// Rust's full mapping makes `SS`), and so does each half of a surrogate pair.
pub(crate) fn upper_utf16(s: &str) -> Vec<u16> {
    s.encode_utf16()
        .map(|unit| {
            let Some(c) = char::from_u32(u32::from(unit)) else {
                return unit; // half of a surrogate pair
            };
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u16::try_from(u32::from(u)).unwrap_or(unit),
                _ => unit,
            }
        })
        .collect()
}

/// `n` as `u16`, or a protocol error when it does not fit (a request we build is too big).
pub(crate) fn len16(n: usize) -> Result<u16> {
    u16::try_from(n).map_err(|_| Error::protocol("field too long"))
}

/// `n` as `u32`.
pub(crate) fn len32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::protocol("message too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_is_upper_cased_one_utf16_unit_at_a_time() {
        let up = |s: &str| String::from_utf16(&upper_utf16(s)).unwrap();
        assert_eq!(up("straße"), "STRAßE");
        assert_eq!(up("müller"), "MÜLLER");
        // U+01C6 (dž) has a one-unit upper case (U+01C4); U+0149 (ŉ) and U+FB00 (ﬀ) do not
        assert_eq!(up("\u{1c6}\u{149}\u{fb00}"), "\u{1c4}\u{149}\u{fb00}");
        // outside the BMP (a surrogate pair) nothing changes, though Unicode has an upper case
        assert_eq!(up("\u{10428}a"), "\u{10428}A");
    }
}
