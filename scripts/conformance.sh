#!/usr/bin/env bash
# Runs go-ethereum's devp2p conformance suites against paxeer-p2p (node/tests/geth_*.rs) and
# regenerates docs/conformance.md from their per-test results (target/conformance/*.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-go-tools.sh
rm -rf target/conformance
status=0
cargo test -p paxeer-p2p --test geth_discv4 --test geth_eth || status=$?
python3 scripts/conformance_table.py target/conformance > docs/conformance.md
echo "docs/conformance.md regenerated (tests exit status $status)"
exit "$status"
