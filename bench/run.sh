#!/usr/bin/env bash
# Tessera vs the peer (node-oidc-provider) in one run: starts a release build of `tessera serve`
# on a fresh store, registers bench clients, loads token (JWT ES256, opaque), introspection
# and revocation with ../shared/bench/load.sh, then runs ../shared/bench/run-peer.sh, and prints
# Tessera/peer ratios. Everything is written under ./target/bench/.
#
# Usage: bench/run.sh                    (from the repository root; SQLite)
#        STORE=postgres bench/run.sh     (one node on PostgreSQL: a fresh schema in PG_BASE)
# Environment: STORE (sqlite | postgres, default sqlite), PG_BASE (postgres://postgres@127.0.0.1:5432/test),
#   DURATION (s per run, default 10), RUNS (3), CONNS ("32"), PORT (18080), SHARED (../shared),
#   SKIP_PEER=1 to reuse the newest peer result in target/bench, BIN / SERVE_FLAGS (bench/common.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SHARED="${SHARED:-$ROOT/../shared}"
export DURATION="${DURATION:-10}" RUNS="${RUNS:-3}" CONNS="${CONNS:-32}"
STORE="${STORE:-sqlite}"
PORT="${PORT:-18080}"
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

tessera_bin
fresh_database "$STORE"
start_server "$DB" "$PORT"
PID=$SERVER_PID
read -r JWT_ID JWT_SECRET <<<"$(bench_client "$DB" jwt)"
read -r OPQ_ID OPQ_SECRET <<<"$(bench_client "$DB" opaque)"
sleep 0.5

case "$STORE" in
  sqlite) STORE_NOTE="SQLite WAL synchronous=NORMAL, group commit" ;;
  postgres) STORE_NOTE="PostgreSQL $(psql -XAtq "$PG_BASE" -c 'SHOW server_version' 2>/dev/null || echo '?') on this machine (one node, pool_size 16), group commit" ;;
esac
RESULTS="$OUT/tessera-$STORE-$(date +%Y%m%dT%H%M%S).txt"
{
  echo "# tessera $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -Is)"
  echo "# DURATION=${DURATION}s RUNS=$RUNS CONNS='$CONNS'; store: $STORE_NOTE"
} | tee "$RESULTS"
L="$SHARED/bench/load.sh"
URL="http://127.0.0.1:$PORT"
MODE=token LABEL="tessera jwt:ES256 token" SERVER_PIDS=$PID "$L" "$URL/token" "$JWT_ID" "$JWT_SECRET" | tee -a "$RESULTS"
MODE=token LABEL="tessera opaque token" SERVER_PIDS=$PID "$L" "$URL/token" "$OPQ_ID" "$OPQ_SECRET" | tee -a "$RESULTS"
MODE=introspect INTROSPECT_URL="$URL/introspect" LABEL="tessera opaque introspect" SERVER_PIDS=$PID \
  "$L" "$URL/token" "$OPQ_ID" "$OPQ_SECRET" | tee -a "$RESULTS"
MODE=revoke REVOKE_URL="$URL/revoke" LABEL="tessera opaque revoke" SERVER_PIDS=$PID \
  "$L" "$URL/token" "$OPQ_ID" "$OPQ_SECRET" | tee -a "$RESULTS"
stop_server

if [[ -z "${SKIP_PEER:-}" ]]; then
  RESULTS_DIR="$OUT" "$SHARED/bench/run-peer.sh" >/dev/null
fi
PEER=$(ls -t "$OUT"/peer-*.txt 2>/dev/null | head -n1 || true)
if [[ -z "$PEER" ]]; then echo "# no peer result in $OUT (run without SKIP_PEER)" | tee -a "$RESULTS"; exit 0; fi
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
