//! Frame codec tests.
//!
//! Vectors transcribed from `shared/vectors/rlpx_frame.json` (go-ethereum
//! `p2p/rlpx/rlpx_test.go` TestFrameReadWrite at 02b73d4e, plus frames computed locally by an
//! independent implementation from the upstream Auth2/Ack2 secrets) and
//! `shared/vectors/rlpx_handshake.json` (go-ethereum `p2p/rlpx/rlpx_test.go` / EIP-8).

use super::*;
use crate::crypto::keccak::keccak256;
use crate::rlpx::secrets::SecretInputs;
use crate::types::PeerId;
use proptest::prelude::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn h32(s: &str) -> [u8; 32] {
    h(s).try_into().unwrap()
}

/// go-ethereum's fake MAC hash of the golden frame: writes are ignored and the sum is always
/// 32 bytes of 0x01.
struct FakeHash;

impl MacHash for FakeHash {
    fn update(&mut self, _data: &[u8]) {}
    fn digest(&self) -> [u8; 32] {
        [1; 32]
    }
}

/// Reads one complete frame from the front of `wire`, returning its content and the rest.
fn read_frame<H: MacHash>(
    c: &mut Codec<H>,
    wire: &mut [u8],
) -> Result<(Vec<u8>, usize), FrameError> {
    let (header, rest) = wire.split_at_mut(HEADER_LEN);
    let size = c.read_header(header)?;
    let n = body_len(size);
    let content = c.read_body(&mut rest[..n], size)?.to_vec();
    Ok((content, HEADER_LEN + n))
}

// ---- golden frame (TestFrameReadWrite), fake MAC hash ----

const GOLDEN_FRAME: &str = concat!(
    "00828ddae471818bb0bfa6b551d1cb42",
    "01010101010101010101010101010101",
    "ba628a4ba590cb43f7848f41c4382885",
    "01010101010101010101010101010101"
);
const GOLDEN_HEADER_PLAINTEXT: &str = "000006c2808000000000000000000000";
const GOLDEN_FRAME_PLAINTEXT: &str = "08c40102030400000000000000000000";

fn golden_codec() -> Codec<FakeHash> {
    // aes-secret = mac-secret = keccak256("").
    let k = keccak256(b"");
    Codec::from_parts(&k, &k, FakeHash, FakeHash)
}

#[test]
fn golden_frame_write_matches_geth() {
    let mut c = golden_codec();
    let mut out = Vec::new();
    c.write_frame(&[&[0x08], &h("c401020304")], &mut out)
        .unwrap();
    assert_eq!(hex::encode(&out), GOLDEN_FRAME);
}

#[test]
fn golden_frame_plaintexts_use_one_keystream() {
    // Decrypt the golden ciphertexts with one AES-CTR stream: header then body.
    let k = keccak256(b"");
    let mut ctr = Aes256Ctr::new((&k).into(), (&[0u8; 16]).into());
    let wire = h(GOLDEN_FRAME);
    let mut header = wire[..16].to_vec();
    let mut body = wire[32..48].to_vec();
    ctr.apply_keystream(&mut header);
    ctr.apply_keystream(&mut body);
    assert_eq!(hex::encode(header), GOLDEN_HEADER_PLAINTEXT);
    assert_eq!(hex::encode(body), GOLDEN_FRAME_PLAINTEXT);
}

#[test]
fn golden_frame_reads_back() {
    let mut c = golden_codec();
    let mut wire = h(GOLDEN_FRAME);
    let (content, used) = read_frame(&mut c, &mut wire).unwrap();
    assert_eq!(hex::encode(content), "08c401020304");
    assert_eq!(used, wire.len());
}

// ---- frames derived from the Auth2/Ack2 secrets (computed locally, not upstream) ----

