#!/usr/bin/env python3
"""Prints the figures and ratios of docs/benchmarks.md from criterion's saved estimates.

Run after `cargo bench -p paxeer-p2p-core`:

    python3 core/benches/report.py [--min] [target/criterion]

By default each figure is criterion's median. With --min it is the fastest of the 100 samples
(time per iteration of the quickest sample): on a machine shared with other jobs, preemption
only ever adds time, so the fastest sample is the closest to the uncontended cost, and ratios
of minimums are less sensitive to load that hit one benchmark and not the other.
"""

import json
import os
import sys

ARGS = [a for a in sys.argv[1:] if a != "--min"]
USE_MIN = "--min" in sys.argv[1:]
STAT = "fastest sample" if USE_MIN else "median"
ROOT = ARGS[0] if ARGS else os.path.join(
    os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")

SIZES = [("32B", 32), ("1KiB", 1024), ("64KiB", 64 * 1024), ("1MiB", 1024 * 1024)]
SECP_COUNTS = [("ecdh", 8), ("derive_public", 4), ("sign_recoverable", 1), ("recover", 1),
               ("parse", 3), ("parse_uncompressed", 2), ("keygen", 4)]


def median_ns(*path):
    """The figure for one benchmark, in ns per iteration (median or fastest sample)."""
    base = os.path.join(ROOT, *path, "new")
    if USE_MIN:
        with open(os.path.join(base, "sample.json")) as f:
            s = json.load(f)
        return min(t / i for t, i in zip(s["times"], s["iters"]))
    with open(os.path.join(base, "estimates.json")) as f:
        return json.load(f)["median"]["point_estimate"]


def fmt_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.3f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def mib_s(n, ns):
    return n / (ns / 1e9) / (1024 * 1024)


def have(*path):
    return os.path.isdir(os.path.join(ROOT, *path))


PACKETS = ["ping", "pong", "findnode", "neighbors", "enrrequest", "enrresponse"]


def discovery():
    print(f"## Discovery codec ({STAT})\n")
    print("| packet | decode | per second | recover + keccak | bound / decode "
          "| encode | per second | sign + keccak | bound / encode |")
    print("|---|---|---|---|---|---|---|---|---|")
    for p in PACKETS:
        dec = median_ns("discv4", "decode", p)
        enc = median_ns("discv4", "encode", p)
        bdec = median_ns("bound", "decode", p)
        benc = median_ns("bound", "encode", p)
        print(f"| {p} | {fmt_time(dec)} | {1e9 / dec:,.0f} | {fmt_time(bdec)} "
              f"| {100 * bdec / dec:.0f} % | {fmt_time(enc)} | {1e9 / enc:,.0f} "
              f"| {fmt_time(benc)} | {100 * benc / enc:.0f} % |")
    if have("bound", "decode_enr", "enrresponse"):
        dec = median_ns("discv4", "decode", "enrresponse")
        b = median_ns("bound", "decode_enr", "enrresponse")
        print(f"\nenrresponse decode vs recover + keccak + Enr::decode: {fmt_time(b)}, "
              f"bound / decode = {100 * b / dec:.0f} %")
    if have("table", "insert_10k"):
        ins = median_ns("table", "insert_10k")
        clo = median_ns("table", "closest16")
        print(f"\ntable: insert 10k {fmt_time(ins)} ({fmt_time(ins / 1e4)} per insert, "
              f"{1e13 / ins:,.0f} per second); closest(target, 16) {fmt_time(clo)} "
              f"({1e9 / clo:,.0f} per second)")


def sessions():
    """Messages per second through one session (tests/benches/session_msgs.rs)."""
    print(f"## Session messages ({STAT})\n")
    print("| size | plain TCP | tokio | smol | tokio / plain | smol / tokio |")
    print("|---|---|---|---|---|---|")
    for n in (128, 1024):
        rate = {k: 1e9 / median_ns("session_msgs_" + k, str(n))
                for k in ("plain_tcp", "tokio", "smol")}
        print(f"| {n} B | {rate['plain_tcp']:,.0f}/s | {rate['tokio']:,.0f}/s | "
              f"{rate['smol']:,.0f}/s | {rate['tokio'] / rate['plain_tcp']:.4f} | "
              f"{rate['smol'] / rate['tokio']:.2f} |")
    print()


def geth_ns(name):
    """Fastest (or median) ns/op of go-ethereum benchmark `name` in target/geth-bench/rlpx.txt."""
    path = os.path.join(os.path.dirname(ROOT), "geth-bench", "rlpx.txt")
    runs = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts and parts[0].split("-")[0] == name and "ns/op" in parts:
                runs.append(float(parts[parts.index("ns/op") - 1]))
    runs.sort()
    return runs[0] if USE_MIN else runs[len(runs) // 2]


def against_geth():
    """go-ethereum's p2p/rlpx benchmarks next to ours (scripts/bench-vs-geth.sh)."""
    print(f"## Against go-ethereum p2p/rlpx ({STAT})\n")
    print("| go-ethereum | geth | ours | ours | geth / ours |")
    print("|---|---|---|---|---|")
    hs = geth_ns("BenchmarkHandshakeRead")
    for ours in ("open_auth2", "read_auth2"):
        ns = median_ns("handshake", ours)
        print(f"| BenchmarkHandshakeRead | {fmt_time(hs)} | handshake/{ours} | {fmt_time(ns)} "
              f"| {hs / ns:.2f} |")
    tp = geth_ns("BenchmarkThroughput")
    for rt in ("tokio", "smol"):
        ns = median_ns("session_msgs_" + rt, "1024")
        print(f"| BenchmarkThroughput (1 KiB) | {fmt_time(tp)} | session_msgs/{rt}/1024 "
              f"| {fmt_time(ns)} | {tp / ns:.2f} |")
    print()


def main():
    if os.path.exists(os.path.join(os.path.dirname(ROOT), "geth-bench", "rlpx.txt")):
        against_geth()
    if have("discv4"):
        discovery()
    if have("session_msgs_tokio"):
        sessions()
    if not have("frame"):
        return
    print(f"## Frames ({STAT})\n")
    print("| size | seal | seal MiB/s | open | open MiB/s | Keccak-256 | (absorb only) | AES-256-CTR "
          "| bound | bound / seal | bound / open |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, n in SIZES:
        seal = median_ns("frame", "seal", label)
        opn = median_ns("frame", "open", label)
        kec = median_ns("bound", "keccak256", label)
        absorb = median_ns("bound", "keccak_absorb", label)
        aes = median_ns("bound", "aes256ctr", label)
        bound = kec + aes
        print(f"| {label} | {fmt_time(seal)} | {mib_s(n, seal):.0f} | {fmt_time(opn)} "
              f"| {mib_s(n, opn):.0f} | {fmt_time(kec)} | {fmt_time(absorb)} | {fmt_time(aes)} "
              f"| {fmt_time(bound)} "
              f"| {100 * bound / seal:.0f} % | {100 * bound / opn:.0f} % |")

    print(f"\n## Keccak-256 candidates ({STAT})\n")
    impls = ["core", "sha3", "tiny-keccak", "keccak-asm"]
    print("| size | " + " | ".join(impls) + " |")
    print("|---|" + "---|" * len(impls))
    for label, n in SIZES:
        cells = []
        for i in impls:
            ns = median_ns(f"keccak256_{i}", label)
            cells.append(f"{fmt_time(ns)} ({mib_s(n, ns):.0f} MiB/s)")
        print(f"| {label} | " + " | ".join(cells) + " |")
    cells = [fmt_time(median_ns("keccak_digest_" + i)) for i in impls]
    print("| digest (clone + finalize) | " + " | ".join(cells) + " |")

    print(f"\n## Handshake ({STAT})\n")
    full = median_ns("handshake", "full")
    bound = median_ns("handshake", "secp256k1_bound")
    total = 0.0
    print("| operation | count | each | subtotal |")
    print("|---|---|---|---|")
    for op, count in SECP_COUNTS:
        ns = median_ns("secp256k1", op)
        total += count * ns
        print(f"| {op} | {count} | {fmt_time(ns)} | {fmt_time(count * ns)} |")
    print(f"| sum of the parts | | | {fmt_time(total)} |")
    print(f"\nfull handshake: {fmt_time(full)} ({1e9 / full:.0f} per second); "
          f"secp256k1 bound (measured as one sequence): {fmt_time(bound)}; "
          f"handshake / bound = {full / bound:.3f} ({100 * (full / bound - 1):+.1f} %)")


if __name__ == "__main__":
    main()
