//! A strict, total RLP reader and the few encoders a record needs.
//!
//! Records are small (≤ 300 bytes) and their values must be kept byte-for-byte, so we walk
//! items by hand instead of through the `rlp` crate, whose iterator stops silently at the first
//! malformed item. Only canonical encodings are accepted, as go-ethereum's `rlp` decoder
//! requires (`ErrCanonSize`): a single byte below `0x80` must encode as itself, and long-form
//! lengths must have no leading zero byte and be at least 56.

/// One RLP item inside a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Item<'a> {
    /// The whole item: header and payload.
    pub raw: &'a [u8],
    /// The payload: a string's bytes or a list's concatenated items.
    pub payload: &'a [u8],
    /// Whether the item is a list.
    pub is_list: bool,
}

/// Largest payload whose length fits in the header byte.
const SHORT_MAX_LEN: usize = 55;

/// Splits the first item off `buf`, returning it and the bytes after it.
pub(super) fn split_first(buf: &[u8]) -> Result<(Item<'_>, &[u8]), &'static str> {
    let (&first, after_prefix) = buf.split_first().ok_or("unexpected end of input")?;
    let (header_len, payload_len, is_list) = match first {
        0x00..=0x7f => {
            let (raw, rest) = buf.split_at(1);
            let item = Item {
                raw,
                payload: raw,
                is_list: false,
            };
            return Ok((item, rest));
        }
        0x80..=0xb7 => (1, usize::from(first - 0x80), false),
        0xb8..=0xbf => (
            1 + usize::from(first - 0xb7),
            long_len(after_prefix, first - 0xb7)?,
            false,
        ),
        0xc0..=0xf7 => (1, usize::from(first - 0xc0), true),
        0xf8..=0xff => (
            1 + usize::from(first - 0xf7),
            long_len(after_prefix, first - 0xf7)?,
            true,
        ),
    };
    let total = header_len
        .checked_add(payload_len)
        .ok_or("item length overflows")?;
    if buf.len() < total {
        return Err("item runs past the end of input");
    }
    let (raw, rest) = buf.split_at(total);
    let payload = raw
        .get(header_len..)
        .ok_or("item runs past the end of input")?;
    if !is_list && payload_len == 1 && payload.first().is_some_and(|&b| b < 0x80) {
        return Err("non-canonical single byte string");
    }
    Ok((
        Item {
            raw,
            payload,
            is_list,
        },
        rest,
    ))
}

/// Reads a big-endian long-form length of `len_of_len` bytes from the front of `buf`.
fn long_len(buf: &[u8], len_of_len: u8) -> Result<usize, &'static str> {
    let bytes = buf
        .get(..usize::from(len_of_len))
        .ok_or("length runs past the end of input")?;
    if bytes.first() == Some(&0) {
        return Err("non-canonical length with leading zero");
    }
    let mut len: u64 = 0;
    for &b in bytes {
        // At most 8 bytes, so this never overflows.
        len = (len << 8) | u64::from(b);
    }
    let len = usize::try_from(len).map_err(|_| "item length overflows")?;
    if len <= SHORT_MAX_LEN {
        return Err("non-canonical long-form length");
    }
    Ok(len)
}

/// Parses `buf` as exactly one item (no trailing bytes).
pub(super) fn single(buf: &[u8]) -> Result<Item<'_>, &'static str> {
    let (item, rest) = split_first(buf)?;
    if !rest.is_empty() {
        return Err("trailing bytes after item");
    }
    Ok(item)
}

/// The items of a list payload, in order.
pub(super) fn list_items(mut payload: &[u8]) -> Result<Vec<Item<'_>>, &'static str> {
    let mut items = Vec::new();
    while !payload.is_empty() {
        let (item, rest) = split_first(payload)?;
        items.push(item);
        payload = rest;
    }
    Ok(items)
}

/// A canonical unsigned integer: a string of at most 8 bytes without leading zeros.
pub(super) fn uint(item: &Item<'_>) -> Option<u64> {
    if item.is_list || item.payload.len() > 8 || item.payload.first() == Some(&0) {
        return None;
    }
    Some(
        item.payload
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    )
}

/// The bytes of a string item (not a list).
pub(super) fn string<'a>(item: &Item<'a>) -> Option<&'a [u8]> {
    (!item.is_list).then_some(item.payload)
}

