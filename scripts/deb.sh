#!/usr/bin/env bash
# Builds imagedrop_<version>_amd64.deb from the static release build (`make deb`).
#
#   scripts/deb.sh            # -> dist/imagedrop_<version>_amd64.deb, then lintian if installed
#
# The version is the one `imagedrop --version` prints (BuildInfo.version). The package holds both
# binaries, the unit, sysusers.d and tmpfiles.d entries, the example config as a conffile, the man page
# imagedrop(8) and bash/zsh/fish completions (both generated from the ArgumentParser definitions).
# Environment: SCRATCH_PATH [.build-static, shared with scripts/soak.sh] keeps the static release build apart from the working .build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf 'deb: %s\n' "$*"; }

version="$(sed -n 's/.*public static let version = "\(.*\)".*/\1/p' Sources/ImagedropSupport/BuildInfo.swift)"
[[ -n "$version" ]] || { echo "deb: cannot read BuildInfo.version" >&2; exit 1; }
arch="$(dpkg --print-architecture)"
scratch="${SCRATCH_PATH:-$root/.build-static}"

flags=(-c release --static-swift-stdlib --scratch-path "$scratch")
say "building: swift build ${flags[*]} (imagedrop, imagedrop-emulator)"
swift build "${flags[@]}" --product imagedrop
swift build "${flags[@]}" --product imagedrop-emulator
bin="$(swift build "${flags[@]}" --show-bin-path)"
# `--version`'s first line: "imagedrop VERSION (commit …)".
built="$("$bin/imagedrop" --version | head -n 1 | awk '{print $2}')"
[[ "$built" == "$version" ]] || { echo "deb: binary says $built, source says $version" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/imagedrop"
install -d -m 0755 "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/usr/lib/sysusers.d" \
    "$pkg/usr/lib/tmpfiles.d" "$pkg/etc/imagedrop" "$pkg/usr/share/man/man8" "$pkg/usr/share/doc/imagedrop" \
    "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
    "$pkg/usr/share/fish/vendor_completions.d"

install -m 0755 -s "$bin/imagedrop" "$pkg/usr/bin/imagedrop"
install -m 0755 -s "$bin/imagedrop-emulator" "$pkg/usr/bin/imagedrop-emulator"
sed "s|/usr/local/bin/imagedrop|/usr/bin/imagedrop|g" systemd/imagedrop.service >"$pkg/lib/systemd/system/imagedrop.service"
chmod 0644 "$pkg/lib/systemd/system/imagedrop.service"
install -m 0644 systemd/imagedrop.sysusers "$pkg/usr/lib/sysusers.d/imagedrop.conf"
install -m 0644 systemd/imagedrop.tmpfiles "$pkg/usr/lib/tmpfiles.d/imagedrop.conf"
install -m 0644 config/imagedrop.toml "$pkg/etc/imagedrop/imagedrop.toml"

# Completions and the man page come from the same ArgumentParser definitions as the binary.
# bash-completion sources the file: no #! line.
"$bin/imagedrop" --generate-completion-script bash | sed '1{/^#!/d}' >"$pkg/usr/share/bash-completion/completions/imagedrop"
"$bin/imagedrop" --generate-completion-script zsh >"$pkg/usr/share/zsh/vendor-completions/_imagedrop"
"$bin/imagedrop" --generate-completion-script fish >"$pkg/usr/share/fish/vendor_completions.d/imagedrop.fish"
chmod 0644 "$pkg"/usr/share/*/completions/* "$pkg"/usr/share/zsh/vendor-completions/* "$pkg"/usr/share/fish/vendor_completions.d/*
# The plugin builds every product first; the debug configuration in the working .build is usually built
# already, and the page only depends on the command definitions, not on how the binary was compiled.
say "man page: swift package plugin generate-manual --section 8"
swift package plugin generate-manual --configuration debug --section 8 \
    --date "$(date -u -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}" +%Y-%m-%d)" --authors "imagedrop developers" >/dev/null
manual="$(find "$root/.build/plugins" -name imagedrop.8 -path '*GenerateManual*' | head -1)"
[[ -f "$manual" ]] || { echo "deb: generate-manual produced no imagedrop.8" >&2; exit 1; }
gzip -9n <"$manual" >"$pkg/usr/share/man/man8/imagedrop.8.gz"
gzip -9n <"$(dirname "$manual")/../imagedrop-emulator/imagedrop-emulator.8" >"$pkg/usr/share/man/man8/imagedrop-emulator.8.gz"
chmod 0644 "$pkg"/usr/share/man/man8/*.gz

install -m 0644 packaging/debian/copyright "$pkg/usr/share/doc/imagedrop/copyright"
sed "s/@VERSION@/$version/; s/@DATE@/$(date -u -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}")/" \
    packaging/debian/changelog | gzip -9n >"$pkg/usr/share/doc/imagedrop/changelog.gz"
chmod 0644 "$pkg/usr/share/doc/imagedrop/changelog.gz"

for script in postinst prerm postrm; do install -m 0755 "packaging/debian/$script" "$pkg/DEBIAN/$script"; done
echo /etc/imagedrop/imagedrop.toml >"$pkg/DEBIAN/conffiles"
size="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
sed "s/@VERSION@/$version/; s/@ARCH@/$arch/; s/@SIZE@/$size/" packaging/debian/control >"$pkg/DEBIAN/control"

mkdir -p dist
out="dist/imagedrop_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
say "built $out"
contents="$(dpkg-deb --contents "$out")"
printf '%s\n' "$contents"
for path in usr/bin/imagedrop usr/bin/imagedrop-emulator lib/systemd/system/imagedrop.service \
    usr/lib/sysusers.d/imagedrop.conf usr/lib/tmpfiles.d/imagedrop.conf etc/imagedrop/imagedrop.toml \
    usr/share/man/man8/imagedrop.8.gz usr/share/bash-completion/completions/imagedrop \
    usr/share/zsh/vendor-completions/_imagedrop usr/share/fish/vendor_completions.d/imagedrop.fish; do
    grep -q " \./$path\$" <<<"$contents" || { echo "deb: $path missing from the package" >&2; exit 1; }
done
[[ "$(dpkg-deb --field "$out" Version)" == "$version" ]] || { echo "deb: wrong Version field" >&2; exit 1; }
dpkg-deb --ctrl-tarfile "$out" | tar -xO ./conffiles | grep -qx /etc/imagedrop/imagedrop.toml \
    || { echo "deb: the config is not a conffile" >&2; exit 1; }
if command -v lintian >/dev/null; then
    say "lintian:"
    lintian --fail-on error "$out"
else
    say "lintian is not installed (apt-get install lintian); skipped"
fi
