#!/usr/bin/env bash
# Data-growth bench: does the cost of issuing and introspecting an opaque token grow with the
# number of tokens stored? For each store (SQLite, PostgreSQL) and each size (0, 1 M, 10 M stored
# tokens by default) it makes a fresh store, pre-fills it with that many token rows — and as many
# `token.issued` audit events — with bulk SQL (a recursive CTE in one SQLite transaction,
# generate_series on PostgreSQL), starts `tessera serve` on it, and loads /token (opaque) and
# /introspect with ../shared/bench/load.sh. It prints each rate's ratio to the same store's 0-row
# baseline and, when a peer result exists in target/bench (bench/run.sh writes one), to the peer.
#
# The rows are shaped like real ones: sequential selectors 1..N (what `reserve_selectors` hands
# out), a random 32-byte hash, the bench client, one scope and audience, issue times spread over
# the last hour and expiry an hour after issue (live tokens, so the janitor deletes none of them
# during the run); the selector counter is moved past them, so new tokens go to the end of the key
# space as they do in production, and introspection looks up a fresh token at the right edge of a
# deep B-tree.
#
# Usage: bench/growth.sh                                   (from the repository root)
#        SIZES="0 1000" STORES=sqlite DURATION=2 RUNS=1 bench/growth.sh   (a quick check)
# Environment: SIZES ("0 1000000 10000000"), STORES ("sqlite postgres"), EVENTS (1: also pre-fill
#   one audit event per token; 0: tokens only), DURATION (s per run, 10), RUNS (3), CONNS ("32"),
#   PORT (18090), SHARED (../shared), PG_BASE, BIN, SERVE_FLAGS (bench/common.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SHARED="${SHARED:-$ROOT/../shared}"
export DURATION="${DURATION:-10}" RUNS="${RUNS:-3}" CONNS="${CONNS:-32}"
SIZES="${SIZES:-0 1000000 10000000}"
STORES="${STORES:-sqlite postgres}"
EVENTS="${EVENTS:-1}"
PORT="${PORT:-18090}"
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3; }
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"
tessera_bin

RESULTS="$OUT/growth-$(date +%Y%m%dT%H%M%S).txt"
{
  echo "# tessera growth bench $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -Is)"
  echo "# DURATION=${DURATION}s RUNS=$RUNS CONNS='$CONNS' SIZES='$SIZES' STORES='$STORES' EVENTS=$EVENTS"
} | tee "$RESULTS"

prefill_sqlite() { # DB N CLIENT_ID NOW
  local path="${1#sqlite:}" n=$2 cid=$3 now=$4
  local events=""
  if [[ "$EVENTS" == 1 ]]; then
    events="WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
INSERT INTO events (time_ms, type, client_id, token_id, body)
SELECT t, 'token.issued', '$cid', CAST(i AS TEXT),
       json_object('type', 'token.issued', 'time', strftime('%Y-%m-%dT%H:%M:%fZ', t / 1000.0, 'unixepoch'),
                   'client_id', '$cid', 'token_id', CAST(i AS TEXT), 'scope', 'api:read',
                   'resource', 'https://api.example.com', 'ip', '127.0.0.1', 'user_agent', 'wrk',
                   'format', 'opaque')
FROM (SELECT i, ($now - 3600) * 1000 + i * 3600000 / $n AS t FROM s);"
  fi
  sqlite3 "$path" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
BEGIN;
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
INSERT INTO access_tokens (id, hash, client_id, subject, scope, audience, issued_at, expires_at)
SELECT i, randomblob(32), '$cid', '$cid', 'api:read', 'https://api.example.com', t, t + 3600
FROM (SELECT i, $now - 3600 + i * 3600 / $n AS t FROM s);
$events
UPDATE selectors SET next = $n + 1 WHERE name = 'access_token';
COMMIT;
ANALYZE;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
}

