# Sourced (POSIX sh) by every release build of what ships (scripts/deb.sh, scripts/install.sh) and of what measures
# it (scripts/soak.sh, scripts/bench.sh), so they share one build folder without rebuilding each other's objects.
#
# Code layout: every function in a section of its own (-function-sections), and gold places those named in
# packaging/link-order.txt (the functions the daemon runs while it uploads; scripts/dev/link-order.py writes it)
# side by side. The kernel maps a binary's code in 64 KiB windows around each page touched: together, those
# functions keep 2 MiB fewer of the binary's pages resident (docs/benchmarks.md, the fifth round). The path is
# relative: every script builds from the package root, where the linker runs.
LAYOUT_FLAGS="-Xswiftc -Xfrontend -Xswiftc -function-sections -Xlinker --section-ordering-file=packaging/link-order.txt"

# Called with the build's bin path (`swift build ... --show-bin-path`) before building. SwiftPM does not compile an
# object again when only -Xswiftc flags change, so a folder built before with other flags keeps its old layout:
# said on every build of such a folder; a folder this makes is stamped with the flags. Nor does it know the list: a
# daemon linked before the list changed is removed, so this build links it again.
layout_check() {
    if [ ! -d "$1" ]; then
        mkdir -p "$1" && printf '%s\n' "$LAYOUT_FLAGS" >"$1/.layout-flags"
    elif [ "$(cat "$1/.layout-flags" 2>/dev/null)" != "$LAYOUT_FLAGS" ]; then
        echo "layout-flags: $1 holds objects compiled with other flags (SwiftPM keeps them when only flags change): remove that build folder for the shipped code layout" >&2
    fi
    if [ -e "$1/imagedrop" ] && [ packaging/link-order.txt -nt "$1/imagedrop" ]; then
        rm -f "$1/imagedrop"
    fi
}
