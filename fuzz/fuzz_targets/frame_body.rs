//! `FrameCodec::read_body` with fixed secrets, after a genuine header: arbitrary body bytes
//! for an arbitrary announced size, and genuine bodies with fuzzer-chosen bits flipped.
//!
//! Invariants: never panics; a body of the wrong length is a `BufferLength` error; a genuine
//! frame opens to its content, and a modified one never opens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::rlpx::frame::{self, FrameError, HEADER_LEN};
use paxeer_p2p_fuzz::{codec_pair, read_frame};

fuzz_target!(|data: &[u8]| {
    let [mode, s0, s1, s2, rest @ ..] = data else {
        return;
    };
    let (mut writer, mut reader) = codec_pair();
    let announced = usize::from(*s0) << 16 | usize::from(*s1) << 8 | usize::from(*s2);
    if mode % 2 == 0 {
        // Bring the reader to the body of a genuine frame, then hand it arbitrary bytes.
        let mut wire = Vec::new();
        if let Err(e) = writer.write_frame(&[rest], &mut wire) {
            panic!("sealing: {e}");
        }
        match reader.read_header(&mut wire[..HEADER_LEN]) {
            Ok(size) => assert_eq!(size, rest.len()),
            Err(e) => panic!("genuine header rejected: {e}"),
        }
        let mut body = rest.to_vec();
        let len = body.len();
        match reader.read_body(&mut body, announced) {
            Ok(content) => {
                // Only the genuine body can pass the MAC.
                assert_eq!(len, frame::body_len(announced));
                assert_eq!(&wire[HEADER_LEN..], rest);
                assert_eq!(content.len(), announced);
            }
            Err(FrameError::BufferLength) => {
                assert!(len != frame::body_len(announced) || announced > frame::MAX_FRAME_SIZE)
            }
            Err(e) => assert_eq!(e, FrameError::FrameMac),
        }
        return;
    }
    // A genuine frame carrying `rest`, with the bits of `announced` (position, mask) flipped
    // in its body.
    let mut wire = Vec::new();
    if let Err(e) = writer.write_frame(&[rest], &mut wire) {
        panic!("sealing: {e}");
    }
    let body_len = wire.len() - HEADER_LEN;
    let pos = HEADER_LEN + (announced >> 8) % body_len;
    let mask = *s2;
    wire[pos] ^= mask;
    match read_frame(&mut reader, &mut wire) {
        Ok(Some((content, used))) => {
            assert_eq!(mask, 0, "modified body accepted");
            assert_eq!(used, wire.len());
            assert_eq!(content, rest);
        }
        Ok(None) => panic!("whole frame not read"),
        Err(e) => {
            assert_ne!(mask, 0, "genuine frame rejected: {e}");
            assert_eq!(e, FrameError::FrameMac);
        }
    }
});
