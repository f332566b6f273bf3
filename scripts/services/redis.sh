# Sourced by scripts/test.sh: installs redis-server when missing (apt-get update first), starts a throwaway one on
# 127.0.0.1 on a free port (no persistence, its own temp folder), and exports for the tests
#   TOLLGATE_TEST_REDIS         its address, a StackExchange.Redis configuration string (127.0.0.1:PORT)
#   TOLLGATE_TEST_REDIS_SERVER  the redis-server binary (tests that restart Redis start their own from it).
# redis_start starts it; redis_stop (called from the caller's EXIT trap) stops it and removes its folder.

redis_start() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "Installing redis-server"
    local sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  fi
  REDIS_DIR=$(mktemp -d)
  local port attempt i
  for attempt in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    # Something answers there already: try another.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      continue
    fi
    rm -f "$REDIS_DIR/redis.pid"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$REDIS_DIR" \
      --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" >/dev/null || continue
    for i in $(seq 1 50); do
      if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        export TOLLGATE_TEST_REDIS="127.0.0.1:$port"
        TOLLGATE_TEST_REDIS_SERVER=$(command -v redis-server)
        export TOLLGATE_TEST_REDIS_SERVER
        echo "Redis for the tests: $TOLLGATE_TEST_REDIS"
        return 0
      fi
      sleep 0.1
    done
  done
  echo "redis-server did not start on 127.0.0.1:" >&2
  cat "$REDIS_DIR/redis.log" >&2 || true
  return 1
}

redis_stop() {
  if [ -n "${REDIS_DIR:-}" ]; then
    if [ -f "$REDIS_DIR/redis.pid" ]; then
      kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true
    fi
    rm -rf "$REDIS_DIR"
  fi
}
