#!/usr/bin/env bash
# Load runs against real servers, A and B alternated, each server pinned to core 0 and the load generator to core 1,
# 40 s of warm-up (tiered JIT) then 20 s measured. Two scenarios (SCENARIOS="me pipeline" by default):
#   me        GET /v1/me through Tollgate's whole pipeline and endpoint   vs bare Kestrel serving the same body;
#   pipeline  GET /v1/pipeline: Tollgate's admission alone (key, four rate windows, X-RateLimit-* headers) in front
#             of a fixed body (Tollgate.Benchmarks pipeline-server)        vs bare Kestrel serving the same body.
#   stores    GET /v1/me on the embedded store (SQLite, in-process limits) vs on PostgreSQL + Redis vs bare Kestrel, in
#             one run (PostgreSQL and Redis: throwaway ones from scripts/services, pinned to core 1 with the load
#             generator; each line also gives the Redis commands per request, from INFO commandstats). With BEFORE_DLL
#             (another build's Tollgate.Server.dll), that build on both stores too (before-store, before-distributed).
#   nodes     GET /v1/me on PostgreSQL + Redis: one node vs two nodes (both on core 0, the same CPU as the one node)
#             behind the load generator's round robin (connection i goes to node i mod 2); CPU and bytes are the
#             nodes' sum.
#   platform  the Platform API against the Models API batch call, one Tollgate server each: POST /api/velma-2-stt-batch
#             (multipart, a 1 MB WAV: the baseline), POST /api_service (the same WAV as base64 JSON: accepted, stored and
#             processed in the background) and GET /api_service/job_status/{id} of a completed job.
#   upstream  POST /api/velma-2-stt-batch with a 30 s (960 KB) WAV, to a trivial model server (bare-server: reads the
#             upload, answers a fixed JSON) pinned to core 1 with the load generator: direct (to the model server), yarp
#             (plain YARP, bench's yarp-server, one route to it), after
#             (Tollgate with Tollgate:Upstreams, this tree) and, when BEFORE_DLL names another build's Tollgate.Server.dll,
#             before (that build, Tollgate:Backends:{model}:Url). CPU and bytes per request are the gateway's (direct:
#             the model server's).
#   upstream-small  the same three (four) targets with a GET-sized request: a 30 ms WAV (1 KB) as multipart.
#   upstream-ws     the WebSocket relay's per-frame latency (Tollgate.Benchmarks ws-latency): CONNECTIONS real-time
#             streams of 640-byte frames every 20 ms, each echoed by the model server; direct, plain YARP, Tollgate
#             (velma-2-stt-streaming, s16le, metered as it passes). Prints the echo's p50/p99 and the gateway's CPU and
#             bytes per frame.
#   backlog   a backlog of WAV files through the SDK (Tollgate.Benchmarks backlog, see Load/BacklogScenario.cs): Tollgate
#             (Tollgate__RateLimits__Headers=Both, so answers carry RateLimit-Policy) on core 0, the clients on core 1;
#             keys with a concurrency limit of BACKLOG_CONCURRENCY (5) made through the Admin API; a warm-up of
#             BACKLOG_WARMUP_FILES (500), one request alone, then BACKLOG_FILES (1000) files of BACKLOG_SECONDS (0.5 s)
#             through the SDK's gate (learned) and through a naive client (all at once, retries on). Lines client=sdk and
#             client=naive: files/s, the limit-bound maximum (concurrency ÷ median service time on the wire, same run),
#             their ratio (and ratio_mean, against concurrency ÷ mean service time), 429s per 1,000 files; for the gate
#             its occupancy and hand-over (µs a freed slot stays empty); each core's busy share. WARMUP,
#             SECONDS_MEASURED and CONNECTIONS do not apply. E.g. SCENARIOS=backlog RUNS=1 PORT=5700 bench/load.sh
# Every line reports the server's CPU µs and GC-allocated bytes per request (its own counters: /proc and a startup
# hook, see bench/Tollgate.Benchmarks/Load/AllocationProbe.cs). With PROFILE_DIR set, each run also leaves there the
# server's allocation profile of the measured window (<run>-<scenario>-<target>.txt, types by sampled bytes).
# Record the medians in bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
connections=${CONNECTIONS:-32}
scenarios=${SCENARIOS:-me pipeline}
dotnet build src/Tollgate.Server -c Release -v quiet -nologo
dotnet build bench/Tollgate.Benchmarks -c Release -v quiet -nologo
case " $scenarios " in
  *" stores "*|*" nodes "*) distributed=1 ;;
  *) distributed= ;;
