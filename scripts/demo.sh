#!/usr/bin/env bash
# The seed's flow end to end on the embedded defaults, in one command: builds the aitbc CLI and its devnet host
# (src/Aitbc.Devnet, which builds the node, coordinator and miner), starts a local network (node, coordinator, a miner
# running a generated tiny llama model through llama.cpp — or Ollama when it answers on 11434), submits "What is
# machine learning?", prints the step-12 summary and the receipt's verification, and stops.
# Extra arguments go to `aitbc demo` (see `./scripts/aitbc demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Aitbc.Devnet -c Release -v quiet -nologo
exec dotnet src/Aitbc.Cli/bin/Release/net10.0/aitbc.dll demo "$@"
