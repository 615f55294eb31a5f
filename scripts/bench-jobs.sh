#!/usr/bin/env bash
# Regenerates the job tables of docs/performance.md: submissions/s (16 and 64 clients, no miners) and end-to-end jobs
# at 1, 10 and 100 concurrent clients with an instant (0 ms) and a 1 s backend. Each configuration runs RUNS times
# (default 3) in a fresh in-process network; take the median row of each. Usage: scripts/bench-jobs.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
dotnet build -c Release bench/Aitbc.Load -v q -nologo >/dev/null
load() { dotnet bench/Aitbc.Load/bin/Release/net10.0/aitbc-load.dll jobs "$@" 2>/dev/null; }
echo "machine: $(nproc) cores; $(uptime)"
load --header --submit-only --clients 16 --jobs 10 --warmup 0 | head -2
for _ in $(seq "$runs"); do
  load --submit-only --clients 16 --jobs 4000 --warmup 500
  load --submit-only --clients 64 --jobs 4000 --warmup 500
done
for _ in $(seq "$runs"); do
  load --clients 1 --jobs 200 --warmup 50 --backend-latency-ms 0
  load --clients 10 --jobs 1000 --warmup 200 --backend-latency-ms 0
  load --clients 100 --jobs 2000 --warmup 300 --backend-latency-ms 0
  load --clients 1 --jobs 10 --warmup 2 --backend-latency-ms 1000
  load --clients 10 --jobs 100 --warmup 10 --backend-latency-ms 1000
  load --clients 100 --jobs 500 --warmup 100 --backend-latency-ms 1000
done
echo "machine after: $(uptime)"
