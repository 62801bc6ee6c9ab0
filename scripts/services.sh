#!/usr/bin/env bash
# Makes the services the tests use available on loopback: checks each one, starts it when it is
# not running, installs it when it is missing (Debian's packages; SecantusDB from PyPI into a
# venv and oidc-provider from npm, both in a cache outside the clone). Safe to run repeatedly.
#
# Prints the environment for the tests as `export VAR=...` lines on stdout (eval them, as
# scripts/test.sh does); logs go to stderr. See docs/src/services.md.
#
# Cache: AUTHWARD_CACHE_DIR (default /var/tmp/authward-cache). Ports: AUTHWARD_MONGODB_PORT
# (default 27017), AUTHWARD_OIDC_PORT (default 9090).
set -euo pipefail

log() { printf '[services] %s\n' "$*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${AUTHWARD_CACHE_DIR:-/var/tmp/authward-cache}
MONGODB_PORT=${AUTHWARD_MONGODB_PORT:-27017}
OIDC_PORT=${AUTHWARD_OIDC_PORT:-9090}
mkdir -p "$CACHE"
# One run at a time, so two runs never install into or start from the cache together. Servers
# started below get this descriptor closed (9>&-), so they do not hold the lock.
exec 9>"$CACHE/.services.lock"
flock 9

apt_install() {
  if ! command -v apt-get >/dev/null; then
    log "cannot install $*: no apt-get"
    return 1
  fi
  if [ ! -f /tmp/.authward-apt-updated ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && touch /tmp/.authward-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "$name did not come up"
  return 1
}

postgres() {
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >&2 || true
    wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
  fi
  if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE test' >&2
  fi
}

mariadb_up() { mariadb-admin -h 127.0.0.1 -P 3306 -uroot ping; }

mariadb() {
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server
  if ! mariadb_up >/dev/null 2>&1; then
    log "starting MariaDB"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >&2
    wait_for MariaDB mariadb_up
  fi
  command mariadb -h 127.0.0.1 -P 3306 -uroot -e 'CREATE DATABASE IF NOT EXISTS test' >&2
}

redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
    wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
  fi
}

# running PIDFILE PATTERN: the pid in PIDFILE is alive and its command line contains PATTERN.
running() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

# stop_pidfile PIDFILE PATTERN: stops the server we started (only that pid), waits for it to go.
stop_pidfile() {
  running "$1" "$2" || return 0
  local pid
  pid=$(cat "$1")
  kill "$pid"
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$1"
}

fail_with_log() { # message, log file
  log "$1 (last lines of $2 follow)"
  tail -n 20 "$2" >&2 2>/dev/null || true
  return 1
}

# ---- MongoDB wire protocol: SecantusDB (PyPI, on WiredTiger) in <cache>/secantus-venv --------
SECANTUS_VERSION=0.7.0b3
SECANTUS_VENV=$CACHE/secantus-venv
SECANTUS_PID=$CACHE/secantusd.pid
SECANTUS_LOG=$CACHE/secantusd.log

# A real command round trip with the pymongo that SecantusDB itself depends on: ping, then hello
# must show a writable replica-set primary (transactions need one; --standalone would drop it).
mongodb_up() {
  (exec 3<>"/dev/tcp/127.0.0.1/$MONGODB_PORT") 2>/dev/null || return 1
  "$SECANTUS_VENV/bin/python" - "$MONGODB_PORT" <<'PY'
import sys
import pymongo
client = pymongo.MongoClient("127.0.0.1", int(sys.argv[1]), directConnection=True,
                             serverSelectionTimeoutMS=2000, connectTimeoutMS=2000)
client.admin.command("ping")
hello = client.admin.command("hello")
sys.exit(0 if hello.get("setName") and hello.get("isWritablePrimary") else 3)
PY
}

secantus_installed() {
  "$SECANTUS_VENV/bin/python" -c \
    'import importlib.metadata as m, sys; sys.exit(m.version("SecantusDB") != sys.argv[1])' \
    "$SECANTUS_VERSION" 2>/dev/null
}

mongodb() {
  local installed=0
  if ! secantus_installed; then
    command -v python3 >/dev/null || apt_install python3 python3-venv
    log "installing SecantusDB $SECANTUS_VERSION into $SECANTUS_VENV"
    rm -rf "$SECANTUS_VENV"
    python3 -m venv "$SECANTUS_VENV" >&2
    "$SECANTUS_VENV/bin/python" -m pip install -q "SecantusDB==$SECANTUS_VERSION" >&2
    secantus_installed || { log "SecantusDB $SECANTUS_VERSION did not install"; return 1; }
    installed=1
  fi
  if [ "$installed" = 1 ] && running "$SECANTUS_PID" secantusd-py; then
    log "restarting SecantusDB on the new install"
    stop_pidfile "$SECANTUS_PID" secantusd-py
  fi
  if mongodb_up >/dev/null 2>&1; then return 0; fi
  if ! running "$SECANTUS_PID" secantusd-py; then
    log "starting SecantusDB on 127.0.0.1:$MONGODB_PORT"
    mkdir -p "$CACHE/secantus-data"
    # Empty on purpose: an explicit --config turns off the search for a secantusd.toml elsewhere.
    [ -f "$CACHE/secantusd.toml" ] ||
      printf '# authward: defaults; passed with --config so no other secantusd.toml is read\n' >"$CACHE/secantusd.toml"
    # Never --standalone: it drops the replica-set hello, and with it transactions.
    (
      cd "$CACHE"
      setsid nohup "$SECANTUS_VENV/bin/secantusd-py" \
        --config "$CACHE/secantusd.toml" --host 127.0.0.1 --port "$MONGODB_PORT" \
        --storage-path "$CACHE/secantus-data" >>"$SECANTUS_LOG" 2>&1 </dev/null 9>&- &
      echo $! >"$SECANTUS_PID"
    )
  fi
  wait_for SecantusDB mongodb_up ||
    fail_with_log "SecantusDB does not answer on 127.0.0.1:$MONGODB_PORT as a replica-set primary" "$SECANTUS_LOG"
}

# ---- OpenID Connect: panva's oidc-provider (npm) in <cache>/oidc-provider, our scripts/oidc ------
OIDC_VERSION=9.13.3
OIDC_DIR=$CACHE/oidc-provider
OIDC_PID=$CACHE/oidc-provider.pid
OIDC_LOG=$CACHE/oidc-provider.log
OIDC_ISSUER=http://127.0.0.1:$OIDC_PORT

# The discovery document names our issuer, and the test counter endpoint answers: it is our
# provider on that port, not something else.
oidc_up() {
  local discovery
  discovery=$(curl -fsS --max-time 2 "$OIDC_ISSUER/.well-known/openid-configuration") || return 1
  [[ $discovery == *"\"issuer\":\"$OIDC_ISSUER\""* ]] &&
    curl -fsS --max-time 2 -o /dev/null "$OIDC_ISSUER/__test/stats"
}

oidc_installed() {
  cmp -s "$ROOT/scripts/oidc/package-lock.json" "$OIDC_DIR/package-lock.json" &&
    node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
      "$OIDC_DIR/node_modules/oidc-provider/package.json" "$OIDC_VERSION" 2>/dev/null
}

oidc() {
  command -v curl >/dev/null || apt_install curl
  command -v node >/dev/null || apt_install nodejs npm
  # oidc-provider 9 needs crypto.hash (Node.js 20.12 and later; it warns below 22 and works).
  node -e 'process.exit(typeof require("node:crypto").hash === "function" ? 0 : 1)' || {
    log "Node.js $(node --version) is too old for oidc-provider $OIDC_VERSION (needs 20.12 or later)"
    return 1
  }
  local restart=0
  if ! oidc_installed; then
    log "installing oidc-provider $OIDC_VERSION into $OIDC_DIR"
    mkdir -p "$OIDC_DIR"
    cp "$ROOT/scripts/oidc/package.json" "$ROOT/scripts/oidc/package-lock.json" "$OIDC_DIR/"
    (cd "$OIDC_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
    oidc_installed || { log "oidc-provider $OIDC_VERSION did not install"; return 1; }
    restart=1
  fi
  # The provider runs from a copy beside its node_modules; a changed script means a restart.
  if ! cmp -s "$ROOT/scripts/oidc/provider.mjs" "$OIDC_DIR/provider.mjs"; then
    cp "$ROOT/scripts/oidc/provider.mjs" "$OIDC_DIR/provider.mjs"
    restart=1
  fi
  if [ "$restart" = 1 ] && running "$OIDC_PID" provider.mjs; then
    log "restarting the OIDC provider on the new install or script"
    stop_pidfile "$OIDC_PID" provider.mjs
  fi
  if oidc_up >/dev/null 2>&1; then return 0; fi
  if ! running "$OIDC_PID" provider.mjs; then
    log "starting the OIDC provider on $OIDC_ISSUER"
    (
      cd "$OIDC_DIR"
      AUTHWARD_OIDC_PORT=$OIDC_PORT AUTHWARD_OIDC_PROVIDER_DIR=$OIDC_DIR \
        setsid nohup node "$OIDC_DIR/provider.mjs" >>"$OIDC_LOG" 2>&1 </dev/null 9>&- &
      echo $! >"$OIDC_PID"
    )
  fi
  wait_for "OIDC provider" oidc_up ||
    fail_with_log "the OIDC provider does not answer at $OIDC_ISSUER" "$OIDC_LOG"
}

postgres
mariadb
redis
mongodb
oidc

# The cluster's servers must not inherit the lock (9>&-), or the next run waits forever.
bash "$(dirname "$0")/redis-cluster.sh" 9>&- || log "Redis Cluster did not start (authward-redis cluster tests)"
cat <<'ENV'
export AUTHWARD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/test"
export AUTHWARD_TEST_MYSQL_URL="mysql://root@127.0.0.1:3306/test"
export AUTHWARD_TEST_REDIS_URL="redis://127.0.0.1:6379/"
ENV
printf 'export AUTHWARD_TEST_MONGODB_URL="mongodb://127.0.0.1:%s/?directConnection=true"\n' "$MONGODB_PORT"
printf 'export AUTHWARD_TEST_OIDC_ISSUER="%s"\n' "$OIDC_ISSUER"
