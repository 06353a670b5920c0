#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test (unit, emulator, the official Python
# SDK's conformance run, end to end against the real binaries, the systemd unit check), then the short
# fixed-seed soak (about 2 minutes against the release build: the fixes holding in combination), and every
# fuzz target for 10 s (about 3 minutes with the instrumented build; docs/fuzzing.md).
# Arguments go to `swift test` (e.g. --filter); with arguments the soak and the fuzzing are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --with-python
export IMAGEDROP_PYTHON="$PWD/.venv/bin/python"
swift test "$@"
if [ "$#" -eq 0 ]; then
    scripts/soak.sh --minutes 2 --seed 1
    scripts/fuzz.sh --seconds 10
fi
