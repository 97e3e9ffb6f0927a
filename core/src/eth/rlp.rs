//! A strict, allocation-free RLP reader and a small writer for the eth codecs.
//!
//! The reader is total: every malformed input becomes an [`RlpError`], never a panic. It is
//! canonical like go-ethereum's `rlp` package: a single byte below 0x80 must stand for itself,
//! long-form lengths must be needed and have no leading zero, and integers have no leading
//! zero bytes. Decoders use [`Item::list`] to walk a list element by element and
//! [`ListReader::finish`] to refuse trailing elements.

use crate::eth::primitives::U256;

/// Why some bytes are not the RLP we expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RlpError {
    /// The input ends inside an item.
    #[error("truncated rlp")]
    Truncated,
    /// A length or single byte that has a shorter encoding.
    #[error("non-canonical rlp")]
    NonCanonical,
    /// A string where a list was expected.
    #[error("expected an rlp list")]
    ExpectedList,
    /// A list where a string was expected.
    #[error("expected an rlp string")]
    ExpectedString,
    /// An integer wider than its type or with a leading zero byte.
    #[error("invalid rlp integer")]
    BadInteger,
    /// A fixed-size string (hash, address, …) of the wrong length.
    #[error("expected {expected} bytes, got {got}")]
    WrongLength {
        /// Required length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// A list ended before a required element.
    #[error("rlp list has too few elements")]
    TooFewElements,
    /// A list has elements after the last one we read.
    #[error("rlp list has too many elements")]
    TooManyElements,
    /// Bytes follow the top-level item.
    #[error("trailing bytes after rlp item")]
    TrailingBytes,
}

/// One RLP item: a string or a list, with its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item<'a> {
    /// True for a list.
    pub is_list: bool,
    /// The payload (string bytes, or the concatenated list elements).
    pub payload: &'a [u8],
    /// The whole item including its header.
    pub raw: &'a [u8],
}

/// Reads a big-endian length of `n` bytes (1..=8), rejecting leading zeros.
fn read_len(bytes: &[u8]) -> Result<usize, RlpError> {
    if bytes.first() == Some(&0) {
        return Err(RlpError::NonCanonical);
    }
    let mut len: u64 = 0;
    for &b in bytes {
        len = len.checked_mul(256).ok_or(RlpError::Truncated)? | u64::from(b);
    }
    usize::try_from(len).map_err(|_| RlpError::Truncated)
}

/// Splits the first RLP item off `buf`, returning it and the rest.
pub(crate) fn split_item(buf: &[u8]) -> Result<(Item<'_>, &[u8]), RlpError> {
    let first = *buf.first().ok_or(RlpError::Truncated)?;
    let (is_list, header_len, payload_len) = match first {
        0x00..=0x7f => (false, 0usize, 1usize),
        0x80..=0xb7 => (false, 1, usize::from(first - 0x80)),
        0xb8..=0xbf => {
            let n = usize::from(first - 0xb7);
            let len = read_len(buf.get(1..1 + n).ok_or(RlpError::Truncated)?)?;
            if len <= 55 {
                return Err(RlpError::NonCanonical);
            }
            (false, 1 + n, len)
        }
        0xc0..=0xf7 => (true, 1, usize::from(first - 0xc0)),
        0xf8..=0xff => {
            let n = usize::from(first - 0xf7);
            let len = read_len(buf.get(1..1 + n).ok_or(RlpError::Truncated)?)?;
            if len <= 55 {
                return Err(RlpError::NonCanonical);
            }
            (true, 1 + n, len)
        }
    };
    let end = header_len
        .checked_add(payload_len)
        .ok_or(RlpError::Truncated)?;
    let raw = buf.get(..end).ok_or(RlpError::Truncated)?;
    let rest = buf.get(end..).ok_or(RlpError::Truncated)?;
    let payload = if header_len == 0 {
        raw
    } else {
        raw.get(header_len..).ok_or(RlpError::Truncated)?
    };
    // A one-byte string below 0x80 must be written as that byte alone.
    if !is_list && header_len == 1 && payload_len == 1 && payload.first().is_some_and(|&b| b < 0x80)
    {
        return Err(RlpError::NonCanonical);
    }
    Ok((
        Item {
            is_list,
            payload,
            raw,
        },
        rest,
    ))
}

/// Decodes `buf` as exactly one RLP item.
pub(crate) fn single_item(buf: &[u8]) -> Result<Item<'_>, RlpError> {
    let (item, rest) = split_item(buf)?;
    if !rest.is_empty() {
        return Err(RlpError::TrailingBytes);
    }
    Ok(item)
}

