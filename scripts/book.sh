#!/usr/bin/env bash
# Builds the guide (docs/, mdBook) into docs/book and fails on a broken internal link (in the
# Markdown before the build, scripts/book/check_links.py, and in the HTML after it,
# scripts/book/check_html.py), on a page missing from SUMMARY.md, or on any warning or error
# mdBook prints. External links are not checked (that would need the network).
#
#   bash scripts/book.sh            build and check
#   bash scripts/book.sh serve      the same, then `mdbook serve` on 127.0.0.1:3000
#
# mdbook (pinned in scripts/tools.sh) is built once into the tools cache outside the clone
# (AUTHWARD_CACHE_DIR, default /var/tmp/authward-cache) unless already there.
# The Rust samples of the chapters are compiled by `cargo test -p authward --doc --all-features`
# (crates/authward/src/book_doctests.rs includes every chapter that has some), not here.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[book] %s\n' "$*" >&2; }

tools_env=$(bash scripts/tools.sh)
eval "$tools_env"

log "checking internal links and anchors in docs/src"
python3 scripts/book/check_links.py docs/src

log "building docs/book with $(mdbook --version)"
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
status=0
mdbook build docs 2>&1 | tee "$build_log" >&2 || status=$?
if [ "$status" -ne 0 ]; then
  log "mdbook build failed (exit $status)"
  exit 1
fi
# mdBook reports problems it can survive (a missing file it may create, an unreadable
# link, a preprocessor issue) as WARN lines; this build treats them as failures.
if grep -Eq '(^|[[:space:]])(WARN|ERROR)([[:space:]]|$)' "$build_log"; then
  log "mdbook printed warnings or errors (above): failing"
  exit 1
fi
log "checking the links of the rendered book"
python3 scripts/book/check_html.py docs/book
log "book built: docs/book/index.html"

if [ "${1:-}" = serve ]; then
  exec mdbook serve docs --hostname 127.0.0.1 --port 3000
fi
