# PostgreSQL for the test suite. Sourced by scripts/test.sh (bash, set -euo pipefail); defines:
#   postgres_start   installs PostgreSQL from Debian when it is missing, makes a throwaway cluster in a temp folder,
#                    starts it on 127.0.0.1 on a free port and exports TOLLGATE_TEST_POSTGRES (an Npgsql connection
#                    string of a superuser; each test makes and drops its own schema or database on it)
#   postgres_stop    stops that cluster and deletes its folder (test.sh runs it on exit, however the run ends)
# The server refuses to run as root, so as root everything of the cluster runs as the postgres user.

POSTGRES_RUN=()
POSTGRES_DIR=${POSTGRES_DIR:-}

postgres_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

postgres_install() {
  echo "Installing PostgreSQL (Debian's postgresql package)"
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  # The package makes and may start a system cluster on 5432; the tests use their own, so that one stays down.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | while read -r version name _; do
      "${sudo_cmd[@]}" pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true
    done
  fi
}

# A TCP port on 127.0.0.1 nothing listens on (a candidate: the start below retries when another process takes it first).
postgres_free_port() {
  local port
  while :; do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

postgres_start() {
  local bindir
  bindir=$(postgres_bindir)
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    postgres_install
    bindir=$(postgres_bindir)
  fi
  [ -x "$bindir/pg_ctl" ] || { echo "PostgreSQL is not installed and could not be installed" >&2; return 1; }

  POSTGRES_DIR=$(mktemp -d /tmp/tollgate-postgres.XXXXXX)
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$POSTGRES_DIR"
    run=(runuser -u postgres --)
  fi
  POSTGRES_RUN=("${run[@]}")
  POSTGRES_BINDIR=$bindir
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  printf '%s\n' "$password" > "$POSTGRES_DIR/pwfile"
  [ ${#run[@]} -eq 0 ] || chown postgres: "$POSTGRES_DIR/pwfile"
  "${run[@]}" "$bindir/initdb" -D "$POSTGRES_DIR/data" -U tollgate --pwfile="$POSTGRES_DIR/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$POSTGRES_DIR/initdb.log" 2>&1 \
    || { cat "$POSTGRES_DIR/initdb.log" >&2; return 1; }
  rm -f "$POSTGRES_DIR/pwfile"

  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(postgres_free_port)
    # fsync stays on (the crash tests rely on what PostgreSQL promises); the socket lives in the cluster's folder.
    if "${run[@]}" "$bindir/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" -w -t 60 \
         -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$POSTGRES_DIR -c max_connections=400" \
         start >/dev/null; then
      export TOLLGATE_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Database=postgres;Username=tollgate;Password=$password"
      echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$port"
      return 0
    fi
  done
  cat "$POSTGRES_DIR/server.log" >&2
  return 1
}

postgres_stop() {
  if [ -n "${POSTGRES_DIR:-}" ] && [ -d "$POSTGRES_DIR" ]; then
    "${POSTGRES_RUN[@]}" "$POSTGRES_BINDIR/pg_ctl" -D "$POSTGRES_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$POSTGRES_DIR"
  fi
}
