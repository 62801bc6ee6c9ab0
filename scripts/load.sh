#!/usr/bin/env bash
# Load benchmark of the quickstart (release build) with wrk, on loopback only, producing the
# table of docs/src/benchmarks.md in one command:
#
#   bash scripts/load.sh                  # every scenario, 10 s per run, 64 connections
#   SCENARIOS="sqlite pg-redis" DURATION=20s bash scripts/load.sh
#   QUICKSTART_BIN=/path/to/old/quickstart bash scripts/load.sh   # another build, same table
#
# Scenarios (SCENARIOS, default all):
#   sqlite     SQLite + JWT (revocations in the database): /health and /users/me on the same
#              server, a login storm, and the server's RSS (and its anonymous part, without
#              the binary's file pages) idle, during and after the storm
#   stateless  SQLite + JWT without a revocation store (AUTHWARD_JWT_REVOCATIONS=none): what the
#              revocation checks cost
#   pg-db      PostgreSQL + database strategy: /users/me
#   pg-redis   PostgreSQL + Redis strategy: /users/me
#   nodes      three quickstart servers on one PostgreSQL and one Redis, a wrk per node at once:
#              total and per-node /users/me
# The server runs on CPU 0 and wrk on CPU 1 when `taskset` exists (the nodes share CPU 0).
# Needs the services of scripts/services.sh (PostgreSQL and Redis for the pg-* and nodes runs).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
SCENARIOS=${SCENARIOS:-"sqlite stateless pg-db pg-redis nodes"}
PG_URL=${AUTHWARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
REDIS_URL=${AUTHWARD_TEST_REDIS_URL:-redis://127.0.0.1:6379/}
SECRET="load-test-secret-load-test-secret-0123456789"

command -v wrk >/dev/null || { apt-get update -qq >&2 && apt-get install -y -qq wrk >&2; }
# QUICKSTART_BIN: a quickstart binary built elsewhere (e.g. an older commit, to compare);
# without it, this checkout's is built in release.
if [ -n "${QUICKSTART_BIN:-}" ]; then
  BIN=$QUICKSTART_BIN
else
  cargo build --release -p quickstart >&2
  BIN=${CARGO_TARGET_DIR:-target}/release/quickstart
fi

# Prefixes that pin a command to a CPU (empty without taskset). Used as plain words, not
# through a function, so that `$!` of a background start is the server itself.
PIN0=(); PIN1=()
if command -v taskset >/dev/null; then PIN0=(taskset -c 0); PIN1=(taskset -c 1); fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
# The anonymous part of the RSS: the process's own memory, without the binary's file pages.
anon_mb() { awk '/RssAnon/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

work=$(mktemp -d)
servers=()
databases=()
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for db in "${databases[@]}"; do
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# start NAME ENV... : starts a server; sets $port and $pid.
start() {
  local name=$1; shift
  port=$(free_port)
  "${PIN0[@]}" env AUTHWARD_BIND="127.0.0.1:$port" AUTHWARD_SECRET="$SECRET" RUST_LOG=error "$@" \
    "$BIN" >"$work/$name.log" 2>&1 &
  pid=$!
  servers+=("$pid")
  for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.05; done
  echo "server $name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}

# token PORT EMAIL : registers (once) and logs in; prints the access token.
token() {
  curl -fs -X POST "http://127.0.0.1:$1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$2\",\"password\":\"correct horse battery\"}" >/dev/null || true
  curl -fs -X POST "http://127.0.0.1:$1/auth/jwt/login" \
    -d "username=${2/@/%40}&password=correct+horse+battery" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# bench URL [wrk args...] : prints "rps p50 p99".
bench() {
  local url=$1; shift
  "${PIN1[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m: return "-"
    v = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    return f"{v:.2f}ms"
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
p50, p99 = ms("50%"), ms("99%")
print(f"{float(rps.group(1)):.0f} {p50} {p99}" if rps else "0 - -")'
}

fresh_pg() { # prints a URL of a new database
  local db="authward_load_$RANDOM$RANDOM"
  psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
  databases+=("$db")
  echo "${PG_URL%/*}/$db"
}

row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }
echo
echo "| run | requests/s | p50 | p99 | notes |"
echo "|---|---|---|---|---|"

for scenario in $SCENARIOS; do
  case $scenario in
    sqlite|stateless)
      extra=()
      [ "$scenario" = stateless ] && extra=(AUTHWARD_JWT_REVOCATIONS=none)
      # Throttling off: the login storm comes from one address and would be refused early.
      start "$scenario" DATABASE_URL="sqlite://$work/$scenario.db" AUTHWARD_THROTTLE=off "${extra[@]}"
      idle=$(rss_mb "$pid"); idle_anon=$(anon_mb "$pid")
      tok=$(token "$port" load@example.com)
      read -r h50 h99 hrps <<<"$(bench "http://127.0.0.1:$port/health" | awk '{print $2, $3, $1}')"
      read -r rps p50 p99 <<<"$(bench "http://127.0.0.1:$port/users/me" -H "Authorization: Bearer $tok")"
      row "$scenario: GET /health" "$hrps" "$h50" "$h99" "same server"
      row "$scenario: GET /users/me" "$rps" "$p50" "$p99" "$(python3 -c "print(f'{100*$rps/max($hrps,1):.0f} % of /health')")"
      if [ "$scenario" = sqlite ]; then
        (sleep 5; rss_mb "$pid" >"$work/rss_during"; anon_mb "$pid" >"$work/anon_during") &
        read -r lrps l50 l99 <<<"$(bench "http://127.0.0.1:$port/auth/jwt/login" -s scripts/load/login.lua)"
        after=$(rss_mb "$pid"); after_anon=$(anon_mb "$pid")
        sleep 15
        later=$(rss_mb "$pid"); later_anon=$(anon_mb "$pid")
        row "sqlite: POST /auth/jwt/login (storm)" "$lrps" "$l50" "$l99" "RSS idle $idle MB, during $(cat "$work/rss_during") MB, right after $after MB, 15 s later $later MB; anonymous $idle_anon / $(cat "$work/anon_during") / $after_anon / $later_anon MB"
      fi
      kill "$pid"; wait "$pid" 2>/dev/null || true
      ;;
    pg-db|pg-redis)
      strategy=database; [ "$scenario" = pg-redis ] && strategy=redis
      start "$scenario" DATABASE_URL="$(fresh_pg)" AUTHWARD_STRATEGY=$strategy AUTHWARD_REDIS_URL="$REDIS_URL"
      tok=$(token "$port" load@example.com)
      read -r rps p50 p99 <<<"$(bench "http://127.0.0.1:$port/users/me" -H "Authorization: Bearer $tok")"
      row "$scenario: GET /users/me" "$rps" "$p50" "$p99" "RSS $(rss_mb "$pid") MB"
      kill "$pid"; wait "$pid" 2>/dev/null || true
      ;;
    nodes)
      url=$(fresh_pg)
      ports=(); pids=()
      for n in 1 2 3; do
        start "node$n" DATABASE_URL="$url" AUTHWARD_STRATEGY=redis AUTHWARD_REDIS_URL="$REDIS_URL" \
          AUTHWARD_CACHE_INVALIDATION=redis
        ports+=("$port"); pids+=("$pid")
      done
      tok=$(token "${ports[0]}" nodes@example.com)
      benches=()
      for n in 0 1 2; do
        bench "http://127.0.0.1:${ports[$n]}/users/me" -H "Authorization: Bearer $tok" >"$work/node$n.out" &
        benches+=("$!")
      done
      wait "${benches[@]}"
      total=0
      for n in 0 1 2; do
        read -r rps p50 p99 <"$work/node$n.out"
        total=$((total + rps))
        row "nodes: GET /users/me on node $((n + 1))" "$rps" "$p50" "$p99" "3 wrk at once"
      done
      row "nodes: total" "$total" "" "" "three servers on CPU 0, one PostgreSQL, one Redis"
      for p in "${pids[@]}"; do kill "$p"; done
      ;;
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
  esac
done
