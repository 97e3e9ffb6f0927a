#!/usr/bin/env bash
# Builds every cargo-fuzz target once (AddressSanitizer, on the stable toolchain through
# RUSTC_BOOTSTRAP=1) and runs each for ${FUZZ_SECONDS:-15} seconds. Every target runs even
# if an earlier one crashed; the script exits non-zero if any crashed, and reproducers are
# left in fuzz/artifacts/<target>/. Corpora grow in fuzz/corpus/<target>/ (not committed).
#
#   FUZZ_SECONDS=60 fuzz/run-all.sh            # all targets, one minute each
#   FUZZ_SECONDS=5 fuzz/run-all.sh hello_decode  # only the named targets
set -euo pipefail

cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"
seconds="${FUZZ_SECONDS:-15}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "cargo-fuzz not found: cargo install cargo-fuzz" >&2
    exit 2
fi

triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="${CARGO_TARGET_DIR:-target}/${triple}/release"

start=$(date +%s)
cargo fuzz build
build_done=$(date +%s)
echo "build: $((build_done - start)) s"

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "=== $t (${seconds} s)"
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: memory blow-ups fail.
    if ! "$bin_dir/$t" "corpus/$t" \
        -max_total_time="$seconds" \
        -timeout=10 \
        -rss_limit_mb=2048 \
        -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" \
        2>"artifacts/$t/log.txt"; then
        failed+=("$t")
        tail -n 60 "artifacts/$t/log.txt"
    else
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|cov:' "artifacts/$t/log.txt" \
            | tail -n 3 || true
    fi
done

end=$(date +%s)
echo "total: $((end - start)) s (build $((build_done - start)) s, ${#targets[@]} targets x ${seconds} s)"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "CRASHED: ${failed[*]}" >&2
    exit 1
fi
echo "all ${#targets[@]} targets ran without crashes"
