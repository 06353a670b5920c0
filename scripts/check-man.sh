#!/usr/bin/env bash
# Checks rendered man pages (scripts/deb.sh runs it on the pages it packages):
#
#   scripts/check-man.sh imagedrop.8 imagedrop.toml.5 imagedrop-emulator.1
#
# Each page renders without a single groff/man warning (the command lintian runs), has the sections its kind
# needs, and imagedrop.toml(5) names every key of config/imagedrop.toml. Exit 1 naming the first problem.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fail() { printf 'check-man: %s\n' "$*" >&2; exit 1; }
(($# > 0)) || fail "usage: scripts/check-man.sh PAGE..."
command -v man >/dev/null || fail "man is not installed (apt-get install man-db)"

for page in "$@"; do
    name="$(basename "$page")"
    warnings="$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)"
    [[ -z "$warnings" ]] || fail "$name: groff warnings: $warnings"
    text="$(LC_ALL=C.UTF-8 MANWIDTH=80 man -E UTF-8 -l "$page" 2>/dev/null | col -b)"
    case "$name" in
        imagedrop.8) sections=(NAME SYNOPSIS DESCRIPTION COMMANDS FILES CONFIGURATION SIGNALS "EXIT STATUS" ENVIRONMENT "SEE ALSO") ;;
        *.5) sections=(NAME SYNOPSIS DESCRIPTION KEYS FILES "SEE ALSO") ;;
        *) sections=(NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" "SEE ALSO") ;;
    esac
    ! grep -n '`' <<<"$text" | head -n 3 | grep . || fail "$name: a Markdown code span left unrendered (above)"
    for section in "${sections[@]}"; do
        grep -qx "$section" <<<"$text" || fail "$name: no $section section"
    done
    case "$name" in
        imagedrop.8)
            for command in run status enqueue retry show list export check prune dismiss reconcile pause resume \
                "webhook retry" "fleet status"; do
                grep -qE "^ +imagedrop $command\$" <<<"$text" || fail "$name: COMMANDS has no \"imagedrop $command\""
            done ;;
        *.5)
            # Every key of the annotated config, set or commented (up to the [[source]] example, shown as written), as "key = value" at the start of a line.
            while read -r key; do
                grep -qE "^ +$key = " <<<"$text" || fail "$name: the config key $key is missing"
            done < <(sed -nE '/^# \[\[source\]\]$/q; s/^(# ?)?([a-z0-9_]+) *=.*/\2/p' "$root/config/imagedrop.toml" | sort -u)
            ;;
    esac
    printf 'check-man: %s: no warnings, %d sections\n' "$name" "${#sections[@]}"
done
