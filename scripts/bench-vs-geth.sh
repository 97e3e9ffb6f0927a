#!/usr/bin/env bash
# Runs go-ethereum's p2p/rlpx benchmarks (the pinned module, `go test -bench`) and ours that
# they compare with, in one run, then prints the figures and ratios (docs/benchmarks.md,
# "Against go-ethereum"). Needs Go and network access to the Go module proxy.
set -euo pipefail
GETH_VERSION=v1.17.10
cd "$(dirname "$0")/.."
root="$PWD"
out="${CARGO_TARGET_DIR:-$root/target}/geth-bench"
mkdir -p "$out"
module="github.com/ethereum/go-ethereum"
dir="$(go env GOMODCACHE)/$module@$GETH_VERSION"
[ -d "$dir" ] || go mod download "$module@$GETH_VERSION"
(cd "$dir" && go test -run '^$' -bench . -benchtime 3s -count 3 ./p2p/rlpx) | tee "$out/rlpx.txt"
cargo bench -p paxeer-p2p-core --bench handshake -- handshake/
cargo bench -p paxeer-p2p-tests --bench session_msgs -- '/1024'
python3 core/benches/report.py --min