esac
server_dll=$PWD/src/Tollgate.Server/bin/Release/net10.0/Tollgate.Server.dll
bench_dll=$PWD/bench/Tollgate.Benchmarks/bin/Release/net10.0/Tollgate.Benchmarks.dll
data=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -z "$distributed" ] || { postgres_stop; redis_stop; }; rm -rf "$data"' EXIT
port=${PORT:-5091}
url=http://127.0.0.1:$port
url2=http://127.0.0.1:$((port + 1))
upstream_url=http://127.0.0.1:${UPSTREAM_PORT:-$((port + 2))}
socket=$data/alloc.sock
socket2=$data/alloc2.sock
if [ -n "$distributed" ]; then
  source scripts/services/postgres.sh
  source scripts/services/redis.sh
  postgres_start
  redis_start
  # The stores get core 1 with the load generator; the gateway nodes keep core 0 to themselves.
  taskset -a -c -p 1 "$(head -n 1 "$POSTGRES_DIR/data/postmaster.pid")" > /dev/null
  taskset -a -c -p 1 "$(cat "$REDIS_DIR/redis.pid")" > /dev/null
fi

wait_up() { for _ in $(seq 1 150); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "server did not start" >&2; exit 1; }

# Tollgate's settings: the demo key, and rate windows raised so that a run measures their cost, not their refusals.
admin_token=bench-admin-token-0123456789
tollgate_env=(Tollgate__DataDirectory="$data" ConnectionStrings__Tollgate="Data Source=$data/t.db" Tollgate__Admin__Token=$admin_token
  Tollgate__RateLimits__Rules__global__Limit=1000000000 Tollgate__RateLimits__Rules__safe__Limit=1000000000
  Tollgate__Bootstrap__DemoConcurrency=1000 Tollgate__Bootstrap__DemoMonthlyAudioHours=1000000
  Logging__LogLevel__Default=Warning ${EXTRA_ENV:-})

# First start: creates the store and prints the demo key.
taskset -c 0 env "${tollgate_env[@]}" dotnet "$server_dll" --urls $url > "$data/server.log" 2>&1 &
first=$!
wait_up $url/docs
sleep 1
key=$(grep -oE 'tgk_[A-Za-z0-9]{30}_[A-Za-z0-9]{6}' "$data/server.log" | head -n 1)
org=$(grep -oE "accountuuid: org_[0-9a-f]+" "$data/server.log" | head -n 1 | cut -d' ' -f2)

# The platform scenario's bodies: a 1 MB WAV (16 kHz mono, speech-like bursts) as multipart and as base64 JSON.
python3 - "$data" <<'PY'
import base64, json, math, struct, sys
d = sys.argv[1]
n = (1024 * 1024 - 44) // 2
samples = bytearray()
for i in range(n):
    t = i / 16000
    on = (t % 4) < 2.5
    samples += struct.pack('<h', int(8000 * math.sin(2 * math.pi * 220 * t)) if on else 0)
wav = b'RIFF' + struct.pack('<I', 36 + len(samples)) + b'WAVEfmt ' + struct.pack('<IHHIIHH', 16, 1, 1, 16000, 32000, 2, 16) + b'data' + struct.pack('<I', len(samples)) + bytes(samples)
open(f'{d}/upload.multipart', 'wb').write(b'--tollgatebench\r\nContent-Disposition: form-data; name="upload_file"; filename="bench.wav"\r\nContent-Type: audio/wav\r\n\r\n' + wav + b'\r\n--tollgatebench--\r\n')
open(f'{d}/upload.json', 'w').write(json.dumps({"audio_base64": base64.b64encode(wav).decode(), "file_extension": "wav"}))
# The upstream scenario's: 30 s of 16 kHz mono 16-bit, 960 KB.
n = 30 * 16000
samples = bytearray()
for i in range(n):
    t = i / 16000
    samples += struct.pack('<h', int(8000 * math.sin(2 * math.pi * 220 * t)) if (t % 4) < 2.5 else 0)
