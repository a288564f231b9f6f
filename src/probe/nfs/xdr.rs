//! XDR (RFC 4506): the big-endian, 4-byte-aligned encoding under ONC RPC, reduced to what the
//! probe sends and reads — unsigned/signed 32- and 64-bit integers, booleans, fixed and variable
//! opaque data and strings; and the lookup of an XDR enum's name in its table (each status enum
//! of the NFS protocols is one `(code, name)` table beside its protocol).
//!
//! The decoder never trusts a length from the wire: every variable-length item is checked against
//! a caller-given maximum and against the bytes actually left, so arbitrary input yields an
//! [`XdrError`], never a panic or a large allocation.

/// Why bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum XdrError {
    /// The input ended before the item did.
    #[error("XDR: truncated ({need} bytes needed, {have} left)")]
    Short {
        /// Bytes the item needed.
        need: usize,
        /// Bytes left.
        have: usize,
    },
    /// A length prefix exceeds the protocol's maximum for that item.
    #[error("XDR: length {len} exceeds {max}")]
    TooLong {
        /// Length on the wire.
        len: u32,
        /// Largest allowed.
        max: u32,
    },
    /// A value outside its enumeration (e.g. a boolean other than 0 or 1).
    #[error("XDR: bad {0} value {1}")]
    BadValue(&'static str, u32),
}

/// Padding needed after `len` bytes to reach a multiple of four.
fn pad(len: usize) -> usize {
    (4 - len % 4) % 4
}

/// Builds an XDR byte string.
#[derive(Clone, Debug, Default)]
pub(crate) struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// An empty encoder.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends an unsigned 32-bit integer.
    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends a signed 32-bit integer (no call sends one yet; the round-trip test does).
    #[cfg(test)]
    pub(crate) fn i32(&mut self, v: i32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends an unsigned 64-bit integer (hyper).
    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends a boolean.
    pub(crate) fn bool(&mut self, v: bool) -> &mut Self {
        self.u32(u32::from(v))
    }

    /// Appends fixed-length opaque data (no length prefix), padded.
    pub(crate) fn fixed(&mut self, data: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(data);
        self.buf.resize(self.buf.len() + pad(data.len()), 0);
        self
    }

    /// Appends variable-length opaque data: length, bytes, padding.
    ///
    /// # Panics
    /// When `data` is longer than `u32::MAX` bytes (a programming error).
    pub(crate) fn opaque(&mut self, data: &[u8]) -> &mut Self {
        self.u32(u32::try_from(data.len()).expect("XDR opaque longer than 4 GiB"));
        self.fixed(data)
    }

    /// Appends a string (as variable-length opaque).
    pub(crate) fn string(&mut self, s: &str) -> &mut Self {
        self.opaque(s.as_bytes())
    }

    /// Appends already-encoded XDR bytes.
    pub(crate) fn raw(&mut self, data: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(data);
        self
    }

    /// The encoded bytes.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads XDR items from a byte slice.
#[derive(Clone, Debug)]
pub(crate) struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// A decoder at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The unread bytes.
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], XdrError> {
        if self.remaining() < n {
            return Err(XdrError::Short {
                need: n,
                have: self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Reads an unsigned 32-bit integer.
    pub(crate) fn u32(&mut self) -> Result<u32, XdrError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a signed 32-bit integer (no reply holds one yet; the round-trip test does).
    #[cfg(test)]
    pub(crate) fn i32(&mut self) -> Result<i32, XdrError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads an unsigned 64-bit integer.
    pub(crate) fn u64(&mut self) -> Result<u64, XdrError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Reads a boolean (only 0 and 1 are valid).
    pub(crate) fn bool(&mut self) -> Result<bool, XdrError> {
        match self.u32()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(XdrError::BadValue("bool", v)),
        }
    }

    /// Reads `len` bytes of fixed opaque data and skips the padding.
    pub(crate) fn fixed(&mut self, len: usize) -> Result<&'a [u8], XdrError> {
        let d = self.take(len)?;
        self.take(pad(len))?;
        Ok(d)
    }

    /// Reads variable-length opaque data of at most `max` bytes.
    pub(crate) fn opaque(&mut self, max: u32) -> Result<&'a [u8], XdrError> {
        let len = self.u32()?;
        if len > max {
            return Err(XdrError::TooLong { len, max });
        }
        self.fixed(len as usize)
    }

    /// Reads a string of at most `max` bytes (invalid UTF-8 is replaced, not rejected: it is only
    /// ever shown to people).
    pub(crate) fn string(&mut self, max: u32) -> Result<String, XdrError> {
        Ok(String::from_utf8_lossy(self.opaque(max)?).into_owned())
    }

    /// Skips `n` bytes.
    pub(crate) fn skip(&mut self, n: usize) -> Result<(), XdrError> {
        self.take(n).map(|_| ())
    }
}

