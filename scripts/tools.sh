#!/usr/bin/env bash
# Installs the helper tools the project uses into a cache outside the clone, and prints
#   export PATH="<cache>/cargo-tools/bin:$PATH"
# on stdout (eval it); logs go to stderr. A tool is built only when its binary at the pinned
# version is missing, so a second run does nothing.
#
#   bash scripts/tools.sh          mdbook
#   bash scripts/tools.sh fuzz     mdbook and cargo-fuzz (for `cargo +nightly fuzz`)
#
# Cache: AUTHWARD_CACHE_DIR (default /var/tmp/authward-cache); tools go to
# <cache>/cargo-tools/bin, their build to <cache>/cargo-tools-target.
set -euo pipefail

log() { printf '[tools] %s\n' "$*" >&2; }

CACHE=${AUTHWARD_CACHE_DIR:-/var/tmp/authward-cache}
ROOT=$CACHE/cargo-tools
TARGET=$CACHE/cargo-tools-target

MDBOOK_VERSION=0.5.4
# The newest cargo-fuzz release when this was written; pinned so the cache stays valid.
CARGO_FUZZ_VERSION=0.13.2

want_fuzz=0
for arg in "$@"; do
  case $arg in
    fuzz) want_fuzz=1 ;;
    *) log "unknown argument: $arg (known: fuzz)"; exit 2 ;;
  esac
done

# has BINARY VERSION ARGS...: the binary exists in the cache and its version output names VERSION.
has() {
  local bin=$1 version=$2; shift 2
  [ -x "$ROOT/bin/$bin" ] || return 1
  "$ROOT/bin/$bin" "$@" 2>/dev/null | grep -Eq "(^|[^0-9.])v?${version//./\\.}([^0-9.]|$)"
}

# install CRATE VERSION BINARY VERSION-ARGS...
install() {
  local crate=$1 version=$2 bin=$3; shift 3
  if has "$bin" "$version" "$@"; then
    return 0
  fi
  log "installing $crate $version into $ROOT (a few minutes)"
  mkdir -p "$ROOT" "$TARGET"
  CARGO_TARGET_DIR=$TARGET cargo install --root "$ROOT" --locked --force \
    --version "=$version" "$crate" >&2
  has "$bin" "$version" "$@" || { log "$crate $version did not install"; exit 1; }
}

install mdbook "$MDBOOK_VERSION" mdbook --version
if [ "$want_fuzz" = 1 ]; then
  install cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz --version
fi

printf 'export PATH="%s/bin:$PATH"\n' "$ROOT"
