#!/usr/bin/env bash
# The layer's per-request cost for a cached-JWKS ES256 JWT against the raw ES256 verify of the
# crypto library, in one criterion run (crates/validate/benches/layer.rs); prints the ratios of
# the rates. `layer` answers the repeated token from its cache of verified JWTs; `layer_uncached`
# (cache off) verifies it every time. Target (issue 5): layer_uncached ≥ 80 % of the raw verify
# rate on one core.
#
# Usage: bench/layer.sh [criterion args]   (from the repository root; default --measurement-time 5)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
ARGS=("$@")
[[ ${#ARGS[@]} -eq 0 ]] && ARGS=(--measurement-time 5)
cargo bench -p tessera-validate --bench layer -- "${ARGS[@]}"
python3 - "$TARGET/criterion/es256" <<'PY'
import json, os, subprocess, sys
d = sys.argv[1]
ns = {n: json.load(open(os.path.join(d, n, "new", "estimates.json")))["mean"]["point_estimate"]
      for n in ("aws_lc_rs_verify", "jsonwebtoken_verify", "layer", "layer_uncached")}
cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "?")
print(f"# {model}")
for n, t in ns.items():
    print(f"{n:<22} {t / 1000:8.2f} µs  {1e9 / t:10.0f} /s")
print(f"layer_uncached / aws-lc-rs verify rate:   {ns['aws_lc_rs_verify'] / ns['layer_uncached']:.0%}  (target ≥ 80 %)")
print(f"layer_uncached / jsonwebtoken verify rate: {ns['jsonwebtoken_verify'] / ns['layer_uncached']:.0%}")
print(f"layer (cached JWT) / aws-lc-rs verify rate: {ns['aws_lc_rs_verify'] / ns['layer']:.0%}")
PY
