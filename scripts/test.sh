#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need (the pinned
# ethereumjs interop peer from its lockfile, go-ethereum's geth and devp2p v1.17.10), then
# runs every test of the workspace (unit, property, scenario, CLI, cross-runtime, ethereumjs
# interop, go-ethereum's devp2p suites and the live-geth tests).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix tests/interop --no-audit --no-fund
bash scripts/install-go-tools.sh
cargo test --workspace "$@"
