#!/usr/bin/env bash
# Load benchmark of the quickstart (JWT bearer auth on SQLite) with wrk, on loopback only.
#
#   bash scripts/load.sh            # 10 s per run, 64 connections
#   DURATION=30s CONNECTIONS=128 bash scripts/load.sh
#
# Runs: (1) GET /users/me with a valid JWT, quiet; (2) POST /auth/jwt/login; (3) GET /users/me
# while a login storm runs at the same time. Prints wrk's requests/s and latency percentiles.
# Every run is bounded by DURATION; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
STORM_CONNECTIONS=${STORM_CONNECTIONS:-64}
PORT=${PORT:-18080}
BASE="http://127.0.0.1:${PORT}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -p quickstart
BIN=${CARGO_TARGET_DIR:-target}/release/quickstart

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
AUTHWARD_BIND="127.0.0.1:${PORT}" DATABASE_URL="sqlite://${work}/load.db" \
  AUTHWARD_SECRET="load-test-secret-load-test-secret-0123456789" RUST_LOG=warn \
  "$BIN" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "$BASE/health" >/dev/null && break; sleep 0.1; done

curl -fs -X POST "$BASE/auth/register" -H 'content-type: application/json' \
  -d '{"email":"load@example.com","password":"correct horse battery"}' >/dev/null
TOKEN=$(curl -fs -X POST "$BASE/auth/jwt/login" \
  -d 'username=load%40example.com&password=correct+horse+battery' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

echo "== 1. GET /users/me, JWT, quiet (${CONNECTIONS} connections, ${DURATION})"
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$BASE/users/me"

echo "== 2. POST /auth/jwt/login (${STORM_CONNECTIONS} connections, ${DURATION})"
wrk -t1 -c"$STORM_CONNECTIONS" -d"$DURATION" --latency -s scripts/load/login.lua "$BASE/auth/jwt/login"

echo "== 3. GET /users/me during a login storm"
wrk -t1 -c"$STORM_CONNECTIONS" -d"$DURATION" -s scripts/load/login.lua "$BASE/auth/jwt/login" \
  >"$work/storm.txt" &
storm=$!
sleep 1
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$BASE/users/me"
wait "$storm" || true
echo "-- the storm itself:"
cat "$work/storm.txt"
