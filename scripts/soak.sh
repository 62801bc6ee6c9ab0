#!/usr/bin/env bash
# Soak test (not part of the test suite): the quickstart (release build) on a private
# PostgreSQL with the database strategy and refresh tokens, under mixed traffic (register,
# login, me, refresh, logout) for DURATION seconds, with the database stopped for OUTAGE seconds
# in the middle. Reports responses by route and status, how long the 503s took, and the
# server's RSS at the start, before the outage, after it and at the end.
#
#   bash scripts/soak.sh                 # 600 s, 20 s outage, 8 clients
#   DURATION=120 OUTAGE=10 bash scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-600}
OUTAGE=${OUTAGE:-20}
CLIENTS=${CLIENTS:-8}
STOP_MODE=${STOP_MODE:-fast}   # pg_ctl stop mode: fast (graceful) or immediate (crash)

cargo build --release -p quickstart >&2
BIN=${CARGO_TARGET_DIR:-target}/release/quickstart

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | head -n1)
work=$(mktemp -d)
chown postgres "$work" 2>/dev/null || true
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT=$(free_port)
APPPORT=$(free_port)
pg_opts="-p $PGPORT -k $work -c listen_addresses=127.0.0.1"
cleanup() {
  kill "${server:-}" 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

as_pg "$PGBIN/initdb" -D "$work/data" -A trust -U postgres --no-sync >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$work/data" -o "$pg_opts" -l "$work/pg.log" -w start >/dev/null
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc 'CREATE DATABASE soak'

# Throttling off: every client comes from 127.0.0.1, and this run is about outages, not about
# the rate limits (tests/throttle*.rs cover those).
AUTHWARD_BIND="127.0.0.1:$APPPORT" DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/soak" \
  AUTHWARD_THROTTLE=off AUTHWARD_STRATEGY=database AUTHWARD_REFRESH_LIFETIME=86400 \
  AUTHWARD_SECRET="soak-test-secret-soak-test-secret-0123456789" \
  AUTHWARD_HASH_CONCURRENCY=1 RUST_LOG=error "$BIN" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$APPPORT/health" >/dev/null && break; sleep 0.1; done

python3 scripts/soak/driver.py --base "http://127.0.0.1:$APPPORT" --pid "$server" \
  --duration "$DURATION" --clients "$CLIENTS" --outage "$OUTAGE" \
  --pg-ctl "$PGBIN/pg_ctl" --pg-data "$work/data" --pg-opts "$pg_opts" --pg-log "$work/pg.log" \
  --stop-mode "$STOP_MODE"
