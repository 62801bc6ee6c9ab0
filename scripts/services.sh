#!/usr/bin/env bash
# Makes the services the tests use available on loopback: checks each one, starts it when it is
# not running, installs it from Debian's packages when it is missing. Safe to run repeatedly.
#
# Prints the environment for the tests (source scripts/test-env.sh to get it exported).
set -euo pipefail

log() { printf '[services] %s\n' "$*" >&2; }

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

postgres
mariadb
redis

bash "$(dirname "$0")/redis-cluster.sh" || log "Redis Cluster did not start (authward-redis cluster tests)"
cat <<'ENV'
export AUTHWARD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/test"
export AUTHWARD_TEST_MYSQL_URL="mysql://root@127.0.0.1:3306/test"
export AUTHWARD_TEST_REDIS_URL="redis://127.0.0.1:6379/"
ENV
