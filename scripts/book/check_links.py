#!/usr/bin/env python3
"""Checks the internal links of the book: every relative link in docs/src/**/*.md resolves to
a file inside docs/src, and every #anchor names a heading of its target page (mdBook's ids:
lower case, letters, digits, '-' and '_' kept, spaces made '-', the rest dropped, repeated
headings numbered -1, -2, ...). External links (scheme:) are not checked. Exit status 1 and
one line per broken link when any is broken; a page missing from SUMMARY.md counts as
broken (mdBook renders only what SUMMARY.md lists).

    python3 scripts/book/check_links.py [docs/src]
"""
import os
import re
import sys

SRC_ARG = sys.argv[1] if len(sys.argv) > 1 else "docs/src"
SRC = os.path.abspath(SRC_ARG)

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target "title") and ![alt](target); reference definitions [x]: target
INLINE = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HTML_ID = re.compile(r"""<a\s+[^>]*(?:id|name)\s*=\s*["']([^"']+)["']""")


def strip_code_spans(line):
    return re.sub(r"`+[^`]*`+", "", line)


def heading_text(raw):
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)  # links -> their text
    text = re.sub(r"<[^>]+>", "", text)  # inline html
    text = text.replace("`", "")
    text = text.replace("*", "")  # emphasis; '_' is kept, as mdBook keeps it
    return text


def normalize_id(text):
    out = []
    for ch in text:
        if ch.isalnum() or ch in "_-":
            out.append(ch.lower())
        elif ch.isspace():
            out.append("-")
    return "".join(out)


def scan(path):
    """Returns (links as (line number, target), anchors) of one page, code blocks skipped."""
    links, anchors, seen = [], set(), {}
    in_fence = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            m = HEADING.match(line)
            if m:
                base = normalize_id(heading_text(m.group(2)))
                n = seen.get(base, 0)
                seen[base] = n + 1
                anchors.add(base if n == 0 else f"{base}-{n}")
            for a in HTML_ID.findall(line):
                anchors.add(a)
            visible = strip_code_spans(line)
            for target in INLINE.findall(visible):
                links.append((number, target))
            m = REFDEF.match(visible)
            if m:
                links.append((number, m.group(1)))
    return links, anchors


def main():
    pages = {}
    for root, _, files in os.walk(SRC):
        for name in files:
            if name.endswith(".md"):
                path = os.path.join(root, name)
                pages[path] = scan(path)
    broken = []
    for path, (links, _) in sorted(pages.items()):
        rel = os.path.relpath(path, SRC)
        for number, target in links:
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            where = f"{os.path.join(SRC_ARG, rel)}:{number}: {target}"
            if not (dest == SRC or dest.startswith(SRC + os.sep)):
                broken.append(f"{where} (outside the book's source tree: the rendered book cannot follow it)")
                continue
            if not os.path.exists(dest):
                broken.append(f"{where} (no such file)")
                continue
            if anchor:
                if not dest.endswith(".md"):
                    continue
                if anchor not in pages[dest][1]:
                    broken.append(f"{where} (no heading with id '{anchor}' in {os.path.relpath(dest, SRC)})")
    summary = os.path.join(SRC, "SUMMARY.md")
    if summary in pages:
        listed = {
            os.path.normpath(os.path.join(SRC, target.partition("#")[0]))
            for _, target in pages[summary][0]
        }
        for path in sorted(pages):
            if path != summary and path not in listed:
                broken.append(f"{os.path.join(SRC_ARG, os.path.relpath(path, SRC))}: not in SUMMARY.md (mdBook would not render it)")
    for line in broken:
        print(line)
    total = sum(len(links) for links, _ in pages.values())
    print(f"check_links: {len(pages)} pages, {total} links, {len(broken)} broken", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
