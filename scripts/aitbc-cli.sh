#!/usr/bin/env bash
# The seed's CLI wrapper (system flow, steps 1 and 11):
#   ./scripts/aitbc-cli.sh submit inference --prompt "What is machine learning?" --model llama3.2:latest
#   ./scripts/aitbc-cli.sh status job_123456
# Sets the coordinator URL (AITBC_URL, default http://127.0.0.1:8000) and the client key (CLIENT_API_KEY, or the
# seed's CLIENT_KEY) from the environment and runs aitbc: AITBC_BIN when set (e.g. an installed `aitbc` tool), else
# scripts/aitbc (from source). The key travels in the environment, not on the command line, so `ps` does not show it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AITBC_URL="${AITBC_URL:-http://127.0.0.1:8000}"
export CLIENT_API_KEY="${CLIENT_API_KEY:-${CLIENT_KEY:-}}"
exec "${AITBC_BIN:-$root/scripts/aitbc}" "$@"
