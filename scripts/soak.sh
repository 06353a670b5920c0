#!/bin/sh
# The randomized soak (issue 10): builds the release daemon, emulator and soak driver, then runs one seeded
# schedule of file, API-fault, process and operator actions against `imagedrop run` on loopback and checks
# the invariants. The last line is `soak: N checks passed, N failed (seed S)`; exit 0 only if none failed.
#
#   scripts/soak.sh                        # 2 minutes, seed 1
#   scripts/soak.sh --minutes 60 --seed 7  # the long run
#   scripts/soak.sh --seed 3 --keep        # keep the folder, the daemon log and the emulator's log
#   scripts/soak.sh --hosts 3              # a fleet: 3 daemons on one redis-server that the schedule kills
#
# The binaries are built as they ship (Swift runtime linked statically), in the folder `make deb` and the
# benchmark's daemon use, so CI builds release once. IMAGEDROP_SOAK_SCRATCH: another build folder.
set -eu
cd "$(dirname "$0")/.."
. scripts/layout-flags.sh
scratch="${IMAGEDROP_SOAK_SCRATCH:-.build-static}"
bin="$(swift build -c release $STATIC_FLAGS $LAYOUT_FLAGS --scratch-path "$scratch" --show-bin-path)"
layout_check "$bin"

for product in imagedrop imagedrop-emulator imagedrop-soak; do
    swift build -c release $STATIC_FLAGS $LAYOUT_FLAGS --scratch-path "$scratch" --product "$product"
done
exec "$bin/imagedrop-soak" --bin "$bin" "$@"
