#!/usr/bin/env bash
# Regenerates the "Seed timeline" table of docs/performance.md: the seed's 14 steps with its times beside ours, each
# ours the median of RUNS jobs (default 5) run one at a time through the whole network, on a 1 s fixed-latency
# Ollama-wire backend and on the embedded model. Usage: scripts/bench-timeline.sh [RUNS]. Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/Aitbc.Load -v q -nologo >/dev/null
dotnet bench/Aitbc.Load/bin/Release/net10.0/aitbc-load.dll timeline --runs "${1:-5}"
