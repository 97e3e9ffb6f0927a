//! The RLPx handshake, both sides in one thread, next to the secp256k1 work it cannot avoid,
//! measured in the same run.
//!
//! `handshake/full` is `AuthSent::new` → `ExpectAuth::new` + `read_auth` → `read_ack` (EIP-8
//! packets, fresh ephemeral keys every iteration). `handshake/secp256k1_bound` performs exactly
//! the secp256k1 operations that path performs, in the same order and on the same kind of
//! data, and nothing else. Counted from `rlpx/handshake.rs` and `crypto/ecies.rs`:
//!
//! | operation | initiator `new` | recipient `read_auth` | initiator `read_ack` | total |
//! |---|---|---|---|---|
//! | secret key from RNG (`generate_secret_key`) | 2 (ephemeral, ECIES) | 2 (ephemeral in `new`, ECIES) | 0 | 4 |
//! | parse public key (on-curve check) | 1 (remote static) | 2 (ECIES R, initiator static) | 2 (ECIES R, remote ephemeral) | 5 |
//! | ECDH (`ecdh_x`, constant-time ecmult) | 2 (static-static, ECIES) | 3 (ECIES, static-static, ephemeral-ephemeral) | 2 (ECIES, ephemeral-ephemeral) | 8 |
//! | public key from secret (`ecmult_gen`) | 2 (own static id, ECIES R) | 2 (own ephemeral, ECIES R) | 0 | 4 |
//! | ECDSA sign, recoverable | 1 | 0 | 0 | 1 |
//! | ECDSA recover | 0 | 1 | 0 | 1 |
//!
//! The `secp256k1/*` benchmarks time each operation alone, so the bound can be cross-checked
//! as 8·ecdh + 4·derive + sign + recover + 5·parse + 4·keygen.
//!
//! Next to go-ethereum's `BenchmarkHandshakeRead` (`p2p/rlpx`, run by
//! `scripts/bench-vs-geth.sh` in the same run): `handshake/open_auth2` decrypts the EIP-8
//! "Auth₂" vector as recipient B, as geth's benchmark does (ECIES open of the size-prefixed
//! packet; the RLP decode is not included), and `handshake/read_auth2` is our whole recipient
//! step on it (open, decode, static ECDH, recovery of the ephemeral key, secrets, ack).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use paxeer_p2p_core::crypto::ecies;
use paxeer_p2p_core::crypto::keys::{
    ecdh_x, generate_secret_key, peer_id_of, public_key_bytes, public_key_from_bytes,
    public_key_from_uncompressed, recover, secp, sign_recoverable,
};
use paxeer_p2p_core::rlpx::handshake::{AuthSent, ExpectAuth};
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::types::Seed;
use secp256k1::{PublicKey, SecretKey};

/// Recipient B's static key of the EIP-8 vectors.
const STATIC_KEY_B: &str = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
/// EIP-8's "Auth₂" packet (EIP-8 format, version 4, no additional list elements), to B.
const AUTH2: &str = concat!(
    "01b304ab7578555167be8154d5cc456f567d5ba302662433674222360f08d5f1534499d3678b513b",
    "0fca474f3a514b18e75683032eb63fccb16c156dc6eb2c0b1593f0d84ac74f6e475f1b8d56116b84",
    "9634a8c458705bf83a626ea0384d4d7341aae591fae42ce6bd5c850bfe0b999a694a49bbbaf3ef6c",
    "da61110601d3b4c02ab6c30437257a6e0117792631a4b47c1d52fc0f8f89caadeb7d02770bf999cc",
    "147d2df3b62e1ffb2c9d8c125a3984865356266bca11ce7d3a688663a51d82defaa8aad69da39ab6",
    "d5470e81ec5f2a7a47fb865ff7cca21516f9299a07b1bc63ba56c7a1a892112841ca44b6e0034dee",
    "70c9adabc15d76a54f443593fafdc3b27af8059703f88928e199cb122362a4b35f62386da7caad09",
    "c001edaeb5f8a06d2b26fb6cb93c52a9fca51853b68193916982358fe1e5369e249875bb8d0d0ec3",
    "6f917bc5e1eafd5896d46bd61ff23f1a863a8a8dcd54c7b109b771c8e61ec9c8908c733c0263440e",
    "2aa067241aaa433f0bb053c7b31a838504b148f570c0ad62837129e547678c5190341e4f1693956c",
    "3bf7678318e2d5b5340c9e488eefea198576344afbdf66db5f51204a6961a63ce072c8926c",
);

/// Two static keys: `a` dials `b`.
struct Keys {
    a: SecretKey,
    b: SecretKey,
}

fn keys() -> Keys {
    let mut rng = MachineRng::new(Seed([1; 32]));
    Keys {
        a: generate_secret_key(&mut rng),
        b: generate_secret_key(&mut rng),
    }
}

