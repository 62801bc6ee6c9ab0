#!/usr/bin/env python3
"""Checks the rendered book: every relative link in the chapters' content (`<main>`) of
docs/book/**/*.html names a file of the build, and every #anchor an id of its target page.
Complements check_links.py, which reads the Markdown: this one sees the links as mdBook wrote
them. Exit status 1 and one line per broken link when any is broken.

    python3 scripts/book/check_html.py [docs/book]
"""
import html
import os
import re
import sys
from urllib.parse import unquote, urlsplit

BOOK_ARG = sys.argv[1] if len(sys.argv) > 1 else "docs/book"
BOOK = os.path.abspath(BOOK_ARG)
MAIN = re.compile(r"<main>(.*?)</main>", re.S)
HREF = re.compile(r"""<a\s[^>]*?href="([^"]*)\"""")
ID = re.compile(r"""\sid="([^"]+)\"""")
# Pages mdBook generates besides the chapters.
SKIP = {"print.html", "toc.html", "404.html"}


def main():
    pages = {}
    for root, _, files in os.walk(BOOK):
        for name in files:
            if name.endswith(".html"):
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    pages[path] = f.read()
    ids = {path: set(ID.findall(text)) for path, text in pages.items()}
    broken, count = [], 0
    for path, text in sorted(pages.items()):
        if os.path.basename(path) in SKIP:
            continue
        main_part = MAIN.search(text)
        if not main_part:
            continue
        for href in HREF.findall(main_part.group(1)):
            href = html.unescape(href)
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("mailto:"):
                continue
            count += 1
            target = os.path.normpath(os.path.join(os.path.dirname(path), unquote(parts.path))) if parts.path else path
            where = f"{os.path.join(BOOK_ARG, os.path.relpath(path, BOOK))}: {href}"
            if not os.path.exists(target):
                broken.append(f"{where} (no such file in the build)")
            elif parts.fragment and target.endswith(".html") and unquote(parts.fragment) not in ids.get(target, set()):
                broken.append(f"{where} (no id '{parts.fragment}')")
    for line in broken:
        print(line)
    print(f"check_html: {len(pages)} pages, {count} relative links, {len(broken)} broken", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
