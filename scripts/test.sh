#!/usr/bin/env bash
# The project's test command: starts the services the tests need, then runs every test
# (unit, conformance, integration and doc tests) with every feature on.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/services.sh)"
cargo test --workspace --all-features "$@"
