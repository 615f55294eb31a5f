#!/usr/bin/env bash
# Regenerates the "Scaling" tables of docs/performance.md: for each size (default 10k, 100k and 1M), a fresh network whose
# chain holds that many blocks and whose coordinator holds that many jobs, the node and the coordinator as separate
# processes (peak RSS of each), then submissions, jobs end to end and every read query, each figure the median of
# ROUNDS (default 3) measurement rounds on the seeded network. The chain is built on /dev/shm and copied to --work-dir
# (default $TMPDIR or /tmp: a disk); needs about 3 GB free in each at 1M.
# Usage: scripts/bench-scale.sh [SIZES] [ROUNDS] [extra aitbc-load scale options]
#   scripts/bench-scale.sh                      # 10000,100000,1000000, 3 rounds
#   scripts/bench-scale.sh 10000,100000 3       # skip 1M
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="${1:-10000,100000,1000000}"
rounds="${2:-3}"
shift $(( $# > 2 ? 2 : $# ))
dotnet build -c Release bench/Aitbc.Load -v q -nologo >/dev/null
echo "machine: $(nproc) cores; $(uptime)"
start=$(date +%s)
dotnet bench/Aitbc.Load/bin/Release/net10.0/aitbc-load.dll scale --sizes "$sizes" --rounds "$rounds" "$@"
echo "machine after: $(uptime); took $(( $(date +%s) - start )) s"
