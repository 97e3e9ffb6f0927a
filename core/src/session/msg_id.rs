//! The RLP-encoded message id that starts every frame's content (`rlp(msg_id) ‖ payload`).

/// Encodes `id` as an RLP integer: returns the buffer and how many of its bytes are used.
pub fn encode(id: u64) -> ([u8; 9], usize) {
    let mut out = [0u8; 9];
    if id == 0 {
        out[0] = 0x80;
        return (out, 1);
    }
    if id < 0x80 {
        out[0] = id as u8;
        return (out, 1);
    }
    let bytes = id.to_be_bytes();
    let skip = (id.leading_zeros() / 8) as usize;
    let n = 8 - skip;
    out[0] = 0x80 + n as u8;
    for (dst, src) in out.iter_mut().skip(1).zip(bytes.iter().skip(skip)) {
        *dst = *src;
    }
    (out, 1 + n)
}

/// Splits frame content into (message id, payload). `None` if the prefix is not an RLP
/// integer of at most 8 bytes.
pub fn split(content: &[u8]) -> Option<(u64, &[u8])> {
    let (&first, rest) = content.split_first()?;
    match first {
        0x00..=0x7f => Some((u64::from(first), rest)),
        0x80 => Some((0, rest)),
        0x81..=0x88 => {
            let n = usize::from(first - 0x80);
            let (num, payload) = (rest.get(..n)?, rest.get(n..)?);
            let id = num.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            Some((id, payload))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        assert_eq!(&encode(0).0[..1], &[0x80]);
        assert_eq!(&encode(0x10).0[..1], &[0x10]);
        assert_eq!(&encode(0x80).0[..2], &[0x81, 0x80]);
        assert_eq!(&encode(0x1234).0[..3], &[0x82, 0x12, 0x34]);
    }

    #[test]
    fn list_prefix_is_rejected() {
        assert_eq!(split(&[0xc0]), None);
        assert_eq!(split(&[]), None);
        assert_eq!(split(&[0x82, 0x01]), None);
    }

    proptest! {
        #[test]
        fn round_trips(id in any::<u64>(), payload in proptest::collection::vec(any::<u8>(), 0..64)) {
            let (buf, n) = encode(id);
            let mut content = buf[..n].to_vec();
            content.extend_from_slice(&payload);
            let (got, rest) = split(&content).unwrap();
            prop_assert_eq!(got, id);
            prop_assert_eq!(rest, &payload[..]);
        }
    }
}
