# Sourced (POSIX sh) by every release build of what ships (scripts/deb.sh, scripts/install.sh) and of what measures
# it (scripts/soak.sh, scripts/bench.sh), so they share one build folder without rebuilding each other's objects.
#
# Code layout: every function in a section of its own (-function-sections), and gold places those named in
# packaging/link-order.txt (the functions the daemon runs while it uploads; scripts/dev/link-order.py writes it)
# side by side. The kernel maps a binary's code in 64 KiB windows around each page touched: together, those
# functions keep 2 MiB fewer of the binary's pages resident (docs/benchmarks.md, the fifth round). The path is
# relative: every script builds from the package root, where the linker runs.
LAYOUT_COMPILE_FLAGS="-Xswiftc -Xfrontend -Xswiftc -function-sections"
LAYOUT_FLAGS="$LAYOUT_COMPILE_FLAGS -Xlinker --section-ordering-file=packaging/link-order.txt"

# A static build (what ships, what the bench and the soak measure): the Swift runtime linked in, and libstdc++ with
# it. The shared libstdc++ cost 1.4 MiB resident in every imagedrop process (its relocations, symbol tables and
# locale set-up) for the functions the static runtime and toml++ (TOMLKit's parser) call; linked in, those come
# alone (1.1 MiB less resident, the binary 0.55 MB larger; docs/benchmarks.md, the ninth round), and the .deb no
# longer needs a libstdc++6 it never declared. The driver asks for `-lstdc++`, and the linker takes the first folder
# on its -L list that has one: layout_check links the toolchain's libstdc++.a into .build-libstdc++ (without it, the
# shared library is used as before). Only with the static runtime: a dynamic build's libswiftCore.so loads the
# shared libstdc++ anyway, and a second copy linked into the binary would sit beside it.
STATIC_FLAGS="--static-swift-stdlib -Xlinker -L.build-libstdc++"

# Called with the build's bin path (`swift build ... --show-bin-path`) before building. SwiftPM does not compile an
# object again when only -Xswiftc flags change, so a folder built before with other flags keeps its old layout:
# said on every build of such a folder; a folder this makes is stamped with the flags (a stamp that begins with
# them and then linker flags holds the same objects: older stamps carried the linker's flags too). Nor does it know
# the list, or the libstdc++ the -L folder offers: a daemon linked before either changed is removed, so this build
# links it again.
layout_check() {
    static_libstdcxx "$1"
    stamp="$(cat "$1/.layout-flags" 2>/dev/null || true)"
    if [ ! -d "$1" ]; then
        mkdir -p "$1" && printf '%s\n' "$LAYOUT_COMPILE_FLAGS" >"$1/.layout-flags"
    elif [ "$stamp" != "$LAYOUT_COMPILE_FLAGS" ] && [ "${stamp#"$LAYOUT_COMPILE_FLAGS -Xlinker "}" = "$stamp" ]; then
        echo "layout-flags: $1 holds objects compiled with other flags (SwiftPM keeps them when only flags change): remove that build folder for the shipped code layout" >&2
    fi
    if [ -e "$1/imagedrop" ] && [ packaging/link-order.txt -nt "$1/imagedrop" ]; then
        rm -f "$1/imagedrop"
    fi
}

# The folder STATIC_FLAGS' -L names, holding a link to the toolchain's libstdc++.a (the clang beside `swift`, which
# the Swift driver links with, knows where its GCC installation keeps it); no folder when there is none, so the link
# falls back to the shared library. The binaries in $1 are removed when what the folder offers changed: SwiftPM links
# again only when its own command changes, and this one does not.
static_libstdcxx() {
    compiler="$(dirname "$(command -v swift 2>/dev/null || echo /nonexistent/swift)")/clang"
    [ -x "$compiler" ] || compiler=clang
    archive="$("$compiler" -print-file-name=libstdc++.a 2>/dev/null || true)"
    before="$(readlink .build-libstdc++/libstdc++.a 2>/dev/null || true)"
    case "$archive" in
    /*) mkdir -p .build-libstdc++ && ln -sfn "$archive" .build-libstdc++/libstdc++.a ;;
    *)
        archive=""
        rm -rf .build-libstdc++
        echo "layout-flags: no libstdc++.a beside the toolchain's clang: static builds link the shared libstdc++" >&2
        ;;
    esac
    if [ "$before" != "$archive" ]; then
        rm -f "$1/imagedrop" "$1/imagedrop-emulator"
    fi
}
