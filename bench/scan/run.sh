#!/usr/bin/env bash
# Scan throughput benchmark for tessera-scan, measured in the same run as ripsecrets (Rust) and
# detect-secrets (Python) on the same generated tree; plus tessera-scan's --history throughput on
# a generated repository. Everything lives under ./target/bench/. Bounded: a few minutes after the
# builds (sizes via TREE_MB, DS_MB, COMMITS).
#
#   bash bench/scan/run.sh            # from the workspace root
#   BENCH_TOOLS=/path bash bench/scan/run.sh   # reuse an install root holding bin/ripsecrets
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=target/bench/scan
TREE_MB=${TREE_MB:-100}     # size of the generated working tree
DS_MB=${DS_MB:-2}           # detect-secrets is far slower: it gets a subset of that size, one run
COMMITS=${COMMITS:-300}     # commits in the generated history
TOOLS=${BENCH_TOOLS:-$PWD/target/bench/tools}
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$ROOT" "$TOOLS"

echo "== building tessera-scan (release) and installing the peers"
cargo build --release -q -p tessera-scan --example tessera-scan
SCAN="$TARGET/release/examples/tessera-scan"
if ! command -v ripsecrets >/dev/null && [ ! -x "$TOOLS/bin/ripsecrets" ]; then
  cargo install -q ripsecrets --locked --root "$TOOLS" || echo "ripsecrets: install failed, skipped"
fi
RIP=$(command -v ripsecrets || echo "$TOOLS/bin/ripsecrets")
if ! command -v detect-secrets >/dev/null; then
  pip install -q detect-secrets || echo "detect-secrets: install failed, skipped"
fi

echo "== generating ${TREE_MB} MB tree and ${COMMITS}-commit history under $ROOT"
rm -rf "$ROOT/tree" "$ROOT/repo"
python3 - "$ROOT" "$TREE_MB" "$DS_MB" "$COMMITS" <<'PY'
import os, random, subprocess, sys, zlib
root, tree_mb, ds_mb, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(42)
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def rs(n, al=B62): return "".join(rnd.choice(al) for _ in range(n))
def b62(n, w):
    d = []
    while n: d.append(B62[n % 62]); n //= 62
    return "".join(reversed(d)).rjust(w, "0")
def ghp():
    p = rs(30); return "ghp_" + p + b62(zlib.crc32(p.encode()), 6)
def tsr(tag):
    payload = int.from_bytes(rnd.randbytes(40), "big")
    s = "tsr_%s_%s" % (tag, b62(payload, 54)); return s + b62(zlib.crc32(s.encode()), 6)
words = ("user account request response handler config value index buffer stream client server "
         "session cache query result error status count items offset limit parse render update "
         "delete create fetch merge build deploy schedule worker channel").split()
# Lines naming secrets without holding one, at a realistic rate (about 1 line in 100).
sensitive = [
    '    password = os.environ["DB_PASSWORD"]',
    "      TOKEN: ${{{{ secrets.DEPLOY_TOKEN }}}}",
    '    let token = req.headers().get("authorization").ok_or(Error::Unauthorized)?;',
    "  secret_name: app-secret-{n}",
    "api_key_env: OPENWEATHER_API_KEY",
    "    client_secret = settings.client_secret",
    "// refresh the access token before it expires",
]
templates = [
    "    let {a}_{b} = {c}.{d}(&{e}, {n})?;",
    "    if {a}.{b}() > {n} {{ return Err(Error::{C}); }}",
    "def {a}_{b}(self, {c}, {d}={n}):",
    "        return self.{a}.{b}({c}[{n}])",
    "  {a}_{b}: {c}-{d}-{n}",
    "const {A}_{B} = \"{c}/{d}/{e}\";",
    "// {a} {b} {c} {d} {e} {a} {b}",
    "    {a}{B}.{c}({d}, function({e}) {{ console.log({n}); }});",
    "<div class=\"{a}-{b}\">{c} {d}</div>",
    "",
]
def line():
    t = rnd.choice(sensitive) if rnd.random() < 0.01 else rnd.choice(templates)
    w = lambda: rnd.choice(words)
    return t.format(a=w(), b=w(), c=w(), d=w(), e=w(), n=rnd.randint(0, 99999),
                    A=w().upper(), B=w().capitalize(), C=w().capitalize())
pool = [line() for _ in range(50000)]
def file_text(size):
    out, n = [], 0
    while n < size:
        l = rnd.choice(pool); out.append(l); n += len(l) + 1
    return "\n".join(out) + "\n"