/// Auth2 packet (EIP-8, with size prefix) from rlpx_handshake.json (upstream).
const AUTH2: &str = concat!(
    "01b304ab7578555167be8154d5cc456f567d5ba302662433674222360f08d5f1534499d3678b513b0fca474f",
    "3a514b18e75683032eb63fccb16c156dc6eb2c0b1593f0d84ac74f6e475f1b8d56116b849634a8c458705bf8",
    "3a626ea0384d4d7341aae591fae42ce6bd5c850bfe0b999a694a49bbbaf3ef6cda61110601d3b4c02ab6c304",
    "37257a6e0117792631a4b47c1d52fc0f8f89caadeb7d02770bf999cc147d2df3b62e1ffb2c9d8c125a398486",
    "5356266bca11ce7d3a688663a51d82defaa8aad69da39ab6d5470e81ec5f2a7a47fb865ff7cca21516f9299a",
    "07b1bc63ba56c7a1a892112841ca44b6e0034dee70c9adabc15d76a54f443593fafdc3b27af8059703f88928",
    "e199cb122362a4b35f62386da7caad09c001edaeb5f8a06d2b26fb6cb93c52a9fca51853b68193916982358f",
    "e1e5369e249875bb8d0d0ec36f917bc5e1eafd5896d46bd61ff23f1a863a8a8dcd54c7b109b771c8e61ec9c8",
    "908c733c0263440e2aa067241aaa433f0bb053c7b31a838504b148f570c0ad62837129e547678c5190341e4f",
    "1693956c3bf7678318e2d5b5340c9e488eefea198576344afbdf66db5f51204a6961a63ce072c8926c"
);

/// Ack2 packet (EIP-8, with size prefix) from rlpx_handshake.json (upstream).
const ACK2: &str = concat!(
    "01ea0451958701280a56482929d3b0757da8f7fbe5286784beead59d95089c217c9b917788989470b0e330cc",
    "6e4fb383c0340ed85fab836ec9fb8a49672712aeabbdfd1e837c1ff4cace34311cd7f4de05d59279e3524ab2",
    "6ef753a0095637ac88f2b499b9914b5f64e143eae548a1066e14cd2f4bd7f814c4652f11b254f8a2d0191e2f",
    "5546fae6055694aed14d906df79ad3b407d94692694e259191cde171ad542fc588fa2b7333313d82a9f88733",
    "2f1dfc36cea03f831cb9a23fea05b33deb999e85489e645f6aab1872475d488d7bd6c7c120caf28dbfc5d683",
    "3888155ed69d34dbdc39c1f299be1057810f34fbe754d021bfca14dc989753d61c413d261934e1a9c67ee060",
    "a25eefb54e81a4d14baff922180c395d3f998d70f46f6b58306f969627ae364497e73fc27f6d17ae45a413d3",
    "22cb8814276be6ddd13b885b201b943213656cde498fa0e9ddc8e0b8f8a53824fbd82254f3e2c17e8eaea009",
    "c38b4aa0a3f306e8797db43c25d68e86f262e564086f59a2fc60511c42abfb3057c247a8a8fe4fb3ccbadde1",
    "7514b7ac8000cdb6a912778426260c47f38919a91f25f4b5ffb455d6aaaf150f7e5529c100ce62d6d92826a7",
    "1778d809bdf60232ae21ce8a437eca8223f45ac37f6487452ce626f549b3b5fdee26afd2072e4bc75833c246",
    "4c805246155289f4"
);
const NONCE_A: &str = "7e968bba13b6c50e2c4cd7f241cc0d64d1ac25c7f5952df231ac6a2bda8ee5d6";
const NONCE_B: &str = "559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd";
/// Intermediate value computed locally (rlpx_handshake.json), reproducing the upstream secrets.
const EPHEMERAL_SHARED: &str = "1a08ef840fa6b55e5b2630351aa45804cc16b48e526b64e6ee667b224967ef24";
/// Upstream (geth) derived secrets.
const AES_SECRET: &str = "80e8632c05fed6fc2a13b0f8d31a3cf645366239170ea067065aba8e28bac487";
const MAC_SECRET: &str = "2ea74ec5dae199227dff1af715362700e989d889d7a493cb0639691efb8e5f98";
const INGRESS_MAC_FOO: &str = "0c7ec6340062cc46f5e9f1e3cf86f8c8c403c5a0964f5df0ebd34a75ddc86db5";
const A_EGRESS_INIT: &str = "1876ff58fc175e0a177afd2044d57eff497080dc0386a382aa44d9eb2f182aab";
const A_INGRESS_INIT: &str = "7a076efd50d3771655f22190654053ba82f6f47f3123be6a4ba61df58845abc6";

