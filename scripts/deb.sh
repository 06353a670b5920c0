#!/usr/bin/env bash
# Builds the two Debian packages from the static release build (`make deb`), checks them, runs lintian.
#
#   scripts/deb.sh    # -> dist/imagedrop_<version>_<arch>.deb and dist/imagedrop-emulator_<version>_<arch>.deb
#
# imagedrop: the daemon, its unit, sysusers.d and tmpfiles.d entries, the example config as a conffile, the
# man pages imagedrop(8) and imagedrop.toml(5), bash/zsh/fish completions, and the README (with docs/*.md)
# under /usr/share/doc/imagedrop. imagedrop-emulator: the emulator and imagedrop-emulator(1).
# The version is the one `imagedrop --version` prints (BuildInfo.version); the commit is `git rev-parse HEAD`
# (COMMIT=... for a tree without .git), written to Sources/CBuildInfo/build_commit.h for the build only.
# Checks that fail the build: --version carries the version and commit; each man page renders without a groff
# warning and has its sections; the completions offer the job states; lintian reports nothing (W: or E:).
# Environment: SCRATCH_PATH [.build-static, shared with scripts/soak.sh] keeps the static release build apart
# from the working .build; COMMIT overrides the commit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf 'deb: %s\n' "$*"; }
fail() { printf 'deb: %s\n' "$*" >&2; exit 1; }

version="$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/ImagedropSupport/BuildInfo.swift)"
[[ -n "$version" ]] || fail "cannot read BuildInfo.version"
arch="$(dpkg --print-architecture)"
scratch="${SCRATCH_PATH:-$root/.build-static}"
if [[ -z "${COMMIT:-}" ]]; then
    COMMIT="$(git rev-parse --short=12 HEAD 2>/dev/null)" || fail "not a git checkout: set COMMIT=<sha> for the version line"
    git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || COMMIT="$COMMIT-dirty"
fi
[[ "$COMMIT" =~ ^[0-9A-Za-z._-]+$ ]] || fail "COMMIT=$COMMIT: letters, digits, . _ - only"
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"

stage="$(mktemp -d)"
header="Sources/CBuildInfo/build_commit.h"
trap 'rm -rf "$stage" "$header"' EXIT
printf '#define IMAGEDROP_BUILD_COMMIT "%s"\n' "$COMMIT" >"$header"
# A header that did not exist at the last compile is in no dependency file: build_info.c's __has_include would not
# be looked at again (the soak's build of the same folder, run first in CI, left "unknown"). Touching the one file
# that includes it recompiles just that file.
touch Sources/CBuildInfo/build_info.c

# shellcheck source=layout-flags.sh
. scripts/layout-flags.sh
read -ra layout <<<"$LAYOUT_FLAGS"
read -ra static <<<"$STATIC_FLAGS"
flags=(-c release "${static[@]}" "${layout[@]}" --scratch-path "$scratch")
bin="$(swift build "${flags[@]}" --show-bin-path)"
layout_check "$bin"
say "building: swift build ${flags[*]} (imagedrop, imagedrop-emulator; commit $COMMIT)"
swift build "${flags[@]}" --product imagedrop
swift build "${flags[@]}" --product imagedrop-emulator
rm -f "$header"
# `--version`'s first line: "imagedrop VERSION (commit SHA)".
first="$("$bin/imagedrop" --version | head -n 1)"
[[ "$first" == "imagedrop $version (commit $COMMIT)" ]] || fail "binary says \"$first\", expected \"imagedrop $version (commit $COMMIT)\""

# --- imagedrop ---
pkg="$stage/imagedrop"
docs="$pkg/usr/share/doc/imagedrop"
install -d -m 0755 "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/usr/lib/sysusers.d" \
    "$pkg/usr/lib/tmpfiles.d" "$pkg/etc/imagedrop" "$pkg/usr/share/man/man8" "$pkg/usr/share/man/man5" "$docs" \
    "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
    "$pkg/usr/share/fish/vendor_completions.d"

