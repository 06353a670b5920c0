#!/bin/sh
# The randomized soak (issue 10): builds the release daemon, emulator and soak driver, then runs one seeded
# schedule of file, API-fault, process and operator actions against `imagedrop run` on loopback and checks
# the invariants. The last line is `soak: N checks passed, N failed (seed S)`; exit 0 only if none failed.
#
#   scripts/soak.sh                        # 2 minutes, seed 1
#   scripts/soak.sh --minutes 60 --seed 7  # the long run
#   scripts/soak.sh --seed 3 --keep        # keep the folder, the daemon log and the emulator's log
#
# IMAGEDROP_SOAK_SCRATCH: the build folder (default .build; the release products land in .build/release).
set -eu
cd "$(dirname "$0")/.."
scratch="${IMAGEDROP_SOAK_SCRATCH:-.build}"

for product in imagedrop imagedrop-emulator imagedrop-soak; do
    swift build -c release --scratch-path "$scratch" --product "$product"
done
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
exec "$bin/imagedrop-soak" --bin "$bin" "$@"