/// (writer is A, rlp(code) ‖ payload, frame) in order.
const DERIVED_FRAMES: [(bool, &str, &str); 4] = [
    (
        true,
        "08c401020304",
        "f25926f27a7e8fa7ba4cbb3756ff0ca19f42a41b4755f5c38ad353abee06e37a3777d3dfefeae2c8e2a40120778b1d76cf23599d8234b933165d1b2bc4c8fa91",
    ),
    (
        true,
        "10c0",
        "c6b2916bb5cb17b2f98088cc80674b6995792c764de4820f16ac32383992f2efadac55b43df812cb24452f012951442be6a98b1755f2bb31033967869597dada",
    ),
    (
        true,
        "02c0",
        "1325342be201869edc3dd48d207af8ee22421932b42a62ca2d45467be75a6ba5cac7e208dba80d38e0c99b0908f50f0a1b6394ad7764b2901eeb8bc170800a04",
    ),
    (
        false,
        "08c401020304",
        "f25926f27a7e8fa7ba4cbb3756ff0ca109543909595a52962d730d0b682c31693777d3dfefeae2c8e2a40120778b1d76d2ad19bb4ef20bd47771484ed6e78d2e",
    ),
];

fn handshake_secrets(initiator: bool) -> Secrets {
    let auth = h(AUTH2);
    let ack = h(ACK2);
    Secrets::derive(&SecretInputs {
        initiator,
        ephemeral_shared: h32(EPHEMERAL_SHARED),
        initiator_nonce: h32(NONCE_A),
        recipient_nonce: h32(NONCE_B),
        auth_packet: &auth,
        ack_packet: &ack,
        remote: PeerId([0x11; 64]),
    })
}

#[test]
fn handshake_secrets_match_upstream() {
    let a = handshake_secrets(true);
    let b = handshake_secrets(false);
    for s in [&a, &b] {
        assert_eq!(hex::encode(s.aes), AES_SECRET);
        assert_eq!(hex::encode(s.mac), MAC_SECRET);
    }
    assert_eq!(hex::encode(a.egress_mac.digest()), A_EGRESS_INIT);
    assert_eq!(hex::encode(a.ingress_mac.digest()), A_INGRESS_INIT);
    assert_eq!(hex::encode(b.ingress_mac.digest()), A_EGRESS_INIT);
    assert_eq!(hex::encode(b.egress_mac.digest()), A_INGRESS_INIT);
    let mut foo = b.ingress_mac.clone();
    foo.update(b"foo");
    assert_eq!(hex::encode(foo.digest()), INGRESS_MAC_FOO);
}

#[test]
fn derived_frames_match_local_vectors() {
    let mut a = FrameCodec::new(&handshake_secrets(true));
    let mut b = FrameCodec::new(&handshake_secrets(false));
    for (i, (from_a, content, frame)) in DERIVED_FRAMES.iter().enumerate() {
        let content = h(content);
        let (writer, reader) = if *from_a {
            (&mut a, &mut b)
        } else {
            (&mut b, &mut a)
        };
        let mut wire = Vec::new();
        writer.write_frame(&[&content], &mut wire).unwrap();
        assert_eq!(hex::encode(&wire), *frame, "frame {i}");
        let (got, used) = read_frame(&mut reader.inner, &mut wire).unwrap();
        assert_eq!(got, content, "frame {i}");
        assert_eq!(used, wire.len());
    }
}

#[test]
fn derived_frames_read_from_vector_bytes() {
    // Reading the transcribed bytes directly (not our own output).
    let mut a = FrameCodec::new(&handshake_secrets(true));
    let mut b = FrameCodec::new(&handshake_secrets(false));
    for (from_a, content, frame) in DERIVED_FRAMES {
        let reader = if from_a { &mut b } else { &mut a };
        let mut wire = h(frame);
        let (got, _) = read_frame(&mut reader.inner, &mut wire).unwrap();
        assert_eq!(hex::encode(got), content);
    }
}