install -m 0755 -s "$bin/imagedrop" "$pkg/usr/bin/imagedrop"
sed "s|/usr/local/bin/imagedrop|/usr/bin/imagedrop|g" systemd/imagedrop.service >"$pkg/lib/systemd/system/imagedrop.service"
chmod 0644 "$pkg/lib/systemd/system/imagedrop.service"
install -m 0644 systemd/imagedrop.sysusers "$pkg/usr/lib/sysusers.d/imagedrop.conf"
install -m 0644 systemd/imagedrop.tmpfiles "$pkg/usr/lib/tmpfiles.d/imagedrop.conf"
install -m 0644 config/imagedrop.toml "$pkg/etc/imagedrop/imagedrop.toml"

# Completions come from the same ArgumentParser definitions as the binary. bash-completion sources the file: no #! line.
"$bin/imagedrop" --generate-completion-script bash | sed '1{/^#!/d}' >"$pkg/usr/share/bash-completion/completions/imagedrop"
"$bin/imagedrop" --generate-completion-script zsh >"$pkg/usr/share/zsh/vendor-completions/_imagedrop"
"$bin/imagedrop" --generate-completion-script fish >"$pkg/usr/share/fish/vendor_completions.d/imagedrop.fish"
chmod 0644 "$pkg"/usr/share/*/completions/* "$pkg"/usr/share/zsh/vendor-completions/* "$pkg"/usr/share/fish/vendor_completions.d/*
for shell_file in "$pkg"/usr/share/*/completions/imagedrop "$pkg"/usr/share/zsh/vendor-completions/_imagedrop \
    "$pkg"/usr/share/fish/vendor_completions.d/imagedrop.fish; do
    for word in queued uploading retrying done failed trace critical ndjson; do
        grep -q "$word" "$shell_file" || fail "completion ${shell_file#"$pkg"}: no \"$word\" (the --state / --log-level / --format values)"
    done
done

