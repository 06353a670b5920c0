#!/usr/bin/env python3
"""Renders the man pages from text in the repository (scripts/deb.sh runs it; python3 only, no pandoc).

    render.py page SOURCE.md DUMP.json DATE VERSION     # imagedrop(8), imagedrop-emulator(1)
    render.py config SOURCE.md CONFIG.toml DATE VERSION  # imagedrop.toml(5)

SOURCE.md holds the prose sections in a small Markdown subset (see packaging/man/README.md). Two
placeholders pull in what must not be written twice: {{COMMANDS}} / {{OPTIONS}} become the commands and
options of the program's ArgumentParser definitions (DUMP.json: `PROGRAM --experimental-dump-help`), and
{{KEYS}} every key of the annotated example config, section by section, with its default and its comment.
The output is man(7) roff in plain ASCII (other characters as groff escapes), with no empty lines.
"""
import json
import re
import sys

SPECIAL = {"—": r"\(em", "–": r"\(en", "…": "...", "×": r"\(mu", "≤": r"\(<=", "≥": r"\(>=", "→": r"\(->",
           "▶": r"\(->", "◀": r"\(<-", "‘": r"\(oq", "’": r"\(cq", "“": r"\(lq", "”": r"\(rq", "·": r"\(pc",
           "│": "|", "─": "-", "▼": "v", "▲": "^"}


def escape(text):
    """Roff-escapes plain text: backslashes, hyphens in words that are options or names, non-ASCII."""
    out = []
    for ch in text.replace("\\", r"\e"):
        if ch == "-":
            out.append(r"\-")
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(SPECIAL.get(ch, r"\[u%04X]" % ord(ch)))
    return "".join(out)


