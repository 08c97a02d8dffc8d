# Shared by bench/run.sh and bench/growth.sh (sourced, not run): the tessera binary, a fresh
# store on SQLite or PostgreSQL, a server on it, and bench clients.
#
# Environment: SERVE_FLAGS (extra `tessera serve` flags, e.g. --no-monitor), BIN (a tessera binary to use instead of building one; e.g. a debug build for a
#   quick check of the scripts), PG_BASE (PostgreSQL server for STORE=postgres, default
#   postgres://postgres@127.0.0.1:5432/test: each run gets a fresh schema, dropped afterwards).
PG_BASE="${PG_BASE:-postgres://postgres@127.0.0.1:5432/test}"
CLEANUP=()
trap 'for c in "${CLEANUP[@]}"; do eval "$c" || true; done' EXIT

# Builds the release binary unless BIN names one; sets BIN.
tessera_bin() {
  if [[ -z "${BIN:-}" ]]; then
    cargo build --release -p tessera-cli >&2
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/tessera"
  fi
  [[ -x "$BIN" ]] || { echo "no tessera binary at $BIN" >&2; exit 1; }
}

# fresh_database sqlite|postgres -> sets DB to a database URL naming an empty store (removed on
# exit). Not meant for $(…): the cleanup must be registered in this shell.
# PostgreSQL: a schema bench_<pid>_<n> selected through search_path, as the tests do.
FRESH_N=0
fresh_database() {
  FRESH_N=$((FRESH_N + 1))
  case "$1" in
    sqlite)
      local dir; dir=$(mktemp -d)
      CLEANUP+=("rm -rf '$dir'")
      DB="sqlite:$dir/bench.db" ;;
    postgres)
      local schema="bench_$$_${FRESH_N}_$(date +%s)" sep='?'
      psql -q -v ON_ERROR_STOP=1 "$PG_BASE" -c "CREATE SCHEMA $schema" >/dev/null
      CLEANUP+=("psql -q '$PG_BASE' -c 'DROP SCHEMA IF EXISTS $schema CASCADE' >/dev/null 2>&1")
      [[ "$PG_BASE" == *\?* ]] && sep='&'
      DB="$PG_BASE${sep}options=-c%20search_path%3D$schema&application_name=$schema" ;;
    *) echo "unknown store $1 (sqlite or postgres)" >&2; exit 2 ;;
  esac
}

# psql connection string for a postgres:// database URL made by fresh_database (psql does not
# take our own query parameters; the schema goes in PGOPTIONS).
pg_schema_of() { sed -n 's/.*search_path%3D\([A-Za-z0-9_]*\).*/\1/p' <<<"$1"; }

# start_server DATABASE PORT -> sets SERVER_PID; waits until /jwks answers.
start_server() {
  # shellcheck disable=SC2086 # SERVE_FLAGS is a list of flags
  "$BIN" serve --database "$1" --listen "127.0.0.1:$2" --admin-listen 127.0.0.1:0 ${SERVE_FLAGS:-} \
    2>>"$OUT/tessera-server.log" &
  SERVER_PID=$!
  CLEANUP+=("kill $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null")
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$2/jwks" 2>/dev/null && return; sleep 0.1; done
  echo "tessera serve did not start; see $OUT/tessera-server.log" >&2; exit 1
}

stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }

# bench_client DATABASE FORMAT -> prints "id secret".
bench_client() {
  "$BIN" client create --database "$1" --name "bench-$2" --scope "api:read" \
    --audience "https://api.example.com" --token-format "$2" --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])'
}