/// The name of `code` in an enum table of `(code, name)` rows (a status of one of the
/// protocols), or `None` when the protocol defines no such code.
pub(crate) fn name_of(table: &[(u32, &'static str)], code: u32) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Test check of an enum table: codes ascending (so unique), names unique, each starting with
/// `prefix` and spelled as the RFCs spell them.
#[cfg(test)]
pub(crate) fn check_names(what: &str, table: &[(u32, &str)], prefix: &str) {
    for w in table.windows(2) {
        assert!(w[0].0 < w[1].0, "{what}: {} before {}", w[0].0, w[1].0);
    }
    for (i, (c, n)) in table.iter().enumerate() {
        assert!(n.starts_with(prefix), "{what} {c}: {n}");
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "{what} {c}: {n}"
        );
        assert!(
            !table[i + 1..].iter().any(|(_, m)| m == n),
            "{what}: {n} twice"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_padding() {
        let mut e = Encoder::new();
        e.opaque(b"abcde").u32(7);
        assert_eq!(
            e.finish(),
            [
                0, 0, 0, 5, b'a', b'b', b'c', b'd', b'e', 0, 0, 0, 0, 0, 0, 7
            ]
        );
    }

    #[test]
    fn rejects_long_and_short() {
        let mut d = Decoder::new(&[0, 0, 1, 0, 1, 2]);
        assert_eq!(d.opaque(64), Err(XdrError::TooLong { len: 256, max: 64 }));
        let mut d = Decoder::new(&[0, 0, 0, 8, 1, 2]);
        assert!(matches!(d.opaque(64), Err(XdrError::Short { .. })));
        let mut d = Decoder::new(&[0, 0, 0, 2]);
        assert_eq!(d.bool(), Err(XdrError::BadValue("bool", 2)));
    }

    proptest! {
        #[test]
        fn round_trips(a in any::<u32>(), b in any::<i32>(), c in any::<u64>(), t in any::<bool>(),
                       o in proptest::collection::vec(any::<u8>(), 0..300), s in ".{0,40}") {
            let mut e = Encoder::new();
            e.u32(a).i32(b).u64(c).bool(t).opaque(&o).string(&s).fixed(&o);
            let bytes = e.finish();
            prop_assert_eq!(bytes.len() % 4, 0);
            let mut d = Decoder::new(&bytes);
            prop_assert_eq!(d.u32().unwrap(), a);
            prop_assert_eq!(d.i32().unwrap(), b);
            prop_assert_eq!(d.u64().unwrap(), c);
            prop_assert_eq!(d.bool().unwrap(), t);
            prop_assert_eq!(d.opaque(1024).unwrap(), &o[..]);
            prop_assert_eq!(d.string(1024).unwrap(), s);
            prop_assert_eq!(d.fixed(o.len()).unwrap(), &o[..]);
            prop_assert_eq!(d.remaining(), 0);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), max in 0u32..100) {
            let mut d = Decoder::new(&bytes);
            while d.remaining() > 0 {
                if d.opaque(max).is_err() && d.u32().is_err() && d.skip(1).is_err() {
                    break;
                }
            }
        }
    }
}