wav = b'RIFF' + struct.pack('<I', 36 + len(samples)) + b'WAVEfmt ' + struct.pack('<IHHIIHH', 16, 1, 1, 16000, 32000, 2, 16) + b'data' + struct.pack('<I', len(samples)) + bytes(samples)
open(f'{d}/upload30.multipart', 'wb').write(b'--tollgatebench\r\nContent-Disposition: form-data; name="upload_file"; filename="bench.wav"\r\nContent-Type: audio/wav\r\n\r\n' + wav + b'\r\n--tollgatebench--\r\n')
# The upstream-small scenario's: 30 ms (1 KB) of the same.
n = 480
samples = bytearray()
for i in range(n):
    samples += struct.pack('<h', int(8000 * math.sin(2 * math.pi * 220 * i / 16000)))
wav = b'RIFF' + struct.pack('<I', 36 + len(samples)) + b'WAVEfmt ' + struct.pack('<IHHIIHH', 16, 1, 1, 16000, 32000, 2, 16) + b'data' + struct.pack('<I', len(samples)) + bytes(samples)
open(f'{d}/upload-small.multipart', 'wb').write(b'--tollgatebench\r\nContent-Disposition: form-data; name="upload_file"; filename="bench.wav"\r\nContent-Type: audio/wav\r\n\r\n' + wav + b'\r\n--tollgatebench--\r\n')
PY
kill $first; wait $first 2>/dev/null || true

# PostgreSQL + Redis: the same settings on the shared stores; a first start migrates the database and prints its demo key.
distributed_env=()
if [ -n "$distributed" ]; then
  distributed_env=(ConnectionStrings__Tollgate="$TOLLGATE_TEST_POSTGRES" ConnectionStrings__Redis="$TOLLGATE_TEST_REDIS")
  taskset -c 0 env "${tollgate_env[@]}" "${distributed_env[@]}" dotnet "$server_dll" --urls $url > "$data/server-pg.log" 2>&1 &
  first=$!
  wait_up $url/docs
  sleep 1
  key_pg=$(grep -oE 'tgk_[A-Za-z0-9]{30}_[A-Za-z0-9]{6}' "$data/server-pg.log" | head -n 1)
  kill $first; wait $first 2>/dev/null || true
fi

