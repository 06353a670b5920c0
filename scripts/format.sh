#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and the top-level .swift-format: swift-nio's, 120
# columns, with three differences for how this code is written: arguments packed rather than one per line
# (lineBreakBeforeEachArgument false), `#expect(throws:) { … }` beside closure arguments allowed
# (OnlyOneTrailingClosureArgument off), and /* … */ naming an argument inline allowed (NoBlockComments off).
#
# Usage: scripts/format.sh            rewrite Sources, Tests and Benchmarks in place
#        scripts/format.sh --check    change nothing; list what the formatter would change (lint), exit 1 if anything
set -euo pipefail
cd "$(dirname "$0")/.."

paths=(Sources Tests Benchmarks Fuzz Package.swift)
case "${1:-}" in
    "")
        swift format --configuration .swift-format --in-place --recursive --parallel "${paths[@]}"
        ;;
    --check)
        # lint prints one line per finding (path:line:column: warning: [Rule] …); --strict makes findings an error.
        swift format lint --configuration .swift-format --recursive --parallel --strict "${paths[@]}"
        ;;
    *)
        echo "usage: scripts/format.sh [--check]" >&2
        exit 2
        ;;
esac