impl<'a> Item<'a> {
    /// The elements of a list item.
    pub fn list(self) -> Result<ListReader<'a>, RlpError> {
        if !self.is_list {
            return Err(RlpError::ExpectedList);
        }
        Ok(ListReader { rest: self.payload })
    }

    /// The bytes of a string item.
    pub fn bytes(self) -> Result<&'a [u8], RlpError> {
        if self.is_list {
            return Err(RlpError::ExpectedString);
        }
        Ok(self.payload)
    }

    /// A string item of exactly `N` bytes.
    pub fn array<const N: usize>(self) -> Result<[u8; N], RlpError> {
        let b = self.bytes()?;
        b.try_into().map_err(|_| RlpError::WrongLength {
            expected: N,
            got: b.len(),
        })
    }

    /// A canonical unsigned integer of at most 8 bytes.
    pub fn u64(self) -> Result<u64, RlpError> {
        let b = self.bytes()?;
        if b.len() > 8 || b.first() == Some(&0) {
            return Err(RlpError::BadInteger);
        }
        Ok(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    /// A canonical unsigned integer of at most 32 bytes.
    pub fn u256(self) -> Result<U256, RlpError> {
        let b = self.bytes()?;
        if b.len() > 32 || b.first() == Some(&0) {
            return Err(RlpError::BadInteger);
        }
        U256::from_be_slice(b).ok_or(RlpError::BadInteger)
    }

    /// A boolean: `0x80` is false, `0x01` is true (go-ethereum's rule).
    pub fn bool(self) -> Result<bool, RlpError> {
        match self.u64()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(RlpError::BadInteger),
        }
    }
}

/// Walks the elements of a list payload.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListReader<'a> {
    rest: &'a [u8],
}

impl<'a> ListReader<'a> {
    /// The next element; [`RlpError::TooFewElements`] at the end of the list.
    pub fn next_item(&mut self) -> Result<Item<'a>, RlpError> {
        if self.rest.is_empty() {
            return Err(RlpError::TooFewElements);
        }
        let (item, rest) = split_item(self.rest)?;
        self.rest = rest;
        Ok(item)
    }

    /// The next element if any is left.
    pub fn next_opt(&mut self) -> Result<Option<Item<'a>>, RlpError> {
        if self.rest.is_empty() {
            Ok(None)
        } else {
            self.next_item().map(Some)
        }
    }

    /// True when every element was read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Requires that no element is left.
    pub fn finish(self) -> Result<(), RlpError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(RlpError::TooManyElements)
        }
    }
}

/// Appends the header of a string or list whose payload is `len` bytes.
pub(crate) fn put_header(out: &mut Vec<u8>, is_list: bool, len: usize) {
    let base: u8 = if is_list { 0xc0 } else { 0x80 };
    if len <= 55 {
        // `len` ≤ 55, so the sum stays within one byte.
        out.push(base + len as u8);
    } else {
        let be = (len as u64).to_be_bytes();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        let digits = be.get(skip..).unwrap_or(&[]);
        out.push(base + 55 + digits.len() as u8);
        out.extend_from_slice(digits);
    }
}

/// Appends `bytes` as an RLP string.
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    match bytes {
        [b] if *b < 0x80 => out.push(*b),
        _ => {
            put_header(out, false, bytes.len());
            out.extend_from_slice(bytes);
        }
    }
}

/// Appends an unsigned integer (big-endian, no leading zeros; zero is the empty string).
pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    let be = v.to_be_bytes();
    let skip = be.iter().take_while(|&&b| b == 0).count();
    put_bytes(out, be.get(skip..).unwrap_or(&[]));
}

/// Appends a 256-bit unsigned integer.
pub(crate) fn put_u256(out: &mut Vec<u8>, v: &U256) {
    put_bytes(out, v.trimmed());
}

/// Appends a boolean as 0 or 1.
pub(crate) fn put_bool(out: &mut Vec<u8>, v: bool) {
    put_u64(out, u64::from(v));
}

/// Appends a list whose encoded elements are `payload`.
pub(crate) fn put_list(out: &mut Vec<u8>, payload: &[u8]) {
    put_header(out, true, payload.len());
    out.extend_from_slice(payload);
}

/// Wraps an encoded list payload into a fresh list.
pub(crate) fn list(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 9);
    put_list(&mut out, payload);
    out
}

/// RLP of an unsigned integer, as used for trie keys.
pub(crate) fn u64_rlp(v: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    put_u64(&mut out, v);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_byte_in_long_form_is_rejected() {
        assert_eq!(single_item(&[0x81, 0x05]), Err(RlpError::NonCanonical));
        assert!(single_item(&[0x81, 0x80]).is_ok());
    }

    #[test]
    fn needless_long_length_is_rejected() {
        assert_eq!(
            single_item(&[0xb8, 0x01, 0xff]),
            Err(RlpError::NonCanonical)
        );
        assert_eq!(single_item(&[0xf8, 0x00]), Err(RlpError::NonCanonical));
    }

    #[test]
    fn integers_with_leading_zero_are_rejected() {
        let item = single_item(&[0x82, 0x00, 0x01]).unwrap();
        assert_eq!(item.u64(), Err(RlpError::BadInteger));
    }

    #[test]
    fn huge_declared_length_is_truncated_not_a_panic() {
        let buf = [0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(single_item(&buf), Err(RlpError::Truncated));
    }

    #[test]
    fn long_string_round_trips() {
        let data = vec![7u8; 300];
        let mut out = Vec::new();
        put_bytes(&mut out, &data);
        assert_eq!(&out[..3], &[0xb9, 0x01, 0x2c]);
        assert_eq!(single_item(&out).unwrap().bytes().unwrap(), &data[..]);
    }
}
