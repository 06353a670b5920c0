#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test (unit, emulator, the official Python
# SDK's conformance run, end to end against the real binaries, the systemd unit check).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --with-python
export IMAGEDROP_PYTHON="$PWD/.venv/bin/python"
exec swift test "$@"
