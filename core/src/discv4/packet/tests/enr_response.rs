//! ENRResponse cases beyond the generic ones: the record is carried verbatim, extra elements
//! are ignored, and a record that `crate::enr` rejects makes the packet malformed.

use rlp::RlpStream;

use super::*;

/// `[request-hash, record]` followed by `extra` raw items.
fn enr_response_body(p: &Packet, extra: &[&[u8]]) -> Vec<u8> {
    let Packet::EnrResponse(r) = p else { panic!() };
    let mut s = RlpStream::new_list(2 + extra.len());
    s.append(&&r.request_hash[..]);
    s.append_raw(&r.record.encode(), 1);
    for e in extra {
        s.append_raw(e, 1);
    }
    s.out().to_vec()
}

#[test]
fn enr_response_round_trips_and_carries_the_record_verbatim() {
    let p = sample_enr_response();
    let (datagram, hash) = encode(&p, &key(1));
    assert_eq!(
        &datagram[HEADER_BYTES + 1..],
        &enr_response_body(&p, &[])[..]
    );
    let d = decode(&datagram).unwrap();
    assert_eq!((d.packet, d.hash, d.sender), (p, hash, peer_id_of(&key(1))));
}

#[test]
fn enr_response_with_extra_elements_and_trailing_bytes_is_accepted() {
    let p = sample_enr_response();
    let mut body = enr_response_body(&p, &[&[0x01], &[0xc2, 0x02, 0x03]]);
    body.extend_from_slice(&[0xde, 0xad]);
    assert_eq!(decode_sealed(6, &body).unwrap().packet, p);
}

#[test]
fn enr_response_with_an_invalid_record_is_malformed() {
    let p = sample_enr_response();
    let Packet::EnrResponse(r) = &p else { panic!() };
    let record = r.record.encode();
    // Flip a byte of the record's signature (after the list and string headers).
    let mut forged = record.clone();
    forged[5] ^= 1;
    let mut s = RlpStream::new_list(2);
    s.append(&&r.request_hash[..]);
    s.append_raw(&forged, 1);
    assert_eq!(
        decode_sealed(6, &s.out()),
        Err(PacketError::Malformed("enrresponse"))
    );
    // A record that is not a list, and a short request hash.
    let mut s = RlpStream::new_list(2);
    s.append(&&r.request_hash[..]);
    s.append(&&record[..]);
    assert_eq!(
        decode_sealed(6, &s.out()),
        Err(PacketError::Malformed("enrresponse"))
    );
    let mut s = RlpStream::new_list(2);
    s.append(&&r.request_hash[..31]);
    s.append_raw(&record, 1);
    assert_eq!(
        decode_sealed(6, &s.out()),
        Err(PacketError::Malformed("enrresponse"))
    );
}