// ---- framing rules ----

#[test]
fn body_len_pads_to_16_and_adds_mac() {
    assert_eq!(body_len(0), 16);
    assert_eq!(body_len(1), 32);
    assert_eq!(body_len(16), 32);
    assert_eq!(body_len(17), 48);
    assert_eq!(body_len(MAX_FRAME_SIZE), (1 << 24) + 16);
    assert_eq!(body_len(usize::MAX), usize::MAX);
}

/// Two codecs over mirrored secrets: `a`'s egress is `b`'s ingress and vice versa.
fn mirrored(
    aes: [u8; 32],
    mac: [u8; 32],
    seed_ab: &[u8],
    seed_ba: &[u8],
) -> (FrameCodec, FrameCodec) {
    let mut ab = KeccakState::new();
    ab.update(seed_ab);
    let mut ba = KeccakState::new();
    ba.update(seed_ba);
    let a = Secrets {
        remote: PeerId([2; 64]),
        aes,
        mac,
        egress_mac: ab.clone(),
        ingress_mac: ba.clone(),
    };
    let b = Secrets {
        remote: PeerId([1; 64]),
        aes,
        mac,
        egress_mac: ba,
        ingress_mac: ab,
    };
    (FrameCodec::new(&a), FrameCodec::new(&b))
}

fn pair() -> (FrameCodec, FrameCodec) {
    mirrored([7; 32], [9; 32], b"a to b", b"b to a")
}

#[test]
fn header_carries_size_and_header_data() {
    let (mut a, _) = pair();
    let mut wire = Vec::new();
    a.write_frame(&[b"\x10", b"hello"], &mut wire).unwrap();
    assert_eq!(wire.len(), HEADER_LEN + body_len(6));
    let mut ctr = Aes256Ctr::new((&[7u8; 32]).into(), (&[0u8; 16]).into());
    let mut plain = wire[..16].to_vec();
    ctr.apply_keystream(&mut plain);
    assert_eq!(hex::encode(plain), "000006c2808000000000000000000000");
    let mut body = wire[32..48].to_vec();
    ctr.apply_keystream(&mut body);
    assert_eq!(&body[..6], b"\x10hello");
    assert!(body[6..].iter().all(|&x| x == 0), "zero padding");
}

#[test]
fn parts_are_concatenated() {
    let (mut a1, mut b1) = pair();
    let (mut a2, _) = pair();
    let mut w1 = Vec::new();
    let mut w2 = Vec::new();
    a1.write_frame(&[b"\x03", b"", b"abc", b"defgh"], &mut w1)
        .unwrap();
    a2.write_frame(&[b"\x03abcdefgh"], &mut w2).unwrap();
    assert_eq!(w1, w2);
    let (got, _) = read_frame(&mut b1.inner, &mut w1).unwrap();
    assert_eq!(got, b"\x03abcdefgh");
}

#[test]
fn write_appends_to_existing_output() {
    let (mut a, mut b) = pair();
    let mut out = b"prefix".to_vec();
    a.write_frame(&[b"\x01xyz"], &mut out).unwrap();
    assert_eq!(&out[..6], b"prefix");
    let (got, _) = read_frame(&mut b.inner, &mut out[6..]).unwrap();
    assert_eq!(got, b"\x01xyz");
}

#[test]
fn too_large_frame_is_rejected_without_side_effects() {
    let (mut a, mut b) = pair();
    let mib = vec![0u8; 1 << 20];
    let parts: Vec<&[u8]> = std::iter::repeat_n(&mib[..], 16)
        .chain([&b"x"[..]])
        .collect();
    let mut out = b"keep".to_vec();
    assert_eq!(
        a.write_frame(&parts, &mut out),
        Err(FrameError::TooLarge((1 << 24) + 1))
    );
    assert_eq!(out, b"keep");
    // The state did not move: the next frame still reads back.
    let mut wire = Vec::new();
    a.write_frame(&[b"\x02\xc0"], &mut wire).unwrap();
    let (got, _) = read_frame(&mut b.inner, &mut wire).unwrap();
    assert_eq!(got, b"\x02\xc0");
}

