# Sourced (POSIX sh) by every release build of what ships (scripts/deb.sh, scripts/install.sh) and of what measures
# it (scripts/soak.sh, scripts/bench.sh), so they share one build folder without rebuilding each other's objects.
#
# Code layout: every function in a section of its own (-function-sections), and gold places those named in
# packaging/link-order.txt (the functions the daemon runs while it uploads; scripts/dev/link-order.py writes it)
# side by side. The kernel maps a binary's code in 64 KiB windows around each page touched: together, those
# functions keep 2 MiB fewer of the binary's pages resident (docs/benchmarks.md, the fifth round). The path is
# relative: every script builds from the package root, where the linker runs.
#
# libstdc++ linked in, not loaded: the static Swift runtime is its only user in the process, and the shared library
# cost 1.4 MiB resident in every imagedrop process (its relocations, symbol tables and locale setup) for the few
# functions the runtime calls; linked in, those come along alone (1.1 MiB less resident, the binary 0.55 MB larger;
# docs/benchmarks.md, the ninth round). It also removes a dependency the .deb never declared. The driver asks for
# `-lstdc++`, and the linker takes the first folder on its -L list that has one: layout_check links the toolchain's
# libstdc++.a into .build-libstdc++. Without that folder (no libstdc++.a found) the shared library is used, as before.
LAYOUT_COMPILE_FLAGS="-Xswiftc -Xfrontend -Xswiftc -function-sections"
LAYOUT_FLAGS="$LAYOUT_COMPILE_FLAGS -Xlinker --section-ordering-file=packaging/link-order.txt -Xlinker -L.build-libstdc++"

# Called with the build's bin path (`swift build ... --show-bin-path`) before building. SwiftPM does not compile an
# object again when only -Xswiftc flags change, so a folder built before with other flags keeps its old layout:
# said on every build of such a folder; a folder this makes is stamped with the flags (a stamp that begins with
# them holds the same objects: older stamps carried the linker's flags too). Nor does it know the list: a daemon
# linked before the list changed is removed, so this build links it again. Linker flags need no check: a change of
# them links again.
layout_check() {
    static_libstdcxx
    stamp="$(cat "$1/.layout-flags" 2>/dev/null || true)"
    if [ ! -d "$1" ]; then
        mkdir -p "$1" && printf '%s\n' "$LAYOUT_COMPILE_FLAGS" >"$1/.layout-flags"
    elif [ "${stamp#"$LAYOUT_COMPILE_FLAGS"}" = "$stamp" ]; then
        echo "layout-flags: $1 holds objects compiled with other flags (SwiftPM keeps them when only flags change): remove that build folder for the shipped code layout" >&2
    fi
    if [ -e "$1/imagedrop" ] && [ packaging/link-order.txt -nt "$1/imagedrop" ]; then
        rm -f "$1/imagedrop"
    fi
}

# The folder LAYOUT_FLAGS' -L names, holding a link to the toolchain's libstdc++.a (the clang the Swift driver links
# with knows where its GCC installation keeps it); no folder when there is none, so the link falls back to the
# shared library.
static_libstdcxx() {
    archive="$(clang -print-file-name=libstdc++.a 2>/dev/null || true)"
    case "$archive" in
    /*) mkdir -p .build-libstdc++ && ln -sfn "$archive" .build-libstdc++/libstdc++.a ;;
    *)
        rm -rf .build-libstdc++
        echo "layout-flags: no libstdc++.a beside the toolchain's clang: linking the shared libstdc++" >&2
        ;;
    esac
}
