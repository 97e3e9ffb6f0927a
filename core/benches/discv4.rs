//! discv4 packet codec and Kademlia table costs, each next to the bound measured in the same
//! run.
//!
//! - `discv4/decode/<type>`: `packet::decode` (size, hash check, body, signature recovery) of a
//!   datagram encoded beforehand. `bound/decode/<type>`: what any decoder must do, one
//!   Keccak-256 over the datagram after its hash (the hash check) plus one secp256k1 recover.
//!   `decode` also hashes the signed part a second time (the signature digest), parses the RLP
//!   and, for ENRResponse, verifies the record's own signature: `bound/decode_enr/enrresponse`
//!   adds `Enr::decode` of the record to that bound.
//! - `discv4/encode/<type>`: `packet::encode` (RLP body, signature digest, recoverable sign,
//!   packet hash). `bound/encode/<type>`: one recoverable sign plus one Keccak-256 over the
//!   datagram after its hash.
//! - `table/insert_10k`: 10,000 random nodes (random ids, random public IPv4 addresses) added
//!   to an empty `Table` one by one, as the machine adds verified nodes; a full bucket sends a
//!   node to its replacement list (≤ 10), the rest are refused. The entries are cloned before
//!   the timed part.
//! - `table/closest16`: `Table::closest(target, 16)` over the table those 10,000 left, for
//!   random targets.
//!
//! Every benchmark is one operation per iteration (`Throughput::Elements(1)`, so criterion
//! also prints operations per second), except `table/insert_10k` (10,000 inserts).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use paxeer_p2p_core::crypto::keccak::keccak256;
use paxeer_p2p_core::crypto::keys::{generate_secret_key, recover, sign_recoverable};
use paxeer_p2p_core::discv4::packet::{
    decode, encode, Endpoint, EnrRequest, EnrResponse, FindNode, Neighbors, NodeRecord, Packet,
    Ping, Pong, HASH_BYTES, MAX_NEIGHBORS, SIGNATURE_BYTES,
};
use paxeer_p2p_core::discv4::table::{AddOutcome, Table};
use paxeer_p2p_core::discv4::NodeEntry;
use paxeer_p2p_core::enr::Enr;
use paxeer_p2p_core::netutil::is_lan;
use paxeer_p2p_core::rng::MachineRng;
use paxeer_p2p_core::types::{NodeId, PeerId, Seed};
use secp256k1::SecretKey;

/// Candidate nodes offered to the table.
const TABLE_CANDIDATES: usize = 10_000;
/// Nodes asked of `closest` (a Neighbors reply's worth before splitting, k).
const CLOSEST: usize = 16;
/// An expiration far in the future (decode does not check it).
const EXPIRATION: u64 = 1_700_000_020;

fn random_peer(rng: &mut MachineRng) -> PeerId {
    let mut id = [0u8; 64];
    rng.fill(&mut id);
    PeerId(id)
}

/// A random public (non-LAN) IPv4 endpoint, so the table's /24 limits apply as on the
/// internet.
fn random_endpoint(rng: &mut MachineRng) -> Endpoint {
    loop {
        let mut b = [0u8; 4];
        rng.fill(&mut b);
        let ip = IpAddr::V4(Ipv4Addr::from(b));
        if !is_lan(ip) && !ip.is_multicast() && b[0] != 0 {
            return Endpoint::new(ip, 30303, 30303);
        }
    }
}

/// One packet of each type, as a node sends them (IPv4 endpoints, 12 nodes in Neighbors, a
/// signed ENR with ip/tcp/udp in ENRResponse).
fn packets(rng: &mut MachineRng) -> Vec<Packet> {
    let from = Endpoint::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)), 30303, 30303);
    let to = Endpoint::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)), 30303, 30303);
    let nodes = (0..MAX_NEIGHBORS)
        .map(|_| NodeRecord::new(random_endpoint(rng), random_peer(rng)))
        .collect();
    let enr_key = generate_secret_key(rng);
    let record = Enr::builder()
        .seq(3)
        .ip(from.ip)
        .tcp(from.tcp)
        .udp(from.udp)
        .sign(&enr_key)
        .unwrap();
    vec![
        Packet::Ping(Ping {
            version: 4,
            from,
            to,
            expiration: EXPIRATION,
            enr_seq: Some(3),
        }),
        Packet::Pong(Pong {
            to,
            ping_hash: rng.bytes32(),
            expiration: EXPIRATION,
            enr_seq: Some(3),
        }),
        Packet::FindNode(FindNode {
            target: random_peer(rng),
            expiration: EXPIRATION,
        }),
        Packet::Neighbors(Neighbors {
            nodes,
            expiration: EXPIRATION,
        }),
        Packet::EnrRequest(EnrRequest {
            expiration: EXPIRATION,
        }),
        Packet::EnrResponse(EnrResponse {
            request_hash: rng.bytes32(),
            record,
        }),
    ]
}