/// `a ^ b`, as the auth signature's digest is built.
fn xor32(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// Every secp256k1 operation of one full handshake, in the order the handshake runs them,
/// with the data flowing between them as it does there.
fn secp256k1_ops(k: &Keys, b_wire: &[u8; 64], a_wire: &[u8; 64], rng: &mut MachineRng) {
    // Initiator: AuthSent::new.
    let eph_i = generate_secret_key(rng);
    let nonce_i = rng.bytes32();
    let b_pk = public_key_from_bytes(b_wire).unwrap();
    let static_shared = ecdh_x(&b_pk, &k.a);
    let sig = sign_recoverable(&xor32(&static_shared, &nonce_i), &eph_i);
    black_box(peer_id_of(&k.a));
    //   ECIES to b.
    let ecies_1 = generate_secret_key(rng);
    black_box(ecdh_x(&b_pk, &ecies_1));
    let r1 = PublicKey::from_secret_key(secp(), &ecies_1).serialize_uncompressed();

    // Recipient: ExpectAuth::new, read_auth.
    let eph_r = generate_secret_key(rng);
    let r1_pk = public_key_from_uncompressed(&r1).unwrap();
    black_box(ecdh_x(&r1_pk, &k.b));
    let a_pk = public_key_from_bytes(a_wire).unwrap();
    let static_shared_r = ecdh_x(&a_pk, &k.b);
    let eph_i_pk = recover(&xor32(&static_shared_r, &nonce_i), &sig).unwrap();
    black_box(public_key_bytes(&eph_i_pk));
    let eph_r_wire = peer_id_of(&eph_r);
    //   ECIES to a.
    let ecies_2 = generate_secret_key(rng);
    black_box(ecdh_x(&a_pk, &ecies_2));
    let r2 = PublicKey::from_secret_key(secp(), &ecies_2).serialize_uncompressed();
    //   Secrets.
    black_box(ecdh_x(&eph_i_pk, &eph_r));

    // Initiator: read_ack.
    let r2_pk = public_key_from_uncompressed(&r2).unwrap();
    black_box(ecdh_x(&r2_pk, &k.a));
    let eph_r_pk = public_key_from_bytes(&eph_r_wire.0).unwrap();
    black_box(ecdh_x(&eph_r_pk, &eph_i));
}

fn handshake(c: &mut Criterion) {
    let k = keys();
    let a_id = peer_id_of(&k.a);
    let b_id = peer_id_of(&k.b);
    let mut rng = MachineRng::new(Seed([2; 32]));

    let mut g = c.benchmark_group("handshake");
    g.bench_function("full", |bench| {
        bench.iter(|| {
            let (initiator, auth) = AuthSent::new(&k.a, &b_id, &mut rng).unwrap();
            let recipient = ExpectAuth::new(k.b, &mut rng);
            let at_b = recipient.read_auth(&auth, &mut rng).unwrap().unwrap();
            let at_a = initiator.read_ack(&at_b.ack).unwrap().unwrap();
            black_box((at_a.secrets, at_b.secrets))
        })
    });
    g.bench_function("secp256k1_bound", |bench| {
        bench.iter(|| secp256k1_ops(&k, &b_id.0, &a_id.0, &mut rng))
    });
    let auth2 = hex::decode(AUTH2).unwrap();
    let key_b = SecretKey::from_slice(&hex::decode(STATIC_KEY_B).unwrap()).unwrap();
    g.bench_function("open_auth2", |bench| {
        bench.iter(|| {
            let (prefix, packet) = auth2.split_at(2);
            black_box(ecies::decrypt(&key_b, black_box(packet), prefix).unwrap())
        })
    });
    g.bench_function("read_auth2", |bench| {
        bench.iter(|| {
            let recipient = ExpectAuth::new(key_b, &mut rng);
            black_box(
                recipient
                    .read_auth(black_box(&auth2), &mut rng)
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    g.finish();

    // Each operation alone, on fresh keys where the handshake uses fresh keys.
    let mut g = c.benchmark_group("secp256k1");
    let b_pk = public_key_from_bytes(&b_id.0).unwrap();
    let r = PublicKey::from_secret_key(secp(), &generate_secret_key(&mut rng));
    let r_wire = r.serialize_uncompressed();
    let digest = [7u8; 32];
    let sig = sign_recoverable(&digest, &k.a);
    g.bench_function("keygen", |bench| {
        bench.iter(|| black_box(generate_secret_key(&mut rng)))
    });
    g.bench_function("parse", |bench| {
        bench.iter(|| black_box(public_key_from_bytes(black_box(&b_id.0)).unwrap()))
    });
    g.bench_function("parse_uncompressed", |bench| {
        bench.iter(|| black_box(public_key_from_uncompressed(black_box(&r_wire)).unwrap()))
    });
    g.bench_function("ecdh", |bench| {
        bench.iter(|| black_box(ecdh_x(black_box(&b_pk), black_box(&k.a))))
    });
    g.bench_function("derive_public", |bench| {
        bench.iter(|| black_box(PublicKey::from_secret_key(secp(), black_box(&k.a))))
    });
    g.bench_function("sign_recoverable", |bench| {
        bench.iter(|| black_box(sign_recoverable(black_box(&digest), &k.a)))
    });
    g.bench_function("recover", |bench| {
        bench.iter(|| black_box(recover(black_box(&digest), black_box(&sig)).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, handshake);
criterion_main!(benches);