#[test]
fn wrong_buffer_lengths_are_rejected() {
    let (mut a, mut b) = pair();
    let mut wire = Vec::new();
    a.write_frame(&[b"\x02\xc0"], &mut wire).unwrap();
    assert_eq!(b.read_header(&mut [0u8; 31]), Err(FrameError::BufferLength));
    assert_eq!(b.read_header(&mut [0u8; 33]), Err(FrameError::BufferLength));
    assert_eq!(b.read_header(&mut []), Err(FrameError::BufferLength));
    // Rejected lengths leave the state alone: the real frame still reads.
    let (header, body) = wire.split_at_mut(HEADER_LEN);
    let size = b.read_header(header).unwrap();
    assert_eq!(size, 2);
    assert_eq!(
        b.read_body(&mut [0u8; 31], size),
        Err(FrameError::BufferLength)
    );
    assert_eq!(
        b.read_body(&mut [0u8; 33], size),
        Err(FrameError::BufferLength)
    );
    assert_eq!(
        b.read_body(&mut [0u8; 32], MAX_FRAME_SIZE + 1),
        Err(FrameError::BufferLength)
    );
    assert_eq!(b.read_body(body, size).unwrap(), b"\x02\xc0");
}

#[test]
fn flipped_header_bit_fails_header_mac() {
    for bit in [0, 7, 8 * 15, 8 * 16, 8 * 31 + 7] {
        let (mut a, mut b) = pair();
        let mut wire = Vec::new();
        a.write_frame(&[b"\x08\xc4\x01\x02\x03\x04"], &mut wire)
            .unwrap();
        wire[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            b.read_header(&mut wire[..HEADER_LEN]),
            Err(FrameError::HeaderMac),
            "bit {bit}"
        );
    }
}

#[test]
fn flipped_body_bit_fails_frame_mac() {
    let body_bits = 8 * body_len(6);
    for bit in [0, 5, 8 * 6, 8 * 15 + 7, 8 * 16, body_bits - 1] {
        let (mut a, mut b) = pair();
        let mut wire = Vec::new();
        a.write_frame(&[b"\x08\xc4\x01\x02\x03\x04"], &mut wire)
            .unwrap();
        wire[HEADER_LEN + bit / 8] ^= 1 << (bit % 8);
        let (header, body) = wire.split_at_mut(HEADER_LEN);
        let size = b.read_header(header).unwrap();
        assert_eq!(
            b.read_body(body, size),
            Err(FrameError::FrameMac),
            "bit {bit}"
        );
    }
}

#[test]
fn mac_is_checked_before_decrypting() {
    // A rejected body is left untouched (still ciphertext).
    let (mut a, mut b) = pair();
    let mut wire = Vec::new();
    a.write_frame(&[b"\x08secret"], &mut wire).unwrap();
    let last = wire.len() - 1;
    wire[last] ^= 0x80;
    let (header, body) = wire.split_at_mut(HEADER_LEN);
    let mut header_copy = header.to_vec();
    header_copy[0] ^= 1;
    let before = header_copy.clone();
    let (_, mut b2) = pair();
    assert_eq!(b2.read_header(&mut header_copy), Err(FrameError::HeaderMac));
    assert_eq!(header_copy, before);
    let size = b.read_header(header).unwrap();
    let body_before = body.to_vec();
    assert_eq!(b.read_body(body, size), Err(FrameError::FrameMac));
    assert_eq!(body, &body_before[..]);
}

