#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone. Installs what the tests need (ffmpeg and sox, to
# generate real audio files in every format the probes read; libmp3lame0, the MP3 encoder the
# reference backend loads; Chromium, node and the npm packages of the Pipecat client test; afl++, the
# fuzzing engine, through scripts/fuzz.sh) when it is missing, starts the services the tests talk to
# (scripts/services/: PostgreSQL and Redis, each installed with apt when missing) on 127.0.0.1 on free
# ports, runs every test project against real servers on 127.0.0.1, then a bounded fuzzing run, and
# stops the services however the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

# What runs on exit, in order: each service adds its stop here.
exit_steps=()
on_exit() { exit_steps+=("$1"); }
trap 'for step in "${exit_steps[@]}"; do eval "$step"; done' EXIT

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v sox >/dev/null 2>&1 || missing+=(sox)
ldconfig -p 2>/dev/null | grep 'libmp3lame\.so\.0' >/dev/null || missing+=(libmp3lame0)
# The Platform API's realtime test drives the real Pipecat web client in Debian's headless Chromium with Node.
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing test tools: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# shellcheck source=services/postgres.sh
source scripts/services/postgres.sh
on_exit postgres_stop
postgres_start
# shellcheck source=services/redis.sh
source scripts/services/redis.sh
on_exit redis_stop
redis_start
# The Pipecat client packages (pinned in tests/pipecat/package-lock.json), from the npm registry.
npm ci --prefix tests/pipecat --no-audit --no-fund --loglevel=error

dotnet build Tollgate.sln -c Release -v quiet -nologo
status=0
log=$(mktemp)
on_exit 'rm -f "$log"'
for project in tests/*/*.Tests.csproj; do
  dotnet test "$project" -c Release --no-build -nologo 2>&1 | tee -a "$log" || status=1
done
# A bounded fuzzing run (AFL++ over the probes, the decoders and the multipart reader; TOLLGATE_FUZZ_SECONDS per
# target, 0 to skip): a crash or hang it finds fails the suite, an engine that cannot start does not (scripts/fuzz.sh).
if [ "${TOLLGATE_FUZZ_SECONDS:-45}" -gt 0 ]; then
  scripts/fuzz.sh "${TOLLGATE_FUZZ_SECONDS:-45}" 2>&1 | tee -a "$log" || status=1
fi
# One closing line for the whole suite: "N passed, N failed".
awk '/Failed:[ ]+[0-9]+, Passed:[ ]+[0-9]+/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit $status