secrets = [lambda: tsr("at"), lambda: tsr("cs"), ghp,
           lambda: "AKIA" + rs(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
           lambda: "sk_live_" + rs(24), lambda: 'password = "%s7q"' % rs(18)]
exts = [".rs", ".py", ".js", ".yaml", ".md", ".html", ".go", ".env"]
tree = os.path.join(root, "tree"); total = 0; i = 0; planted = 0
while total < tree_mb * 1_000_000:
    d = os.path.join(tree, "d%03d" % (i // 200)); os.makedirs(d, exist_ok=True)
    text = file_text(rnd.randint(2_000, 40_000))
    if i % 97 == 0:
        lines = text.split("\n"); lines.insert(rnd.randrange(len(lines)), "X = " + rnd.choice(secrets)())
        text = "\n".join(lines); planted += 1
    with open(os.path.join(d, "f%05d%s" % (i, rnd.choice(exts))), "w") as f: f.write(text)
    total += len(text); i += 1
# detect-secrets subset: the first directories up to ds_mb
sub = os.path.join(root, "tree-subset"); subprocess.run(["rm", "-rf", sub]); os.makedirs(sub)
n = 0
for name in sorted(os.listdir(tree)):
    for f in sorted(os.listdir(os.path.join(tree, name))):
        if n >= ds_mb * 1_000_000: break
        os.makedirs(os.path.join(sub, name), exist_ok=True)
        src = os.path.join(tree, name, f); subprocess.run(["cp", src, os.path.join(sub, name, f)])
        n += os.path.getsize(src)
print(f"tree: {i} files, {total/1e6:.1f} MB, {planted} planted secrets; subset {n/1e6:.1f} MB")
# history via git fast-import: each commit rewrites ~20 of 400 files (2-20 KB each)
repo = os.path.join(root, "repo"); os.makedirs(repo)
subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
stream = []; files = {}
for c in range(commits):
    stream.append("commit refs/heads/main\nmark :%d\ncommitter B <b@example.invalid> %d +0000\ndata 3\nc%d\n" % (c + 1, 1700000000 + c, c % 10))
    if c: stream.append("from :%d\n" % c)
    for _ in range(400 if c == 0 else 20):
        k = rnd.randrange(400); text = file_text(rnd.randint(2_000, 20_000))
        if rnd.random() < 0.01: text += "K = " + rnd.choice(secrets)() + "\n"
        data = text.encode(); files[k] = len(data)
        stream.append("M 100644 inline src/f%03d.txt\ndata %d\n" % (k, len(data)))
        stream.append(data.decode() + "\n")
fi = subprocess.run(["git", "-C", repo, "fast-import", "--quiet"], input="".join(stream).encode(), check=True)
subprocess.run(["git", "-C", repo, "reset", "-q", "--hard", "main"], check=True)
# Pack it as a cloned or gc'd repository is (fast-import's raw pack has 50-deep delta chains).
subprocess.run(["git", "-C", repo, "gc", "-q"], check=True)
PY

blob_bytes=$(git -C "$ROOT/repo" rev-list --all --objects | cut -d' ' -f1 | git -C "$ROOT/repo" cat-file --batch-check='%(objecttype) %(objectsize)' | awk '$1=="blob"{s+=$2} END{print s}')
tree_bytes=$(du -sb "$ROOT/tree" | cut -f1)
sub_bytes=$(du -sb "$ROOT/tree-subset" | cut -f1)

# best of RUNS runs (default 3; the first also warms the page cache); prints seconds
best() {
  local best=""
  for _ in $(seq "${RUNS:-3}"); do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if [ -z "$best" ] || (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
  done
  echo "$best"
}
mbs() { echo "scale=1; $1 / 1000000 / $2" | bc -l; }

echo "== measuring (tessera-scan best of 3, peers 1 run after a warm-up read; $(nproc) cores; $(lscpu | sed -n 's/^Model name: *//p'))"
t=$(best "$SCAN" "$ROOT/tree" --format json --no-progress)
echo "tessera-scan   tree     $(mbs "$tree_bytes" "$t") MB/s  ($tree_bytes bytes in ${t}s)"
if [ -x "$RIP" ]; then
  t=$(RUNS=1 best "$RIP" "$ROOT/tree")
  echo "ripsecrets     tree     $(mbs "$tree_bytes" "$t") MB/s  ($tree_bytes bytes in ${t}s)"
fi
t=$(best "$SCAN" "$ROOT/tree-subset" --format json --no-progress)
echo "tessera-scan   subset   $(mbs "$sub_bytes" "$t") MB/s  ($sub_bytes bytes in ${t}s)"
if command -v detect-secrets >/dev/null; then
  t=$(RUNS=1 best detect-secrets scan --all-files "$ROOT/tree-subset")
  echo "detect-secrets subset   $(mbs "$sub_bytes" "$t") MB/s  ($sub_bytes bytes in ${t}s)"
fi
t=$(best "$SCAN" "$ROOT/repo" --history --format json --no-progress)
echo "tessera-scan   history  $(mbs "$blob_bytes" "$t") MB/s  ($blob_bytes unique blob bytes, $COMMITS commits, in ${t}s)"
# Real code: the first 150 crates of the local cargo registry's sources (present after any build).
REG=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ 2>/dev/null | head -1 || true)
if [ -n "$REG" ]; then
  rm -rf "$ROOT/real"; mkdir -p "$ROOT/real"
  for d in $(ls "$REG" | head -150); do cp -r "$REG/$d" "$ROOT/real/"; done
  real_bytes=$(du -sb "$ROOT/real" | cut -f1)
  t=$(best "$SCAN" "$ROOT/real" --format json --no-progress)
  echo "tessera-scan   crates   $(mbs "$real_bytes" "$t") MB/s  ($real_bytes bytes in ${t}s)"
  if [ -x "$RIP" ]; then
    t=$(RUNS=1 best "$RIP" "$ROOT/real")
    echo "ripsecrets     crates   $(mbs "$real_bytes" "$t") MB/s  ($real_bytes bytes in ${t}s)"
  fi
fi
n=$("$SCAN" "$ROOT/tree" --format json --no-progress | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["findings"])' || true)
echo "tessera-scan findings in tree: $n"
