//! RLPx frame seal/open throughput next to the raw primitives it is built from, measured in
//! the same run, and the Keccak-256 candidates behind `crypto::keccak`.
//!
//! For a frame of `n` content bytes (`p` = `n` padded to 16) the codec cannot do less than
//! AES-256-CTR over `p` bytes and Keccak absorbing the `p` ciphertext bytes, so the bound is
//! `bound/keccak256/n` + `bound/aes256ctr/n` (the one-shot hash also pays one final
//! permutation, which the frame needs too). The frame additionally pays a fixed cost per frame:
//! 16 header bytes of AES-CTR, two single-block AES encryptions, Keccak digests of the MAC
//! state (`keccak/digest`) and small absorbs. All sizes here are multiples of 16 (`p = n`).
//!
//! - `frame/seal/n`: `FrameCodec::write_frame` of `n` content bytes into a reused buffer.
//! - `frame/open/n`: `read_header` + `read_body` of frames sealed beforehand (sealing untimed).
//! - `bound/keccak256/n`, `bound/aes256ctr/n`: the primitives alone over `n` bytes (and
//!   `bound/keccak_absorb/n`: absorbing into a running state, without the final permutation).
//! - `keccak256/<impl>/n`: one-shot Keccak-256 per implementation; `keccak/digest/<impl>`:
//!   the non-consuming digest (clone + finalize) the frame MAC takes three times per frame.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes::cipher::{KeyIvInit, StreamCipher};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use paxeer_p2p_core::crypto::keccak::{keccak256, KeccakState};
use paxeer_p2p_core::crypto::keys::{generate_secret_key, peer_id_of};
use paxeer_p2p_core::rlpx::frame::{body_len, FrameCodec, HEADER_LEN};
use paxeer_p2p_core::rlpx::handshake::{AuthSent, ExpectAuth};
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::types::Seed;

/// Frame content sizes: 32 B, 1 KiB, 64 KiB, 1 MiB.
const SIZES: [usize; 4] = [32, 1024, 64 * 1024, 1024 * 1024];

/// Bytes of sealed frames prepared per timed batch in `frame/open`.
const OPEN_BATCH_BYTES: usize = 1024 * 1024;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

fn label(n: usize) -> String {
    match n {
        n if n >= 1024 * 1024 => format!("{}MiB", n / (1024 * 1024)),
        n if n >= 1024 => format!("{}KiB", n / 1024),
        n => format!("{n}B"),
    }
}

/// The two ends of a real handshake: what the first seals, the second opens.
fn codec_pair() -> (FrameCodec, FrameCodec) {
    let mut rng = MachineRng::new(Seed([3; 32]));
    let a = generate_secret_key(&mut rng);
    let b = generate_secret_key(&mut rng);
    let (initiator, auth) = AuthSent::new(&a, &peer_id_of(&b), &mut rng).unwrap();
    let at_b = ExpectAuth::new(b, &mut rng)
        .read_auth(&auth, &mut rng)
        .unwrap()
        .unwrap();
    let at_a = initiator.read_ack(&at_b.ack).unwrap().unwrap();
    (
        FrameCodec::new(&at_a.secrets),
        FrameCodec::new(&at_b.secrets),
    )
}

fn frames(c: &mut Criterion) {
    // Per size, the frame benchmarks and their bound back to back, so that load from other
    // processes on a shared machine hits both alike.
    for n in SIZES {
        frame_size(c, n);
        bound_size(c, n);
    }
}

fn frame_size(c: &mut Criterion, n: usize) {
    let mut g = c.benchmark_group("frame");
    let content = vec![0x5au8; n];
    g.throughput(Throughput::Bytes(n as u64));

    let (mut writer, _) = codec_pair();
    let mut out = Vec::with_capacity(HEADER_LEN + body_len(n));
    g.bench_function(BenchmarkId::new("seal", label(n)), |bench| {
        bench.iter(|| {
            out.clear();
            writer
                .write_frame(&[black_box(&content)], &mut out)
                .unwrap();
            black_box(out.len())
        })
    });

    let (mut writer, mut reader) = codec_pair();
    let wire_len = HEADER_LEN + body_len(n);
    let per_batch = (OPEN_BATCH_BYTES / wire_len).max(1) as u64;
    let mut wire = Vec::with_capacity(per_batch as usize * wire_len);
    g.bench_function(BenchmarkId::new("open", label(n)), |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let batch = left.min(per_batch);
                wire.clear();
                for _ in 0..batch {
                    writer.write_frame(&[&content], &mut wire).unwrap();
                }
                #[allow(clippy::disallowed_methods)] // benchmarks measure wall time
                let start = Instant::now();
                let mut rest = &mut wire[..];
                for _ in 0..batch {
                    let (header, tail) = rest.split_at_mut(HEADER_LEN);
                    let size = reader.read_header(header).unwrap();
                    let (body, tail) = tail.split_at_mut(body_len(size));
                    black_box(reader.read_body(body, size).unwrap());
                    rest = tail;
                }
                total += start.elapsed();
                left -= batch;
            }
            total
        })
    });
    g.finish();
}

