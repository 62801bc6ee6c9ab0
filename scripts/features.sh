#!/usr/bin/env bash
# The facade's feature matrix: `authward` must build and lint clean with no features, with each
# feature alone, with the defaults and with `full`; and the SQLite-only build must not pull in
# the MongoDB, Redis or SeaORM stacks.
#
# clippy (a `cargo check` plus lints) rather than a build, one package, sharing the caller's
# CARGO_TARGET_DIR: from a warm cache each run is a no-op or a few crates.
set -euo pipefail
cd "$(dirname "$0")/.."

features=(
  axum openapi
  sqlx-postgres sqlx-mysql sqlx-sqlite
  sea-orm-postgres sea-orm-mysql sea-orm-sqlite
  mongodb redis oauth memory testkit
)

start=$SECONDS
lint() {
  echo "== cargo clippy -p authward $*"
  cargo clippy --quiet -p authward "$@" -- -D warnings
}

lint --no-default-features
for feature in "${features[@]}"; do
  lint --no-default-features --features "$feature"
done
lint
lint --features full

echo "== cargo tree -p authward --no-default-features --features sqlx-sqlite -e normal"
tree=$(cargo tree -p authward --no-default-features --features sqlx-sqlite -e normal \
  --prefix none --format '{p}')
# Crate names, one a line ("name vX.Y.Z ..."): the MongoDB, Redis and SeaORM stacks.
unwanted=$(awk '{print $1}' <<<"$tree" | sort -u \
  | grep -E '^(authward-)?(mongodb|bson|redis|sea-orm|sea-orm-[a-z-]+|sea-query|sea-query-[a-z-]+)$' \
  || true)
if [ -n "$unwanted" ]; then
  echo "error: authward with only \`sqlx-sqlite\` depends on crates it must not pull in:" >&2
  echo "$unwanted" | sed 's/^/  /' >&2
  echo "(an optional dependency is enabled by a feature it should not be; see" \
    "\`cargo tree -p authward --no-default-features --features sqlx-sqlite -e normal -i <crate>\`)" >&2
  exit 1
fi

echo "features.sh: all $(( ${#features[@]} + 3 )) feature sets lint clean, sqlx-sqlite pulls no" \
  "MongoDB/Redis/SeaORM crates ($(( SECONDS - start ))s)"
