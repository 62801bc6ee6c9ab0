#!/usr/bin/env bash
# Starts a three-master Redis Cluster on loopback for the authward-redis tests, and prints
#   export AUTHWARD_TEST_REDIS_CLUSTER_URLS="redis://127.0.0.1:7001,..."
# Safe to run repeatedly: a cluster that is already up and healthy is left alone.
#
# Ports: AUTHWARD_REDIS_CLUSTER_PORTS (default "7001 7002 7003");
# data and logs: AUTHWARD_REDIS_CLUSTER_DIR (default /tmp/authward-redis-cluster).
set -euo pipefail

log() { printf '[redis-cluster] %s\n' "$*" >&2; }

read -r -a PORTS <<<"${AUTHWARD_REDIS_CLUSTER_PORTS:-7001 7002 7003}"
BASE=${AUTHWARD_REDIS_CLUSTER_DIR:-/tmp/authward-redis-cluster}

cli() { # port, command...
  local port=$1; shift
  redis-cli -h 127.0.0.1 -p "$port" "$@"
}

up() { cli "$1" ping 2>/dev/null | grep -q PONG; }

# Every node answers, says cluster_state:ok and counts all the masters.
healthy() {
  local port info
  for port in "${PORTS[@]}"; do
    info=$(cli "$port" cluster info 2>/dev/null) || return 1
    grep -q '^cluster_state:ok' <<<"$info" || return 1
    grep -q "^cluster_size:${#PORTS[@]}" <<<"$info" || return 1
  done
}

wait_healthy() { # seconds
  local i
  for i in $(seq 1 "$(( $1 * 2 ))"); do
    healthy && return 0
    sleep 0.5
  done
  return 1
}

print_env() {
  local urls=() port
  for port in "${PORTS[@]}"; do urls+=("redis://127.0.0.1:$port"); done
  local IFS=,
  printf 'export AUTHWARD_TEST_REDIS_CLUSTER_URLS="%s"\n' "${urls[*]}"
}

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  log "redis-server / redis-cli not found (scripts/services.sh installs them)"
  exit 1
fi

if healthy; then
  print_env
  exit 0
fi

for port in "${PORTS[@]}"; do
  if ! up "$port"; then
    log "starting node on port $port"
    mkdir -p "$BASE/$port"
    redis-server --cluster-enabled yes --port "$port" --bind 127.0.0.1 \
      --save "" --appendonly no --daemonize yes \
      --dir "$BASE/$port" --cluster-config-file nodes.conf \
      --logfile "$BASE/$port/redis.log" --pidfile "$BASE/$port/redis.pid" >&2
  fi
done
for port in "${PORTS[@]}"; do
  for _ in $(seq 1 40); do up "$port" && break; sleep 0.25; done
  up "$port" || { log "node on port $port did not come up (see $BASE/$port/redis.log)"; exit 1; }
done

# Nodes restarted with their old nodes.conf rejoin by themselves; give them a moment.
if ! wait_healthy 5; then
  log "creating the cluster on ports ${PORTS[*]}"
  for port in "${PORTS[@]}"; do
    cli "$port" flushall >/dev/null
    cli "$port" cluster reset hard >/dev/null
  done
  nodes=()
  for port in "${PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >&2
  wait_healthy 30 || { log "the cluster did not reach cluster_state:ok"; exit 1; }
fi

log "cluster up on ports ${PORTS[*]}"
print_env
