#!/usr/bin/env bash
# Installs the built packages into a fresh Debian root and runs the install instructions an operator reads:
#
#   sudo scripts/deb-install-test.sh [--keep]    # after scripts/deb.sh; about 3-5 minutes, needs the Debian mirror
#
# A minbase root from debootstrap (installed with apt-get when missing), then the commands of the docs' Install
# and Configure sections, taken from the text itself (README.md or docs/*.md, whichever holds the headings), run
# as written inside the root with sudo: `apt install ./dist/imagedrop_*.deb` (its maintainer scripts included),
# the token stored as the docs say, `sudoedit` of the config (an editor that points the config at an
# imagedrop-emulator, from its own package, on loopback), and the first `imagedrop check` as the service's user.
# Then what those steps must have left: the imagedrop user and group, /var/lib/imagedrop owned by it (0750),
# the drop folders (setgid 2775), the conffile, the man pages, completions and README, --version with a commit,
# no emulator in the main package; an image dropped into the inbox uploaded by `run --once` as the service's
# user; and remove and purge succeeding, the job table kept. systemd does not run in a chroot: starting the unit
# is what scripts/verify-unit.sh and the end-to-end tests cover.
# Environment: MIRROR [http://deb.debian.org/debian], SUITE [bookworm], DIST [dist].
set -euo pipefail
root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root_dir"
say() { printf 'deb-install-test: %s\n' "$*"; }
fail() { printf 'deb-install-test: FAIL: %s\n' "$*" >&2; exit 1; }

keep=0
[[ "${1:-}" == "--keep" ]] && keep=1
[[ "$(id -u)" == 0 ]] || fail "run as root (debootstrap and chroot need it)"
mirror="${MIRROR:-http://deb.debian.org/debian}"
suite="${SUITE:-bookworm}"
dist="${DIST:-dist}"
version="$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/ImagedropSupport/BuildInfo.swift)"
arch="$(dpkg --print-architecture)"
deb="$dist/imagedrop_${version}_${arch}.deb"
emu_deb="$dist/imagedrop-emulator_${version}_${arch}.deb"
[[ -f "$deb" && -f "$emu_deb" ]] || fail "$deb or $emu_deb missing: run scripts/deb.sh first"
command -v debootstrap >/dev/null || { say "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }

# The commands, from the docs: the first ```sh block under the Install heading and under the Configure heading,
# which must be the same in every file that has the heading (the README's front page repeats Install).
commands="$(python3 - README.md docs/*.md <<'PY'
import re, sys
def blocks(heading):
    """The first ```sh block under the heading, from every file that has the heading."""
    found = []
    for name in sys.argv[1:]:
        try:
            lines = open(name).read().splitlines()
        except OSError:
            continue
        for i, line in enumerate(lines):
            if re.fullmatch(r"#{2,4} " + heading, line.strip()):
                j = i + 1
                while j < len(lines) and not lines[j].startswith("#"):
                    if lines[j].strip() == "```sh":
                        k = j + 1
                        while lines[k].strip() != "```":
                            k += 1
                        found.append((name, lines[j + 1:k]))
                        break
                    j += 1
                break
    if not found:
        sys.exit("no ```sh block under a '%s' heading in %s" % (heading, " ".join(sys.argv[1:])))
    for name, lines in found[1:]:
        if lines != found[0][1]:
            sys.exit("the %s commands of %s and %s differ: make them the same" % (heading, found[0][0], name))
    return " and ".join(name for name, _ in found), found[0][1]
for heading in ("Install", "Configure"):
    names, lines = blocks(heading)
    print("#section %s (%s)" % (heading, names))
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            print(line)
PY
)" || fail "cannot find the install commands in the docs"
printf '%s\n' "$commands"

root="$(mktemp -d /var/tmp/imagedrop-root.XXXXXX)"
chmod 0755 "$root"   # the root's / : mktemp's 0700 would shut every user but root out of the whole tree
emulator_pid=""
cleanup() {
    [[ -n "$emulator_pid" ]] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
    for mount in "$root/proc" "$root/dev/pts" "$root/dev"; do
        mountpoint -q "$mount" && umount -l "$mount"
    done
    rm -f "$root.out"
    if ((keep)); then say "kept the root: $root"; else rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT

say "debootstrap --variant=minbase --include=sudo $suite $root $mirror"
start=$SECONDS
debootstrap --variant=minbase --include=sudo "$suite" "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -n 20 "$root.log"; rm -f "$root.log"; fail "debootstrap failed"; }
rm -f "$root.log"
say "root ready in $((SECONDS - start)) s"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The operator's answers: "Y" to apt's question; and a host name that resolves (sudo asks for it).
# apt as root throughout: the .deb in /root is not readable by its _apt sandbox user (a warning, not an error).
printf 'APT::Get::Assume-Yes "true";\nAPT::Sandbox::User "root";\n' >"$root/etc/apt/apt.conf.d/90imagedrop-install-test"
printf '127.0.1.1 %s\n' "$(hostname)" >>"$root/etc/hosts"
mkdir -p "$root/root/dist"
cp "$deb" "$emu_deb" "$root/root/dist/"

# In the root, from /root (where ./dist/ is), as root; DEBIAN_FRONTEND so apt asks nothing.
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 SUDO_EDITOR=/root/edit-config /bin/bash -c "cd /root && $1"; }