#[test]
fn kept_mac_digest_equals_a_fresh_digest_after_every_frame() {
    // The header MAC starts from the digest of the state the previous frame left; the codec
    // keeps that digest instead of recomputing it. It must stay equal to a fresh one, also
    // after a rejected header or body (both still advance the state).
    let fresh = |m: &Mac<KeccakState>| first16(&m.hash.digest());
    let (mut a, mut b) = pair();
    assert_eq!(a.inner.egress_mac.digest16, fresh(&a.inner.egress_mac));
    for len in [0usize, 1, 31, 1000] {
        let mut wire = Vec::new();
        a.write_frame(&[&vec![3u8; len]], &mut wire).unwrap();
        read_frame(&mut b.inner, &mut wire).unwrap();
        assert_eq!(a.inner.egress_mac.digest16, fresh(&a.inner.egress_mac));
        assert_eq!(b.inner.ingress_mac.digest16, fresh(&b.inner.ingress_mac));
    }
    let mut wire = Vec::new();
    a.write_frame(&[b"x"], &mut wire).unwrap();
    let (header, body) = wire.split_at_mut(HEADER_LEN);
    let size = b.read_header(header).unwrap();
    body[0] ^= 1;
    assert_eq!(b.read_body(body, size), Err(FrameError::FrameMac));
    assert_eq!(b.inner.ingress_mac.digest16, fresh(&b.inner.ingress_mac));
    let mut bad = [0u8; HEADER_LEN];
    assert_eq!(b.read_header(&mut bad), Err(FrameError::HeaderMac));
    assert_eq!(b.inner.ingress_mac.digest16, fresh(&b.inner.ingress_mac));
}

#[test]
fn empty_frame_round_trips() {
    let (mut a, mut b) = pair();
    let mut wire = Vec::new();
    a.write_frame(&[], &mut wire).unwrap();
    assert_eq!(wire.len(), HEADER_LEN + MAC_LEN);
    let (got, _) = read_frame(&mut b.inner, &mut wire).unwrap();
    assert!(got.is_empty());
}

proptest! {
    #[test]
    fn frames_round_trip_in_both_directions(
        aes in any::<[u8; 32]>(),
        mac in any::<[u8; 32]>(),
        seeds in any::<([u8; 8], [u8; 8])>(),
        msgs in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..600)), 1..12),
    ) {
        let (mut a, mut b) = mirrored(aes, mac, &seeds.0, &seeds.1);
        // Several frames queued on one wire per direction, read after writing.
        let mut to_b = Vec::new();
        let mut to_a = Vec::new();
        let mut sent_b = Vec::new();
        let mut sent_a = Vec::new();
        for (from_a, m) in &msgs {
            let (split1, split2) = m.split_at(m.len() / 3);
            if *from_a {
                a.write_frame(&[split1, split2], &mut to_b).unwrap();
                sent_b.push(m.clone());
            } else {
                b.write_frame(&[m.as_slice()], &mut to_a).unwrap();
                sent_a.push(m.clone());
            }
        }
        for (reader, wire, sent) in [(&mut b, &mut to_b, &sent_b), (&mut a, &mut to_a, &sent_a)] {
            let mut pos = 0;
            for m in sent {
                let (got, used) = read_frame(&mut reader.inner, &mut wire[pos..]).unwrap();
                prop_assert_eq!(&got, m);
                pos += used;
            }
            prop_assert_eq!(pos, wire.len());
        }
    }

}

proptest! {
    // Debug-build Keccak over tens of KiB is slow; fewer cases suffice for size coverage.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn large_frames_round_trip(len in 0usize..70_000, n in 1usize..3) {
        let (mut a, mut b) = pair();
        let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
        for _ in 0..n {
            let mut wire = Vec::new();
            a.write_frame(&[&msg], &mut wire).unwrap();
            let (got, used) = read_frame(&mut b.inner, &mut wire).unwrap();
            prop_assert_eq!(got, msg.clone());
            prop_assert_eq!(used, wire.len());
        }
    }

}

proptest! {
    #[test]
    fn arbitrary_input_never_panics(
        header in prop::collection::vec(any::<u8>(), 0..40),
        body in prop::collection::vec(any::<u8>(), 0..100),
        size in any::<usize>(),
        small_size in 0usize..80,
    ) {
        let (_, mut b) = pair();
        let mut header = header;
        let _ = b.read_header(&mut header);
        let mut body1 = body.clone();
        let _ = b.read_body(&mut body1, size);
        let mut body2 = body;
        let _ = b.read_body(&mut body2, small_size);
        // A correctly sized but garbage body.
        let mut body3 = vec![0xa5; body_len(small_size)];
        let _ = b.read_body(&mut body3, small_size);
    }
}
