#!/usr/bin/env bash
# The fuzz targets (Sources/ImagedropParsing/Fuzzing/FuzzTarget.swift) under libFuzzer with AddressSanitizer.
#   scripts/fuzz.sh                      every target for 15 s (scripts/test.sh, and so CI, runs 10 s each)
#   scripts/fuzz.sh --seconds 3600       every target for an hour, one after another
#   scripts/fuzz.sh --seconds 600 probe-isobmff url-list
#   scripts/fuzz.sh --list
# The committed corpus (Fuzz/corpus/<target>/) seeds each run; what libFuzzer adds goes to
# .build-fuzz/corpus/<target>/ (not committed). A crash stops the run with exit 1 and leaves the input in
# Fuzz/crashes/: copy it to Fuzz/corpus/<target>/regression-<what> with the fix, and the unit suite replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=15
targets=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --list) grep -o 'case [a-zA-Z]* = "[a-z-]*"' Sources/ImagedropParsing/Fuzzing/FuzzTarget.swift | cut -d'"' -f2; exit 0 ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 64 ;;
        *) targets+=("$1"); shift ;;
    esac
done
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(grep -o 'case [a-zA-Z]* = "[a-z-]*"' Sources/ImagedropParsing/Fuzzing/FuzzTarget.swift | cut -d'"' -f2)
fi

# The fuzz product exists only when IMAGEDROP_FUZZ is set (Package.swift): its own scratch path keeps the
# instrumented build away from the normal one. Linked by lld, through clang's driver only: gold merges the
# objects' coverage sections so that libFuzzer sees one counter, and swiftc's own -use-ld=lld compiles the
# objects without instrumentation. Either way the fuzzer would run blind, so the count is checked below.
IMAGEDROP_FUZZ=1 swift build --sanitize fuzzer --sanitize address --product imagedrop-fuzz \
    --scratch-path .build-fuzz -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld 2>&1 \
    | grep -v 'Cannot export local symbol' | tail -n 3
binary=.build-fuzz/debug/imagedrop-fuzz
counters=$(IMAGEDROP_FUZZ_TARGET=ratelimit "$binary" -runs=1 2>&1 </dev/null | grep -o 'Loaded 1 modules *([0-9]*' | grep -o '[0-9]*$' || echo 0)
if [ "${counters:-0}" -lt 1000 ]; then
    echo "fuzz.sh: the fuzz build has ${counters:-0} coverage counters: it is not instrumented (see the comment above)" >&2
    exit 1
fi
mkdir -p Fuzz/crashes

failed=0
for target in "${targets[@]}"; do
    [ -d "Fuzz/corpus/$target" ] || { echo "fuzz.sh: no corpus folder Fuzz/corpus/$target" >&2; exit 64; }
    work=".build-fuzz/corpus/$target"
    mkdir -p "$work"
    # Probes read up to 64 KiB of head and walk GIF/WebP frames beyond it; the text parsers need far less.
    max_len=4096
    case "$target" in image-probe|probe-*) max_len=131072 ;; reply-envelope) max_len=65536 ;; esac
    log=".build-fuzz/$target.log"
    echo "fuzz: $target for ${seconds}s"
    if IMAGEDROP_FUZZ_TARGET="$target" ASAN_OPTIONS=detect_leaks=0 "$binary" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
        -print_final_stats=1 -use_value_profile=1 -artifact_prefix="Fuzz/crashes/$target-" \
        "$work" "Fuzz/corpus/$target" >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo "?")
        echo "fuzz: $target ok: $runs runs, coverage $cov edges, corpus $(ls "$work" | wc -l) inputs"
    else
        failed=1
        echo "fuzz: $target FAILED — input saved under Fuzz/crashes/; the log's end:"
        grep -v '^INFO\|^#' "$log" | tail -n 25
    fi
done
exit "$failed"