# Man pages: packaging/man/*.md rendered by packaging/man/render.py, with the commands and options of the
# binaries' own definitions and every key of the annotated example config.
man_date="$(date -u -d @"$epoch" +%Y-%m-%d)"
"$bin/imagedrop" --experimental-dump-help >"$stage/imagedrop.json"
"$bin/imagedrop-emulator" --experimental-dump-help >"$stage/imagedrop-emulator.json"
python3 packaging/man/render.py page packaging/man/imagedrop.8.md "$stage/imagedrop.json" "$man_date" "$version" >"$stage/imagedrop.8"
python3 packaging/man/render.py config packaging/man/imagedrop.toml.5.md config/imagedrop.toml "$man_date" "$version" >"$stage/imagedrop.toml.5"
python3 packaging/man/render.py page packaging/man/imagedrop-emulator.1.md "$stage/imagedrop-emulator.json" "$man_date" "$version" >"$stage/imagedrop-emulator.1"
scripts/check-man.sh "$stage/imagedrop.8" "$stage/imagedrop.toml.5" "$stage/imagedrop-emulator.1"
gzip -9n <"$stage/imagedrop.8" >"$pkg/usr/share/man/man8/imagedrop.8.gz"
gzip -9n <"$stage/imagedrop.toml.5" >"$pkg/usr/share/man/man5/imagedrop.toml.5.gz"
chmod 0644 "$pkg"/usr/share/man/man*/*.gz

# The README and the manual pages of docs/ (if the tree has them), where an operator of the package looks.
install -m 0644 README.md "$docs/README.md"
if compgen -G "docs/*.md" >/dev/null; then
    install -d -m 0755 "$docs/docs"
    install -m 0644 docs/*.md "$docs/docs/"
    # The status endpoint's page links its screenshots: installed beside it, so the installed copy shows them too.
    if compgen -G "docs/screenshots/*.png" >/dev/null; then
        install -d -m 0755 "$docs/docs/screenshots"
        install -m 0644 docs/screenshots/*.png "$docs/docs/screenshots/"
    fi
fi
changelog() {
    sed "s/^imagedrop /$1 /; s/@VERSION@/$version/; s/@DATE@/$(date -u -R -d @"$epoch")/" packaging/debian/changelog \
        | gzip -9n >"$2/changelog.gz"
    chmod 0644 "$2/changelog.gz"
    install -m 0644 packaging/debian/copyright "$2/copyright"
}
changelog imagedrop "$docs"

for script in postinst prerm postrm; do install -m 0755 "packaging/debian/$script" "$pkg/DEBIAN/$script"; done
echo /etc/imagedrop/imagedrop.toml >"$pkg/DEBIAN/conffiles"

# --- imagedrop-emulator ---
emu="$stage/imagedrop-emulator"
install -d -m 0755 "$emu/DEBIAN" "$emu/usr/bin" "$emu/usr/share/man/man1" "$emu/usr/share/doc/imagedrop-emulator"
install -m 0755 -s "$bin/imagedrop-emulator" "$emu/usr/bin/imagedrop-emulator"
gzip -9n <"$stage/imagedrop-emulator.1" >"$emu/usr/share/man/man1/imagedrop-emulator.1.gz"
chmod 0644 "$emu/usr/share/man/man1/imagedrop-emulator.1.gz"
changelog imagedrop-emulator "$emu/usr/share/doc/imagedrop-emulator"

control() {   # $1 template, $2 package root
    local size
    size="$(du -sk --exclude=DEBIAN "$2" | cut -f1)"
    sed "s/@VERSION@/$version/; s/@ARCH@/$arch/; s/@SIZE@/$size/" "$1" >"$2/DEBIAN/control"
}
control packaging/debian/control "$pkg"
control packaging/debian/control.emulator "$emu"

mkdir -p dist
out="dist/imagedrop_${version}_${arch}.deb"
emu_out="dist/imagedrop-emulator_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
dpkg-deb --root-owner-group -Zxz --build "$emu" "$emu_out" >/dev/null
say "built $out and $emu_out"
contents="$(dpkg-deb --contents "$out")"
printf '%s\n' "$contents"
for path in usr/bin/imagedrop lib/systemd/system/imagedrop.service \
    usr/lib/sysusers.d/imagedrop.conf usr/lib/tmpfiles.d/imagedrop.conf etc/imagedrop/imagedrop.toml \
    usr/share/man/man8/imagedrop.8.gz usr/share/man/man5/imagedrop.toml.5.gz usr/share/doc/imagedrop/README.md \
    usr/share/bash-completion/completions/imagedrop \
    usr/share/zsh/vendor-completions/_imagedrop usr/share/fish/vendor_completions.d/imagedrop.fish; do
    grep -q " \./$path\$" <<<"$contents" || fail "$path missing from the package"
done
! grep -q 'imagedrop-emulator' <<<"$contents" || fail "the emulator belongs in imagedrop-emulator, not in imagedrop"
emu_contents="$(dpkg-deb --contents "$emu_out")"
printf '%s\n' "$emu_contents"
for path in usr/bin/imagedrop-emulator usr/share/man/man1/imagedrop-emulator.1.gz; do
    grep -q " \./$path\$" <<<"$emu_contents" || fail "$path missing from imagedrop-emulator"
done
for deb in "$out" "$emu_out"; do
    [[ "$(dpkg-deb --field "$deb" Version)" == "$version" ]] || fail "$deb: wrong Version field"
done
dpkg-deb --ctrl-tarfile "$out" | tar -xO ./conffiles | grep -qx /etc/imagedrop/imagedrop.toml \
    || fail "the config is not a conffile"

if command -v lintian >/dev/null; then
    say "lintian:"
    # Every tag at warning level or above fails the build; the overrides (packaging/debian/*.lintian-overrides)
    # say why each one does not apply to a package built outside the Debian archive.
    report="$(lintian --fail-on warning,error "$out" "$emu_out")" || { printf '%s\n' "$report"; fail "lintian failed"; }
    printf '%s\n' "$report"
    ! grep -qE '^[WE]: ' <<<"$report" || fail "lintian reported warnings or errors"
    say "lintian: clean"
else
    say "lintian is not installed (apt-get install lintian); skipped"
fi
