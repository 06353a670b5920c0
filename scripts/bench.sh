#!/bin/sh
# Builds imagedrop, the emulator and the benchmark in release mode and runs the benchmark (issue 6):
# the real `imagedrop run` against `imagedrop-emulator` on loopback, each figure beside a baseline measured
# in the same run. Prints a Markdown table; writes bench-results/<date>.json (git-ignored).
#
#   scripts/bench.sh                      # full run, < 10 minutes on 2 cores
#   scripts/bench.sh --quick              # smoke run of the bench itself (small counts)
#   scripts/bench.sh --only small,history # some scenarios: small latency large burst close history budget
#
# IMAGEDROP_BENCH_SCRATCH: the release build folder (default .build-release).
set -eu
cd "$(dirname "$0")/.."
. scripts/layout-flags.sh
scratch="${IMAGEDROP_BENCH_SCRATCH:-.build-release}"

for product in imagedrop-emulator imagedrop-bench; do
    swift build -c release --scratch-path "$scratch" --product "$product"
done
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
# The daemon is measured as scripts/install.sh ships it: Swift runtime linked statically (6 MB less RSS
# than loading libswiftCore/Foundation/ICU as shared libraries, whose relocated pages all count).
static="${IMAGEDROP_BENCH_STATIC_SCRATCH:-.build-static}"
static_bin="$(swift build -c release $STATIC_FLAGS $LAYOUT_FLAGS --scratch-path "$static" --show-bin-path)"
layout_check "$static_bin"
swift build -c release $STATIC_FLAGS $LAYOUT_FLAGS --scratch-path "$static" --product imagedrop
daemon="$static_bin/imagedrop"

exec "$bin/imagedrop-bench" --imagedrop "$daemon" --emulator "$bin/imagedrop-emulator" \
    --out bench-results "$@"
