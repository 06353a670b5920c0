#!/usr/bin/env python3
"""Sizes of the Swift code in Sources/ (the emulator excluded): the largest types and the functions over 60 lines.

A type's size is the brace-balanced span of its declaration (`class`/`struct`/`enum`/`actor`/`protocol`, not its
extensions), a function's that of its `func`/`init`, first line to closing brace. String literals and comments are
blanked before braces are counted. Used for the before/after table in docs/layout.md.

    scripts/dev/sizes.py [ROOT]        # ROOT holds Sources/ (default: the checkout)
"""
import os
import re
import sys

DECL = re.compile(
    r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:package|public|private|fileprivate|internal|final|static|override|"
    r"mutating|nonisolated|convenience|required|indirect|private\(set\)|package\(set\))\s+)*"
    r"(?P<kind>class|struct|enum|actor|protocol|func|init)\b\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)?")


def blank(text):
    """Blanks comments and string literals (keeping newlines), so braces inside them are not counted."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('"""', i):
            j = text.find('"""', i + 3)
            j = n if j < 0 else j + 3
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text[i] == '"':
            j = i + 1
            depth = 0
            while j < n and text[j] != "\n":
                if text[j] == "\\" and j + 1 < n and text[j + 1] == "(":
                    depth += 1
                    j += 2
                    continue
                if depth and text[j] == ")":
                    depth -= 1
                elif text[j] == "\\":
                    j += 1
                elif text[j] == '"' and not depth:
                    break
                j += 1
            out.append(" " * (j + 1 - i))
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def spans(path):
    lines = blank(open(path, encoding="utf-8").read()).split("\n")
    found = []
    for start, line in enumerate(lines):
        match = DECL.match(line)
        if not match:
            continue
        depth, opened = 0, False
        for end in range(start, len(lines)):
            for ch in lines[end]:
                if ch == "{":
                    depth += 1
                    opened = True
                elif ch == "}":
                    depth -= 1
            if opened and depth <= 0:
                break
            if not opened and end > start and lines[end].strip() == "" and match["kind"] in ("func", "init"):
                break  # a protocol requirement: no body
        if opened:
            found.append((match["kind"], match["name"] or "init", path, end - start + 1))
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    everything = []
    for folder, _, files in os.walk(os.path.join(root, "Sources")):
        if "ImagesEmulator" in folder:
            continue
        everything += [s for f in files if f.endswith(".swift") for s in spans(os.path.join(folder, f))]
    types = sorted((s for s in everything if s[0] not in ("func", "init")), key=lambda s: -s[3])
    functions = sorted((s for s in everything if s[0] in ("func", "init")), key=lambda s: -s[3])
    print("largest types:", ", ".join(f"{name} {size}" for _, name, _, size in types[:6]))
    long = [s for s in functions if s[3] > 60]
    print(f"functions over 60 lines: {len(long)} of {len(functions)}")
    for _, name, path, size in long:
        print(f"  {size:4} {name} ({os.path.relpath(path, root)})")
    for name in ("start", "prepare", "turn", "run", "stop"):
        for _, fname, path, size in functions:
            if fname == name and "ImagedropDaemon/Lifecycle/" in path and (
                "Daemon" in path or "MainLoop" in path):
                print(f"  {name}: {size} lines ({os.path.relpath(path, root)})")


main()