in_root 'apt-get update -qq' || fail "apt-get update in the root failed"
token="imagedrop-install-test-token-0123456789"
account="0123456789abcdef0123456789abcdef"
section=""
emulator_ready=0
start_emulator() {
    # The emulator from its own package, as the docs' emulator section runs it; its port goes into the
    # editor script that stands in for the operator's sudoedit.
    say "apt install ./dist/$(basename "$emu_deb")"
    in_root "apt-get install -y -qq ./dist/$(basename "$emu_deb") >/dev/null" || fail "installing imagedrop-emulator"
    chroot "$root" /usr/bin/imagedrop-emulator --port 0 --token "$token" --account-id "$account" >"$root/tmp/emulator.out" 2>&1 &
    emulator_pid=$!
    for _ in $(seq 100); do grep -q '^listening on ' "$root/tmp/emulator.out" && break; sleep 0.1; done
    local url
    url="$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$root/tmp/emulator.out")"
    [[ -n "$url" ]] || fail "the emulator did not start: $(cat "$root/tmp/emulator.out")"
    cat >"$root/root/edit-config" <<EOF
#!/bin/sh
# The operator's edit: the account, and the API root of the emulator on loopback.
sed -i 's|^account_id = .*|account_id = "$account"|; s|^api_base_url = .*|api_base_url = "$url/client/v4"|' "\$1"
EOF
    chmod 0755 "$root/root/edit-config"
    emulator_ready=1
}

while IFS= read -r command; do
    if [[ "$command" == "#section "* ]]; then
        section="$command"
        say "${command#\#}"
        [[ "$command" == "#section Configure "* ]] && start_emulator
        continue
    fi
    case "$command" in
        make\ deb*) say "skip (built already): $command"; continue ;;
    esac
    say "\$ $command"
    # Its output in a log, shown when it fails (apt's is long).
    if [[ "$command" == *"/dev/stdin"* ]]; then
        printf '%s\n' "$token" | in_root "$command" >"$root.out" 2>&1 || { cat "$root.out"; fail "$section: \`$command\` failed"; }
    else
        in_root "$command" </dev/null >"$root.out" 2>&1 || { cat "$root.out"; fail "$section: \`$command\` failed"; }
    fi
    tail -n 3 "$root.out" | sed 's/^/    /'
    rm -f "$root.out"
    if [[ "$command" == *"apt install"* ]]; then
        # What the package and its maintainer scripts must have left, before anything else touches the root.
        in_root '
            set -e
            getent passwd imagedrop >/dev/null || { echo "no imagedrop user"; exit 1; }
            getent group imagedrop >/dev/null || { echo "no imagedrop group"; exit 1; }
            [ "$(stat -c "%U:%G %a" /var/lib/imagedrop)" = "imagedrop:imagedrop 750" ] || { echo "/var/lib/imagedrop: $(stat -c "%U:%G %a" /var/lib/imagedrop)"; exit 1; }
            for d in inbox done failed; do
                [ "$(stat -c "%U:%G %a" /srv/imagedrop/$d)" = "imagedrop:imagedrop 2775" ] || { echo "/srv/imagedrop/$d: $(stat -c "%U:%G %a" /srv/imagedrop/$d)"; exit 1; }
            done
            dpkg-query -W -f="\${Conffiles}\n" imagedrop | grep -q /etc/imagedrop/imagedrop.toml
            for f in /usr/share/man/man8/imagedrop.8.gz /usr/share/man/man5/imagedrop.toml.5.gz \
                /usr/share/doc/imagedrop/README.md /usr/share/doc/imagedrop/copyright \
                /usr/share/bash-completion/completions/imagedrop /lib/systemd/system/imagedrop.service; do
                [ -f "$f" ] || { echo "$f missing"; exit 1; }
            done
            [ ! -e /usr/bin/imagedrop-emulator ] || { echo "the main package installed the emulator"; exit 1; }
            imagedrop --version | head -n 1 | grep -Eq "^imagedrop [^ ]+ \(commit [0-9a-f]{7,}" \
                || { echo "--version has no commit: $(imagedrop --version | head -n 1)"; exit 1; }
        ' || fail "after \`$command\`: the installed package is not as it should be"
        say "installed: user and group imagedrop, /var/lib/imagedrop imagedrop:imagedrop 0750, drop folders 2775, conffile, man pages, README, completions, --version with a commit"
    fi
done <<<"$commands"
((emulator_ready)) || fail "the docs have no Configure section with commands"

# Beyond the docs' first check: the service's user uploads a dropped image with the token handed over the same way.
say "run --once as imagedrop: one image dropped into /srv/imagedrop/inbox"
python3 -c '
import struct, sys, zlib
def chunk(kind, data): return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))' >"$root/srv/imagedrop/inbox/first.png"
summary="$(in_root 'sh -c '\''CLOUDFLARE_API_TOKEN="$(cat /etc/imagedrop/api-token)" runuser -u imagedrop -- imagedrop run --once'\''' </dev/null)" \
    || fail "run --once failed: $summary"
say "$summary"
[[ "$summary" == "1 uploaded,"* ]] || fail "run --once did not upload the image: $summary"
in_root 'runuser -u imagedrop -- imagedrop export --format csv' | grep -q '/srv/imagedrop/inbox/first.png' \
    || fail "export does not list the uploaded image"

say "remove and purge"
in_root 'apt-get remove -y -qq imagedrop >/dev/null && dpkg --purge imagedrop >/dev/null' || fail "remove/purge failed"
[[ -f "$root/var/lib/imagedrop/jobs.sqlite3" ]] || fail "purge deleted the job table (the operator's data)"
say "ok: the docs' install and configure commands work on a fresh $suite root ($((SECONDS - start)) s)"
