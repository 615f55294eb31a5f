#!/usr/bin/env bash
# Runs what AITBC can do end to end today on the embedded defaults: builds the node, starts a real
# aitbc-node process on a fresh chain, pushes signed transfers through its JSON-RPC, and reports
# how many were committed and how fast. (The full inference flow arrives with `aitbc demo`.)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Aitbc.Load -c Release -v quiet -nologo
dotnet bench/Aitbc.Load/bin/Release/net10.0/aitbc-load.dll chain --txs "${TXS:-5000}" --senders "${SENDERS:-50}" "$@"