prefill_postgres() { # DB N CLIENT_ID NOW
  local schema n=$2 cid=$3 now=$4
  schema=$(pg_schema_of "$1")
  local events=""
  if [[ "$EVENTS" == 1 ]]; then
    events="INSERT INTO events (time_ms, type, client_id, token_id, body)
SELECT t, 'token.issued', '$cid', g::TEXT,
       json_build_object('type', 'token.issued',
         'time', to_char(to_timestamp(t / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
         'client_id', '$cid', 'token_id', g::TEXT, 'scope', 'api:read',
         'resource', 'https://api.example.com', 'ip', '127.0.0.1', 'user_agent', 'wrk',
         'format', 'opaque')::TEXT
FROM (SELECT g, ($now - 3600)::BIGINT * 1000 + g * 3600000 / $n AS t FROM generate_series(1::BIGINT, $n) g) s;"
  fi
  psql -q -v ON_ERROR_STOP=1 "$PG_BASE" <<SQL
SET search_path TO $schema;
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
INSERT INTO access_tokens (id, hash, client_id, subject, scope, audience, issued_at, expires_at)
SELECT g, decode(md5(random()::TEXT) || md5(random()::TEXT), 'hex'), '$cid', '$cid', 'api:read',
       'https://api.example.com', t, t + 3600
FROM (SELECT g, $now - 3600 + g * 3600 / $n AS t FROM generate_series(1::BIGINT, $n) g) s;
$events
UPDATE selectors SET next = $n + 1 WHERE name = 'access_token';
SQL
  psql -q "$PG_BASE" -c "SET search_path TO $schema" -c "VACUUM ANALYZE" >/dev/null
}

L="$SHARED/bench/load.sh"
URL="http://127.0.0.1:$PORT"
for store in $STORES; do
  for n in $SIZES; do
    fresh_database "$store"; db=$DB
    read -r cid secret <<<"$(bench_client "$db" opaque)"
    if [[ "$n" -gt 0 ]]; then
      t0=$(date +%s)
      "prefill_$store" "$db" "$n" "$cid" "$(date +%s)"
      echo "# $store: pre-filled $n tokens$([[ "$EVENTS" == 1 ]] && echo " and $n events") in $(( $(date +%s) - t0 )) s" | tee -a "$RESULTS"
    fi
    start_server "$db" "$PORT"
    MODE=token LABEL="$store $n token" SERVER_PIDS=$SERVER_PID "$L" "$URL/token" "$cid" "$secret" | tee -a "$RESULTS"
    MODE=introspect INTROSPECT_URL="$URL/introspect" LABEL="$store $n introspect" SERVER_PIDS=$SERVER_PID \
      "$L" "$URL/token" "$cid" "$secret" | tee -a "$RESULTS"
    stop_server
    # Free the disk before the next size (a 10 M store takes several GB).
    for c in "${CLEANUP[@]}"; do eval "$c" || true; done
    CLEANUP=()
  done
done

PEER=$(ls -t "$OUT"/peer-*.txt 2>/dev/null | head -n1 || true)
[[ -n "$PEER" ]] && echo "# peer: $PEER" | tee -a "$RESULTS"
python3 - "$RESULTS" "${PEER:-}" <<'PY' | tee -a "$RESULTS"
import re, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(sqlite|postgres) (\d+) (token|introspect)\s+c=(\d+)\s+req/s=\s*(\d+)", line)
    if m: rows[(m[1], int(m[2]), m[3], m[4])] = float(m[5])
peer = {}
if len(sys.argv) > 2 and sys.argv[2]:
    for line in open(sys.argv[2]):
        m = re.match(r"peer opaque (token|introspect)\s+c=(\d+)\s+req/s=\s*(\d+)", line)
        if m: peer[(m[1], m[2])] = float(m[3])
print(f"{'store':<9} {'stored':>10} {'endpoint':<11} {'conns':>5} {'req/s':>9} {'vs 0 rows':>9} {'vs peer':>8}")
for (store, n, mode, c), v in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][3], kv[0][1])):
    base = rows.get((store, 0, mode, c))
    vs0 = f"{v / base:.2f}x" if base else "-"
    vsp = f"{v / peer[(mode, c)]:.1f}x" if (mode, c) in peer else "-"
    print(f"{store:<9} {n:>10} {mode:<11} {c:>5} {v:>9.0f} {vs0:>9} {vsp:>8}")
PY
echo "# written to $RESULTS"
