#!/usr/bin/env bash
# Tessera vs the peer (node-oidc-provider) in one run: starts a release build of `tessera serve`
# on a fresh SQLite file, registers bench clients, loads token (JWT ES256, opaque), introspection
# and revocation with ../shared/bench/load.sh, then runs ../shared/bench/run-peer.sh, and prints
# Tessera/peer ratios. Everything is written under ./target/bench/.
#
# Usage: bench/run.sh            (from the repository root)
# Environment: DURATION (s per run, default 10), RUNS (3), CONNS ("32"), PORT (18080),
#   SHARED (../shared), SKIP_PEER=1 to reuse the newest peer result in target/bench.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SHARED="${SHARED:-$ROOT/../shared}"
export DURATION="${DURATION:-10}" RUNS="${RUNS:-3}" CONNS="${CONNS:-32}"
PORT="${PORT:-18080}"
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

cargo build --release -p tessera-cli
BIN="$ROOT/target/release/tessera"
WORK=$(mktemp -d)
DB="sqlite:$WORK/bench.db"
"$BIN" serve --database "$DB" --listen "127.0.0.1:$PORT" --admin-listen 127.0.0.1:0 2>"$OUT/tessera-server.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/jwks" 2>/dev/null && break; sleep 0.1; done

client() { # format -> "id secret"
  "$BIN" client create --database "$DB" --name "bench-$1" --scope "api:read" \
    --audience "https://api.example.com" --token-format "$1" --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])'
}
read -r JWT_ID JWT_SECRET <<<"$(client jwt)"
read -r OPQ_ID OPQ_SECRET <<<"$(client opaque)"
sleep 0.5

RESULTS="$OUT/tessera-$(date +%Y%m%dT%H%M%S).txt"
{
  echo "# tessera $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -Is)"
  echo "# DURATION=${DURATION}s RUNS=$RUNS CONNS='$CONNS'; SQLite WAL synchronous=NORMAL, group commit"
} | tee "$RESULTS"
L="$SHARED/bench/load.sh"
URL="http://127.0.0.1:$PORT"
MODE=token LABEL="tessera jwt:ES256 token" SERVER_PIDS=$PID "$L" "$URL/token" "$JWT_ID" "$JWT_SECRET" | tee -a "$RESULTS"
MODE=token LABEL="tessera opaque token" SERVER_PIDS=$PID "$L" "$URL/token" "$OPQ_ID" "$OPQ_SECRET" | tee -a "$RESULTS"
MODE=introspect INTROSPECT_URL="$URL/introspect" LABEL="tessera opaque introspect" SERVER_PIDS=$PID \
  "$L" "$URL/token" "$OPQ_ID" "$OPQ_SECRET" | tee -a "$RESULTS"
MODE=revoke REVOKE_URL="$URL/revoke" LABEL="tessera opaque revoke" SERVER_PIDS=$PID \
  "$L" "$URL/token" "$OPQ_ID" "$OPQ_SECRET" | tee -a "$RESULTS"
kill $PID; wait $PID 2>/dev/null || true

if [[ -z "${SKIP_PEER:-}" ]]; then
  RESULTS_DIR="$OUT" "$SHARED/bench/run-peer.sh" >/dev/null
fi
PEER=$(ls -t "$OUT"/peer-*.txt | head -n1)
echo "# peer: $PEER" | tee -a "$RESULTS"
python3 - "$RESULTS" "$PEER" <<'PY' | tee -a "$RESULTS"
import re, sys
def rows(path):
    out = {}
    for line in open(path):
        m = re.match(r"(\S+ \S+ \S+(?: \S+)?)\s+c=(\d+)\s+req/s=\s*(\d+)", line)
        if m: out[(m.group(1), m.group(2))] = float(m.group(3))
    return out
t, p = rows(sys.argv[1]), rows(sys.argv[2])
pairs = [("jwt:ES256 token", "tessera jwt:ES256 token", "peer jwt:ES256 token", 5),
         ("opaque token", "tessera opaque token", "peer opaque token", 6),
         ("introspection", "tessera opaque introspect", "peer opaque introspect", 8),
         ("revocation", "tessera opaque revoke", "peer opaque revoke", 4)]
print(f"{'endpoint':<18} {'conns':>5} {'tessera req/s':>14} {'peer req/s':>11} {'ratio':>7} {'target':>7}")
for name, tk, pk, target in pairs:
    for (label, c), v in sorted(t.items()):
        if label == tk and (pk, c) in p:
            r = v / p[(pk, c)]
            print(f"{name:<18} {c:>5} {v:>14.0f} {p[(pk, c)]:>11.0f} {r:>6.1f}x {target:>6}x")
PY
echo "# written to $RESULTS"
