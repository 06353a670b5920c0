#!/usr/bin/env bash
# Rewrites `public` to `package` in every library target that is no product: the daemon's layers (what crosses a
# layer is `package`, the README's Layout section), the test kit and the benchmark's ProcessHarness, so nothing
# outside this package can come to depend on them. ImagesEmulator stays `public` (a library product; its public
# API shows no type of these targets, which the build checks); the executables, benchmark, soak, fuzz driver and tests
# are in this package and see `package` declarations. A one-off: run once, build, commit (issue 21).
#
# Only the access modifier of a declaration is rewritten: `public` at a declaration's start (after attributes and
# before a declaration keyword or modifier), `public(set)`, and `public import`; never a word in a comment or a string.
#
# Usage: scripts/dev/package-access.sh          rewrite in place; prints how many declarations in how many files
#        scripts/dev/package-access.sh --check  rewrite nothing; exit 1 if a `public` is left
set -euo pipefail
cd "$(dirname "$0")/../.."

check=0
case "${1:-}" in
    "") ;;
    --check) check=1 ;;
    *) echo "usage: scripts/dev/package-access.sh [--check]" >&2; exit 2 ;;
esac

CHECK="$check" python3 - Sources/Imagedrop{Support,Parsing,System,Store,Pipeline,Daemon,TestSupport,StoreTestSupport} \
    Benchmarks/ProcessHarness <<'PY'
import os, re, sys

# `public` as an access modifier: followed by a declaration keyword, another modifier or `(set)`.
follows = (r"(?:\(set\)|\s+(?:static|class|final|let|var|func|init|deinit|subscript|struct|enum|protocol|"
           r"typealias|actor|extension|import|convenience|required|override|nonisolated|mutating|nonmutating|"
           r"lazy|weak|unowned|indirect|dynamic|private\(set\)|fileprivate\(set\)|internal\(set\)|"
           r"package\(set\)|consuming|borrowing|distributed|macro|operator|prefix|postfix|infix|@))")
modifier = re.compile(r"(?<![\w.\"/])public(?=" + follows + r")")

check = os.environ["CHECK"] == "1"
changed_files = changed = 0
for top in sys.argv[1:]:
    for root, _, files in os.walk(top):
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(root, name)
            lines = open(path, encoding="utf-8").read().split("\n")
            in_string = False
            count = 0
            for i, line in enumerate(lines):
                # Skip multi-line string literals and the comment part of a line.
                if line.count('"""') % 2 == 1:
                    if not in_string:   # a declaration may open the literal: `public static let help = """`
                        head, quotes, rest = line.partition('"""')
                        rewritten, n = modifier.subn("package", head)
                        lines[i] = rewritten + quotes + rest
                        count += n
                    in_string = not in_string
                    continue
                if in_string or line.lstrip().startswith("//"):
                    continue
                code, sep, comment = line.partition("//")
                rewritten, n = modifier.subn("package", code)
                if n:
                    lines[i] = rewritten + sep + comment
                    count += n
            if count:
                changed_files += 1
                changed += count
                if check:
                    print(f"{path}: {count} public declaration(s)")
                else:
                    open(path, "w", encoding="utf-8").write("\n".join(lines))
verb = "left" if check else "rewritten to package"
print(f"package-access: {changed} public modifiers in {changed_files} files {verb}")
if check and changed:
    sys.exit(1)
PY
