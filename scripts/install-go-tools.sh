#!/usr/bin/env bash
# Installs go-ethereum's `geth` and `devp2p`, pinned, into .tools/bin (or $PAXEER_GO_TOOLS/bin)
# for the conformance and live-geth tests. Does nothing when the pinned versions are there.
# The devp2p test chain comes with the installed module:
#   $(go env GOMODCACHE)/github.com/ethereum/go-ethereum@$GETH_VERSION/cmd/devp2p/internal/ethtest/testdata
set -euo pipefail
GETH_VERSION=v1.17.10
cd "$(dirname "$0")/.."
dest="${PAXEER_GO_TOOLS:-$PWD/.tools}"
bin="$dest/bin"
stamp="$dest/go-ethereum.version"
module="github.com/ethereum/go-ethereum"
testdata() { echo "$(go env GOMODCACHE)/$module@$GETH_VERSION/cmd/devp2p/internal/ethtest/testdata"; }

if ! command -v go >/dev/null; then
  echo "install-go-tools: Go is not installed (the tests need Go ≥ 1.24 to build go-ethereum $GETH_VERSION)" >&2
  exit 1
fi
if [ -x "$bin/geth" ] && [ -x "$bin/devp2p" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$GETH_VERSION" ] \
  && [ -f "$(testdata)/chain.rlp" ]; then
  exit 0
fi
mkdir -p "$bin"
echo "install-go-tools: building geth and devp2p $GETH_VERSION into $bin (a few minutes)" >&2
GOBIN="$bin" go install "$module/cmd/geth@$GETH_VERSION" "$module/cmd/devp2p@$GETH_VERSION"
"$bin/geth" version | grep -q "${GETH_VERSION#v}" || { echo "install-go-tools: geth reports another version" >&2; exit 1; }
[ -f "$(testdata)/chain.rlp" ] || { echo "install-go-tools: the test chain is missing at $(testdata)" >&2; exit 1; }
echo "$GETH_VERSION" > "$stamp"
