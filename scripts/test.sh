#!/usr/bin/env bash
# The project's one test command: installs what the tests need, runs every test project,
# and ends with the line "N passed, N failed" summed over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: installing Node.js (needed by the @cosmjs/tendermint-rpc client test)"
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  fi
fi
# The embedded llama.cpp backend (LLamaSharp's CPU build) needs the GNU OpenMP runtime.
if command -v ldconfig >/dev/null 2>&1 && ! ldconfig -p | grep -q 'libgomp\.so\.1'; then
  echo "libgomp1 not found: installing it (needed by the embedded llama.cpp backend)"
  command -v apt-get >/dev/null 2>&1 && apt-get update -qq && apt-get install -y -qq libgomp1 >/dev/null
fi
# The coordinator tests start throwaway PostgreSQL servers (initdb, pg_ctl): install the server when neither PATH nor
# Debian's versioned directories have it.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "initdb not found: installing PostgreSQL (needed by the coordinator's PostgreSQL tests)"
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
      || echo "installing PostgreSQL failed: the PostgreSQL tests will fail"
  fi
fi
for js in tests/*/js; do
  [ -f "$js/package.json" ] || continue
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm install failed in $js"; echo "0 passed, 1 failed"; exit 1; }
done

results=artifacts/test-results
rm -rf "$results"
dotnet test Aitbc.slnx -c Release --logger "trx" --results-directory "$results" "$@"
status=$?

passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or a test host broke without a failed test to show for it: count that as a failure.
  failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
