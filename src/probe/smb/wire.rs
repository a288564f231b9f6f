//! Little-endian field access for parsing replies: every read is bounds-checked and fails with
//! [`Error::Protocol`] instead of panicking, whatever the server sends.

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

/// `n` as `u16`, or a protocol error when it does not fit (a request we build is too big).
pub(crate) fn len16(n: usize) -> Result<u16> {
    u16::try_from(n).map_err(|_| Error::protocol("field too long"))
}

/// `n` as `u32`.
pub(crate) fn len32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::protocol("message too long"))
}
