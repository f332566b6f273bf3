#!/usr/bin/env bash
# A bounded coverage-guided fuzzing run (AFL++ from Debian, SharpFuzz instrumentation) over the parsers that read what
# clients send: the audio probes (probe), the reference backend's decoders (decode) and the batch endpoints' multipart
# reader (multipart). scripts/test.sh runs it; it can also be run alone:
#
#   scripts/fuzz.sh [seconds per target, default 50] [target...]
#
# A crash or a hang AFL++ finds that replays outside AFL++ (an exception, an invariant broken, an input slower than
# TOLLGATE_FUZZ_SLOW_MS twice running, or no answer within 60 s) fails the run, and the input is kept under
# artifacts/fuzz/<target>/ to be turned into a regression test. An engine that cannot be installed or does not start
# (no apt, a sandbox without shared memory) is reported and skipped: it never fails the run by itself.
# Prints one line per target: "fuzz <target>: Failed: N, Passed: N (executions, paths, seconds)".
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-50}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(probe decode multipart)

skip() {
  echo "fuzz: skipped ($1)"
  exit 0
}

if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "Installing the fuzzing engine: afl++"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  { "${sudo_cmd[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends afl++; } >/dev/null 2>&1 \
    || skip "afl++ could not be installed"
  command -v afl-fuzz >/dev/null 2>&1 || skip "afl++ installed no afl-fuzz"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The instrumented copy lives outside the build output: the shipped assemblies and the test projects' copies are never touched.
dotnet build tests/Tollgate.Fuzz -c Release -v quiet -nologo >"$work/build.log" 2>&1 || { cat "$work/build.log"; echo "fuzz: the harness does not build"; exit 1; }
cp -r tests/Tollgate.Fuzz/bin/Release/net10.0 "$work/plain"
cp -r tests/Tollgate.Fuzz/bin/Release/net10.0 "$work/instrumented"
dotnet tool restore >/dev/null 2>&1 || skip "dotnet tool restore (SharpFuzz.CommandLine) failed"
for assembly in Tollgate.Core Tollgate.Backends.Reference Tollgate.Server; do
  dotnet tool run sharpfuzz "$work/instrumented/$assembly.dll" >"$work/instrument.log" 2>&1 \
    || { cat "$work/instrument.log"; skip "sharpfuzz could not instrument $assembly"; }
done

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
  AFL_FORKSRV_INIT_TMOUT=120000 AFL_NO_WARN_INSTABILITY=1

failed=0
for target in "${targets[@]}"; do
  corpus=tests/Tollgate.Fuzz/corpus/audio
  [ "$target" = multipart ] && corpus=tests/Tollgate.Fuzz/corpus/multipart
  out="$work/out-$target"
  # Each run its own AFL_TMPDIR: an instance that was killed leaves its .cur_input behind, and the next refuses to start.
  mkdir -p "$work/tmp-$target"
  export AFL_TMPDIR="$work/tmp-$target"
  # -t 2000+: a single input that runs 2 s is a hang candidate (replayed below before it counts), and a seed that is
  # slow on a busy machine is skipped rather than aborting the run; -m none: .NET reserves far more address space than it uses.
  timeout -k 10 $((seconds + 120)) afl-fuzz -i "$corpus" -o "$out" -V "$seconds" -t 2000+ -m none \
    -- dotnet "$work/instrumented/Tollgate.Fuzz.dll" "$target" >"$work/afl-$target.log" 2>&1
  stats="$out/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "fuzz $target: the engine did not start; its last words:"
    tail -n 15 "$work/afl-$target.log" | sed 's/^/  /'
    continue
  fi
  stat_of() { awk -F': *' -v k="$1" '$1 ~ "^"k" *$" { print $2 }' "$stats"; }
  execs=$(stat_of execs_done)
  paths=$(stat_of corpus_count)
  [ -n "$paths" ] || paths=$(stat_of paths_total)
  found=()
  for kind in crashes hangs; do
    for f in "$out/default/$kind"/id*; do
      [ -e "$f" ] && found+=("$f")
    done
  done
  confirmed=0
  if [ ${#found[@]} -gt 0 ]; then
    keep="artifacts/fuzz/$target"
    mkdir -p "$keep"
    for f in "${found[@]}"; do
      if ! timeout -k 5 60 dotnet "$work/plain/Tollgate.Fuzz.dll" "$target" "$f" >"$work/replay.log" 2>&1; then
        confirmed=$((confirmed + 1))
        name="$keep/$(basename "$(dirname "$f")")-$(sha1sum "$f" | cut -c1-12)"
        cp "$f" "$name"
        echo "fuzz $target: FOUND $name"
        head -n 12 "$work/replay.log" | sed 's/^/  /'
        # CI's clone is thrown away: the input itself goes to the log, to be decoded with base64 -d.
        [ "$(stat -c %s "$f")" -le 16384 ] && echo "  input (base64): $(base64 -w0 "$f")"
      fi
    done
    unconfirmed=$(( ${#found[@]} - confirmed ))
    [ $unconfirmed -eq 0 ] || echo "fuzz $target: $unconfirmed input(s) AFL++ flagged that do not replay (engine noise: a slow moment of the machine)"
  fi
  if [ $confirmed -gt 0 ]; then
    failed=1
    echo "fuzz $target: Failed: 1, Passed: 0 ($confirmed finding(s); $execs executions, $paths paths, ${seconds} s)"
  else
    echo "fuzz $target: Failed: 0, Passed: 1 ($execs executions, $paths paths, ${seconds} s)"
  fi
done
exit $failed
