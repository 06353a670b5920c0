#!/usr/bin/env python3
"""Writes packaging/link-order.txt: the functions the daemon runs while it uploads, for the shipped build's linker
to place side by side (scripts/layout-flags.sh). The kernel maps a binary's code 64 KiB around each page touched, so
the 3,400 functions an upload runs, spread over 14 MB of code, kept 11.7 MiB of it resident; placed together, 9.6 MiB
(docs/benchmarks.md, the fifth round).

    scripts/dev/link-order.py [--binary .build-static/release/imagedrop]

Runs `scripts/dev/sink-run.py`'s small and large sets once each under callgrind (about a minute), takes every
function callgrind saw run inside the binary (by symbol: not code it could only name by address), and writes them
as gold's `--section-ordering-file` wants them (`.text.<symbol>`, one per line, by name). Functions left out only land where they would have anyway: a stale file
costs resident pages, never correctness. Run it again after changes to the upload path, and commit the result.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SINK_RUN = os.path.join(ROOT, "scripts", "dev", "sink-run.py")
OUTPUT = os.path.join(ROOT, "packaging", "link-order.txt")
NAME = re.compile(r"\((\d+)\)(?: (.*))?")


def executed_functions(profile, binary):
    """Names of the functions callgrind recorded as run in `binary` (its `fn=` entries under that `ob=`); names are
    compressed to `(id)` after their first mention, in `fn=`, `cfn=`, `ob=` and `cob=` lines alike."""
    objects, functions, found = {}, {}, set()
    current = None
    with open(profile, errors="replace") as lines:
        for line in lines:
            key, _, value = line.partition("=")
            if key not in ("ob", "cob", "fn", "cfn"):
                continue
            value = value.strip()
            table = objects if key in ("ob", "cob") else functions
            match = NAME.fullmatch(value)
            if match:
                if match.group(2):
                    table[match.group(1)] = match.group(2)
                value = table.get(match.group(1), "")
            if key == "ob":
                current = value
            elif key == "fn" and current == binary and value and not value.startswith(("0x", "(")):
                # A recursion level is shown as name'2: the function is the same.
                found.add(re.sub(r"'\d+$", "", value))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build-static", "release", "imagedrop"))
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imagedrop-link-order-") as scratch:
        # valgrind cannot read the DWARF 5 the toolchain writes: keep the symbol table, drop the debug sections.
        binary = os.path.join(scratch, "imagedrop")
        subprocess.run(["strip", "--strip-debug", "-o", binary, options.binary], check=True)
        wrap = f"valgrind --tool=callgrind --demangle=no --dump-instr=no --callgrind-out-file={scratch}/cg.%p"
        for name in ("small", "large"):
            run = subprocess.run(
                [sys.executable, SINK_RUN, binary, "--set", name, "--rounds", "1", "--wrap", wrap],
                check=True, capture_output=True, text=True)
            # sink-run prints each round's exit status and goes on: a daemon that died under callgrind ran only part
            # of the path, and its list would be short.
            if not re.search(r"^round 1 .*: exit 0,", run.stdout, re.MULTILINE):
                sys.exit(f"link-order: the {name} set's run did not end cleanly:\n{run.stdout}{run.stderr}")
        functions = set()
        for entry in os.listdir(scratch):
            if entry.startswith("cg."):
                functions |= executed_functions(os.path.join(scratch, entry), binary)
    if not functions:
        sys.exit("link-order: callgrind recorded no function of the binary; is valgrind installed?")
    with open(OUTPUT, "w") as out:
        out.writelines(f".text.{name}\n" for name in sorted(functions))
    print(f"link-order: {len(functions)} functions written to {os.path.relpath(OUTPUT, ROOT)}")


if __name__ == "__main__":
    main()
