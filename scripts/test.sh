#!/usr/bin/env bash
# The project's test command: starts the services the tests need, then runs every test
# (unit, conformance, integration and doc tests) with every feature on.
set -euo pipefail
cd "$(dirname "$0")/.."
# `eval "$(...)"` alone would hide a failed services.sh (eval of its output succeeds).
if ! services_env=$(bash scripts/services.sh); then
  if [ "${AUTHWARD_TEST_REQUIRE_SERVICES:-}" = 1 ]; then
    echo "scripts/services.sh failed and AUTHWARD_TEST_REQUIRE_SERVICES=1" >&2
    exit 1
  fi
  echo "scripts/services.sh failed: the tests of the missing services skip" >&2
fi
eval "$services_env"
cargo test --workspace --all-features "$@"
