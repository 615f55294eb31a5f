#!/usr/bin/env bash
# Every table of docs/performance.md, in the order the document gives them, from one command: the jobs table (medians of
# RUNS, default 3), where the time goes (perf profiles; skipped with a note when perf is missing), the primitives under
# the floor (HTTP request, BenchmarkDotNet job and transaction benchmarks), chain throughput, scaling (SIZES, default
# 10k,100k,1M) and the seed timeline. Writes everything to stdout and to artifacts/bench-all-<time>.md.
# Usage: scripts/bench-all.sh [RUNS] [SIZES]. About 45 minutes on a quiet 2-core machine with the 1M size, 30 without it
# (scripts/bench-all.sh 3 10000,100000). Run it on a quiet machine: everything shares the cores with the load it makes.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
sizes="${2:-10000,100000,1000000}"
mkdir -p artifacts
out="artifacts/bench-all-$(date -u +%Y%m%dT%H%M%SZ).md"
dotnet build -c Release bench/Aitbc.Load -v q -nologo >/dev/null
dotnet build -c Release bench/Aitbc.Benchmarks -v q -nologo >/dev/null
tool=bench/Aitbc.Load/bin/Release/net10.0/aitbc-load.dll
{
  echo "# bench-all: $(date -u) on $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "## Jobs: submissions, end to end, overhead ratio (scripts/bench-jobs.sh $runs)"
  scripts/bench-jobs.sh "$runs"
  echo
  echo "## Where the time goes (scripts/profile-jobs.sh)"
  if command -v perf >/dev/null 2>&1; then
    scripts/profile-jobs.sh
  else
    echo "skipped: perf not found (Debian: apt-get install linux-perf)"
  fi
  echo
  echo "## Primitives under the floor"
  dotnet "$tool" http --clients 64 --requests 100000 --warmup 100000
  dotnet run -c Release --no-build --project bench/Aitbc.Benchmarks -- --filter '*TransactionBenchmarks*' '*JobAdmission*' '*Scheduling*' --job short 2>&1 | grep -E '^\|'
  echo
  echo "## Chain: signed transfers broadcast to commit"
  dotnet "$tool" chain --txs 60000 --senders 300
  echo
  echo "## Scaling (scripts/bench-scale.sh $sizes $runs)"
  scripts/bench-scale.sh "$sizes" "$runs"
  echo
  echo "## Seed timeline (scripts/bench-timeline.sh 5)"
  scripts/bench-timeline.sh 5
} 2>&1 | tee "$out"
echo "written to $out"