start_server() {
  local probe=(DOTNET_STARTUP_HOOKS="$bench_dll" TOLLGATE_ALLOC_SOCKET="$socket")
  if [ -n "${PROFILE_DIR:-}" ]; then mkdir -p "$PROFILE_DIR"; probe+=(TOLLGATE_ALLOC_PROFILE="$PROFILE_DIR/$2.txt"); fi
  case $1 in
    tollgate) taskset -c 0 env "${tollgate_env[@]}" "${probe[@]}" dotnet "$server_dll" --urls $url > /dev/null 2>&1 & ;;
    pipeline) taskset -c 0 env "${tollgate_env[@]}" "${probe[@]}" dotnet "$bench_dll" pipeline-server --urls $url > /dev/null 2>&1 & ;;
    bare)     taskset -c 0 env "${probe[@]}" dotnet "$bench_dll" bare-server --urls $url > /dev/null 2>&1 & ;;
    # The backlog scenario's: answers carry the IETF RateLimit-Policy the SDK's gate learns from, X-RateLimit-* as well.
    backlog)  taskset -c 0 env "${tollgate_env[@]}" "${probe[@]}" Tollgate__RateLimits__Headers=Both dotnet "$server_dll" --urls $url > /dev/null 2>&1 & ;;
    distributed) taskset -c 0 env "${tollgate_env[@]}" "${distributed_env[@]}" "${probe[@]}" dotnet "$server_dll" --urls $url > /dev/null 2>&1 & ;;
    # The model server, on the load generator's core; the gateway in front of it on core 0.
    model)    taskset -c 1 dotnet "$bench_dll" bare-server --urls $url > /dev/null 2>&1 & ;;
    yarp)     taskset -c 0 env "${probe[@]}" dotnet "$bench_dll" yarp-server --urls $url --upstream $upstream_url > /dev/null 2>&1 & ;;
    after)    taskset -c 0 env "${tollgate_env[@]}" "${probe[@]}" Tollgate__Upstreams__bench__Models__0=velma-2-stt-batch Tollgate__Upstreams__bench__Models__1=velma-2-stt-streaming \
                Tollgate__Upstreams__bench__Destinations__m__Address=$upstream_url Tollgate__Upstreams__bench__ApiKey=bench-upstream-key \
                dotnet "$server_dll" --urls $url > /dev/null 2>&1 & ;;
    # The stores scenario's before targets: another build of Tollgate.Server (BEFORE_DLL) on the same stores.
    before-store) taskset -c 0 env "${tollgate_env[@]}" "${probe[@]}" dotnet "$BEFORE_DLL" --urls $url > /dev/null 2>&1 & ;;
    before-distributed) taskset -c 0 env "${tollgate_env[@]}" "${distributed_env[@]}" "${probe[@]}" dotnet "$BEFORE_DLL" --urls $url > /dev/null 2>&1 & ;;
    before)   taskset -c 0 env "${tollgate_env[@]}" "${probe[@]}" Tollgate__Backends__velma-2-stt-batch__Url=$upstream_url \
                Tollgate__Backends__velma-2-stt-batch__ApiKey=bench-upstream-key dotnet "$BEFORE_DLL" --urls $url > /dev/null 2>&1 & ;;
  esac
  pid=$!
}

# The second node of the nodes scenario: its own port, spool and allocation socket.
start_second() {
  local probe=(DOTNET_STARTUP_HOOKS="$bench_dll" TOLLGATE_ALLOC_SOCKET="$socket2")
  mkdir -p "$data/spool2"
  taskset -c 0 env "${tollgate_env[@]}" "${distributed_env[@]}" Tollgate__SpoolDirectory="$data/spool2" "${probe[@]}" \
    dotnet "$server_dll" --urls $url2 > /dev/null 2>&1 &
  pid2=$!
}

