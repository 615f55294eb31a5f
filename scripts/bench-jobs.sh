#!/usr/bin/env bash
# Regenerates the job tables of docs/performance.md: submissions/s (16 and 64 clients, no miners) and end-to-end jobs
# at 1, 10 and 100 concurrent clients with an instant (0 ms) and a 1 s backend. Each configuration runs RUNS times
# (default 3), each in a fresh in-process network, and the table shows one row per configuration whose every figure is
# the median of those runs (`aitbc-load median`; failures are summed, the last column says how many runs).
# Usage: scripts/bench-jobs.sh [RUNS]. Takes about RUNS x 2.5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
dotnet build -c Release bench/Aitbc.Load -v q -nologo >/dev/null
tool=bench/Aitbc.Load/bin/Release/net10.0/aitbc-load.dll
# Runs one configuration RUNS times and prints its median row (a failed run still reports; its failures are counted).
median() {
  for _ in $(seq "$runs"); do dotnet "$tool" jobs --json "$@" 2>/dev/null || true; done | dotnet "$tool" median
}
echo "machine: $(nproc) cores; $(uptime)"
dotnet "$tool" median --header </dev/null
median --submit-only --clients 16 --jobs 4000 --warmup 500
median --submit-only --clients 64 --jobs 4000 --warmup 500
median --clients 1 --jobs 200 --warmup 50 --backend-latency-ms 0
median --clients 10 --jobs 1000 --warmup 200 --backend-latency-ms 0
median --clients 100 --jobs 2000 --warmup 300 --backend-latency-ms 0
median --clients 1 --jobs 10 --warmup 2 --backend-latency-ms 1000
median --clients 10 --jobs 100 --warmup 10 --backend-latency-ms 1000
median --clients 100 --jobs 500 --warmup 100 --backend-latency-ms 1000
echo "machine after: $(uptime)"
