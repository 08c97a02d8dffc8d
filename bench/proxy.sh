#!/usr/bin/env bash
# `tessera proxy` vs the upstream alone, in one run: starts `tessera serve` (the issuer) on a
# fresh SQLite file, the tiny upstream example (crates/cli/examples/upstream.rs) and
# `tessera proxy` in front of it (revocation feed on: the proxy has its own client), gets one
# ES256 JWT, then loads the upstream directly and through the proxy with wrk, the token in the
# Authorization header (the JWKS is cached after the first request), and prints the ratio.
# The machine's cores are shared by wrk, the proxy and the upstream: compare the ratio, and note
# the CPU model. Everything is written under target/bench/.
#
# Usage: bench/proxy.sh            (from the repository root)
# Environment: DURATION (s per run, default 10), CONNS (32), THREADS (2), PORT (18090; uses
#   PORT..PORT+2), USAGE_EVENTS=1 to have the proxy report token.used events too.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-10}" CONNS="${CONNS:-32}" THREADS="${THREADS:-2}" PORT="${PORT:-18090}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

cargo build --release -p tessera-cli --bin tessera --example upstream
BIN="$TARGET/release/tessera"
UPSTREAM="$TARGET/release/examples/upstream"
WORK=$(mktemp -d)
DB="sqlite:$WORK/bench.db"
AS="http://127.0.0.1:$PORT" UP="http://127.0.0.1:$((PORT + 1))" PROXY="http://127.0.0.1:$((PORT + 2))"
API="https://api.example.com"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_for() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

"$BIN" serve --database "$DB" --listen "127.0.0.1:$PORT" --admin-listen 127.0.0.1:0 2>"$OUT/proxy-as.log" &
PIDS+=($!)
"$UPSTREAM" "127.0.0.1:$((PORT + 1))" 2>"$OUT/proxy-upstream.log" &
PIDS+=($!)
wait_for "$AS/jwks"
wait_for "$UP/"

client() { # name scope -> "id secret"
  "$BIN" client create --database "$DB" --name "$1" --scope "$2" --audience "$API" \
    --access-token-ttl 3600 --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])'
}
read -r APP_ID APP_SECRET <<<"$(client bench-app api:read)"
read -r RS_ID RS_SECRET <<<"$(client bench-proxy "tessera:revocations tessera:events")"
sleep 0.5
EVENTS=()
[[ -n "${USAGE_EVENTS:-}" ]] && EVENTS=(--usage-events)
"$BIN" proxy --listen "127.0.0.1:$((PORT + 2))" --upstream "$UP" --issuer "$AS" --audience "$API" \
  --require-scope "/=api:read" --client-id "$RS_ID" --client-secret "$RS_SECRET" "${EVENTS[@]}" \
  2>"$OUT/proxy-proxy.log" &
PIDS+=($!)
TOKEN=$(curl -fsS -u "$APP_ID:$APP_SECRET" -d grant_type=client_credentials -d scope=api:read \
  -d resource="$API" "$AS/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
for _ in $(seq 1 100); do
  [[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$PROXY/items/1")" == 200 ]] && break
  sleep 0.1
done
[[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$PROXY/items/1")" == 200 ]] ||
  { echo "the proxy does not accept the token" >&2; exit 1; }

RESULTS="$OUT/proxy-$(date +%Y%m%dT%H%M%S).txt"
{
  echo "# tessera proxy vs upstream, $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -Is)"
  echo "# DURATION=${DURATION}s CONNS=$CONNS THREADS=$THREADS; ES256 JWT in Authorization, JWKS cached; usage events ${USAGE_EVENTS:+on}${USAGE_EVENTS:-off}"
} | tee "$RESULTS"
rate() { # label url -> prints "label req/s=N"
  local r
  r=$(wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" -H "Authorization: Bearer $TOKEN" "$2" |
    awk '/^Requests\/sec:/ {print int($2)} /Non-2xx/ {print "NON2XX " $0 > "/dev/stderr"}')
  echo "$1 req/s=$r"
}
rate "upstream alone" "$UP/items/1" | tee -a "$RESULTS"
rate "through proxy" "$PROXY/items/1" | tee -a "$RESULTS"
python3 - "$RESULTS" <<'PY' | tee -a "$RESULTS"
import re, sys
r = {m.group(1): float(m.group(2)) for m in
     (re.match(r"(.+) req/s=(\d+)", l) for l in open(sys.argv[1])) if m}
up, px = r["upstream alone"], r["through proxy"]
print(f"ratio proxy/upstream = {px / up:.2f}" if up else "no upstream rate")
PY
echo "# written to $RESULTS"
