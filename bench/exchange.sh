#!/usr/bin/env bash
# Token exchange (RFC 8693) against client_credentials JWT issuance, in the same run on the same
# server: a release `tessera serve` on a fresh store, a service client whose long-lived JWT is
# the subject token, an agent client that exchanges it (JWT ES256 out), and wrk loading both
# grants alternately (closed loop, keep-alive, Basic auth). Prints median req/s of each and the
# ratio exchange / client_credentials (issue 16's target: >= 0.7).
#
# Each exchange verifies the subject JWT, checks its jti against the revocations, walks its
# lineage, signs a JWT and commits three writes through the group-committing writer (the
# token.issued event; the lineage link with the token.exchanged event) — client_credentials
# commits one. Run it only on an otherwise idle machine.
#
# Usage: bench/exchange.sh               (from the repository root; SQLite)
#        STORE=postgres bench/exchange.sh
# Environment: STORE, PG_BASE, DURATION (s per run, default 10), RUNS (3), CONNS (32), PORT
#   (18090), SHARED (../shared), BIN / SERVE_FLAGS (bench/common.sh), SMOKE=1: set up, do one
#   exchange, print it and stop (no load; any build will do, e.g. BIN=target/debug/tessera).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SHARED="${SHARED:-$ROOT/../shared}"
DURATION="${DURATION:-10}" RUNS="${RUNS:-3}" CONNS="${CONNS:-32}"
STORE="${STORE:-sqlite}"
PORT="${PORT:-18090}"
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

EXCHANGE=urn:ietf:params:oauth:grant-type:token-exchange
ACCESS_TOKEN=urn:ietf:params:oauth:token-type:access_token
AGENT_URI=https://agent.example
API=https://api.example.com

tessera_bin
fresh_database "$STORE"
start_server "$DB" "$PORT"
URL="http://127.0.0.1:$PORT"
json_pair() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])'; }
# The service client: its JWTs are addressed to the agent and live an hour (the subject token).
read -r SVC_ID SVC_SECRET <<<"$("$BIN" client create --database "$DB" --name bench-service \
  --scope api:read --audience "$AGENT_URI" --audience "$API" --access-token-ttl 3600 --json | json_pair)"
read -r AGENT_ID AGENT_SECRET <<<"$("$BIN" client create --database "$DB" --name bench-agent \
  --grant-type "$EXCHANGE" --resource-uri "$AGENT_URI" --scope api:read --audience "$API" --json | json_pair)"
SUBJECT=$(curl -fsS -u "$SVC_ID:$SVC_SECRET" -d grant_type=client_credentials -d resource="$AGENT_URI" \
  "$URL/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
CC_AUTH=$(basic "$SVC_ID" "$SVC_SECRET")
CC_BODY="grant_type=client_credentials&scope=api:read&resource=$(python3 -c 'import urllib.parse,sys;print(urllib.parse.quote_plus(sys.argv[1]))' "$API")"
EX_AUTH=$(basic "$AGENT_ID" "$AGENT_SECRET")
EX_BODY="grant_type=$EXCHANGE&subject_token=$SUBJECT&subject_token_type=$ACCESS_TOKEN&scope=api:read"

one=$(curl -fsS -H "Authorization: $EX_AUTH" --data "$EX_BODY" "$URL/token")
[[ "$one" == *'"issued_token_type"'* ]] || { echo "the exchange failed: $one" >&2; exit 1; }
if [[ -n "${SMOKE:-}" ]]; then echo "smoke: exchange answered $one"; exit 0; fi
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

RESULTS="$OUT/exchange-$STORE-$(date +%Y%m%dT%H%M%S).txt"
{
  echo "# tessera $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -Is)"
  echo "# DURATION=${DURATION}s RUNS=$RUNS CONNS=$CONNS store=$STORE; JWT ES256 out of both grants"
} | tee "$RESULTS"
rps() { # AUTH BODY -> req/s of one wrk run (non-2xx answers fail the run)
  local out
  out=$(LOAD_AUTH="$1" LOAD_BODY="$2" wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 10s \
    -s "$SHARED/bench/wrk-post.lua" "$URL/token" | sed -n 's/^RESULT //p')
  [[ "$out" == *" non2xx=0 "* ]] || { echo "non-2xx answers: $out" >&2; exit 1; }
  sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$out"
}
CC=() EX=()
for _ in $(seq 1 "$RUNS"); do
  CC+=("$(rps "$CC_AUTH" "$CC_BODY")")
  EX+=("$(rps "$EX_AUTH" "$EX_BODY")")
done
python3 - "${CC[*]}" "${EX[*]}" <<'PY' | tee -a "$RESULTS"
import statistics, sys
cc = [float(x) for x in sys.argv[1].split()]
ex = [float(x) for x in sys.argv[2].split()]
mc, me = statistics.median(cc), statistics.median(ex)
print(f"client_credentials jwt  median {mc:9.0f} req/s  runs {' '.join(f'{x:.0f}' for x in cc)}")
print(f"token exchange jwt      median {me:9.0f} req/s  runs {' '.join(f'{x:.0f}' for x in ex)}")
print(f"ratio exchange / client_credentials: {me / mc:.2f} (target >= 0.7)")
PY
stop_server