fn bound_size(c: &mut Criterion, n: usize) {
    let mut g = c.benchmark_group("bound");
    let mut data = vec![0x5au8; n];
    g.throughput(Throughput::Bytes(n as u64));
    g.bench_function(BenchmarkId::new("keccak256", label(n)), |bench| {
        bench.iter(|| black_box(keccak256(black_box(&data))))
    });
    // The frame MAC absorbs into a running state; same work as the one-shot hash but for the
    // final permutation, which the frame pays too.
    let mut state = KeccakState::new();
    g.bench_function(BenchmarkId::new("keccak_absorb", label(n)), |bench| {
        bench.iter(|| state.update(black_box(&data)))
    });
    // One continuous keystream, as each direction of a session has.
    let mut cipher = Aes256Ctr::new(&[0x11; 32].into(), &[0; 16].into());
    g.bench_function(BenchmarkId::new("aes256ctr", label(n)), |bench| {
        bench.iter(|| {
            cipher.apply_keystream(black_box(&mut data));
        })
    });
    g.finish();
}

/// A Keccak-256 implementation under test.
trait Candidate {
    const NAME: &'static str;
    type State: Clone;
    fn new() -> Self::State;
    fn update(s: &mut Self::State, data: &[u8]);
    fn finalize(s: Self::State) -> [u8; 32];
    /// The digest so far, leaving the state usable (the MAC's access pattern).
    fn digest(s: &Self::State) -> [u8; 32] {
        Self::finalize(s.clone())
    }
    /// Keccak-256 of `data` in one call.
    fn oneshot(data: &[u8]) -> [u8; 32] {
        let mut s = Self::new();
        Self::update(&mut s, data);
        Self::finalize(s)
    }
}

struct Sha3Crate;
impl Candidate for Sha3Crate {
    const NAME: &'static str = "sha3";
    type State = sha3::Keccak256;
    fn new() -> Self::State {
        sha3::Digest::new()
    }
    fn update(s: &mut Self::State, data: &[u8]) {
        sha3::Digest::update(s, data);
    }
    fn finalize(s: Self::State) -> [u8; 32] {
        sha3::Digest::finalize(s).into()
    }
}

struct TinyKeccak;
impl Candidate for TinyKeccak {
    const NAME: &'static str = "tiny-keccak";
    type State = tiny_keccak::Keccak;
    fn new() -> Self::State {
        tiny_keccak::Keccak::v256()
    }
    fn update(s: &mut Self::State, data: &[u8]) {
        tiny_keccak::Hasher::update(s, data);
    }
    fn finalize(s: Self::State) -> [u8; 32] {
        let mut out = [0u8; 32];
        tiny_keccak::Hasher::finalize(s, &mut out);
        out
    }
}

struct KeccakAsm;
impl Candidate for KeccakAsm {
    const NAME: &'static str = "keccak-asm";
    type State = keccak_asm::Keccak256;
    fn new() -> Self::State {
        keccak_asm::Digest::new()
    }
    fn update(s: &mut Self::State, data: &[u8]) {
        keccak_asm::Digest::update(s, data);
    }
    fn finalize(s: Self::State) -> [u8; 32] {
        keccak_asm::Digest::finalize(s).into()
    }
}

/// Whatever `crypto::keccak` uses now.
struct Core;
impl Candidate for Core {
    const NAME: &'static str = "core";
    type State = KeccakState;
    fn new() -> Self::State {
        KeccakState::new()
    }
    fn update(s: &mut Self::State, data: &[u8]) {
        s.update(data);
    }
    fn finalize(s: Self::State) -> [u8; 32] {
        s.digest()
    }
    fn digest(s: &Self::State) -> [u8; 32] {
        s.digest()
    }
    fn oneshot(data: &[u8]) -> [u8; 32] {
        keccak256(data)
    }
}

fn candidate<C: Candidate>(c: &mut Criterion) {
    // Every candidate must compute Keccak-256, not something else.
    let mut s = C::new();
    C::update(&mut s, b"fo");
    assert_eq!(C::digest(&s), keccak256(b"fo"), "{}", C::NAME);
    C::update(&mut s, b"o");
    assert_eq!(C::finalize(s), keccak256(b"foo"), "{}", C::NAME);
    assert_eq!(C::oneshot(b""), keccak256(b""), "{}", C::NAME);

    let mut g = c.benchmark_group(format!("keccak256/{}", C::NAME));
    for n in SIZES {
        let data = vec![0x5au8; n];
        g.throughput(Throughput::Bytes(n as u64));
        g.bench_function(label(n), |bench| {
            bench.iter(|| black_box(C::oneshot(black_box(&data))))
        });
    }
    g.finish();

    // The MAC's digest: read the state of a running hash without consuming it.
    let mut state = C::new();
    C::update(&mut state, &[1u8; 1000]);
    c.bench_function(&format!("keccak/digest/{}", C::NAME), |bench| {
        bench.iter(|| black_box(C::digest(black_box(&state))))
    });
}

fn keccak_candidates(c: &mut Criterion) {
    candidate::<Core>(c);
    candidate::<Sha3Crate>(c);
    candidate::<TinyKeccak>(c);
    candidate::<KeccakAsm>(c);
}

criterion_group!(benches, frames, keccak_candidates);
criterion_main!(benches);
