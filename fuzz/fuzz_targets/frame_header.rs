//! `FrameCodec::read_header` with fixed secrets: arbitrary 32-byte headers (and buffers of the
//! wrong length), and genuine headers with fuzzer-chosen bits flipped.
//!
//! Invariants: never panics; a buffer that is not 32 bytes is a `BufferLength` error; a
//! genuine header opens to the size it was sealed with, and a modified one never opens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paxeer_p2p_core::rlpx::frame::{FrameError, HEADER_LEN, MAX_FRAME_SIZE};
use paxeer_p2p_fuzz::codec_pair;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (mut writer, mut reader) = codec_pair();
    if mode % 2 == 0 {
        // Arbitrary bytes, 32 at a time, as a stream of headers.
        let mut buf = rest.to_vec();
        for chunk in buf.chunks_mut(HEADER_LEN) {
            let len = chunk.len();
            match reader.read_header(chunk) {
                Ok(size) => assert!(size <= MAX_FRAME_SIZE),
                Err(FrameError::BufferLength) => assert_ne!(len, HEADER_LEN),
                Err(e) => assert_eq!(e, FrameError::HeaderMac),
            }
        }
        return;
    }
    // A genuine frame of a fuzzer-chosen size (content zero), header XORed with a mask.
    let [s0, s1, mask @ ..] = rest else {
        return;
    };
    let size = usize::from(*s0) << 8 | usize::from(*s1);
    let content = vec![0u8; size];
    let mut wire = Vec::new();
    if let Err(e) = writer.write_frame(&[&content], &mut wire) {
        panic!("sealing {size} bytes: {e}");
    }
    let mut changed = false;
    for (b, m) in wire.iter_mut().zip(mask.iter()).take(HEADER_LEN) {
        *b ^= m;
        changed |= *m != 0;
    }
    match reader.read_header(&mut wire[..HEADER_LEN]) {
        Ok(got) => {
            assert!(!changed, "modified header accepted");
            assert_eq!(got, size);
        }
        Err(e) => {
            assert!(changed, "genuine header rejected: {e}");
            assert_eq!(e, FrameError::HeaderMac);
        }
    }
});
