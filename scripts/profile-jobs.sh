#!/usr/bin/env bash
# Where the CPU goes: records the measured part of two `aitbc-load jobs` runs (after the JIT has settled) with Linux perf
# and prints, for each, the share of CPU samples by code on top of the stack (our managed code, the runtime, SQLite, the
# kernel, libsodium…), by service, and by the innermost method of ours. These are the "where the time goes" tables of
# docs/performance.md. Needs perf (Debian: apt-get install linux-perf) and permission to profile this user's processes
# (root, or kernel.perf_event_paranoid <= 2). Takes about 3 minutes on 2 cores.
# Usage: scripts/profile-jobs.sh            both runs below
#        scripts/profile-jobs.sh ARGS...    one run of `aitbc-load jobs ARGS...`
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v perf >/dev/null 2>&1; then
  echo "perf not found: install it (Debian: apt-get install linux-perf)" >&2
  exit 1
fi
dotnet build -c Release bench/Aitbc.Load -v q -nologo >/dev/null
tool=bench/Aitbc.Load/bin/Release/net10.0/aitbc-load.dll
out=artifacts/profile
mkdir -p "$out"
# The runtime names JIT-compiled code for perf in /tmp/perf-PID.map; W^X double mapping would hide that code from it.
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
profile() {
  local name="$1"; shift
  echo "## $name: aitbc-load jobs $*"
  echo "machine: $(nproc) cores; $(uptime)"
  dotnet "$tool" jobs --perf-record "$out/$name.data" --header "$@" 2>"$out/$name.log" || { cat "$out/$name.log" >&2; exit 1; }
  grep -E "^(warm-up|process CPU)" "$out/$name.log" || true
  echo
  dotnet "$tool" profile "$out/$name.data"
}
if [ "$#" -gt 0 ]; then
  profile custom "$@"
else
  profile end-to-end --clients 100 --jobs 6000 --warmup 300 --backend-latency-ms 0
  profile submit-only --submit-only --clients 64 --jobs 16000 --warmup 4000
fi
