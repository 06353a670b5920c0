#!/usr/bin/env bash
# Builds imagedrop and puts binary, unit, sysusers/tmpfiles entries and example config in place.
#
#   scripts/install.sh                      # build, install to /usr/local and /etc, create user and folders
#   DESTDIR=/tmp/pkg scripts/install.sh     # stage into a directory (packaging); touches nothing live
#   PREFIX=/usr scripts/install.sh          # binary to /usr/bin (the unit's paths are rewritten to match)
#
# Environment: PREFIX [/usr/local], DESTDIR [none], IMAGEDROP_BIN (install this binary, skip the build),
# SCRATCH_PATH (swift build --scratch-path, to keep a release build apart from a working .build),
# STATIC_SWIFT_STDLIB [1]: link the Swift runtime statically so the host needs only libcurl4 and
# libsqlite3-0, not a Swift toolchain (which may also sit under /home, hidden by the unit's ProtectHome=).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
STATIC_SWIFT_STDLIB="${STATIC_SWIFT_STDLIB:-1}"

say() { printf 'install: %s\n' "$*"; }

binary="${IMAGEDROP_BIN:-}"
if [[ -z "$binary" ]]; then
    # shellcheck source=layout-flags.sh
    . "$root/scripts/layout-flags.sh"
    read -ra layout <<<"$LAYOUT_FLAGS"
    read -ra static <<<"$STATIC_FLAGS"
    flags=(-c release --product imagedrop "${layout[@]}")
    [[ "$STATIC_SWIFT_STDLIB" == 1 ]] && flags+=("${static[@]}")
    [[ -n "${SCRATCH_PATH:-}" ]] && flags+=(--scratch-path "$SCRATCH_PATH")
    bin="$(cd "$root" && swift build "${flags[@]}" --show-bin-path)"
    (cd "$root" && layout_check "$bin")
    say "building: swift build ${flags[*]}"
    (cd "$root" && swift build "${flags[@]}")
    binary="$bin/imagedrop"
fi
[[ -x "$binary" ]] || { echo "install: $binary is not an executable" >&2; exit 1; }

bindir="$DESTDIR$PREFIX/bin"
unitdir="$DESTDIR/etc/systemd/system"
sysusersdir="$DESTDIR/usr/lib/sysusers.d"
tmpfilesdir="$DESTDIR/usr/lib/tmpfiles.d"
confdir="$DESTDIR/etc/imagedrop"

install -d -m 0755 "$bindir" "$unitdir" "$sysusersdir" "$tmpfilesdir" "$confdir"

install -m 0755 "$binary" "$bindir/imagedrop"
say "binary   -> $bindir/imagedrop"

# The unit names /usr/local/bin/imagedrop; keep it true for another PREFIX.
sed "s|/usr/local/bin/imagedrop|$PREFIX/bin/imagedrop|g" "$root/systemd/imagedrop.service" >"$unitdir/imagedrop.service.tmp"
chmod 0644 "$unitdir/imagedrop.service.tmp"
mv "$unitdir/imagedrop.service.tmp" "$unitdir/imagedrop.service"
say "unit     -> $unitdir/imagedrop.service"

install -m 0644 "$root/systemd/imagedrop.sysusers" "$sysusersdir/imagedrop.conf"
say "sysusers -> $sysusersdir/imagedrop.conf"
install -m 0644 "$root/systemd/imagedrop.tmpfiles" "$tmpfilesdir/imagedrop.conf"
say "tmpfiles -> $tmpfilesdir/imagedrop.conf"

# Never overwrite an operator's config on upgrade. No secrets in it (the token is a separate file), so
# world-readable is fine (the daemon runs as the imagedrop user).
if [[ -e "$confdir/imagedrop.toml" ]]; then
    say "config   =  $confdir/imagedrop.toml exists, left unchanged (example: $root/config/imagedrop.toml)"
else
    install -m 0644 "$root/config/imagedrop.toml" "$confdir/imagedrop.toml"
    say "config   -> $confdir/imagedrop.toml (edit account_id and [watch] paths)"
fi

if [[ -z "$DESTDIR" && -d /run/systemd/system ]]; then
    systemd-sysusers "$sysusersdir/imagedrop.conf"
    say "ran systemd-sysusers (user and group imagedrop)"
    systemd-tmpfiles --create "$tmpfilesdir/imagedrop.conf"
    say "ran systemd-tmpfiles --create (/srv/imagedrop/{inbox,done,failed})"
    systemctl daemon-reload
    say "ran systemctl daemon-reload"
elif [[ -n "$DESTDIR" ]]; then
    say "DESTDIR set: user, folders and daemon-reload left to the package's post-install step"
else
    say "systemd is not running here: create the user and folders with systemd-sysusers / systemd-tmpfiles --create at boot"
fi

if [[ ! -e "$DESTDIR/etc/imagedrop/api-token" ]]; then
    cat <<'NEXT'
install: next steps
  1. store the API token (read by systemd as root, handed to the daemon via LoadCredential=):
       sudo install -m 0600 /dev/stdin /etc/imagedrop/api-token   # paste the token, then Ctrl-D
  2. edit /etc/imagedrop/imagedrop.toml, then check it as the service's user, with the token the unit hands over:
       sudo sh -c 'CLOUDFLARE_API_TOKEN="$(cat /etc/imagedrop/api-token)" runuser -u imagedrop -- imagedrop check'
  3. sudo systemctl enable --now imagedrop
NEXT
fi
