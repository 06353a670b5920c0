#!/usr/bin/env bash
# The main job, end to end on this machine: builds imagedrop and its emulator, starts the emulator on a
# free loopback port, runs the daemon on a temporary drop folder, drops a few images in (and one file
# that is not an image), and prints what came out: image ids and variant URLs per file.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

echo "== building (debug) =="
swift build --product imagedrop 2>&1 | tail -1
swift build --product imagedrop-emulator 2>&1 | tail -1
bin="$(swift build --show-bin-path)"

work="$(mktemp -d /tmp/imagedrop-demo-XXXXXX)"
emulator_pid=""
daemon_pid=""
cleanup() {
    [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
    [ -n "$emulator_pid" ] && kill -TERM "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/inbox"

"$bin/imagedrop-emulator" --port 0 >"$work/emulator.out" 2>"$work/emulator.err" &
emulator_pid=$!
for _ in $(seq 100); do grep -q "^listening on" "$work/emulator.out" 2>/dev/null && break; sleep 0.05; done
base="$(head -1 "$work/emulator.out" | sed 's/^listening on //')"
echo "== emulator: $base/client/v4 =="

cat >"$work/imagedrop.toml" <<TOML
[cloudflare]
account_id = "023e105f4ecef8ad9ca31a8372d0c353"
api_base_url = "$base/client/v4"

[watch]
paths = ["$work/inbox"]
settle_ms = 200

[queue]
database = "$work/jobs.sqlite3"
TOML

make_png() { # path width height red green blue — a real, viewable PNG, made with Python's zlib
    python3 - "$@" <<'PY'
import struct, sys, zlib
path, w, h, r, g, b = sys.argv[1], *map(int, sys.argv[2:])
rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in (r * x // w, g * y // h, b)) for y in range(h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
}

make_png "$work/inbox/sunrise.png" 64 48 255 120 40      # there before the daemon starts
export CLOUDFLARE_API_TOKEN="demo-token-$(date +%s)"    # the emulator accepts any well-formed token
echo "== imagedrop run (log: $work/daemon.log) =="
"$bin/imagedrop" run --config "$work/imagedrop.toml" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
sleep 1
mkdir -p "$work/inbox/2026/trip"
make_png "$work/inbox/2026/trip/beach photo.png" 80 60 40 160 255   # nested folder created while running
make_png "$work/inbox/forest.png" 32 32 30 200 60
echo "this is not a picture" >"$work/inbox/notes.jpg"             # ends failed, with the reason

for _ in $(seq 200); do
    done_count="$("$bin/imagedrop" status --config "$work/imagedrop.toml" --json | python3 -c \
        'import json,sys; j=json.load(sys.stdin)["jobs"]; print(j["done"]+j["failed"] == j["total"] == 4)')"
    [ "$done_count" = "True" ] && break
    sleep 0.1
done

echo
echo "== imagedrop status =="
"$bin/imagedrop" status --config "$work/imagedrop.toml"
echo
echo "== uploaded: path -> image id -> variant URLs (imagedrop export --format ndjson) =="
"$bin/imagedrop" export --config "$work/imagedrop.toml" --format ndjson | python3 -c '
import json, sys
for line in sys.stdin:
    job = json.loads(line)
    print(job["path"])
    print("  id:      ", job["image_id"])
    for url in job["variants"]:
        print("  variant: ", url)'
echo
echo "== daemon log =="
cat "$work/daemon.log"