def inline(text):
    """`code` in bold, *emphasis* in italics, the rest escaped."""
    parts = re.split(r"(`[^`]+`|\*[^*\s][^*]*\*)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(r"\fB" + escape(part[1:-1]) + r"\fR")
        elif part.startswith("*") and part.endswith("*") and len(part) > 2:
            out.append(r"\fI" + escape(part[1:-1]) + r"\fR")
        else:
            out.append(escape(part))
    return "".join(out)


def nofill(text):
    """One line of a no-fill block, indentation kept."""
    text = escape(text.rstrip())
    if not text.strip():
        return r"\&"
    return "\\&" + text if text[:1] in (".", "'") else text


def line(text):
    """One output line of running text: a leading dot or quote would be read as a request."""
    text = text.strip()
    return "\\&" + text if text[:1] in (".", "'") else text


def markdown(source, placeholders):
    """The Markdown subset: `# SECTION`, `## Subsection`, paragraphs, `* term: text` tagged items (the term
    may be in backquotes), indented continuation lines, ``` blocks, and {{PLACEHOLDER}} lines."""
    out = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        i += 1
        if not stripped:
            continue
        if stripped in placeholders:
            out.extend(placeholders[stripped])
        elif stripped.startswith("## "):
            out.append(".SS " + escape(stripped[3:]))
        elif stripped.startswith("# "):
            out.append(".SH " + escape(stripped[2:].upper()))
        elif stripped.startswith("```"):
            out.extend([".RS 4", ".nf"])
            while i < len(lines) and not lines[i].strip().startswith("```"):
                out.append(nofill(lines[i]))
                i += 1
            i += 1
            out.extend([".fi", ".RE"])
        elif stripped.startswith("* "):
            term, _, rest = stripped[2:].partition(": ")
            body = [rest]
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                body.append(lines[i].strip())
                i += 1
            out.extend([".TP", line(inline(term))] + [line(inline(b)) for b in body if b])
        else:
            body = [stripped]
            while i < len(lines) and lines[i].strip() and not re.match(r"\s*(#|\* |```|\{\{)", lines[i]):
                body.append(lines[i].strip())
                i += 1
            out.append(".PP")
            out.extend(line(inline(b)) for b in body)
    return out


def option_term(arg):
    names = sorted(arg.get("names", []), key=lambda n: n["kind"] != "short")
    shown = ", ".join(("-" if n["kind"] == "short" else "--") + n["name"] for n in names)
    if arg["kind"] == "positional":
        shown = arg["valueName"].upper()
    elif arg["kind"] == "option":
        shown += " " + arg["valueName"].upper()
    return r"\fB" + escape(shown) + r"\fR" + (" ..." if arg.get("isRepeating") and arg["kind"] != "flag" else "")


def options(args, skip=()):
    out = []
    for arg in args:
        if not arg.get("shouldDisplay", True) or any(n["name"] in skip for n in arg.get("names", [])):
            continue
        out.extend([".TP", option_term(arg), line(inline(arg.get("abstract", "")))])
    return out


def synopsis(path, command):
    parts = []
    for arg in command.get("arguments", []):
        if not arg.get("shouldDisplay", True) or any(n["name"] in ("help", "version") for n in arg.get("names", [])):
            continue
        term = option_term(arg)
        term = term if arg["kind"] == "positional" and not arg.get("isOptional") else "[" + term + "]"
        parts.append(term.replace(" ", "\\ "))   # an option and its value never split across lines
    return r"\fB" + escape(path) + r"\fR " + " ".join(parts)


def discussion(text):
    """A command's discussion: its indented lines (examples, aligned comments) kept as written, the rest
    filled as paragraphs, a new one at a blank line or at a line that starts a topic ("Exit codes:")."""
    out, verbatim = [], False
    for raw in text.strip("\n").splitlines():
        if raw.startswith(" ") and raw.strip():
            if not verbatim:
                out.extend([".RS 2", ".nf"])
                verbatim = True
            out.append(nofill(raw))
            continue
        if verbatim:
            out.extend([".fi", ".RE"])
            verbatim = False
            if raw.strip():
                out.append(".PP")
        if not raw.strip():
            out.append(".PP")
        elif re.match(r"(Exit codes|Examples?)\b", raw) or not out:
            out.extend([".PP", line(inline(raw))])
        else:
            out.append(line(inline(raw)))
    if verbatim:
        out.extend([".fi", ".RE"])
    return out


def commands(command, prefix):
    """Each subcommand: its synopsis, abstract, discussion (kept as written: it holds aligned examples) and
    options; nested commands (fleet, webhook) with the full path."""
    out = []
    for sub in command.get("subcommands", []):
        if sub["commandName"] == "help" or not sub.get("shouldDisplay", True):
            continue
        path = prefix + " " + sub["commandName"]
        if sub.get("subcommands"):
            out.append(".SS " + escape(path))
            out.append(line(inline(sub.get("abstract", ""))))
            out.extend(commands(sub, path))
            continue
        out.extend([".SS " + escape(path), line(synopsis(path, sub)), ".PP", line(inline(sub.get("abstract", "")))])
        out.extend(discussion(sub.get("discussion", "")))
        out.extend([".PP", "Options:", ".RS 4"] + options(sub.get("arguments", []), skip=("help", "version")) + [".RE"])
    return out


KEY = re.compile(r"^(#\s*)?([a-z0-9_]+)\s*=\s*(.*?)(?:\s{2,}#\s?(.*))?$")
SECTION = re.compile(r"^(#\s*)?\[([a-z_]+)\]\s*(?:#.*)?$")


def config_keys(toml):
    """Every key of the annotated example config as tagged items under a subsection per [table]: the value
    shown (the default, or an example for a commented key), the comment, and its continuation lines. The
    commented [[source]] block is the sources' example, shown as written."""
    out, last, preamble = [], None, True
    lines = toml.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        i += 1
        stripped = raw.strip()
        if stripped in ("# [[source]]", "[[source]]"):
            example = [raw]
            while i < len(lines) and lines[i].startswith("#"):
                example.append(lines[i])
                i += 1
            out.extend([".PP", "An example of two sources:", ".RS 4", ".nf"])
            out.extend(nofill(e) for e in example)
            out.extend([".fi", ".RE"])
            last = None
            continue
        section = SECTION.match(stripped)
        if section:
            preamble = False
            out.append(".SS [" + escape(section.group(2)) + "]" + (" (optional)" if section.group(1) else ""))
            last = None
            continue
        if preamble or not stripped:
            last = None if not stripped else last
            continue
        key = KEY.match(stripped)
        if key and not raw.startswith(" "):
            commented, name, value, comment = key.groups()
            tag = r"\fB" + escape(name) + r"\fR = " + escape(value)
            out.extend([".TP", tag])
            if commented:
                out.append("Optional (commented out in the installed file).")
            if comment:
                out.append(line(inline(comment)))
            last = name
        elif stripped.startswith("#") and raw.startswith(" ") and last:
            out.extend([".br", line(inline(stripped.lstrip("#").strip()))])
        elif stripped.startswith("#"):
            # A comment of its own at the start of a line: a note on the table that follows.
            out.extend([".PP", line(inline(stripped.lstrip("#").strip()))])
            while i < len(lines) and lines[i].startswith("# ") and not KEY.match(lines[i].strip()) \
                    and not SECTION.match(lines[i].strip()) and lines[i].strip() != "# [[source]]":
                out.append(line(inline(lines[i].lstrip("#").strip())))
                i += 1
            last = None
    return out


def header(title, section, date, version):
    return ['.\\" Generated by packaging/man/render.py from text in the imagedrop repository; do not edit.',
            '.TH %s %s "%s" "imagedrop %s" "imagedrop"' % (escape(title), section, date, version),
            # Left-aligned and unhyphenated: option names, paths and keys must stay whole to be copied.
            ".ad l", ".nh"]


def main(argv):
    mode, source, data, date, version = argv[1:6]
    title, section = re.match(r".*/([^/]+)\.(\d)\.md$", source).groups()
    placeholders = {}
    if mode == "page":
        dump = json.load(open(data))["command"]
        placeholders["{{COMMANDS}}"] = commands(dump, dump["commandName"])
        placeholders["{{OPTIONS}}"] = options(dump.get("arguments", []))
        placeholders["{{SYNOPSIS}}"] = [synopsis(dump["commandName"], dump)]
    elif mode == "config":
        placeholders["{{KEYS}}"] = config_keys(open(data).read())
    else:
        sys.exit("render.py: unknown mode %r (page or config)" % mode)
    page = header(title, section, date, version) + markdown(open(source).read(), placeholders)
    sys.stdout.write("\n".join(page) + "\n")


if __name__ == "__main__":
    main(sys.argv)
