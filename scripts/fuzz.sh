#!/usr/bin/env bash
# Fuzzes authward's parsers with cargo-fuzz (nightly, libFuzzer): each target in turn, one
# process each (so one core), for FUZZ_SECONDS seconds (default 600), starting from and adding
# to its committed corpus under fuzz/corpus/<target>, which is then minimised (cargo fuzz cmin).
# A crash stops the script and leaves its input in fuzz/artifacts/<target>/: turn it into a
# regression test next to the code, then commit the fix.
#
#   bash scripts/fuzz.sh                 # every target, 10 minutes each
#   FUZZ_SECONDS=60 bash scripts/fuzz.sh email jwt_verify
#
# Not part of CI. Targets: jwt_verify, json_body, login_form, email, transport.
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo-fuzz, built once into a cache outside the clone.
eval "$(bash scripts/tools.sh fuzz | grep '^export PATH=')"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-/var/tmp/authward-fuzz-target}"
seconds="${FUZZ_SECONDS:-600}"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=(jwt_verify json_body login_form email transport)
fi
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  echo "== $target: ${seconds}s"
  start=$(date +%s)
  (cd fuzz && cargo +nightly fuzz run --sanitizer none "$target" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
  echo "== $target: ran $(( $(date +%s) - start ))s; minimising the corpus"
  (cd fuzz && cargo +nightly fuzz cmin --sanitizer none "$target" "corpus/$target" >/dev/null 2>&1) || true
  echo "== $target: $(ls "fuzz/corpus/$target" | wc -l) corpus entries"
done
