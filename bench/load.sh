#!/usr/bin/env bash
# Load run of GET /v1/me: Tollgate's full pipeline (key check, rate windows with headers, store) against bare Kestrel
# serving the same body, alternating A and B, each server on core 0 and the load generator on core 1, 40 s of warm-up
# (tiered JIT) then 20 s measured. Prints one line per run; record the medians in bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
connections=${CONNECTIONS:-32}
dotnet build src/Tollgate.Server -c Release -v quiet -nologo
dotnet build bench/Tollgate.Benchmarks -c Release -v quiet -nologo
server_dll=src/Tollgate.Server/bin/Release/net10.0/Tollgate.Server.dll
bench_dll=bench/Tollgate.Benchmarks/bin/Release/net10.0/Tollgate.Benchmarks.dll
data=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$data"' EXIT

wait_up() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "server did not start" >&2; exit 1; }

# Tollgate with its demo key; the rate windows are raised so that the run measures their cost, not their refusals.
token=bench-admin-token-0123456789
taskset -c 0 env Tollgate__DataDirectory="$data" ConnectionStrings__Tollgate="Data Source=$data/t.db" Tollgate__Admin__Token=$token \
  Tollgate__RateLimits__Rules__global__Limit=1000000000 Tollgate__RateLimits__Rules__safe__Limit=1000000000 \
  Logging__LogLevel__Default=Warning dotnet "$server_dll" --urls http://127.0.0.1:5091 > "$data/server.log" 2>&1 &
tollgate=$!
wait_up http://127.0.0.1:5091/docs
sleep 1
key=$(grep -oE 'tgk_[A-Za-z0-9]{30}_[A-Za-z0-9]{6}' "$data/server.log" | head -n 1)
kill $tollgate; wait $tollgate 2>/dev/null || true

for run in $(seq 1 "$runs"); do
  for target in tollgate bare; do
    if [ $target = tollgate ]; then
      taskset -c 0 env Tollgate__DataDirectory="$data" ConnectionStrings__Tollgate="Data Source=$data/t.db" Tollgate__Admin__Token=$token \
        Tollgate__RateLimits__Rules__global__Limit=1000000000 Tollgate__RateLimits__Rules__safe__Limit=1000000000 \
        Logging__LogLevel__Default=Warning dotnet "$server_dll" --urls http://127.0.0.1:5091 > /dev/null 2>&1 &
    else
      taskset -c 0 dotnet "$bench_dll" bare-server --urls http://127.0.0.1:5091 > /dev/null 2>&1 &
    fi
    pid=$!
    wait_up http://127.0.0.1:5091/v1/me
    result=$(taskset -c 1 dotnet "$bench_dll" load http://127.0.0.1:5091/v1/me --connections "$connections" \
      --warmup "${WARMUP:-40}" --seconds "${SECONDS_MEASURED:-20}" --header "Authorization: Api-Key $key" --server-pid "$pid")
    echo "run=$run target=$target $result"
    kill $pid; wait $pid 2>/dev/null || true
  done
done