fn codec(c: &mut Criterion) {
    let mut rng = MachineRng::new(Seed([5; 32]));
    let key = generate_secret_key(&mut rng);
    for packet in packets(&mut rng) {
        codec_one(c, &packet, &key);
    }
}

/// Decode, encode and their bounds for one packet type, back to back so that load from
/// other processes on a shared machine hits them alike.
fn codec_one(c: &mut Criterion, packet: &Packet, key: &SecretKey) {
    let name = packet.name();
    let (datagram, _) = encode(packet, key);
    let decoded = decode(&datagram).unwrap();
    assert_eq!(&decoded.packet, packet);
    eprintln!("{name}: {} bytes", datagram.len());
    let after_hash = &datagram[HASH_BYTES..];
    let sig: [u8; SIGNATURE_BYTES] = after_hash[..SIGNATURE_BYTES].try_into().unwrap();
    let digest = keccak256(&after_hash[SIGNATURE_BYTES..]);

    let mut g = c.benchmark_group("discv4");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("decode", name), |b| {
        b.iter(|| black_box(decode(black_box(&datagram)).unwrap()))
    });
    g.bench_function(BenchmarkId::new("encode", name), |b| {
        b.iter(|| black_box(encode(black_box(packet), key)))
    });
    g.finish();

    let mut g = c.benchmark_group("bound");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("decode", name), |b| {
        b.iter(|| {
            black_box(keccak256(black_box(after_hash)));
            black_box(recover(black_box(&digest), &sig).unwrap())
        })
    });
    if let Packet::EnrResponse(r) = packet {
        let record = r.record.as_bytes();
        g.bench_function(BenchmarkId::new("decode_enr", name), |b| {
            b.iter(|| {
                black_box(keccak256(black_box(after_hash)));
                black_box(recover(black_box(&digest), &sig).unwrap());
                black_box(Enr::decode(black_box(record)).unwrap())
            })
        });
    }
    g.bench_function(BenchmarkId::new("encode", name), |b| {
        b.iter(|| {
            black_box(sign_recoverable(black_box(&digest), key));
            black_box(keccak256(black_box(after_hash)))
        })
    });
    g.finish();
}

fn candidates(rng: &mut MachineRng) -> Vec<NodeEntry> {
    (0..TABLE_CANDIDATES)
        .map(|_| {
            let id = random_peer(rng);
            NodeEntry {
                record: NodeRecord::new(random_endpoint(rng), id),
                id: id.node_id(),
                enr: None,
            }
        })
        .collect()
}

fn table(c: &mut Criterion) {
    let mut rng = MachineRng::new(Seed([6; 32]));
    let local = NodeId(rng.bytes32());
    let nodes = candidates(&mut rng);

    // What the 10,000 inserts do, once, for the record.
    let mut filled = Table::new(local);
    let (mut added, mut replacement, mut refused) = (0, 0, 0);
    for n in nodes.iter().cloned() {
        match filled.add(n) {
            AddOutcome::Added => added += 1,
            AddOutcome::Replacement => replacement += 1,
            _ => refused += 1,
        }
    }
    eprintln!(
        "table: {TABLE_CANDIDATES} candidates: {added} added, {replacement} to replacement \
         lists, {refused} refused (IP limits); {} in the table, buckets {:?}",
        filled.len(),
        filled.bucket_sizes()
    );

    let mut g = c.benchmark_group("table");
    g.throughput(Throughput::Elements(TABLE_CANDIDATES as u64));
    g.bench_function("insert_10k", |b| {
        b.iter_batched(
            || (Table::new(local), nodes.clone()),
            |(mut t, nodes)| {
                for n in nodes {
                    black_box(t.add(n));
                }
                t
            },
            BatchSize::LargeInput,
        )
    });

    let targets: Vec<NodeId> = (0..256).map(|_| NodeId(rng.bytes32())).collect();
    let mut i = 0usize;
    g.throughput(Throughput::Elements(1));
    g.bench_function("closest16", |b| {
        b.iter(|| {
            i = (i + 1) % targets.len();
            black_box(filled.closest(black_box(&targets[i]), CLOSEST).len())
        })
    });
    g.finish();
}

criterion_group!(benches, codec, table);
criterion_main!(benches);