for run in $(seq 1 "$runs"); do
  for scenario in $scenarios; do
    case $scenario in
      me) path=/v1/me; targets="tollgate bare" ;;
      pipeline) path=/v1/pipeline; targets="pipeline bare" ;;
      platform) targets="models submit status" ;;
      stores) path=/v1/me; targets="tollgate distributed bare${BEFORE_DLL:+ before-store before-distributed}" ;;
      nodes) path=/v1/me; targets="one two" ;;
      upstream|upstream-small) targets="direct yarp after${BEFORE_DLL:+ before}" ;;
      upstream-ws) targets="direct yarp after" ;;
      backlog) targets="backlog" ;;
      *) echo "unknown scenario $scenario" >&2; exit 2 ;;
    esac
    for target in $targets; do
      server=$target
      request=(--header "Authorization: Api-Key $key")
      if [ "$scenario" = upstream ] || [ "$scenario" = upstream-small ] || [ "$scenario" = upstream-ws ]; then
        path=/api/velma-2-stt-batch
        upload=$data/upload30.multipart
        [ "$scenario" = upstream-small ] && upload=$data/upload-small.multipart
        request=(--header "X-API-Key: $key" --body "$upload" --content-type "multipart/form-data; boundary=tollgatebench")
        if [ "$target" = direct ]; then
          # The model server alone, on core 0 where the gateway runs in the other targets: what forwarding adds is the difference.
          server=bare
        else
          server=$target
          (url=$upstream_url; start_server model "$run-$scenario-model-for-$target"; echo $pid > "$data/model.pid")
          wait_up $upstream_url/v1/me
        fi
      fi
      if [ "$scenario" = platform ]; then
        server=tollgate
        case $target in
          models) path=/api/velma-2-stt-batch
                  request=(--header "X-API-Key: $key" --body "$data/upload.multipart" --content-type "multipart/form-data; boundary=tollgatebench") ;;
          submit) path=/api_service
                  request=(--header "accountuuid: $org" --header "apikey: $key" --body "$data/upload.json" --content-type application/json) ;;
          status) path=/docs
                  request=(--header "accountuuid: $org" --header "apikey: $key") ;;
        esac
      fi
      extra=()
      if [ "$scenario" = stores ] || [ "$scenario" = nodes ]; then
        extra=(--redis "$TOLLGATE_TEST_REDIS")
        case $target in
          distributed|before-distributed) request=(--header "Authorization: Api-Key $key_pg") ;;
          one|two) server=distributed; request=(--header "Authorization: Api-Key $key_pg") ;;
        esac
      fi
      start_server $server "$run-$scenario-$target"
      if [ "$scenario" = upstream-ws ]; then
        case $target in direct|yarp) wait_up $url/v1/me ;; *) wait_up $url/docs ;; esac
        result=$(taskset -c 1 dotnet "$bench_dll" ws-latency \
          "ws://127.0.0.1:$port/api/velma-2-stt-streaming?api_key=$key&audio_format=s16le&sample_rate=16000&num_channels=1" \
          --connections "$connections" --warmup "${WARMUP:-40}" --seconds "${SECONDS_MEASURED:-20}" --server-pid "$pid" --alloc-socket "$socket")
        echo "run=$run scenario=$scenario target=$target $result"
        kill $pid; wait $pid 2>/dev/null || true
        if [ -f "$data/model.pid" ]; then kill "$(cat "$data/model.pid")" 2>/dev/null || true; rm -f "$data/model.pid"; sleep 0.5; fi
        continue
      fi
      if [ "$scenario" = backlog ]; then
        wait_up $url/docs
        taskset -c 1 dotnet "$bench_dll" backlog --url $url --admin-token $admin_token --files "${BACKLOG_FILES:-1000}" \
          --concurrency "${BACKLOG_CONCURRENCY:-5}" --seconds "${BACKLOG_SECONDS:-0.5}" --warmup-files "${BACKLOG_WARMUP_FILES:-500}" \
          --server-pid "$pid" --alloc-socket "$socket" | sed "s/^/run=$run scenario=$scenario /"
        kill $pid; wait $pid 2>/dev/null || true
        continue
      fi
      wait_up $url${path:-/docs}
      if [ "$target" = two ]; then
        start_second
        wait_up $url2/docs
        extra+=(--also $url2$path --server-pid "$pid2" --alloc-socket "$socket2")
      fi
      if [ "$scenario" = platform ] && [ "$target" = status ]; then
        job=$(curl -s $url/api_service -H "accountuuid: $org" -H "apikey: $key" -H 'Content-Type: application/json' --data-binary @"$data/upload.json" \
          | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
        path=/api_service/job_status/$job
        for _ in $(seq 1 100); do curl -s $url$path -H "accountuuid: $org" -H "apikey: $key" | grep -q '"status":"completed"' && break; sleep 0.2; done
      fi
      result=$(taskset -c 1 dotnet "$bench_dll" load $url$path --connections "$connections" \
        --warmup "${WARMUP:-40}" --seconds "${SECONDS_MEASURED:-20}" "${request[@]}" \
        --server-pid "$pid" --alloc-socket "$socket" "${extra[@]}")
      echo "run=$run scenario=$scenario target=$target $result"
      kill $pid; wait $pid 2>/dev/null || true
      if [ "$target" = two ]; then kill $pid2; wait $pid2 2>/dev/null || true; fi
      if [ -f "$data/model.pid" ]; then kill "$(cat "$data/model.pid")" 2>/dev/null || true; rm -f "$data/model.pid"; sleep 0.5; fi
    done
  done
done