/// Appends the header of an item whose payload is `len` bytes.
pub(super) fn put_header(out: &mut Vec<u8>, len: usize, is_list: bool) {
    let (short, long) = if is_list {
        (0xc0u8, 0xf7u8)
    } else {
        (0x80, 0xb7)
    };
    if len <= SHORT_MAX_LEN {
        // len ≤ 55, so it fits in the byte.
        out.push(short + len as u8);
    } else {
        let be = (len as u64).to_be_bytes();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        let digits = be.get(skip..).unwrap_or(&[]);
        // 1 ≤ digits.len() ≤ 8.
        out.push(long + digits.len() as u8);
        out.extend_from_slice(digits);
    }
}

/// Appends `data` as an RLP string.
pub(super) fn put_bytes(out: &mut Vec<u8>, data: &[u8]) {
    match data {
        [b] if *b < 0x80 => out.push(*b),
        _ => {
            put_header(out, data.len(), false);
            out.extend_from_slice(data);
        }
    }
}

/// Appends `v` as a canonical RLP unsigned integer.
pub(super) fn put_uint(out: &mut Vec<u8>, v: u64) {
    let be = v.to_be_bytes();
    let skip = be.iter().take_while(|&&b| b == 0).count();
    put_bytes(out, be.get(skip..).unwrap_or(&[]));
}

/// `data` encoded as an RLP string.
pub(super) fn bytes_item(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 9);
    put_bytes(&mut out, data);
    out
}

/// `v` encoded as an RLP unsigned integer.
pub(super) fn uint_item(v: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    put_uint(&mut out, v);
    out
}

/// A list around the already-encoded `payload`.
pub(super) fn wrap_list(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 9);
    put_header(&mut out, payload.len(), true);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn single_bytes_below_0x80_are_their_own_encoding() {
        let (item, rest) = split_first(&[0x05, 0xff]).unwrap();
        assert_eq!(item.payload, &[0x05]);
        assert_eq!(item.raw, &[0x05]);
        assert!(!item.is_list);
        assert_eq!(rest, &[0xff]);
    }

    #[test]
    fn non_canonical_encodings_are_rejected() {
        // 0x05 wrapped in a one-byte string header.
        assert!(split_first(&h("8105")).is_err());
        // Long form used for a 3-byte string.
        assert!(split_first(&h("b803616263")).is_err());
        // Long-form length with a leading zero.
        let mut v = h("b90038");
        v.extend(std::iter::repeat_n(0u8, 56));
        assert!(split_first(&v).is_err());
    }

    #[test]
    fn truncated_items_are_rejected() {
        assert!(split_first(&[]).is_err());
        assert!(split_first(&h("83aabb")).is_err());
        assert!(split_first(&h("b8")).is_err());
        assert!(split_first(&h("ffffffffffffffffff")).is_err());
        assert!(single(&h("c0c0")).is_err());
    }

    #[test]
    fn integers_must_be_canonical() {
        assert_eq!(uint(&single(&h("80")).unwrap()), Some(0));
        assert_eq!(uint(&single(&h("82765f")).unwrap()), Some(30303));
        assert_eq!(uint(&single(&h("00")).unwrap()), None);
        assert_eq!(uint(&single(&h("820001")).unwrap()), None);
        assert_eq!(uint(&single(&h("89010000000000000000")).unwrap()), None);
        assert_eq!(uint(&single(&h("c0")).unwrap()), None);
    }

    #[test]
    fn long_strings_and_lists_use_the_long_form() {
        let data = vec![0xaa; 56];
        let enc = bytes_item(&data);
        assert_eq!(enc.get(..2), Some(&[0xb8, 56][..]));
        assert_eq!(single(&enc).unwrap().payload, &data[..]);
        let list = wrap_list(&enc);
        assert_eq!(list.get(..2), Some(&[0xf8, 58][..]));
        let outer = single(&list).unwrap();
        assert!(outer.is_list);
        assert_eq!(list_items(outer.payload).unwrap().len(), 1);
    }

    proptest! {
        #[test]
        fn strings_and_uints_round_trip(data in proptest::collection::vec(any::<u8>(), 0..300), v in any::<u64>()) {
            let enc = bytes_item(&data);
            let item = single(&enc).unwrap();
            prop_assert_eq!(string(&item), Some(&data[..]));
            prop_assert_eq!(uint(&single(&uint_item(v)).unwrap()), Some(v));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(items) = list_items(&data) {
                let total: usize = items.iter().map(|i| i.raw.len()).sum();
                prop_assert_eq!(total, data.len());
            }
        }
    }
}
